/*
 * sockmode.c: --blocking and --nonblocking, set on a socket only when no
 * process but this one and the broker holds it (O_NONBLOCK is shared).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>
#include <sys/stat.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"

/* How many pids of processes it could not look at a message names. */
#define SHOWN_PIDS	5

/* What a look through /proc found. */
struct proc_scan {
	pid_t	 holder;		/* a process holding one of the inodes */
	size_t	 which;			/* which inode it holds */
	size_t	 unreadable;		/* processes whose fds we may not read */
	pid_t	 shown[SHOWN_PIDS];	/* the first of them */
};

/* The inode of a socket fd's link, "socket:[INODE]"; 0 for anything else. */
static ino_t
link_socket_ino(int dirfd, const char *name)
{
	char link[64], *end;
	unsigned long long ino;
	ssize_t len;

	len = readlinkat(dirfd, name, link, sizeof(link) - 1);
	if (len <= 8 || strncmp(link, "socket:[", 8) != 0)
		return 0;
	link[len] = '\0';
	ino = strtoull(link + 8, &end, 10);
	return strcmp(end, "]") == 0 ? (ino_t)ino : 0;
}

/*
 * Which of the n inodes the process pid holds: its index, or -1 (also when
 * its fds cannot be read, which sc counts).
 */
static int
proc_holds(int proc, const char *pid, const ino_t *inos, size_t n,
    struct proc_scan *sc)
{
	char path[sizeof(((struct dirent *)0)->d_name) + 3];
	struct dirent *e;
	DIR *d;
	size_t i;
	ino_t ino;
	int fd, found = -1;

	snprintf(path, sizeof(path), "%s/fd", pid);
	if ((fd = openat(proc, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		if (errno == EACCES || errno == EPERM) {
			if (sc->unreadable < SHOWN_PIDS)
				sc->shown[sc->unreadable] = (pid_t)atol(pid);
			sc->unreadable++;
		}
		return -1;
	}
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while (found == -1 && (e = readdir(d)) != NULL)
		if ((ino = link_socket_ino(dirfd(d), e->d_name)) != 0)
			for (i = 0; i < n && found == -1; i++)
				if (inos[i] == ino)
					found = (int)i;
	closedir(d);
	return found;
}

/*
 * Look through every process but ours and skip for one holding any of the
 * n socket inodes; sc says which and what could not be read.
 */
static void
scan_proc(const ino_t *inos, size_t n, pid_t skip, struct proc_scan *sc)
{
	struct dirent *e;
	DIR *proc;
	pid_t pid, self = getpid();
	int i;

	memset(sc, 0, sizeof(*sc));
	if ((proc = opendir("/proc")) == NULL)
		return;
	while (sc->holder == 0 && (e = readdir(proc)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		pid = (pid_t)atol(e->d_name);
		if (pid == self || pid == skip)
			continue;
		if ((i = proc_holds(dirfd(proc), e->d_name, inos, n, sc)) >= 0) {
			sc->holder = pid;
			sc->which = (size_t)i;
		}
	}
	closedir(proc);
}

/*
 * The inode of the socket at the other end of a connected Unix socket,
 * from sock_diag(7); 0 when the kernel does not say.
 */
static ino_t
peer_ino(int sock)
{
	struct {
		struct nlmsghdr		nlh;
		struct unix_diag_req	req;
	} rq;
	union {
		struct nlmsghdr		nlh;
		char			buf[1024];
	} rp;
	struct unix_diag_msg *m;
	struct rtattr *a;
	struct stat st;
	uint32_t ino = 0;
	ssize_t len;
	int nl, alen;

	if (fstat(sock, &st) == -1 ||
	    (nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) == -1)
		return 0;
	memset(&rq, 0, sizeof(rq));
	rq.nlh.nlmsg_len = sizeof(rq);
	rq.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	rq.nlh.nlmsg_flags = NLM_F_REQUEST;
	rq.req.sdiag_family = AF_UNIX;
	rq.req.udiag_states = ~0U;
	rq.req.udiag_ino = (uint32_t)st.st_ino;
	rq.req.udiag_show = UDIAG_SHOW_PEER;
	rq.req.udiag_cookie[0] = rq.req.udiag_cookie[1] = ~0U;
	if (send(nl, &rq, sizeof(rq), 0) == (ssize_t)sizeof(rq) &&
	    (len = recv(nl, &rp, sizeof(rp), 0)) > 0 &&
	    NLMSG_OK(&rp.nlh, (size_t)len) &&
	    rp.nlh.nlmsg_type == SOCK_DIAG_BY_FAMILY &&
	    rp.nlh.nlmsg_len >= NLMSG_LENGTH(sizeof(*m))) {
		m = NLMSG_DATA(&rp.nlh);
		alen = (int)(rp.nlh.nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
		for (a = (struct rtattr *)(m + 1); RTA_OK(a, alen);
		    a = RTA_NEXT(a, alen))
			if (a->rta_type == UNIX_DIAG_PEER &&
			    RTA_PAYLOAD(a) >= sizeof(ino))
				memcpy(&ino, RTA_DATA(a), sizeof(ino));
	}
	close(nl);
	return (ino_t)ino;
}

/*
 * The broker's pid, which holds the stored sockets but never uses them: the
 * process holding the other end of our connection. SO_PEERCRED would name
 * whoever called listen(), which for a socket-activated broker or one that
 * took over is another process.
 */
pid_t
launch_broker_pid(int sock)
{
	struct proc_scan sc;
	struct fdp_cred cred;
	ino_t ino = peer_ino(sock);

	if (ino != 0) {
		scan_proc(&ino, 1, 0, &sc);
		if (sc.holder != 0)
			return sc.holder;
	}
	return fdp_peer_cred(sock, &cred) == 0 ? cred.pid : 0;
}

/* The process's name, for messages; "?" once it is gone. */
static void
proc_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, buf, len - 1);
		close(fd);
	}
	if (n <= 0)
		n = snprintf(buf, len, "?");
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* Add the sockets of f whose mode is not the one wanted to the list. */
static int
add_changes(const struct launch_fds *f, int want, int *fds, ino_t *inos,
    const char **names, size_t *n)
{
	struct stat st;
	size_t i;
	int fl;

	for (i = 0; i < f->n; i++) {
		if (fstat(f->fds[i], &st) == -1 || !S_ISSOCK(st.st_mode))
			continue;
		if ((fl = fcntl(f->fds[i], F_GETFL)) == -1)
			return -1;
		if ((fl & O_NONBLOCK) == want)
			continue;
		fds[*n] = f->fds[i];
		inos[*n] = st.st_ino;
		names[(*n)++] = f->names[i];
	}
	return 0;
}

/* Say whose fds could not be read: they may hold a socket changed. */
static void
warn_unreadable(const struct launch_opts *o, const char *option,
    const struct proc_scan *sc)
{
	char pids[SHOWN_PIDS * 24] = "", *p = pids;
	size_t i;

	for (i = 0; i < sc->unreadable && i < SHOWN_PIDS; i++)
		p += snprintf(p, sizeof(pids) - (size_t)(p - pids), "%s%ld",
		    i > 0 ? " " : "", (long)sc->shown[i]);
	cmd_warn(o->cmd, "%s: could not read which fds %zu process%s of other "
	    "users hold (pid %s%s); if one holds a socket changed, it sees "
	    "the change", option, sc->unreadable,
	    sc->unreadable == 1 ? "" : "es", pids,
	    sc->unreadable > SHOWN_PIDS ? " ..." : "");
}

/* Set O_NONBLOCK as wanted on each of the n fds. */
static int
set_each(const struct launch_opts *o, const int *fds, const char **names,
    size_t n, int want)
{
	size_t i;
	int fl;

	for (i = 0; i < n; i++) {
		if ((fl = fcntl(fds[i], F_GETFL)) == -1 ||
		    fcntl(fds[i], F_SETFL, (fl & ~O_NONBLOCK) | want) == -1) {
			cmd_warn(o->cmd, "%s: cannot change its mode: %s",
			    names[i], strerror(errno));
			return EXIT_SYSTEM;
		}
		cmd_log(o->cmd, "%s: made its socket %s", names[i],
		    want ? "non-blocking" : "blocking");
	}
	return 0;
}

int
launch_set_mode(const struct launch_opts *o, struct launch_set *s)
{
	const char *option = o->mode == LAUNCH_NONBLOCKING ? "--nonblocking" :
	    "--blocking";
	int want = o->mode == LAUNCH_NONBLOCKING ? O_NONBLOCK : 0;
	size_t n = 0, room = s->x.n + s->p.n;
	struct proc_scan sc;
	const char **names;
	char comm[32];
	ino_t *inos;
	int *fds, status = EXIT_SYSTEM;

	if (o->mode == LAUNCH_KEEP_MODE || room == 0)
		return 0;
	fds = calloc(room, sizeof(*fds));
	inos = calloc(room, sizeof(*inos));
	names = calloc(room, sizeof(*names));
	if (fds == NULL || inos == NULL || names == NULL)
		cmd_warn(o->cmd, "%s", strerror(ENOMEM));
	else if ((!o->accept &&
	    add_changes(&s->x, want, fds, inos, names, &n) == -1) ||
	    add_changes(&s->p, want, fds, inos, names, &n) == -1)
		cmd_warn(o->cmd, "%s: %s", option, strerror(errno));
	else if (n == 0)
		status = 0;
	else {
		scan_proc(inos, n, s->broker_pid, &sc);
		if (sc.holder != 0) {
			proc_comm(sc.holder, comm, sizeof(comm));
			cmd_warn(o->cmd, "%s: %s: pid %ld (%s) holds this socket "
			    "too, and its mode is shared by all who hold it: "
			    "left as it is", option, names[sc.which],
			    (long)sc.holder, comm);
		} else {
			if (sc.unreadable > 0)
				warn_unreadable(o, option, &sc);
			status = set_each(o, fds, names, n, want);
		}
	}
	free(fds);
	free(inos);
	free(names);
	return status;
}
