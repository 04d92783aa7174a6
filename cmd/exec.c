/*
 * exec.c: `fdpass exec`, gather fds and exec a program with them at 3
 * onward under systemd's LISTEN_FDS protocol (sd_listen_fds(3)); or, like
 * systemd-socket-activate --accept, start the program for each connection.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>

#include "launch.h"

enum {
	OPT_INETD = 0x300,
	OPT_ON_CONNECT
};

static const struct option exec_options[] = {
	LAUNCH_OPTIONS,
	{ "accept",	no_argument,		NULL,	'a' },
	{ "inetd",	no_argument,		NULL,	OPT_INETD },
	{ "on-connect",	no_argument,		NULL,	OPT_ON_CONNECT },
	CMD_COMMON_OPTIONS
};

/* Fill o from the options; returns -1 (usage error), 1 (--help) or 0. */
static int
parse_options(int argc, char **argv, struct launch_opts *o)
{
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+" LAUNCH_SHORT_OPTIONS "avh",
	    exec_options, NULL)) != -1) {
		if ((rc = launch_option(o, ch, optarg)) != 0) {
			if (rc == -1)
				return -1;
			continue;
		}
		switch (ch) {
		case 'v':
			cmd_verbose = 1;
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
	return launch_opts_finish(o, argc, argv);
}

static int
exec_run(int argc, char **argv)
{
	struct launch_opts o;
	struct launch_set s;
	int status;

	if (launch_opts_init(&o, "exec", argc) == -1)
		return EXIT_SYSTEM;
	if ((status = parse_options(argc, argv, &o)) != 0) {
		launch_opts_free(&o);
		return status == 1 ? cmd_usage(&cmd_exec, stdout, 0) :
		    cmd_usage(&cmd_exec, stderr, EXIT_USAGE);
	}
	status = launch_gather(&o, &s);
	if (status == 0 && o.accept) {
		status = launch_accept_loop(&o, &s);
		launch_restore(&o, &s);
	} else if (status == 0) {
		if (o.on_connect)
			status = launch_wait_connection(&o, &s);
		if (status == 0)
			status = launch_exec(&o, &s.x, &s.p, s.p_targets, o.prog,
			    -1);
		if (status != 0)
			launch_restore(&o, &s);
	}
	launch_set_free(&s);
	launch_opts_free(&o);
	return status;
}

const struct cmd_entry cmd_exec = {
	"exec",
	"exec [OPTION...] [NAME...] -- PROG [ARG...]\n"
	"       fdpass exec [-v] --peer [-s ADDR] -- PROG [ARG...]\n"
	"  OPTION, before the first NAME: [-v] [-s ADDR] [--take] [--wait[=SECONDS]]\n"
	"  [-l ADDR]... [-d | --seqpacket] [-a] [--inetd] [--on-connect]\n"
	"  [--fdname NAME[:NAME...]] [-E NAME[=VALUE]]... [--fd N=NAME]...\n"
	"  [--blocking | --nonblocking]\n"
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
	"      --blocking, --nonblocking  give every socket passed that mode,\n"
	"                       unless another program holds it (refused)\n"
	CMD_TRUST_UID_USAGE,
	exec_run,
};
