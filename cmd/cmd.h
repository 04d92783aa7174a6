/*
 * cmd.h: what every subcommand exports (one table entry each) and what the
 * client commands share (cmd/client.c).
 */
#ifndef FDPASS_CMD_H
#define FDPASS_CMD_H

#include "fdpass.h"
#include "log.h"

/*
 * One subcommand: its name, its usage (a synopsis line, then one line per
 * option for --help), and what runs it with argv[0] the command's name.
 */
struct cmd_entry {
	const char	*name;
	const char	*usage;
	int		(*run)(int argc, char **argv);
};

extern const struct cmd_entry cmd_serve, cmd_send, cmd_recv, cmd_exec,
    cmd_run, cmd_list, cmd_delete, cmd_transfer, cmd_describe, cmd_status,
    cmd_monitor;

/*
 * fdp_call (fdp_call_arg when flags carry FDP_F_TTL or FDP_F_WAIT, with
 * arg), logging the request and the reply under -v; every client command
 * talks to the broker through this.
 */
int	 cmd_call(const char *cmd, int sock, uint16_t op, uint32_t flags,
	    uint32_t arg, const char *name, const int *fds, size_t nfds,
	    struct fdp_reply *r);

/* fdp_send_request, logged under -v: a request sent ahead of its answer. */
int	 cmd_send_request(const char *cmd, int sock, uint16_t op,
	    uint32_t flags, uint32_t arg, const char *name, const int *fds,
	    size_t nfds);

/* fdp_reply_recv, logged under -v. */
int	 cmd_reply_recv(const char *cmd, int sock, uint16_t op,
	    struct fdp_reply *r);

/* getopt values of the long options recv and exec share. */
#define CMD_OPT_TAKE	1000
#define CMD_OPT_WAIT	1001
#define CMD_OPT_PEER	1002

/* The option table entries of --take, --wait and --peer. */
#define CMD_GET_OPTIONS \
	{ "take",	no_argument,		NULL,	CMD_OPT_TAKE }, \
	{ "wait",	optional_argument,	NULL,	CMD_OPT_WAIT }, \
	{ "peer",	no_argument,		NULL,	CMD_OPT_PEER }

/* The longest --wait, in seconds: its milliseconds fit the wire's 32 bits. */
#define CMD_WAIT_MAX	4294967

/* How recv and exec get their groups: --take, --wait, --peer. */
struct cmd_get {
	int		 take;
	int		 wait;
	uint32_t	 wait_ms;	/* 0: wait as long as it takes */
	const char	*wait_text;	/* SECONDS as given, for messages */
	int		 peer;		/* be the broker for one sender */
};

/*
 * Handle option ch if it is one of the CMD_OPT_* above: 1 if it was, 0 if
 * not, -1 (after a message) if its argument is bad.
 */
int	 cmd_get_option(const char *cmd, int ch, const char *arg,
	    struct cmd_get *g);

/*
 * RETRIEVE a group with g's --take and --wait; r holds its fds on success
 * (exit status 0). A wait that runs out says so plainly. A take into a
 * process without room for a whole group (253 fds) first looks at the
 * group without taking it, and leaves one that does not fit with the
 * broker; fds the kernel dropped anyway are reported as lost.
 */
int	 cmd_get_group(const char *cmd, int sock, const char *name,
	    const struct cmd_get *g, struct fdp_reply *r);

/*
 * LIST at sock, calling fn with each entry of every reply record in turn
 * (name as a C string); stops at fn's first nonzero return and returns it.
 * Otherwise 0 once the last record is done (r->h.status says whether the
 * broker refused), FDP_EPROTO for an entry that does not parse, or an
 * FDP_E* code.
 */
int	 cmd_list_each(const char *cmd, int sock, struct fdp_reply *r,
	    int (*fn)(const struct fdp_wire_entry *, const char *, void *),
	    void *arg);

/*
 * A send --listen or exec -l spec, parsed before anything is opened (see
 * fdp_listener_parse): 0, or EXIT_USAGE (EXIT_SYSTEM when memory ran out)
 * after a message naming the spec and what is wrong with it.
 */
int	 cmd_listener_parse(const char *cmd, const char *spec, int deftype,
	    struct fdp_listener **l);

/*
 * Create a parsed listener: the fd, or -1 after a message naming the spec
 * and the setting or step that failed. A process that could not return to
 * its own network namespace exits here, with EXIT_SYSTEM.
 */
int	 cmd_listener_open(const char *cmd, const char *spec,
	    struct fdp_listener *l);

/*
 * A command that fails after opening listeners removes what each made on
 * the file system (see fdp_listener_undo), the last one first, before it
 * closes their fds; l may hold NULLs and listeners never opened.
 */
void	 cmd_listeners_undo(struct fdp_listener **l, size_t n);

/*
 * The rest of a run of a command that takes no operands, once its options
 * are parsed (getopt's optind past them): connect to the broker and talk
 * to it, fn(sock, json) returning the exit status.
 */
int	 cmd_run_connected(const struct cmd_entry *c, int argc,
	    const char *socket_opt, int json, int (*fn)(int sock, int json));

/* Print the whole usage to f and return status (EXIT_USAGE or 0). */
int	 cmd_usage(const struct cmd_entry *c, FILE *f, int status);

/* Parse a non-negative decimal int; -1 if text is not one. */
int	 cmd_parse_int(const char *text);

/* Check a group name the way the broker will; prints why it is bad. */
int	 cmd_name_ok(const char *cmd, const char *name);

/*
 * The --trust-uid option every client command takes, for its option table,
 * and the getopt value it returns.
 */
#define CMD_OPT_TRUST_UID	0x100
#define CMD_TRUST_UID_OPTION \
	{ "trust-uid",	required_argument,	NULL,	CMD_OPT_TRUST_UID }
#define CMD_TRUST_UID_USAGE \
	"      --trust-uid N  accept a broker running as uid N\n"

/*
 * --trust-uid N: besides our own uid and root, trust a broker run by uid N.
 * Prints why and returns -1 when N is not a uid.
 */
int	 cmd_trust_uid(const char *cmd, const char *arg);

/*
 * The options every client command takes, ending its option table: -v,
 * --trust-uid and -h (a command with a broker address puts -s before them).
 */
#define CMD_COMMON_OPTIONS \
	{ "verbose",	no_argument,		NULL,	'v' }, \
	CMD_TRUST_UID_OPTION, \
	{ "help",	no_argument,		NULL,	'h' }, \
	{ NULL,		0,			NULL,	0 }

/*
 * The default: arm of every client command's option switch: -s (into
 * *socket_opt), -v, --trust-uid, -h and unknown options. Returns -1 to go
 * on parsing, or the exit status the command returns now (0 after --help).
 */
int	 cmd_common_option(const struct cmd_entry *c, int ch, const char *arg,
	    const char **socket_opt);

/*
 * Connect to the broker named by -s (or the default) and check who runs it:
 * a broker running as neither our uid, nor root, nor the --trust-uid is
 * refused, since anyone may bind an abstract name or a path first. On
 * failure prints why, sets *status to the exit status and returns -1.
 * First raises the soft fd limit to the hard one (once), so that the
 * groups a client receives fit.
 */
int	 cmd_connect(const char *cmd, const char *socket_option, int *status);

/*
 * fds a client keeps free after a take, for what follows it: describing
 * the fds (/proc/self/fdinfo), moving them into place (exec), reconnecting
 * to give groups back; and that exec leaves its program below its limit.
 */
#define CMD_FD_SPARE	8

/* The soft fd limit as the user gave it, before cmd_connect raised it. */
size_t	 cmd_nofile_given(void);

/*
 * Put back the soft fd limit cmd_connect raised (given 1), so that a
 * program exec starts gets the limit the user gave; or raise it again
 * (given 0), when that program could not be started and the groups go
 * back to the broker. -1 with errno on failure.
 */
int	 cmd_nofile_as_given(int given);

/*
 * cmd_connect without the check of who runs the broker, for serve
 * --takeover, which applies its own rule: our uid or root, or anyone's
 * broker when we are root.
 */
int	 cmd_connect_unchecked(const char *cmd, const char *socket_option,
	    int *status);

/* Turn a fdp_call result into a message and an exit status. */
int	 cmd_call_status(const char *cmd, const char *name, int rc,
	    const struct fdp_reply *r);


/*
 * Describe each fd on a line of its own, "INDEX KIND key=value...", each
 * line after indent: recv and list --long print groups the same way.
 */
void	 cmd_print_fds(const int *fds, size_t n, const char *indent);

/*
 * One group as the JSON object fdpass(1) documents: name, nfds, then
 * expires_in when expires_in is given (null for 0: no TTL), then a
 * description of each fd when fds is given. No newline.
 */
void	 cmd_print_group_json(const char *name, size_t nfds, const int *fds,
	    const uint32_t *expires_in);

/*
 * send --pid (cmd/describe.c): copy the n fds that args number in process
 * pid into fds, without stopping it. On failure says why (not open there,
 * gone, or what ptrace rules refuse and what would permit it), holds no
 * copy, and returns the exit status; 0 on success.
 */
int	 cmd_proc_copy(const char *cmd, pid_t pid, char **args, int n,
	    int *fds);

/* --pid PID of describe and send: a positive number; 0 (said why) if not. */
pid_t	 cmd_parse_pid(const char *cmd, const char *text);

/*
 * Connect to the service manager's $NOTIFY_SOCKET, for the commands that
 * tell it about readiness; -1 when it is unset, or unreachable (said why).
 */
int	 cmd_notify_open(const char *cmd);

#endif
