/*
 * proto.c: the fdpass protocol (protocol.h): naming rules, status words,
 * record headers, and a client's request/reply round trip.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"

/* Names become LISTEN_FDNAMES entries, so they follow systemd's rules. */
int
fdp_name_check(const char *name, size_t len)
{
	size_t i;

	if (len < 1 || len > 255)
		return FDP_S_BADNAME;
	for (i = 0; i < len; i++)
		if (name[i] < 0x20 || name[i] > 0x7e || name[i] == ':')
			return FDP_S_BADNAME;
	return 0;
}

static const char *const fdp_status_words[FDP_S_COUNT] = {
	[FDP_S_OK] = "success",
	[FDP_S_VERSION] = "protocol version mismatch",
	[FDP_S_MALFORMED] = "malformed request",
	[FDP_S_BADNAME] = "invalid name (1 to 255 printable ASCII characters, no ':')",
	[FDP_S_EXISTS] = "name already held",
	[FDP_S_NOENT] = "no such name",
	[FDP_S_NOFDS] = "no file descriptors attached",
	[FDP_S_TRUNCATED] = "the broker could not take every file descriptor (it is out of file descriptors)",
	[FDP_S_FULL] = "broker full",
	[FDP_S_UNSUPPORTED] = "operation not supported by the broker",
	[FDP_S_DENIED] = "permission denied",
	[FDP_S_TIMEOUT] = "timed out waiting for the name to be stored",
	[FDP_S_BUSY] = "another takeover of the broker is under way",
	[FDP_S_TAKEOVER_DENIED] = "takeover refused: only the broker's own user or root may take it over",
};

/* Clients turn the broker's stable codes into words here, and only here. */
const char *
fdp_status_text(uint32_t status)
{
	if (status >= FDP_S_COUNT || fdp_status_words[status] == NULL)
		return "unknown error from the broker";
	return fdp_status_words[status];
}

static const char *const fdp_full_words[] = {
	[FDP_FULL_FDS] = "the broker holds as many fds as it may (serve --max-fds)",
	[FDP_FULL_CLIENTS] = "the broker has too many clients (serve --max-clients)",
	[FDP_FULL_WAITERS] = "too many clients wait at the broker (serve --max-waiters)",
	[FDP_FULL_INFLIGHT] = "the broker cannot hand out more fds until its clients read those it sent (serve --max-inflight); try again",
	[FDP_FULL_MONITORS] = "too many monitors of other users watch the broker (serve --max-monitors)",
};

const char *
fdp_reply_status_text(uint32_t status, const void *payload, size_t len)
{
	uint32_t why;

	if (status != FDP_S_FULL || len < sizeof(why))
		return fdp_status_text(status);
	memcpy(&why, payload, sizeof(why));
	if (why >= sizeof(fdp_full_words) / sizeof(fdp_full_words[0]) ||
	    fdp_full_words[why] == NULL)
		return fdp_status_text(status);
	return fdp_full_words[why];
}

/* Both sides stamp every record with the same magic and version. */
void
fdp_header_init(struct fdp_wire_header *h, uint16_t op, uint32_t flags,
    uint32_t status)
{
	memset(h, 0, sizeof(*h));
	h->magic = FDP_PROTO_MAGIC;
	h->version = FDP_PROTO_VERSION;
	h->op = op;
	h->flags = flags;
	h->status = status;
}

/* Both sides check every record they receive before trusting a byte of it. */
int
fdp_header_check(const void *buf, size_t len, struct fdp_wire_header *h)
{
	if (len < sizeof(*h))
		return FDP_EPROTO;
	memcpy(h, buf, sizeof(*h));
	if (h->magic != FDP_PROTO_MAGIC)
		return FDP_EPROTO;
	if (h->version != FDP_PROTO_VERSION)
		return FDP_EVERSION;
	return 0;
}

/* Every client command reaches the broker the same way. */
int
fdp_client_connect(const char *address)
{
	struct fdp_addr a;
	int rc;

	if ((rc = fdp_addr_parse(address, &a)) != 0)
		return rc;
	return fdp_connect_unix(&a, SOCK_SEQPACKET);
}

/* Every reply, the broker's or a handover's, is received and checked here. */
ssize_t
fdp_record_recv(int sock, uint16_t op, void *rec, size_t size,
    struct fdp_wire_header *h, int *fds, size_t *nfds)
{
	ssize_t n;
	int rc;

	*nfds = FDP_MAX_FDS;
	n = fdp_recv_msg(sock, rec, size, fds, nfds);
	if (n <= 0) {
		*nfds = 0;
		return n == 0 ? FDP_ECLOSED : n;
	}
	rc = fdp_header_check(rec, (size_t)n, h);
	if (rc == 0 && h->op != (op | FDP_OP_REPLY) &&
	    (h->op != FDP_OP_REPLY || h->status != FDP_S_FULL))
		rc = FDP_EPROTO;
	if (rc == 0 && h->status != FDP_S_OK && *nfds != 0)
		rc = FDP_EPROTO;
	if (rc != 0) {
		fdp_close_fds(fds, *nfds);
		*nfds = 0;
		return rc;
	}
	return n - (ssize_t)sizeof(*h);
}

/* A client's reply lands in struct fdp_reply. */
int
fdp_reply_recv(int sock, uint16_t op, struct fdp_reply *r)
{
	ssize_t n;

	n = fdp_record_recv(sock, op, r->record, sizeof(r->record), &r->h,
	    r->fds, &r->nfds);
	if (n < 0)
		return (int)n;
	r->payload = r->record + sizeof(r->h);
	r->len = (size_t)n;
	return 0;
}

/* Send a request: header, argbytes of arg, payload; fds borrowed. */
static ssize_t
request_send_payload(int sock, uint16_t op, uint32_t flags,
    const uint32_t *arg, size_t argbytes, const void *payload, size_t len,
    const int *fds, size_t nfds)
{
	unsigned char req[FDP_PROTO_MAX_REQUEST];
	struct fdp_wire_header h;

	if (sizeof(h) + argbytes + len > sizeof(req))
		return FDP_ETOOBIG;
	fdp_header_init(&h, op, flags, 0);
	memcpy(req, &h, sizeof(h));
	if (argbytes > 0)
		memcpy(req + sizeof(h), arg, argbytes);
	if (len > 0)
		memcpy(req + sizeof(h) + argbytes, payload, len);
	return fdp_send_msg(sock, req, sizeof(h) + argbytes + len, fds, nfds);
}

/* Send a request whose payload is a name (at most 255 bytes), or none. */
static ssize_t
request_send(int sock, uint16_t op, uint32_t flags, const uint32_t *arg,
    size_t argbytes, const char *name, const int *fds, size_t nfds)
{
	size_t namelen = name != NULL ? strlen(name) : 0;

	if (namelen > 255)
		return FDP_ETOOBIG;
	return request_send_payload(sock, op, flags, arg, argbytes, name,
	    namelen, fds, nfds);
}

/* LOAD's payload is entries, not a name. */
int
fdp_send_payload(int sock, uint16_t op, uint32_t flags, const void *payload,
    size_t len, const int *fds, size_t nfds)
{
	ssize_t n = request_send_payload(sock, op, flags, NULL, 0, payload,
	    len, fds, nfds);

	return n < 0 ? (int)n : 0;
}

/* Pipelining: requests go out ahead of their answers. */
int
fdp_send_request(int sock, uint16_t op, uint32_t flags, uint32_t arg,
    const char *name, const int *fds, size_t nfds)
{
	size_t argbytes = (flags & (FDP_F_TTL | FDP_F_WAIT)) ? sizeof(arg) : 0;
	ssize_t n;

	n = request_send(sock, op, flags, &arg, argbytes, name, fds, nfds);
	return n < 0 ? (int)n : 0;
}

/* Send a request (header, argbytes of arg, name) and receive the reply. */
static int
request_call(int sock, uint16_t op, uint32_t flags, const uint32_t *arg,
    size_t argbytes, const char *name, const int *fds, size_t nfds,
    struct fdp_reply *r)
{
	ssize_t n;

	r->nfds = 0;
	n = request_send(sock, op, flags, arg, argbytes, name, fds, nfds);
	if (n == FDP_ESYS && (errno == EPIPE || errno == ECONNRESET) &&
	    fdp_reply_recv(sock, op, r) == 0)
		return 0;	/* a broker that refused the connection said why */
	if (n < 0)
		return (int)n;
	return fdp_reply_recv(sock, op, r);
}

/* One request, one reply: the shape of every client exchange. */
int
fdp_call(int sock, uint16_t op, uint32_t flags, const char *name,
    const int *fds, size_t nfds, struct fdp_reply *r)
{
	uint32_t none = 0;

	return request_call(sock, op, flags, &none, 0, name, fds, nfds, r);
}

/* STORE with FDP_F_TTL and RETRIEVE with FDP_F_WAIT carry an argument. */
int
fdp_call_arg(int sock, uint16_t op, uint32_t flags, uint32_t arg,
    const char *name, const int *fds, size_t nfds, struct fdp_reply *r)
{
	return request_call(sock, op, flags, &arg, sizeof(arg), name, fds,
	    nfds, r);
}
