/* request.c: whether a request record is one the broker can act on. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "request.h"

/*
 * FDP_F_TTL and FDP_F_WAIT put a uint32_t before the name: take it off
 * (req->arg stays 0 without the flag); -1 if the payload is too short for it.
 */
static int
request_arg(struct request *req, uint32_t flag)
{
	if ((req->h.flags & flag) == 0)
		return 0;
	if (req->len < sizeof(req->arg))
		return -1;
	memcpy(&req->arg, req->name, sizeof(req->arg));
	req->name += sizeof(req->arg);
	req->len -= sizeof(req->arg);
	return 0;
}

/*
 * Frame the payload: take off the argument its flags put before the name.
 * A payload too short for it leaves the name unread (NULL); the request
 * is then MALFORMED, once access has been judged without the name.
 */
static void
request_frame(struct request *req)
{
	uint32_t flag = req->h.op == FDP_OP_STORE ? FDP_F_TTL :
	    req->h.op == FDP_OP_RETRIEVE ? FDP_F_WAIT : 0;

	if (flag != 0 && request_arg(req, flag) == -1)
		req->name = NULL;
}

/* What each op demands of fds, argument and name, in this order. */
static uint32_t
request_check_op(const struct request *req, size_t nfds)
{
	switch (req->h.op) {
	case FDP_OP_STORE:
		if (nfds == 0)
			return FDP_S_NOFDS;
		if (req->name == NULL ||
		    ((req->h.flags & FDP_F_TTL) != 0 && req->arg == 0))
			return FDP_S_MALFORMED;
		return (uint32_t)fdp_name_check(req->name, req->len);
	case FDP_OP_RETRIEVE:
		if (nfds > 0 || req->name == NULL)
			return FDP_S_MALFORMED;
		return (uint32_t)fdp_name_check(req->name, req->len);
	case FDP_OP_DELETE:
		if (nfds > 0)
			return FDP_S_MALFORMED;
		return (uint32_t)fdp_name_check(req->name, req->len);
	case FDP_OP_LIST:
	case FDP_OP_STATUS:
	case FDP_OP_MONITOR:
	case FDP_OP_TAKEOVER:
		return nfds > 0 ? FDP_S_MALFORMED : FDP_S_OK;
	case FDP_OP_DUMP:
		if (nfds > 0 || req->len > 255)
			return FDP_S_MALFORMED;
		return req->len == 0 ? FDP_S_OK :
		    (uint32_t)fdp_name_check(req->name, req->len);
	case FDP_OP_LOAD:
		return nfds == 0 ? FDP_S_NOFDS : FDP_S_OK;
	default:
		return FDP_S_UNSUPPORTED;
	}
}

uint32_t
request_decode(const void *rec, size_t len, size_t nfds, uint32_t fault,
    struct request *req)
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
	if (fault != FDP_S_OK) {
		req->invalid = fault;
		return FDP_S_OK;
	}
	req->name = (const char *)rec + sizeof(req->h);
	req->len = len - sizeof(req->h);
	request_frame(req);
	req->invalid = request_check_op(req, nfds);
	return FDP_S_OK;
}
