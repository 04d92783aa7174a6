/*
 * serve.c: `fdpass serve`, the broker. One libevent loop watches a listening
 * SOCK_SEQPACKET socket and each client with a plain event; requests are read
 * with our own recvmsg (fdp_recv_msg), never through a bufferevent, which
 * would read without a control buffer and lose the fds.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <linux/sockios.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "access.h"
#include "cmd.h"
#include "broker-limits.h"
#include "fdstore.h"
#include "request.h"
#include "store.h"

/* A reply the client's socket had no room for yet; it owns its fds. */
struct outrec {
	STAILQ_ENTRY(outrec)	 entry;
	size_t			 len;
	size_t			 nfds;
	int			*fds;		/* after data, in the same allocation */
	unsigned char		 data[];
};

struct broker;

/*
 * A connection. It is read only while nothing holds it back: a reply still
 * queued or a LIST still being sent (a client gets its answers before it is
 * heard again, so its queue is one record at most), its replies in flight
 * past its share (stalled), the broker short of fds for a request that
 * carries some (paused), or a wait (it may only hang up). A client dropped
 * is marked dead and freed by the reaper from the loop, so that no loop
 * walking the clients ever meets a freed one.
 */
struct client {
	TAILQ_ENTRY(client)	 entry;
	struct broker		*b;
	int			 fd;
	struct fdp_cred		 cred;		/* as of connect() */
	int			 trusted;	/* the broker's own uid, or root */
	int			 dead;		/* dropped; the reaper frees it */
	int			 paused;	/* not read until the broker has room */
	int			 stalled;	/* not read until its fds in flight are */
	size_t			 inflight;	/* fds sent or queued to it, maybe unread */
	struct event		*read_ev;
	struct event		*write_ev;
	struct event		*idle_ev;	/* --client-timeout */
	struct event		*hangup_ev;	/* a client not read went away */
	STAILQ_HEAD(, outrec)	 out;
	struct waiter		 wait;		/* RETRIEVE with FDP_F_WAIT */
	struct event		*wait_ev;	/* its timeout, made on first use */
	int			 listing;	/* a LIST goes on after list_after */
	uint8_t			 list_afterlen;
	char			 list_after[255];
};

struct broker {
	struct event_base	*base;
	struct fdp_addr		 addr;
	struct fdp_sockfile	 sockfile;	/* a path socket's file, to remove */
	mode_t			 mode;		/* --mode */
	int			 listen_fd;
	int			 activated;	/* listen_fd came through LISTEN_FDS */
	int			 notify_fd;	/* to $NOTIFY_SOCKET, or -1 */
	struct event		*status_ev;
	struct event		*accept_ev;
	struct event		*backoff_ev;
	struct event		*drain_ev;	/* bounds the SIGTERM drain */
	struct event		*resume_ev;	/* the store freed fds */
	struct event		*reap_ev;	/* frees the clients dropped */
	struct event		*inflight_ev;	/* polls fds in flight while held back */
	struct store		 store;
	TAILQ_HEAD(, client)	 clients;	/* the dead too, until reaped */
	size_t			 nclients;	/* not counting the dead */
	size_t			 npaused;
	size_t			 nstalled;
	size_t			 nwaiting;	/* waiting clients of other uids */
	size_t			 queued_fds;	/* fds held in replies not yet sent */
	size_t			 inflight;	/* fds sent or queued to clients */
	int			 wake_owed;	/* a STORE's waiters wait for room in flight */
	int			 stopping;	/* SIGTERM came: draining */
	struct access_policy	 policy;
	struct broker_limits	 limits;
	int			 peer;		/* peer mode: one client, one STORE */
	int			 peer_stored;	/* peer mode: the STORE came */
	struct fdp_reply	*peer_out;	/* peer mode: the group's fds */
	char			*peer_name;	/* peer mode: its name (256 bytes) */
	int			 fdstore;	/* --fdstore: mirror the store there */
	char			**adopt_names;	/* LISTEN_FDNAMES of fds to adopt */
	int			 nadopt;	/* (NULL names: not to adopt) */
	int			 takeover_sock;	/* --takeover: the old one; or -1 */
	int			 handed_over;	/* a new broker took over */
	const char		*takeover_why;	/* why this broker refused a takeover */
};

/* How long accept() rests after running out of fds, instead of spinning. */
static const struct timeval accept_backoff = { 0, 100 * 1000 };

/* How long a stopping broker waits for requests in flight to be answered. */
static const struct timeval drain_timeout = { 5, 0 };

/* How often the fds in flight are looked at while clients wait for room. */
static const struct timeval inflight_poll = { 0, 10 * 1000 };

static void	broker_resume(struct broker *);
static void	broker_drained(struct broker *);
static void	client_drain_check(struct client *);
static int	client_list_continue(struct client *);

/* Any sign of life from a client restarts its --client-timeout. */
static void
client_touch(struct client *c)
{
	struct timeval tv = { (time_t)c->b->limits.client_timeout, 0 };

	if (c->b->limits.client_timeout != 0 && !c->dead && c->idle_ev != NULL)
		evtimer_add(c->idle_ev, &tv);
}

/*
 * Poll what the client's state lets the loop wait for: its requests,
 * room to send what is queued, or only its hanging up.
 */
static void
client_arm(struct client *c)
{
	int held = c->paused || c->stalled;

	if (c->dead)
		return;
	if (STAILQ_EMPTY(&c->out))
		event_del(c->write_ev);
	else
		event_add(c->write_ev, NULL);
	if (!held && STAILQ_EMPTY(&c->out) && !c->listing)
		event_add(c->read_ev, NULL);
	else
		event_del(c->read_ev);
	if (held)
		event_add(c->hangup_ev, NULL);
	else
		event_del(c->hangup_ev);
}

/*
 * A waiting client stops waiting: its name entry and timer forget it, and
 * its --client-timeout, stopped while it waited, runs again.
 */
static void
client_stop_waiting(struct client *c)
{
	if (c->wait.g == NULL)
		return;
	store_unwait(&c->b->store, &c->wait);
	evtimer_del(c->wait_ev);
	if (!c->trusted)
		c->b->nwaiting--;
	client_touch(c);
}

/* In peer mode the loop ends once the one client is answered or gone. */
static void
peer_check_done(struct broker *b, struct client *c)
{
	if (b->peer && (c == NULL || c->dead ||
	    (b->peer_stored && STAILQ_EMPTY(&c->out))))
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

/* A queued reply goes away with the fds it lent. */
static void
outrec_free(struct broker *b, struct outrec *o)
{
	b->queued_fds -= o->nfds;
	fdp_close_fds(o->fds, o->nfds);
	free(o);
}

/* Free an event that may never have been made. */
static void
event_free_made(struct event *ev)
{
	if (ev != NULL)
		event_free(ev);
}

/* Stop an event that may never have been made. */
static void
event_del_made(struct event *ev)
{
	if (ev != NULL)
		event_del(ev);
}

/*
 * Drop a client: close its connection and let go of everything it had,
 * queued fds and its share of the fds in flight included, at once; its
 * memory waits for the reaper, so that whoever is walking the clients (or
 * was answering this one) can still look at it. Safe to call twice.
 */
static void
client_drop(struct client *c)
{
	struct broker *b = c->b;
	struct outrec *o;

	if (c->dead)
		return;
	client_stop_waiting(c);
	c->dead = 1;
	while ((o = STAILQ_FIRST(&c->out)) != NULL) {
		STAILQ_REMOVE_HEAD(&c->out, entry);
		outrec_free(b, o);
	}
	event_del_made(c->read_ev);
	event_del_made(c->write_ev);
	event_del_made(c->idle_ev);
	event_del_made(c->hangup_ev);
	if (c->paused)
		b->npaused--;
	if (c->stalled)
		b->nstalled--;
	b->inflight -= c->inflight;
	c->inflight = 0;
	c->listing = 0;
	close(c->fd);
	c->fd = -1;
	b->nclients--;
	event_active(b->reap_ev, EV_TIMEOUT, 1);
	peer_check_done(b, NULL);
	broker_resume(b);
	broker_drained(b);
}

/* Free one client's memory; it was dropped before. */
static void
client_free(struct client *c)
{
	TAILQ_REMOVE(&c->b->clients, c, entry);
	event_free_made(c->read_ev);
	event_free_made(c->write_ev);
	event_free_made(c->idle_ev);
	event_free_made(c->hangup_ev);
	event_free_made(c->wait_ev);
	free(c);
}

/* The reaper: free the clients dropped, from the loop, walking no one else. */
static void
broker_reap(evutil_socket_t fd, short what, void *arg)
{
	struct broker *b = arg;
	struct client *c, *next;

	(void)fd;
	(void)what;
	for (c = TAILQ_FIRST(&b->clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->dead)
			client_free(c);
	}
}

/*
 * An idle or half-sent client is dropped, with whatever it had; so is a
 * client not read that hung up, whose end of file nobody reads.
 */
static void
client_expire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_drop(arg);
}

/*
 * The fds a client reads stop being in flight, which only the socket can
 * tell: once nothing sent to it is left unread (SIOCOUTQ is 0) and nothing
 * is queued, its share is free again.
 */
static void
client_inflight_read(struct client *c)
{
	int unread;

	if (c->inflight == 0 || !STAILQ_EMPTY(&c->out) ||
	    ioctl(c->fd, SIOCOUTQ, &unread) == -1 || unread != 0)
		return;
	c->b->inflight -= c->inflight;
	c->inflight = 0;
}

/*
 * Whether nfds more may go out to the client: within its own share and
 * within --max-inflight, less what is kept for the owner unless it is the
 * owner. The kernel charges fds in flight to the broker's uid, up to its fd
 * limit, and pins their memory: one client that never reads must not use
 * that up for everyone.
 */
static int
client_inflight_room(const struct client *c, size_t nfds)
{
	return c->inflight + nfds <= c->b->limits.client_inflight &&
	    c->b->inflight + nfds <= limits_inflight(&c->b->limits,
	    c->trusted);
}

/* Count fds that go out to a client (sent or queued) as in flight. */
static void
client_inflight_add(struct client *c, size_t nfds)
{
	c->inflight += nfds;
	c->b->inflight += nfds;
}

/* Look at the fds in flight again soon, while some client waits for room. */
static void
broker_inflight_later(struct broker *b)
{
	if (!evtimer_pending(b->inflight_ev, NULL))
		evtimer_add(b->inflight_ev, &inflight_poll);
}

/* Hold a client back until the fds in flight to it, or to all, are read. */
static void
client_stall(struct client *c)
{
	if (!c->stalled) {
		c->stalled = 1;
		c->b->nstalled++;
		client_arm(c);
	}
	broker_inflight_later(c->b);
}

/* The payload of a FULL reply: what is full. */
static uint32_t full_why[] = { 0, FDP_FULL_FDS, FDP_FULL_CLIENTS,
    FDP_FULL_WAITERS, FDP_FULL_INFLIGHT };

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
	c->b->queued_fds += o->nfds;
	STAILQ_INSERT_TAIL(&c->out, o, entry);
	client_arm(c);
	return 0;
}

static int	broker_fds_room(const struct broker *, size_t);

/*
 * Every reply goes out through here: send a reply record now if the socket
 * takes it, else queue it (with copies of its fds, if the broker has room
 * for them); fds are borrowed. fds the kernel will not carry now (the
 * broker's uid has too many in flight) or that cannot be queued make the
 * answer FULL, the broker's failure, not the client's. Returns 0 when the
 * reply went out (or waits in the queue) as asked, 1 when FULL went in its
 * place (the fds were not handed out), -1 when the client cannot be
 * answered at all and is to be dropped.
 */
static int
client_send(struct client *c, uint16_t op, uint32_t flags, uint32_t status,
    const void *payload, size_t len, const int *fds, size_t nfds)
{
	unsigned char rec[FDP_PROTO_MAX_RECORD];
	struct fdp_wire_header h;
	ssize_t n;

	if (c->dead)
		return -1;
	fdp_header_init(&h, op | FDP_OP_REPLY, flags, status);
	cmd_log_record("serve", c->fd, "<-", &h, payload, len, fds, nfds);
	memcpy(rec, &h, sizeof(h));
	if (len > 0)
		memcpy(rec + sizeof(h), payload, len);
	len += sizeof(h);
	if (STAILQ_EMPTY(&c->out)) {
		n = fdp_send_msg(c->fd, rec, len, fds, nfds);
		if (n >= 0) {
			client_inflight_add(c, nfds);
			return 0;
		}
		if (n == FDP_ESYS && nfds > 0 && (errno == ETOOMANYREFS ||
		    errno == ENOMEM || errno == ENOBUFS))
			goto full;
		if (n != FDP_ESYS || errno != EAGAIN)
			return -1;
	}
	if (nfds > 0 && !broker_fds_room(c->b, nfds))
		goto full;
	if (client_queue(c, rec, len, fds, nfds) == 0) {
		client_inflight_add(c, nfds);
		return 0;
	}
	if (nfds == 0)
		return -1;
full:
	return client_send(c, op, 0, FDP_S_FULL, &full_why[FDP_FULL_INFLIGHT],
	    sizeof(uint32_t), NULL, 0) == -1 ? -1 : 1;
}

/* A FULL answer to op, saying what is full (FDP_FULL_*). */
static int
client_send_full(struct client *c, uint16_t op, uint32_t why)
{
	return client_send(c, op, 0, FDP_S_FULL, &full_why[why],
	    sizeof(uint32_t), NULL, 0);
}

/*
 * The socket has room again: send what waited; then a LIST goes on, or
 * the client is heard again (a stopping broker may be done with it).
 */
static void
client_flush(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	struct broker *b = c->b;
	struct outrec *o;
	ssize_t n;

	(void)what;
	client_touch(c);
	while ((o = STAILQ_FIRST(&c->out)) != NULL) {
		n = fdp_send_msg(fd, o->data, o->len, o->fds, o->nfds);
		if (n == FDP_ESYS && errno == EAGAIN)
			return;
		if (n < 0) {
			client_drop(c);
			return;
		}
		STAILQ_REMOVE_HEAD(&c->out, entry);
		outrec_free(b, o);
	}
	if (client_list_continue(c) == -1) {
		client_drop(c);
		return;
	}
	client_arm(c);
	broker_resume(b);
	if (b->stopping)
		client_drain_check(c);
	peer_check_done(b, c);
}

/*
 * A STORE hands the group to the clients waiting for its name, in arrival
 * order, until one takes it (FDP_F_TAKE): exactly one taker gets a group.
 * A waiter the fds in flight leave no room for stops the round; the rest
 * are woken, in order, once there is room.
 */
static void
broker_wake(struct broker *b, struct group *g)
{
	struct waiter *w;
	struct client *c;
	int take, rc;

	while ((w = TAILQ_FIRST(&g->waiters)) != NULL) {
		c = w->owner;
		if (!client_inflight_room(c, g->nfds)) {
			b->wake_owed = 1;
			broker_inflight_later(b);
			return;
		}
		take = w->take;
		client_stop_waiting(c);
		rc = client_send(c, FDP_OP_RETRIEVE, 0, FDP_S_OK, NULL, 0,
		    g->fds, g->nfds);
		if (rc == -1) {
			client_drop(c);
			continue;
		}
		client_arm(c);
		if (take && rc == 0) {
			store_remove(&b->store, g);
			return;
		}
	}
}

/*
 * Waiters owed a group held now (their round stopped for room in flight)
 * get it, in order, by name.
 */
static void
broker_wake_owed(struct broker *b)
{
	struct client *c;

	b->wake_owed = 0;
	TAILQ_FOREACH(c, &b->clients, entry)
		if (!c->dead && c->wait.g != NULL && c->wait.g->nfds > 0)
			broker_wake(b, c->wait.g);
}

/*
 * The fds in flight are looked at while clients are held back for them:
 * what was read frees room, and the clients and waiters that waited for it
 * go on; while some still wait, look again soon.
 */
static void
broker_inflight_check(evutil_socket_t fd, short what, void *arg)
{
	struct broker *b = arg;
	struct client *c;

	(void)fd;
	(void)what;
	TAILQ_FOREACH(c, &b->clients, entry)
		if (!c->dead)
			client_inflight_read(c);
	if (b->wake_owed)
		broker_wake_owed(b);
	TAILQ_FOREACH(c, &b->clients, entry) {
		if (c->dead || !c->stalled ||
		    !client_inflight_room(c, FDP_MAX_FDS))
			continue;
		c->stalled = 0;
		b->nstalled--;
		client_arm(c);
	}
	if (b->nstalled > 0 || b->wake_owed)
		broker_inflight_later(b);
}

/*
 * STORE: the group's fds move from the request into the store, within
 * --max-fds (a group it replaces no longer counts).
 */
static uint32_t
broker_store(struct broker *b, const struct request *req, int *fds,
    size_t nfds)
{
	const struct group *old = store_find(&b->store, req->name, req->len);
	size_t held = b->store.nfds;
	uint32_t status;

	if (old != NULL && (req->h.flags & FDP_F_REPLACE) != 0)
		held -= old->nfds;
	if (held + nfds > b->limits.max_fds)
		return FDP_S_FULL;
	status = (uint32_t)store_put(&b->store, req->name, req->len, fds, nfds,
	    (req->h.flags & FDP_F_REPLACE) != 0, req->arg);
	if (status == FDP_S_OK) {
		b->peer_stored = 1;
		broker_wake(b, store_find(&b->store, req->name, req->len));
	}
	return status;
}

/* DELETE: the broker closes the group's fds, and its TTL with them. */
static uint32_t
broker_delete(struct broker *b, const struct request *req)
{
	struct group *g;

	if ((g = store_find(&b->store, req->name, req->len)) == NULL)
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
		client_drop(c);
	else
		client_arm(c);
}

/*
 * RETRIEVE with FDP_F_WAIT of a name not held: the client waits on the
 * name's entry, with a timer if it gave a timeout (in ms), until a STORE
 * wakes it. The broker keeps the timeout, so a group is never handed to a
 * client that has already given up. A wait is not idleness: the client's
 * --client-timeout stops until the wait ends; instead clients of other
 * uids may wait only --max-waiters at once.
 */
static int
client_wait(struct client *c, const char *name, size_t len,
    uint32_t timeout_ms, int take)
{
	struct broker *b = c->b;
	struct timeval tv;

	tv.tv_sec = (time_t)(timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	if (!c->trusted && b->nwaiting >= b->limits.max_waiters)
		return client_send_full(c, FDP_OP_RETRIEVE, FDP_FULL_WAITERS);
	if (c->wait_ev == NULL)
		c->wait_ev = evtimer_new(b->base, client_wait_timeout, c);
	if (c->wait_ev == NULL ||
	    store_wait(&b->store, name, len, &c->wait, take) == -1)
		return client_send_full(c, FDP_OP_RETRIEVE, FDP_FULL_FDS);
	if (!c->trusted)
		b->nwaiting++;
	if (timeout_ms > 0 && evtimer_add(c->wait_ev, &tv) == -1) {
		client_stop_waiting(c);
		return client_send_full(c, FDP_OP_RETRIEVE, FDP_FULL_FDS);
	}
	evtimer_del(c->idle_ev);
	return 0;
}

/* RETRIEVE: hand the group over; remove it (TAKE) or wait for it (WAIT). */
static int
broker_retrieve(struct broker *b, struct client *c, const struct request *req)
{
	struct group *g;
	int take = (req->h.flags & FDP_F_TAKE) != 0, rc;

	if ((g = store_find(&b->store, req->name, req->len)) != NULL) {
		rc = client_send(c, req->h.op, 0, FDP_S_OK, NULL, 0, g->fds,
		    g->nfds);
		if (rc == 0 && take)
			store_remove(&b->store, g);
		return rc == -1 ? -1 : 0;
	}
	if ((req->h.flags & FDP_F_WAIT) == 0)
		return client_send(c, req->h.op, 0, FDP_S_NOENT, NULL, 0, NULL,
		    0);
	return client_wait(c, req->name, req->len, req->arg, take);
}

/* Whether a client may see a group in its LIST. */
static int
list_visible(const struct group *g, void *arg)
{
	const struct client *c = arg;

	return access_allows(&c->b->policy, &c->cred, ACCESS_LIST,
	    group_name(g), group_namelen(g));
}

/*
 * A LIST goes out a record at a time, in name order, the next one made
 * only once the socket took the last: a client that does not read holds
 * one record, never the whole list. Each record's entries are the names
 * after the last one sent; a group stored or deleted meanwhile shows or
 * not, but no name twice.
 */
static int
client_list_continue(struct client *c)
{
	static const struct group *pick[STORE_LIST_ROOM(FDP_PROTO_MAX_RECORD,
	    sizeof(struct fdp_wire_entry))];
	static unsigned char buf[FDP_PROTO_MAX_RECORD -
	    sizeof(struct fdp_wire_header)];
	struct fdp_wire_entry e;
	size_t i, n, len;
	int more;

	while (c->listing && !c->dead && STAILQ_EMPTY(&c->out)) {
		n = store_list_next(&c->b->store, c->list_after,
		    c->list_afterlen, list_visible, c, sizeof(buf), sizeof(e),
		    pick, &more);
		for (i = 0, len = 0; i < n; i++) {
			e.name_len = (uint16_t)group_namelen(pick[i]);
			e.nfds = pick[i]->nfds;
			e.expires_in = group_expires_in(pick[i]);
			memcpy(buf + len, &e, sizeof(e));
			memcpy(buf + len + sizeof(e), group_name(pick[i]),
			    e.name_len);
			len += sizeof(e) + e.name_len;
		}
		c->listing = more;
		if (more) {
			c->list_afterlen = (uint8_t)group_namelen(pick[n - 1]);
			memcpy(c->list_after, group_name(pick[n - 1]),
			    c->list_afterlen);
		}
		if (client_send(c, FDP_OP_LIST, more ? FDP_F_MORE : 0,
		    FDP_S_OK, buf, len, NULL, 0) == -1)
			return -1;
	}
	return 0;
}

/* LIST: every name the client may list and its fd count, in records. */
static int
broker_list(struct client *c)
{
	c->listing = 1;
	c->list_afterlen = 0;
	return client_list_continue(c);
}
/*
 * Takeover, the old broker's side. It hands a new broker of its user (or
 * root) its listening socket and every group, then, once the new broker
 * holds them, every other client's connection with what it waits for and
 * the replies queued for it, and exits once the new broker serves. It
 * changes nothing until then, so a new broker that fails at any step
 * leaves it serving everything as before.
 */

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

/* Send one group: its LIST entry (time left of its TTL), name and fds. */
static void
handover_group(const struct group *g, void *arg)
{
	struct handover *ho = arg;
	unsigned char buf[sizeof(struct fdp_wire_entry) + 255];
	struct fdp_wire_entry e;

	e.name_len = (uint16_t)group_namelen(g);
	e.nfds = g->nfds;
	e.expires_in = group_expires_in(g);
	memcpy(buf, &e, sizeof(e));
	memcpy(buf + sizeof(e), group_name(g), e.name_len);
	handover_send(ho, FDP_OP_TAKEOVER, FDP_F_MORE | FDP_F_HANDOVER_GROUP,
	    buf, sizeof(e) + e.name_len, g->fds, g->nfds);
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
 * Send one client: its connection, the name it waits for, the replies
 * queued for it, and where a LIST being sent to it goes on.
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
	return ho->failed ? -1 : 0;
}

/*
 * TAKEOVER, from a client access_check found to be of our user or root:
 * hand over the state, wait for TAKEOVER_READY, hand over the clients,
 * wait for TAKEOVER_DONE, and end the loop with the exit status 0; each
 * step within HANDOVER_STEP_MS. A stopping broker hands over what its
 * drain has not finished yet. Returns -1 to drop the connection, the old
 * broker serving on as before.
 */
static int
broker_takeover(struct broker *b, struct client *c)
{
	struct handover ho = { c->fd, { 0, 0 }, 0 };
	struct client *other;

	if (b->peer)
		return client_send(c, FDP_OP_TAKEOVER, 0, FDP_S_UNSUPPORTED,
		    NULL, 0, NULL, 0);
	cmd_log("serve", "pid %ld takes over", (long)c->cred.pid);
	handover_step(&ho);
	handover_send(&ho, FDP_OP_TAKEOVER, FDP_F_MORE |
	    FDP_F_HANDOVER_LISTENER, NULL, 0, &b->listen_fd, 1);
	if (!ho.failed)
		store_foreach(&b->store, handover_group, &ho);
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

/*
 * Answer one decoded, permitted request; the request's fds are the
 * broker's to close unless the store took them. Returns -1 when the client
 * is to be dropped.
 */
static int
broker_handle(struct broker *b, struct client *c, const struct request *req,
    int *fds, size_t nfds)
{
	uint32_t status;

	switch (req->h.op) {
	case FDP_OP_STORE:
		status = broker_store(b, req, fds, nfds);
		if (status != FDP_S_OK)
			fdp_close_fds(fds, nfds);
		if (status == FDP_S_FULL)
			return client_send_full(c, req->h.op, FDP_FULL_FDS);
		if (client_send(c, req->h.op, 0, status, NULL, 0, NULL,
		    0) == -1)
			return -1;
		peer_check_done(b, c);
		return 0;
	case FDP_OP_RETRIEVE:
		return broker_retrieve(b, c, req);
	case FDP_OP_DELETE:
		return client_send(c, req->h.op, 0, broker_delete(b, req), NULL,
		    0, NULL, 0);
	case FDP_OP_LIST:
		return broker_list(c);
	default:
		return broker_takeover(b, c);
	}
}

/* The status a record earned by how it arrived, when fdp_recv_msg refused it. */
static uint32_t
recv_error_status(ssize_t n)
{
	return n == FDP_ECTRUNC ? FDP_S_TRUNCATED : FDP_S_MALFORMED;
}

/* The fds the broker counts itself: in groups, clients, queued replies. */
static size_t
broker_fds_counted(const struct broker *b)
{
	return b->store.nfds + b->nclients + b->queued_fds;
}

/* The fds the broker holds now, counted without asking the kernel. */
static size_t
broker_fds_in_use(const struct broker *b)
{
	return b->limits.fixed_fds + broker_fds_counted(b);
}

/* Whether the broker may open n more fds of its own (copies to queue). */
static int
broker_fds_room(const struct broker *b, size_t n)
{
	return limits_room_for(&b->limits, broker_fds_in_use(b), n);
}

/*
 * Whether the client may make the request: FDP_S_OK or the status that
 * refuses it; a refused takeover is worth a word in the -v log (only
 * there: anyone may send one, and stderr is no place to flood).
 */
static uint32_t
broker_permit(const struct broker *b, const struct client *c,
    const struct request *req)
{
	uint32_t status = access_check(&b->policy, &c->cred, req);

	if (status == FDP_S_TAKEOVER_DENIED)
		cmd_log("serve", "takeover refused: client %d is not of our "
		    "user or root", c->fd);
	return status;
}

/*
 * Whether the client's next record carries fds, looked at without taking
 * them (a peek with no room for them): 1 or 0, or -1 when no record waits
 * (or the client is gone, which the read that follows finds out).
 */
static int
client_next_has_fds(const struct client *c)
{
	struct msghdr msg;
	struct iovec iov;
	char byte;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (recvmsg(c->fd, &msg, MSG_PEEK | MSG_DONTWAIT) <= 0)
		return -1;
	return (msg.msg_flags & MSG_CTRUNC) != 0;
}

/*
 * Whether the client may be read now; if not it is held back (stalled for
 * room in flight, paused for fds) until what it waits for is freed. A
 * broker short of fds still reads a request that carries none.
 */
static int
client_readable(struct client *c)
{
	struct broker *b = c->b;

	client_inflight_read(c);
	if (!client_inflight_room(c, FDP_MAX_FDS)) {
		client_stall(c);
		return 0;
	}
	if (limits_room(&b->limits, broker_fds_in_use(b)) ||
	    client_next_has_fds(c) != 1)
		return 1;
	if (!c->paused) {
		c->paused = 1;
		b->npaused++;
		client_arm(c);
	}
	return 0;
}

/*
 * Read one request record with its fds and answer it: 1 when one was
 * answered, 0 when none waits or the client is held back, -1 when the
 * client was dropped. A client is read only when nothing of its last
 * answer is left to send; a waiting client is not read (it may only hang
 * up), and a broker that handed over reads nothing more: its clients are
 * the new broker's. Access is judged before anything else the request
 * says, so a client without rights learns nothing from the broker.
 */
static int
client_read_one(struct client *c)
{
	struct broker *b = c->b;
	unsigned char rec[REQUEST_MAX_LEN];
	struct request req;
	int fds[FDP_MAX_FDS], rc;
	size_t nfds = FDP_MAX_FDS;
	uint32_t status;
	ssize_t n;

	if (c->dead || c->wait.g != NULL || b->handed_over ||
	    !STAILQ_EMPTY(&c->out) || c->listing || !client_readable(c))
		return 0;
	memset(rec, 0, sizeof(req.h));
	n = fdp_recv_msg(c->fd, rec, sizeof(rec), fds, &nfds);
	if (n == FDP_ESYS && errno == EAGAIN)
		return 0;
	if (n == 0 || n == FDP_ESYS) {
		client_drop(c);
		return -1;
	}
	client_touch(c);
	if (n < 0) {
		nfds = 0;
		status = request_decode(rec, sizeof(req.h), 0,
		    recv_error_status(n), &req);
	} else
		status = request_decode(rec, (size_t)n, nfds, FDP_S_OK, &req);
	if (req.name != NULL)
		cmd_log_record("serve", c->fd, "->", &req.h,
		    rec + sizeof(req.h), (size_t)n - sizeof(req.h), fds, nfds);
	if (status == FDP_S_OK)
		status = broker_permit(b, c, &req);
	if (status == FDP_S_OK)
		status = req.invalid;
	if (status != FDP_S_OK) {
		fdp_close_fds(fds, nfds);
		rc = client_send(c, req.h.op, 0, status, NULL, 0, NULL, 0);
	} else
		rc = broker_handle(b, c, &req, fds, nfds);
	if (rc == -1) {
		client_drop(c);
		return -1;
	}
	client_arm(c);
	return 1;
}

/*
 * The client's socket is readable: answer one request, or drop a waiting
 * client, which may only hang up. What a waiting client sent is read
 * without a control buffer, so that the kernel closes its fds, not the
 * broker (which needs no room for them), and the client sees its
 * connection closed rather than reset.
 */
static void
client_read(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	char byte;

	(void)what;
	if (c->wait.g == NULL) {
		if (client_read_one(c) != -1 && c->b->stopping)
			client_drain_check(c);
		return;
	}
	while (recv(fd, &byte, 1, MSG_DONTWAIT) > 0)
		continue;
	client_drop(c);
}

/*
 * Listen for new clients while a slot is free (of --max-clients, or of the
 * owner's --reserved-clients) and there is no backoff.
 */
static void
broker_accept_gate(struct broker *b)
{
	if (b->accept_ev == NULL || b->stopping || b->handed_over ||
	    evtimer_pending(b->backoff_ev, NULL))
		return;
	if (b->nclients < b->limits.max_clients + b->limits.reserved_clients)
		event_add(b->accept_ev, NULL);
	else
		event_del(b->accept_ev);
}

/* fds or a client slot were freed: poll again what waited for them. */
static void
broker_resume(struct broker *b)
{
	struct client *c;

	broker_accept_gate(b);
	if (b->npaused == 0 || b->stopping ||
	    !limits_room(&b->limits, broker_fds_in_use(b)))
		return;
	TAILQ_FOREACH(c, &b->clients, entry) {
		if (c->dead || !c->paused)
			continue;
		c->paused = 0;
		b->npaused--;
		client_arm(c);
	}
}

/* The store freed fds (a TTL, a DELETE, a take, a replace): resume. */
static void
broker_resume_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	broker_resume(arg);
}

/*
 * The store gained or lost a group (stored, replaced, deleted, taken,
 * expired): with --fdstore the service manager's fd store follows, the
 * STATUS= line is updated, and fds let go may make room for paused
 * clients, resumed from the loop once the store has closed them.
 */
static void
broker_store_changed(const struct group *g, int held, void *arg)
{
	struct broker *b = arg;

	if (b->fdstore)
		fdstore_mirror(g, held, &b->notify_fd);
	broker_changed(b);
	if (!held && b->npaused > 0)
		event_active(b->resume_ev, EV_TIMEOUT, 1);
}

/* A stopping broker ends its loop once the last client is answered. */
static void
broker_drained(struct broker *b)
{
	if (b->stopping && b->nclients == 0)
		event_base_loopbreak(b->base);
}

/*
 * A new connection becomes a client with its own events and the
 * credentials its requests are judged by; NULL (the connection closed)
 * when it cannot.
 */
static struct client *
client_new(struct broker *b, int fd, const struct fdp_cred *cred)
{
	struct client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return NULL;
	}
	c->b = b;
	c->fd = fd;
	c->cred = *cred;
	c->trusted = access_trusted(&b->policy, cred);
	c->wait.owner = c;
	STAILQ_INIT(&c->out);
	TAILQ_INSERT_TAIL(&b->clients, c, entry);
	b->nclients++;
	c->read_ev = event_new(b->base, fd, EV_READ | EV_PERSIST, client_read, c);
	c->write_ev = event_new(b->base, fd, EV_WRITE | EV_PERSIST,
	    client_flush, c);
	c->idle_ev = evtimer_new(b->base, client_expire, c);
	c->hangup_ev = event_new(b->base, fd, EV_CLOSED, client_expire, c);
	if (c->read_ev == NULL || c->write_ev == NULL || c->idle_ev == NULL ||
	    c->hangup_ev == NULL || event_add(c->read_ev, NULL) == -1) {
		client_drop(c);
		return NULL;
	}
	client_touch(c);
	broker_accept_gate(b);
	return c;
}

/*
 * A connection past --max-clients from anyone but the owner is told so in
 * one record (FULL, reason CLIENTS, op FDP_OP_REPLY: it asked nothing yet)
 * and closed; the owner's --reserved-clients stay its own. Its reading side
 * is shut and what it sent already discarded (its fds closed by the kernel,
 * for want of a control buffer) first: closing with a request unread would
 * make the kernel report a reset to the client before it reads the record.
 */
static void
broker_refuse(int fd)
{
	struct fdp_wire_header h;
	unsigned char rec[sizeof(h) + sizeof(uint32_t)];

	fdp_header_init(&h, FDP_OP_REPLY, 0, FDP_S_FULL);
	memcpy(rec, &h, sizeof(h));
	memcpy(rec + sizeof(h), &full_why[FDP_FULL_CLIENTS], sizeof(uint32_t));
	fdp_send_msg(fd, rec, sizeof(rec), NULL, 0);
	shutdown(fd, SHUT_RD);
	while (recv(fd, rec, 1, MSG_DONTWAIT | MSG_TRUNC) > 0)
		continue;
	close(fd);
}

/* Accept a connection; out of fds, rest on a timer rather than spin. */
static void
broker_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct broker *b = arg;
	struct fdp_cred cred;
	int fd;

	(void)what;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0) {
		if (fdp_peer_cred(fd, &cred) != 0) {
			close(fd);
			return;
		}
		if (b->nclients >= b->limits.max_clients &&
		    !access_trusted(&b->policy, &cred)) {
			cmd_log("serve", "uid %lu refused: %zu clients",
			    (unsigned long)cred.uid, b->nclients);
			broker_refuse(fd);
			return;
		}
		cmd_log("serve", "client %d connected", fd);
		client_new(b, fd, &cred);
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
	broker_accept_gate(b);
}

/*
 * A stopping broker drops a client once it has nothing left to answer it
 * for: not waiting (nothing it sent is left to answer, and its wait may
 * outlast any drain), nothing queued or being listed to it, and no request
 * of its unread; nor a client paused for fds the broker will not have.
 * Others are answered through the loop's events as usual, within the
 * drain's time, and come back here after each answer.
 */
static void
client_drain_check(struct client *c)
{
	if (c->dead)
		return;
	if (c->wait.g != NULL || c->paused ||
	    (STAILQ_EMPTY(&c->out) && !c->listing &&
	    client_next_has_fds(c) == -1))
		client_drop(c);
}

/*
 * SIGTERM and SIGINT: stop accepting, answer the requests in flight, and end
 * the loop when every client is answered or drain_timeout passes; a second
 * signal ends it at once, and so does a takeover during the drain (the
 * clients are the new broker's). Cleanup follows in broker_run; it closes
 * the groups but leaves the service manager's fd store (--fdstore) alone.
 */
static void
broker_stop(evutil_socket_t sig, short what, void *arg)
{
	struct broker *b = arg;
	struct client *c;

	(void)sig;
	(void)what;
	if (b->stopping || b->handed_over) {
		event_base_loopbreak(b->base);
		return;
	}
	broker_notify(b, "STOPPING=1");
	b->stopping = 1;
	event_del(b->accept_ev);
	event_del(b->backoff_ev);
	evtimer_add(b->drain_ev, &drain_timeout);
	TAILQ_FOREACH(c, &b->clients, entry)
		client_drain_check(c);
	broker_drained(b);
}

/* The drain took too long: end the loop with clients still waiting. */
static void
broker_drain_expired(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/* SIGHUP rereads --rules; a file that does not parse keeps the old rules. */
static void
broker_reload(evutil_socket_t sig, short what, void *arg)
{
	struct broker *b = arg;
	char err[1024];

	(void)sig;
	(void)what;
	if (b->policy.path == NULL)
		return;
	if (access_policy_load(&b->policy, err, sizeof(err)) == -1)
		cmd_warn("serve", "%s; keeping the rules in force", err);
	else
		cmd_warn("serve", "%s: %zu rules loaded", b->policy.path,
		    b->policy.file.count);
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

/* Why a takeover this broker cannot hold failed. */
static const char takeover_too_many[] = "the running broker holds more fds "
    "than this one may (its fd limit, ulimit -n, or --max-fds)";

/*
 * Hold one group handed over, with the time left of its TTL, within
 * capacity: a broker that could not hold everything and still read a
 * whole request refuses the takeover rather than serve stuck.
 */
static int
takeover_group(struct broker *b, struct handover_in *in, size_t capacity)
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
	if (b->store.nfds + in->nfds > capacity) {
		b->takeover_why = takeover_too_many;
		return FDP_ECTRUNC;
	}
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
	size_t capacity = limits_capacity(&b->limits);
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
 * its LIST goes on.
 */
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
		else
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
		    fdp_reply_status_text(in.h.status, in.payload, in.len));
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
 * The loop's own timers and deferred work, made before any client comes
 * (a takeover brings some); -1 if any failed.
 */
static int
broker_timers_new(struct broker *b)
{
	b->backoff_ev = evtimer_new(b->base, broker_accept_resume, b);
	b->drain_ev = evtimer_new(b->base, broker_drain_expired, b->base);
	b->resume_ev = evtimer_new(b->base, broker_resume_later, b);
	b->status_ev = evtimer_new(b->base, broker_status_send, b);
	b->reap_ev = evtimer_new(b->base, broker_reap, b);
	b->inflight_ev = evtimer_new(b->base, broker_inflight_check, b);
	return b->backoff_ev == NULL || b->drain_ev == NULL ||
	    b->resume_ev == NULL || b->status_ev == NULL || b->reap_ev == NULL ||
	    b->inflight_ev == NULL ? -1 : 0;
}

/*
 * Accepting (as the client limits allow) and the signals, armed once the
 * broker holds its listening socket; -1 if any failed. Peer mode has no
 * rules to reread.
 */
static int
broker_events_new(struct broker *b, struct event **sigs, size_t nsigs)
{
	static const int signo[] = { SIGTERM, SIGINT, SIGHUP };
	size_t i;
	int rc = 0;

	b->accept_ev = event_new(b->base, b->listen_fd, EV_READ | EV_PERSIST,
	    broker_accept, b);
	for (i = 0; i < nsigs; i++) {
		sigs[i] = evsignal_new(b->base, signo[i],
		    signo[i] == SIGHUP ? broker_reload : broker_stop, b);
		if (sigs[i] == NULL || event_add(sigs[i], NULL) == -1)
			rc = -1;
	}
	if (b->accept_ev == NULL)
		return -1;
	broker_accept_gate(b);
	return rc;
}

/*
 * Settle the limits from the fd limit and what is open, saying so when a
 * --max-fds or --max-clients given had to be cut down to fit.
 */
static void
broker_limits_settle(struct broker *b)
{
	size_t fds = b->limits.max_fds, clients = b->limits.max_clients;
	int cut = limits_settle(&b->limits, broker_fds_counted(b));

	if (cut & 1)
		cmd_warn("serve", "--max-fds %zu: past what the fd limit (%zu) "
		    "leaves; holding at most %zu", fds, b->limits.nofile,
		    b->limits.max_fds);
	if (cut & 2)
		cmd_warn("serve", "--max-clients %zu: past what the fd limit "
		    "(%zu) leaves for clients; serving at most %zu", clients,
		    b->limits.nofile, b->limits.max_clients);
}

/* Free every event of the broker's own that was made. */
static void
broker_events_free(struct broker *b, struct event **sigs, size_t nsigs)
{
	size_t i;

	event_free_made(b->accept_ev);
	event_free_made(b->backoff_ev);
	event_free_made(b->drain_ev);
	event_free_made(b->resume_ev);
	event_free_made(b->status_ev);
	event_free_made(b->reap_ev);
	event_free_made(b->inflight_ev);
	for (i = 0; i < nsigs; i++)
		event_free_made(sigs[i]);
}

/*
 * Run the loop until a signal stops it (or a new broker takes over), then
 * close everything held. The groups an fd store hands back and whatever a
 * takeover brings come in first, and count as the broker's own fds; the
 * limits are settled between the two, so that clients handed over meet
 * them.
 */
static int
broker_run(struct broker *b, int ready_fd)
{
	struct event *sigs[3] = { NULL, NULL, NULL };
	struct client *c;
	size_t nsigs = b->peer ? 2 : 3;
	int status = EXIT_SYSTEM, handover = 0;

	TAILQ_INIT(&b->clients);
	limits_start(&b->limits, !b->peer);
	b->base = event_base_new();
	if (b->base == NULL || store_init(&b->store, b->base) == -1 ||
	    broker_timers_new(b) == -1) {
		cmd_warn("serve", "cannot set up the event loop");
		if (b->base != NULL) {
			broker_events_free(b, sigs, nsigs);
			store_free(&b->store);
			event_base_free(b->base);
		}
		return EXIT_SYSTEM;
	}
	if (b->fdstore)
		fdstore_adopt(&b->store, "serve", b->adopt_names, b->nadopt);
	broker_limits_settle(b);
	if (b->takeover_sock >= 0) {
		handover = takeover_receive(b);
		close(b->takeover_sock);	/* the old broker is gone */
		b->takeover_sock = -1;
	}
	if (handover != 0)
		status = handover;
	else if (broker_events_new(b, sigs, nsigs) == -1)
		cmd_warn("serve", "cannot set up the event loop");
	else {
		b->store.on_change = broker_store_changed;
		b->store.on_change_arg = b;
		broker_ready(b, ready_fd);
		status = event_base_dispatch(b->base) == -1 ? EXIT_SYSTEM : 0;
	}
	b->stopping = 1;
	TAILQ_FOREACH(c, &b->clients, entry)
		client_drop(c);
	while ((c = TAILQ_FIRST(&b->clients)) != NULL)
		client_free(c);
	if (b->peer)
		store_foreach(&b->store, peer_collect, b);
	store_free(&b->store);
	broker_events_free(b, sigs, nsigs);
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

/* Listen where asked, saying plainly why not. */
static int
broker_listen(struct broker *b, const char *cmd, const char *address)
{
	b->listen_fd = fdp_listen_broker(&b->addr, b->mode, &b->sockfile);
	if (b->listen_fd == FDP_ESYS && errno == ELOOP) {
		cmd_warn(cmd, "cannot listen on %s: a directory on the way "
		    "is a symbolic link owned by another user", address);
		return -1;
	}
	if (b->listen_fd < 0) {
		cmd_warn(cmd, "cannot listen on %s: %s", address,
		    fdp_strerror(b->listen_fd));
		return -1;
	}
	return 0;
}

/*
 * Listen at the address (-s, or the default), or on the socket a service
 * manager handed over, and run the broker there until it stops; serve and
 * peer mode both come here. The socket file goes when the broker stops,
 * unless a new broker took it over or the service manager made it.
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
		if (broker_listen(b, cmd, address) == -1)
			return EXIT_SYSTEM;
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
	fdp_sockfile_close(&b->sockfile, !b->handed_over);
	return status;
}

/*
 * serve --takeover: connect to the broker running at the address, check it
 * is of our user or root (root may take over anyone's; a root broker
 * decides for itself), and take its place; the socket file stays. The new
 * broker judges requests by its own --allow and --rules, not the old one's.
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
	if ((b->takeover_sock = cmd_connect_unchecked("serve", address,
	    &status)) == -1)
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
	if (b->takeover_sock >= 0)
		close(b->takeover_sock);
	if (b->listen_fd >= 0)
		close(b->listen_fd);
	fdp_sockfile_close(&b->sockfile, !b->handed_over);
	return status;
}

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
 * A broker as serve and peer mode both start it: only its own uid and root
 * allowed, a 0600 socket, the default limits, nothing open yet.
 */
static void
broker_init(struct broker *b)
{
	memset(b, 0, sizeof(*b));
	b->mode = 0600;
	b->policy.owner = geteuid();
	limits_init(&b->limits);
	b->sockfile.dirfd = -1;
	b->notify_fd = -1;
	b->takeover_sock = -1;
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
		status = broker_take_over(&b, socket_opt, ready_fd);
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

int
serve_peer(const char *cmd, const char *socket_opt, struct fdp_reply *r,
    char *name)
{
	struct broker b;
	int status;

	broker_init(&b);
	b.limits.max_clients = 1;
	b.limits.reserved_clients = 0;
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
	"      [--allow SPEC]... [--rules FILE] [--mode MODE]\n"
	"      [--max-fds N] [--max-clients N] [--reserved-clients N]\n"
	"      [--max-waiters N] [--max-inflight N] [--client-timeout SECONDS]\n"
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
	"                            ops=store+retrieve+list+delete, names=GLOB\n"
	"      --rules FILE          more SPECs, one a line; reread on SIGHUP\n"
	"      --mode MODE           the path socket's mode (default 0600)\n"
	"      --max-fds N           fds the broker may hold in groups (default:\n"
	"                            what the fd limit leaves, halved)\n"
	"      --max-clients N       clients connected at once (default 1024)\n"
	"      --reserved-clients N  more that only the broker's uid and root may\n"
	"                            use (default 16)\n"
	"      --max-waiters N       clients of other uids waiting at once\n"
	"                            (default: half of --max-clients)\n"
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
