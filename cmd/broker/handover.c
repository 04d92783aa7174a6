/*
 * handover.c: a takeover, the old broker's side: its socket, groups and
 * clients handed over to the new broker, each step bounded; the groups
 * either all at once, or copied while this broker still serves (a live
 * copy), the names changed behind the copy sent again at the pause. The
 * new broker's side is takeover.c's.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/sockios.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
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

/*
 * A live copy's bounds: how long it may run before the pause comes, and
 * how many bytes of names changed behind it it keeps; past those, it
 * starts again from the first name (the new broker forgets what it got).
 */
#define LIVE_COPY_MS		10000
#define LIVE_CHANGED_MAX	(1 << 20)

/*
 * The old broker's end of a takeover: the connection, the step's end, and
 * whether a full socket is waited on (not while a live copy serves).
 */
struct handover {
	int		 sock;		/* non-blocking */
	struct timespec	 deadline;
	int		 failed;
	int		 serving;
};

/* What handover_send and handover_next say of a record not sent yet. */
#define HANDOVER_LATER	(-2)

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

/*
 * Send one handover record, a reply to op (fds borrowed): 0, -1 when the
 * takeover failed, HANDOVER_LATER when the socket is full while serving.
 */
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
	    nfds)) == FDP_ESYS && errno == EAGAIN) {
		if (ho->serving)
			return HANDOVER_LATER;
		if (handover_wait(ho, POLLOUT) == -1)
			break;
	}
	if (n < 0)
		ho->failed = 1;
	return n < 0 ? -1 : 0;
}

/* Where a takeover's groups stand: the last name sent (none: from the first). */
struct cursor {
	uint8_t		 len;
	char		 name[255];
};

/* Room for one record of groups. */
static const struct group *pick[STORE_LIST_ROOM(FDP_PROTO_MAX_RECORD,
    sizeof(struct fdp_wire_entry))];
static unsigned char record[FDP_PROTO_MAX_RECORD -
    sizeof(struct fdp_wire_header)];
static int record_fds[FDP_MAX_FDS];

/* Every held group goes over. */
static int
handover_any(const struct group *g, void *arg)
{
	(void)g;
	(void)arg;
	return 1;
}

/*
 * Send the groups named after the cursor, in name order, in one record:
 * as many whole groups as its payload and 253 fds hold (HANDOVER_GROUPS),
 * or, to a new broker that did not ask for them so (FDP_F_BATCH), one
 * (HANDOVER_GROUP); the cursor moves past them once they went. Returns
 * how many went (0: none were left), or what handover_send said.
 */
static int
handover_next(struct broker *b, struct handover *ho, int batch,
    struct cursor *at)
{
	size_t n, len, nfds = 0;
	int more, rc;

	n = store_list_next(&b->store, at->name, at->len, handover_any, NULL,
	    sizeof(record), sizeof(struct fdp_wire_entry), FDP_MAX_FDS, pick,
	    &more);
	if (n == 0)
		return 0;
	if (!batch)
		n = 1;
	len = entries_put(record, pick, n, record_fds, &nfds);
	if ((rc = handover_send(ho, FDP_OP_TAKEOVER, FDP_F_MORE | (batch ?
	    FDP_F_HANDOVER_GROUPS : FDP_F_HANDOVER_GROUP), record, len,
	    record_fds, nfds)) != 0)
		return rc;
	at->len = (uint8_t)group_namelen(pick[n - 1]);
	memcpy(at->name, group_name(pick[n - 1]), at->len);
	return (int)n;
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

/* A takeover failed: this broker serves on as before. */
static void
handover_failed(const struct client *taker)
{
	cmd_warn("serve", "takeover by pid %ld failed halfway; serving on",
	    (long)taker->cred.pid);
}

/*
 * The end of every takeover, with nothing served meanwhile: the record
 * that ends the state, TAKEOVER_READY awaited, the clients but the taker,
 * TAKEOVER_DONE awaited; the loop then ends, the exit status 0. -1 when
 * the new broker failed a step.
 */
static int
handover_finish(struct broker *b, struct handover *ho, struct client *taker)
{
	struct client *other;

	if (handover_send(ho, FDP_OP_TAKEOVER, 0, NULL, 0, NULL, 0) == -1 ||
	    handover_await(ho, FDP_OP_TAKEOVER_READY) == -1)
		return -1;
	handover_step(ho);
	TAILQ_FOREACH(other, &b->clients, entry)
		if (other != taker && !other->dead &&
		    handover_client(ho, other) == -1)
			return -1;
	if (handover_send(ho, FDP_OP_TAKEOVER_READY, 0, NULL, 0, NULL,
	    0) == -1 || handover_await(ho, FDP_OP_TAKEOVER_DONE) == -1)
		return -1;
	cmd_log("serve", "pid %ld serves now; exiting", (long)taker->cred.pid);
	b->handed_over = 1;
	event_base_loopbreak(b->base);
	return 0;
}

/*
 * A takeover all at once: the listening socket, every group, then the
 * end, serving nobody meanwhile. Returns -1 to drop the taker.
 */
static int
handover_all(struct broker *b, struct client *taker, int batch)
{
	struct handover ho = { taker->fd, { 0, 0 }, 0, 0 };
	struct cursor at = { 0, { 0 } };
	int n;

	handover_step(&ho);
	handover_send(&ho, FDP_OP_TAKEOVER, FDP_F_MORE |
	    FDP_F_HANDOVER_LISTENER, NULL, 0, &b->listen_fd, 1);
	while ((n = handover_next(b, &ho, batch, &at)) > 0)
		continue;
	if (n == 0 && !ho.failed && handover_finish(b, &ho, taker) == 0)
		return 0;
	handover_failed(taker);
	return -1;
}

/*
 * A live copy under way: the taker and its connection, where the copy
 * stands, and the names changed behind it since (a length byte and the
 * name each, the last one kept at last).
 */
struct live {
	struct client	*taker;
	struct event	*write_ev;	/* the taker's socket has room */
	struct event	*end_ev;	/* the pause comes then at the latest */
	struct event	*drain_ev;	/* all sent: is it all read yet? */
	struct handover	 ho;
	struct cursor	 at;
	int		 again;		/* start again from the first name */
	unsigned char	*changed;
	size_t		 changedlen;
	size_t		 changedroom;
	size_t		 last;
};

/* The live copy ends, whichever way. */
static void
live_free(struct broker *b)
{
	struct live *lv = b->live;

	event_free_made(lv->write_ev);
	event_free_made(lv->end_ev);
	event_free_made(lv->drain_ev);
	free(lv->changed);
	free(lv);
	b->live = NULL;
}

/*
 * Keep a name changed behind the copy, once in a row; past
 * LIVE_CHANGED_MAX bytes, the copy starts again instead.
 */
static void
live_keep(struct live *lv, const char *name, size_t len)
{
	unsigned char *p;
	size_t room;

	if (lv->changedlen > 0 && lv->changed[lv->last] == len &&
	    memcmp(lv->changed + lv->last + 1, name, len) == 0)
		return;
	if (lv->changedlen + 1 + len > lv->changedroom) {
		room = lv->changedroom < 4096 ? 4096 : 2 * lv->changedroom;
		if (room > LIVE_CHANGED_MAX ||
		    (p = realloc(lv->changed, room)) == NULL) {
			lv->again = 1;
			return;
		}
		lv->changed = p;
		lv->changedroom = room;
	}
	lv->last = lv->changedlen;
	lv->changed[lv->changedlen] = (uint8_t)len;
	memcpy(lv->changed + lv->changedlen + 1, name, len);
	lv->changedlen += 1 + len;
}

/*
 * Start the copy again from the first name, when it kept more changed
 * names than it may: an empty HANDOVER_GONE tells the new broker to
 * forget every group it got.
 */
static int
live_again(struct live *lv)
{
	int rc;

	if ((rc = handover_send(&lv->ho, FDP_OP_TAKEOVER, FDP_F_MORE |
	    FDP_F_HANDOVER_GONE, NULL, 0, NULL, 0)) != 0)
		return rc;
	lv->again = 0;
	lv->at.len = 0;
	lv->changedlen = 0;
	return 0;
}

/*
 * A group was stored, replaced or let go while the copy runs: one behind
 * the copy is sent again (or said gone) at the pause.
 */
void
handover_changed(struct broker *b, const struct group *g)
{
	struct live *lv = b->live;

	if (lv == NULL || lv->again || lv->at.len == 0 ||
	    store_name_cmp(group_name(g), group_namelen(g), lv->at.name,
	    lv->at.len) > 0)
		return;
	live_keep(lv, group_name(g), group_namelen(g));
}

/* Send what the pause gathered, when there is any: groups or GONE names. */
static void
live_send(struct live *lv, uint32_t what, const void *payload, size_t len,
    const int *fds, size_t nfds)
{
	if (len > 0)
		handover_send(&lv->ho, FDP_OP_TAKEOVER, FDP_F_MORE | what,
		    payload, len, fds, nfds);
}

/*
 * At the pause, each name changed behind the copy: its group as it is
 * now (with its TTL's time left now), or, when none is held, GONE.
 */
static int
live_send_changed(struct broker *b, struct live *lv)
{
	static unsigned char gone[FDP_PROTO_MAX_RECORD -
	    sizeof(struct fdp_wire_header)];
	const struct group *g;
	size_t off, n, len = 0, gonelen = 0, nfds = 0;
	const char *name;

	for (off = 0; off < lv->changedlen; off += 1 + n) {
		n = lv->changed[off];
		name = (const char *)lv->changed + off + 1;
		if ((g = store_find(&b->store, name, n)) != NULL) {
			if (len + sizeof(struct fdp_wire_entry) + n >
			    sizeof(record) || nfds + g->nfds > FDP_MAX_FDS) {
				live_send(lv, FDP_F_HANDOVER_GROUPS, record, len,
				    record_fds, nfds);
				len = nfds = 0;
			}
			len += entries_put(record + len, &g, 1, record_fds,
			    &nfds);
			continue;
		}
		if (gonelen + 1 + n > sizeof(gone)) {
			live_send(lv, FDP_F_HANDOVER_GONE, gone, gonelen, NULL,
			    0);
			gonelen = 0;
		}
		gone[gonelen] = (uint8_t)n;
		memcpy(gone + gonelen + 1, name, n);
		gonelen += 1 + n;
	}
	live_send(lv, FDP_F_HANDOVER_GROUPS, record, len, record_fds, nfds);
	live_send(lv, FDP_F_HANDOVER_GONE, gone, gonelen, NULL, 0);
	return lv->ho.failed ? -1 : 0;
}

/*
 * The pause: serving stops; the groups the copy has not reached yet and
 * those changed behind it go over, then the clients. On failure the taker
 * is dropped, which ends the copy (handover_dropped), and this broker
 * serves on.
 */
static void
live_pause(struct broker *b)
{
	struct live *lv = b->live;
	struct client *taker = lv->taker;
	int n;

	event_del(lv->write_ev);
	event_del(lv->end_ev);
	event_del(lv->drain_ev);
	lv->ho.serving = 0;
	handover_step(&lv->ho);
	n = lv->again ? live_again(lv) : 0;
	if (n == 0)
		while ((n = handover_next(b, &lv->ho, 1, &lv->at)) > 0)
			continue;
	if (n == 0 && live_send_changed(b, lv) == 0 &&
	    handover_finish(b, &lv->ho, taker) == 0)
		live_free(b);
	else
		client_drop(taker);
}

/*
 * The copy is all sent: the pause waits, serving, until the new broker has
 * read it all (SIOCOUTQ is 0), looking each millisecond, so that no client
 * waits while the new broker stores what was queued for it; the copy's
 * time still bounds the wait.
 */
static void
live_drain(evutil_socket_t fd, short what, void *arg)
{
	static const struct timeval tick = { 0, 1000 };
	struct broker *b = arg;
	int unread;

	(void)fd;
	(void)what;
	if (ioctl(b->live->ho.sock, SIOCOUTQ, &unread) == 0 && unread > 0 &&
	    evtimer_add(b->live->drain_ev, &tick) == 0)
		return;
	live_pause(b);
}

/*
 * The taker's socket has room: send it the next record of the copy, TTL'd
 * groups kept to be sent again at the pause with their time left then;
 * once none is left, the pause comes when the new broker has read them. A full socket waits for the next
 * turn; the taker's --client-timeout starts again with each record.
 */
static void
live_more(evutil_socket_t fd, short what, void *arg)
{
	struct broker *b = arg;
	struct live *lv = b->live;
	struct client *taker = lv->taker;
	int i, n;

	(void)fd;
	(void)what;
	n = lv->again ? live_again(lv) : 0;
	if (n == 0)
		n = handover_next(b, &lv->ho, 1, &lv->at);
	if (n == HANDOVER_LATER)
		return;
	if (n == 0) {
		event_del(lv->write_ev);
		live_drain(-1, 0, b);
		return;
	}
	if (n == -1) {
		client_drop(taker);	/* which ends the copy */
		return;
	}
	for (i = 0; i < n; i++)
		if (pick[i]->ttl_ev != NULL)
			live_keep(lv, group_name(pick[i]),
			    group_namelen(pick[i]));
	client_touch(taker);
}

/* The copy's time is up: the pause comes now. */
static void
live_ends(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	live_pause(arg);
}

/*
 * Start a live copy: the listening socket now, the groups as the taker's
 * socket takes them, from the loop; without the memory for it, the
 * takeover goes all at once. Returns -1 to drop the taker, which ends
 * the copy (handover_dropped).
 */
static int
live_start(struct broker *b, struct client *taker)
{
	static const struct timeval copy_time = { LIVE_COPY_MS / 1000, 0 };
	struct live *lv;

	if ((lv = calloc(1, sizeof(*lv))) == NULL)
		return handover_all(b, taker, 1);
	b->live = lv;
	lv->taker = taker;
	lv->ho.sock = taker->fd;
	lv->write_ev = event_new(b->base, taker->fd, EV_WRITE | EV_PERSIST,
	    live_more, b);
	lv->end_ev = evtimer_new(b->base, live_ends, b);
	lv->drain_ev = evtimer_new(b->base, live_drain, b);
	if (lv->write_ev == NULL || lv->end_ev == NULL ||
	    lv->drain_ev == NULL) {
		live_free(b);
		return handover_all(b, taker, 1);
	}
	handover_step(&lv->ho);
	if (handover_send(&lv->ho, FDP_OP_TAKEOVER, FDP_F_MORE |
	    FDP_F_HANDOVER_LISTENER, NULL, 0, &b->listen_fd, 1) == 0 &&
	    event_add(lv->write_ev, NULL) == 0 &&
	    evtimer_add(lv->end_ev, &copy_time) == 0) {
		lv->ho.serving = 1;
		return 0;
	}
	return -1;	/* dropping the taker ends the copy */
}

/* Whether c is a live copy's taker, which may only wait for the pause. */
int
handover_copying(const struct client *c)
{
	return c->b->live != NULL && c->b->live->taker == c;
}

/* The taker of a live copy was dropped (it sent something, or left). */
void
handover_dropped(struct client *c)
{
	if (!handover_copying(c))
		return;
	live_free(c->b);
	handover_failed(c);
}

/* SIGTERM during a live copy: the pause comes now, rather than a stop. */
void
handover_now(struct broker *b)
{
	if (b->live != NULL)
		live_pause(b);
}

/*
 * TAKEOVER, from a client access_check found to be of our user or root,
 * with the request's flags: a live copy when the new broker asks for one
 * (FDP_F_LIVE with FDP_F_BATCH) and this broker is not stopping, else all
 * at once; each step within HANDOVER_STEP_MS. A second TAKEOVER while a
 * live copy runs is answered BUSY. Returns -1 to drop the taker, this
 * broker serving on as before.
 */
int
broker_takeover(struct broker *b, struct client *c, uint32_t flags)
{
	if (b->peer)
		return client_send(c, FDP_OP_TAKEOVER, 0, FDP_S_UNSUPPORTED,
		    NULL, 0, NULL, 0);
	if (b->live != NULL)
		return client_send(c, FDP_OP_TAKEOVER, 0, FDP_S_BUSY, NULL, 0,
		    NULL, 0);
	cmd_log("serve", "pid %ld takes over", (long)c->cred.pid);
	watch_takeover_begins(b);
	if ((flags & (FDP_F_LIVE | FDP_F_BATCH)) ==
	    (FDP_F_LIVE | FDP_F_BATCH) && !b->stopping)
		return live_start(b, c);
	return handover_all(b, c, (flags & FDP_F_BATCH) != 0);
}
