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
