/*
 * broker.h: the broker (fdpass serve, and peer mode), its rooms and what
 * they share: the broker and its clients, and the calls between the rooms.
 * A request flows down: conn.c reads and judges it (request.c decodes,
 * access.c allows), ops.c does it on the store (store.c), and every reply
 * goes back through client_send. loop.c runs the event loop, socket.c
 * listens, handover.c hands this broker over in a takeover and takeover.c
 * takes another's place, peer.c is peer mode; watch.c counts what happens
 * and tells STATUS and the monitors, hearing of it through one call where
 * each thing happens; limits.c and fdstore.c serve them all. serve.c (the
 * command) only configures a broker and starts it; nothing here calls up
 * into the client commands.
 *
 * Fds follow lib/fdpass.h's rule: whoever holds one closes it. The store
 * holds the groups' fds, a client its connection, a queued reply (struct
 * outrec) copies of the fds it lends out; a request's fds are the
 * broker's to close unless the store took them.
 */
#ifndef FDPASS_BROKER_H
#define FDPASS_BROKER_H

#include <sys/queue.h>

#include <event2/event.h>

#include "fdpass.h"
#include "access.h"
#include "limits.h"
#include "request.h"
#include "store.h"

struct monitor;
struct live;

/* A reply the client's socket had no room for yet; it owns its fds. */
struct outrec {
	STAILQ_ENTRY(outrec)	 entry;
	size_t			 len;
	size_t			 nfds;
	int			*fds;		/* after data, in the same allocation */
	unsigned char		 data[];
};

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
	uint32_t		 id;		/* the broker's number for it, from 1 */
	struct monitor		*monitor;	/* MONITOR: the events it is owed */
	uint8_t			 req_namelen;	/* the name of the request being */
	char			 req_name[255];	/* answered, for its events; or 0 */
};

/* What the broker tells of itself (watch.c): since when, and its counts. */
struct watch {
	struct timeval		 started;	/* the wall clock's */
	struct timespec		 started_mono;
	uint64_t		 requests[2 * FDP_RK_COUNT]; /* served, refused */
	uint64_t		 refused_clients; /* past --max-clients */
	uint64_t		 dropped;	/* events monitors did not read */
	pid_t			 took_over_from; /* the broker it took over; 0 */
	uint32_t		 next_id;	/* the last client's number */
	TAILQ_HEAD(, monitor)	 monitors;
	size_t			 nmonitors;
	size_t			 nmonitors_others; /* of other uids */
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
	struct live		*live;		/* a takeover's live copy; or NULL */
	const char		*takeover_why;	/* why this broker refused a takeover */
	struct watch		 watch;
};

/* ---- loop.c: the event loop ---- */

/* A broker as serve and peer mode both start it: own uid and root, 0600. */
void		 broker_init(struct broker *b);

/*
 * Run the loop until a signal stops it (or a new broker takes over), then
 * close everything held; returns the exit status.
 */
int		 broker_run(struct broker *b, int ready_fd);

/* Listen for new clients while a slot is free and there is no backoff. */
void		 broker_accept_gate(struct broker *b);

/* fds or a client slot were freed: poll again what waited for them. */
void		 broker_resume(struct broker *b);

/* A stopping broker ends its loop once the last client is answered. */
void		 broker_drained(struct broker *b);

/* The fds the broker holds now, and whether it may open n more. */
size_t		 broker_fds_in_use(const struct broker *b);
int		 broker_fds_room(const struct broker *b, size_t n);

/* Look at the fds in flight again soon, while some client waits for room. */
void		 broker_inflight_later(struct broker *b);

/* Stop or free an event that may never have been made. */
void		 event_del_made(struct event *ev);
void		 event_free_made(struct event *ev);

/* ---- conn.c: one client connection ---- */

/* A new connection as a client; NULL (the connection closed) if it cannot be. */
struct client	*client_new(struct broker *b, int fd,
		    const struct fdp_cred *cred);

/* Drop a client now (safe twice); client_free frees it, from the loop. */
void		 client_drop(struct client *c);
void		 client_free(struct client *c);

/* Poll what the client's state lets the loop wait for. */
void		 client_arm(struct client *c);

/* Restart the client's --client-timeout. */
void		 client_touch(struct client *c);

/*
 * Every reply goes out through client_send (fds borrowed): 0 sent or
 * queued, 1 FULL sent in its place, -1 the client is to be dropped.
 * client_send_full answers FULL with its reason (FDP_FULL_*).
 */
int		 client_send(struct client *c, uint16_t op, uint32_t flags,
		    uint32_t status, const void *payload, size_t len,
		    const int *fds, size_t nfds);
int		 client_send_full(struct client *c, uint16_t op, uint32_t why);

/* Queue a whole reply record with copies of its fds (a takeover's). */
int		 client_queue(struct client *c, const void *rec, size_t len,
		    const int *fds, size_t nfds);

/* Fds in flight to a client: read back, room for nfds more, counted. */
void		 client_inflight_read(struct client *c);
int		 client_inflight_room(const struct client *c, size_t nfds);
void		 client_inflight_add(struct client *c, size_t nfds);

/* Tell a connection past --max-clients so (FULL, CLIENTS) and close it. */
void		 broker_refuse(int fd);

/* A stopping broker drops a client once nothing is left to answer it for. */
void		 client_drain_check(struct client *c);

/* ---- ops.c: what each request does ---- */

/* Do one decoded, allowed request; -1 when the client is to be dropped. */
int		 broker_handle(struct broker *b, struct client *c,
		    const struct request *req, int *fds, size_t nfds);

/* Make the client wait for name (timeout in ms, 0 none); -1 to drop it. */
int		 client_wait(struct client *c, const char *name, size_t len,
		    uint32_t timeout_ms, int take);

/* A waiting client stops waiting. */
void		 client_stop_waiting(struct client *c);

/* Wake the waiters owed a group held now, once there is room in flight. */
void		 broker_wake_owed(struct broker *b);

/* Send the next records of a LIST being sent; -1 to drop the client. */
int		 client_list_continue(struct client *c);

/*
 * The LIST entries of n groups into buf, as LIST, DUMP and the handover
 * send them; with fds, their fds after the *nfds there. Returns the bytes.
 */
size_t		 entries_put(unsigned char *buf, const struct group *const *pick,
		    size_t n, int *fds, size_t *nfds);

/* ---- handover.c: takeover, the old broker's side ---- */

/* TAKEOVER (flags: the request's); -1 to drop the taker. */
int		 broker_takeover(struct broker *b, struct client *c,
		    uint32_t flags);

/* A group changed while a live copy runs (the store's hook). */
void		 handover_changed(struct broker *b, const struct group *g);

/* Whether c takes a live copy, and may only wait; c was dropped. */
int		 handover_copying(const struct client *c);
void		 handover_dropped(struct client *c);

/* SIGTERM during a live copy: hand over now rather than stop. */
void		 handover_now(struct broker *b);

/* ---- takeover.c: takeover, the new broker's side ---- */

/* On b->takeover_sock; 0 or an exit status. */
int		 takeover_receive(struct broker *b);

/*
 * serve --takeover: run as the broker the connection sock (to the old
 * broker, checked to be of our user or root) leads to; it takes sock.
 */
int		 broker_take_over(struct broker *b, int sock, int ready_fd);

/* ---- watch.c: its counts, STATUS, and the monitors' events ---- */

/* The broker starts: its clocks, and the groups its TTLs close told. */
void		 watch_start(struct broker *b);

/* A request was read: keep its name for the events its answer makes. */
void		 watch_request(struct client *c, const struct request *req);

/*
 * The last record of an answer went out (h is its header): count the
 * request served or refused, and tell the monitors of a refusal.
 */
void		 watch_answer(struct client *c, const struct fdp_wire_header *h,
		    const void *payload, size_t len);

/* A takeover of this broker begins: counted as served. */
void		 watch_takeover_begins(struct broker *b);

/*
 * A client connected (it gets its number), or left (a monitor stops
 * being one); FDP_EV_CONNECTED or FDP_EV_LEFT.
 */
void		 watch_client(struct client *c, uint16_t kind);

/* A connection was refused, past --max-clients. */
void		 watch_refused_connection(struct broker *b,
		    const struct fdp_cred *cred);

/* The client stored, replaced, got, took or deleted g (FDP_EV_*). */
void		 watch_group(struct client *c, uint16_t kind,
		    const struct group *g);

/* STATUS, and MONITOR's start; -1 when the client is to be dropped. */
int		 watch_status(struct client *c);
int		 watch_monitor(struct client *c);

/* Whether a monitor has records to send; send them (-1: drop it). */
int		 watch_pending(const struct client *c);
int		 watch_flush(struct client *c);

/* A stopping broker ends a monitor's stream: 1 once it is all out. */
int		 watch_end(struct client *c);

/*
 * Takeover, the old side: the monitor's i-th record waiting (0 past the
 * last) into rec (room for WATCH_RECORD_MAX bytes), and the count of
 * events dropped since it was last told. The new side: the client handed
 * over monitors (payload: that count, 4 bytes), if this broker's rules let
 * it; NULL when it was dropped.
 */
#define WATCH_RECORD_MAX	(sizeof(struct fdp_wire_header) + \
				 sizeof(struct fdp_wire_event) + 255)
size_t		 watch_record(const struct client *c, size_t i, void *rec);
uint32_t	 watch_dropped(const struct client *c);
struct client	*watch_handed_over(struct client *c, const void *payload);

/* This broker took over another (b->takeover_sock): the monitors hear. */
void		 watch_took_over(struct broker *b);

/* ---- socket.c: where the broker listens ---- */

/*
 * Take what a service manager handed over through LISTEN_FDS: 1 with a
 * listener, 0 without, -1 after a message; serve_inherited_close closes
 * what no broker adopted.
 */
int		 serve_inherited(struct broker *b, int fdstore);
void		 serve_inherited_close(struct broker *b);

/* Listen at the address (or on the socket handed over) and run there. */
int		 broker_serve_at(struct broker *b, const char *cmd,
		    const char *socket_opt, int ready_fd);

/* ---- peer.c: peer mode ---- */

/* In peer mode the loop ends once the one client is answered or gone. */
void		 peer_check_done(struct broker *b, struct client *c);

/* At the end, peer mode keeps copies of the one group stored. */
void		 peer_collect(const struct group *g, void *arg);

/*
 * Peer mode (--peer, recv --listen): listen at the address and answer
 * exactly one client as the broker would, until it has stored one group;
 * r then holds its fds and name (256 bytes) its name.
 */
int		 serve_peer(const char *cmd, const char *socket_opt,
		    struct fdp_reply *r, char *name);

#endif
