/*
 * serve.c: `fdpass serve`, the broker. One libevent loop watches a listening
 * SOCK_SEQPACKET socket and each client with a plain event; requests are read
 * with our own recvmsg (fdp_recv_msg), never through a bufferevent, which
 * would read without a control buffer and lose the fds.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cmd.h"
#include "store.h"
#include "fdstore.h"

/* A reply the client's socket had no room for yet; it owns its fds. */
struct outrec {
	STAILQ_ENTRY(outrec)	 entry;
	size_t			 len;
	size_t			 nfds;
	int			*fds;		/* after data, in the same allocation */
	unsigned char		 data[];
};

struct broker;

struct client {
	TAILQ_ENTRY(client)	 entry;
	struct broker		*b;
	int			 fd;
	struct event		*read_ev;
	struct event		*write_ev;
	STAILQ_HEAD(, outrec)	 out;
	struct waiter		 wait;		/* RETRIEVE with FDP_F_WAIT */
	struct event		*wait_ev;	/* its timeout, made on first use */
};

struct broker {
	struct event_base	*base;
	struct fdp_addr		 addr;
	int			 listen_fd;
	int			 activated;	/* listen_fd came through LISTEN_FDS */
	int			 notify_fd;	/* to $NOTIFY_SOCKET, or -1 */
	struct event		*status_ev;
	struct event		*accept_ev;
	struct event		*backoff_ev;
	struct store		 store;
	TAILQ_HEAD(, client)	 clients;
	int			 peer;		/* peer mode: one client, one STORE */
	int			 peer_stored;	/* peer mode: the STORE came */
	struct fdp_reply	*peer_out;	/* peer mode: the group's fds */
	char			*peer_name;	/* peer mode: its name (256 bytes) */
	int			 fdstore;	/* --fdstore: mirror the store there */
	char			**adopt_names;	/* LISTEN_FDNAMES of fds to adopt */
	int			 nadopt;	/* (NULL names: not to adopt) */
	int			 takeover_sock;	/* --takeover: the old one; or -1 */
	int			 took_over;	/* --takeover: the old one left */
	int			 handed_over;	/* a new broker took over */
};

/* How long accept() rests after running out of fds, instead of spinning. */
static const struct timeval accept_backoff = { 0, 100 * 1000 };

/* A waiting client stops waiting: its name entry and timer forget it. */
static void
client_stop_waiting(struct client *c)
{
	store_unwait(&c->b->store, &c->wait);
	if (c->wait_ev != NULL)
		evtimer_del(c->wait_ev);
}

/* In peer mode the loop ends once the one client is answered or gone. */
static void
peer_check_done(struct broker *b, struct client *c)
{
	if (b->peer && (c == NULL || (b->peer_stored && STAILQ_EMPTY(&c->out))))
		event_base_loopbreak(b->base);
}

/* Status updates wait for the end of the loop's turn, so a burst sends one. */
static const struct timeval status_delay = { 0, 0 };

/*
 * Tell the service manager something, with the current STATUS= line after
 * it. Best effort: a manager that is gone or busy costs nothing but the
 * update.
 */
static void
broker_notify(struct broker *b, const char *state)
{
	char text[256];

	if (b->notify_fd < 0)
		return;
	snprintf(text, sizeof(text), "%s%sSTATUS=holding %zu group%s, %zu fd%s",
	    state, *state != '\0' ? "\n" : "", b->store.ngroups,
	    b->store.ngroups == 1 ? "" : "s", b->store.nfds,
	    b->store.nfds == 1 ? "" : "s");
	fdp_notify_send(b->notify_fd, text, NULL, 0);
}

/* The coalesced status update runs here. */
static void
broker_status_send(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	broker_notify(arg, "");
}

/* What the store holds changed: update STATUS= once this turn is over. */
static void
broker_changed(struct broker *b)
{
	if (b->status_ev != NULL && !evtimer_pending(b->status_ev, NULL))
		evtimer_add(b->status_ev, &status_delay);
}

/*
 * The store's on_change: every group stored or let go (stored, replaced,
 * deleted, taken, expired) reaches the fd store with --fdstore and the
 * STATUS= line.
 */
static void
broker_store_changed(const struct group *g, int held, void *arg)
{
	struct broker *b = arg;

	if (b->fdstore)
		fdstore_mirror(g, held, &b->notify_fd);
	broker_changed(b);
}

/* Dropping a client frees everything it had, queued fds included. */
static void
client_free(struct client *c)
{
	struct outrec *o;

	client_stop_waiting(c);
	if (c->wait_ev != NULL)
		event_free(c->wait_ev);
	peer_check_done(c->b, NULL);

	while ((o = STAILQ_FIRST(&c->out)) != NULL) {
		STAILQ_REMOVE_HEAD(&c->out, entry);
		fdp_close_fds(o->fds, o->nfds);
		free(o);
	}
	event_free(c->read_ev);
	event_free(c->write_ev);
	close(c->fd);
	TAILQ_REMOVE(&c->b->clients, c, entry);
	free(c);
}

/* Keep a reply for later, with copies of the fds it lends out. */
static int
client_queue(struct client *c, const void *rec, size_t len, const int *fds,
    size_t nfds)
{
	struct outrec *o;

	o = malloc(sizeof(*o) + len + nfds * sizeof(int));
	if (o == NULL)
		return -1;
	o->len = len;
	o->fds = (int *)(void *)(o->data + len);
	memcpy(o->data, rec, len);
	for (o->nfds = 0; o->nfds < nfds; o->nfds++) {
		o->fds[o->nfds] = fcntl(fds[o->nfds], F_DUPFD_CLOEXEC, 0);
		if (o->fds[o->nfds] == -1) {
			fdp_close_fds(o->fds, o->nfds);
			free(o);
			return -1;
		}
	}
	if (STAILQ_EMPTY(&c->out)) {
		event_del(c->read_ev);
		event_add(c->write_ev, NULL);
	}
	STAILQ_INSERT_TAIL(&c->out, o, entry);
	return 0;
}

/*
 * Send a reply record now if the socket takes it, else queue it; fds are
 * borrowed. A client that cannot be answered at all is dropped (-1).
 */
static int
client_send(struct client *c, uint16_t op, uint32_t flags, uint32_t status,
    const void *payload, size_t len, const int *fds, size_t nfds)
{
	unsigned char rec[FDP_PROTO_MAX_RECORD];
	struct fdp_wire_header h;
	ssize_t n;

	fdp_header_init(&h, op | FDP_OP_REPLY, flags, status);
	cmd_log_record("serve", c->fd, "<-", &h, NULL, 0, fds, nfds);
	memcpy(rec, &h, sizeof(h));
	if (len > 0)
		memcpy(rec + sizeof(h), payload, len);
	len += sizeof(h);
	if (STAILQ_EMPTY(&c->out)) {
		n = fdp_send_msg(c->fd, rec, len, fds, nfds);
		if (n >= 0)
			return 0;
		if (n != FDP_ESYS || errno != EAGAIN)
			return -1;
	}
	return client_queue(c, rec, len, fds, nfds);
}

/* The socket has room again: send what waited, then read requests again. */
static void
client_flush(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	struct outrec *o;
	ssize_t n;

	(void)what;
	while ((o = STAILQ_FIRST(&c->out)) != NULL) {
		n = fdp_send_msg(fd, o->data, o->len, o->fds, o->nfds);
		if (n == FDP_ESYS && errno == EAGAIN)
			return;
		if (n < 0) {
			client_free(c);
			return;
		}
		STAILQ_REMOVE_HEAD(&c->out, entry);
		fdp_close_fds(o->fds, o->nfds);
		free(o);
	}
	event_del(c->write_ev);
	event_add(c->read_ev, NULL);
	peer_check_done(c->b, c);
}

/*
 * FDP_F_TTL and FDP_F_WAIT put a uint32_t before the name: take it off the
 * payload (0 without the flag); -1 if the payload is too short for it.
 */
static int
request_arg(const struct fdp_wire_header *h, uint32_t flag,
    const char **payload, size_t *len, uint32_t *arg)
{
	*arg = 0;
	if ((h->flags & flag) == 0)
		return 0;
	if (*len < sizeof(*arg))
		return -1;
	memcpy(arg, *payload, sizeof(*arg));
	*payload += sizeof(*arg);
	*len -= sizeof(*arg);
	return 0;
}

/*
 * A STORE hands the group to the clients waiting for its name, in arrival
 * order, until one takes it (FDP_F_TAKE): exactly one taker gets a group.
 */
static void
broker_wake(struct broker *b, struct group *g)
{
	struct waiter *w;
	struct client *c;
	int take;

	while ((w = TAILQ_FIRST(&g->waiters)) != NULL) {
		c = w->owner;
		take = w->take;
		client_stop_waiting(c);
		if (client_send(c, FDP_OP_RETRIEVE, 0, FDP_S_OK, NULL, 0,
		    g->fds, g->nfds) == -1) {
			client_free(c);
			continue;
		}
		if (take) {
			store_remove(&b->store, g);
			return;
		}
	}
}

/* STORE: the group's fds move from the request into the store. */
static uint32_t
broker_store(struct broker *b, const struct fdp_wire_header *h,
    const char *name, size_t len, int *fds, size_t nfds)
{
	uint32_t status, ttl;

	if (nfds == 0)
		return FDP_S_NOFDS;
	if (request_arg(h, FDP_F_TTL, &name, &len, &ttl) == -1 ||
	    ((h->flags & FDP_F_TTL) != 0 && ttl == 0))
		return FDP_S_MALFORMED;
	if ((status = (uint32_t)fdp_name_check(name, len)) != 0)
		return status;
	status = (uint32_t)store_put(&b->store, name, len, fds, nfds,
	    (h->flags & FDP_F_REPLACE) != 0, ttl);
	if (status == FDP_S_OK) {
		b->peer_stored = 1;
		broker_wake(b, store_find(&b->store, name, len));
	}
	return status;
}

/* DELETE: the broker closes the group's fds, and its TTL with them. */
static uint32_t
broker_delete(struct broker *b, const char *name, size_t len)
{
	struct group *g;
	uint32_t status;

	if ((status = (uint32_t)fdp_name_check(name, len)) != 0)
		return status;
	if ((g = store_find(&b->store, name, len)) == NULL)
		return FDP_S_NOENT;
	store_remove(&b->store, g);
	return FDP_S_OK;
}

/* A wait ran out: the client hears TIMEOUT, and the name forgets it. */
static void
client_wait_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	(void)fd;
	(void)what;
	client_stop_waiting(c);
	if (client_send(c, FDP_OP_RETRIEVE, 0, FDP_S_TIMEOUT, NULL, 0, NULL,
	    0) == -1)
		client_free(c);
}

/*
 * RETRIEVE with FDP_F_WAIT of a name not held: the client waits on the
 * name's entry, with a timer if it gave a timeout (in ms), until a STORE
 * wakes it. The broker keeps the timeout, so a group is never handed to a
 * client that has already given up.
 */
static int
client_wait(struct client *c, const char *name, size_t len,
    uint32_t timeout_ms, int take)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	if (c->wait_ev == NULL)
		c->wait_ev = evtimer_new(c->b->base, client_wait_timeout, c);
	if (c->wait_ev == NULL ||
	    store_wait(&c->b->store, name, len, &c->wait, take) == -1)
		return client_send(c, FDP_OP_RETRIEVE, 0, FDP_S_FULL, NULL, 0,
		    NULL, 0);
	if (timeout_ms > 0 && evtimer_add(c->wait_ev, &tv) == -1) {
		client_stop_waiting(c);
		return client_send(c, FDP_OP_RETRIEVE, 0, FDP_S_FULL, NULL, 0,
		    NULL, 0);
	}
	return 0;
}

/* RETRIEVE: hand the group over; remove it (TAKE) or wait for it (WAIT). */
static int
broker_retrieve(struct broker *b, struct client *c,
    const struct fdp_wire_header *h, const char *name, size_t len)
{
	struct group *g;
	uint32_t status, timeout_ms;
	int take = (h->flags & FDP_F_TAKE) != 0, rc;

	if (request_arg(h, FDP_F_WAIT, &name, &len, &timeout_ms) == -1)
		return client_send(c, h->op, 0, FDP_S_MALFORMED, NULL, 0,
		    NULL, 0);
	if ((status = (uint32_t)fdp_name_check(name, len)) != 0)
		return client_send(c, h->op, 0, status, NULL, 0, NULL, 0);
	if ((g = store_find(&b->store, name, len)) != NULL) {
		rc = client_send(c, h->op, 0, FDP_S_OK, NULL, 0, g->fds,
		    g->nfds);
		if (rc == 0 && take)
			store_remove(&b->store, g);
		return rc;
	}
	if ((h->flags & FDP_F_WAIT) == 0)
		return client_send(c, h->op, 0, FDP_S_NOENT, NULL, 0, NULL, 0);
	return client_wait(c, name, len, timeout_ms, take);
}

/* LIST accumulates entries into records as large as the protocol allows. */
struct list_out {
	struct client	*c;
	size_t		 len;
	int		 failed;
	unsigned char	 buf[FDP_PROTO_MAX_RECORD - sizeof(struct fdp_wire_header)];
};

/* Add one group's entry to the LIST reply, sending a full record first. */
static void
list_add(const struct group *g, void *arg)
{
	struct list_out *lo = arg;
	struct fdp_wire_entry e;
	size_t namelen = group_namelen(g);

	if (lo->failed)
		return;
	if (lo->len + sizeof(e) + namelen > sizeof(lo->buf)) {
		if (client_send(lo->c, FDP_OP_LIST, FDP_F_MORE, FDP_S_OK,
		    lo->buf, lo->len, NULL, 0) == -1) {
			lo->failed = 1;
			return;
		}
		lo->len = 0;
	}
	e.name_len = (uint16_t)namelen;
	e.nfds = g->nfds;
	e.expires_in = group_expires_in(g);
	memcpy(lo->buf + lo->len, &e, sizeof(e));
	memcpy(lo->buf + lo->len + sizeof(e), group_name(g), namelen);
	lo->len += sizeof(e) + namelen;
}

/* LIST: every held name and its fd count, in one or more records. */
static int
broker_list(struct broker *b, struct client *c)
{
	struct list_out lo;

	lo.c = c;
	lo.len = 0;
	lo.failed = 0;
	store_foreach(&b->store, list_add, &lo);
	if (lo.failed)
		return -1;
	return client_send(c, FDP_OP_LIST, 0, FDP_S_OK, lo.buf, lo.len,
	    NULL, 0);
}

/*
 * Takeover, the old broker's side. It hands a new broker of its user (or
 * root) its listening socket and every group, then, once the new broker
 * holds them, every other client's connection with what it waits for and
 * the replies queued for it, and exits once the new broker serves. It
 * changes nothing until then, so a new broker that fails at any step
 * leaves it serving everything as before.
 */

/* How long the old broker waits on the new one at any one step. */
static const struct timeval handover_timeout = { 10, 0 };

/* How long the new broker waits on the old one at any one step. */
static const struct timeval takeover_timeout = { 30, 0 };

/* Send one handover record, a reply to op; fds are borrowed. */
static int
handover_send(int sock, uint16_t op, uint32_t flags, const void *payload,
    size_t len, const int *fds, size_t nfds)
{
	static unsigned char rec[sizeof(struct fdp_wire_header) +
	    FDP_PROTO_MAX_RECORD];
	struct fdp_wire_header h;

	fdp_header_init(&h, op | FDP_OP_REPLY, flags, FDP_S_OK);
	cmd_log_record("serve", sock, "<-", &h, NULL, 0, fds, nfds);
	memcpy(rec, &h, sizeof(h));
	if (len > 0)
		memcpy(rec + sizeof(h), payload, len);
	return fdp_send_msg(sock, rec, sizeof(h) + len, fds, nfds) < 0 ? -1 : 0;
}

/* The groups go out one record each, as store_foreach visits them. */
struct handover_out {
	int	sock;
	int	failed;
};

/* Send one group: its LIST entry (time left of its TTL), name and fds. */
static void
handover_group(const struct group *g, void *arg)
{
	struct handover_out *ho = arg;
	unsigned char buf[sizeof(struct fdp_wire_entry) + 255];
	struct fdp_wire_entry e;

	if (ho->failed)
		return;
	e.name_len = (uint16_t)group_namelen(g);
	e.nfds = g->nfds;
	e.expires_in = group_expires_in(g);
	memcpy(buf, &e, sizeof(e));
	memcpy(buf + sizeof(e), group_name(g), e.name_len);
	if (handover_send(ho->sock, FDP_OP_TAKEOVER, FDP_F_MORE |
	    FDP_F_HANDOVER_GROUP, buf, sizeof(e) + e.name_len, g->fds,
	    g->nfds) == -1)
		ho->failed = 1;
}

/* Wait for the new broker's next request, op; -1 if anything else comes. */
static int
handover_await(int sock, uint16_t op)
{
	unsigned char rec[sizeof(struct fdp_wire_header)];
	struct fdp_wire_header h;
	int fds[FDP_MAX_FDS];
	size_t nfds = FDP_MAX_FDS;
	ssize_t n;

	if ((n = fdp_recv_msg(sock, rec, sizeof(rec), fds, &nfds)) <= 0)
		return -1;
	fdp_close_fds(fds, nfds);
	if (fdp_header_check(rec, (size_t)n, &h) != 0 || h.op != op)
		return -1;
	cmd_log_record("serve", sock, "->", &h, NULL, 0, NULL, 0);
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

/* Send one client: its connection, the name it waits for, replies queued. */
static int
handover_client(int sock, struct client *c)
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
	if (handover_send(sock, FDP_OP_TAKEOVER_READY, FDP_F_MORE |
	    FDP_F_HANDOVER_CLIENT, buf, len, &c->fd, 1) == -1)
		return -1;
	STAILQ_FOREACH(o, &c->out, entry)
		if (handover_send(sock, FDP_OP_TAKEOVER_READY, FDP_F_MORE |
		    FDP_F_HANDOVER_QUEUED, o->data, o->len, o->fds,
		    o->nfds) == -1)
			return -1;
	return 0;
}

/* The takeover connection blocks, but never longer than handover_timeout. */
static int
handover_blocking(int sock)
{
	return fcntl(sock, F_SETFL, 0) == -1 ||
	    setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &handover_timeout,
	    sizeof(handover_timeout)) == -1 ||
	    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &handover_timeout,
	    sizeof(handover_timeout)) == -1 ? -1 : 0;
}

/*
 * TAKEOVER: check who asks, hand over the state, wait for TAKEOVER_READY,
 * hand over the clients, wait for TAKEOVER_DONE, and end the loop with
 * the exit status 0. Returns -1 to drop the connection, the old broker
 * serving on as before.
 */
static int
broker_takeover(struct broker *b, struct client *c, int *fds, size_t nfds)
{
	struct handover_out ho = { c->fd, 0 };
	struct fdp_cred cred;
	struct client *other;

	if (nfds > 0 || b->peer) {
		fdp_close_fds(fds, nfds);
		return client_send(c, FDP_OP_TAKEOVER, 0, nfds > 0 ?
		    FDP_S_MALFORMED : FDP_S_UNSUPPORTED, NULL, 0, NULL, 0);
	}
	if (fdp_peer_cred(c->fd, &cred) != 0 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		cmd_warn("serve", "takeover refused: client %d is not of our "
		    "user or root", c->fd);
		return client_send(c, FDP_OP_TAKEOVER, 0,
		    FDP_S_TAKEOVER_DENIED, NULL, 0, NULL, 0);
	}
	cmd_log("serve", "pid %ld takes over", (long)cred.pid);
	if (handover_blocking(c->fd) == -1 ||
	    handover_send(c->fd, FDP_OP_TAKEOVER, FDP_F_MORE |
	    FDP_F_HANDOVER_LISTENER, NULL, 0, &b->listen_fd, 1) == -1)
		goto abandon;
	store_foreach(&b->store, handover_group, &ho);
	if (ho.failed ||
	    handover_send(c->fd, FDP_OP_TAKEOVER, 0, NULL, 0, NULL, 0) == -1 ||
	    handover_await(c->fd, FDP_OP_TAKEOVER_READY) == -1)
		goto abandon;
	TAILQ_FOREACH(other, &b->clients, entry)
		if (other != c && handover_client(c->fd, other) == -1)
			goto abandon;
	if (handover_send(c->fd, FDP_OP_TAKEOVER_READY, 0, NULL, 0, NULL,
	    0) == -1 || handover_await(c->fd, FDP_OP_TAKEOVER_DONE) == -1)
		goto abandon;
	cmd_log("serve", "pid %ld serves now; exiting", (long)cred.pid);
	b->handed_over = 1;
	event_base_loopbreak(b->base);
	return 0;
abandon:
	cmd_warn("serve", "takeover by pid %ld failed halfway; serving on",
	    (long)cred.pid);
	return -1;
}

/*
 * Answer one request; the request's fds are the broker's to close unless the
 * store took them. Returns -1 when the client is to be dropped.
 */
static int
broker_handle(struct broker *b, struct client *c,
    const struct fdp_wire_header *h, const char *payload, size_t len,
    int *fds, size_t nfds)
{
	uint32_t status;

	switch (h->op) {
	case FDP_OP_STORE:
		status = broker_store(b, h, payload, len, fds, nfds);
		if (status != FDP_S_OK)
			fdp_close_fds(fds, nfds);
		if (client_send(c, h->op, 0, status, NULL, 0, NULL, 0) == -1)
			return -1;
		peer_check_done(b, c);
		return 0;
	case FDP_OP_RETRIEVE:
	case FDP_OP_LIST:
	case FDP_OP_DELETE:
		if (nfds > 0) {
			fdp_close_fds(fds, nfds);
			return client_send(c, h->op, 0, FDP_S_MALFORMED,
			    NULL, 0, NULL, 0);
		}
		if (h->op == FDP_OP_LIST)
			return broker_list(b, c);
		if (h->op == FDP_OP_DELETE)
			return client_send(c, h->op, 0,
			    broker_delete(b, payload, len), NULL, 0, NULL, 0);
		return broker_retrieve(b, c, h, payload, len);
	case FDP_OP_TAKEOVER:
		return broker_takeover(b, c, fds, nfds);
	default:
		fdp_close_fds(fds, nfds);
		return client_send(c, h->op, 0, FDP_S_UNSUPPORTED, NULL, 0,
		    NULL, 0);
	}
}

/* The status that answers a record fdp_recv_msg refused. */
static uint32_t
recv_error_status(ssize_t n)
{
	return n == FDP_ECTRUNC ? FDP_S_TRUNCATED : FDP_S_MALFORMED;
}

/* One request record is waiting: read it with its fds and answer it. */
static void
client_read(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	struct broker *b = c->b;
	unsigned char rec[4096];
	struct fdp_wire_header h;
	int fds[FDP_MAX_FDS], rc;
	size_t nfds = FDP_MAX_FDS;
	ssize_t n;

	(void)what;
	memset(rec, 0, sizeof(h));
	n = fdp_recv_msg(fd, rec, sizeof(rec), fds, &nfds);
	if (n == FDP_ESYS && errno == EAGAIN)
		return;
	if (n == 0 || n == FDP_ESYS) {
		client_free(c);
		return;
	}
	if (c->wait.g != NULL) {
		if (n > 0)
			fdp_close_fds(fds, nfds);
		client_free(c);		/* a waiting client may only hang up */
		return;
	}
	rc = fdp_header_check(rec, n > 0 ? (size_t)n : sizeof(rec), &h);
	if (rc == FDP_EPROTO)
		h.op = 0;
	if (n < 0)
		rc = client_send(c, h.op, 0, recv_error_status(n), NULL, 0,
		    NULL, 0);
	else if (rc != 0) {
		fdp_close_fds(fds, nfds);
		rc = client_send(c, h.op, 0, rc == FDP_EVERSION ?
		    FDP_S_VERSION : FDP_S_MALFORMED, NULL, 0, NULL, 0);
	} else {
		cmd_log_record("serve", fd, "->", &h, rec + sizeof(h),
		    (size_t)n - sizeof(h), fds, nfds);
		rc = broker_handle(b, c, &h, (const char *)rec + sizeof(h),
		    (size_t)n - sizeof(h), fds, nfds);
	}
	if (rc == -1)
		client_free(c);
}

/* A new connection becomes a client with its own read and write events. */
static void
client_new(struct broker *b, int fd)
{
	struct client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->b = b;
	c->fd = fd;
	c->wait.owner = c;
	STAILQ_INIT(&c->out);
	c->read_ev = event_new(b->base, fd, EV_READ | EV_PERSIST, client_read, c);
	c->write_ev = event_new(b->base, fd, EV_WRITE | EV_PERSIST,
	    client_flush, c);
	TAILQ_INSERT_TAIL(&b->clients, c, entry);
	if (c->read_ev == NULL || c->write_ev == NULL ||
	    event_add(c->read_ev, NULL) == -1)
		client_free(c);
}

/* Accept a connection; out of fds, rest on a timer rather than spin. */
static void
broker_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct broker *b = arg;
	int fd;

	(void)what;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0) {
		cmd_log("serve", "client %d connected", fd);
		if (b->peer)
			event_del(b->accept_ev);
		client_new(b, fd);
		return;
	}
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	    errno == ENOMEM) {
		event_del(b->accept_ev);
		evtimer_add(b->backoff_ev, &accept_backoff);
	}
}

/* After the backoff, try accepting again. */
static void
broker_accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct broker *b = arg;

	(void)fd;
	(void)what;
	event_add(b->accept_ev, NULL);
}

/* SIGTERM and SIGINT end the loop; cleanup follows in serve_run. */
static void
broker_stop(evutil_socket_t sig, short what, void *arg)
{
	struct broker *b = arg;

	(void)sig;
	(void)what;
	broker_notify(b, "STOPPING=1");
	event_base_loopbreak(b->base);
}

/*
 * Tell whoever waits on --ready-fd, and the service manager, that
 * connections are accepted now.
 */
static void
broker_ready(struct broker *b, int ready_fd)
{
	ssize_t n;

	broker_notify(b, "READY=1");
	if (ready_fd < 0)
		return;
	do
		n = write(ready_fd, "\n", 1);
	while (n == -1 && errno == EINTR);
	close(ready_fd);
}

/* Peer mode keeps the one group stored; the store closes its own copies. */
static void
peer_collect(const struct group *g, void *arg)
{
	struct broker *b = arg;
	size_t i;

	for (i = 0; i < g->nfds; i++) {
		b->peer_out->fds[i] = fcntl(g->fds[i], F_DUPFD_CLOEXEC, 0);
		if (b->peer_out->fds[i] == -1) {
			fdp_close_fds(b->peer_out->fds, i);
			return;
		}
	}
	b->peer_out->nfds = g->nfds;
	memcpy(b->peer_name, group_name(g), group_namelen(g));
	b->peer_name[group_namelen(g)] = '\0';
}

/*
 * Takeover, the new broker's side (serve --takeover): TAKEOVER brings the
 * listening socket and the groups, TAKEOVER_READY the clients, and
 * TAKEOVER_DONE lets the old broker go; only then does the loop start.
 */

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

/* Send a takeover request, op, with nothing attached. */
static int
takeover_request(int sock, uint16_t op)
{
	struct fdp_wire_header h;
	ssize_t n;

	fdp_header_init(&h, op, 0, 0);
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
	int rc;

	in->nfds = FDP_MAX_FDS;
	n = fdp_recv_msg(sock, in->rec, sizeof(in->rec), in->fds, &in->nfds);
	if (n <= 0) {
		in->nfds = 0;
		return n == 0 ? FDP_ECLOSED : (int)n;
	}
	rc = fdp_header_check(in->rec, (size_t)n, &in->h);
	if (rc == 0 && in->h.op != (op | FDP_OP_REPLY))
		rc = FDP_EPROTO;
	if (rc != 0) {
		fdp_close_fds(in->fds, in->nfds);
		in->nfds = 0;
		return rc;
	}
	in->payload = in->rec + sizeof(in->h);
	in->len = (size_t)n - sizeof(in->h);
	cmd_log_record("serve", -1, "<-", &in->h, in->payload, in->len,
	    in->fds, in->nfds);
	return 0;
}

/* Hold one group handed over, with the time left of its TTL. */
static int
takeover_group(struct broker *b, struct handover_in *in)
{
	struct fdp_wire_entry e;
	const char *name = (const char *)in->payload + sizeof(e);

	if ((in->h.flags & FDP_F_HANDOVER_GROUP) == 0 ||
	    in->len < sizeof(e))
		return FDP_EPROTO;
	memcpy(&e, in->payload, sizeof(e));
	if (e.nfds != in->nfds || in->len - sizeof(e) != e.name_len ||
	    fdp_name_check(name, e.name_len) != 0)
		return FDP_EPROTO;
	if (store_put(&b->store, name, e.name_len, in->fds, in->nfds, 0,
	    e.expires_in) != FDP_S_OK) {
		errno = ENOMEM;
		return FDP_ESYS;
	}
	in->nfds = 0;
	return 0;
}

/* TAKEOVER: the listening socket, then each group, then an empty record. */
static int
takeover_state(struct broker *b, int sock, struct handover_in *in)
{
	int rc;

	if ((rc = takeover_request(sock, FDP_OP_TAKEOVER)) != 0 ||
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
		if ((rc = takeover_group(b, in)) != 0)
			return rc;
	}
}

/*
 * Serve one client handed over, waiting again for the name it waited for;
 * NULL (it is dropped) when the broker cannot.
 */
static struct client *
takeover_client(struct broker *b, struct handover_in *in)
{
	struct fdp_wire_client wc;
	struct client *c;
	const char *name = (const char *)in->payload + sizeof(wc);
	size_t len = in->len - sizeof(wc);
	int fd = in->fds[0];

	memcpy(&wc, in->payload, sizeof(wc));
	in->nfds = 0;
	client_new(b, fd);
	TAILQ_FOREACH(c, &b->clients, entry)
		if (c->fd == fd)
			break;
	if (c == NULL || (wc.flags & FDP_F_WAIT) == 0)
		return c;
	if (fdp_name_check(name, len) != 0 || client_wait(c, name, len,
	    wc.wait_ms, (wc.flags & FDP_F_TAKE) != 0) == -1) {
		client_free(c);
		return NULL;
	}
	return c;
}

/* TAKEOVER_READY: each client, then the replies queued for it. */
static int
takeover_clients(struct broker *b, int sock, struct handover_in *in)
{
	struct client *c = NULL;
	int rc;

	if ((rc = takeover_request(sock, FDP_OP_TAKEOVER_READY)) != 0)
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
				client_free(c);
				c = NULL;
			}
			fdp_close_fds(in->fds, in->nfds);
			in->nfds = 0;
		} else
			return FDP_EPROTO;
	}
}

/*
 * Take the old broker's place: its socket, groups and clients. Returns 0,
 * or the exit status after a message; the old broker then serves on, and
 * what came over is closed with the store and the clients.
 */
static int
takeover_receive(struct broker *b)
{
	static struct handover_in in;
	int rc;

	rc = takeover_state(b, b->takeover_sock, &in);
	if (rc == 0 && in.h.status != FDP_S_OK) {
		cmd_warn("serve", "--takeover: %s",
		    fdp_status_text(in.h.status));
		return EXIT_REFUSED;
	}
	if (rc == 0)
		rc = takeover_clients(b, b->takeover_sock, &in);
	if (rc == 0)
		rc = takeover_request(b->takeover_sock, FDP_OP_TAKEOVER_DONE);
	if (rc == FDP_EVERSION) {
		cmd_warn("serve", "--takeover: the running broker speaks "
		    "protocol version %u, this fdpass speaks %d; it serves on",
		    (unsigned)in.h.version, FDP_PROTO_VERSION);
		return EXIT_SYSTEM;
	}
	if (rc != 0) {
		fdp_close_fds(in.fds, in.nfds);
		in.nfds = 0;
		cmd_warn("serve", "--takeover failed: %s; the running broker "
		    "serves on", fdp_strerror(rc));
		return EXIT_SYSTEM;
	}
	b->took_over = 1;
	cmd_log("serve", "took over: %zu groups, serving", b->store.ngroups);
	return 0;
}

/* Run the loop until a signal stops it, then close everything held. */
static int
broker_run(struct broker *b, int ready_fd)
{
	struct event *term_ev, *int_ev;
	struct client *c;
	int status = EXIT_SYSTEM, handover = 0;

	TAILQ_INIT(&b->clients);
	b->base = event_base_new();
	if (b->base == NULL || store_init(&b->store, b->base) == -1) {
		cmd_warn("serve", "cannot set up the event loop");
		if (b->base != NULL)
			event_base_free(b->base);
		return EXIT_SYSTEM;
	}
	if (b->fdstore)
		fdstore_adopt(&b->store, "serve", b->adopt_names, b->nadopt);
	b->store.on_change = broker_store_changed;
	b->store.on_change_arg = b;
	if (b->takeover_sock >= 0)
		handover = takeover_receive(b);
	b->accept_ev = event_new(b->base, b->listen_fd, EV_READ | EV_PERSIST,
	    broker_accept, b);
	b->backoff_ev = evtimer_new(b->base, broker_accept_resume, b);
	b->status_ev = evtimer_new(b->base, broker_status_send, b);
	term_ev = evsignal_new(b->base, SIGTERM, broker_stop, b);
	int_ev = evsignal_new(b->base, SIGINT, broker_stop, b);
	if (handover != 0)
		status = handover;
	else if (b->accept_ev == NULL || b->backoff_ev == NULL ||
	    b->status_ev == NULL || term_ev == NULL ||
	    int_ev == NULL || event_add(b->accept_ev, NULL) == -1 ||
	    event_add(term_ev, NULL) == -1 || event_add(int_ev, NULL) == -1)
		cmd_warn("serve", "cannot set up the event loop");
	else {
		broker_ready(b, ready_fd);
		status = event_base_dispatch(b->base) == -1 ? EXIT_SYSTEM : 0;
	}
	while ((c = TAILQ_FIRST(&b->clients)) != NULL)
		client_free(c);
	if (b->peer)
		store_foreach(&b->store, peer_collect, b);
	store_free(&b->store);
	if (b->accept_ev != NULL)
		event_free(b->accept_ev);
	if (b->backoff_ev != NULL)
		event_free(b->backoff_ev);
	if (b->status_ev != NULL)
		event_free(b->status_ev);
	if (term_ev != NULL)
		event_free(term_ev);
	if (int_ev != NULL)
		event_free(int_ev);
	event_base_free(b->base);
	return status;
}

/* Whether fd is a listening AF_UNIX SOCK_SEQPACKET socket, a broker's kind. */
static int
is_seqpacket_listener(int fd)
{
	int domain = 0, type = 0, listening = 0;
	socklen_t len = sizeof(int);

	getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len);
	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
	getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
	return domain == AF_UNIX && type == SOCK_SEQPACKET && listening;
}

/* Whether a LISTEN_FDNAMES name is one systemd gives a socket unit's fd. */
static int
is_socket_unit_name(const char *name)
{
	size_t len = strlen(name);

	return strcmp(name, "unknown") == 0 ||
	    (len > 7 && strcmp(name + len - 7, ".socket") == 0);
}

/*
 * Take what a service manager handed over through LISTEN_FDS, once: a
 * listening AF_UNIX SOCK_SEQPACKET socket to serve on (socket activation)
 * and, with --fdstore, the groups its fd store kept, which broker_run adopts.
 * systemd passes a socket unit's fds before the fd store's and names them
 * after the unit ("NAME.socket"; systemd-socket-activate: "unknown"), so
 * with --fdstore the listener is fd 3 when it is such a socket so named.
 * Without --fdstore a lone listener is all serve takes. Returns 1 with
 * b->listen_fd set, 0 without a listener, or -1 after saying why.
 */
static int
serve_inherited(struct broker *b, int fdstore)
{
	char **names;
	int n, listener;

	if ((n = fdp_listen_fds(&names)) <= 0) {
		if (n < 0)
			cmd_warn("serve", "%s", fdp_strerror(n));
		return n < 0 ? -1 : 0;
	}
	listener = is_seqpacket_listener(FDP_LISTEN_FDS_START) &&
	    (!fdstore || is_socket_unit_name(names[0]));
	if (!fdstore && (n != 1 || !listener)) {
		if (n == 1)
			cmd_warn("serve", "the socket handed over through "
			    "LISTEN_FDS is not a listening Unix SOCK_SEQPACKET "
			    "socket (use ListenSequentialPacket=, or "
			    "systemd-socket-activate --seqpacket)");
		else
			cmd_warn("serve", "%d fds handed over through LISTEN_FDS;"
			    " serve takes exactly one listening socket (and the "
			    "fd store's groups with --fdstore)", n);
		while (n-- > 0)
			close(FDP_LISTEN_FDS_START + n);
		free(names);
		return -1;
	}
	if (listener) {
		b->listen_fd = FDP_LISTEN_FDS_START;
		b->activated = 1;
		names[0] = NULL;
	}
	b->adopt_names = names;
	b->nadopt = n;
	return listener;
}

/* Close the fds handed over for adoption that no broker_run took. */
static void
serve_inherited_close(struct broker *b)
{
	int i;

	for (i = 0; i < b->nadopt; i++)
		if (b->adopt_names[i] != NULL)
			close(FDP_LISTEN_FDS_START + i);
	free(b->adopt_names);
	b->adopt_names = NULL;
	b->nadopt = 0;
}

/*
 * Listen at the address (-s, or the default), or on the socket a service
 * manager handed over, and run the broker there until it stops; serve and
 * peer mode both come here. b is zeroed but for the mode.
 */
static int
broker_serve_at(struct broker *b, const char *cmd, const char *socket_opt,
    int ready_fd)
{
	char addrbuf[PATH_MAX];
	const char *address = "the socket handed over through LISTEN_FDS";
	int rc, status;

	if (!b->activated) {
		address = fdp_broker_address(socket_opt, addrbuf,
		    sizeof(addrbuf));
		if (address == NULL) {
			cmd_warn(cmd, "the broker address: %s",
			    fdp_strerror(FDP_EADDRLEN));
			return EXIT_USAGE;
		}
		if ((rc = fdp_addr_parse(address, &b->addr)) != 0) {
			cmd_warn(cmd, "%s: %s", address, fdp_strerror(rc));
			return EXIT_USAGE;
		}
		b->listen_fd = fdp_listen_unix(&b->addr, SOCK_SEQPACKET, 1);
		if (b->listen_fd < 0) {
			cmd_warn(cmd, "cannot listen on %s: %s", address,
			    fdp_strerror(b->listen_fd));
			return EXIT_SYSTEM;
		}
	}
	if (fcntl(b->listen_fd, F_SETFL, O_NONBLOCK) == -1) {
		cmd_warn(cmd, "%s: %s", address, strerror(errno));
		status = EXIT_SYSTEM;
	} else {
		signal(SIGPIPE, SIG_IGN);
		cmd_log(cmd, "listening on %s", address);
		status = broker_run(b, ready_fd);
	}
	close(b->listen_fd);
	if (!b->handed_over && !b->activated)
		fdp_unlink_unix(&b->addr);
	return status;
}

/*
 * serve --takeover: connect to the broker running at the address, check it
 * is of our user or root (root may take over anyone's; a root broker
 * decides for itself), and take its place; the socket file stays.
 */
static int
broker_take_over(struct broker *b, const char *socket_opt, int ready_fd)
{
	char addrbuf[PATH_MAX];
	const char *address;
	struct fdp_cred cred;
	int rc, status;

	address = fdp_broker_address(socket_opt, addrbuf, sizeof(addrbuf));
	if (address == NULL || (rc = fdp_addr_parse(address, &b->addr)) != 0) {
		cmd_warn("serve", "%s: %s", address ? address : socket_opt,
		    fdp_strerror(address ? rc : FDP_EADDRLEN));
		return EXIT_USAGE;
	}
	if ((b->takeover_sock = cmd_connect("serve", address, &status)) == -1)
		return status;
	if (fdp_peer_cred(b->takeover_sock, &cred) != 0 ||
	    (cred.uid != geteuid() && cred.uid != 0 && geteuid() != 0)) {
		cmd_warn("serve", "--takeover: the broker at %s runs as "
		    "another user; only that user or root may take it over",
		    address);
		close(b->takeover_sock);
		return EXIT_REFUSED;
	}
	if (setsockopt(b->takeover_sock, SOL_SOCKET, SO_RCVTIMEO,
	    &takeover_timeout, sizeof(takeover_timeout)) == -1) {
		cmd_warn("serve", "--takeover: %s", strerror(errno));
		close(b->takeover_sock);
		return EXIT_SYSTEM;
	}
	b->listen_fd = -1;
	signal(SIGPIPE, SIG_IGN);
	status = broker_run(b, ready_fd);
	close(b->takeover_sock);
	if (b->listen_fd >= 0)
		close(b->listen_fd);
	if (b->took_over)
		fdp_unlink_unix(&b->addr);
	return status;
}

static const struct option serve_options[] = {
	{ "socket",	required_argument,	NULL,	's' },
	{ "ready-fd",	required_argument,	NULL,	'r' },
	{ "fdstore",	no_argument,		NULL,	'F' },
	{ "takeover",	no_argument,		NULL,	'T' },
	{ "verbose",	no_argument,		NULL,	'v' },
	{ "help",	no_argument,		NULL,	'h' },
	{ NULL,		0,			NULL,	0 }
};

static int
serve_run(int argc, char **argv)
{
	struct broker b;
	const char *socket_opt = NULL;
	int ch, ready_fd = -1, fdstore = 0, takeover = 0, status;

	while ((ch = getopt_long(argc, argv, "+s:vh", serve_options, NULL)) != -1) {
		switch (ch) {
		case 's':
			socket_opt = optarg;
			break;
		case 'v':
			cmd_verbose = 1;
			break;
		case 'F':
			fdstore = 1;
			break;
		case 'T':
			takeover = 1;
			break;
		case 'r':
			ready_fd = cmd_parse_int(optarg);
			if (!fdp_fd_is_open(ready_fd)) {
				cmd_warn("serve", "--ready-fd %s: not an open "
				    "file descriptor", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			return cmd_usage(&cmd_serve, stdout, 0);
		default:
			return cmd_usage(&cmd_serve, stderr, EXIT_USAGE);
		}
	}
	if (optind != argc)
		return cmd_usage(&cmd_serve, stderr, EXIT_USAGE);
	if (fdstore && takeover) {
		cmd_warn("serve",
		    "--fdstore and --takeover do not go together");
		return EXIT_USAGE;
	}
	memset(&b, 0, sizeof(b));
	b.notify_fd = -1;
	b.takeover_sock = -1;
	if (takeover)
		return broker_take_over(&b, socket_opt, ready_fd);
	if ((status = serve_inherited(&b, fdstore)) == -1)
		return EXIT_SYSTEM;
	if (status == 1 && socket_opt != NULL) {
		cmd_warn("serve", "-s %s: the broker was handed its socket "
		    "through LISTEN_FDS; drop -s", socket_opt);
		close(b.listen_fd);
		serve_inherited_close(&b);
		return EXIT_USAGE;
	}
	b.fdstore = fdstore;
	if (fdstore)
		b.notify_fd = fdstore_open("serve", &status);
	else
		b.notify_fd = cmd_notify_open("serve");
	if (fdstore && b.notify_fd == -1) {
		if (b.activated)
			close(b.listen_fd);
		serve_inherited_close(&b);
		return status;
	}
	status = broker_serve_at(&b, "serve", socket_opt, ready_fd);
	serve_inherited_close(&b);
	if (b.notify_fd >= 0)
		close(b.notify_fd);
	return status;
}

int
serve_peer(const char *cmd, const char *socket_opt, struct fdp_reply *r,
    char *name)
{
	struct broker b;
	int status;

	memset(&b, 0, sizeof(b));
	b.notify_fd = -1;
	b.takeover_sock = -1;
	b.peer = 1;
	b.peer_out = r;
	b.peer_name = name;
	r->nfds = 0;
	status = broker_serve_at(&b, cmd, socket_opt, -1);
	if (status == 0 && r->nfds == 0) {
		cmd_warn(cmd, "the sender left without storing a group");
		status = EXIT_SYSTEM;
	}
	return status;
}

const struct cmd_entry cmd_serve = {
	"serve",
	"serve [-v] [-s ADDR] [--ready-fd N] [--fdstore | --takeover]\n"
	"Run the broker: hold named groups of fds until SIGTERM or SIGINT.\n"
	"  -s, --socket ADDR  address to listen on (path or @abstract); not\n"
	"                     with a socket handed over through LISTEN_FDS\n"
	"      --ready-fd N   write a newline to fd N once accepting\n"
	"      --fdstore      mirror the groups in the service manager's fd\n"
	"                     store ($NOTIFY_SOCKET) and adopt those it hands\n"
	"                     back through LISTEN_FDS on start\n"
	"      --takeover     take the place of the broker running at ADDR:\n"
	"                     its socket, groups and clients; it exits 0\n"
	"  -v, --verbose      log each request and reply to stderr\n"
	"With LISTEN_FDS (systemd socket activation) it serves on the listening\n"
	"SOCK_SEQPACKET socket handed over; with NOTIFY_SOCKET it sends READY=1,\n"
	"STATUS= and STOPPING=1 to the service manager.\n",
	serve_run,
};
