/*
 * exec.c: `fdpass exec`, retrieve groups, open listeners and take inherited
 * fds, then exec a program with them at 3 onward under systemd's LISTEN_FDS
 * protocol (sd_listen_fds(3)); or, like systemd-socket-activate --accept,
 * accept connections on them and start the program for each.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "broker/broker.h"

/* The fds retrieved so far and the name each came under. */
struct exec_fds {
	int		*fds;
	const char	**names;
	size_t		 n;
};

/* Room for k more fds; every source of fds appends through here. */
static int
exec_fds_grow(struct exec_fds *x, size_t k)
{
	const char **nm;
	int *fds;

	if ((fds = realloc(x->fds, (x->n + k) * sizeof(*fds))) != NULL)
		x->fds = fds;
	if ((nm = realloc(x->names, (x->n + k) * sizeof(*nm))) != NULL)
		x->names = nm;
	if (fds == NULL || nm == NULL) {
		cmd_warn("exec", "%s", strerror(ENOMEM));
		return -1;
	}
	return 0;
}

/* Append a group's fds, which x then holds; on failure they are closed. */
static int
append_group(struct exec_fds *x, const char *name, struct fdp_reply *r)
{
	size_t j;

	if (exec_fds_grow(x, r->nfds) == -1) {
		fdp_close_fds(r->fds, r->nfds);
		return EXIT_SYSTEM;
	}
	for (j = 0; j < r->nfds; j++) {
		x->fds[x->n] = r->fds[j];
		x->names[x->n++] = name;
	}
	return 0;
}

/* Retrieve each group in order, with --take and --wait, and append its fds. */
static int
retrieve_groups(int sock, char **names, size_t ngroups,
    const struct cmd_get *g, struct exec_fds *x)
{
	static struct fdp_reply r;
	size_t i;
	int status;

	for (i = 0; i < ngroups; i++) {
		status = cmd_get_group("exec", sock, names[i], g, &r);
		if (status == 0)
			status = append_group(x, names[i], &r);
		if (status != 0)
			return status;
	}
	return 0;
}

/*
 * exec --take failed after taking groups: store the n fds from first on
 * back under their names, so that a failed exec loses nothing. A name
 * stored again meanwhile keeps the newer group.
 */
static void
restore_taken(int sock, const struct exec_fds *x, size_t first, size_t n)
{
	static struct fdp_reply r;
	size_t i, j;

	for (i = first; i < first + n; i = j) {
		for (j = i; j < first + n && x->names[j] == x->names[i]; j++)
			continue;
		if (cmd_call("exec", sock, FDP_OP_STORE, 0, 0, x->names[i],
		    x->fds + i, j - i, &r) != 0 || r.h.status != FDP_S_OK)
			cmd_warn("exec", "%s: could not store the taken group "
			    "back: %s", x->names[i], fdp_status_text(r.h.status));
	}
}

/* Peer mode: the one group a sender stores at --peer's address. */
static int
receive_peer_group(const char *socket_opt, char *name, struct exec_fds *x)
{
	static struct fdp_reply r;
	int status;

	if ((status = serve_peer("exec", socket_opt, &r, name)) != 0)
		return status;
	return append_group(x, name, &r);
}

/* What the options ask for, beside the group names. */
struct exec_opts {
	const char	 *socket_opt;
	char		**listen;	/* -l specs, in order */
	struct fdp_listener **listeners; /* and parsed */
	size_t		  nlisten;
	int		  listen_type;	/* FDP_LISTEN_* for -l */
	char		**fdnames;	/* --fdname names, split at ':' */
	size_t		  nfdnames;
	char		**setenv;	/* -E NAME[=VALUE] */
	size_t		  nsetenv;
	char		**place;	/* --fd N=NAME, split at '=' */
	int		 *place_at;
	size_t		  nplace;
	int		  accept;
	int		  inetd;
	int		  on_connect;
	struct cmd_get	  get;		/* --take, --wait, --peer */
	char		  peer_name[256];
	size_t		  groups_first;	/* where the groups' fds start in x */
	size_t		  groups_n;	/* and how many there are */
};

/*
 * Fds this process inherited through LISTEN_FDS go first, under their
 * LISTEN_FDNAMES names, as systemd-socket-activate passes them through.
 */
static int
take_inherited(struct exec_fds *x, char ***names)
{
	int n, i;

	if ((n = fdp_listen_fds(names)) < 0) {
		cmd_warn("exec", "%s", fdp_strerror(n));
		return EXIT_USAGE;
	}
	if (n > 0 && exec_fds_grow(x, (size_t)n) == -1) {
		for (i = 0; i < n; i++)
			close(FDP_LISTEN_FDS_START + i);
		return EXIT_SYSTEM;
	}
	for (i = 0; i < n; i++) {
		x->fds[x->n] = FDP_LISTEN_FDS_START + i;
		x->names[x->n++] = (*names)[i];
	}
	return 0;
}

/* The --fdname name of the i-th -l socket: one name serves them all. */
static const char *
listener_name(const struct exec_opts *o, size_t i)
{
	if (o->nfdnames == 0)
		return "unknown";
	return o->fdnames[o->nfdnames == 1 ? 0 : i];
}

/* Parse every -l spec before anything is opened: a bad one is a usage error. */
static int
parse_listeners(struct exec_opts *o)
{
	size_t i;
	int status = 0;

	for (i = 0; i < o->nlisten && status == 0; i++)
		status = cmd_listener_parse("exec", o->listen[i],
		    o->listen_type, &o->listeners[i]);
	return status;
}

/* Open each -l socket with the listener code `send --listen` uses. */
static int
open_listeners(const struct exec_opts *o, struct exec_fds *x)
{
	size_t i;
	int fd;

	if (exec_fds_grow(x, o->nlisten) == -1)
		return EXIT_SYSTEM;
	for (i = 0; i < o->nlisten; i++) {
		if ((fd = cmd_listener_open("exec", o->listen[i],
		    o->listeners[i])) < 0)
			return EXIT_SYSTEM;
		x->fds[x->n] = fd;
		x->names[x->n++] = listener_name(o, i);
	}
	return 0;
}

/*
 * Retrieve the --fd groups into p; place_at[i] becomes the first number of
 * each fd, a group of k fds taking N to N+k-1.
 */
static int
retrieve_placed(int sock, const struct exec_opts *o, struct exec_fds *p,
    int *targets)
{
	size_t i, before, j;
	int status;

	for (i = 0; i < o->nplace; i++) {
		before = p->n;
		if ((status = retrieve_groups(sock, &o->place[i], 1, &o->get,
		    p)) != 0)
			return status;
		for (j = before; j < p->n; j++)
			targets[j] = o->place_at[i] + (int)(j - before);
	}
	return 0;
}

/*
 * No number may be asked for twice: --fd ranges may not overlap each other
 * or the numbers the LISTEN_FDS fds (or --inetd's 0 and 1) take.
 */
static int
check_collisions(const struct exec_fds *p, const int *targets, int lo, int hi)
{
	size_t i, j;

	for (i = 0; i < p->n; i++) {
		if (targets[i] >= lo && targets[i] <= hi) {
			cmd_warn("exec", "--fd %d=%s: fd %d is taken by the %s "
			    "fds (%d to %d)", targets[i], p->names[i],
			    targets[i], lo == 0 ? "--inetd" : "LISTEN_FDS",
			    lo, hi);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (targets[i] == targets[j]) {
				cmd_warn("exec", "--fd: fd %d would be both "
				    "%s and %s", targets[i], p->names[j],
				    p->names[i]);
				return -1;
			}
	}
	return 0;
}

/*
 * Put fds[i] at targets[i] without close-on-exec. Every fd first moves above
 * every target, so no move overwrites a fd still to move.
 */
static int
place_fds(int *fds, const int *targets, size_t n)
{
	int top = 0, fd;
	size_t i;

	for (i = 0; i < n; i++)
		if (targets[i] >= top)
			top = targets[i] + 1;
	for (i = 0; i < n; i++) {
		if ((fd = fcntl(fds[i], F_DUPFD_CLOEXEC, top)) == -1)
			return -1;
		close(fds[i]);
		fds[i] = fd;
	}
	for (i = 0; i < n; i++) {
		if (dup2(fds[i], targets[i]) == -1)
			return -1;
		close(fds[i]);
		fds[i] = targets[i];
	}
	return 0;
}

/* LISTEN_FDS, LISTEN_PID (ours: we exec in place) and LISTEN_FDNAMES. */
static int
set_listen_env(const struct exec_fds *x)
{
	char num[32], *names, *p;
	size_t i, len = 1;
	int rc;

	for (i = 0; i < x->n; i++)
		len += strlen(x->names[i]) + 1;
	if ((names = malloc(len)) == NULL)
		return -1;
	for (p = names, i = 0; i < x->n; i++) {
		if (i > 0)
			*p++ = ':';
		p = stpcpy(p, x->names[i]);
	}
	*p = '\0';
	snprintf(num, sizeof(num), "%zu", x->n);
	rc = setenv("LISTEN_FDS", num, 1);
	snprintf(num, sizeof(num), "%ld", (long)getpid());
	if (rc == 0)
		rc = setenv("LISTEN_PID", num, 1);
	if (rc == 0)
		rc = setenv("LISTEN_FDNAMES", names, 1);
	if (rc == 0)
		rc = unsetenv("LISTEN_PIDFDID");
	free(names);
	return rc;
}

/* -E NAME=VALUE sets; -E NAME passes our value on ("" if unset). */
static int
apply_setenv(const struct exec_opts *o)
{
	const char *eq, *value;
	char name[256];
	size_t i, len;

	for (i = 0; i < o->nsetenv; i++) {
		eq = strchr(o->setenv[i], '=');
		len = eq != NULL ? (size_t)(eq - o->setenv[i]) :
		    strlen(o->setenv[i]);
		memcpy(name, o->setenv[i], len);
		name[len] = '\0';
		value = eq != NULL ? eq + 1 : getenv(name);
		if (setenv(name, value != NULL ? value : "", 1) == -1)
			return -1;
	}
	return 0;
}

/*
 * prog runs with the fd limit we were given, not the one raised to receive
 * groups: refuse to hand it fds at numbers it could not have, or so many
 * that it could open next to none of its own (not even its libraries).
 */
static int
check_fd_limit(const int *targets, size_t n, const char *prog)
{
	size_t i, limit = cmd_nofile_given();
	int top = -1;

	for (i = 0; i < n; i++)
		if (targets[i] > top)
			top = targets[i];
	if (top < 0 || (size_t)top + CMD_FD_SPARE < limit)
		return 0;
	if ((size_t)top >= limit)
		cmd_warn("exec", "%s would get fd %d, past the fd limit it runs "
		    "with (%zu: see ulimit -n); raise that limit, or pass "
		    "fewer fds", prog, top, limit);
	else
		cmd_warn("exec", "%s would get fds up to %d, leaving it fewer "
		    "than %d free under the fd limit it runs with (%zu: see "
		    "ulimit -n); raise that limit, or pass fewer fds", prog,
		    top, CMD_FD_SPARE, limit);
	return -1;
}

/*
 * Arrange the fds and the environment for prog and exec it: the LISTEN_FDS
 * fds x at 3 on (or, for --inetd, the one fd on 0 and 1 with no LISTEN_*),
 * the --fd fds p at their numbers. Returns only on failure, with the
 * status; x and p still hold their fds, wherever they are now.
 */
static int
exec_prog(const struct exec_opts *o, struct exec_fds *x, struct exec_fds *p,
    const int *p_targets, char **argv)
{
	size_t i, n = x->n + p->n;
	int *fds, *targets, rc = -1, error;

	fds = malloc((n + 1) * sizeof(*fds));
	targets = malloc((n + 1) * sizeof(*targets));
	if (fds != NULL && targets != NULL) {
		for (i = 0; i < n; i++) {
			fds[i] = i < x->n ? x->fds[i] : p->fds[i - x->n];
			targets[i] = i >= x->n ? p_targets[i - x->n] :
			    o->inetd ? 0 : FDP_LISTEN_FDS_START + (int)i;
		}
		if (check_fd_limit(targets, n, argv[0]) == -1) {
			free(fds);
			free(targets);
			return EXIT_SYSTEM;
		}
		rc = place_fds(fds, targets, n);
		for (i = 0; i < n; i++)
			*(i < x->n ? &x->fds[i] : &p->fds[i - x->n]) = fds[i];
	}
	free(fds);
	free(targets);
	if (rc == 0 && o->inetd)
		rc = dup2(0, 1) == -1 ? -1 : 0;
	else if (rc == 0 && x->n > 0)
		rc = set_listen_env(x);
	if (rc == 0)
		rc = apply_setenv(o);
	if (rc == 0)
		rc = cmd_nofile_as_given(1);	/* prog gets the limit we got */
	if (rc == -1) {
		cmd_warn("exec", "cannot pass the file descriptors on: %s",
		    strerror(errno));
		return EXIT_SYSTEM;
	}
	execvp(argv[0], argv);
	error = errno;
	cmd_nofile_as_given(0);		/* room to give the groups back */
	cmd_warn("exec", "cannot run %s: %s", argv[0], strerror(error));
	return error == ENOENT ? 127 : 126;
}

/* SIGTERM or SIGINT asked the accept loop to stop. */
static volatile sig_atomic_t exec_stop;

/* The accept loop's signal handler only sets the flag ppoll wakes up to. */
static void
exec_on_signal(int sig)
{
	(void)sig;
	exec_stop = 1;
}

/*
 * Wait until a fd of x is readable (a connection or a datagram waits), with
 * the signal mask given (NULL: as it is); pfds[i].revents says which.
 * Returns -1 on an error or once a signal set exec_stop.
 */
static int
wait_readable(const struct exec_fds *x, struct pollfd *pfds,
    const sigset_t *mask)
{
	size_t i;

	for (i = 0; i < x->n; i++) {
		pfds[i].fd = x->fds[i];
		pfds[i].events = POLLIN;
		pfds[i].revents = 0;
	}
	while (ppoll(pfds, x->n, NULL, mask) == -1)
		if (errno != EINTR || exec_stop)
			return -1;
	return 0;
}

/* --accept takes connections on every LISTEN_FDS fd: each must listen. */
static int
check_listening(const struct exec_fds *x)
{
	socklen_t len = sizeof(int);
	size_t i;
	int listening;

	for (i = 0; i < x->n; i++) {
		listening = 0;
		if (getsockopt(x->fds[i], SOL_SOCKET, SO_ACCEPTCONN, &listening,
		    &len) == -1 || !listening) {
			cmd_warn("exec", "--accept: fd %zu of those to pass (%s) "
			    "is not a listening stream or seqpacket socket",
			    i, x->names[i]);
			return -1;
		}
	}
	return 0;
}

/* One connection's child: the connection is its one LISTEN_FDS fd. */
static void
accept_child(const struct exec_opts *o, int conn, struct exec_fds *p,
    const int *p_targets, char **argv, const sigset_t *mask)
{
	const char *name = o->nfdnames > 0 ? o->fdnames[0] : "connection";
	struct exec_fds c = { &conn, &name, 1 };

	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	_exit(exec_prog(o, &c, p, p_targets, argv));
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
accept_one(const struct exec_opts *o, int fd, struct exec_fds *p,
    const int *p_targets, char **argv, const sigset_t *mask)
{
	pid_t pid;
	int conn;

	if ((conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		if (accept_again(errno))
			return 0;
		cmd_warn("exec", "accept: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == 0)
		accept_child(o, conn, p, p_targets, argv, mask);
	if (pid == -1)
		cmd_warn("exec", "cannot start %s: %s", argv[0],
		    strerror(errno));
	close(conn);
	return 0;
}

/*
 * --accept: like systemd-socket-activate --accept, start prog once per
 * connection until SIGTERM or SIGINT, telling a service manager READY=1
 * and STOPPING=1. Children are reaped by the kernel (SIGCHLD ignored).
 */
static int
accept_loop(const struct exec_opts *o, struct exec_fds *x, struct exec_fds *p,
    const int *p_targets, char **argv)
{
	struct sigaction sa;
	struct pollfd *pfds;
	sigset_t block, orig;
	size_t i;
	int notify, status = 0;

	if (check_listening(x) == -1)
		return EXIT_USAGE;
	if ((pfds = calloc(x->n, sizeof(*pfds))) == NULL) {
		cmd_warn("exec", "%s", strerror(ENOMEM));
		return EXIT_SYSTEM;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = exec_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGCHLD, SIG_IGN);
	notify = cmd_notify_open("exec");
	if (notify >= 0)
		fdp_notify_send(notify, "READY=1", NULL, 0);
	while (status == 0 && wait_readable(x, pfds, &orig) == 0)
		for (i = 0; i < x->n && status == 0; i++) {
			if (pfds[i].revents & POLLIN)
				status = accept_one(o, pfds[i].fd, p, p_targets,
				    argv, &orig) == -1 ? EXIT_SYSTEM : 0;
			else if (pfds[i].revents != 0) {
				cmd_warn("exec", "fd %zu of those to pass (%s) "
				    "failed", i, x->names[i]);
				status = EXIT_SYSTEM;
			}
		}
	if (status == 0 && !exec_stop) {
		cmd_warn("exec", "waiting for connections: %s", strerror(errno));
		status = EXIT_SYSTEM;
	}
	if (notify >= 0) {
		fdp_notify_send(notify, "STOPPING=1", NULL, 0);
		close(notify);
	}
	free(pfds);
	return status;
}

enum {
	OPT_SEQPACKET = 0x200,
	OPT_INETD,
	OPT_ON_CONNECT,
	OPT_FDNAME,
	OPT_FD
};

static const struct option exec_options[] = {
	{ "socket",	required_argument,	NULL,	's' },
	{ "listen",	required_argument,	NULL,	'l' },
	{ "datagram",	no_argument,		NULL,	'd' },
	{ "seqpacket",	no_argument,		NULL,	OPT_SEQPACKET },
	{ "accept",	no_argument,		NULL,	'a' },
	{ "inetd",	no_argument,		NULL,	OPT_INETD },
	{ "on-connect",	no_argument,		NULL,	OPT_ON_CONNECT },
	{ "fdname",	required_argument,	NULL,	OPT_FDNAME },
	{ "setenv",	required_argument,	NULL,	'E' },
	{ "fd",		required_argument,	NULL,	OPT_FD },
	CMD_GET_OPTIONS,
	CMD_COMMON_OPTIONS
};

/* --fdname NAME[:NAME...]: every name must be one systemd accepts. */
static int
add_fdnames(struct exec_opts *o, char *list)
{
	char *name, *save = NULL, **names;

	if (*list == '\0' || list[strlen(list) - 1] == ':' || *list == ':' ||
	    strstr(list, "::") != NULL) {
		cmd_warn("exec", "--fdname '%s': empty name", list);
		return -1;
	}
	for (name = strtok_r(list, ":", &save); name != NULL;
	    name = strtok_r(NULL, ":", &save)) {
		if (!cmd_name_ok("exec", name))
			return -1;
		names = realloc(o->fdnames, (o->nfdnames + 1) * sizeof(*names));
		if (names == NULL) {
			cmd_warn("exec", "%s", strerror(ENOMEM));
			return -1;
		}
		o->fdnames = names;
		o->fdnames[o->nfdnames++] = name;
	}
	return 0;
}

/* --fd N=NAME: a number, then a group name. */
static int
add_place(struct exec_opts *o, char *arg)
{
	char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg) {
		cmd_warn("exec", "--fd '%s': expected N=NAME", arg);
		return -1;
	}
	*eq = '\0';
	o->place_at[o->nplace] = cmd_parse_int(arg);
	*eq = '=';
	if (o->place_at[o->nplace] < 0) {
		cmd_warn("exec", "--fd '%s': N must be a file descriptor number",
		    arg);
		return -1;
	}
	if (!cmd_name_ok("exec", eq + 1))
		return -1;
	o->place[o->nplace++] = eq + 1;
	return 0;
}

/* -E NAME[=VALUE]: NAME is not empty and holds no '='. */
static int
add_setenv(struct exec_opts *o, char *arg)
{
	size_t len = strcspn(arg, "=");

	if (len == 0 || len > 255) {
		cmd_warn("exec", "-E '%s': expected NAME or NAME=VALUE", arg);
		return -1;
	}
	o->setenv[o->nsetenv++] = arg;
	return 0;
}

/* Fill o from the options; returns -1 (usage error) or 0. */
static int
parse_options(int argc, char **argv, struct exec_opts *o)
{
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+s:l:daE:vh", exec_options,
	    NULL)) != -1) {
		if ((rc = cmd_get_option("exec", ch, optarg, &o->get)) != 0) {
			if (rc == -1)
				return -1;
			continue;
		}
		switch (ch) {
		case 's':
			o->socket_opt = optarg;
			break;
		case 'v':
			cmd_verbose = 1;
			break;
		case 'l':
			o->listen[o->nlisten++] = optarg;
			break;
		case 'd':
		case OPT_SEQPACKET:
			if (o->listen_type != FDP_LISTEN_STREAM) {
				cmd_warn("exec", "--datagram and --seqpacket "
				    "exclude each other");
				return -1;
			}
			o->listen_type = ch == 'd' ? FDP_LISTEN_DGRAM :
			    FDP_LISTEN_SEQPACKET;
			break;
		case 'a':
			o->accept = 1;
			break;
		case OPT_INETD:
			o->inetd = 1;
			break;
		case OPT_ON_CONNECT:
			o->on_connect = 1;
			break;
		case OPT_FDNAME:
			if (add_fdnames(o, optarg) == -1)
				return -1;
			break;
		case 'E':
			if (add_setenv(o, optarg) == -1)
				return -1;
			break;
		case OPT_FD:
			if (add_place(o, optarg) == -1)
				return -1;
			break;
		case CMD_OPT_TRUST_UID:
			if (cmd_trust_uid("exec", optarg) == -1)
				return -1;
			break;
		case 'h':
			return 1;
		default:
			return -1;
		}
	}
	return 0;
}

/* Options that make no sense together, caught before anything opens. */
static int
check_options(const struct exec_opts *o)
{
	const char *why = NULL;

	if (o->accept && o->listen_type == FDP_LISTEN_DGRAM)
		why = "datagram sockets do not accept connections: --accept "
		    "and --datagram exclude each other";
	else if (o->accept && o->on_connect)
		why = "--accept already waits for connections: drop --on-connect";
	else if (o->accept && o->nfdnames > 1)
		why = "--accept names each connection with one --fdname NAME";
	else if (!o->accept && o->nfdnames > 0 && o->nfdnames != 1 &&
	    o->nfdnames != o->nlisten)
		why = "--fdname gives one name for every -l socket, or one "
		    "name for each";
	else if (!o->accept && o->nfdnames > 0 && o->nlisten == 0)
		why = "--fdname names -l sockets (or --accept connections); "
		    "there are none";
	else if (o->get.peer && (o->get.take || o->get.wait || o->nplace > 0))
		why = "--peer receives one group from one sender; --take, "
		    "--wait and --fd are for a broker";
	if (why != NULL)
		cmd_warn("exec", "%s", why);
	return why == NULL ? 0 : -1;
}

/* Arrays with room for every option argv could hold. */
static int
exec_opts_init(struct exec_opts *o, int argc)
{
	size_t n = (size_t)argc + 1;

	memset(o, 0, sizeof(*o));
	o->listen_type = FDP_LISTEN_STREAM;
	o->listen = calloc(n, sizeof(*o->listen));
	o->listeners = calloc(n, sizeof(*o->listeners));
	o->setenv = calloc(n, sizeof(*o->setenv));
	o->place = calloc(n, sizeof(*o->place));
	o->place_at = calloc(n, sizeof(*o->place_at));
	return o->listen && o->listeners && o->setenv && o->place && o->place_at ?
	    0 : -1;
}

static void
exec_opts_free(struct exec_opts *o)
{
	size_t i;

	for (i = 0; o->listeners != NULL && i < o->nlisten; i++)
		fdp_listener_free(o->listeners[i]);
	free(o->listeners);
	free(o->listen);
	free(o->fdnames);
	free(o->setenv);
	free(o->place);
	free(o->place_at);
}

/* Usage errors about where NAME... and PROG are; -1 after saying why. */
static int
find_prog(const struct exec_opts *o, int argc, char **argv, int *dashes)
{
	int i;

	if (optind > 0 && strcmp(argv[optind - 1], "--") == 0)
		*dashes = --optind;	/* getopt took the "--": no NAME came before it */
	else
		for (*dashes = optind; *dashes < argc; (*dashes)++)
			if (strcmp(argv[*dashes], "--") == 0)
				break;
	if (*dashes >= argc - 1) {
		cmd_warn("exec", "no PROG given after --");
		return -1;
	}
	if (o->get.peer && *dashes != optind) {
		cmd_warn("exec", "--peer takes no group NAME: the sender names "
		    "the group");
		return -1;
	}
	for (i = optind; i < *dashes; i++)
		if (!cmd_name_ok("exec", argv[i]))
			return -1;
	return 0;
}

/*
 * Gather every fd to pass: inherited LISTEN_FDS ones, the groups (or the
 * one --peer receives), the -l sockets (into x, in that order), the --fd
 * groups (into p, with their numbers in *p_targets). Groups taken before a
 * failure go back to the broker.
 */
static int
gather_fds(struct exec_opts *o, char **groups, size_t ngroups,
    struct exec_fds *x, struct exec_fds *p, int **p_targets, char ***inherited)
{
	int sock, status;

	if ((status = take_inherited(x, inherited)) != 0)
		return status;
	o->groups_first = x->n;
	if (o->get.peer)
		status = receive_peer_group(o->socket_opt, o->peer_name, x);
	else if (ngroups > 0 || o->nplace > 0) {
		if ((sock = cmd_connect("exec", o->socket_opt, &status)) == -1)
			return status;
		status = retrieve_groups(sock, groups, ngroups, &o->get, x);
		if (status == 0 && o->nplace > 0 &&
		    (*p_targets = calloc(FDP_MAX_FDS * o->nplace,
		    sizeof(**p_targets))) == NULL) {
			cmd_warn("exec", "%s", strerror(ENOMEM));
			status = EXIT_SYSTEM;
		}
		if (status == 0)
			status = retrieve_placed(sock, o, p, *p_targets);
		if (status != 0 && o->get.take) {
			restore_taken(sock, x, o->groups_first,
			    x->n - o->groups_first);
			restore_taken(sock, p, 0, p->n);
		}
		close(sock);
	}
	o->groups_n = x->n - o->groups_first;
	if (status != 0)
		return status;
	return open_listeners(o, x);
}

/*
 * exec --take could not run PROG, or --accept stopped serving: give the
 * groups back to the broker.
 */
static void
exec_restore(const struct exec_opts *o, const struct exec_fds *x,
    const struct exec_fds *p)
{
	int sock, status;

	if (!o->get.take || (o->groups_n == 0 && p->n == 0))
		return;
	if ((sock = cmd_connect("exec", o->socket_opt, &status)) == -1)
		return;
	restore_taken(sock, x, o->groups_first, o->groups_n);
	restore_taken(sock, p, 0, p->n);
	close(sock);
}

/* What the fds gathered must be for the mode asked for. */
static int
check_gathered(const struct exec_opts *o, const struct exec_fds *x,
    const struct exec_fds *p, const int *p_targets)
{
	const char *why = NULL;

	if (x->n == 0 && (o->accept || o->on_connect || o->inetd))
		why = "nothing to wait on: give a group NAME or -l ADDR";
	else if (x->n == 0 && p->n == 0)
		why = "nothing to pass: give a group NAME, -l ADDR or "
		    "--fd N=NAME";
	else if (o->inetd && !o->accept && x->n != 1)
		why = "--inetd without --accept passes exactly one fd on "
		    "stdin and stdout";
	if (why != NULL) {
		cmd_warn("exec", "%s", why);
		return EXIT_USAGE;
	}
	if (o->inetd ? check_collisions(p, p_targets, 0, 1) :
	    check_collisions(p, p_targets, FDP_LISTEN_FDS_START,
	    FDP_LISTEN_FDS_START + (int)(o->accept ? 1 : x->n) - 1) == -1)
		return EXIT_USAGE;
	return 0;
}

static int
exec_run(int argc, char **argv)
{
	struct exec_fds x = { NULL, NULL, 0 }, p = { NULL, NULL, 0 };
	struct exec_opts o;
	struct pollfd *pfds = NULL;
	char **inherited = NULL;
	int *p_targets = NULL, status, dashes;

	if (exec_opts_init(&o, argc) == -1) {
		exec_opts_free(&o);
		cmd_warn("exec", "%s", strerror(ENOMEM));
		return EXIT_SYSTEM;
	}
	status = parse_options(argc, argv, &o);
	if (status == 0 && (find_prog(&o, argc, argv, &dashes) == -1 ||
	    check_options(&o) == -1))
		status = -1;
	if (status != 0) {
		exec_opts_free(&o);
		return status == 1 ? cmd_usage(&cmd_exec, stdout, 0) :
		    cmd_usage(&cmd_exec, stderr, EXIT_USAGE);
	}
	if ((status = parse_listeners(&o)) != 0) {
		exec_opts_free(&o);
		return status;
	}
	status = gather_fds(&o, argv + optind, (size_t)(dashes - optind), &x,
	    &p, &p_targets, &inherited);
	if (status == 0)
		status = check_gathered(&o, &x, &p, p_targets);
	if (status == 0 && o.accept) {
		status = accept_loop(&o, &x, &p, p_targets, argv + dashes + 1);
		exec_restore(&o, &x, &p);
	} else if (status == 0) {
		if (o.on_connect && ((pfds = calloc(x.n, sizeof(*pfds))) == NULL ||
		    wait_readable(&x, pfds, NULL) == -1)) {
			cmd_warn("exec", "waiting for a connection: %s",
			    strerror(errno));
			status = EXIT_SYSTEM;
		}
		if (status == 0)
			status = exec_prog(&o, &x, &p, p_targets,
			    argv + dashes + 1);
		if (status != 0)
			exec_restore(&o, &x, &p);
	}
	fdp_close_fds(x.fds, x.n);
	fdp_close_fds(p.fds, p.n);
	free(pfds);
	free(x.fds);
	free(x.names);
	free(p.fds);
	free(p.names);
	free(p_targets);
	free(inherited);
	exec_opts_free(&o);
	return status;
}

const struct cmd_entry cmd_exec = {
	"exec",
	"exec [OPTION...] [NAME...] -- PROG [ARG...]\n"
	"       fdpass exec [-v] --peer [-s ADDR] -- PROG [ARG...]\n"
	"  OPTION, before the first NAME: [-v] [-s ADDR] [--take] [--wait[=SECONDS]]\n"
	"  [-l ADDR]... [-d | --seqpacket] [-a] [--inetd] [--on-connect]\n"
	"  [--fdname NAME[:NAME...]] [-E NAME[=VALUE]]... [--fd N=NAME]...\n"
	"Exec PROG with fds at 3 onward (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES\n"
	"as systemd sets them): first those inherited through LISTEN_FDS, then\n"
	"each group NAME's, then each -l socket.\n"
	"  -s, --socket ADDR    broker address (path or @abstract)\n"
	"      --take           remove the groups from the broker as they come\n"
	"      --wait[=SECONDS] wait for each NAME to be stored (at most SECONDS)\n"
	"      --peer           be the broker at ADDR for one `fdpass send'\n"
	"  -v, --verbose        log each protocol step to stderr\n"
	"  -l, --listen ADDR    open a socket: PORT, HOST:PORT, [V6]:PORT, /PATH,\n"
	"                       @NAME, or any SPEC of send --listen, settings too\n"
	"  -d, --datagram       -l opens datagram sockets (udp, unix dgram)\n"
	"      --seqpacket      -l opens Unix SOCK_SEQPACKET sockets\n"
	"  -a, --accept         accept each connection and run PROG for it with\n"
	"                       the connection at fd 3 (name \"connection\")\n"
	"      --inetd          the connection (or the one fd) on stdin and\n"
	"                       stdout instead, no LISTEN_ variables\n"
	"      --on-connect     exec PROG only once a connection (or datagram)\n"
	"                       waits, as systemd-socket-activate does\n"
	"      --fdname NAMES   names of the -l sockets (one name: all of them),\n"
	"                       or of each --accept connection\n"
	"  -E, --setenv NAME[=VALUE]  set NAME for PROG (alone: pass ours on)\n"
	"      --fd N=NAME      put group NAME's fds at N onward (0, 1, 2 too),\n"
	"                       outside LISTEN_FDS\n"
	CMD_TRUST_UID_USAGE,
	exec_run,
};
