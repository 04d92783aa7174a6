/*
 * transfer.c: `fdpass transfer FROM TO`, copy (or with --move, move) every
 * group one broker holds to another, with the time left of its TTL, using
 * only the ordinary requests: LIST and RETRIEVE at FROM, STORE at TO, and
 * DELETE at FROM once TO holds the group.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>

#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

/* One transfer: its connections, options and how it went so far. */
struct transfer {
	const char	*from_addr;
	const char	*to_addr;
	int		 list_sock;	/* FROM: the LIST conversation */
	int		 from_sock;	/* FROM: RETRIEVE and DELETE */
	int		 to_sock;	/* TO: STORE */
	int		 move;
	int		 replace;
	int		 worst;		/* the worst exit status yet */
};

/* Replies are large; one for the LIST records, one for each group's steps. */
static struct fdp_reply list_reply, group_reply;

/* Remember the worst outcome; a system failure ends the transfer. */
static void
transfer_note(struct transfer *t, int status)
{
	if (status > t->worst)
		t->worst = status;
}

/*
 * STORE the fds at TO under name, with the TTL's time left; the fds stay
 * the caller's. Returns the exit status, having said why on failure.
 */
static int
transfer_store(struct transfer *t, const char *name, uint32_t expires_in,
    const int *fds, size_t nfds)
{
	uint32_t flags = 0;
	int rc;

	if (expires_in > 0)
		flags |= FDP_F_TTL;
	if (t->replace)
		flags |= FDP_F_REPLACE;
	rc = cmd_call("transfer", t->to_sock, FDP_OP_STORE, flags, expires_in,
	    name, fds, nfds, &group_reply);
	if (rc == 0 && group_reply.h.status != FDP_S_OK) {
		cmd_warn("transfer", "%s: %s refused it: %s; %s keeps it", name,
		    t->to_addr, fdp_status_text(group_reply.h.status),
		    t->from_addr);
		return EXIT_REFUSED;
	}
	return cmd_call_status("transfer", name, rc, &group_reply);
}

/*
 * Copy one group listed at FROM to TO, then with --move delete it at FROM.
 * A group gone from FROM since the LIST is skipped.
 */
static void
transfer_group(struct transfer *t, const char *name, uint32_t expires_in)
{
	int fds[FDP_MAX_FDS], rc, status;
	size_t nfds;

	rc = cmd_call("transfer", t->from_sock, FDP_OP_RETRIEVE, 0, 0, name,
	    NULL, 0, &group_reply);
	if (rc == 0 && group_reply.h.status == FDP_S_NOENT) {
		cmd_log("transfer", "%s: gone from %s since the listing", name,
		    t->from_addr);
		return;
	}
	if ((status = cmd_call_status("transfer", name, rc,
	    &group_reply)) != 0) {
		transfer_note(t, status);
		return;
	}
	nfds = group_reply.nfds;
	memcpy(fds, group_reply.fds, nfds * sizeof(fds[0]));
	group_reply.nfds = 0;
	status = transfer_store(t, name, expires_in, fds, nfds);
	fdp_close_fds(fds, nfds);
	if (status == 0 && t->move) {
		rc = cmd_call("transfer", t->from_sock, FDP_OP_DELETE, 0, 0,
		    name, NULL, 0, &group_reply);
		if (rc != 0 || group_reply.h.status != FDP_S_NOENT)
			status = cmd_call_status("transfer", name, rc,
			    &group_reply);
	}
	transfer_note(t, status);
}

/* Transfer one group LIST named (cmd_list_each's fn); 1 stops the run. */
static int
transfer_entry(const struct fdp_wire_entry *e, const char *name, void *arg)
{
	struct transfer *t = arg;

	transfer_group(t, name, e->expires_in);
	return t->worst < EXIT_SYSTEM ? 0 : 1;
}

/* LIST at FROM and transfer each group as its entry arrives. */
static void
transfer_all(struct transfer *t)
{
	int rc;

	rc = cmd_list_each("transfer", t->list_sock, &list_reply,
	    transfer_entry, t);
	if (t->worst < EXIT_SYSTEM)
		transfer_note(t, cmd_call_status("transfer", t->from_addr, rc,
		    &list_reply));
}

/*
 * Whether FROM and TO lead to one listening socket, so one broker, which a
 * transfer would make replace each group by itself or, with --move, empty:
 * the same abstract name, or paths to one socket file however they reach
 * it (a symbolic link, another path). Not the brokers' pids: a service
 * manager that made both sockets would stand for both.
 */
static int
same_broker(const char *from, const char *to)
{
	struct fdp_addr a, b;
	struct stat sa, sb;

	if (fdp_addr_parse(from, &a) != 0 || fdp_addr_parse(to, &b) != 0)
		return 0;
	if (fdp_addr_is_abstract(&a) || fdp_addr_is_abstract(&b))
		return a.len == b.len && memcmp(&a.sun, &b.sun, a.len) == 0;
	return stat(a.sun.sun_path, &sa) == 0 && stat(b.sun.sun_path,
	    &sb) == 0 && S_ISSOCK(sa.st_mode) && sa.st_dev == sb.st_dev &&
	    sa.st_ino == sb.st_ino;
}

static const struct option transfer_options[] = {
	{ "move",	no_argument,		NULL,	'm' },
	{ "replace",	no_argument,		NULL,	'r' },
	CMD_COMMON_OPTIONS
};

static int
transfer_run(int argc, char **argv)
{
	struct transfer t;
	int ch, status;

	memset(&t, 0, sizeof(t));
	while ((ch = getopt_long(argc, argv, "mrvh", transfer_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'm':
			t.move = 1;
			break;
		case 'r':
			t.replace = 1;
			break;
		default:
			if ((status = cmd_common_option(&cmd_transfer, ch, optarg,
			    NULL)) != -1)
				return status;
		}
	}
	if (argc - optind != 2)
		return cmd_usage(&cmd_transfer, stderr, EXIT_USAGE);
	t.from_addr = argv[optind];
	t.to_addr = argv[optind + 1];
	if (same_broker(t.from_addr, t.to_addr)) {
		cmd_warn("transfer", "%s and %s lead to the same broker; "
		    "nothing to transfer", t.from_addr, t.to_addr);
		return EXIT_USAGE;
	}
	if ((t.list_sock = cmd_connect("transfer", t.from_addr,
	    &status)) == -1)
		return status;
	if ((t.from_sock = cmd_connect("transfer", t.from_addr,
	    &status)) == -1) {
		close(t.list_sock);
		return status;
	}
	if ((t.to_sock = cmd_connect("transfer", t.to_addr, &status)) == -1) {
		close(t.from_sock);
		close(t.list_sock);
		return status;
	}
	transfer_all(&t);
	close(t.to_sock);
	close(t.from_sock);
	close(t.list_sock);
	return t.worst;
}

const struct cmd_entry cmd_transfer = {
	"transfer",
	"transfer [-v] [--move] [--replace] [--trust-uid N] FROM TO\n"
	"Copy every group the broker at FROM holds to the broker at TO, each\n"
	"with the time left of its TTL; FROM keeps any group TO refuses.\n"
	"FROM and TO may not lead to the same broker (socket).\n"
	"  -m, --move         delete each group at FROM once TO holds it\n"
	"  -r, --replace      replace groups TO already holds under the names\n"
	"  -v, --verbose      log each protocol step to stderr\n"
	CMD_TRUST_UID_USAGE,
	transfer_run,
};
