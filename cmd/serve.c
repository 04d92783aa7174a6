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

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "access.h"
#include "cmd.h"
#include "broker-limits.h"
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

struct client {
	TAILQ_ENTRY(client)	 entry;
	struct broker		*b;
	int			 fd;
	struct fdp_cred		 cred;		/* as of connect() */
	int			 paused;	/* not read until the broker has room */
	struct event		*read_ev;
	struct event		*write_ev;
	struct event		*idle_ev;	/* --client-timeout */
	struct event		*hangup_ev;	/* a paused client went away */
	STAILQ_HEAD(, outrec)	 out;
};

struct broker {
	struct event_base	*base;
	struct fdp_addr		 addr;
	struct fdp_addr		 bound;		/* addr as bound, for unlinking */
	int			 dir_fd;	/* the socket's directory, or -1 */
	mode_t			 mode;		/* --mode */
	int			 listen_fd;
	struct event		*accept_ev;
	struct event		*backoff_ev;
	struct event		*drain_ev;	/* bounds the SIGTERM drain */
	struct store		 store;
	TAILQ_HEAD(, client)	 clients;
	size_t			 nclients;
	size_t			 npaused;
	size_t			 queued_fds;	/* fds held in replies not yet sent */
	int			 accepting;	/* accept_ev is wanted */
	int			 stopping;	/* SIGTERM came: draining */
	struct access_policy	 policy;
	struct broker_limits	 limits;
};

/* How long accept() rests after running out of fds, instead of spinning. */
static const struct timeval accept_backoff = { 0, 100 * 1000 };

/* How long a stopping broker waits for requests in flight to be answered. */
static const struct timeval drain_timeout = { 5, 0 };

static void	broker_resume(struct broker *);
static void	broker_drained(struct broker *);

/* A queued reply goes away with the fds it lent. */
static void
outrec_free(struct broker *b, struct outrec *o)
{
	b->queued_fds -= o->nfds;
	fdp_close_fds(o->fds, o->nfds);
	free(o);
}

/* Dropping a client frees everything it had, queued fds included. */
static void
client_free(struct client *c)
{
	struct broker *b = c->b;
	struct outrec *o;

	while ((o = STAILQ_FIRST(&c->out)) != NULL) {
		STAILQ_REMOVE_HEAD(&c->out, entry);
		outrec_free(b, o);
	}
	if (c->read_ev != NULL)
		event_free(c->read_ev);
	if (c->write_ev != NULL)
		event_free(c->write_ev);
	if (c->idle_ev != NULL)
		event_free(c->idle_ev);
	if (c->hangup_ev != NULL)
		event_free(c->hangup_ev);
	if (c->paused)
		b->npaused--;
	close(c->fd);
	TAILQ_REMOVE(&b->clients, c, entry);
	b->nclients--;
	free(c);
	broker_resume(b);
	broker_drained(b);
}

/* Any sign of life from a client restarts its --client-timeout. */
static void
client_touch(struct client *c)
{
	struct timeval tv = { (time_t)c->b->limits.client_timeout, 0 };

	if (c->b->limits.client_timeout != 0)
		evtimer_add(c->idle_ev, &tv);
}

/*
 * An idle or half-sent client is dropped, with whatever it had; so is a
 * paused client that hung up, whose end of file nobody reads.
 */
static void
client_expire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_free(arg);
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
	c->b->queued_fds += o->nfds;
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
	client_touch(c);
	while ((o = STAILQ_FIRST(&c->out)) != NULL) {
		n = fdp_send_msg(fd, o->data, o->len, o->fds, o->nfds);
		if (n == FDP_ESYS && errno == EAGAIN)
			return;
		if (n < 0) {
			client_free(c);
			return;
		}
		STAILQ_REMOVE_HEAD(&c->out, entry);
		outrec_free(c->b, o);
	}
	event_del(c->write_ev);
	if (c->b->stopping) {
		client_free(c);
		return;
	}
	event_add(c->read_ev, NULL);
	broker_resume(c->b);
}

/* STORE: the group's fds move from the request into the store. */
static uint32_t
broker_store(struct broker *b, const struct fdp_wire_header *h,
    const char *name, size_t len, int *fds, size_t nfds)
{
	const struct group *old = store_find(&b->store, name, len);
	size_t held = b->store.nfds;

	if (old != NULL && (h->flags & FDP_F_REPLACE) != 0)
		held -= old->nfds;
	if (held + nfds > b->limits.max_fds)
		return FDP_S_FULL;
	return (uint32_t)store_put(&b->store, name, len, fds, nfds,
	    (h->flags & FDP_F_REPLACE) != 0);
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

	if (lo->failed || !access_allows(&lo->c->b->policy, &lo->c->cred,
	    ACCESS_LIST, group_name(g), namelen))
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
 * Answer one request; the request's fds are the broker's to close unless the
 * store took them. Returns -1 when the client is to be dropped.
 */
static int
broker_handle(struct broker *b, struct client *c,
    const struct fdp_wire_header *h, const char *payload, size_t len,
    int *fds, size_t nfds)
{
	const struct group *g;
	uint32_t status;

	switch (h->op) {
	case FDP_OP_STORE:
		status = broker_store(b, h, payload, len, fds, nfds);
		if (status != FDP_S_OK)
			fdp_close_fds(fds, nfds);
		return client_send(c, h->op, 0, status, NULL, 0, NULL, 0);
	case FDP_OP_LIST:
		return broker_list(b, c);
	case FDP_OP_RETRIEVE:
		if ((g = store_find(&b->store, payload, len)) == NULL)
			return client_send(c, h->op, 0, FDP_S_NOENT, NULL, 0,
			    NULL, 0);
		return client_send(c, h->op, 0, FDP_S_OK, NULL, 0, g->fds,
		    g->nfds);
	default:
		fdp_close_fds(fds, nfds);
		return client_send(c, h->op, 0, FDP_S_UNSUPPORTED, NULL, 0,
		    NULL, 0);
	}
}

/*
 * Whether the client's uid or gid may make this request: a name it may use
 * for STORE and RETRIEVE, any grant of LIST for LIST (which then shows only
 * the names it may list).
 */
static int
broker_permits(const struct broker *b, const struct client *c,
    const struct request *req)
{
	unsigned op = access_op_bit(req->h.op);

	if (req->h.op == FDP_OP_LIST)
		return access_allows(&b->policy, &c->cred, op, NULL, 0);
	return access_allows(&b->policy, &c->cred, op, req->name, req->len);
}

/* The status that answers a record fdp_recv_msg refused. */
static uint32_t
recv_error_status(ssize_t n)
{
	return n == FDP_ECTRUNC ? FDP_S_TRUNCATED : FDP_S_MALFORMED;
}

/* The fds the broker holds now, counted without asking the kernel. */
static size_t
broker_fds_in_use(const struct broker *b)
{
	return b->limits.fixed_fds + b->store.nfds + b->nclients +
	    b->queued_fds;
}

/*
 * Read one request record with its fds and answer it: 1 when one was
 * answered, 0 when none waits or the broker lacks room to take its fds (the
 * client is then paused: not polled until fds are freed), -1 when the client
 * was dropped.
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

	if (!limits_room(&b->limits, broker_fds_in_use(b))) {
		if (!c->paused) {
			c->paused = 1;
			b->npaused++;
			event_del(c->read_ev);
			event_add(c->hangup_ev, NULL);
		}
		return 0;
	}
	memset(rec, 0, sizeof(req.h));
	n = fdp_recv_msg(c->fd, rec, sizeof(rec), fds, &nfds);
	if (n == FDP_ESYS && errno == EAGAIN)
		return 0;
	if (n == 0 || n == FDP_ESYS) {
		client_free(c);
		return -1;
	}
	client_touch(c);
	if (n < 0) {
		if (fdp_header_check(rec, sizeof(req.h), &req.h) == FDP_EPROTO)
			req.h.op = 0;
		status = recv_error_status(n);
	} else if ((status = request_decode(rec, (size_t)n, nfds, &req)) ==
	    FDP_S_OK && !broker_permits(b, c, &req))
		status = FDP_S_DENIED;
	if (status != FDP_S_OK) {
		fdp_close_fds(fds, nfds);
		rc = client_send(c, req.h.op, 0, status, NULL, 0, NULL, 0);
	} else
		rc = broker_handle(b, c, &req.h, req.name, req.len, fds, nfds);
	if (rc == -1) {
		client_free(c);
		return -1;
	}
	return 1;
}

/* One request record is waiting: read it with its fds and answer it. */
static void
client_read(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_read_one(arg);
}

/* Listen for new clients while there is a free client slot and no backoff. */
static void
broker_accept_gate(struct broker *b)
{
	if (b->stopping || evtimer_pending(b->backoff_ev, NULL))
		return;
	if (b->nclients < b->limits.max_clients)
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
		if (!c->paused)
			continue;
		c->paused = 0;
		b->npaused--;
		event_del(c->hangup_ev);
		if (STAILQ_EMPTY(&c->out))
			event_add(c->read_ev, NULL);
	}
}

/* A stopping broker ends its loop once the last client is answered. */
static void
broker_drained(struct broker *b)
{
	if (b->stopping && b->nclients == 0)
		event_base_loopbreak(b->base);
}

/*
 * A new connection becomes a client with its own events and the credentials
 * its requests are judged by.
 */
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
	STAILQ_INIT(&c->out);
	TAILQ_INSERT_TAIL(&b->clients, c, entry);
	b->nclients++;
	c->read_ev = event_new(b->base, fd, EV_READ | EV_PERSIST, client_read, c);
	c->write_ev = event_new(b->base, fd, EV_WRITE | EV_PERSIST,
	    client_flush, c);
	c->idle_ev = evtimer_new(b->base, client_expire, c);
	c->hangup_ev = event_new(b->base, fd, EV_CLOSED, client_expire, c);
	if (c->read_ev == NULL || c->write_ev == NULL || c->idle_ev == NULL ||
	    c->hangup_ev == NULL ||
	    fdp_peer_cred(fd, &c->cred) != 0 ||
	    event_add(c->read_ev, NULL) == -1) {
		client_free(c);
		return;
	}
	client_touch(c);
	broker_accept_gate(b);
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
	broker_accept_gate(b);
}

/*
 * Answer what a client of a stopping broker has already sent; drop it once
 * nothing is left to send it.
 */
static void
client_drain(struct client *c)
{
	int rc;

	while ((rc = client_read_one(c)) == 1)
		continue;
	if (rc == 0 && STAILQ_EMPTY(&c->out))
		client_free(c);
}

/*
 * SIGTERM and SIGINT: stop accepting, answer the requests in flight, and end
 * the loop when every client is answered or drain_timeout passes; a second
 * signal ends it at once. Cleanup follows in broker_run.
 */
static void
broker_stop(evutil_socket_t sig, short what, void *arg)
{
	struct broker *b = arg;
	struct client *c, *next;

	(void)sig;
	(void)what;
	if (b->stopping) {
		event_base_loopbreak(b->base);
		return;
	}
	b->stopping = 1;
	event_del(b->accept_ev);
	event_del(b->backoff_ev);
	evtimer_add(b->drain_ev, &drain_timeout);
	for (c = TAILQ_FIRST(&b->clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		client_drain(c);
	}
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

/* Tell whoever waits on --ready-fd that connections are accepted now. */
static void
broker_ready(int ready_fd)
{
	ssize_t n;

	if (ready_fd < 0)
		return;
	do
		n = write(ready_fd, "\n", 1);
	while (n == -1 && errno == EINTR);
	close(ready_fd);
}

/* The loop's own events, made and armed together; -1 if any failed. */
static int
broker_events_new(struct broker *b, struct event **sigs, size_t nsigs)
{
	static const int signo[] = { SIGTERM, SIGINT, SIGHUP };
	size_t i;
	int rc = 0;

	b->accept_ev = event_new(b->base, b->listen_fd, EV_READ | EV_PERSIST,
	    broker_accept, b);
	b->backoff_ev = evtimer_new(b->base, broker_accept_resume, b);
	b->drain_ev = evtimer_new(b->base, broker_drain_expired, b->base);
	for (i = 0; i < nsigs; i++) {
		sigs[i] = evsignal_new(b->base, signo[i],
		    signo[i] == SIGHUP ? broker_reload : broker_stop, b);
		if (sigs[i] == NULL || event_add(sigs[i], NULL) == -1)
			rc = -1;
	}
	if (b->accept_ev == NULL || b->backoff_ev == NULL ||
	    b->drain_ev == NULL || event_add(b->accept_ev, NULL) == -1)
		rc = -1;
	return rc;
}

/* Free an event that may never have been made. */
static void
event_free_made(struct event *ev)
{
	if (ev != NULL)
		event_free(ev);
}

/* Run the loop until a signal stops it, then close everything held. */
static int
broker_run(struct broker *b, int ready_fd)
{
	struct event *sigs[3] = { NULL, NULL, NULL };
	struct client *c;
	size_t i;
	int status = EXIT_SYSTEM;

	TAILQ_INIT(&b->clients);
	b->base = event_base_new();
	if (b->base == NULL || store_init(&b->store) == -1) {
		cmd_warn("serve", "cannot set up the event loop");
		if (b->base != NULL)
			event_base_free(b->base);
		return EXIT_SYSTEM;
	}
	if (broker_events_new(b, sigs, 3) == -1)
		cmd_warn("serve", "cannot set up the event loop");
	else {
		limits_settle(&b->limits);
		broker_ready(ready_fd);
		status = event_base_dispatch(b->base) == -1 ? EXIT_SYSTEM : 0;
	}
	b->stopping = 1;
	while ((c = TAILQ_FIRST(&b->clients)) != NULL)
		client_free(c);
	store_free(&b->store);
	event_free_made(b->accept_ev);
	event_free_made(b->backoff_ev);
	event_free_made(b->drain_ev);
	for (i = 0; i < 3; i++)
		event_free_made(sigs[i]);
	event_base_free(b->base);
	return status;
}

static const struct option serve_options[] = {
	{ "socket",		required_argument,	NULL,	's' },
	{ "ready-fd",		required_argument,	NULL,	'r' },
	{ "allow",		required_argument,	NULL,	'a' },
	{ "rules",		required_argument,	NULL,	'R' },
	{ "mode",		required_argument,	NULL,	'm' },
	{ "max-fds",		required_argument,	NULL,	'F' },
	{ "max-clients",	required_argument,	NULL,	'C' },
	{ "client-timeout",	required_argument,	NULL,	'T' },
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
		return serve_parse_count("max-fds", arg, &b->limits.max_fds);
	case 'C':
		return serve_parse_count("max-clients", arg,
		    &b->limits.max_clients);
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

/* Listen where asked, saying plainly why not. */
static int
serve_listen(struct broker *b, const char *address)
{
	b->listen_fd = fdp_listen_broker(&b->addr, b->mode, &b->bound,
	    &b->dir_fd);
	if (b->listen_fd == FDP_ESYS && errno == ELOOP) {
		cmd_warn("serve", "cannot listen on %s: a directory on the way "
		    "is a symbolic link owned by another user", address);
		return -1;
	}
	if (b->listen_fd < 0) {
		cmd_warn("serve", "cannot listen on %s: %s", address,
		    fdp_strerror(b->listen_fd));
		return -1;
	}
	return 0;
}

static int
serve_run(int argc, char **argv)
{
	struct broker b;
	char addrbuf[PATH_MAX];
	const char *socket_opt = NULL, *address;
	int ch, rc, ready_fd = -1, status = EXIT_USAGE;

	memset(&b, 0, sizeof(b));
	b.mode = 0600;
	b.policy.owner = geteuid();
	limits_init(&b.limits);
	while ((ch = getopt_long(argc, argv, "+s:h", serve_options, NULL)) != -1) {
		switch (ch) {
		case 's':
			socket_opt = optarg;
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
	address = fdp_broker_address(socket_opt, addrbuf, sizeof(addrbuf));
	if (address == NULL || (rc = fdp_addr_parse(address, &b.addr)) != 0) {
		cmd_warn("serve", "%s: %s", address ? address : socket_opt,
		    fdp_strerror(address ? rc : FDP_EADDRLEN));
		goto out;
	}
	status = EXIT_SYSTEM;
	if (serve_listen(&b, address) == -1)
		goto out;
	if (fcntl(b.listen_fd, F_SETFL, O_NONBLOCK) == -1)
		cmd_warn("serve", "%s: %s", address, strerror(errno));
	else {
		signal(SIGPIPE, SIG_IGN);
		status = broker_run(&b, ready_fd);
	}
	close(b.listen_fd);
	fdp_unlink_unix(&b.bound);
	if (b.dir_fd >= 0)
		close(b.dir_fd);
out:
	access_policy_free(&b.policy);
	return status;
}

const struct cmd_entry cmd_serve = {
	"serve",
	"serve [-s ADDR] [--ready-fd N] [--allow SPEC]... [--rules FILE] "
	    "[--mode MODE]\n"
	"      [--max-fds N] [--max-clients N] [--client-timeout SECONDS]\n"
	"Run the broker in the foreground until SIGTERM or SIGINT.\n"
	"  -s, --socket ADDR         address to listen on (path or @abstract)\n"
	"      --ready-fd N          write a newline to fd N once accepting\n"
	"      --allow SPEC          let another uid or gid in: uid=N, user=NAME,\n"
	"                            gid=N or group=NAME, then optionally\n"
	"                            ops=store+retrieve+list+delete, names=GLOB\n"
	"      --rules FILE          more SPECs, one a line; reread on SIGHUP\n"
	"      --mode MODE           the path socket's mode (default 0600)\n"
	"      --max-fds N           fds the broker may hold in groups\n"
	"      --max-clients N       clients connected at once (default 1024)\n"
	"      --client-timeout SEC  drop a client idle this long (default 60,\n"
	"                            0 never)\n",
	serve_run,
};
