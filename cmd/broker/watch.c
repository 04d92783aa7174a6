/*
 * watch.c: what the broker tells of itself: the counts and figures STATUS
 * reports, and each monitor's stream of events, kept in a ring of its own
 * of WATCH_QUEUE events; what does not fit is dropped and counted.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"

/*
 * The most events one monitor may have waiting, however slowly it reads
 * (about 19 KiB); events past them are dropped, and the monitor is told
 * how many once it has read enough to make room.
 */
#define WATCH_QUEUE	64

/* One event waiting: its record's payload, and the name that follows. */
struct watch_slot {
	struct fdp_wire_event	 e;
	char			 name[255];
};

/* A monitor: its client and the events it is owed, oldest first. */
struct monitor {
	TAILQ_ENTRY(monitor)	 entry;
	struct client		*c;
	unsigned		 head;		/* the oldest event's slot */
	unsigned		 count;
	uint32_t		 dropped;	/* since it was last told */
	int			 ending;	/* 1: FDP_EV_STOPPED owed; 2: sent */
	struct watch_slot	 ring[WATCH_QUEUE];
};

/* Which count a request's op goes to. */
static unsigned
watch_kind(uint16_t op)
{
	switch (op) {
	case FDP_OP_STORE:
		return FDP_RK_STORE;
	case FDP_OP_RETRIEVE:
		return FDP_RK_RETRIEVE;
	case FDP_OP_LIST:
		return FDP_RK_LIST;
	case FDP_OP_DELETE:
		return FDP_RK_DELETE;
	case FDP_OP_STATUS:
		return FDP_RK_STATUS;
	case FDP_OP_MONITOR:
		return FDP_RK_MONITOR;
	case FDP_OP_DUMP:
		return FDP_RK_DUMP;
	case FDP_OP_LOAD:
		return FDP_RK_LOAD;
	case FDP_OP_TAKEOVER:
	case FDP_OP_TAKEOVER_READY:
	case FDP_OP_TAKEOVER_DONE:
		return FDP_RK_TAKEOVER;
	default:
		return FDP_RK_OTHER;
	}
}

/*
 * Events are told only while the broker serves on its own: not while it
 * receives a takeover (the clients handed over are not news), nor once it
 * handed its clients over; and they cost nothing without a monitor.
 */
static int
watch_quiet(const struct broker *b)
{
	return b->handed_over || b->takeover_sock >= 0 ||
	    TAILQ_EMPTY(&b->watch.monitors);
}

/* Who an event is about: credentials as of connect() and a number. */
static void
event_who(struct fdp_wire_event *e, const struct fdp_cred *cred, uint32_t id)
{
	e->uid = (uint32_t)cred->uid;
	e->gid = (uint32_t)cred->gid;
	e->pid = (uint32_t)cred->pid;
	e->client = id;
}

/* An event of kind, now, about client c (NULL: no client). */
static void
event_init(const struct broker *b, struct fdp_wire_event *e, uint16_t kind,
    const struct client *c)
{
	struct timeval tv;

	memset(e, 0, sizeof(*e));
	if (b->base == NULL ||
	    event_base_gettimeofday_cached(b->base, &tv) == -1)
		gettimeofday(&tv, NULL);
	e->time_us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
	e->kind = kind;
	e->uid = e->gid = UINT32_MAX;
	if (c != NULL)
		event_who(e, &c->cred, c->id);
}

/*
 * Queue an event for one monitor, or drop and count it when the ring is
 * full. A monitor with a first event waiting is polled for room to send
 * it, and is idle from now until it reads (--client-timeout): one with
 * none waiting is not, however long it has nothing to hear.
 */
static void
monitor_push(struct monitor *m, const struct fdp_wire_event *e,
    const char *name)
{
	struct watch_slot *s;

	if (m->count == WATCH_QUEUE) {
		if (m->dropped < UINT32_MAX)
			m->dropped++;
		m->c->b->watch.dropped++;
		return;
	}
	s = &m->ring[(m->head + m->count++) % WATCH_QUEUE];
	s->e = *e;
	if (e->name_len > 0)
		memcpy(s->name, name, e->name_len);
	if (m->count == 1) {
		client_arm(m->c);
		if (!evtimer_pending(m->c->idle_ev, NULL))
			client_touch(m->c);
	}
}

/* Events were dropped and there is room again: the monitor hears how many. */
static void
monitor_tell_dropped(struct monitor *m)
{
	struct fdp_wire_event e;

	if (m->dropped == 0 || m->count == WATCH_QUEUE)
		return;
	event_init(m->c->b, &e, FDP_EV_DROPPED, NULL);
	e.detail = m->dropped;
	m->dropped = 0;
	monitor_push(m, &e, NULL);
}

/*
 * Whether a monitor may see an event: the broker's own uid and root see
 * all; anyone else the events of the names it may list, and of those
 * without a name, its own uid's and takeovers.
 */
static int
monitor_sees(const struct monitor *m, const struct fdp_wire_event *e,
    const char *name)
{
	const struct client *c = m->c;

	if (c->trusted)
		return 1;
	if (e->name_len > 0)
		return access_allows(&c->b->policy, &c->cred, ACCESS_LIST,
		    name, e->name_len);
	return e->kind == FDP_EV_TAKEOVER || e->uid == (uint32_t)c->cred.uid;
}

/* Tell every monitor that may see it of an event. */
static void
watch_emit(struct broker *b, const struct fdp_wire_event *e, const char *name)
{
	struct monitor *m;

	TAILQ_FOREACH(m, &b->watch.monitors, entry)
		if (m->ending == 0 && monitor_sees(m, e, name))
			monitor_push(m, e, name);
}

/*
 * Client c (NULL: none) stored, replaced, got, took or deleted g, or its
 * TTL closed it (FDP_EV_*): the monitors hear, the TTL of a group stored.
 */
static void
watch_group_event(struct broker *b, uint16_t kind, const struct client *c,
    const struct group *g)
{
	struct fdp_wire_event e;

	if (watch_quiet(b))
		return;
	event_init(b, &e, kind, c);
	e.nfds = g->nfds;
	e.name_len = (uint16_t)group_namelen(g);
	if (kind == FDP_EV_STORED || kind == FDP_EV_REPLACED)
		e.detail = group_expires_in(g);
	watch_emit(b, &e, group_name(g));
}

/* A group's TTL closes it (the store's on_expire). */
static void
watch_expired(const struct group *g, void *arg)
{
	watch_group_event(arg, FDP_EV_EXPIRED, NULL, g);
}

void
watch_start(struct broker *b)
{
	gettimeofday(&b->watch.started, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b->watch.started_mono);
	TAILQ_INIT(&b->watch.monitors);
	b->store.on_expire = watch_expired;
	b->store.on_expire_arg = b;
}

/* The name is kept only when it is one: a refusal may be for a bad one. */
void
watch_request(struct client *c, const struct request *req)
{
	c->req_namelen = 0;
	if ((req->h.op == FDP_OP_STORE || req->h.op == FDP_OP_RETRIEVE ||
	    req->h.op == FDP_OP_DELETE) && req->name != NULL &&
	    fdp_name_check(req->name, req->len) == 0) {
		c->req_namelen = (uint8_t)req->len;
		memcpy(c->req_name, req->name, req->len);
	}
}

void
watch_answer(struct client *c, const struct fdp_wire_header *h,
    const void *payload, size_t len)
{
	struct broker *b = c->b;
	struct fdp_wire_event e;
	uint16_t op = h->op & (uint16_t)~FDP_OP_REPLY;
	int refused = h->status != FDP_S_OK;

	if ((h->flags & FDP_F_MORE) != 0 && op != FDP_OP_DUMP)
		return;	/* not the last record; DUMP's MORE means more groups */
	b->watch.requests[2 * watch_kind(op) + (refused ? 1 : 0)]++;
	if (!refused || watch_quiet(b))
		return;
	event_init(b, &e, FDP_EV_REFUSED, c);
	e.op = op;
	e.status = h->status;
	if (h->status == FDP_S_FULL && len >= sizeof(e.detail))
		memcpy(&e.detail, payload, sizeof(e.detail));
	e.name_len = c->req_namelen;
	watch_emit(b, &e, c->req_name);
}

void
watch_takeover_begins(struct broker *b)
{
	b->watch.requests[2 * FDP_RK_TAKEOVER]++;
}

/* A monitor stops being one: its ring goes, and it leaves the counts. */
static void
monitor_free(struct client *c)
{
	struct watch *w = &c->b->watch;

	TAILQ_REMOVE(&w->monitors, c->monitor, entry);
	w->nmonitors--;
	if (!c->trusted)
		w->nmonitors_others--;
	free(c->monitor);
	c->monitor = NULL;
}

void
watch_client(struct client *c, uint16_t kind)
{
	struct broker *b = c->b;
	struct fdp_wire_event e;

	if (kind == FDP_EV_CONNECTED)
		c->id = ++b->watch.next_id;
	else if (c->monitor != NULL)
		monitor_free(c);
	if (watch_quiet(b))
		return;
	event_init(b, &e, kind, c);
	watch_emit(b, &e, NULL);
}

void
watch_refused_connection(struct broker *b, const struct fdp_cred *cred)
{
	struct fdp_wire_event e;

	b->watch.refused_clients++;
	if (watch_quiet(b))
		return;
	event_init(b, &e, FDP_EV_REFUSED, NULL);
	event_who(&e, cred, 0);
	e.status = FDP_S_FULL;
	e.detail = FDP_FULL_CLIENTS;
	watch_emit(b, &e, NULL);
}

void
watch_group(struct client *c, uint16_t kind, const struct group *g)
{
	watch_group_event(c->b, kind, c, g);
}

/* Milliseconds from then to now. */
static uint64_t
ms_since(const struct timespec *then)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)((int64_t)(now.tv_sec - then->tv_sec) * 1000 +
	    (now.tv_nsec - then->tv_nsec) / 1000000);
}

/* Every figure STATUS reports, in the order of enum fdp_status_value. */
static void
status_values(const struct broker *b, uint64_t *v)
{
	const struct broker_limits *l = &b->limits;

	v[FDP_SV_PROTOCOL] = FDP_PROTO_VERSION;
	v[FDP_SV_PID] = (uint64_t)getpid();
	v[FDP_SV_UID] = (uint64_t)geteuid();
	v[FDP_SV_GID] = (uint64_t)getegid();
	v[FDP_SV_STARTED] = (uint64_t)b->watch.started.tv_sec;
	v[FDP_SV_UPTIME_MS] = ms_since(&b->watch.started_mono);
	v[FDP_SV_GROUPS] = b->store.nheld;
	v[FDP_SV_FDS] = b->store.nfds;
	v[FDP_SV_MAX_FDS] = l->max_fds;
	v[FDP_SV_CLIENTS] = b->nclients;
	v[FDP_SV_MAX_CLIENTS] = l->max_clients;
	v[FDP_SV_RESERVED_CLIENTS] = l->reserved_clients;
	v[FDP_SV_WAITERS] = b->nwaiting;
	v[FDP_SV_MAX_WAITERS] = l->max_waiters;
	v[FDP_SV_MONITORS] = b->watch.nmonitors;
	v[FDP_SV_MONITORS_OTHERS] = b->watch.nmonitors_others;
	v[FDP_SV_MAX_MONITORS] = l->max_monitors;
	v[FDP_SV_MONITOR_QUEUE] = WATCH_QUEUE;
	v[FDP_SV_INFLIGHT] = b->inflight;
	v[FDP_SV_MAX_INFLIGHT] = l->max_inflight;
	v[FDP_SV_CLIENT_INFLIGHT] = l->client_inflight;
	v[FDP_SV_CLIENT_TIMEOUT] = l->client_timeout;
	v[FDP_SV_NOFILE] = l->nofile;
	v[FDP_SV_FDS_OPEN] = broker_fds_in_use(b);
	v[FDP_SV_REFUSED_CLIENTS] = b->watch.refused_clients;
	v[FDP_SV_EVENTS_DROPPED] = b->watch.dropped;
	v[FDP_SV_TOOK_OVER_FROM] = (uint64_t)b->watch.took_over_from;
	memcpy(&v[FDP_SV_SERVED], b->watch.requests,
	    sizeof(b->watch.requests));
}

/* A length-prefixed string into p; the bytes written. */
static size_t
put_string(unsigned char *p, const char *s, size_t len)
{
	uint16_t n = (uint16_t)len;

	memcpy(p, &n, sizeof(n));
	memcpy(p + sizeof(n), s, len);
	return sizeof(n) + len;
}

/*
 * The address the broker listens at, as the commands write it: a path,
 * or "@name" for an abstract one; into buf (room for sun_path), its
 * length returned (0 when unnamed). The address it was given, else (a
 * socket handed over by a service manager) the socket's own.
 */
static size_t
status_address(const struct broker *b, char *buf)
{
	const size_t off = offsetof(struct sockaddr_un, sun_path);
	struct sockaddr_un sun = b->addr.sun;
	socklen_t len = b->addr.len;
	size_t n;

	if (len <= off) {
		len = sizeof(sun);
		if (getsockname(b->listen_fd, (struct sockaddr *)&sun,
		    &len) == -1 || len <= off)
			return 0;
	}
	n = len - off;
	if (sun.sun_path[0] != '\0')
		n = strnlen(sun.sun_path, n);
	memcpy(buf, sun.sun_path, n);
	if (sun.sun_path[0] == '\0')
		buf[0] = '@';
	return n;
}

/* STATUS: one record of every figure, the version and the address. */
int
watch_status(struct client *c)
{
	unsigned char buf[sizeof(uint32_t) + FDP_SV_COUNT * sizeof(uint64_t) +
	    2 * sizeof(uint16_t) + sizeof(PACKAGE_VERSION) +
	    sizeof(((struct sockaddr_un *)0)->sun_path)];
	char address[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint64_t v[FDP_SV_COUNT];
	uint32_t n = FDP_SV_COUNT;
	size_t len;

	if (c->b->peer)
		return client_send(c, FDP_OP_STATUS, 0, FDP_S_UNSUPPORTED, NULL,
		    0, NULL, 0);
	status_values(c->b, v);
	memcpy(buf, &n, sizeof(n));
	memcpy(buf + sizeof(n), v, sizeof(v));
	len = sizeof(n) + sizeof(v);
	len += put_string(buf + len, PACKAGE_VERSION,
	    sizeof(PACKAGE_VERSION) - 1);
	len += put_string(buf + len, address, status_address(c->b, address));
	return client_send(c, FDP_OP_STATUS, 0, FDP_S_OK, buf, len, NULL, 0);
}

/* The client becomes a monitor, with an empty ring; -1 without memory. */
static int
monitor_new(struct client *c)
{
	struct watch *w = &c->b->watch;

	if ((c->monitor = calloc(1, sizeof(*c->monitor))) == NULL)
		return -1;
	c->monitor->c = c;
	TAILQ_INSERT_TAIL(&w->monitors, c->monitor, entry);
	w->nmonitors++;
	if (!c->trusted)
		w->nmonitors_others++;
	evtimer_del(c->idle_ev);	/* idle only while it leaves events unread */
	return 0;
}

/*
 * MONITOR: the client becomes a monitor, within --max-monitors for other
 * uids (the owner's count only as clients), and its stream starts with
 * an event of its own. From now on it may only hang up.
 */
int
watch_monitor(struct client *c)
{
	struct broker *b = c->b;
	struct fdp_wire_event e;

	if (b->peer)
		return client_send(c, FDP_OP_MONITOR, 0, FDP_S_UNSUPPORTED,
		    NULL, 0, NULL, 0);
	if ((!c->trusted &&
	    b->watch.nmonitors_others >= b->limits.max_monitors) ||
	    monitor_new(c) == -1)
		return client_send_full(c, FDP_OP_MONITOR, FDP_FULL_MONITORS);
	b->watch.requests[2 * FDP_RK_MONITOR]++;
	event_init(b, &e, FDP_EV_MONITOR, c);
	monitor_push(c->monitor, &e, NULL);
	return 0;
}

int
watch_pending(const struct client *c)
{
	return c->monitor != NULL &&
	    (c->monitor->count > 0 || c->monitor->ending == 1);
}

/* One event as a MONITOR reply record, header h, into rec; its length. */
static size_t
monitor_record(const struct watch_slot *s, uint32_t flags,
    struct fdp_wire_header *h, void *rec)
{
	unsigned char *p = rec;

	fdp_header_init(h, FDP_OP_MONITOR | FDP_OP_REPLY, flags, FDP_S_OK);
	memcpy(p, h, sizeof(*h));
	memcpy(p + sizeof(*h), &s->e, sizeof(s->e));
	memcpy(p + sizeof(*h) + sizeof(s->e), s->name, s->e.name_len);
	return sizeof(*h) + sizeof(s->e) + s->e.name_len;
}

/*
 * Send a monitor's events, oldest first, while its socket takes them,
 * and once they are out the last record of a stopping broker's stream;
 * with none left waiting it is not idle.
 */
int
watch_flush(struct client *c)
{
	struct monitor *m = c->monitor;
	unsigned char rec[WATCH_RECORD_MAX];
	struct fdp_wire_header h;
	struct watch_slot stopped;
	const struct watch_slot *s;
	size_t len;
	ssize_t n;

	if (m == NULL)
		return 0;
	while (!c->dead && (m->count > 0 || m->ending == 1)) {
		if (m->count > 0)
			s = &m->ring[m->head];
		else {
			event_init(c->b, &stopped.e, FDP_EV_STOPPED, NULL);
			s = &stopped;
		}
		len = monitor_record(s, m->count > 0 ? FDP_F_MORE : 0, &h,
		    rec);
		n = fdp_send_msg(c->fd, rec, len, NULL, 0);
		if (n == FDP_ESYS && errno == EAGAIN)
			return 0;
		if (n < 0)
			return -1;
		cmd_log_record("serve", c->fd, "<-", &h, rec + sizeof(h),
		    len - sizeof(h), NULL, 0);
		if (m->count == 0) {
			m->ending = 2;
			break;
		}
		m->head = (m->head + 1) % WATCH_QUEUE;
		m->count--;
		monitor_tell_dropped(m);
	}
	evtimer_del(c->idle_ev);
	return 0;
}

int
watch_end(struct client *c)
{
	struct monitor *m = c->monitor;

	if (m->ending == 0) {
		m->ending = 1;
		client_arm(c);
	}
	return m->ending == 2;
}

size_t
watch_record(const struct client *c, size_t i, void *rec)
{
	const struct monitor *m = c->monitor;
	struct fdp_wire_header h;

	if (i >= m->count)
		return 0;
	return monitor_record(&m->ring[(m->head + i) % WATCH_QUEUE],
	    FDP_F_MORE, &h, rec);
}

uint32_t
watch_dropped(const struct client *c)
{
	return c->monitor->dropped;
}

/*
 * A monitor handed over goes on here, its events waiting already queued
 * as replies, if this broker's rules let it monitor (else its stream ends
 * DENIED), past --max-monitors if need be, as clients go past
 * --max-clients; it hears first of the events the old broker dropped.
 */
struct client *
watch_handed_over(struct client *c, const void *payload)
{
	uint32_t dropped;
	int rc = 0;

	if (c == NULL)
		return NULL;
	memcpy(&dropped, payload, sizeof(dropped));
	if (!access_allows(&c->b->policy, &c->cred, ACCESS_MONITOR, NULL, 0))
		rc = client_send(c, FDP_OP_MONITOR, 0, FDP_S_DENIED, NULL, 0,
		    NULL, 0);
	else if (monitor_new(c) == -1)
		rc = client_send_full(c, FDP_OP_MONITOR, FDP_FULL_MONITORS);
	else {
		c->monitor->dropped = dropped;
		monitor_tell_dropped(c->monitor);
		if (!STAILQ_EMPTY(&c->out))
			client_touch(c);	/* idle while they wait unread */
	}
	if (rc == -1) {
		client_drop(c);
		return NULL;
	}
	client_arm(c);
	return c;
}

void
watch_took_over(struct broker *b)
{
	struct fdp_wire_event e;
	struct fdp_cred old;

	if (fdp_peer_cred(b->takeover_sock, &old) == 0)
		b->watch.took_over_from = old.pid;
	if (TAILQ_EMPTY(&b->watch.monitors))
		return;
	event_init(b, &e, FDP_EV_TAKEOVER, NULL);
	e.pid = (uint32_t)getpid();
	e.uid = (uint32_t)geteuid();
	e.gid = (uint32_t)getegid();
	e.detail = (uint32_t)b->watch.took_over_from;
	watch_emit(b, &e, NULL);
}
