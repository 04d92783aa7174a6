/*
 * conn.c: one client connection: reading its requests and judging them,
 * queueing and sending its replies within its bounds (one record queued,
 * its share of the fds in flight), and dropping it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/sockios.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"

/* The payload of a FULL reply: what is full. */
static uint32_t full_why[] = { 0, FDP_FULL_FDS, FDP_FULL_CLIENTS,
    FDP_FULL_WAITERS, FDP_FULL_INFLIGHT, FDP_FULL_MONITORS };

/* A queued reply goes away with the fds it lent. */
static void
outrec_free(struct broker *b, struct outrec *o)
{
	b->queued_fds -= o->nfds;
	fdp_close_fds(o->fds, o->nfds);
	free(o);
}

/* Any sign of life from a client restarts its --client-timeout. */
void
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
void
client_arm(struct client *c)
{
	int held = c->paused || c->stalled;

	if (c->dead)
		return;
	if (STAILQ_EMPTY(&c->out) && !watch_pending(c))
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
 * Drop a client: close its connection and let go of everything it had,
 * queued fds and its share of the fds in flight included, at once; its
 * memory waits for the reaper, so that whoever is walking the clients (or
 * was answering this one) can still look at it. Safe to call twice.
 */
void
client_drop(struct client *c)
{
	struct broker *b = c->b;
	struct outrec *o;

	if (c->dead)
		return;
	handover_dropped(c);
	client_stop_waiting(c);
	c->dead = 1;
	watch_client(c, FDP_EV_LEFT);
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
void
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
void
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
int
client_inflight_room(const struct client *c, size_t nfds)
{
	return c->inflight + nfds <= c->b->limits.client_inflight &&
	    c->b->inflight + nfds <= limits_inflight(&c->b->limits,
	    c->trusted);
}

/* Count fds that go out to a client (sent or queued) as in flight. */
void
client_inflight_add(struct client *c, size_t nfds)
{
	c->inflight += nfds;
	c->b->inflight += nfds;
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

/* Keep a reply for later, with copies of the fds it lends out. */
int
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

/*
 * A reply went out, or waits in the queue: its fds are in flight, and the
 * counts and monitors hear of it.
 */
static int
client_sent(struct client *c, const struct fdp_wire_header *h,
    const void *payload, size_t len, size_t nfds)
{
	client_inflight_add(c, nfds);
	watch_answer(c, h, payload, len);
	return 0;
}

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
int
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
	if (STAILQ_EMPTY(&c->out)) {
		n = fdp_send_msg(c->fd, rec, sizeof(h) + len, fds, nfds);
		if (n >= 0)
			return client_sent(c, &h, payload, len, nfds);
		if (n == FDP_ESYS && nfds > 0 && (errno == ETOOMANYREFS ||
		    errno == ENOMEM || errno == ENOBUFS))
			goto full;
		if (n != FDP_ESYS || errno != EAGAIN)
			return -1;
	}
	if (nfds > 0 && !broker_fds_room(c->b, nfds))
		goto full;
	if (client_queue(c, rec, sizeof(h) + len, fds, nfds) == 0)
		return client_sent(c, &h, payload, len, nfds);
	if (nfds == 0)
		return -1;
full:
	return client_send(c, op, 0, FDP_S_FULL, &full_why[FDP_FULL_INFLIGHT],
	    sizeof(uint32_t), NULL, 0) == -1 ? -1 : 1;
}

/* A FULL answer to op, saying what is full (FDP_FULL_*). */
int
client_send_full(struct client *c, uint16_t op, uint32_t why)
{
	return client_send(c, op, 0, FDP_S_FULL, &full_why[why],
	    sizeof(uint32_t), NULL, 0);
}

/*
 * The socket has room again: send what waited; then a LIST goes on, or a
 * monitor's events, or the client is heard again (a stopping broker may
 * be done with it).
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
	if (client_list_continue(c) == -1 || watch_flush(c) == -1) {
		client_drop(c);
		return;
	}
	client_arm(c);
	broker_resume(b);
	if (b->stopping)
		client_drain_check(c);
	peer_check_done(b, c);
}

/* The status a record earned by how it arrived, when fdp_recv_msg refused it. */
static uint32_t
recv_error_status(ssize_t n)
{
	return n == FDP_ECTRUNC ? FDP_S_TRUNCATED : FDP_S_MALFORMED;
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
 * What the client's next request asks, looked at without taking it (a
 * peek with no room for fds): whether it carries fds, and how many its
 * answer would carry now (a RETRIEVE of a group held: the group's; a DUMP:
 * up to a whole record's; else none). -1 when no record waits (or the client is gone, which the read
 * that follows finds out).
 */
static int
client_peek(const struct client *c, int *has_fds, size_t *answer_fds)
{
	unsigned char rec[sizeof(struct fdp_wire_header) + sizeof(uint32_t) +
	    255];
	const struct group *g;
	struct request req;
	struct msghdr msg;
	struct iovec iov;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = rec;
	iov.iov_len = sizeof(rec);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if ((n = recvmsg(c->fd, &msg, MSG_PEEK | MSG_DONTWAIT)) <= 0)
		return -1;
	*has_fds = (msg.msg_flags & MSG_CTRUNC) != 0;
	*answer_fds = 0;
	if ((msg.msg_flags & MSG_TRUNC) != 0 ||
	    request_decode(rec, (size_t)n, 0, FDP_S_OK, &req) != FDP_S_OK)
		return 0;
	if (req.h.op == FDP_OP_DUMP)
		*answer_fds = FDP_MAX_FDS;
	else if (req.h.op == FDP_OP_RETRIEVE && req.name != NULL &&
	    (g = store_find(&c->b->store, req.name, req.len)) != NULL)
		*answer_fds = g->nfds;
	return 0;
}

/*
 * Whether the client may be read now; if not it is held back (stalled for
 * room in flight, paused for fds) until what it waits for is freed. What
 * its next request asks is looked at only when room is short: a request
 * whose answer carries fewer fds than a whole group (or none) may still
 * go, and a broker short of fds still reads a request that carries none.
 */
static int
client_readable(struct client *c)
{
	struct broker *b = c->b;
	int room, has_fds;
	size_t need;

	client_inflight_read(c);
	room = limits_room(&b->limits, broker_fds_in_use(b));
	if ((room && client_inflight_room(c, FDP_MAX_FDS)) ||
	    client_peek(c, &has_fds, &need) == -1)
		return 1;
	if (!client_inflight_room(c, need)) {
		client_stall(c);
		return 0;
	}
	if (room || !has_fds)
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
 * answer is left to send; a waiting client or a monitor is not read (it
 * may only hang up), and a broker that handed over reads nothing more: its
 * clients are the new broker's. Access is judged before anything else the
 * request says, so a client without rights learns nothing from the broker.
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

	if (c->dead || c->wait.g != NULL || c->monitor != NULL ||
	    handover_copying(c) || b->handed_over ||
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
	watch_request(c, &req);
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
 * Requests answered a turn of the loop for one client that pipelines them,
 * before the others get theirs: fewer trips through the loop, and no one
 * kept waiting long.
 */
#define CLIENT_READS_A_TURN	16

/*
 * The client's socket is readable: answer its requests (a few, if it
 * pipelines), or drop a waiting client, a monitor or a live copy's taker,
 * which may only hang up. What such a client sent is read without a
 * control buffer, so that the kernel closes its fds, not the broker (which
 * needs no room for them), and the client sees its connection closed
 * rather than reset.
 */
static void
client_read(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	char byte;
	int n, rc = 0;

	(void)what;
	if (c->wait.g == NULL && c->monitor == NULL && !handover_copying(c)) {
		for (n = 0; n < CLIENT_READS_A_TURN &&
		    (rc = client_read_one(c)) == 1; n++)
			continue;
		if (rc != -1 && c->b->stopping)
			client_drain_check(c);
		return;
	}
	while (recv(fd, &byte, 1, MSG_DONTWAIT) > 0)
		continue;
	client_drop(c);
}

/*
 * A new connection becomes a client with its own events and the
 * credentials its requests are judged by; NULL (the connection closed)
 * when it cannot.
 */
struct client *
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
	watch_client(c, FDP_EV_CONNECTED);
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
 * A stopping broker drops a client once it has nothing left to answer it
 * for: not waiting (nothing it sent is left to answer, and its wait may
 * outlast any drain), nothing queued or being listed to it, and no request
 * of its unread; nor a client paused for fds the broker will not have. A
 * monitor's stream ends first. Others are answered through the loop's
 * events as usual, within the drain's time, and come back here after each
 * answer.
 */
void
client_drain_check(struct client *c)
{
	int has_fds;
	size_t need;

	if (c->dead || (c->monitor != NULL && !watch_end(c)))
		return;
	if (c->wait.g != NULL || c->paused ||
	    (STAILQ_EMPTY(&c->out) && !c->listing &&
	    client_peek(c, &has_fds, &need) == -1))
		client_drop(c);
}

/*
 * A connection past --max-clients from anyone but the owner is told so in
 * one record (FULL, reason CLIENTS, op FDP_OP_REPLY: it asked nothing yet)
 * and closed; the owner's --reserved-clients stay its own. Its reading side
 * is shut and what it sent already discarded (its fds closed by the kernel,
 * for want of a control buffer) first: closing with a request unread would
 * make the kernel report a reset to the client before it reads the record.
 */
void
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
