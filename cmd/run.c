/*
 * run.c: `fdpass run`, gather fds as exec does, then keep the program
 * running as its parent; its options and usage.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "run.h"

/* The longest time an option takes, in seconds: a year. */
#define RUN_SECONDS_MAX	31536000

enum {
	OPT_READY = 0x300,
	OPT_READY_TIMEOUT,
	OPT_STOP_SIGNAL,
	OPT_STOP_TIMEOUT,
	OPT_RESTART,
	OPT_REFRESH,
	OPT_PID_FILE
};

static const struct option run_options[] = {
	LAUNCH_OPTIONS,
	{ "ready",		required_argument,	NULL,	OPT_READY },
	{ "ready-timeout",	required_argument,	NULL,	OPT_READY_TIMEOUT },
	{ "stop-signal",	required_argument,	NULL,	OPT_STOP_SIGNAL },
	{ "stop-timeout",	required_argument,	NULL,	OPT_STOP_TIMEOUT },
	{ "restart",		required_argument,	NULL,	OPT_RESTART },
	{ "refresh",		no_argument,		NULL,	OPT_REFRESH },
	{ "pid-file",		required_argument,	NULL,	OPT_PID_FILE },
	CMD_COMMON_OPTIONS
};

/* SECONDS, a decimal number above 0 and at most a year, into *ms. */
static int
parse_seconds(const char *option, const char *arg, long long *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (*arg < '0' || *arg > '9' || *end != '\0' || errno != 0 ||
	    !(v > 0) || v > RUN_SECONDS_MAX) {
		cmd_warn("run", "%s %s: SECONDS must be a number above 0 and at "
		    "most %d", option, arg, RUN_SECONDS_MAX);
		return -1;
	}
	*ms = (long long)(v * 1000 + 0.999);
	return 0;
}

/* --stop-signal: TERM, SIGTERM or 15. */
static int
parse_signal(const char *arg)
{
	const char *name = strncasecmp(arg, "SIG", 3) == 0 ? arg + 3 : arg;
	const char *abbrev;
	int sig;

	if ((sig = cmd_parse_int(arg)) > 0 && sig < NSIG)
		return sig;
	for (sig = 1; sig < NSIG; sig++)
		if ((abbrev = sigabbrev_np(sig)) != NULL &&
		    strcasecmp(abbrev, name) == 0)
			return sig;
	cmd_warn("run", "--stop-signal %s: not a signal", arg);
	return -1;
}

/* --ready=notify|exec|SECONDS. */
static int
parse_ready(struct run_opts *o, const char *arg)
{
	if (strcmp(arg, "notify") == 0)
		o->ready = RUN_READY_NOTIFY;
	else if (strcmp(arg, "exec") == 0)
		o->ready = RUN_READY_EXEC;
	else if (parse_seconds("--ready", arg, &o->ready_delay) == 0)
		o->ready = RUN_READY_DELAY;
	else
		return -1;
	return 0;
}

/* --restart=always|on-failure|no. */
static int
parse_restart(struct run_opts *o, const char *arg)
{
	if (strcmp(arg, "always") == 0)
		o->restart = RUN_RESTART_ALWAYS;
	else if (strcmp(arg, "on-failure") == 0)
		o->restart = RUN_RESTART_ON_FAILURE;
	else if (strcmp(arg, "no") == 0)
		o->restart = RUN_RESTART_NO;
	else {
		cmd_warn("run", "--restart=%s: expected always, on-failure or "
		    "no", arg);
		return -1;
	}
	return 0;
}

/* One of run's own options; -1 when its argument is bad. */
static int
run_option(struct run_opts *o, int ch, char *arg)
{
	switch (ch) {
	case OPT_READY:
		return parse_ready(o, arg);
	case OPT_READY_TIMEOUT:
		return parse_seconds("--ready-timeout", arg, &o->ready_timeout);
	case OPT_STOP_SIGNAL:
		return (o->stop_signal = parse_signal(arg)) == -1 ? -1 : 0;
	case OPT_STOP_TIMEOUT:
		return parse_seconds("--stop-timeout", arg, &o->stop_timeout);
	case OPT_RESTART:
		return parse_restart(o, arg);
	case OPT_REFRESH:
		o->refresh = 1;
		return 0;
	case OPT_PID_FILE:
		o->pid_file = arg;
		return 0;
	case 'v':
		cmd_verbose = 1;
		return 0;
	case CMD_OPT_TRUST_UID:
		return cmd_trust_uid("run", arg);
	default:
		return -1;
	}
}

/* Fill o from the options; returns -1 (usage error), 1 (--help) or 0. */
static int
parse_options(int argc, char **argv, struct run_opts *o)
{
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+" LAUNCH_SHORT_OPTIONS "vh",
	    run_options, NULL)) != -1) {
		if ((rc = launch_option(&o->launch, ch, optarg)) != 0) {
			if (rc == -1)
				return -1;
			continue;
		}
		if (ch == 'h')
			return 1;
		if (run_option(o, ch, optarg) == -1)
			return -1;
	}
	if (launch_opts_finish(&o->launch, argc, argv) == -1)
		return -1;
	if (o->refresh && (o->launch.get.take || o->launch.get.peer)) {
		cmd_warn("run", "--refresh gathers the groups again from the "
		    "broker: not with --take or --peer");
		return -1;
	}
	return 0;
}

/* --pid-file: run's pid, for scripts that send it SIGHUP. */
static int
write_pid_file(const char *path)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1 || dprintf(fd, "%ld\n", (long)getpid()) < 0) {
		cmd_warn("run", "--pid-file %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
run_run(int argc, char **argv)
{
	struct run_opts o;
	struct launch_set s;
	int status;

	memset(&o, 0, sizeof(o));
	if (launch_opts_init(&o.launch, "run", argc) == -1)
		return EXIT_SYSTEM;
	o.ready_timeout = 60000;
	o.stop_timeout = 30000;
	o.stop_signal = SIGTERM;
	o.ready = RUN_READY_EXEC;
	if ((status = parse_options(argc, argv, &o)) != 0) {
		launch_opts_free(&o.launch);
		return status == 1 ? cmd_usage(&cmd_run, stdout, 0) :
		    cmd_usage(&cmd_run, stderr, EXIT_USAGE);
	}
	if ((status = launch_gather(&o.launch, &s)) == 0) {
		if (o.pid_file != NULL && write_pid_file(o.pid_file) == -1)
			status = EXIT_SYSTEM;
		else
			status = supervise(&o, &s);
		if (o.pid_file != NULL)
			unlink(o.pid_file);
		launch_restore(&o.launch, &s);
	}
	launch_set_free(&s);
	launch_opts_free(&o.launch);
	return status;
}

const struct cmd_entry cmd_run = {
	"run",
	"run [OPTION...] [NAME...] -- PROG [ARG...]\n"
	"  OPTION, before the first NAME: those of exec but -a, --inetd and\n"
	"  --on-connect, and [--ready=notify|SECONDS|exec] [--ready-timeout SECONDS]\n"
	"  [--stop-signal SIG] [--stop-timeout SECONDS]\n"
	"  [--restart=always|on-failure|no] [--refresh] [--pid-file PATH]\n"
	"Gather fds as exec does and keep PROG running as its parent: SIGHUP\n"
	"starts a new instance beside the old, which is stopped once the new one\n"
	"is ready; an instance that dies is restarted.\n"
	"  -s, --socket ADDR    broker address (path or @abstract)\n"
	"      --take           take the groups; they go back when run ends\n"
	"      --wait[=SECONDS] wait for each NAME to be stored (at most SECONDS)\n"
	"  -v, --verbose        log more: protocol steps, STATUS= lines\n"
	"  -l, --listen ADDR    open a socket, as exec -l (-d, --seqpacket)\n"
	"      --fdname NAMES   names of the -l sockets\n"
	"  -E, --setenv NAME[=VALUE]  set NAME for PROG (alone: pass ours on)\n"
	"      --fd N=NAME      put group NAME's fds at N onward, outside LISTEN_FDS\n"
	"      --blocking, --nonblocking  the sockets' mode, as for exec\n"
	"      --ready=notify   ready on READY=1 at the instance's NOTIFY_SOCKET\n"
	"      --ready=SECONDS  ready that long after it starts\n"
	"      --ready=exec     ready once it runs (the default)\n"
	"      --ready-timeout SECONDS  give up on a new instance (default 60)\n"
	"      --stop-signal SIG  what asks an instance to stop (default TERM)\n"
	"      --stop-timeout SECONDS  then SIGKILL (default 30)\n"
	"      --restart=WHEN   restart an instance that ends: always,\n"
	"                       on-failure (the default) or no\n"
	"      --refresh        retrieve the groups anew for each new instance\n"
	"      --pid-file PATH  write run's pid there\n"
	CMD_TRUST_UID_USAGE,
	run_run,
};
