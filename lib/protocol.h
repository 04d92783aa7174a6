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

/*
 * TAKEOVER and TAKEOVER_READY replies: FDP_F_MORE says another record
 * follows, and one of these says what the record carries.
 */
#define FDP_F_HANDOVER_LISTENER	0x0100	/* the listening socket, 1 fd */
#define FDP_F_HANDOVER_GROUP	0x0200	/* a struct fdp_wire_entry, the name, the fds */
#define FDP_F_HANDOVER_CLIENT	0x0400	/* a struct fdp_wire_client, the name, 1 fd */
#define FDP_F_HANDOVER_QUEUED	0x0800	/* a reply record queued for the last client, its fds */
#define FDP_F_HANDOVER_LISTING	0x1000	/* the last client's LIST goes on after this name */
#define FDP_F_HANDOVER_GROUPS	0x4000	/* entries as in LIST, then all their fds */

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

#endif
