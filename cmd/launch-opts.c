/*
 * launch-opts.c: the options that say which fds a program gets and how, and
 * where the group NAMEs and PROG stand around "--".
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/resource.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "launch.h"

int
launch_opts_init(struct launch_opts *o, const char *cmd, int argc)
{
	size_t n = (size_t)argc + 1;

	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	o->listen_type = FDP_LISTEN_STREAM;
	o->listen = calloc(n, sizeof(*o->listen));
	o->listeners = calloc(n, sizeof(*o->listeners));
	o->setenv = calloc(n, sizeof(*o->setenv));
	o->place = calloc(n, sizeof(*o->place));
	o->place_at = calloc(n, sizeof(*o->place_at));
	if (o->listen && o->listeners && o->setenv && o->place && o->place_at)
		return 0;
	launch_opts_free(o);
	cmd_warn(cmd, "%s", strerror(ENOMEM));
	return -1;
}

void
launch_opts_free(struct launch_opts *o)
{
	size_t i;

	for (i = 0; o->listeners != NULL && i < o->nlisten; i++)
		fdp_listener_free(o->listeners[i]);
	free(o->listeners);
	o->listeners = NULL;
	free(o->listen);
	free(o->fdnames);
	free(o->setenv);
	free(o->place);
	free(o->place_at);
	o->listen = o->fdnames = o->setenv = o->place = NULL;
	o->place_at = NULL;
}

/* --fdname NAME[:NAME...]: every name must be one systemd accepts. */
static int
add_fdnames(struct launch_opts *o, char *list)
{
	char *name, *save = NULL, **names;

	if (*list == '\0' || list[strlen(list) - 1] == ':' || *list == ':' ||
	    strstr(list, "::") != NULL) {
		cmd_warn(o->cmd, "--fdname '%s': empty name", list);
		return -1;
	}
	for (name = strtok_r(list, ":", &save); name != NULL;
	    name = strtok_r(NULL, ":", &save)) {
		if (!cmd_name_ok(o->cmd, name))
			return -1;
		names = realloc(o->fdnames, (o->nfdnames + 1) * sizeof(*names));
		if (names == NULL) {
			cmd_warn(o->cmd, "%s", strerror(ENOMEM));
			return -1;
		}
		o->fdnames = names;
		o->fdnames[o->nfdnames++] = name;
	}
	return 0;
}

/*
 * No fd can be placed at or above the soft limit of open files (dup2 says
 * EBADF); capped so that N plus a whole group's fds never overflows an int.
 */
int
launch_fd_limit(void)
{
	size_t limit = cmd_nofile_given();

	return limit > (size_t)(INT_MAX - FDP_MAX_FDS) ?
	    INT_MAX - FDP_MAX_FDS : (int)limit;
}

/* --fd N=NAME: a number below the fd limit, then a group name. */
static int
add_place(struct launch_opts *o, char *arg)
{
	char *eq = strchr(arg, '=');
	int limit = launch_fd_limit();

	if (eq == NULL || eq == arg) {
		cmd_warn(o->cmd, "--fd '%s': expected N=NAME", arg);
		return -1;
	}
	*eq = '\0';
	o->place_at[o->nplace] = cmd_parse_int(arg);
	*eq = '=';
	if (o->place_at[o->nplace] < 0) {
		cmd_warn(o->cmd, "--fd '%s': N must be a file descriptor number",
		    arg);
		return -1;
	}
	if (o->place_at[o->nplace] >= limit) {
		cmd_warn(o->cmd, "--fd '%s': N must be below the limit of open "
		    "files (%d)", arg, limit);
		return -1;
	}
	if (!cmd_name_ok(o->cmd, eq + 1))
		return -1;
	o->place[o->nplace++] = eq + 1;
	return 0;
}

/* -E NAME[=VALUE]: NAME is not empty and holds no '='. */
static int
add_setenv(struct launch_opts *o, char *arg)
{
	size_t len = strcspn(arg, "=");

	if (len == 0 || len > 255) {
		cmd_warn(o->cmd, "-E '%s': expected NAME or NAME=VALUE", arg);
		return -1;
	}
	o->setenv[o->nsetenv++] = arg;
	return 0;
}

int
launch_option(struct launch_opts *o, int ch, char *arg)
{
	int rc;

	if ((rc = cmd_get_option(o->cmd, ch, arg, &o->get)) != 0)
		return rc;
	switch (ch) {
	case 's':
		o->socket_opt = arg;
		return 1;
	case 'l':
		o->listen[o->nlisten++] = arg;
		return 1;
	case 'd':
	case LAUNCH_OPT_SEQPACKET:
		if (o->listen_type != FDP_LISTEN_STREAM) {
			cmd_warn(o->cmd, "--datagram and --seqpacket exclude "
			    "each other");
			return -1;
		}
		o->listen_type = ch == 'd' ? FDP_LISTEN_DGRAM :
		    FDP_LISTEN_SEQPACKET;
		return 1;
	case LAUNCH_OPT_FDNAME:
		return add_fdnames(o, arg) == -1 ? -1 : 1;
	case 'E':
		return add_setenv(o, arg) == -1 ? -1 : 1;
	case LAUNCH_OPT_FD:
		return add_place(o, arg) == -1 ? -1 : 1;
	case LAUNCH_OPT_BLOCKING:
	case LAUNCH_OPT_NONBLOCKING:
		if (o->mode != LAUNCH_KEEP_MODE) {
			cmd_warn(o->cmd, "--blocking and --nonblocking exclude "
			    "each other");
			return -1;
		}
		o->mode = ch == LAUNCH_OPT_BLOCKING ? LAUNCH_BLOCKING :
		    LAUNCH_NONBLOCKING;
		return 1;
	default:
		return 0;
	}
}

/* Usage errors about where NAME... and PROG are; -1 after saying why. */
static int
find_prog(struct launch_opts *o, int argc, char **argv)
{
	int i, dashes;

	if (optind > 0 && strcmp(argv[optind - 1], "--") == 0)
		dashes = --optind;	/* getopt took the "--": no NAME came before it */
	else
		for (dashes = optind; dashes < argc; dashes++)
			if (strcmp(argv[dashes], "--") == 0)
				break;
	if (dashes >= argc - 1) {
		cmd_warn(o->cmd, "no PROG given after --");
		return -1;
	}
	if (o->get.peer && dashes != optind) {
		cmd_warn(o->cmd, "--peer takes no group NAME: the sender names "
		    "the group");
		return -1;
	}
	for (i = optind; i < dashes; i++)
		if (!cmd_name_ok(o->cmd, argv[i]))
			return -1;
	o->groups = argv + optind;
	o->ngroups = (size_t)(dashes - optind);
	o->prog = argv + dashes + 1;
	return 0;
}

/* Options that make no sense together, caught before anything opens. */
static int
check_options(const struct launch_opts *o)
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
		cmd_warn(o->cmd, "%s", why);
	return why == NULL ? 0 : -1;
}

int
launch_opts_finish(struct launch_opts *o, int argc, char **argv)
{
	if (find_prog(o, argc, argv) == -1)
		return -1;
	return check_options(o);
}
