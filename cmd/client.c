/*
 * client.c: what the client commands share: messages, arguments, reaching
 * the broker, and turning its answers into exit statuses.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

/* --help and usage errors print the same text, to different places. */
int
cmd_usage(const struct cmd_entry *c, FILE *f, int status)
{
	fprintf(f, "usage: fdpass %s", c->usage);
	return status;
}

/* fd numbers and counts on the command line are plain decimal. */
int
cmd_parse_int(const char *text)
{
	char *end;
	long v;

	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || v > INT_MAX)
		return -1;
	return (int)v;
}

/* Bad names are caught before anything is opened or sent. */
int
cmd_name_ok(const char *cmd, const char *name)
{
	if (fdp_name_check(name, strlen(name)) == 0)
		return 1;
	cmd_warn(cmd, "'%s': %s", name, fdp_status_text(FDP_S_BADNAME));
	return 0;
}

/* The uid --trust-uid named; -1 when none was. */
static long trusted_uid = -1;

int
cmd_trust_uid(const char *cmd, const char *arg)
{
	int uid = cmd_parse_int(arg);

	if (uid < 0) {
		cmd_warn(cmd, "--trust-uid %s: not a uid", arg);
		return -1;
	}
	trusted_uid = uid;
	return 0;
}

/* Hand each entry of one LIST reply record to fn, checking every length. */
static int
list_record_each(const struct fdp_reply *r,
    int (*fn)(const struct fdp_wire_entry *, const char *, void *), void *arg)
{
	struct fdp_wire_entry e;
	const unsigned char *p = r->payload;
	size_t len = r->len;
	char name[256];
	int rc;

	while (len > 0) {
		if (len < sizeof(e))
			return FDP_EPROTO;
		memcpy(&e, p, sizeof(e));
		if (e.name_len == 0 || e.name_len > 255 ||
		    len - sizeof(e) < e.name_len)
			return FDP_EPROTO;
		memcpy(name, p + sizeof(e), e.name_len);
		name[e.name_len] = '\0';
		if ((rc = fn(&e, name, arg)) != 0)
			return rc;
		p += sizeof(e) + e.name_len;
		len -= sizeof(e) + e.name_len;
	}
	return 0;
}

int
cmd_list_each(const char *cmd, int sock, struct fdp_reply *r,
    int (*fn)(const struct fdp_wire_entry *, const char *, void *), void *arg)
{
	int rc;

	rc = cmd_call(cmd, sock, FDP_OP_LIST, 0, 0, NULL, NULL, 0, r);
	while (rc == 0 && r->h.status == FDP_S_OK) {
		if ((rc = list_record_each(r, fn, arg)) != 0)
			return rc;
		if ((r->h.flags & FDP_F_MORE) == 0)
			return 0;
		rc = cmd_reply_recv(cmd, sock, FDP_OP_LIST, r);
	}
	return rc;
}

int
cmd_common_option(const struct cmd_entry *c, int ch, const char *arg,
    const char **socket_opt)
{
	switch (ch) {
	case 's':
		*socket_opt = arg;
		return -1;
	case 'v':
		cmd_verbose = 1;
		return -1;
	case CMD_OPT_TRUST_UID:
		return cmd_trust_uid(c->name, arg) == -1 ? EXIT_USAGE : -1;
	case 'h':
		return cmd_usage(c, stdout, 0);
	default:
		return cmd_usage(c, stderr, EXIT_USAGE);
	}
}

int
cmd_run_connected(const struct cmd_entry *c, int argc,
    const char *socket_opt, int json, int (*fn)(int sock, int json))
{
	int sock, status;

	if (optind != argc)
		return cmd_usage(c, stderr, EXIT_USAGE);
	if ((sock = cmd_connect(c->name, socket_opt, &status)) == -1)
		return status;
	status = fn(sock, json);
	close(sock);
	return status;
}

/* Refuse an impostor before any fd is sent to it or taken from it. */
static int
cmd_broker_trusted(const char *cmd, int fd, const char *address)
{
	struct fdp_cred cred;

	if (fdp_peer_cred(fd, &cred) != 0) {
		cmd_warn(cmd, "cannot tell who runs the broker at %s: %s",
		    address, strerror(errno));
		return 0;
	}
	if (cred.uid == 0 || cred.uid == geteuid() ||
	    (long)cred.uid == trusted_uid)
		return 1;
	cmd_warn(cmd, "the broker at %s runs as uid %lu, neither yours nor "
	    "root's; refusing it (--trust-uid %lu trusts it)", address,
	    (unsigned long)cred.uid, (unsigned long)cred.uid);
	return 0;
}

int
cmd_connect_unchecked(const char *cmd, const char *socket_option,
    int *status)
{
	char buf[PATH_MAX];
	const char *address;
	int fd;

	address = fdp_broker_address(socket_option, buf, sizeof(buf));
	if (address == NULL) {
		cmd_warn(cmd, "the broker address: %s",
		    fdp_strerror(FDP_EADDRLEN));
		*status = EXIT_USAGE;
		return -1;
	}
	fd = fdp_client_connect(address);
	if (fd == FDP_EADDR || fd == FDP_EADDRLEN) {
		cmd_warn(cmd, "%s: %s", address, fdp_strerror(fd));
		*status = EXIT_USAGE;
		return -1;
	}
	if (fd < 0) {
		cmd_warn(cmd, "cannot reach the broker at %s: %s", address,
		    fdp_strerror(fd));
		*status = EXIT_SYSTEM;
		return -1;
	}
	return fd;
}

/* The fd limit as the user gave it, before cmd_nofile_raise. */
static struct rlimit nofile_given;
static int nofile_raised;

/*
 * A client receives whole groups: raise the soft fd limit to the hard one
 * as serve does, once, remembering the limit given for exec's program.
 */
static void
cmd_nofile_raise(void)
{
	if (nofile_raised || getrlimit(RLIMIT_NOFILE, &nofile_given) == -1)
		return;
	nofile_raised = 1;
	fdp_nofile(1);
}

size_t
cmd_nofile_given(void)
{
	if (!nofile_raised)
		return fdp_nofile(0);
	if (nofile_given.rlim_cur == RLIM_INFINITY ||
	    nofile_given.rlim_cur > SIZE_MAX)
		return SIZE_MAX;
	return (size_t)nofile_given.rlim_cur;
}

int
cmd_nofile_as_given(int given)
{
	struct rlimit rl = nofile_given;

	if (!nofile_raised)
		return 0;
	if (!given && getrlimit(RLIMIT_NOFILE, &rl) == 0)
		rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

int
cmd_connect(const char *cmd, const char *socket_option, int *status)
{
	char buf[PATH_MAX];
	int fd;

	cmd_nofile_raise();
	if ((fd = cmd_connect_unchecked(cmd, socket_option, status)) == -1)
		return -1;
	if (!cmd_broker_trusted(cmd, fd, fdp_broker_address(socket_option,
	    buf, sizeof(buf)))) {
		close(fd);
		*status = EXIT_SYSTEM;
		return -1;
	}
	return fd;
}

int
cmd_call_status(const char *cmd, const char *name, int rc,
    const struct fdp_reply *r)
{
	const char *text;

	if (rc == FDP_EVERSION) {
		cmd_warn(cmd, "the broker speaks protocol version %u, this "
		    "fdpass speaks %d", (unsigned)r->h.version,
		    FDP_PROTO_VERSION);
		return EXIT_SYSTEM;
	}
	if (rc == FDP_ECLOSED) {
		cmd_warn(cmd, "the broker closed the connection before "
		    "answering");
		return EXIT_SYSTEM;
	}
	if (rc < 0) {
		cmd_warn(cmd, "talking to the broker: %s", fdp_strerror(rc));
		return EXIT_SYSTEM;
	}
	if (r->h.status != FDP_S_OK) {
		text = fdp_reply_status_text(r->h.status, r->payload, r->len);
		if (name != NULL)
			cmd_warn(cmd, "%s: %s", name, text);
		else
			cmd_warn(cmd, "%s", text);
		return EXIT_REFUSED;
	}
	return 0;
}


/* Log a reply record a client received, or why none came. */
static void
log_reply(const char *cmd, int rc, const struct fdp_reply *r)
{
	if (rc == 0)
		cmd_log_record(cmd, -1, "<-", &r->h, r->payload, r->len, r->fds,
		    r->nfds);
	else
		cmd_log(cmd, "<- no reply: %s", fdp_strerror(rc));
}

/*
 * Log a request about to go out under -v; returns the bytes of argument it
 * carries (FDP_F_TTL, FDP_F_WAIT).
 */
static size_t
log_request(const char *cmd, uint16_t op, uint32_t flags, uint32_t arg,
    const char *name, const int *fds, size_t nfds)
{
	unsigned char payload[sizeof(arg) + 255];
	struct fdp_wire_header h;
	size_t argbytes = (flags & (FDP_F_TTL | FDP_F_WAIT)) ? sizeof(arg) : 0;
	size_t namelen = name != NULL ? strlen(name) : 0;

	if (cmd_verbose && namelen <= 255) {
		fdp_header_init(&h, op, flags, 0);
		memcpy(payload, &arg, argbytes);
		memcpy(payload + argbytes, name != NULL ? name : "", namelen);
		cmd_log_record(cmd, -1, "->", &h, payload, argbytes + namelen,
		    fds, nfds);
	}
	return argbytes;
}

int
cmd_send_request(const char *cmd, int sock, uint16_t op, uint32_t flags,
    uint32_t arg, const char *name, const int *fds, size_t nfds)
{
	log_request(cmd, op, flags, arg, name, fds, nfds);
	return fdp_send_request(sock, op, flags, arg, name, fds, nfds);
}

int
cmd_call(const char *cmd, int sock, uint16_t op, uint32_t flags,
    uint32_t arg, const char *name, const int *fds, size_t nfds,
    struct fdp_reply *r)
{
	size_t argbytes = log_request(cmd, op, flags, arg, name, fds, nfds);
	int rc, saved_errno;

	if (argbytes > 0)
		rc = fdp_call_arg(sock, op, flags, arg, name, fds, nfds, r);
	else
		rc = fdp_call(sock, op, flags, name, fds, nfds, r);
	saved_errno = errno;	/* FDP_ESYS's reason, for the caller */
	log_reply(cmd, rc, r);
	errno = saved_errno;
	return rc;
}

int
cmd_reply_recv(const char *cmd, int sock, uint16_t op, struct fdp_reply *r)
{
	int rc = fdp_reply_recv(sock, op, r);

	log_reply(cmd, rc, r);
	return rc;
}

int
cmd_get_option(const char *cmd, int ch, const char *arg, struct cmd_get *g)
{
	char *end;
	double seconds;

	switch (ch) {
	case CMD_OPT_TAKE:
		g->take = 1;
		return 1;
	case CMD_OPT_PEER:
		g->peer = 1;
		return 1;
	case CMD_OPT_WAIT:
		g->wait = 1;
		g->wait_ms = 0;
		if (arg == NULL)
			return 1;
		errno = 0;
		seconds = strtod(arg, &end);
		if (*arg < '0' || *arg > '9' || *end != '\0' || errno != 0 ||
		    seconds <= 0 || seconds > CMD_WAIT_MAX) {
			cmd_warn(cmd, "--wait=%s: SECONDS must be a number "
			    "above 0 and at most %d", arg, CMD_WAIT_MAX);
			return -1;
		}
		g->wait_ms = (uint32_t)(seconds * 1000 + 0.999);
		if (g->wait_ms == 0)	/* 0 on the wire: no limit at all */
			g->wait_ms = 1;
		g->wait_text = arg;
		return 1;
	default:
		return 0;
	}
}

/*
 * How many more fds this process may open below its soft limit, less
 * CMD_FD_SPARE, and the limit; -1 when /proc cannot tell.
 */
static int
fd_room(size_t *room, size_t *limit)
{
	size_t open;

	*limit = fdp_nofile(0);
	if (fdp_fds_open_below(*limit, &open) == -1) {
		if (errno != EMFILE && errno != ENFILE)
			return -1;
		open = *limit;
	}
	*room = *limit > open + CMD_FD_SPARE ?
	    *limit - open - CMD_FD_SPARE : 0;
	return 0;
}

/* A RETRIEVE with g's --take and --wait. */
static int
retrieve(const char *cmd, int sock, const char *name, const struct cmd_get *g,
    struct fdp_reply *r)
{
	uint32_t flags = 0;

	if (g->take)
		flags |= FDP_F_TAKE;
	if (g->wait)
		flags |= FDP_F_WAIT;
	return cmd_call(cmd, sock, FDP_OP_RETRIEVE, flags, g->wait_ms, name,
	    NULL, 0, r);
}

/*
 * The exit status of a RETRIEVE, having said why it failed: a wait that ran
 * out, or fds the kernel dropped because this process had no room for them
 * (after a take the group is then lost: probed is how many fds it held a
 * moment before, 0 if unknown).
 */
static int
retrieve_status(const char *cmd, const char *name, const struct cmd_get *g,
    int rc, const struct fdp_reply *r, size_t probed)
{
	size_t limit = fdp_nofile(0);
	char held[64] = "";

	if (rc == 0 && r->h.status == FDP_S_TIMEOUT) {
		cmd_warn(cmd, "%s: timed out: nothing was stored under the "
		    "name within %s second%s (--wait)", name, g->wait_text,
		    strcmp(g->wait_text, "1") == 0 ? "" : "s");
		return EXIT_REFUSED;
	}
	if (rc != FDP_ECTRUNC)
		return cmd_call_status(cmd, name, rc, r);
	if (!g->take) {
		cmd_warn(cmd, "%s: this process cannot open that many more "
		    "fds (its fd limit is %zu: see ulimit -n); the broker "
		    "keeps the group", name, limit);
		return EXIT_SYSTEM;
	}
	if (probed > 0)
		snprintf(held, sizeof(held), "; it held %zu fd%s a moment "
		    "before", probed, probed == 1 ? "" : "s");
	cmd_warn(cmd, "%s: the group is lost: the broker removed it as it "
	    "handed it over, and the kernel closed its fds, for which this "
	    "process had no room (fd limit %zu)%s", name, limit, held);
	return EXIT_SYSTEM;
}

/*
 * The broker removes a group as a take hands it over, and fds the kernel
 * cannot install here are lost with it. So when this process has room for
 * fewer fds than a whole group, first RETRIEVE the group without taking it
 * (waiting for it with --wait): a group that fits is then taken, one that
 * does not stays with the broker. Returns 0 with *probed its size, or the
 * exit status after saying why not.
 */
static int
take_probe(const char *cmd, int sock, const char *name,
    const struct cmd_get *g, struct fdp_reply *r, size_t *probed)
{
	struct cmd_get look = *g;
	size_t room, limit;
	int rc, status;

	*probed = 0;
	if (fd_room(&room, &limit) == -1 || room >= FDP_MAX_FDS)
		return 0;
	look.take = 0;
	rc = retrieve(cmd, sock, name, &look, r);
	if (rc == FDP_ECTRUNC || (rc == 0 && r->h.status == FDP_S_OK &&
	    r->nfds > room)) {
		fdp_close_fds(r->fds, r->nfds);
		cmd_warn(cmd, "%s: the group holds more fds than this process "
		    "may still open (%zu, under its fd limit of %zu: see "
		    "ulimit -n); not taking it: the broker keeps it", name,
		    room, limit);
		return EXIT_SYSTEM;
	}
	if ((status = retrieve_status(cmd, name, &look, rc, r, 0)) != 0)
		return status;
	*probed = r->nfds;
	fdp_close_fds(r->fds, r->nfds);
	r->nfds = 0;
	return 0;
}

int
cmd_get_group(const char *cmd, int sock, const char *name,
    const struct cmd_get *g, struct fdp_reply *r)
{
	struct cmd_get get = *g;
	size_t probed = 0;
	int status;

	if (g->take) {
		if ((status = take_probe(cmd, sock, name, g, r, &probed)) != 0)
			return status;
		if (probed > 0)
			get.wait = 0;	/* the group is held now */
	}
	return retrieve_status(cmd, name, &get, retrieve(cmd, sock, name,
	    &get, r), r, probed);
}

void
cmd_print_fds(const int *fds, size_t n, const char *indent)
{
	struct fdp_desc d;
	size_t i;

	for (i = 0; i < n; i++) {
		printf("%s%zu ", indent, i);
		if (fdp_describe(fds[i], &d) == 0)
			fdp_desc_print_text(stdout, &d);
		else
			printf("unknown\n");
	}
}

void
cmd_print_group_json(const char *name, size_t nfds, const int *fds,
    const uint32_t *expires_in)
{
	struct fdp_desc d;
	size_t i;

	fputs("{\"name\":", stdout);
	fdp_json_print_string(stdout, name);
	printf(",\"nfds\":%zu", nfds);
	if (expires_in != NULL && *expires_in > 0)
		printf(",\"expires_in\":%u", (unsigned)*expires_in);
	else if (expires_in != NULL)
		fputs(",\"expires_in\":null", stdout);
	if (fds != NULL) {
		fputs(",\"fds\":[", stdout);
		for (i = 0; i < nfds; i++) {
			if (i > 0)
				putchar(',');
			if (fdp_describe(fds[i], &d) == 0)
				fdp_desc_print_json(stdout, &d);
			else
				fputs("{\"kind\":\"unknown\"}", stdout);
		}
		putchar(']');
	}
	putchar('}');
}

int
cmd_notify_open(const char *cmd)
{
	const char *address = getenv("NOTIFY_SOCKET");
	int fd;

	if (address == NULL || *address == '\0')
		return -1;
	if ((fd = fdp_notify_connect(address)) < 0) {
		cmd_warn(cmd, "NOTIFY_SOCKET %s: %s; not notifying", address,
		    fdp_strerror(fd));
		return -1;
	}
	return fd;
}
