/*
 * log.c: what every part of fdpass says on standard error: messages, and
 * under -v each protocol step, the same way on the broker's side and the
 * clients'.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <string.h>

#include "log.h"

/*
 * Standard error line-buffered: each message reaches it in one write(2),
 * whole, so that it is not cut by what a program fdpass runs (which shares
 * it) writes at the same moment. Messages end with a newline, so nothing
 * waits in the buffer for long.
 */
void
cmd_log_start(void)
{
	setvbuf(stderr, NULL, _IOLBF, 0);
}

/* "fdpass: CMD: " and the message, a line. */
static void
log_line(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "fdpass: %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* Every message names the program and the command, like "fdpass: send: ...". */
void
cmd_warn(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(cmd, fmt, ap);
	va_end(ap);
}

int cmd_verbose;

/* -v: each protocol step, in the same form for every command. */
void
cmd_log(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	if (!cmd_verbose)
		return;
	va_start(ap, fmt);
	log_line(cmd, fmt, ap);
	va_end(ap);
}

static const char *const op_names[] = {
	[FDP_OP_STORE] = "STORE",
	[FDP_OP_RETRIEVE] = "RETRIEVE",
	[FDP_OP_LIST] = "LIST",
	[FDP_OP_DELETE] = "DELETE",
	[FDP_OP_STATUS] = "STATUS",
	[FDP_OP_MONITOR] = "MONITOR",
	[FDP_OP_DUMP] = "DUMP",
	[FDP_OP_LOAD] = "LOAD",
	[FDP_OP_TAKEOVER] = "TAKEOVER",
	[FDP_OP_TAKEOVER_READY] = "TAKEOVER_READY",
	[FDP_OP_TAKEOVER_DONE] = "TAKEOVER_DONE",
};

/* Which flag bits mean what depends on the op and on the direction. */
static const struct {
	uint16_t	 op;
	uint32_t	 bit;
	const char	*name;
} flag_names[] = {
	{ FDP_OP_STORE, FDP_F_REPLACE, "replace" },
	{ FDP_OP_STORE, FDP_F_TTL, "ttl" },
	{ FDP_OP_RETRIEVE, FDP_F_TAKE, "take" },
	{ FDP_OP_RETRIEVE, FDP_F_WAIT, "wait" },
	{ FDP_OP_LIST | FDP_OP_REPLY, FDP_F_MORE, "more" },
	{ FDP_OP_DUMP | FDP_OP_REPLY, FDP_F_MORE, "more" },
	{ FDP_OP_LOAD, FDP_F_REPLACE, "replace" },
	{ FDP_OP_TAKEOVER, FDP_F_BATCH, "batch" },
	{ FDP_OP_TAKEOVER, FDP_F_LIVE, "live" },
	{ FDP_OP_MONITOR | FDP_OP_REPLY, FDP_F_MORE, "more" },
};

/* "STORE" for a known op, its number otherwise. */
static void
log_op(uint16_t op)
{
	uint16_t base = op & (uint16_t)~FDP_OP_REPLY;

	if (base < sizeof(op_names) / sizeof(op_names[0]) &&
	    op_names[base] != NULL)
		fputs(op_names[base], stderr);
	else
		fprintf(stderr, "op %u", (unsigned)base);
}

/* The flags as words, and in hex. */
static void
log_flags(uint16_t op, uint32_t flags)
{
	size_t i;
	const char *sep = "(";

	fprintf(stderr, " flags=0x%x", (unsigned)flags);
	for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if (flag_names[i].op == op && (flags & flag_names[i].bit)) {
			fprintf(stderr, "%s%s", sep, flag_names[i].name);
			sep = ",";
		}
	if (*sep == ',')
		fputc(')', stderr);
}

/* A request's argument (TTL or wait) and name, unprintable bytes as '?'. */
static void
log_request_payload(const struct fdp_wire_header *h, const unsigned char *p,
    size_t len)
{
	uint32_t arg;
	size_t i;

	if ((h->op == FDP_OP_STORE && (h->flags & FDP_F_TTL)) ||
	    (h->op == FDP_OP_RETRIEVE && (h->flags & FDP_F_WAIT))) {
		if (len < sizeof(arg))
			return;
		memcpy(&arg, p, sizeof(arg));
		fprintf(stderr, h->op == FDP_OP_STORE ? " ttl=%us" :
		    " wait=%ums", (unsigned)arg);
		p += sizeof(arg);
		len -= sizeof(arg);
	}
	if (len == 0)
		return;
	fputs(" name=\"", stderr);
	for (i = 0; i < len && i < 255; i++)
		fputc(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?', stderr);
	fputc('"', stderr);
}

void
cmd_log_record(const char *cmd, int client, const char *dir,
    const struct fdp_wire_header *h, const void *payload, size_t len,
    const int *fds, size_t nfds)
{
	size_t i;

	if (!cmd_verbose)
		return;
	fprintf(stderr, "fdpass: %s: ", cmd);
	if (client >= 0)
		fprintf(stderr, "client %d ", client);
	fprintf(stderr, "%s ", dir);
	log_op(h->op);
	if (h->op & FDP_OP_REPLY)
		fprintf(stderr, " reply status=%u (%s)", (unsigned)h->status,
		    fdp_reply_status_text(h->status, payload, len));
	log_flags(h->op, h->flags);
	if ((h->op & FDP_OP_REPLY) == 0)
		log_request_payload(h, payload, len);
	else if (len > 0)
		fprintf(stderr, " payload=%zu bytes", len);
	fprintf(stderr, " fds=%zu", nfds);
	for (i = 0; i < nfds; i++)
		fprintf(stderr, "%s%d", i == 0 ? " [" : ",", fds[i]);
	fputs(nfds > 0 ? "]\n" : "\n", stderr);
}
