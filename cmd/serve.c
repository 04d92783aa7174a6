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
};

/* How long accept() rests after running out of fds, instead of spinning. */
static const struct timeval accept_backoff = { 0, 100 * 1000 };

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

/* Dropping a client frees everything it had, queued fds included. */
static void
client_free(struct client *c)
{
	struct outrec *o;

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
}

/* STORE: the group's fds move from the request into the store. */
static uint32_t
broker_store(struct broker *b, const struct fdp_wire_header *h,
    const char *name, size_t len, int *fds, size_t nfds)
{
	uint32_t status;

	if (nfds == 0)
		return FDP_S_NOFDS;
	if ((status = (uint32_t)fdp_name_check(name, len)) != 0)
		return status;
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
		else
			broker_changed(b);
		return client_send(c, h->op, 0, status, NULL, 0, NULL, 0);
	case FDP_OP_RETRIEVE:
	case FDP_OP_LIST:
		if (nfds > 0) {
			fdp_close_fds(fds, nfds);
			return client_send(c, h->op, 0, FDP_S_MALFORMED,
			    NULL, 0, NULL, 0);
		}
		if (h->op == FDP_OP_LIST)
			return broker_list(b, c);
		if ((status = (uint32_t)fdp_name_check(payload, len)) != 0)
			return client_send(c, h->op, 0, status, NULL, 0, NULL, 0);
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
	} else
		rc = broker_handle(b, c, &h, (const char *)rec + sizeof(h),
		    (size_t)n - sizeof(h), fds, nfds);
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

/* Run the loop until a signal stops it, then close everything held. */
static int
broker_run(struct broker *b, int ready_fd)
{
	struct event *term_ev, *int_ev;
	struct client *c;
	int status = EXIT_SYSTEM;

	TAILQ_INIT(&b->clients);
	b->base = event_base_new();
	if (b->base == NULL || store_init(&b->store) == -1) {
		cmd_warn("serve", "cannot set up the event loop");
		if (b->base != NULL)
			event_base_free(b->base);
		return EXIT_SYSTEM;
	}
	b->accept_ev = event_new(b->base, b->listen_fd, EV_READ | EV_PERSIST,
	    broker_accept, b);
	b->backoff_ev = evtimer_new(b->base, broker_accept_resume, b);
	b->status_ev = evtimer_new(b->base, broker_status_send, b);
	term_ev = evsignal_new(b->base, SIGTERM, broker_stop, b);
	int_ev = evsignal_new(b->base, SIGINT, broker_stop, b);
	if (b->accept_ev == NULL || b->backoff_ev == NULL ||
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

/*
 * A broker started by a service manager (LISTEN_FDS) serves on the socket it
 * was handed: one listening AF_UNIX SOCK_SEQPACKET socket, nothing else.
 * Returns 1 with b->listen_fd set, 0 when nothing was handed over, or -1
 * after saying why.
 */
static int
serve_activated(struct broker *b)
{
	char **names;
	int n, domain = 0, type = 0, listening = 0;
	socklen_t len = sizeof(int);

	if ((n = fdp_listen_fds(&names)) <= 0) {
		if (n < 0)
			cmd_warn("serve", "%s", fdp_strerror(n));
		return n < 0 ? -1 : 0;
	}
	free(names);
	getsockopt(FDP_LISTEN_FDS_START, SOL_SOCKET, SO_DOMAIN, &domain, &len);
	getsockopt(FDP_LISTEN_FDS_START, SOL_SOCKET, SO_TYPE, &type, &len);
	getsockopt(FDP_LISTEN_FDS_START, SOL_SOCKET, SO_ACCEPTCONN, &listening,
	    &len);
	if (n == 1 && domain == AF_UNIX && type == SOCK_SEQPACKET && listening) {
		b->listen_fd = FDP_LISTEN_FDS_START;
		b->activated = 1;
		return 1;
	}
	if (n == 1)
		cmd_warn("serve", "the socket handed over through LISTEN_FDS is "
		    "not a listening Unix SOCK_SEQPACKET socket (use "
		    "ListenSequentialPacket=, or systemd-socket-activate "
		    "--seqpacket)");
	else
		cmd_warn("serve", "%d fds handed over through LISTEN_FDS; serve "
		    "takes exactly one listening socket", n);
	while (n-- > 0)
		close(FDP_LISTEN_FDS_START + n);
	return -1;
}

/* Bind the broker's own socket at -s ADDR or the default address. */
static int
serve_bind(struct broker *b, const char *socket_opt, char *buf, size_t len)
{
	const char *address;
	int rc;

	address = fdp_broker_address(socket_opt, buf, len);
	if (address == NULL || (rc = fdp_addr_parse(address, &b->addr)) != 0) {
		cmd_warn("serve", "%s: %s", address ? address : socket_opt,
		    fdp_strerror(address ? rc : FDP_EADDRLEN));
		return EXIT_USAGE;
	}
	b->listen_fd = fdp_listen_unix(&b->addr, SOCK_SEQPACKET, 1);
	if (b->listen_fd < 0) {
		cmd_warn("serve", "cannot listen on %s: %s", address,
		    fdp_strerror(b->listen_fd));
		return EXIT_SYSTEM;
	}
	return 0;
}

static const struct option serve_options[] = {
	{ "socket",	required_argument,	NULL,	's' },
	{ "ready-fd",	required_argument,	NULL,	'r' },
	{ "help",	no_argument,		NULL,	'h' },
	{ NULL,		0,			NULL,	0 }
};

static int
serve_run(int argc, char **argv)
{
	struct broker b;
	char addrbuf[PATH_MAX];
	const char *socket_opt = NULL;
	int ch, ready_fd = -1, status;

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
	memset(&b, 0, sizeof(b));
	b.notify_fd = -1;
	if ((status = serve_activated(&b)) == -1)
		return EXIT_SYSTEM;
	if (status == 1 && socket_opt != NULL) {
		cmd_warn("serve", "-s %s: the broker was handed its socket "
		    "through LISTEN_FDS; drop -s", socket_opt);
		close(b.listen_fd);
		return EXIT_USAGE;
	}
	if (status == 0 && (status = serve_bind(&b, socket_opt, addrbuf,
	    sizeof(addrbuf))) != 0)
		return status;
	if (fcntl(b.listen_fd, F_SETFL, O_NONBLOCK) == -1) {
		cmd_warn("serve", "the listening socket: %s", strerror(errno));
		status = EXIT_SYSTEM;
	} else {
		signal(SIGPIPE, SIG_IGN);
		b.notify_fd = cmd_notify_open("serve");
		status = broker_run(&b, ready_fd);
		if (b.notify_fd >= 0)
			close(b.notify_fd);
	}
	close(b.listen_fd);
	if (!b.activated)
		fdp_unlink_unix(&b.addr);
	return status;
}

const struct cmd_entry cmd_serve = {
	"serve",
	"serve [-s ADDR] [--ready-fd N]\n"
	"Run the broker in the foreground until SIGTERM or SIGINT.\n"
	"  -s, --socket ADDR  address to listen on (path or @abstract); not\n"
	"                     with a socket handed over through LISTEN_FDS\n"
	"      --ready-fd N   write a newline to fd N once accepting\n"
	"With LISTEN_FDS (systemd socket activation) it serves on the listening\n"
	"SOCK_SEQPACKET socket handed over; with NOTIFY_SOCKET it sends READY=1,\n"
	"STATUS= and STOPPING=1 to the service manager.\n",
	serve_run,
};
