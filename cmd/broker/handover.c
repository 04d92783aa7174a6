/*
 * handover.c: takeover, both sides and the protocol they speak: the old
 * broker handing over its socket, groups and clients, each step bounded,
 * and the new broker taking them and its place.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"

/*
 * How long the old broker gives the new one for each step as a whole:
 * handing over the state, waiting for TAKEOVER_READY, handing over the
 * clients, waiting for TAKEOVER_DONE.
 */
#define HANDOVER_STEP_MS	10000

/* How long the new broker waits on the old one at any one step. */
static const struct timeval takeover_timeout = { 30, 0 };

/* The old broker's end of a takeover: the connection and the step's end. */
struct handover {
	int		 sock;		/* non-blocking */
	struct timespec	 deadline;
	int		 failed;
};

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

/* Start a step: it must end within HANDOVER_STEP_MS. */
static void
handover_step(struct handover *ho)
{
	clock_gettime(CLOCK_MONOTONIC, &ho->deadline);
	ho->deadline.tv_sec += HANDOVER_STEP_MS / 1000;
}

/*
 * Wait until the connection is ready for events, but not past the step's
 * end: a new broker that reads or answers slowly cannot hold the old one
 * longer than that, however it paces itself.
 */
static int
handover_wait(struct handover *ho, short events)
{
	struct pollfd pfd = { ho->sock, events, 0 };
	struct timespec now;
	long ms;
	int n;

	do {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (long)(ho->deadline.tv_sec - now.tv_sec) * 1000 +
		    (ho->deadline.tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0)
			return -1;
		n = poll(&pfd, 1, (int)ms);
	} while (n == -1 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

/* Send one handover record, a reply to op; fds are borrowed. */
static int
handover_send(struct handover *ho, uint16_t op, uint32_t flags,
    const void *payload, size_t len, const int *fds, size_t nfds)
{
	static unsigned char rec[sizeof(struct fdp_wire_header) +
	    FDP_PROTO_MAX_RECORD];
	struct fdp_wire_header h;
	ssize_t n;

	if (ho->failed)
		return -1;
	fdp_header_init(&h, op | FDP_OP_REPLY, flags, FDP_S_OK);
	cmd_log_record("serve", ho->sock, "<-", &h, NULL, 0, fds, nfds);
	memcpy(rec, &h, sizeof(h));
	if (len > 0)
		memcpy(rec + sizeof(h), payload, len);
	while ((n = fdp_send_msg(ho->sock, rec, sizeof(h) + len, fds,
	    nfds)) == FDP_ESYS && errno == EAGAIN)
		if (handover_wait(ho, POLLOUT) == -1)
			break;
	if (n < 0)
		ho->failed = 1;
	return n < 0 ? -1 : 0;
}

/*
 * The groups go out as store_foreach visits them: one a record
 * (HANDOVER_GROUP), or, to a new broker that takes them so (FDP_F_BATCH),
 * as many whole groups a record (HANDOVER_GROUPS) as its payload and 253
 * fds hold, so that a store of many small groups takes few records.
 */
struct handover_groups {
	struct handover	*ho;
	int		 batch;
	size_t		 len;
	size_t		 nfds;
	int		 fds[FDP_MAX_FDS];	/* borrowed from the store */
	unsigned char	 buf[FDP_PROTO_MAX_RECORD -
			    sizeof(struct fdp_wire_header)];
};

/* Send the groups gathered so far in one record. */
static void
handover_groups_flush(struct handover_groups *hg)
{
	if (hg->len == 0)
		return;
	handover_send(hg->ho, FDP_OP_TAKEOVER, FDP_F_MORE |
	    (hg->batch ? FDP_F_HANDOVER_GROUPS : FDP_F_HANDOVER_GROUP),
	    hg->buf, hg->len, hg->fds, hg->nfds);
	hg->len = hg->nfds = 0;
}

/* Add one group: its LIST entry (time left of its TTL), name and fds. */
static void
handover_group(const struct group *g, void *arg)
{
	struct handover_groups *hg = arg;
	struct fdp_wire_entry e;

	e.name_len = (uint16_t)group_namelen(g);
	e.nfds = g->nfds;
	e.expires_in = group_expires_in(g);
	if (!hg->batch || hg->len + sizeof(e) + e.name_len > sizeof(hg->buf) ||
	    hg->nfds + e.nfds > FDP_MAX_FDS)
		handover_groups_flush(hg);
	memcpy(hg->buf + hg->len, &e, sizeof(e));
	memcpy(hg->buf + hg->len + sizeof(e), group_name(g), e.name_len);
	hg->len += sizeof(e) + e.name_len;
	memcpy(hg->fds + hg->nfds, g->fds, e.nfds * sizeof(int));
	hg->nfds += e.nfds;
}

/* Wait for the new broker's next request, op; -1 if anything else comes. */
static int
handover_await(struct handover *ho, uint16_t op)
{
	unsigned char rec[sizeof(struct fdp_wire_header)];
	struct fdp_wire_header h;
	int fds[FDP_MAX_FDS];
	size_t nfds = FDP_MAX_FDS;
	ssize_t n;

	handover_step(ho);
	while ((n = fdp_recv_msg(ho->sock, rec, sizeof(rec), fds,
	    &nfds)) == FDP_ESYS && errno == EAGAIN)
		if (handover_wait(ho, POLLIN) == -1)
			return -1;
	if (n <= 0)
		return -1;
	fdp_close_fds(fds, nfds);
	if (fdp_header_check(rec, (size_t)n, &h) != 0 || h.op != op)
		return -1;
	cmd_log_record("serve", ho->sock, "->", &h, NULL, 0, NULL, 0);
	return 0;
}

/* Milliseconds until a waiting client's timer fires; 0 if it has none. */
static uint32_t
handover_wait_left(struct client *c)
{
	struct timeval tv, now;
	uint64_t ms;

	if (!evtimer_pending(c->wait_ev, &tv))
		return 0;
	if (event_base_gettimeofday_cached(c->b->base, &now) == -1 ||
	    !timercmp(&tv, &now, >))
		return 1;
	timersub(&tv, &now, &tv);
	ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
	return ms == 0 ? 1 : (uint32_t)ms;
}

/*
 * A monitor goes on as one: its events waiting, as replies queued, and
 * the count of those dropped since it was last told.
 */
static void
handover_monitor(struct handover *ho, const struct client *c)
{
	unsigned char rec[WATCH_RECORD_MAX];
	uint32_t dropped = watch_dropped(c);
	size_t i, len;

	for (i = 0; (len = watch_record(c, i, rec)) > 0; i++)
		handover_send(ho, FDP_OP_TAKEOVER_READY, FDP_F_MORE |
		    FDP_F_HANDOVER_QUEUED, rec, len, NULL, 0);
	handover_send(ho, FDP_OP_TAKEOVER_READY, FDP_F_MORE |
	    FDP_F_HANDOVER_MONITOR, &dropped, sizeof(dropped), NULL, 0);
}

/*
 * Send one client: its connection, the name it waits for, the replies
 * queued for it, and where a LIST being sent to it goes on, or that it
 * monitors.
 */
static int
handover_client(struct handover *ho, struct client *c)
{
	unsigned char buf[sizeof(struct fdp_wire_client) + 255];
	struct fdp_wire_client wc = { 0, 0 };
	size_t len = sizeof(wc);
	struct outrec *o;

	if (c->wait.g != NULL) {
		wc.flags = FDP_F_WAIT | (c->wait.take ? FDP_F_TAKE : 0);
		wc.wait_ms = handover_wait_left(c);
		memcpy(buf + len, group_name(c->wait.g),
		    group_namelen(c->wait.g));
		len += group_namelen(c->wait.g);
	}
	memcpy(buf, &wc, sizeof(wc));
	handover_send(ho, FDP_OP_TAKEOVER_READY, FDP_F_MORE |
	    FDP_F_HANDOVER_CLIENT, buf, len, &c->fd, 1);
	STAILQ_FOREACH(o, &c->out, entry)
		handover_send(ho, FDP_OP_TAKEOVER_READY, FDP_F_MORE |
		    FDP_F_HANDOVER_QUEUED, o->data, o->len, o->fds, o->nfds);
	if (c->listing)
		handover_send(ho, FDP_OP_TAKEOVER_READY, FDP_F_MORE |
		    FDP_F_HANDOVER_LISTING, c->list_after, c->list_afterlen,
		    NULL, 0);
	if (c->monitor != NULL)
		handover_monitor(ho, c);
	return ho->failed ? -1 : 0;
}

/*
 * TAKEOVER, from a client access_check found to be of our user or root,
 * with the request's flags:
 * hand over the state, wait for TAKEOVER_READY, hand over the clients,
 * wait for TAKEOVER_DONE, and end the loop with the exit status 0; each
 * step within HANDOVER_STEP_MS. A stopping broker hands over what its
 * drain has not finished yet. Returns -1 to drop the connection, the old
 * broker serving on as before.
 */
int
broker_takeover(struct broker *b, struct client *c, uint32_t flags)
{
	static struct handover_groups hg;
	struct handover ho = { c->fd, { 0, 0 }, 0 };
	struct client *other;

	if (b->peer)
		return client_send(c, FDP_OP_TAKEOVER, 0, FDP_S_UNSUPPORTED,
		    NULL, 0, NULL, 0);
	cmd_log("serve", "pid %ld takes over", (long)c->cred.pid);
	watch_takeover_begins(b);
	handover_step(&ho);
	handover_send(&ho, FDP_OP_TAKEOVER, FDP_F_MORE |
	    FDP_F_HANDOVER_LISTENER, NULL, 0, &b->listen_fd, 1);
	hg.ho = &ho;
	hg.batch = (flags & FDP_F_BATCH) != 0;
	hg.len = hg.nfds = 0;
	if (!ho.failed) {
		store_foreach(&b->store, handover_group, &hg);
		handover_groups_flush(&hg);
	}
	if (handover_send(&ho, FDP_OP_TAKEOVER, 0, NULL, 0, NULL, 0) == -1 ||
	    handover_await(&ho, FDP_OP_TAKEOVER_READY) == -1)
		goto abandon;
	handover_step(&ho);
	TAILQ_FOREACH(other, &b->clients, entry)
		if (other != c && !other->dead &&
		    handover_client(&ho, other) == -1)
			goto abandon;
	if (handover_send(&ho, FDP_OP_TAKEOVER_READY, 0, NULL, 0, NULL,
	    0) == -1 || handover_await(&ho, FDP_OP_TAKEOVER_DONE) == -1)
		goto abandon;
	cmd_log("serve", "pid %ld serves now; exiting", (long)c->cred.pid);
	b->handed_over = 1;
	event_base_loopbreak(b->base);
	return 0;
abandon:
	cmd_warn("serve", "takeover by pid %ld failed halfway; serving on",
	    (long)c->cred.pid);
	return -1;
}

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
 * back to back and their fds in the same order; within capacity: a broker
 * that could not hold everything and still read a whole request refuses
 * the takeover rather than serve stuck. The fds of groups held leave
 * in->fds; the caller closes the rest.
 */
static int
takeover_group(struct broker *b, struct handover_in *in, size_t capacity)
{
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
		if (b->store.nfds + e.nfds > capacity) {
			b->takeover_why = takeover_too_many;
			return FDP_ECTRUNC;
		}
		if (store_put(&b->store, name, e.name_len, in->fds + fd,
		    e.nfds, 0, e.expires_in) != FDP_S_OK) {
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

/* TAKEOVER: the listening socket, then each group, then an empty record. */
static int
takeover_state(struct broker *b, int sock, struct handover_in *in)
{
	size_t capacity = limits_capacity(&b->limits);
	int rc;

	if ((rc = takeover_request(sock, FDP_OP_TAKEOVER, FDP_F_BATCH)) != 0 ||
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
		if ((rc = takeover_group(b, in, capacity)) != 0)
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
