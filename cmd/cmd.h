/*
 * cmd.h: what every subcommand exports (one table entry each) and what the
 * client commands share (cmd/client.c).
 */
#ifndef FDPASS_CMD_H
#define FDPASS_CMD_H

#include "fdpass.h"

/* Exit statuses, documented in fdpass(1). */
#define EXIT_REFUSED	1	/* the broker refused the request */
#define EXIT_USAGE	2	/* bad arguments */
#define EXIT_SYSTEM	3	/* a system or communication failure */

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
    cmd_list;

/* Print "fdpass: CMD: message" to stderr. */
void	 cmd_warn(const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

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
 * Connect to the broker named by -s (or the default) and check who runs it:
 * a broker running as neither our uid, nor root, nor the --trust-uid is
 * refused, since anyone may bind an abstract name or a path first. On failure prints why,
 * sets *status to the exit status and returns -1.
 */
int	 cmd_connect(const char *cmd, const char *socket_option, int *status);

/* Turn a fdp_call result into a message and an exit status. */
int	 cmd_call_status(const char *cmd, const char *name, int rc,
	    const struct fdp_reply *r);

/* Retrieve a group; r holds its fds on success (exit status 0). */
int	 cmd_retrieve(const char *cmd, int sock, const char *name,
	    struct fdp_reply *r);

#endif
