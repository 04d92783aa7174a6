/*
 * The fdpass wire protocol. fdpass-protocol(7) is the prose version of this
 * file; change both together and bump FDP_PROTO_VERSION on any change a peer
 * could notice.
 *
 * Transport: a SOCK_SEQPACKET Unix socket. Every record starts with a
 * struct fdp_wire_header; fds ride on the record as one SCM_RIGHTS message.
 * Integers are in the host's byte order: the peers share one kernel.
 */
#ifndef FDPASS_PROTOCOL_H
#define FDPASS_PROTOCOL_H

#include <stdint.h>

#define FDP_PROTO_MAGIC		0x66647073u	/* "fdps" read as a big-endian word */
#define FDP_PROTO_VERSION	2

/* The largest record either side sends or accepts, header included. */
#define FDP_PROTO_MAX_RECORD	65536

/* The largest request the broker reads, header included. */
#define FDP_PROTO_MAX_REQUEST	4096

/* Every record opens with this 16-byte header. */
struct fdp_wire_header {
	uint32_t	magic;		/* FDP_PROTO_MAGIC */
	uint16_t	version;	/* FDP_PROTO_VERSION of the sender */
	uint16_t	op;		/* FDP_OP_*, with FDP_OP_REPLY on replies */
	uint32_t	flags;		/* FDP_F_* */
	uint32_t	status;		/* replies: FDP_S_*; requests: 0 */
};

/*
 * Requests. The payload of STORE, RETRIEVE and DELETE is the group name,
 * after a uint32_t argument when FDP_F_TTL or FDP_F_WAIT is set.
 */
#define FDP_OP_STORE	1	/* fds attached: 1 to 253 */
#define FDP_OP_RETRIEVE	2	/* reply carries the group's fds */
#define FDP_OP_LIST	3	/* empty payload; reply: entries, maybe in several records */
#define FDP_OP_DELETE	4	/* the broker closes the group */
#define FDP_OP_STATUS	5	/* empty payload; reply: the broker's figures */
#define FDP_OP_MONITOR	6	/* empty payload; replies: events as they happen */
#define FDP_OP_DUMP	7	/* payload: a name to go on after; reply: groups with their fds */
#define FDP_OP_LOAD	8	/* payload: LIST entries; fds: theirs; reply: a status each */
#define FDP_OP_TAKEOVER	10	/* a new broker asks for the state; replies: the handover */
#define FDP_OP_TAKEOVER_READY 11 /* the new broker holds the state; replies: the clients */
#define FDP_OP_TAKEOVER_DONE 12	/* the new broker serves; no reply, the old one exits */
#define FDP_OP_REPLY	0x8000	/* or-ed into the op of the request answered */

/* Flags. */
#define FDP_F_REPLACE	0x0001	/* STORE: replace a group already held under the name */
#define FDP_F_MORE	0x0001	/* LIST reply: another reply record follows */
#define FDP_F_TAKE	0x0002	/* RETRIEVE: remove the group as it is handed over */
#define FDP_F_WAIT	0x0004	/* RETRIEVE: wait for the name; argument: timeout in ms, 0 none */
#define FDP_F_TTL	0x0008	/* STORE: argument: seconds until the broker closes the group */
#define FDP_F_BATCH	0x0010	/* TAKEOVER: hand the groups over several a record */
#define FDP_F_LIVE	0x0020	/* TAKEOVER (with BATCH): copy the groups while still serving */

/*
 * TAKEOVER and TAKEOVER_READY replies: FDP_F_MORE says another record
 * follows, and one of these says what the record carries.
 */
#define FDP_F_HANDOVER_LISTENER	0x0100	/* the listening socket, 1 fd */
#define FDP_F_HANDOVER_GROUP	0x0200	/* a struct fdp_wire_entry, the name, the fds */
#define FDP_F_HANDOVER_CLIENT	0x0400	/* a struct fdp_wire_client, the name, 1 fd */
#define FDP_F_HANDOVER_QUEUED	0x0800	/* a reply record queued for the last client, its fds */
#define FDP_F_HANDOVER_LISTING	0x1000	/* the last client's LIST goes on after this name */
#define FDP_F_HANDOVER_MONITOR	0x2000	/* the last client monitors; a uint32_t: events dropped */
#define FDP_F_HANDOVER_GROUPS	0x4000	/* entries as in LIST, then all their fds */
#define FDP_F_HANDOVER_GONE	0x8000	/* names not held any more: a uint8_t length and the name each; none: all */

/* One LIST reply entry; entries follow each other unaligned. */
struct fdp_wire_entry {
	uint16_t	name_len;	/* bytes of name that follow, 1 to 255 */
	uint16_t	nfds;		/* fds in the group, 1 to 253 */
	uint32_t	expires_in;	/* seconds left, rounded up; 0: no TTL */
};

/*
 * A client connection handed over in a takeover; a waiting client's name
 * follows it.
 */
struct fdp_wire_client {
	uint32_t	flags;		/* FDP_F_WAIT if waiting, FDP_F_TAKE */
	uint32_t	wait_ms;	/* time left of its wait; 0: no limit */
};

/*
 * The kinds of request counted, each a served and a refused value from
 * FDP_SV_SERVED on: 2 * kind served (answered OK), 2 * kind + 1 refused.
 */
enum fdp_request_kind {
	FDP_RK_STORE, FDP_RK_RETRIEVE, FDP_RK_LIST, FDP_RK_DELETE,
	FDP_RK_STATUS, FDP_RK_MONITOR, FDP_RK_DUMP, FDP_RK_LOAD,
	FDP_RK_TAKEOVER, FDP_RK_OTHER, FDP_RK_COUNT
};

/*
 * A STATUS reply's payload: a uint32_t count N, then N uint64_t values,
 * these first, in this order (N is at least FDP_SV_COUNT; a later broker
 * may send more after them, which a client skips), then the broker's
 * version and its address, each a uint16_t length and that many bytes.
 */
enum fdp_status_value {
	FDP_SV_PROTOCOL,	/* FDP_PROTO_VERSION */
	FDP_SV_PID,
	FDP_SV_UID,
	FDP_SV_GID,
	FDP_SV_STARTED,		/* seconds since the epoch */
	FDP_SV_UPTIME_MS,	/* milliseconds since it started */
	FDP_SV_GROUPS,		/* groups held */
	FDP_SV_FDS,		/* fds held in them */
	FDP_SV_MAX_FDS,
	FDP_SV_CLIENTS,		/* connections, the asker's included */
	FDP_SV_MAX_CLIENTS,
	FDP_SV_RESERVED_CLIENTS,
	FDP_SV_WAITERS,		/* waiting clients of other uids */
	FDP_SV_MAX_WAITERS,
	FDP_SV_MONITORS,	/* monitors of any uid */
	FDP_SV_MONITORS_OTHERS,	/* of them, of other uids */
	FDP_SV_MAX_MONITORS,
	FDP_SV_MONITOR_QUEUE,	/* events one monitor may have waiting */
	FDP_SV_INFLIGHT,	/* fds sent to clients, maybe unread */
	FDP_SV_MAX_INFLIGHT,
	FDP_SV_CLIENT_INFLIGHT,	/* one client's share of it */
	FDP_SV_CLIENT_TIMEOUT,	/* seconds; 0 never */
	FDP_SV_NOFILE,		/* the broker's fd limit */
	FDP_SV_FDS_OPEN,	/* fds it has open */
	FDP_SV_REFUSED_CLIENTS,	/* connections refused, past --max-clients */
	FDP_SV_EVENTS_DROPPED,	/* events monitors did not read in time */
	FDP_SV_TOOK_OVER_FROM,	/* pid of the broker it took over; 0 */
	FDP_SV_SERVED,		/* served and refused requests by kind: */
	FDP_SV_COUNT = FDP_SV_SERVED + 2 * FDP_RK_COUNT
};

/*
 * A MONITOR reply: one event, a name of name_len bytes after it. Fields
 * an event has no use for are 0, uid and gid (uint32_t)-1.
 */
struct fdp_wire_event {
	uint64_t	time_us;	/* when, microseconds since the epoch */
	uint16_t	kind;		/* FDP_EV_* */
	uint16_t	op;		/* REFUSED: the op refused; 0: a connection */
	uint32_t	status;		/* REFUSED: the status */
	uint32_t	detail;		/* see FDP_EV_* */
	uint32_t	uid;		/* the client's, as of connect() */
	uint32_t	gid;
	uint32_t	pid;
	uint32_t	client;		/* the broker's number for the client */
	uint16_t	nfds;		/* fds of the group */
	uint16_t	name_len;	/* 0 or 1 to 255 */
};

#define FDP_EV_MONITOR		1	/* the stream starts; client: this one */
#define FDP_EV_STORED		2	/* detail: TTL in seconds, 0 none */
#define FDP_EV_REPLACED		3	/* detail: TTL in seconds, 0 none */
#define FDP_EV_RETRIEVED	4
#define FDP_EV_TAKEN		5
#define FDP_EV_DELETED		6
#define FDP_EV_EXPIRED		7	/* no client */
#define FDP_EV_REFUSED		8	/* detail: FULL's reason, 0 none */
#define FDP_EV_CONNECTED	9
#define FDP_EV_LEFT		10
#define FDP_EV_TAKEOVER		11	/* pid: this broker; detail: the old one's */
#define FDP_EV_DROPPED		12	/* detail: events dropped here */
#define FDP_EV_STOPPED		13	/* the broker stops: the last record */
#define FDP_EV_COUNT		14

/* Reply status codes; stable, never renumbered. */
#define FDP_S_OK		0
#define FDP_S_VERSION		1	/* the peer speaks another protocol version */
#define FDP_S_MALFORMED		2	/* the request record did not parse */
#define FDP_S_BADNAME		3	/* the name breaks the naming rules */
#define FDP_S_EXISTS		4	/* STORE: name already held, no FDP_F_REPLACE */
#define FDP_S_NOENT		5	/* no group held under the name */
#define FDP_S_NOFDS		6	/* STORE with no fds attached */
#define FDP_S_TRUNCATED		7	/* the broker could not take every fd attached */
#define FDP_S_FULL		8	/* the broker holds as much as it may */
#define FDP_S_UNSUPPORTED	9	/* unknown op */
#define FDP_S_DENIED		10	/* the client's uid and gid are not allowed this */
#define FDP_S_TIMEOUT		11	/* RETRIEVE with FDP_F_WAIT: not stored in time */
#define FDP_S_BUSY		12	/* TAKEOVER: another takeover is under way */
#define FDP_S_TAKEOVER_DENIED	30	/* TAKEOVER from another user than the broker's or root */
#define FDP_S_COUNT		31

/*
 * A FULL reply's payload, when it has one: a uint32_t saying what is full.
 * A broker with no room for another client answers the connection with one
 * record of op FDP_OP_REPLY (the op of no request), status FULL and reason
 * FDP_FULL_CLIENTS, then closes it.
 */
#define FDP_FULL_FDS		1	/* the fds it may hold */
#define FDP_FULL_CLIENTS	2	/* the clients it may serve at once */
#define FDP_FULL_WAITERS	3	/* the clients that may wait at once */
#define FDP_FULL_INFLIGHT	4	/* fds sent to clients, not yet read */
#define FDP_FULL_MONITORS	5	/* the monitors of other uids it may serve */

#endif
