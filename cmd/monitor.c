/*
 * monitor.c: `fdpass monitor`, the broker's events as they happen, one a
 * line (or a JSON object), until interrupted or the broker stops.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <getopt.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "cmd.h"

/* The events' names, by FDP_EV_* value. */
static const char *const monitor_kinds[FDP_EV_COUNT] = {
	[FDP_EV_MONITOR] = "monitor", [FDP_EV_STORED] = "stored",
	[FDP_EV_REPLACED] = "replaced", [FDP_EV_RETRIEVED] = "retrieved",
	[FDP_EV_TAKEN] = "taken", [FDP_EV_DELETED] = "deleted",
	[FDP_EV_EXPIRED] = "expired", [FDP_EV_REFUSED] = "refused",
	[FDP_EV_CONNECTED] = "connected", [FDP_EV_LEFT] = "left",
	[FDP_EV_TAKEOVER] = "takeover", [FDP_EV_DROPPED] = "dropped",
	[FDP_EV_STOPPED] = "stopped",
};

/* The ops a refusal names, as words; others by number. */
static const char *const monitor_ops[] = {
	[FDP_OP_STORE] = "store", [FDP_OP_RETRIEVE] = "retrieve",
	[FDP_OP_LIST] = "list", [FDP_OP_DELETE] = "delete",
	[FDP_OP_STATUS] = "status", [FDP_OP_MONITOR] = "monitor",
	[FDP_OP_DUMP] = "dump", [FDP_OP_LOAD] = "load",
	[FDP_OP_TAKEOVER] = "takeover",
	[FDP_OP_TAKEOVER_READY] = "takeover_ready",
	[FDP_OP_TAKEOVER_DONE] = "takeover_done",
};

/* A word for a value in a table of words, or the value in digits. */
static const char *
monitor_word(const char *const *words, size_t n, unsigned value, char *buf,
    size_t len)
{
	if (value < n && words[value] != NULL)
		return words[value];
	snprintf(buf, len, "%u", value);
	return buf;
}

/* A number field of the event's description. */
static void
field_number(struct fdp_desc *d, const char *key, uint64_t value)
{
	char text[24];

	snprintf(text, sizeof(text), "%" PRIu64, value);
	fdp_desc_add(d, key, FDP_FIELD_NUMBER, text);
}

/* What a refusal says: the op (or a connection), status and why. */
static void
monitor_refusal(struct fdp_desc *d, const struct fdp_wire_event *e)
{
	char buf[16];

	if (e->op == 0 && e->client == 0)
		fdp_desc_add(d, "op", FDP_FIELD_STRING, "connect");
	else
		fdp_desc_add(d, "op", FDP_FIELD_STRING, monitor_word(monitor_ops,
		    sizeof(monitor_ops) / sizeof(monitor_ops[0]), e->op, buf,
		    sizeof(buf)));
	field_number(d, "status", e->status);
	fdp_desc_add(d, "message", FDP_FIELD_STRING,
	    fdp_reply_status_text(e->status, &e->detail, e->detail != 0 ?
	    sizeof(e->detail) : 0));
}

/*
 * One event as fdpass(1) documents it: its kind, then (JSON only) its
 * time, then what the kind has, then who it is about.
 */
static void
monitor_describe(const struct fdp_wire_event *e, const char *name, int json,
    struct fdp_desc *d)
{
	char buf[16], when[32];

	memset(d, 0, offsetof(struct fdp_desc, text));
	d->kind = monitor_word(monitor_kinds, FDP_EV_COUNT, e->kind, buf,
	    sizeof(buf));
	if (json) {
		snprintf(when, sizeof(when), "%" PRIu64 ".%06u",
		    e->time_us / 1000000, (unsigned)(e->time_us % 1000000));
		fdp_desc_add(d, "time", FDP_FIELD_NUMBER, when);
	}
	if (e->name_len > 0)
		fdp_desc_add(d, "name", FDP_FIELD_STRING, name);
	if (e->nfds > 0)
		field_number(d, "nfds", e->nfds);
	if ((e->kind == FDP_EV_STORED || e->kind == FDP_EV_REPLACED) &&
	    e->detail > 0)
		field_number(d, "ttl", e->detail);
	if (e->kind == FDP_EV_REFUSED)
		monitor_refusal(d, e);
	if (e->kind == FDP_EV_DROPPED)
		field_number(d, "count", e->detail);
	if (e->kind == FDP_EV_TAKEOVER)
		field_number(d, "old_pid", e->detail);
	if (e->client != 0)
		field_number(d, "client", e->client);
	if (e->uid != UINT32_MAX) {
		field_number(d, "uid", e->uid);
		field_number(d, "gid", e->gid);
		field_number(d, "pid", e->pid);
	}
}

/* Print one event, its time first in the text form. */
static void
monitor_print(const struct fdp_wire_event *e, const char *name, int json)
{
	static struct fdp_desc d;
	time_t sec = (time_t)(e->time_us / 1000000);
	char when[32] = "?";
	struct tm tm;

	monitor_describe(e, name, json, &d);
	if (json) {
		fdp_desc_print_json(stdout, &d);
		putchar('\n');
		return;
	}
	if (gmtime_r(&sec, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	printf("%s.%06uZ ", when, (unsigned)(e->time_us % 1000000));
	fdp_desc_print_text(stdout, &d);
}

/* Decode and print one event record; FDP_EPROTO when it does not parse. */
static int
monitor_event(const struct fdp_reply *r, int json)
{
	struct fdp_wire_event e;
	char name[256];

	if (r->nfds != 0 || r->len < sizeof(e))
		return FDP_EPROTO;
	memcpy(&e, r->payload, sizeof(e));
	if (r->len - sizeof(e) != e.name_len || (e.name_len > 0 &&
	    fdp_name_check((const char *)r->payload + sizeof(e),
	    e.name_len) != 0))
		return FDP_EPROTO;
	memcpy(name, r->payload + sizeof(e), e.name_len);
	name[e.name_len] = '\0';
	monitor_print(&e, name, json);
	return fflush(stdout) == EOF ? FDP_ESYS : 0;
}

/*
 * MONITOR, then print each event as it comes, until the stream's last
 * record (the broker stopping: exit 0), a refusal (1), or the connection
 * ending (3). A broker older than the request says so.
 */
static int
monitor_stream(int sock, int json)
{
	static struct fdp_reply r;
	int rc;

	rc = cmd_call("monitor", sock, FDP_OP_MONITOR, 0, 0, NULL, NULL, 0,
	    &r);
	if (rc == 0 && r.h.status == FDP_S_UNSUPPORTED) {
		cmd_warn("monitor", "the broker does not answer MONITOR (an "
		    "fdpass older than this one, or a peer)");
		return EXIT_REFUSED;
	}
	while (rc == 0 && r.h.status == FDP_S_OK &&
	    (rc = monitor_event(&r, json)) == 0 &&
	    (r.h.flags & FDP_F_MORE) != 0)
		rc = cmd_reply_recv("monitor", sock, FDP_OP_MONITOR, &r);
	fdp_close_fds(r.fds, r.nfds);
	if (rc == FDP_ECLOSED) {
		cmd_warn("monitor", "the broker closed the connection");
		return EXIT_SYSTEM;
	}
	return cmd_call_status("monitor", NULL, rc, &r);
}

static const struct option monitor_options[] = {
	{ "socket",	required_argument,	NULL,	's' },
	{ "json",	no_argument,		NULL,	'j' },
	CMD_COMMON_OPTIONS
};

static int
monitor_run(int argc, char **argv)
{
	const char *socket_opt = NULL;
	int ch, status, json = 0;

	while ((ch = getopt_long(argc, argv, "s:jvh", monitor_options,
	    NULL)) != -1) {
		if (ch == 'j')
			json = 1;
		else if ((status = cmd_common_option(&cmd_monitor, ch, optarg,
		    &socket_opt)) != -1)
			return status;
	}
	return cmd_run_connected(&cmd_monitor, argc, socket_opt, json, monitor_stream);
}

const struct cmd_entry cmd_monitor = {
	"monitor",
	"monitor [-v] [-s ADDR] [--trust-uid N] [--json]\n"
	"Print the broker's events as they happen, one a line, until interrupted\n"
	"or the broker stops: groups stored, replaced, retrieved, taken, deleted\n"
	"and expired, requests refused, clients connected and left, takeovers,\n"
	"and events dropped because this monitor did not read them in time.\n"
	"  -s, --socket ADDR  broker address (path or @abstract)\n"
	"  -j, --json         print each event as a JSON object (see fdpass(1))\n"
	"  -v, --verbose      log each protocol step to stderr\n"
	CMD_TRUST_UID_USAGE,
	monitor_run,
};
