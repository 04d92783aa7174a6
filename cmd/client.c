/*
 * client.c: what the client commands share: messages, arguments, reaching
 * the broker, and turning its answers into exit statuses.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

/* Every message names the program and the command, like "fdpass: send: ...". */
void
cmd_warn(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fdpass: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

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
cmd_connect(const char *cmd, const char *socket_option, int *status)
{
	char buf[PATH_MAX];
	const char *address;
	int fd;

	address = fdp_broker_address(socket_option, buf, sizeof(buf));
	if (address == NULL) {
		cmd_warn(cmd, "%s: %s", socket_option,
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
	if (!cmd_broker_trusted(cmd, fd, address)) {
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
		if (name != NULL)
			cmd_warn(cmd, "%s: %s", name,
			    fdp_status_text(r->h.status));
		else
			cmd_warn(cmd, "%s", fdp_status_text(r->h.status));
		return EXIT_REFUSED;
	}
	return 0;
}

int
cmd_retrieve(const char *cmd, int sock, const char *name,
    struct fdp_reply *r)
{
	int rc;

	rc = fdp_call(sock, FDP_OP_RETRIEVE, 0, name, NULL, 0, r);
	return cmd_call_status(cmd, name, rc, r);
}
