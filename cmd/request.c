/* request.c: whether a request record is one the broker can act on. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "request.h"

/* What each op demands of fds and name, checked before any state is touched. */
static uint32_t
request_check_op(const struct request *req, size_t nfds)
{
	switch (req->h.op) {
	case FDP_OP_STORE:
		if (nfds == 0)
			return FDP_S_NOFDS;
		return (uint32_t)fdp_name_check(req->name, req->len);
	case FDP_OP_RETRIEVE:
		if (nfds > 0)
			return FDP_S_MALFORMED;
		return (uint32_t)fdp_name_check(req->name, req->len);
	case FDP_OP_LIST:
		return nfds > 0 ? FDP_S_MALFORMED : FDP_S_OK;
	default:
		return FDP_S_UNSUPPORTED;
	}
}

uint32_t
request_decode(const void *rec, size_t len, size_t nfds, struct request *req)
{
	int rc;

	memset(req, 0, sizeof(*req));
	rc = fdp_header_check(rec, len, &req->h);
	if (rc == FDP_EPROTO) {
		req->h.op = 0;
		return FDP_S_MALFORMED;
	}
	if (rc == FDP_EVERSION)
		return FDP_S_VERSION;
	req->name = (const char *)rec + sizeof(req->h);
	req->len = len - sizeof(req->h);
	return request_check_op(req, nfds);
}
