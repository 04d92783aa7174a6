/*
 * loop.c: the broker's event loop: accepting connections within the client
 * limits, its signals (SIGTERM's drain, SIGHUP's rules), the timers that
 * resume clients held back, free the dropped and update the service
 * manager, and the run from start to the last fd closed.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "fdstore.h"
#include "log.h"

/* How long accept() rests after running out of fds, instead of spinning. */
static const struct timeval accept_backoff = { 0, 100 * 1000 };

/* How long a stopping broker waits for requests in flight to be answered. */
static const struct timeval drain_timeout = { 5, 0 };

/* How often the fds in flight are looked at while clients wait for room. */
static const struct timeval inflight_poll = { 0, 10 * 1000 };

/* Status updates wait for the end of the loop's turn, so a burst sends one. */
static const struct timeval status_delay = { 0, 0 };

/* Free an event that may never have been made. */
void
event_free_made(struct event *ev)
{
	if (ev != NULL)
		event_free(ev);
}

/* Stop an event that may never have been made. */
void
event_del_made(struct event *ev)
{
	if (ev != NULL)
		event_del(ev);
}

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

/* The fds the broker counts itself: in groups, clients, queued replies. */
static size_t
broker_fds_counted(const struct broker *b)
{
	return b->store.nfds + b->nclients + b->queued_fds;
}

/* The fds the broker holds now, counted without asking the kernel. */
size_t
broker_fds_in_use(const struct broker *b)
{
	return b->limits.fixed_fds + broker_fds_counted(b);
}

/* Whether the broker may open n more fds of its own (copies to queue). */
int
broker_fds_room(const struct broker *b, size_t n)
{
	return limits_room_for(&b->limits, broker_fds_in_use(b), n);
}

/* Look at the fds in flight again soon, while some client waits for room. */
void
broker_inflight_later(struct broker *b)
{
	if (!evtimer_pending(b->inflight_ev, NULL))
		evtimer_add(b->inflight_ev, &inflight_poll);
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
 * Listen for new clients while a slot is free (of --max-clients, or of the
 * owner's --reserved-clients) and there is no backoff.
 */
void
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
void
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
	handover_changed(b, g);
	broker_changed(b);
	if (!held && b->npaused > 0)
		event_active(b->resume_ev, EV_TIMEOUT, 1);
}

/* A stopping broker ends its loop once the last client is answered. */
void
broker_drained(struct broker *b)
{
	if (b->stopping && b->nclients == 0)
		event_base_loopbreak(b->base);
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
			watch_refused_connection(b, &cred);
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
 * SIGTERM and SIGINT: stop accepting, answer the requests in flight, and end
 * the loop when every client is answered or drain_timeout passes; a second
 * signal ends it at once, and so does a takeover during the drain (the
 * clients are the new broker's); a takeover's live copy under way hands
 * over at once instead. Cleanup follows in broker_run; it closes
 * the groups but leaves the service manager's fd store (--fdstore) alone.
 */
static void
broker_stop(evutil_socket_t sig, short what, void *arg)
{
	struct broker *b = arg;
	struct client *c;

	(void)sig;
	(void)what;
	handover_now(b);
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
int
broker_run(struct broker *b, int ready_fd)
{
	static const struct sched_param idle = { 0 };
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
	watch_start(b);
	if (b->fdstore)
		fdstore_adopt(&b->store, "serve", b->adopt_names, b->nadopt);
	broker_limits_settle(b);
	if (b->takeover_sock >= 0) {
		handover = takeover_receive(b);
		if (handover == 0)
			watch_took_over(b);
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
	/*
	 * A broker taken over lets go of its copies of everything as an idle
	 * task: whatever wakes on the CPU it shares, a client of the new
	 * broker say, runs first.
	 */
	if (b->handed_over)
		sched_setscheduler(0, SCHED_IDLE, &idle);
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

/*
 * A broker as serve and peer mode both start it: only its own uid and root
 * allowed, a 0600 socket, the default limits, nothing open yet.
 */
void
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
