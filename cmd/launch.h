/*
 * launch.h: what exec and run share to start a program the systemd way:
 * gathering options, gathering fds, their mode, placing them under LISTEN_*.
 */
#ifndef FDPASS_LAUNCH_H
#define FDPASS_LAUNCH_H

#include <getopt.h>
#include <signal.h>

#include "cmd.h"

/* Fds gathered and the name each came under. */
struct launch_fds {
	int		*fds;
	const char	**names;
	size_t		  n;
};

/* Which mode the sockets passed get (O_NONBLOCK). */
enum {
	LAUNCH_KEEP_MODE,
	LAUNCH_BLOCKING,
	LAUNCH_NONBLOCKING
};

/* What the options ask for: where fds come from and how they are passed. */
struct launch_opts {
	const char	 *cmd;		/* the command, for messages */
	const char	 *socket_opt;
	char		**listen;	/* -l specs, in order */
	struct fdp_listener **listeners; /* and parsed, by launch_gather */
	size_t		  nlisten;
	int		  listen_type;	/* FDP_LISTEN_* for -l */
	char		**fdnames;	/* --fdname names, split at ':' */
	size_t		  nfdnames;
	char		**setenv;	/* -E NAME[=VALUE] */
	size_t		  nsetenv;
	char		**place;	/* --fd N=NAME, split at '=' */
	int		 *place_at;
	size_t		  nplace;
	int		  accept;	/* exec -a */
	int		  inetd;	/* exec --inetd */
	int		  on_connect;	/* exec --on-connect */
	int		  mode;		/* LAUNCH_*: --blocking, --nonblocking */
	struct cmd_get	  get;		/* --take, --wait, --peer */
	char		  peer_name[256];
	char		**groups;	/* the group NAMEs */
	size_t		  ngroups;
	char		**prog;		/* PROG [ARG...] */
};

/*
 * The fds a program gets: x at 3 onward under LISTEN_FDS (inherited ones,
 * then the groups', then the -l sockets), p at the --fd numbers p_targets.
 */
struct launch_set {
	struct launch_fds  x;
	struct launch_fds  p;
	int		  *p_targets;
	char		 **inherited;	/* the LISTEN_FDNAMES names x points to */
	size_t		   groups_first; /* where the groups' fds start in x */
	size_t		   groups_n;	/* and how many there are */
	pid_t		   broker_pid;	/* the broker they came from, or 0 */
};

/* ---- launch-opts.c: the options ---- */

/* getopt values of the long options without a short form. */
enum {
	LAUNCH_OPT_SEQPACKET = 0x200,
	LAUNCH_OPT_FDNAME,
	LAUNCH_OPT_FD,
	LAUNCH_OPT_BLOCKING,
	LAUNCH_OPT_NONBLOCKING
};

/* getopt's short options of the gathering options. */
#define LAUNCH_SHORT_OPTIONS	"s:l:dE:"

/* The option table entries of the gathering options. */
#define LAUNCH_OPTIONS \
	{ "socket",	required_argument,	NULL,	's' }, \
	{ "listen",	required_argument,	NULL,	'l' }, \
	{ "datagram",	no_argument,		NULL,	'd' }, \
	{ "seqpacket",	no_argument,		NULL,	LAUNCH_OPT_SEQPACKET }, \
	{ "fdname",	required_argument,	NULL,	LAUNCH_OPT_FDNAME }, \
	{ "setenv",	required_argument,	NULL,	'E' }, \
	{ "fd",		required_argument,	NULL,	LAUNCH_OPT_FD }, \
	{ "blocking",	no_argument,		NULL,	LAUNCH_OPT_BLOCKING }, \
	{ "nonblocking", no_argument,		NULL,	LAUNCH_OPT_NONBLOCKING }, \
	CMD_GET_OPTIONS

/*
 * Empty options for cmd, with arrays room enough for every option of an
 * argv of argc; -1 (said why) when memory runs out.
 */
int	 launch_opts_init(struct launch_opts *o, const char *cmd, int argc);

void	 launch_opts_free(struct launch_opts *o);

/*
 * Handle option ch if it is a gathering option: 1 if it was, 0 if not, -1
 * (after a message) if its argument is bad.
 */
int	 launch_option(struct launch_opts *o, int ch, char *arg);

/*
 * The soft limit of open files the program gets (the one we were given,
 * not the one raised to receive groups), which every placed fd must stay
 * below, capped at INT_MAX - FDP_MAX_FDS.
 */
int	 launch_fd_limit(void);

/*
 * After getopt: find the group NAMEs and PROG around "--" (o->groups,
 * o->prog) and check the options go together; -1 after saying why.
 */
int	 launch_opts_finish(struct launch_opts *o, int argc, char **argv);

/* ---- gather.c: gathering the fds ---- */

/*
 * Gather every fd to pass into s: inherited LISTEN_FDS ones, the groups (or
 * the one --peer receives), the -l sockets, the --fd groups; then check
 * they suit the mode asked for. Returns 0 or an exit status, with the
 * groups taken before a failure given back to the broker.
 */
int	 launch_gather(struct launch_opts *o, struct launch_set *s);

/*
 * Gather again into next what cur came from: the same inherited and -l
 * fds (copies), the groups and --fd groups anew from the broker, so that
 * a group stored again since is the new one. Returns 0 or an exit status
 * (next then holds nothing).
 */
int	 launch_regather(struct launch_opts *o, const struct launch_set *cur,
	    struct launch_set *next);

/*
 * Make from's fds to's, closing to's: the names of inherited fds stay
 * where to kept them. from is left empty.
 */
void	 launch_set_move(struct launch_set *to, struct launch_set *from);

/* --take: give the groups taken back to the broker (prog has stopped). */
void	 launch_restore(const struct launch_opts *o, const struct launch_set *s);

/* Close and free everything s holds. */
void	 launch_set_free(struct launch_set *s);

/* ---- sockmode.c: --blocking and --nonblocking ---- */

/*
 * Give every socket passed (those at 3 onward, but not --accept's
 * listeners, and the --fd ones) the mode asked for, but only when no
 * process other than this one and s->broker_pid holds it: the flag is
 * shared by all. Returns 0, or EXIT_SYSTEM after naming a process that
 * holds one (nothing is changed then).
 */
int	 launch_set_mode(const struct launch_opts *o, struct launch_set *s);

/* The pid of the broker at the other end of the connection sock, or 0. */
pid_t	 launch_broker_pid(int sock);

/* ---- place.c: placing the fds and the LISTEN_* environment ---- */

/*
 * Place x at 3 onward (or, for --inetd, the one fd on 0 and 1 with no
 * LISTEN_*), p at p_targets, set the environment for the process running
 * now, and exec prog. Returns only on failure, with the exit status, which
 * it also writes as one byte to report unless that is -1 (a close-on-exec
 * pipe whose reader learns from EOF that prog runs); x and p still hold
 * their fds, wherever they are now.
 */
int	 launch_exec(const struct launch_opts *o, struct launch_fds *x,
	    struct launch_fds *p, const int *p_targets, char **prog,
	    int report);

/* ---- accept.c: --accept, --inetd and --on-connect ---- */

/*
 * --accept: start prog once per connection until SIGTERM or SIGINT, as
 * systemd-socket-activate --accept does; returns the exit status.
 */
int	 launch_accept_loop(const struct launch_opts *o, struct launch_set *s);

/* --on-connect: wait until a connection or a datagram waits on s->x. */
int	 launch_wait_connection(const struct launch_opts *o,
	    const struct launch_set *s);

#endif
