/*
 * msg-test: lib/msg.c, one record and its fds over a Unix socket, checked
 * at the kernel's limits and on every error path for leaks.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"
#include "tap.h"

static volatile sig_atomic_t alarms;

/* Stop the whole run when the test cannot even set itself up. */
static void
bail(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The number of open fds, from /proc/self/fd (less the one listing it). */
static int
fd_count(void)
{
	DIR *d;
	struct dirent *e;
	int n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		bail("opendir /proc/self/fd");
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* A connected pair of Unix sockets of the given type. */
static void
make_pair(int type, int sv[2])
{
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) == -1)
		bail("socketpair");
}

/* A pipe, both ends close-on-exec. */
static void
make_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) == -1)
		bail("pipe2");
}

/* n plain dups of fd (no close-on-exec, so the receiver's flag is its own). */
static void
dup_fds(int fd, int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((fds[i] = dup(fd)) == -1)
			bail("dup");
}

/* How many of n fds carry FD_CLOEXEC. */
static size_t
count_cloexec(const int *fds, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (fcntl(fds[i], F_GETFD) & FD_CLOEXEC)
			c++;
	return c;
}

/* Send one record of text with n dups of fd attached, then drop the dups. */
static ssize_t
send_dups(int sock, const char *text, int fd, size_t n)
{
	int fds[FDP_MAX_FDS];
	ssize_t rc;

	dup_fds(fd, fds, n);
	rc = fdp_send_msg(sock, text, strlen(text), fds, n);
	fdp_close_fds(fds, n);
	return rc;
}

/* Close both ends of a pair or pipe. */
static void
close2(int fds[2])
{
	fdp_close_fds(fds, 2);
}

/* 253 fds, the kernel's most, pass in one record, each one close-on-exec. */
static void
test_max_fds(int type, const char *what)
{
	int sv[2], p[2], got[FDP_MAX_FDS];
	size_t n = FDP_MAX_FDS;
	char buf[64], c = 0;
	ssize_t r;
	int before = fd_count();

	make_pair(type, sv);
	make_pipe(p);
	ok(send_dups(sv[0], "hello", p[1], FDP_MAX_FDS) == 5,
	    "%s: 253 fds are sent in one record", what);
	r = fdp_recv_msg(sv[1], buf, sizeof(buf), got, &n);
	ok(r == 5 && memcmp(buf, "hello", 5) == 0,
	    "%s: the data arrives intact", what);
	ok(n == FDP_MAX_FDS, "%s: all 253 fds arrive (got %zu)", what, n);
	ok(count_cloexec(got, n) == n, "%s: every fd received is close-on-exec",
	    what);
	ok(n > 0 && write(got[n - 1], "x", 1) == 1 && read(p[0], &c, 1) == 1 &&
	    c == 'x', "%s: a received fd is the pipe that was sent", what);
	fdp_close_fds(got, n);
	close2(p);
	close2(sv);
	ok(fd_count() == before, "%s: no fd left open", what);
}

/* 254 fds are refused before anything reaches the socket. */
static void
test_too_many_fds(void)
{
	int sv[2], p[2], fds[FDP_MAX_FDS + 1];
	size_t i;
	char c;

	make_pair(SOCK_SEQPACKET, sv);
	make_pipe(p);
	for (i = 0; i < FDP_MAX_FDS + 1; i++)
		fds[i] = p[0];
	ok(fdp_send_msg(sv[0], "x", 1, fds, FDP_MAX_FDS + 1) == FDP_ETOOMANYFDS,
	    "254 fds give FDP_ETOOMANYFDS");
	ok(recv(sv[1], &c, 1, MSG_DONTWAIT) == -1 && errno == EAGAIN,
	    "nothing was sent");
	close2(p);
	close2(sv);
}

/* Fds beyond the room offered are closed at once, the rest stored. */
static void
test_surplus(void)
{
	int sv[2], p[2], got[5] = { -1, -1, -1, -1, -1 };
	size_t n = 2;
	char buf[16];
	int before;

	make_pair(SOCK_SEQPACKET, sv);
	make_pipe(p);
	send_dups(sv[0], "five", p[1], 5);
	before = fd_count();
	ok(fdp_recv_msg(sv[1], buf, sizeof(buf), got, &n) == 4,
	    "surplus: the record is received");
	ok(n == 2 && fdp_fd_is_open(got[0]) && fdp_fd_is_open(got[1]),
	    "surplus: 2 fds stored in the room for 2");
	ok(got[2] == -1, "surplus: nothing written past the room");
	ok(fd_count() == before + 2, "surplus: the other 3 are closed at once");
	fdp_close_fds(got, n);
	close2(p);
	close2(sv);
}

/* End a child: close every fd but stdio, so valgrind sees none left open. */
static void __attribute__((noreturn))
child_exit(int status)
{
	closefrom(3);
	_exit(status);
}

/*
 * Receive with the soft RLIMIT_NOFILE at cur. A child sets the limit with
 * prlimit(2) on this process and restores it when told: valgrind fakes
 * setrlimit for the process it runs, but not a limit set from another pid.
 */
static ssize_t
recv_at_limit(rlim_t cur, int sock, char *buf, size_t len, int *fds,
    size_t *nfds)
{
	struct rlimit old, low;
	pid_t parent = getpid(), pid;
	int ready[2], done[2], status;
	ssize_t r;
	char c;

	make_pipe(ready);
	make_pipe(done);
	if ((pid = fork()) == -1)
		bail("fork");
	if (pid == 0) {
		if (prlimit(parent, RLIMIT_NOFILE, NULL, &old) == -1)
			child_exit(1);
		low = old;
		low.rlim_cur = cur;
		if (prlimit(parent, RLIMIT_NOFILE, &low, NULL) == -1 ||
		    write(ready[1], "r", 1) != 1)
			child_exit(1);
		while (read(done[0], &c, 1) == -1 && errno == EINTR)
			continue;
		child_exit(prlimit(parent, RLIMIT_NOFILE, &old, NULL) == -1);
	}
	close(ready[1]);
	close(done[0]);
	if (read(ready[0], &c, 1) != 1)
		bail("the child could not lower RLIMIT_NOFILE");
	r = fdp_recv_msg(sock, buf, len, fds, nfds);
	if (write(done[1], "d", 1) != 1 || waitpid(pid, &status, 0) == -1 ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bail("the child could not restore RLIMIT_NOFILE");
	close(ready[0]);
	close(done[1]);
	return r;
}

/* A receiver at its fd limit gets FDP_ECTRUNC and keeps none of the fds. */
static void
test_rlimit(void)
{
	int sv[2], p[2], got[FDP_MAX_FDS];
	size_t n = FDP_MAX_FDS;
	char buf[16];
	ssize_t r;
	int before;

	make_pair(SOCK_SEQPACKET, sv);
	make_pipe(p);
	send_dups(sv[0], "twenty", p[1], 20);
	before = fd_count();
	r = recv_at_limit((rlim_t)before + 5, sv[1], buf, sizeof(buf), got, &n);
	ok(r == FDP_ECTRUNC, "at RLIMIT_NOFILE: FDP_ECTRUNC (got %zd)", r);
	ok(n == 0, "at RLIMIT_NOFILE: no fd stored");
	ok(fd_count() == before,
	    "at RLIMIT_NOFILE: the fds that fit are closed");
	if (r >= 0)
		fdp_close_fds(got, n);
	close2(p);
	close2(sv);
}

/* A record larger than the buffer gives FDP_ETOOBIG and closes its fds. */
static void
test_too_big(void)
{
	int sv[2], p[2], got[4];
	size_t n = 4;
	char buf[4];
	ssize_t r;
	int before;

	make_pair(SOCK_SEQPACKET, sv);
	make_pipe(p);
	send_dups(sv[0], "a record too long for buf", p[1], 3);
	before = fd_count();
	r = fdp_recv_msg(sv[1], buf, sizeof(buf), got, &n);
	ok(r == FDP_ETOOBIG, "truncated data: FDP_ETOOBIG (got %zd)", r);
	ok(n == 0 && fd_count() == before,
	    "truncated data: its fds are closed");
	close2(p);
	close2(sv);
}

/* An SCM_CREDENTIALS message beside SCM_RIGHTS gives FDP_ECMSG, no leak. */
static void
test_bad_cmsg(void)
{
	int sv[2], p[2], got[4], one = 1;
	size_t n = 4;
	char buf[16];
	ssize_t r;
	int before;

	make_pair(SOCK_SEQPACKET, sv);
	make_pipe(p);
	if (setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1)
		bail("SO_PASSCRED");
	send_dups(sv[0], "creds", p[1], 2);
	before = fd_count();
	r = fdp_recv_msg(sv[1], buf, sizeof(buf), got, &n);
	ok(r == FDP_ECMSG,
	    "SCM_CREDENTIALS beside SCM_RIGHTS: FDP_ECMSG (got %zd)", r);
	ok(n == 0 && fd_count() == before, "malformed control: no fd leaked");
	close2(p);
	close2(sv);
}

/* Counts the SIGALRMs that reached the process. */
static void
on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/*
 * One try: a child sends after delay_ms while a 50 ms timer interrupts the
 * wait; *seen tells how many SIGALRMs came before the receive returned.
 */
static ssize_t
recv_under_alarm(int delay_ms, int *nfds_out, int *seen)
{
	struct itimerval it, off;
	struct timespec ts;
	int sv[2], p[2], got[4];
	size_t n = 4;
	char buf[16];
	ssize_t r;
	pid_t pid;

	make_pair(SOCK_SEQPACKET, sv);
	make_pipe(p);
	alarms = 0;
	if ((pid = fork()) == -1)
		bail("fork");
	if (pid == 0) {
		ts.tv_sec = delay_ms / 1000;
		ts.tv_nsec = (long)(delay_ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		child_exit(send_dups(sv[0], "late", p[1], 1) == 4 ? 0 : 1);
	}
	memset(&it, 0, sizeof(it));
	memset(&off, 0, sizeof(off));
	it.it_value.tv_usec = 50000;
	it.it_interval.tv_usec = 50000;
	setitimer(ITIMER_REAL, &it, NULL);
	r = fdp_recv_msg(sv[1], buf, sizeof(buf), got, &n);
	*seen = alarms;
	setitimer(ITIMER_REAL, &off, NULL);
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		continue;
	*nfds_out = (int)n;
	if (r >= 0)
		fdp_close_fds(got, n);
	close2(p);
	close2(sv);
	return r;
}

/* A signal without SA_RESTART during the wait does not fail the receive. */
static void
test_eintr(void)
{
	static const int delays[] = { 300, 1000, 2500 };
	struct sigaction sa, old;
	size_t i;
	ssize_t r = FDP_ESYS;
	int nfds = 0, seen = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	if (sigaction(SIGALRM, &sa, &old) == -1)
		bail("sigaction");
	for (i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		r = recv_under_alarm(delays[i], &nfds, &seen);
		if (seen > 0)
			break;
	}
	sigaction(SIGALRM, &old, NULL);
	ok(seen > 0, "EINTR: the SIGALRM handler ran %d times during the receive",
	    seen);
	ok(r == 4 && nfds == 1,
	    "EINTR: fdp_recv_msg retries and returns the record (got %zd)", r);
}

/* A peer that closed gives 0 and no fds. */
static void
test_peer_closed(void)
{
	int sv[2], got[4];
	size_t n = 4;
	char buf[16];

	make_pair(SOCK_SEQPACKET, sv);
	close(sv[0]);
	ok(fdp_recv_msg(sv[1], buf, sizeof(buf), got, &n) == 0 && n == 0,
	    "peer closed: fdp_recv_msg returns 0");
	close(sv[1]);
}

/* An empty record ends the conversation like EOF: its fds are closed, not held. */
static void
test_empty_record_fds(void)
{
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(3 * sizeof(int))];
	} cbuf;
	struct msghdr msg;
	struct cmsghdr *cmsg;
	int sv[2], p[2], fds[3], got[4], before;
	size_t n = 4;
	char buf[16];

	make_pair(SOCK_SEQPACKET, sv);
	make_pipe(p);
	dup_fds(p[0], fds, 3);
	memset(&msg, 0, sizeof(msg));
	memset(&cbuf, 0, sizeof(cbuf));
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
	if (sendmsg(sv[0], &msg, 0) == -1)
		bail("sendmsg");
	fdp_close_fds(fds, 3);
	before = fd_count();
	ok(fdp_recv_msg(sv[1], buf, sizeof(buf), got, &n) == 0 && n == 0,
	    "empty record with fds: fdp_recv_msg returns 0 and holds none");
	ok(fd_count() == before, "empty record with fds: its fds are closed");
	close(sv[0]);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

/* Sending to a gone peer: FDP_ESYS/EPIPE, and no SIGPIPE (left at default). */
static void
test_epipe(int type, const char *what)
{
	int sv[2], p[2];
	ssize_t r;

	make_pair(type, sv);
	make_pipe(p);
	close(sv[1]);
	errno = 0;
	r = fdp_send_msg(sv[0], "x", 1, p, 1);
	ok(r == FDP_ESYS && errno == EPIPE,
	    "%s, peer gone: FDP_ESYS with EPIPE, no SIGPIPE (got %zd, %s)",
	    what, r, strerror(errno));
	ok(fdp_fd_is_open(p[0]), "%s, peer gone: the borrowed fd is still open",
	    what);
	close2(p);
	close(sv[0]);
}

/* fdp_close_fds closes and clears each slot; fdp_fd_is_open tells open fds. */
static void
test_close_fds(void)
{
	int p[2], fds[3];
	int before = fd_count();

	make_pipe(p);
	fds[0] = p[0];
	fds[1] = -1;
	fds[2] = p[1];
	ok(fdp_fd_is_open(p[0]) && fdp_fd_is_open(p[1]),
	    "fdp_fd_is_open: true for open fds");
	fdp_close_fds(fds, 3);
	ok(fds[0] == -1 && fds[1] == -1 && fds[2] == -1,
	    "fdp_close_fds: every slot set to -1");
	ok(fd_count() == before, "fdp_close_fds: both fds closed, -1 skipped");
	ok(!fdp_fd_is_open(p[0]), "fdp_fd_is_open: false for a closed fd");
	ok(!fdp_fd_is_open(-1) && !fdp_fd_is_open(-5),
	    "fdp_fd_is_open: false for negative fds");
}

int
main(void)
{
	test_max_fds(SOCK_SEQPACKET, "seqpacket");
	test_max_fds(SOCK_STREAM, "stream");
	test_too_many_fds();
	test_surplus();
	test_rlimit();
	test_too_big();
	test_bad_cmsg();
	test_eintr();
	test_peer_closed();
	test_empty_record_fds();
	test_epipe(SOCK_SEQPACKET, "seqpacket");
	test_epipe(SOCK_STREAM, "stream");
	test_close_fds();
	return done_testing();
}
