/*
 * accept.c: exec --accept (and --inetd), a program per connection as
 * systemd-socket-activate --accept; --on-connect's wait for the first one.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"

/* SIGTERM or SIGINT asked the accept loop to stop. */
static volatile sig_atomic_t accept_stop;

/* The accept loop's signal handler only sets the flag ppoll wakes up to. */
static void
accept_on_signal(int sig)
{
	(void)sig;
	accept_stop = 1;
}

/*
 * Wait until a fd of x is readable (a connection or a datagram waits), with
 * the signal mask given (NULL: as it is); pfds[i].revents says which.
 * Returns -1 on an error or once a signal set accept_stop.
 */
static int
wait_readable(const struct launch_fds *x, struct pollfd *pfds,
    const sigset_t *mask)
{
	size_t i;

	for (i = 0; i < x->n; i++) {
		pfds[i].fd = x->fds[i];
		pfds[i].events = POLLIN;
		pfds[i].revents = 0;
	}
	while (ppoll(pfds, x->n, NULL, mask) == -1)
		if (errno != EINTR || accept_stop)
			return -1;
	return 0;
}

int
launch_wait_connection(const struct launch_opts *o, const struct launch_set *s)
{
	struct pollfd *pfds;
	int rc = -1;

	if ((pfds = calloc(s->x.n, sizeof(*pfds))) != NULL)
		rc = wait_readable(&s->x, pfds, NULL);
	if (rc == -1)
		cmd_warn(o->cmd, "waiting for a connection: %s",
		    strerror(errno));
	free(pfds);
	return rc == -1 ? EXIT_SYSTEM : 0;
}

/* --accept takes connections on every LISTEN_FDS fd: each must listen. */
static int
check_listening(const struct launch_opts *o, const struct launch_fds *x)
{
	socklen_t len = sizeof(int);
	size_t i;
	int listening;

	for (i = 0; i < x->n; i++) {
		listening = 0;
		if (getsockopt(x->fds[i], SOL_SOCKET, SO_ACCEPTCONN, &listening,
		    &len) == -1 || !listening) {
			cmd_warn(o->cmd, "--accept: fd %zu of those to pass (%s) "
			    "is not a listening stream or seqpacket socket",
			    i, x->names[i]);
			return -1;
		}
	}
	return 0;
}

/* One connection's child: the connection is its one LISTEN_FDS fd. */
static void
accept_child(const struct launch_opts *o, int conn, struct launch_set *s,
    const sigset_t *mask)
{
	const char *name = o->nfdnames > 0 ? o->fdnames[0] : "connection";
	struct launch_fds c = { &conn, &name, 1 };

	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	_exit(launch_exec(o, &c, &s->p, s->p_targets, o->prog,
	    -1));
}

/* accept(2) errors that concern one connection, not the listener. */
static int
accept_again(int error)
{
	return error == EAGAIN || error == EINTR || error == ECONNABORTED ||
	    error == EPROTO || error == ENETDOWN || error == ENOPROTOOPT ||
	    error == EHOSTDOWN || error == ENONET || error == EHOSTUNREACH ||
	    error == EOPNOTSUPP || error == ENETUNREACH || error == EPERM;
}

/* Accept one waiting connection on fd and start prog for it. */
static int
accept_one(const struct launch_opts *o, int fd, struct launch_set *s,
    const sigset_t *mask)
{
	pid_t pid;
	int conn;

	if ((conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC |
	    (o->mode == LAUNCH_NONBLOCKING ? SOCK_NONBLOCK : 0))) == -1) {
		if (accept_again(errno))
			return 0;
		cmd_warn(o->cmd, "accept: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == 0)
		accept_child(o, conn, s, mask);
	if (pid == -1)
		cmd_warn(o->cmd, "cannot start %s: %s", o->prog[0],
		    strerror(errno));
	close(conn);
	return 0;
}

/*
 * Tell a service manager READY=1 and STOPPING=1 around the loop. Children
 * are reaped by the kernel (SIGCHLD ignored).
 */
int
launch_accept_loop(const struct launch_opts *o, struct launch_set *s)
{
	struct sigaction sa;
	struct pollfd *pfds;
	sigset_t block, orig;
	size_t i;
	int notify, status = 0;

	if (check_listening(o, &s->x) == -1)
		return EXIT_USAGE;
	if ((pfds = calloc(s->x.n, sizeof(*pfds))) == NULL) {
		cmd_warn(o->cmd, "%s", strerror(ENOMEM));
		return EXIT_SYSTEM;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = accept_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGCHLD, SIG_IGN);
	notify = cmd_notify_open(o->cmd);
	if (notify >= 0)
		fdp_notify_send(notify, "READY=1", NULL, 0);
	while (status == 0 && wait_readable(&s->x, pfds, &orig) == 0)
		for (i = 0; i < s->x.n && status == 0; i++) {
			if (pfds[i].revents & POLLIN)
				status = accept_one(o, pfds[i].fd, s, &orig) ==
				    -1 ? EXIT_SYSTEM : 0;
			else if (pfds[i].revents != 0) {
				cmd_warn(o->cmd, "fd %zu of those to pass (%s) "
				    "failed", i, s->x.names[i]);
				status = EXIT_SYSTEM;
			}
		}
	if (status == 0 && !accept_stop) {
		cmd_warn(o->cmd, "waiting for connections: %s", strerror(errno));
		status = EXIT_SYSTEM;
	}
	if (notify >= 0) {
		fdp_notify_send(notify, "STOPPING=1", NULL, 0);
		close(notify);
	}
	free(pfds);
	return status;
}
