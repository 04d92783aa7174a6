/*
 * transfer.c: `fdpass transfer FROM TO`, copy (or with --move, move) every
 * group one broker holds to another, with the time left of its TTL: DUMP
 * (or LIST and RETRIEVE) at FROM, LOAD (or STORE) at TO, and DELETE at FROM
 * once TO holds the group.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

/*
 * The groups go over in batches of at most 253 groups and 253 fds. A
 * broker that knows DUMP hands a batch over in one record (asked for again
 * after the last name), one that knows LOAD takes it in a few; with an
 * older one, LIST names the groups and each of a batch's requests is sent
 * ahead of the answers (pipelined). Either way a batch costs a few round
 * trips, not three a group, and what FROM has in flight to us stays within
 * one client's share.
 */
#define TRANSFER_BATCH	FDP_MAX_FDS

/* One group of a batch: as listed, then as retrieved. */
struct transfer_item {
	char		 name[256];
	uint32_t	 expires_in;
	size_t		 nfds;		/* fds held in fds; 0 if none came */
	int		*fds;
	int		 stored;	/* TO holds it */
};

/* One transfer: its connections, options and how it went so far. */
struct transfer {
	const char	*from_addr;
	const char	*to_addr;
	int		 list_sock;	/* FROM: LIST, or DUMP */
	int		 from_sock;	/* FROM: RETRIEVE and DELETE */
	int		 to_sock;	/* TO: STORE or LOAD */
	int		 move;
	int		 replace;
	int		 no_load;	/* TO answered LOAD UNSUPPORTED */
	int		 worst;		/* the worst exit status yet */
	size_t		 nitems;
	size_t		 listed;	/* fds the batch's items list */
	struct transfer_item items[TRANSFER_BATCH];
};

/* Replies are large; one for the LIST or DUMP records, one for the rest. */
static struct fdp_reply list_reply, group_reply;

/* Remember the worst outcome; a system failure ends the transfer. */
static void
transfer_note(struct transfer *t, int status)
{
	if (status > t->worst)
		t->worst = status;
}

/* Send one request of a batch; a connection that fails ends the transfer. */
static int
transfer_send(struct transfer *t, int sock, uint16_t op, uint32_t flags,
    uint32_t arg, const char *name, const int *fds, size_t nfds)
{
	int rc = cmd_send_request("transfer", sock, op, flags, arg, name, fds,
	    nfds);

	if (rc != 0)
		transfer_note(t, cmd_call_status("transfer", name, rc,
		    &group_reply));
	return rc;
}

/* Read the answer to one request of a batch; -1 ends the transfer. */
static int
transfer_recv(struct transfer *t, int sock, uint16_t op, const char *name)
{
	int rc = cmd_reply_recv("transfer", sock, op, &group_reply);

	if (rc != 0) {
		transfer_note(t, cmd_call_status("transfer", name, rc,
		    &group_reply));
		return -1;
	}
	return 0;
}

/*
 * Add a group to the batch, taking its fds when they came already (their
 * slots in fds become -1); 0, or -1 when memory runs out (fds untouched).
 */
static int
transfer_add(struct transfer *t, const char *name, uint32_t expires_in,
    int *fds, size_t nfds)
{
	struct transfer_item *it = &t->items[t->nitems];

	memset(it, 0, sizeof(*it));
	if (nfds > 0 && (it->fds = malloc(nfds * sizeof(int))) == NULL) {
		cmd_warn("transfer", "%s: %s", name, strerror(ENOMEM));
		transfer_note(t, EXIT_SYSTEM);
		return -1;
	}
	snprintf(it->name, sizeof(it->name), "%s", name);
	it->expires_in = expires_in;
	if (nfds > 0) {
		memcpy(it->fds, fds, nfds * sizeof(int));
		memset(fds, -1, nfds * sizeof(int));
	}
	it->nfds = nfds;
	t->nitems++;
	return 0;
}

/*
 * RETRIEVE every group of a listed batch at FROM, pipelined; each item then
 * holds its fds, or none when the group went since the listing or FROM
 * refused it.
 */
static int
transfer_retrieve(struct transfer *t)
{
	struct transfer_item *it;
	size_t i;

	for (i = 0; i < t->nitems; i++)
		if (transfer_send(t, t->from_sock, FDP_OP_RETRIEVE, 0, 0,
		    t->items[i].name, NULL, 0) != 0)
			return -1;
	for (i = 0; i < t->nitems; i++) {
		it = &t->items[i];
		if (transfer_recv(t, t->from_sock, FDP_OP_RETRIEVE,
		    it->name) == -1)
			return -1;
		if (group_reply.h.status == FDP_S_NOENT)
			cmd_log("transfer", "%s: gone from %s since the "
			    "listing", it->name, t->from_addr);
		else if (group_reply.h.status != FDP_S_OK)
			transfer_note(t, cmd_call_status("transfer", it->name,
			    0, &group_reply));
		else if ((it->fds = malloc(group_reply.nfds *
		    sizeof(int))) != NULL) {
			memcpy(it->fds, group_reply.fds,
			    group_reply.nfds * sizeof(int));
			it->nfds = group_reply.nfds;
			group_reply.nfds = 0;
		} else {
			cmd_warn("transfer", "%s: %s", it->name,
			    strerror(ENOMEM));
			transfer_note(t, EXIT_SYSTEM);
		}
		fdp_close_fds(group_reply.fds, group_reply.nfds);
	}
	return 0;
}

/* What TO said of one group it was given: the group stays at FROM if refused. */
static void
transfer_stored(struct transfer *t, struct transfer_item *it, uint32_t status,
    const void *payload, size_t len)
{
	if ((it->stored = status == FDP_S_OK))
		return;
	cmd_warn("transfer", "%s: %s refused it: %s; %s keeps it", it->name,
	    t->to_addr, fdp_reply_status_text(status, payload, len),
	    t->from_addr);
	transfer_note(t, EXIT_REFUSED);
}

/* STORE at TO, pipelined, every group of the batch that came. */
static int
transfer_store(struct transfer *t)
{
	struct transfer_item *it;
	uint32_t flags;
	size_t i;

	for (i = 0; i < t->nitems; i++) {
		it = &t->items[i];
		flags = (it->expires_in > 0 ? FDP_F_TTL : 0) |
		    (t->replace ? FDP_F_REPLACE : 0);
		if (it->nfds > 0 && transfer_send(t, t->to_sock, FDP_OP_STORE,
		    flags, it->expires_in, it->name, it->fds, it->nfds) != 0)
			return -1;
	}
	for (i = 0; i < t->nitems; i++) {
		it = &t->items[i];
		if (it->nfds == 0)
			continue;
		if (transfer_recv(t, t->to_sock, FDP_OP_STORE, it->name) == -1)
			return -1;
		transfer_stored(t, it, group_reply.h.status,
		    group_reply.payload, group_reply.len);
	}
	return 0;
}

/*
 * LOAD at TO the groups from the first'th on, as many as one request holds
 * (FDP_PROTO_MAX_REQUEST bytes, 253 fds); returns how many went, 0 when TO
 * does not know LOAD (the groups then go by STORE), -1 to stop.
 */
static ssize_t
transfer_load_one(struct transfer *t, size_t first)
{
	unsigned char buf[FDP_PROTO_MAX_REQUEST - sizeof(struct fdp_wire_header)];
	int fds[FDP_MAX_FDS];
	struct fdp_wire_entry e;
	struct transfer_item *it;
	size_t i, len = 0, nfds = 0, n = 0;
	uint32_t st;
	int rc;

	for (i = first; i < t->nitems; i++) {
		it = &t->items[i];
		e.name_len = (uint16_t)strlen(it->name);
		if (len + sizeof(e) + e.name_len > sizeof(buf) ||
		    nfds + it->nfds > FDP_MAX_FDS)
			break;
		e.nfds = (uint16_t)it->nfds;
		e.expires_in = it->expires_in;
		memcpy(buf + len, &e, sizeof(e));
		memcpy(buf + len + sizeof(e), it->name, e.name_len);
		len += sizeof(e) + e.name_len;
		memcpy(fds + nfds, it->fds, it->nfds * sizeof(int));
		nfds += it->nfds;
	}
	if ((rc = fdp_send_payload(t->to_sock, FDP_OP_LOAD, t->replace ?
	    FDP_F_REPLACE : 0, buf, len, fds, nfds)) != 0 ||
	    (rc = cmd_reply_recv("transfer", t->to_sock, FDP_OP_LOAD,
	    &group_reply)) != 0) {
		transfer_note(t, cmd_call_status("transfer", t->to_addr, rc,
		    &group_reply));
		return -1;
	}
	if (group_reply.h.status == FDP_S_UNSUPPORTED)
		return 0;
	if (group_reply.h.status != FDP_S_OK ||
	    group_reply.len != (i - first) * sizeof(st)) {
		transfer_note(t, cmd_call_status("transfer", t->to_addr,
		    group_reply.h.status != FDP_S_OK ? 0 : FDP_EPROTO,
		    &group_reply));
		return -1;
	}
	for (n = 0; first + n < i; n++) {
		memcpy(&st, group_reply.payload + n * sizeof(st), sizeof(st));
		transfer_stored(t, &t->items[first + n], st, NULL, 0);
	}
	return (ssize_t)n;
}

/* Hand the groups of the batch that came to TO: LOAD, or STORE each. */
static int
transfer_put(struct transfer *t)
{
	size_t i, n;
	ssize_t sent;

	for (i = n = 0; i < t->nitems; i++)	/* the groups that came first */
		if (t->items[i].nfds > 0)
			t->items[n++] = t->items[i];
	t->nitems = n;
	for (i = 0; i < t->nitems && !t->no_load; i += (size_t)sent) {
		if ((sent = transfer_load_one(t, i)) == -1)
			return -1;
		if (sent == 0)
			t->no_load = 1;
	}
	return t->no_load ? transfer_store(t) : 0;
}

/* --move: DELETE at FROM, pipelined, each group TO now holds. */
static int
transfer_delete(struct transfer *t)
{
	size_t i;

	for (i = 0; i < t->nitems; i++)
		if (t->items[i].stored && transfer_send(t, t->from_sock,
		    FDP_OP_DELETE, 0, 0, t->items[i].name, NULL, 0) != 0)
			return -1;
	for (i = 0; i < t->nitems; i++) {
		if (!t->items[i].stored)
			continue;
		if (transfer_recv(t, t->from_sock, FDP_OP_DELETE,
		    t->items[i].name) == -1)
			return -1;
		if (group_reply.h.status != FDP_S_NOENT)
			transfer_note(t, cmd_call_status("transfer",
			    t->items[i].name, 0, &group_reply));
	}
	return 0;
}

/* Hand a batch over whose groups came already (DUMP), then empty it. */
static void
transfer_batch(struct transfer *t)
{
	size_t i;

	if (transfer_put(t) == 0 && t->move)
		transfer_delete(t);
	for (i = 0; i < t->nitems; i++) {
		fdp_close_fds(t->items[i].fds, t->items[i].nfds);
		free(t->items[i].fds);
	}
	memset(t->items, 0, t->nitems * sizeof(t->items[0]));
	t->nitems = t->listed = 0;
}

/* Retrieve a listed batch's groups, then hand it over. */
static void
transfer_listed_batch(struct transfer *t)
{
	if (transfer_retrieve(t) == -1)
		t->nitems = 0;
	transfer_batch(t);
}

/*
 * Add one group LIST named to the batch, handing the batch over first when
 * it is full (cmd_list_each's fn); 1 stops the run.
 */
static int
transfer_entry(const struct fdp_wire_entry *e, const char *name, void *arg)
{
	struct transfer *t = arg;

	if (t->nitems == TRANSFER_BATCH || t->listed + e->nfds > FDP_MAX_FDS)
		transfer_listed_batch(t);
	if (t->worst >= EXIT_SYSTEM ||
	    transfer_add(t, name, e->expires_in, NULL, 0) == -1)
		return 1;
	t->listed += e->nfds;
	return 0;
}

/*
 * The groups of one DUMP record into the batch, which takes their fds:
 * entries, then the fds of each in order.
 */
static int
transfer_dumped(struct transfer *t)
{
	struct fdp_wire_entry e;
	char name[256];
	size_t off = 0, fd = 0;

	while (off < list_reply.len) {
		if (list_reply.len - off < sizeof(e))
			return FDP_EPROTO;
		memcpy(&e, list_reply.payload + off, sizeof(e));
		if (list_reply.len - off - sizeof(e) < e.name_len ||
		    e.name_len == 0 || e.nfds > list_reply.nfds - fd ||
		    t->nitems == TRANSFER_BATCH)
			return FDP_EPROTO;
		memcpy(name, list_reply.payload + off + sizeof(e), e.name_len);
		name[e.name_len] = '\0';
		if (transfer_add(t, name, e.expires_in, list_reply.fds + fd,
		    e.nfds) == -1)
			return FDP_ESYS;
		off += sizeof(e) + e.name_len;
		fd += e.nfds;
	}
	return fd == list_reply.nfds ? 0 : FDP_EPROTO;
}

/*
 * DUMP at FROM a record at a time, each handed over before the next is
 * asked for; 0 when FROM does not know DUMP, -1 when done (or stopped).
 */
static int
transfer_dump(struct transfer *t)
{
	char after[256] = "";
	int rc;

	for (;;) {
		rc = cmd_call("transfer", t->list_sock, FDP_OP_DUMP, 0, 0, after,
		    NULL, 0, &list_reply);
		if (rc == 0 && list_reply.h.status == FDP_S_UNSUPPORTED &&
		    after[0] == '\0')
			return 0;
		if (rc == 0 && list_reply.h.status == FDP_S_OK)
			rc = transfer_dumped(t);
		fdp_close_fds(list_reply.fds, list_reply.nfds);
		if (rc != 0 || list_reply.h.status != FDP_S_OK) {
			transfer_note(t, cmd_call_status("transfer",
			    t->from_addr, rc, &list_reply));
			transfer_batch(t);
			return -1;
		}
		if (t->nitems > 0)
			snprintf(after, sizeof(after), "%s",
			    t->items[t->nitems - 1].name);
		transfer_batch(t);
		if ((list_reply.h.flags & FDP_F_MORE) == 0 ||
		    t->worst >= EXIT_SYSTEM)
			return -1;
	}
}

/* DUMP at FROM, or, where FROM does not know it, LIST and RETRIEVE. */
static void
transfer_all(struct transfer *t)
{
	int rc;

	if (transfer_dump(t) != 0)
		return;
	rc = cmd_list_each("transfer", t->list_sock, &list_reply,
	    transfer_entry, t);
	if (t->worst < EXIT_SYSTEM && t->nitems > 0)
		transfer_listed_batch(t);
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
