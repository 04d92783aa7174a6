/*
 * msg.c: one record and its fds over a Unix socket (SCM_RIGHTS).
 * The receive side makes truncation impossible and leaks nothing.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"

#if defined(HAVE_DECL_MSG_CMSG_CLOEXEC) && HAVE_DECL_MSG_CMSG_CLOEXEC
#define FDP_RECV_FLAGS	MSG_CMSG_CLOEXEC
#else
#define FDP_RECV_FLAGS	0
#endif

/* A control buffer with room for FDP_MAX_FDS fds, aligned for cmsghdr. */
union fdp_cmsg_buf {
	struct cmsghdr	align;
	char		buf[CMSG_SPACE(FDP_MAX_FDS * sizeof(int))];
};

/* Closing a list of fds is needed on every error path; one loop serves all. */
void
fdp_close_fds(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/* Argument checks ask whether a number names an open fd. */
int
fdp_fd_is_open(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) != -1;
}

/* Sending is one sendmsg with the fds in one SCM_RIGHTS message. */
ssize_t
fdp_send_msg(int sock, const void *buf, size_t len, const int *fds,
    size_t nfds)
{
	union fdp_cmsg_buf cbuf;
	struct iovec iov;
	struct msghdr msg;
	struct cmsghdr *cmsg;
	ssize_t n;

	if (nfds > FDP_MAX_FDS)
		return FDP_ETOOMANYFDS;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		/* Clear only what is sent: the broker pays this per reply. */
		memset(cbuf.buf, 0, msg.msg_controllen);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	return n == -1 ? FDP_ESYS : n;
}

/*
 * Collect the fds of every SCM_RIGHTS message in a received control buffer:
 * up to room of them into fds, the rest closed. Anything that is not a
 * well-formed SCM_RIGHTS message makes it close them all.
 */
static int
fdp_take_fds(struct msghdr *msg, int *fds, size_t room, size_t *nfds)
{
	struct cmsghdr *cmsg;
	size_t i, n, kept = 0;
	int bad = 0, fd;

	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS ||
		    cmsg->cmsg_len < CMSG_LEN(0)) {
			bad = 1;
			continue;
		}
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (cmsg->cmsg_len != CMSG_LEN(n * sizeof(int)))
			bad = 1;
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			if (kept < room && !bad)
				fds[kept++] = fd;
			else
				close(fd);
		}
	}
	if (bad) {
		fdp_close_fds(fds, kept);
		*nfds = 0;
		return FDP_ECMSG;
	}
	*nfds = kept;
	return 0;
}

/* Without MSG_CMSG_CLOEXEC, mark each fd by hand; failure closes them all. */
static int
fdp_set_cloexec(int *fds, size_t n)
{
	size_t i;

	if (FDP_RECV_FLAGS != 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) == -1) {
			fdp_close_fds(fds, n);
			return FDP_ESYS;
		}
	}
	return 0;
}

/* Receiving is where fds get lost or leaked; every rule is enforced here. */
ssize_t
fdp_recv_msg(int sock, void *buf, size_t len, int *fds, size_t *nfds)
{
	union fdp_cmsg_buf cbuf;
	struct iovec iov;
	struct msghdr msg;
	size_t room = *nfds;
	ssize_t n;
	int error;

	*nfds = 0;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	do
		n = recvmsg(sock, &msg, FDP_RECV_FLAGS);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return FDP_ESYS;
	if ((error = fdp_take_fds(&msg, fds, room, nfds)) != 0)
		return error;
	if (n == 0 || (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC))) {
		fdp_close_fds(fds, *nfds);
		*nfds = 0;
		if (n == 0)
			return 0;
		return (msg.msg_flags & MSG_CTRUNC) ? FDP_ECTRUNC : FDP_ETOOBIG;
	}
	if ((error = fdp_set_cloexec(fds, *nfds)) != 0) {
		*nfds = 0;
		return error;
	}
	return n;
}
