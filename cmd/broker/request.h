/*
 * request.h: decoding one request record as the broker receives it, apart
 * from the event loop so that a fuzzer can drive it with arbitrary bytes.
 */
#ifndef FDPASS_REQUEST_H
#define FDPASS_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "fdpass.h"

/* The largest request the broker reads; a longer one is MALFORMED. */
#define REQUEST_MAX_LEN	FDP_PROTO_MAX_REQUEST

/* A decoded request; name points into the record. */
struct request {
	struct fdp_wire_header	 h;	/* h.op is 0 when the header did not parse */
	uint32_t		 arg;	/* FDP_F_TTL or FDP_F_WAIT's argument; 0 without */
	const char		*name;	/* the name (the payload, less arg); NULL
					   when it cannot be read */
	size_t			 len;	/* bytes of name */
	uint32_t		 invalid; /* FDP_S_OK, or the status that
					   refuses the request on its own terms */
};

/*
 * Decode a record of len bytes that arrived with nfds fds; fault is
 * FDP_S_OK, or the status the record earned by how it arrived (MALFORMED:
 * too long or a bad control message; TRUNCATED: its fds were dropped),
 * which leaves its name unread. Returns FDP_S_MALFORMED when the header
 * does not parse (req->h.op 0) and FDP_S_VERSION for another version; else
 * FDP_S_OK, and the broker judges access before req->invalid, so that a
 * client without rights learns nothing from the request's faults. Protocol
 * 2: STORE, RETRIEVE and DELETE carry a name, after a uint32_t when
 * FDP_F_TTL (STORE, not 0) or FDP_F_WAIT (RETRIEVE) is set; only STORE
 * and LOAD carry fds; LIST, STATUS, MONITOR and TAKEOVER carry none and
 * their payload is ignored; DUMP's payload is the name it goes on after (or
 * none), LOAD's the entries of its groups, which the broker reads as it
 * stores them.
 */
uint32_t	 request_decode(const void *rec, size_t len, size_t nfds,
		    uint32_t fault, struct request *req);

#endif
