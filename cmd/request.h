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
#define REQUEST_MAX_LEN	4096

/* A decoded request; name points into the record. */
struct request {
	struct fdp_wire_header	 h;	/* h.op is 0 when the header did not parse */
	const char		*name;	/* the payload */
	size_t			 len;	/* payload bytes */
};

/*
 * Decode a record of len bytes that arrived with nfds fds: FDP_S_OK when the
 * broker may act on it, else the status that refuses it. req->h.op is the op
 * to answer either way.
 */
uint32_t	 request_decode(const void *rec, size_t len, size_t nfds,
		    struct request *req);

#endif
