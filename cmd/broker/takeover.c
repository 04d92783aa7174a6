/*
 * takeover.c: serve --takeover, the new broker's side of a takeover: it
 * asks the running broker for its state and takes it, the listening
 * socket, the groups (sent again or gone, during a live copy) and the
 * clients, then its place; the old broker's side is handover.c's.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"

/* How long the new broker waits on the old one at any one step. */
static const struct timeval takeover_timeout = { 30, 0 };

/* One handover record; larger than a reply, to hold a queued reply. */
struct handover_in {
	struct fdp_wire_header	 h;
	const unsigned char	*payload;
	size_t			 len;
	size_t			 nfds;
	int			 fds[FDP_MAX_FDS];
	unsigned char		 rec[sizeof(struct fdp_wire_header) +
				    FDP_PROTO_MAX_RECORD];
};

/* Why a takeover this broker cannot hold failed. */
static const char takeover_too_many[] = "the running broker holds more fds "
    "than this one may (its fd limit, ulimit -n, or --max-fds)";

/* Send a takeover request, op, with flags and nothing attached. */
static int
takeover_request(int sock, uint16_t op, uint32_t flags)
{
	struct fdp_wire_header h;
	ssize_t n;

	fdp_header_init(&h, op, flags, 0);
	cmd_log_record("serve", -1, "->", &h, NULL, 0, NULL, 0);
	n = fdp_send_msg(sock, &h, sizeof(h), NULL, 0);
	return n < 0 ? (int)n : 0;
}

/*
 * Receive the next handover record, a reply to op; an FDP_E* code (in->h
 * still says which version the old broker speaks) with no fds held when it
 * is not one.
 */
static int
takeover_recv(int sock, uint16_t op, struct handover_in *in)
{
	ssize_t n;

	n = fdp_record_recv(sock, op, in->rec, sizeof(in->rec), &in->h,
	    in->fds, &in->nfds);
	if (n < 0)
		return (int)n;
	in->payload = in->rec + sizeof(in->h);
	in->len = (size_t)n;
	cmd_log_record("serve", -1, "<-", &in->h, in->payload, in->len,
	    in->fds, in->nfds);
	return 0;
}

/*
 * Hold the groups of one handover record, each with the time left of its
 * TTL: one (HANDOVER_GROUP) or several (HANDOVER_GROUPS), their entries
 * back to back and their fds in the same order, each replacing a group
 * got before under its name (a live copy sends a group changed behind it
 * again); within capacity: a broker that could not hold everything and
 * still read a whole request refuses the takeover rather than serve
 * stuck. The fds of groups held leave in->fds; the caller closes the rest.
 */
static int
takeover_group(struct broker *b, struct handover_in *in, size_t capacity)
{
	const struct group *old;
	struct fdp_wire_entry e;
	const char *name;
	size_t off = 0, fd = 0;

	if ((in->h.flags & (FDP_F_HANDOVER_GROUP | FDP_F_HANDOVER_GROUPS)) ==
	    0 || in->len == 0)
		return FDP_EPROTO;
	while (off < in->len) {
		if (in->len - off < sizeof(e))
			return FDP_EPROTO;
		memcpy(&e, in->payload + off, sizeof(e));
		name = (const char *)in->payload + off + sizeof(e);
		if (in->len - off - sizeof(e) < e.name_len || e.nfds == 0 ||
		    e.nfds > in->nfds - fd ||
		    fdp_name_check(name, e.name_len) != 0)
			return FDP_EPROTO;
		old = store_find(&b->store, name, e.name_len);
		if (b->store.nfds - (old != NULL ? old->nfds : 0) + e.nfds >
		    capacity) {
			b->takeover_why = takeover_too_many;
			return FDP_ECTRUNC;
		}
		if (store_put(&b->store, name, e.name_len, in->fds + fd,
		    e.nfds, 1, e.expires_in) != FDP_S_OK) {
			errno = ENOMEM;
			return FDP_ESYS;
		}
		memset(in->fds + fd, -1, e.nfds * sizeof(int));
		fd += e.nfds;
		off += sizeof(e) + e.name_len;
		if ((in->h.flags & FDP_F_HANDOVER_GROUPS) == 0 && off < in->len)
			return FDP_EPROTO;
	}
	if (fd != in->nfds)
		return FDP_EPROTO;
	in->nfds = 0;
	return 0;
}

/*
 * A live copy's HANDOVER_GONE: the groups got before under the names
 * listed are not held any more; with no names, none of those got so far.
 */
static int
takeover_gone(struct broker *b, const struct handover_in *in)
{
	struct group *g;
	size_t off, n;

	if (in->nfds != 0)
		return FDP_EPROTO;
	if (in->len == 0)
		store_clear(&b->store);
	for (off = 0; off < in->len; off += 1 + n) {
		n = in->payload[off];
		if (in->len - off - 1 < n || fdp_name_check((const char *)
		    in->payload + off + 1, n) != 0)
			return FDP_EPROTO;
		if ((g = store_find(&b->store, (const char *)in->payload +
		    off + 1, n)) != NULL)
			store_remove(&b->store, g);
	}
	return 0;
}

/*
 * TAKEOVER, asking for a live copy: the listening socket, then the groups
 * (in a live copy some again, and names gone), then an empty record.
 */
static int
takeover_state(struct broker *b, int sock, struct handover_in *in)
{
	size_t capacity = limits_capacity(&b->limits);
	int rc;

	if ((rc = takeover_request(sock, FDP_OP_TAKEOVER, FDP_F_BATCH |
	    FDP_F_LIVE)) != 0 ||
	    (rc = takeover_recv(sock, FDP_OP_TAKEOVER, in)) != 0)
		return rc;
	if (in->h.status != FDP_S_OK)
		return 0;
	if ((in->h.flags & (FDP_F_MORE | FDP_F_HANDOVER_LISTENER)) !=
	    (FDP_F_MORE | FDP_F_HANDOVER_LISTENER) || in->nfds != 1)
		return FDP_EPROTO;
	b->listen_fd = in->fds[0];
	in->nfds = 0;
	for (;;) {
		if ((rc = takeover_recv(sock, FDP_OP_TAKEOVER, in)) != 0)
			return rc;
		if ((in->h.flags & FDP_F_MORE) == 0)
			return in->nfds == 0 ? 0 : FDP_EPROTO;
		if ((in->h.flags & FDP_F_HANDOVER_GONE) != 0)
			rc = takeover_gone(b, in);
		else
			rc = takeover_group(b, in, capacity);
		if (rc != 0)
			return rc;
	}
}

/*
 * Serve one client handed over, waiting again for the name it waited for
 * if this broker's own rules let it retrieve (and take) that name, else
 * answering DENIED; NULL (it is dropped) when the broker cannot.
 */
static struct client *
takeover_client(struct broker *b, struct handover_in *in)
{
	struct fdp_wire_client wc;
	struct fdp_cred cred;
	struct client *c;
	const char *name = (const char *)in->payload + sizeof(wc);
	size_t len = in->len - sizeof(wc);

	memcpy(&wc, in->payload, sizeof(wc));
	in->nfds = 0;
	if (fdp_peer_cred(in->fds[0], &cred) != 0) {
		close(in->fds[0]);
		return NULL;
	}
	if ((c = client_new(b, in->fds[0], &cred)) == NULL ||
	    (wc.flags & FDP_F_WAIT) == 0)
		return c;
	if (fdp_name_check(name, len) != 0)
		goto drop;
	if (!access_allows(&b->policy, &c->cred, access_request_ops(
	    FDP_OP_RETRIEVE, wc.flags), name, len)) {
		if (client_send(c, FDP_OP_RETRIEVE, 0, FDP_S_DENIED, NULL, 0,
		    NULL, 0) == -1)
			goto drop;
		return c;
	}
	if (client_wait(c, name, len, wc.wait_ms, (wc.flags & FDP_F_TAKE) !=
	    0) == -1)
		goto drop;
	return c;
drop:
	client_drop(c);
	return NULL;
}

/*
 * The LIST a client handed over was being sent goes on after the name
 * given, once the records queued before it are out.
 */
static struct client *
takeover_listing(struct client *c, const struct handover_in *in)
{
	if (c == NULL)
		return NULL;
	c->listing = 1;
	c->list_afterlen = (uint8_t)in->len;
	memcpy(c->list_after, in->payload, in->len);
	if (client_list_continue(c) == -1) {
		client_drop(c);
		return NULL;
	}
	client_arm(c);
	return c;
}

/*
 * TAKEOVER_READY: each client, then the replies queued for it, then where
 * its LIST goes on, or that it monitors.
 */
static int
takeover_clients(struct broker *b, int sock, struct handover_in *in)
{
	struct client *c = NULL;
	int rc;

	if ((rc = takeover_request(sock, FDP_OP_TAKEOVER_READY, 0)) != 0)
		return rc;
	for (;;) {
		if ((rc = takeover_recv(sock, FDP_OP_TAKEOVER_READY, in)) != 0)
			return rc;
		if ((in->h.flags & FDP_F_MORE) == 0)
			return in->nfds == 0 ? 0 : FDP_EPROTO;
		if ((in->h.flags & FDP_F_HANDOVER_CLIENT) != 0 &&
		    in->nfds == 1 && in->len >= sizeof(struct fdp_wire_client))
			c = takeover_client(b, in);
		else if ((in->h.flags & FDP_F_HANDOVER_QUEUED) != 0 &&
		    in->len > 0) {
			if (c != NULL && client_queue(c, in->payload, in->len,
			    in->fds, in->nfds) == -1) {
				client_drop(c);
				c = NULL;
			}
			if (c != NULL)
				client_inflight_add(c, in->nfds);
			fdp_close_fds(in->fds, in->nfds);
			in->nfds = 0;
		} else if ((in->h.flags & FDP_F_HANDOVER_LISTING) != 0 &&
		    in->nfds == 0 && fdp_name_check((const char *)in->payload,
		    in->len) == 0)
			c = takeover_listing(c, in);
		else if ((in->h.flags & FDP_F_HANDOVER_MONITOR) != 0 &&
		    in->nfds == 0 && in->len == sizeof(uint32_t))
			c = watch_handed_over(c, in->payload);
		else
			return FDP_EPROTO;
	}
}

/*
 * Take the old broker's place: its socket, groups and clients. Returns 0,
 * or the exit status after a message; the old broker then serves on, and
 * what came over is closed with the store and the clients.
 */
int
takeover_receive(struct broker *b)
{
	static struct handover_in in;
	int rc;

	rc = takeover_state(b, b->takeover_sock, &in);
	if (rc == 0 && in.h.status != FDP_S_OK) {
		cmd_warn("serve", "--takeover: %s",
		    fdp_reply_status_text(in.h.status, in.payload, in.len));
		return EXIT_REFUSED;
	}
	if (rc == 0)
		rc = takeover_clients(b, b->takeover_sock, &in);
	if (rc == 0)
		rc = takeover_request(b->takeover_sock, FDP_OP_TAKEOVER_DONE, 0);
	if (rc == FDP_EVERSION) {
		cmd_warn("serve", "--takeover: the running broker speaks "
		    "protocol version %u, this fdpass speaks %d; it serves on",
		    (unsigned)in.h.version, FDP_PROTO_VERSION);
		return EXIT_SYSTEM;
	}
	if (rc == FDP_ECTRUNC)
		b->takeover_why = takeover_too_many;
	if (rc != 0) {
		fdp_close_fds(in.fds, in.nfds);
		in.nfds = 0;
		cmd_warn("serve", "--takeover failed: %s; the running broker "
		    "serves on", b->takeover_why != NULL ? b->takeover_why :
		    fdp_strerror(rc));
		return EXIT_SYSTEM;
	}
	/*
	 * Listening again makes the socket carry this broker's credentials,
	 * which clients connecting from now on see (SO_PEERCRED) and trust
	 * or refuse it by; not before the old broker has let go of it.
	 */
	if (listen(b->listen_fd, SOMAXCONN) == -1)
		cmd_warn("serve", "--takeover: listen: %s; clients see the old "
		    "broker's credentials", strerror(errno));
	if (fdp_sockfile_claim(&b->addr, &b->sockfile) == -1)
		cmd_warn("serve", "--takeover: the socket file: %s; it stays "
		    "when this broker stops", strerror(errno));
	cmd_log("serve", "took over: %zu groups, serving", b->store.ngroups);
	return 0;
}

/*
 * serve --takeover, once connected to the old broker: take its place; the
 * socket file stays. The new broker judges requests by its own --allow and
 * --rules, not the old one's.
 */
int
broker_take_over(struct broker *b, int sock, int ready_fd)
{
	int status;

	b->takeover_sock = sock;
	if (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &takeover_timeout,
	    sizeof(takeover_timeout)) == -1) {
		cmd_warn("serve", "--takeover: %s", strerror(errno));
		close(sock);
		return EXIT_SYSTEM;
	}
	b->listen_fd = -1;
	signal(SIGPIPE, SIG_IGN);
	status = broker_run(b, ready_fd);
	if (b->takeover_sock >= 0)
		close(b->takeover_sock);
	if (b->listen_fd >= 0)
		close(b->listen_fd);
	fdp_sockfile_close(&b->sockfile, !b->handed_over);
	return status;
}
