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
#define FDP_PROTO_VERSION	1

/* The largest record either side sends or accepts, header included. */
#define FDP_PROTO_MAX_RECORD	65536

/* Every record opens with this 16-byte header. */
struct fdp_wire_header {
	uint32_t	magic;		/* FDP_PROTO_MAGIC */
	uint16_t	version;	/* FDP_PROTO_VERSION of the sender */
	uint16_t	op;		/* FDP_OP_*, with FDP_OP_REPLY on replies */
	uint32_t	flags;		/* FDP_F_* */
	uint32_t	status;		/* replies: FDP_S_*; requests: 0 */
};

/* Requests. The payload of STORE, RETRIEVE and DELETE is the group name. */
#define FDP_OP_STORE	1	/* fds attached: 1 to 253 */
#define FDP_OP_RETRIEVE	2	/* reply carries the group's fds */
#define FDP_OP_LIST	3	/* empty payload; reply: entries, maybe in several records */
#define FDP_OP_REPLY	0x8000	/* or-ed into the op of the request answered */

/* Flags. */
#define FDP_F_REPLACE	0x0001	/* STORE: replace a group already held under the name */
#define FDP_F_MORE	0x0001	/* LIST reply: another reply record follows */

/* One LIST reply entry; entries follow each other unaligned. */
struct fdp_wire_entry {
	uint16_t	name_len;	/* bytes of name that follow, 1 to 255 */
	uint16_t	nfds;		/* fds in the group, 1 to 253 */
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
#define FDP_S_COUNT		11

#endif
