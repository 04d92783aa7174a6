/*
 * serve.c: `fdpass serve`, the command: its options, and starting the
 * broker (cmd/broker/) at its address, on a socket handed over, or in a
 * running broker's place.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "broker/broker.h"
#include "broker/fdstore.h"

/* getopt values of serve's long-only options that have no letter. */
#define SERVE_OPT_FDSTORE	0x200
#define SERVE_OPT_TAKEOVER	0x201

static const struct option serve_options[] = {
	{ "socket",		required_argument,	NULL,	's' },
	{ "ready-fd",		required_argument,	NULL,	'r' },
	{ "fdstore",		no_argument,		NULL,	SERVE_OPT_FDSTORE },
	{ "takeover",		no_argument,		NULL,	SERVE_OPT_TAKEOVER },
	{ "allow",		required_argument,	NULL,	'a' },
	{ "rules",		required_argument,	NULL,	'R' },
	{ "mode",		required_argument,	NULL,	'm' },
	{ "max-fds",		required_argument,	NULL,	'F' },
	{ "max-clients",	required_argument,	NULL,	'C' },
	{ "reserved-clients",	required_argument,	NULL,	'O' },
	{ "max-waiters",	required_argument,	NULL,	'W' },
	{ "max-monitors",	required_argument,	NULL,	'M' },
	{ "max-inflight",	required_argument,	NULL,	'I' },
	{ "client-timeout",	required_argument,	NULL,	'T' },
	{ "verbose",		no_argument,		NULL,	'v' },
	{ "help",		no_argument,		NULL,	'h' },
	{ NULL,			0,			NULL,	0 }
};

/* --mode: an octal mode of at most 0777 for the socket file. */
static int
serve_parse_mode(const char *text, mode_t *mode)
{
	char *end;
	unsigned long v;

	v = strtoul(text, &end, 8);
	if (*text < '0' || *text > '7' || *end != '\0' || v > 0777 ||
	    (v & 0600) != 0600) {
		cmd_warn("serve", "--mode %s: not an octal mode from 0600 to "
		    "0777 that lets the owner read and write", text);
		return -1;
	}
	*mode = (mode_t)v;
	return 0;
}

/* A positive count for --max-fds, --max-clients; -1 says why it is not one. */
static int
serve_parse_count(const char *opt, const char *text, size_t *count)
{
	int v = cmd_parse_int(text);

	if (v <= 0) {
		cmd_warn("serve", "--%s %s: not a positive number", opt, text);
		return -1;
	}
	*count = (size_t)v;
	return 0;
}

/* The options that keep a broker safe on a shared machine; -1 on bad ones. */
static int
serve_hardening_option(struct broker *b, int ch, const char *arg)
{
	char err[1024];
	int v;

	switch (ch) {
	case 'a':
		if (access_rules_add(&b->policy.allow, arg, err,
		    sizeof(err)) == 0)
			return 0;
		cmd_warn("serve", "--allow %s: %s", arg, err);
		return -1;
	case 'R':
		b->policy.path = arg;
		if (access_policy_load(&b->policy, err, sizeof(err)) == 0)
			return 0;
		cmd_warn("serve", "--rules: %s", err);
		return -1;
	case 'm':
		return serve_parse_mode(arg, &b->mode);
	case 'F':
		b->limits.max_fds_given = 1;
		return serve_parse_count("max-fds", arg, &b->limits.max_fds);
	case 'C':
		b->limits.max_clients_given = 1;
		return serve_parse_count("max-clients", arg,
		    &b->limits.max_clients);
	case 'O':
		if ((v = cmd_parse_int(arg)) < 0) {
			cmd_warn("serve", "--reserved-clients %s: not a number",
			    arg);
			return -1;
		}
		b->limits.reserved_clients = (size_t)v;
		return 0;
	case 'W':
		return serve_parse_count("max-waiters", arg,
		    &b->limits.max_waiters);
	case 'M':
		return serve_parse_count("max-monitors", arg,
		    &b->limits.max_monitors);
	case 'I':
		if (serve_parse_count("max-inflight", arg,
		    &b->limits.max_inflight) == -1)
			return -1;
		if (b->limits.max_inflight >= FDP_MAX_FDS)
			return 0;
		cmd_warn("serve", "--max-inflight %s: at least %d, a whole "
		    "group", arg, FDP_MAX_FDS);
		return -1;
	default:
		if ((v = cmd_parse_int(arg)) < 0) {
			cmd_warn("serve", "--client-timeout %s: not a number "
			    "of seconds", arg);
			return -1;
		}
		b->limits.client_timeout = (unsigned)v;
		return 0;
	}
}

/*
 * serve --takeover: connect to the broker running at the address, check it
 * is of our user or root (root may take over anyone's; a root broker
 * decides for itself), and have the broker take its place.
 */
static int
serve_take_over(struct broker *b, const char *socket_opt, int ready_fd)
{
	char addrbuf[PATH_MAX];
	const char *address;
	struct fdp_cred cred;
	int rc, status, sock;

	address = fdp_broker_address(socket_opt, addrbuf, sizeof(addrbuf));
	if (address == NULL || (rc = fdp_addr_parse(address, &b->addr)) != 0) {
		cmd_warn("serve", "%s: %s", address ? address : socket_opt,
		    fdp_strerror(address ? rc : FDP_EADDRLEN));
		return EXIT_USAGE;
	}
	if ((sock = cmd_connect_unchecked("serve", address, &status)) == -1)
		return status;
	if (fdp_peer_cred(sock, &cred) != 0 ||
	    (cred.uid != geteuid() && cred.uid != 0 && geteuid() != 0)) {
		cmd_warn("serve", "--takeover: the broker at %s runs as "
		    "another user; only that user or root may take it over",
		    address);
		close(sock);
		return EXIT_REFUSED;
	}
	return broker_take_over(b, sock, ready_fd);
}

static int
serve_run(int argc, char **argv)
{
	struct broker b;
	const char *socket_opt = NULL;
	int ch, ready_fd = -1, fdstore = 0, takeover = 0, status = EXIT_USAGE;

	broker_init(&b);
	while ((ch = getopt_long(argc, argv, "+s:vh", serve_options, NULL)) != -1) {
		switch (ch) {
		case 's':
			socket_opt = optarg;
			break;
		case 'v':
			cmd_verbose = 1;
			break;
		case SERVE_OPT_FDSTORE:
			fdstore = 1;
			break;
		case SERVE_OPT_TAKEOVER:
			takeover = 1;
			break;
		case 'r':
			ready_fd = cmd_parse_int(optarg);
			if (!fdp_fd_is_open(ready_fd)) {
				cmd_warn("serve", "--ready-fd %s: not an open "
				    "file descriptor", optarg);
				goto out;
			}
			break;
		case 'a':
		case 'R':
		case 'm':
		case 'F':
		case 'C':
		case 'O':
		case 'W':
		case 'M':
		case 'I':
		case 'T':
			if (serve_hardening_option(&b, ch, optarg) == -1)
				goto out;
			break;
		case 'h':
			status = cmd_usage(&cmd_serve, stdout, 0);
			goto out;
		default:
			cmd_usage(&cmd_serve, stderr, EXIT_USAGE);
			goto out;
		}
	}
	if (optind != argc) {
		cmd_usage(&cmd_serve, stderr, EXIT_USAGE);
		goto out;
	}
	if (fdstore && takeover) {
		cmd_warn("serve",
		    "--fdstore and --takeover do not go together");
		goto out;
	}
	if (takeover)
		status = serve_take_over(&b, socket_opt, ready_fd);
	else if ((status = serve_inherited(&b, fdstore)) == -1)
		status = EXIT_SYSTEM;
	else if (status == 1 && socket_opt != NULL) {
		cmd_warn("serve", "-s %s: the broker was handed its socket "
		    "through LISTEN_FDS; drop -s", socket_opt);
		close(b.listen_fd);
		serve_inherited_close(&b);
		status = EXIT_USAGE;
	} else {
		b.fdstore = fdstore;
		if (fdstore)
			b.notify_fd = fdstore_open("serve", &status);
		else
			b.notify_fd = cmd_notify_open("serve");
		if (fdstore && b.notify_fd == -1) {
			if (b.activated)
				close(b.listen_fd);
		} else
			status = broker_serve_at(&b, "serve", socket_opt,
			    ready_fd);
		serve_inherited_close(&b);
		if (b.notify_fd >= 0)
			close(b.notify_fd);
	}
out:
	access_policy_free(&b.policy);
	return status;
}

const struct cmd_entry cmd_serve = {
	"serve",
	"serve [-v] [-s ADDR] [--ready-fd N] [--fdstore | --takeover]\n"
	"      [--allow SPEC]... [--rules FILE] [--mode MODE]\n"
	"      [--max-fds N] [--max-clients N] [--reserved-clients N]\n"
	"      [--max-waiters N] [--max-monitors N] [--max-inflight N]\n"
	"      [--client-timeout SECONDS]\n"
	"Run the broker: hold named groups of fds until SIGTERM or SIGINT.\n"
	"  -s, --socket ADDR         address to listen on (path or @abstract); not\n"
	"                            with a socket handed over through LISTEN_FDS\n"
	"      --ready-fd N          write a newline to fd N once accepting\n"
	"      --fdstore             mirror the groups in the service manager's\n"
	"                            fd store ($NOTIFY_SOCKET) and adopt those it\n"
	"                            hands back through LISTEN_FDS on start\n"
	"      --takeover            take the place of the broker running at\n"
	"                            ADDR: its socket, groups and clients; it\n"
	"                            exits 0\n"
	"      --allow SPEC          let another uid or gid in: uid=N, user=NAME,\n"
	"                            gid=N or group=NAME, then optionally\n"
	"                            ops=store+retrieve+list+delete (default),\n"
	"                            +status+monitor, names=GLOB\n"
	"      --rules FILE          more SPECs, one a line; reread on SIGHUP\n"
	"      --mode MODE           the path socket's mode (default 0600)\n"
	"      --max-fds N           fds the broker may hold in groups (default:\n"
	"                            what the fd limit leaves, halved)\n"
	"      --max-clients N       clients connected at once (default 1024)\n"
	"      --reserved-clients N  more that only the broker's uid and root may\n"
	"                            use (default 16)\n"
	"      --max-waiters N       clients of other uids waiting at once\n"
	"                            (default: half of --max-clients)\n"
	"      --max-monitors N      monitors of other uids at once (default 16)\n"
	"      --max-inflight N      fds sent to clients and not yet read by\n"
	"                            them (default: half the fd limit, at most\n"
	"                            16384)\n"
	"      --client-timeout SEC  drop a client idle this long (default 60,\n"
	"                            0 never; a client waiting with --wait is\n"
	"                            not idle)\n"
	"  -v, --verbose             log each request and reply to stderr\n"
	"With LISTEN_FDS (systemd socket activation) it serves on the listening\n"
	"SOCK_SEQPACKET socket handed over; with NOTIFY_SOCKET it sends READY=1,\n"
	"STATUS= and STOPPING=1 to the service manager.\n",
	serve_run,
};
