/*
 * gather.c: gathering the fds a program gets (inherited LISTEN_FDS, groups,
 * a --peer sender's, -l sockets, --fd groups), and giving taken groups back.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"
#include "broker/broker.h"

/* Room for k more fds; every source of fds appends through here. */
static int
fds_grow(const char *cmd, struct launch_fds *x, size_t k)
{
	const char **nm;
	int *fds;

	if ((fds = realloc(x->fds, (x->n + k) * sizeof(*fds))) != NULL)
		x->fds = fds;
	if ((nm = realloc(x->names, (x->n + k) * sizeof(*nm))) != NULL)
		x->names = nm;
	if (fds == NULL || nm == NULL) {
		cmd_warn(cmd, "%s", strerror(ENOMEM));
		return -1;
	}
	return 0;
}

/* Append a group's fds, which x then holds; on failure they are closed. */
static int
append_group(const char *cmd, struct launch_fds *x, const char *name,
    struct fdp_reply *r)
{
	size_t j;

	if (fds_grow(cmd, x, r->nfds) == -1) {
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
retrieve_groups(const struct launch_opts *o, int sock, char **names,
    size_t ngroups, struct launch_fds *x)
{
	static struct fdp_reply r;
	size_t i;
	int status;

	for (i = 0; i < ngroups; i++) {
		status = cmd_get_group(o->cmd, sock, names[i], &o->get, &r);
		if (status == 0)
			status = append_group(o->cmd, x, names[i], &r);
		if (status != 0)
			return status;
	}
	return 0;
}

/*
 * --take failed after taking groups, or the program has stopped: store the
 * n fds from first on back under their names, so that nothing is lost. A
 * name stored again meanwhile keeps the newer group.
 */
static void
restore_taken(const char *cmd, int sock, const struct launch_fds *x,
    size_t first, size_t n)
{
	static struct fdp_reply r;
	size_t i, j;

	for (i = first; i < first + n; i = j) {
		for (j = i; j < first + n && x->names[j] == x->names[i]; j++)
			continue;
		if (cmd_call(cmd, sock, FDP_OP_STORE, 0, 0, x->names[i],
		    x->fds + i, j - i, &r) != 0 || r.h.status != FDP_S_OK)
			cmd_warn(cmd, "%s: could not store the taken group "
			    "back: %s", x->names[i], fdp_status_text(r.h.status));
	}
}

/* Peer mode: the one group a sender stores at --peer's address. */
static int
receive_peer_group(struct launch_opts *o, struct launch_fds *x)
{
	static struct fdp_reply r;
	int status;

	if ((status = serve_peer(o->cmd, o->socket_opt, &r, o->peer_name)) != 0)
		return status;
	return append_group(o->cmd, x, o->peer_name, &r);
}

/*
 * Fds this process inherited through LISTEN_FDS go first, under their
 * LISTEN_FDNAMES names, as systemd-socket-activate passes them through.
 */
static int
take_inherited(const char *cmd, struct launch_set *s)
{
	int n, i;

	if ((n = fdp_listen_fds(&s->inherited)) < 0) {
		cmd_warn(cmd, "%s", fdp_strerror(n));
		return EXIT_USAGE;
	}
	if (n > 0 && fds_grow(cmd, &s->x, (size_t)n) == -1) {
		for (i = 0; i < n; i++)
			close(FDP_LISTEN_FDS_START + i);
		return EXIT_SYSTEM;
	}
	for (i = 0; i < n; i++) {
		s->x.fds[s->x.n] = FDP_LISTEN_FDS_START + i;
		s->x.names[s->x.n++] = s->inherited[i];
	}
	return 0;
}

/* The --fdname name of the i-th -l socket: one name serves them all. */
static const char *
listener_name(const struct launch_opts *o, size_t i)
{
	if (o->nfdnames == 0)
		return "unknown";
	return o->fdnames[o->nfdnames == 1 ? 0 : i];
}

/* Parse every -l spec before anything is opened: a bad one is a usage error. */
static int
parse_listeners(struct launch_opts *o)
{
	size_t i;
	int status = 0;

	for (i = 0; i < o->nlisten && status == 0; i++)
		if (o->listeners[i] == NULL)
			status = cmd_listener_parse(o->cmd, o->listen[i],
			    o->listen_type, &o->listeners[i]);
	return status;
}

/* Open each -l socket with the listener code `send --listen` uses. */
static int
open_listeners(const struct launch_opts *o, struct launch_fds *x)
{
	size_t i;
	int fd;

	if (fds_grow(o->cmd, x, o->nlisten) == -1)
		return EXIT_SYSTEM;
	for (i = 0; i < o->nlisten; i++) {
		if ((fd = cmd_listener_open(o->cmd, o->listen[i],
		    o->listeners[i])) < 0)
			return EXIT_SYSTEM;
		x->fds[x->n] = fd;
		x->names[x->n++] = listener_name(o, i);
	}
	return 0;
}

/*
 * Retrieve the --fd groups into s->p; p_targets[i] becomes the number of
 * each fd, a group of k fds taking N to N+k-1, all below the fd limit.
 */
static int
retrieve_placed(const struct launch_opts *o, int sock, struct launch_set *s)
{
	size_t i, before, j;
	int status, limit = launch_fd_limit();

	if ((s->p_targets = calloc(FDP_MAX_FDS * o->nplace,
	    sizeof(*s->p_targets))) == NULL) {
		cmd_warn(o->cmd, "%s", strerror(ENOMEM));
		return EXIT_SYSTEM;
	}
	for (i = 0; i < o->nplace; i++) {
		before = s->p.n;
		if ((status = retrieve_groups(o, sock, &o->place[i], 1,
		    &s->p)) != 0)
			return status;
		for (j = before; j < s->p.n; j++)
			s->p_targets[j] = o->place_at[i] + (int)(j - before);
		if (s->p.n > before && s->p_targets[s->p.n - 1] >= limit) {
			cmd_warn(o->cmd, "--fd %d=%s: its %zu fds would take %d "
			    "to %d, past the limit of open files (%d)",
			    o->place_at[i], o->place[i], s->p.n - before,
			    o->place_at[i], s->p_targets[s->p.n - 1], limit);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/*
 * No number may be asked for twice: --fd ranges may not overlap each other
 * or the numbers the LISTEN_FDS fds (or --inetd's 0 and 1) take.
 */
static int
check_collisions(const char *cmd, const struct launch_fds *p,
    const int *targets, int lo, int hi)
{
	size_t i, j;

	for (i = 0; i < p->n; i++) {
		if (targets[i] >= lo && targets[i] <= hi) {
			cmd_warn(cmd, "--fd %d=%s: fd %d is taken by the %s "
			    "fds (%d to %d)", targets[i], p->names[i],
			    targets[i], lo == 0 ? "--inetd" : "LISTEN_FDS",
			    lo, hi);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (targets[i] == targets[j]) {
				cmd_warn(cmd, "--fd: fd %d would be both "
				    "%s and %s", targets[i], p->names[j],
				    p->names[i]);
				return -1;
			}
	}
	return 0;
}

/* What the fds gathered must be for the mode asked for. */
static int
check_gathered(const struct launch_opts *o, const struct launch_set *s)
{
	const char *why = NULL;

	if (s->x.n == 0 && (o->accept || o->on_connect || o->inetd))
		why = "nothing to wait on: give a group NAME or -l ADDR";
	else if (s->x.n == 0 && s->p.n == 0)
		why = "nothing to pass: give a group NAME, -l ADDR or "
		    "--fd N=NAME";
	else if (o->inetd && !o->accept && s->x.n != 1)
		why = "--inetd without --accept passes exactly one fd on "
		    "stdin and stdout";
	if (why != NULL) {
		cmd_warn(o->cmd, "%s", why);
		return EXIT_USAGE;
	}
	if (o->inetd ? check_collisions(o->cmd, &s->p, s->p_targets, 0, 1) :
	    check_collisions(o->cmd, &s->p, s->p_targets, FDP_LISTEN_FDS_START,
	    FDP_LISTEN_FDS_START + (int)(o->accept ? 1 : s->x.n) - 1) == -1)
		return EXIT_USAGE;
	return 0;
}

/* The named groups and the --fd groups, from the broker at sock. */
static int
retrieve_all(struct launch_opts *o, int sock, struct launch_set *s)
{
	int status;

	status = retrieve_groups(o, sock, o->groups, o->ngroups, &s->x);
	if (status == 0 && o->nplace > 0)
		status = retrieve_placed(o, sock, s);
	return status;
}

/*
 * Whatever fails once groups are taken gives them back, over the same
 * connection, before any other fd is gathered; and what the -l listeners
 * made on the file system goes again.
 */
int
launch_gather(struct launch_opts *o, struct launch_set *s)
{
	int sock = -1, status;

	memset(s, 0, sizeof(*s));
	if ((status = parse_listeners(o)) != 0 ||
	    (status = take_inherited(o->cmd, s)) != 0)
		return status;
	s->groups_first = s->x.n;
	if (o->get.peer)
		status = receive_peer_group(o, &s->x);
	else if ((o->ngroups > 0 || o->nplace > 0) &&
	    (sock = cmd_connect(o->cmd, o->socket_opt, &status)) != -1)
		status = retrieve_all(o, sock, s);
	s->groups_n = s->x.n - s->groups_first;
	if (status == 0)
		status = open_listeners(o, &s->x);
	if (status == 0)
		status = check_gathered(o, s);
	if (status == 0 && o->mode != LAUNCH_KEEP_MODE) {
		if (sock != -1)
			s->broker_pid = launch_broker_pid(sock);
		status = launch_set_mode(o, s);
	}
	if (status != 0 && o->get.take && sock != -1) {
		restore_taken(o->cmd, sock, &s->x, s->groups_first, s->groups_n);
		restore_taken(o->cmd, sock, &s->p, 0, s->p.n);
	}
	if (status != 0)
		cmd_listeners_undo(o->listeners, o->nlisten);
	if (sock != -1)
		close(sock);
	return status;
}

/* A second copy of n fds of from, from first on, for another set. */
static int
copy_fds(const char *cmd, const struct launch_fds *from, size_t first,
    size_t n, struct launch_fds *to)
{
	size_t i;
	int fd;

	if (fds_grow(cmd, to, n) == -1)
		return EXIT_SYSTEM;
	for (i = first; i < first + n; i++) {
		if ((fd = fcntl(from->fds[i], F_DUPFD_CLOEXEC, 0)) == -1) {
			cmd_warn(cmd, "%s", strerror(errno));
			return EXIT_SYSTEM;
		}
		to->fds[to->n] = fd;
		to->names[to->n++] = from->names[i];
	}
	return 0;
}

int
launch_regather(struct launch_opts *o, const struct launch_set *cur,
    struct launch_set *next)
{
	size_t tail = cur->groups_first + cur->groups_n;
	int sock, status;

	memset(next, 0, sizeof(*next));
	status = copy_fds(o->cmd, &cur->x, 0, cur->groups_first, &next->x);
	next->groups_first = next->x.n;
	if (status == 0 &&
	    (sock = cmd_connect(o->cmd, o->socket_opt, &status)) != -1) {
		status = retrieve_all(o, sock, next);
		if (status == 0 && o->mode != LAUNCH_KEEP_MODE)
			next->broker_pid = launch_broker_pid(sock);
		close(sock);
	}
	next->groups_n = next->x.n - next->groups_first;
	if (status == 0)
		status = copy_fds(o->cmd, &cur->x, tail, cur->x.n - tail,
		    &next->x);
	if (status == 0)
		status = check_gathered(o, next);
	if (status != 0)
		launch_set_free(next);
	return status;
}

void
launch_set_move(struct launch_set *to, struct launch_set *from)
{
	char **inherited = to->inherited;

	to->inherited = NULL;
	launch_set_free(to);
	*to = *from;
	to->inherited = inherited;
	memset(from, 0, sizeof(*from));
}

void
launch_restore(const struct launch_opts *o, const struct launch_set *s)
{
	int sock, status;

	if (!o->get.take || (s->groups_n == 0 && s->p.n == 0))
		return;
	if ((sock = cmd_connect(o->cmd, o->socket_opt, &status)) == -1)
		return;
	restore_taken(o->cmd, sock, &s->x, s->groups_first, s->groups_n);
	restore_taken(o->cmd, sock, &s->p, 0, s->p.n);
	close(sock);
}

void
launch_set_free(struct launch_set *s)
{
	fdp_close_fds(s->x.fds, s->x.n);
	fdp_close_fds(s->p.fds, s->p.n);
	free(s->x.fds);
	free(s->x.names);
	free(s->p.fds);
	free(s->p.names);
	free(s->p_targets);
	free(s->inherited);
	memset(s, 0, sizeof(*s));
}
