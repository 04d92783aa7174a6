/*
 * ops.c: what each request does, once read and allowed: store, retrieve,
 * wait for a name and be woken by its store, delete, list, and dump and
 * load, many groups a record (status and monitor are watch.c's).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "broker.h"
#include "log.h"

/*
 * A waiting client stops waiting: its name entry and timer forget it, and
 * its --client-timeout, stopped while it waited, runs again.
 */
void
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

/*
 * Hand a held group to a client, removing it in the same step for a take;
 * the monitors hear of it. Returns what client_send returned.
 */
static int
client_give(struct client *c, struct group *g, int take)
{
	int rc;

	rc = client_send(c, FDP_OP_RETRIEVE, 0, FDP_S_OK, NULL, 0, g->fds,
	    g->nfds);
	if (rc != 0)
		return rc;
	watch_group(c, take ? FDP_EV_TAKEN : FDP_EV_RETRIEVED, g);
	if (take)
		store_remove(&c->b->store, g);
	return 0;
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
		rc = client_give(c, g, take);
		if (rc == -1) {
			client_drop(c);
			continue;
		}
		client_arm(c);
		if (take && rc == 0)
			return;
	}
}

/*
 * Waiters owed a group held now (their round stopped for room in flight)
 * get it, in order, by name.
 */
void
broker_wake_owed(struct broker *b)
{
	struct client *c;

	b->wake_owed = 0;
	TAILQ_FOREACH(c, &b->clients, entry)
		if (!c->dead && c->wait.g != NULL && c->wait.g->nfds > 0)
			broker_wake(b, c->wait.g);
}

/*
 * STORE: the group's fds move from the request into the store, within
 * --max-fds (a group it replaces no longer counts); the monitors hear of
 * it before its waiters get it.
 */
static uint32_t
broker_store(struct broker *b, struct client *c, const struct request *req,
    int *fds, size_t nfds)
{
	const struct group *old = store_find(&b->store, req->name, req->len);
	size_t held = b->store.nfds;
	struct group *g;
	uint32_t status;

	if (old != NULL && (req->h.flags & FDP_F_REPLACE) != 0)
		held -= old->nfds;
	if (held + nfds > b->limits.max_fds)
		return FDP_S_FULL;
	status = (uint32_t)store_put(&b->store, req->name, req->len, fds, nfds,
	    (req->h.flags & FDP_F_REPLACE) != 0, req->arg);
	if (status == FDP_S_OK) {
		b->peer_stored = 1;
		g = store_find(&b->store, req->name, req->len);
		watch_group(c, old != NULL ? FDP_EV_REPLACED : FDP_EV_STORED, g);
		broker_wake(b, g);
	}
	return status;
}

/* DELETE: the broker closes the group's fds, and its TTL with them. */
static uint32_t
broker_delete(struct broker *b, struct client *c, const struct request *req)
{
	struct group *g;

	if ((g = store_find(&b->store, req->name, req->len)) == NULL)
		return FDP_S_NOENT;
	watch_group(c, FDP_EV_DELETED, g);
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
int
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
	int take = (req->h.flags & FDP_F_TAKE) != 0;

	if ((g = store_find(&b->store, req->name, req->len)) != NULL)
		return client_give(c, g, take) == -1 ? -1 : 0;
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
 * The entries of the groups picked, as LIST and DUMP records hold them;
 * with fds, the groups' fds too, after those already there. Returns the
 * payload's length.
 */
size_t
entries_put(unsigned char *buf, const struct group *const *pick, size_t n,
    int *fds, size_t *nfds)
{
	struct fdp_wire_entry e;
	size_t i, len = 0;

	for (i = 0; i < n; i++) {
		e.name_len = (uint16_t)group_namelen(pick[i]);
		e.nfds = pick[i]->nfds;
		e.expires_in = group_expires_in(pick[i]);
		memcpy(buf + len, &e, sizeof(e));
		memcpy(buf + len + sizeof(e), group_name(pick[i]), e.name_len);
		len += sizeof(e) + e.name_len;
		if (fds != NULL) {
			memcpy(fds + *nfds, pick[i]->fds, e.nfds * sizeof(int));
			*nfds += e.nfds;
		}
	}
	return len;
}

/* Room for the groups and entries of one LIST or DUMP record. */
static const struct group *pick[STORE_LIST_ROOM(FDP_PROTO_MAX_RECORD,
    sizeof(struct fdp_wire_entry))];
static unsigned char record[FDP_PROTO_MAX_RECORD -
    sizeof(struct fdp_wire_header)];

/*
 * A LIST goes out a record at a time, in name order, the next one made
 * only once the socket took the last: a client that does not read holds
 * one record, never the whole list. Each record's entries are the names
 * after the last one sent; a group stored or deleted meanwhile shows or
 * not, but no name twice.
 */
int
client_list_continue(struct client *c)
{
	size_t n, len;
	int more;

	while (c->listing && !c->dead && STAILQ_EMPTY(&c->out)) {
		n = store_list_next(&c->b->store, c->list_after,
		    c->list_afterlen, list_visible, c, sizeof(record),
		    sizeof(struct fdp_wire_entry), 0, pick, &more);
		len = entries_put(record, pick, n, NULL, NULL);
		c->listing = more;
		if (more) {
			c->list_afterlen = (uint8_t)group_namelen(pick[n - 1]);
			memcpy(c->list_after, group_name(pick[n - 1]),
			    c->list_afterlen);
		}
		if (client_send(c, FDP_OP_LIST, more ? FDP_F_MORE : 0,
		    FDP_S_OK, record, len, NULL, 0) == -1)
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

/* Whether a client may have a group in its DUMP: list and retrieve it. */
static int
dump_visible(const struct group *g, void *arg)
{
	const struct client *c = arg;

	return access_allows(&c->b->policy, &c->cred, ACCESS_LIST |
	    ACCESS_RETRIEVE, group_name(g), group_namelen(g));
}

/*
 * DUMP: one record of the groups named after the name given (from the
 * first without one), in name order, as many as a record holds with their
 * fds, FDP_F_MORE when others come after; the client asks again after the
 * last name it got, so that what it has not read bounds what is in flight
 * to it, as for RETRIEVE.
 */
static int
broker_dump(struct client *c, const struct request *req)
{
	int fds[FDP_MAX_FDS], more;
	size_t i, n, len, nfds = 0;

	n = store_list_next(&c->b->store, req->name, req->len, dump_visible, c,
	    sizeof(record), sizeof(struct fdp_wire_entry), FDP_MAX_FDS, pick,
	    &more);
	len = entries_put(record, pick, n, fds, &nfds);
	for (i = 0; i < n; i++)
		watch_group(c, FDP_EV_RETRIEVED, pick[i]);
	return client_send(c, FDP_OP_DUMP, more ? FDP_F_MORE : 0, FDP_S_OK,
	    record, len, fds, nfds) == -1 ? -1 : 0;
}

/*
 * How many whole groups a LOAD's entries describe, their fds adding up to
 * the nfds attached; 0 when they do not (the record is MALFORMED).
 */
static size_t
load_entries(const struct request *req, size_t nfds)
{
	struct fdp_wire_entry e;
	size_t off = 0, fd = 0, n = 0;

	while (off < req->len) {
		if (n == FDP_MAX_FDS || req->len - off < sizeof(e))
			return 0;
		memcpy(&e, req->name + off, sizeof(e));
		if (req->len - off - sizeof(e) < e.name_len || e.nfds == 0 ||
		    e.nfds > nfds - fd)
			return 0;
		off += sizeof(e) + e.name_len;
		fd += e.nfds;
		n++;
	}
	return fd == nfds ? n : 0;
}

/*
 * LOAD: the STOREs of several groups in one record, each judged and done
 * as its own STORE would be (the right to store its name, the name,
 * --max-fds, REPLACE for all), its TTL its entry's expires_in; the reply's
 * payload is each group's status, a uint32_t each, in order. The fds of a
 * group not stored are closed.
 */
static int
broker_load(struct broker *b, struct client *c, const struct request *req,
    int *fds, size_t nfds)
{
	uint32_t st[FDP_MAX_FDS];
	struct fdp_wire_entry e;
	struct request one = *req;
	size_t i, n, off = 0, fd = 0;

	if ((n = load_entries(req, nfds)) == 0) {
		fdp_close_fds(fds, nfds);
		return client_send(c, req->h.op, 0, FDP_S_MALFORMED, NULL, 0,
		    NULL, 0) == -1 ? -1 : 0;
	}
	one.h.op = FDP_OP_STORE;
	for (i = 0; i < n; i++) {
		memcpy(&e, req->name + off, sizeof(e));
		one.name = req->name + off + sizeof(e);
		one.len = e.name_len;
		one.arg = e.expires_in;
		if (!access_allows(&b->policy, &c->cred, ACCESS_STORE, one.name,
		    one.len))
			st[i] = FDP_S_DENIED;
		else if ((st[i] = (uint32_t)fdp_name_check(one.name,
		    one.len)) == FDP_S_OK)
			st[i] = broker_store(b, c, &one, fds + fd, e.nfds);
		if (st[i] != FDP_S_OK)
			fdp_close_fds(fds + fd, e.nfds);
		off += sizeof(e) + e.name_len;
		fd += e.nfds;
	}
	return client_send(c, req->h.op, 0, FDP_S_OK, st, n * sizeof(st[0]),
	    NULL, 0) == -1 ? -1 : 0;
}

/*
 * Answer one decoded, permitted request; the request's fds are the
 * broker's to close unless the store took them. Returns -1 when the client
 * is to be dropped.
 */
int
broker_handle(struct broker *b, struct client *c, const struct request *req,
    int *fds, size_t nfds)
{
	uint32_t status;

	switch (req->h.op) {
	case FDP_OP_STORE:
		status = broker_store(b, c, req, fds, nfds);
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
		return client_send(c, req->h.op, 0, broker_delete(b, c, req),
		    NULL, 0, NULL, 0);
	case FDP_OP_LIST:
		return broker_list(c);
	case FDP_OP_DUMP:
		return broker_dump(c, req);
	case FDP_OP_LOAD:
		if (!b->peer)
			return broker_load(b, c, req, fds, nfds);
		fdp_close_fds(fds, nfds);	/* peer mode takes one group */
		return client_send(c, req->h.op, 0, FDP_S_UNSUPPORTED, NULL,
		    0, NULL, 0) == -1 ? -1 : 0;
	case FDP_OP_STATUS:
		return watch_status(c);
	case FDP_OP_MONITOR:
		return watch_monitor(c);
	default:
		return broker_takeover(b, c, req->h.flags);
	}
}
