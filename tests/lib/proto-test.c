/*
 * proto-test: lib/proto.c and lib/error.c, names, headers, status and error
 * words, and a client's request/reply round trip against a fake peer.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "tap.h"

#define HDR	sizeof(struct fdp_wire_header)

static struct fdp_reply reply;

/* Stop the whole run when the test cannot even set itself up. */
static void
bail(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The number of open fds, from /proc/self/fd (less the one listing it). */
static int
fd_count(void)
{
	DIR *d;
	struct dirent *e;
	int n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		bail("opendir /proc/self/fd");
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* A connected SOCK_SEQPACKET pair: [0] the client, [1] the fake peer. */
static void
make_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		bail("socketpair");
}

/* Close both ends of a pair. */
static void
close_pair(int sv[2])
{
	fdp_close_fds(sv, 2);
}

/* An fd to attach to records: /dev/null, close-on-exec. */
static int
open_null(void)
{
	int fd;

	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		bail("/dev/null");
	return fd;
}

/*
 * The fake peer queues one record: header h, then payload, with nfds fds
 * attached (opened for it and closed once sent).
 */
static void
peer_send(int sock, const struct fdp_wire_header *h, const char *payload,
    size_t nfds)
{
	unsigned char rec[HDR + 64];
	int fds[8];
	size_t len = payload != NULL ? strlen(payload) : 0, i;

	memcpy(rec, h, HDR);
	memcpy(rec + HDR, payload != NULL ? payload : "", len);
	for (i = 0; i < nfds; i++)
		fds[i] = open_null();
	if (fdp_send_msg(sock, rec, HDR + len, fds, nfds) < 0)
		bail("peer send");
	fdp_close_fds(fds, nfds);
}

/* A reply header to op with the given status. */
static struct fdp_wire_header
reply_header(uint16_t op, uint32_t status)
{
	struct fdp_wire_header h;

	fdp_header_init(&h, op | FDP_OP_REPLY, 0, status);
	return h;
}

/* Names: 1 to 255 printable ASCII bytes, no ':'. */
static void
test_name_check(void)
{
	static const char bad[] = {
		':', '\n', 0x1f, 0x7f, (char)0x80, (char)0xff
	};
	char name[257];
	size_t i;

	memset(name, 'n', sizeof(name));
	ok(fdp_name_check(name, 0) == FDP_S_BADNAME, "name \"\" is bad");
	ok(fdp_name_check(name, 1) == 0, "a 1-byte name is fine");
	ok(fdp_name_check(name, 255) == 0, "a 255-byte name is fine");
	ok(fdp_name_check(name, 256) == FDP_S_BADNAME,
	    "a 256-byte name is bad");
	for (i = 0; i < sizeof(bad); i++) {
		name[1] = bad[i];
		ok(fdp_name_check(name, 3) == FDP_S_BADNAME,
		    "a name with byte 0x%02x is bad", (unsigned char)bad[i]);
	}
	ok(fdp_name_check(" ~", 2) == 0, "' ' and '~' are fine");
}

/* Headers survive a round trip; short, foreign, other-version ones fail. */
static void
test_header(void)
{
	struct fdp_wire_header h, out;
	unsigned char buf[HDR + 1];

	fdp_header_init(&h, FDP_OP_STORE, FDP_F_REPLACE, FDP_S_EXISTS);
	memcpy(buf + 1, &h, HDR);
	memset(&out, 0, sizeof(out));
	ok(fdp_header_check(buf + 1, HDR, &out) == 0 &&
	    out.magic == FDP_PROTO_MAGIC && out.version == FDP_PROTO_VERSION &&
	    out.op == FDP_OP_STORE && out.flags == FDP_F_REPLACE &&
	    out.status == FDP_S_EXISTS,
	    "header round trip, unaligned");
	ok(fdp_header_check(buf + 1, HDR - 1, &out) == FDP_EPROTO,
	    "a short header gives FDP_EPROTO");
	h.magic = 0x12345678;
	memcpy(buf, &h, HDR);
	ok(fdp_header_check(buf, HDR, &out) == FDP_EPROTO,
	    "wrong magic gives FDP_EPROTO");
	fdp_header_init(&h, FDP_OP_LIST, 0, 0);
	h.version = FDP_PROTO_VERSION + 1;
	memcpy(buf, &h, HDR);
	memset(&out, 0, sizeof(out));
	ok(fdp_header_check(buf, HDR, &out) == FDP_EVERSION &&
	    out.version == FDP_PROTO_VERSION + 1 && out.op == FDP_OP_LIST,
	    "another version gives FDP_EVERSION, the header copied out");
}

/* Every status and error code has its own words. */
static void
test_words(void)
{
	const char *t[FDP_S_COUNT + 1];
	uint32_t i, j;
	int distinct = 1, err, nonempty = 1;

	for (i = 0; i <= FDP_S_COUNT; i++)
		t[i] = fdp_status_text(i);
	for (i = 0; i <= FDP_S_COUNT; i++) {
		if (t[i] == NULL || t[i][0] == '\0')
			nonempty = 0;
		for (j = 0; j < i && nonempty; j++)
			if (strcmp(t[i], t[j]) == 0)
				distinct = 0;
	}
	ok(nonempty && distinct,
	    "each status 0..FDP_S_COUNT-1 and the fallback has distinct words");
	ok(strcmp(fdp_status_text(UINT32_MAX), t[FDP_S_COUNT]) == 0,
	    "an unknown status gets the fallback: \"%s\"", t[FDP_S_COUNT]);
	for (err = FDP_ESYS; err >= FDP_ECLOSED; err--)
		ok(fdp_strerror(err) != NULL && fdp_strerror(err)[0] != '\0',
		    "fdp_strerror(%d): \"%s\"", err,
		    fdp_strerror(err) ? fdp_strerror(err) : "(null)");
	errno = ENOENT;
	ok(strcmp(fdp_strerror(FDP_ESYS), strerror(ENOENT)) == 0,
	    "fdp_strerror(FDP_ESYS) is strerror(errno)");
	ok(fdp_strerror(FDP_ECLOSED - 1) != NULL && fdp_strerror(0) != NULL,
	    "unknown codes get words too");
}

/* The request on the wire: header, name without NUL, and the fds attached. */
static void
test_request(void)
{
	struct fdp_wire_header h = reply_header(FDP_OP_STORE, FDP_S_OK);
	unsigned char rec[512];
	int sv[2], fds[2], got[4];
	size_t n = 4;
	ssize_t len;

	make_pair(sv);
	fds[0] = fds[1] = open_null();
	peer_send(sv[1], &h, NULL, 0);
	ok(fdp_call(sv[0], FDP_OP_STORE, FDP_F_REPLACE, "web", fds, 2,
	    &reply) == 0 && reply.h.status == FDP_S_OK && reply.nfds == 0,
	    "call: STORE answered with success");
	len = fdp_recv_msg(sv[1], rec, sizeof(rec), got, &n);
	ok(len == (ssize_t)(HDR + 3),
	    "request: header and 3 name bytes, no NUL");
	memcpy(&h, rec, HDR);
	ok(h.magic == FDP_PROTO_MAGIC && h.version == FDP_PROTO_VERSION &&
	    h.op == FDP_OP_STORE && h.flags == FDP_F_REPLACE && h.status == 0,
	    "request: magic, version, op, flags and status 0");
	ok(len >= (ssize_t)HDR && memcmp(rec + HDR, "web", 3) == 0,
	    "request: the name bytes");
	ok(n == 2, "request: both fds attached");
	ok(fdp_fd_is_open(fds[0]), "request: the borrowed fd is still open");
	fdp_close_fds(got, n);
	close(fds[0]);
	close_pair(sv);
}

/* A reply's fds, payload and length reach the caller. */
static void
test_reply_fds(void)
{
	struct fdp_wire_header h = reply_header(FDP_OP_RETRIEVE, FDP_S_OK);
	int sv[2], rc;

	make_pair(sv);
	peer_send(sv[1], &h, "payload", 3);
	rc = fdp_call(sv[0], FDP_OP_RETRIEVE, 0, "web", NULL, 0, &reply);
	ok(rc == 0 && reply.nfds == 3 && fdp_fd_is_open(reply.fds[0]) &&
	    fdp_fd_is_open(reply.fds[2]), "reply: 3 fds held in r->fds");
	ok(rc == 0 && (fcntl(reply.fds[0], F_GETFD) & FD_CLOEXEC),
	    "reply: the fds are close-on-exec");
	ok(rc == 0 && reply.payload == reply.record + HDR && reply.len == 7 &&
	    memcmp(reply.payload, "payload", 7) == 0,
	    "reply: payload and len are the bytes after the header");
	fdp_close_fds(reply.fds, reply.nfds);
	close_pair(sv);
}

/* An answer in several records: fdp_reply_recv takes those after the first. */
static void
test_reply_more(void)
{
	struct fdp_wire_header h = reply_header(FDP_OP_LIST, FDP_S_OK);
	int sv[2], rc;

	make_pair(sv);
	h.flags = FDP_F_MORE;
	peer_send(sv[1], &h, "first", 0);
	h.flags = 0;
	peer_send(sv[1], &h, "last", 0);
	rc = fdp_call(sv[0], FDP_OP_LIST, 0, NULL, NULL, 0, &reply);
	ok(rc == 0 && reply.h.flags == FDP_F_MORE && reply.len == 5 &&
	    memcmp(reply.payload, "first", 5) == 0,
	    "LIST: the first record, flagged FDP_F_MORE");
	rc = fdp_reply_recv(sv[0], FDP_OP_LIST, &reply);
	ok(rc == 0 && reply.h.flags == 0 && reply.len == 4 &&
	    memcmp(reply.payload, "last", 4) == 0 && reply.nfds == 0,
	    "fdp_reply_recv: the next record");
	close_pair(sv);
}

/* A bad reply gives code want, holds no fds and leaks none. */
static void
check_bad_reply(const struct fdp_wire_header *h, size_t nfds, int want,
    const char *what)
{
	int sv[2], rc, before;

	make_pair(sv);
	before = fd_count();
	peer_send(sv[1], h, "x", nfds);
	rc = fdp_call(sv[0], FDP_OP_RETRIEVE, 0, "web", NULL, 0, &reply);
	ok(rc == want, "%s: %d (got %d)", what, want, rc);
	ok(reply.nfds == 0 && fd_count() == before,
	    "%s: no fd held, every fd that came closed", what);
	close_pair(sv);
}

/* Replies that break the protocol are refused and their fds closed. */
static void
test_bad_replies(void)
{
	struct fdp_wire_header h;

	h = reply_header(FDP_OP_STORE, FDP_S_OK);
	check_bad_reply(&h, 2, FDP_EPROTO, "reply to the wrong op");
	h = reply_header(FDP_OP_RETRIEVE, FDP_S_NOENT);
	check_bad_reply(&h, 1, FDP_EPROTO, "error status with fds");
	h = reply_header(FDP_OP_RETRIEVE, FDP_S_OK);
	h.magic = ~FDP_PROTO_MAGIC;
	check_bad_reply(&h, 1, FDP_EPROTO, "wrong magic");
	h = reply_header(FDP_OP_RETRIEVE, FDP_S_OK);
	h.version = FDP_PROTO_VERSION + 1;
	check_bad_reply(&h, 2, FDP_EVERSION, "another version");
}

/* An error status without fds is a normal answer; a short record is not. */
static void
test_status_and_short(void)
{
	struct fdp_wire_header h = reply_header(FDP_OP_RETRIEVE, FDP_S_NOENT);
	int sv[2], rc, before;

	make_pair(sv);
	peer_send(sv[1], &h, NULL, 0);
	rc = fdp_call(sv[0], FDP_OP_RETRIEVE, 0, "nope", NULL, 0, &reply);
	ok(rc == 0 && reply.h.status == FDP_S_NOENT && reply.nfds == 0,
	    "an error status without fds: 0, status in r->h");
	before = fd_count();
	if (fdp_send_msg(sv[1], &h, HDR - 1, NULL, 0) < 0)
		bail("peer send");
	ok(fdp_reply_recv(sv[0], FDP_OP_RETRIEVE, &reply) == FDP_EPROTO &&
	    fd_count() == before, "a record shorter than a header: FDP_EPROTO");
	close_pair(sv);
}

/* A peer that hangs up before answering gives FDP_ECLOSED. */
static void
test_closed(void)
{
	unsigned char rec[512];
	int sv[2], rc;

	make_pair(sv);
	if (shutdown(sv[1], SHUT_WR) == -1)
		bail("shutdown");
	rc = fdp_call(sv[0], FDP_OP_LIST, 0, NULL, NULL, 0, &reply);
	ok(rc == FDP_ECLOSED && reply.nfds == 0,
	    "peer closed before answering: FDP_ECLOSED (got %d)", rc);
	ok(recv(sv[1], rec, sizeof(rec), MSG_DONTWAIT) == (ssize_t)HDR,
	    "a request with no name is the bare header");
	close_pair(sv);
}

/* fdp_client_connect refuses malformed and overlong addresses. */
static void
test_client_connect(void)
{
	char path[120];
	int before = fd_count();

	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[108] = '\0';
	ok(fdp_client_connect("") == FDP_EADDR, "client to \"\": FDP_EADDR");
	ok(fdp_client_connect("@") == FDP_EADDR, "client to \"@\": FDP_EADDR");
	ok(fdp_client_connect(path) == FDP_EADDRLEN,
	    "client to a 108-byte path: FDP_EADDRLEN");
	ok(fd_count() == before, "client connect errors leak no fd");
}

int
main(void)
{
	int before = fd_count();

	test_name_check();
	test_header();
	test_words();
	test_request();
	test_reply_fds();
	test_reply_more();
	test_bad_replies();
	test_status_and_short();
	test_closed();
	test_client_connect();
	ok(fd_count() == before, "no fd left open at the end");
	return done_testing();
}
