/*
 * status.c: `fdpass status`, what the broker is doing: who and where it
 * is, what it holds and serves against its limits, and its counts.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "cmd.h"

/* A STATUS reply, decoded: its values, version and address. */
struct status_reply {
	uint64_t	 v[FDP_SV_COUNT];
	char		 version[256];
	char		 address[256];
};

/* The request kinds' names, in the order of enum fdp_request_kind. */
static const char *const status_kinds[FDP_RK_COUNT] = {
	"store", "retrieve", "list", "delete", "status", "monitor", "dump",
	"load", "takeover", "other"
};

/* The figures JSON has at its top level, after the address, in order. */
static const struct {
	const char	*key;
	int		 index;
} status_figures[] = {
	{ "groups", FDP_SV_GROUPS }, { "fds", FDP_SV_FDS },
	{ "fds_open", FDP_SV_FDS_OPEN }, { "clients", FDP_SV_CLIENTS },
	{ "waiters", FDP_SV_WAITERS }, { "monitors", FDP_SV_MONITORS },
	{ "monitors_others", FDP_SV_MONITORS_OTHERS },
	{ "inflight", FDP_SV_INFLIGHT },
	{ "refused_connections", FDP_SV_REFUSED_CLIENTS },
	{ "events_dropped", FDP_SV_EVENTS_DROPPED },
}, status_limits[] = {
	{ "max_fds", FDP_SV_MAX_FDS }, { "max_clients", FDP_SV_MAX_CLIENTS },
	{ "reserved_clients", FDP_SV_RESERVED_CLIENTS },
	{ "max_waiters", FDP_SV_MAX_WAITERS },
	{ "max_monitors", FDP_SV_MAX_MONITORS },
	{ "monitor_queue", FDP_SV_MONITOR_QUEUE },
	{ "max_inflight", FDP_SV_MAX_INFLIGHT },
	{ "client_inflight", FDP_SV_CLIENT_INFLIGHT },
	{ "client_timeout", FDP_SV_CLIENT_TIMEOUT },
	{ "nofile", FDP_SV_NOFILE },
};
#define STATUS_COUNT(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * One length-prefixed string of the payload at *off into out (size
 * bytes, NUL-terminated); -1 when it runs past the payload or out.
 */
static int
status_string(const struct fdp_reply *r, size_t *off, char *out, size_t size)
{
	uint16_t n;

	if (r->len - *off < sizeof(n))
		return -1;
	memcpy(&n, r->payload + *off, sizeof(n));
	*off += sizeof(n);
	if (r->len - *off < n || n >= size || memchr(r->payload + *off, '\0',
	    n) != NULL)
		return -1;
	memcpy(out, r->payload + *off, n);
	out[n] = '\0';
	*off += n;
	return 0;
}

/*
 * Decode a STATUS reply (fdpass-protocol(7)): at least the values this
 * fdpass knows, more skipped; FDP_EPROTO when it does not parse.
 */
static int
status_decode(const struct fdp_reply *r, struct status_reply *s)
{
	uint32_t n;
	size_t off = sizeof(n);

	if (r->nfds != 0 || r->len < sizeof(n))
		return FDP_EPROTO;
	memcpy(&n, r->payload, sizeof(n));
	if (n < FDP_SV_COUNT || (r->len - sizeof(n)) / sizeof(uint64_t) < n)
		return FDP_EPROTO;
	memcpy(s->v, r->payload + off, sizeof(s->v));
	off += (size_t)n * sizeof(uint64_t);
	if (status_string(r, &off, s->version, sizeof(s->version)) == -1 ||
	    status_string(r, &off, s->address, sizeof(s->address)) == -1)
		return FDP_EPROTO;
	return 0;
}

/* The JSON object fdpass(1) documents, on one line. */
static void
status_print_json(const struct status_reply *s)
{
	const uint64_t *v = s->v;
	size_t i;

	fputs("{\"version\":", stdout);
	fdp_json_print_string(stdout, s->version);
	printf(",\"protocol\":%" PRIu64 ",\"pid\":%" PRIu64 ",\"uid\":%"
	    PRIu64 ",\"gid\":%" PRIu64 ",\"address\":", v[FDP_SV_PROTOCOL],
	    v[FDP_SV_PID], v[FDP_SV_UID], v[FDP_SV_GID]);
	fdp_json_print_string(stdout, s->address);
	printf(",\"started\":%" PRIu64 ",\"uptime\":%" PRIu64 ".%03u",
	    v[FDP_SV_STARTED], v[FDP_SV_UPTIME_MS] / 1000,
	    (unsigned)(v[FDP_SV_UPTIME_MS] % 1000));
	for (i = 0; i < STATUS_COUNT(status_figures); i++)
		printf(",\"%s\":%" PRIu64, status_figures[i].key,
		    v[status_figures[i].index]);
	if (v[FDP_SV_TOOK_OVER_FROM] != 0)
		printf(",\"took_over_from\":%" PRIu64, v[FDP_SV_TOOK_OVER_FROM]);
	else
		fputs(",\"took_over_from\":null", stdout);
	fputs(",\"limits\":{", stdout);
	for (i = 0; i < STATUS_COUNT(status_limits); i++)
		printf("%s\"%s\":%" PRIu64, i > 0 ? "," : "",
		    status_limits[i].key, v[status_limits[i].index]);
	fputs("},\"requests\":{", stdout);
	for (i = 0; i < FDP_RK_COUNT; i++)
		printf("%s\"%s\":{\"served\":%" PRIu64 ",\"refused\":%" PRIu64
		    "}", i > 0 ? "," : "", status_kinds[i],
		    v[FDP_SV_SERVED + 2 * i], v[FDP_SV_SERVED + 2 * i + 1]);
	fputs("}}\n", stdout);
}

/* The same for people, a figure a line, each beside its limit. */
static void
status_print_text(const struct status_reply *s)
{
	const uint64_t *v = s->v;
	time_t started = (time_t)v[FDP_SV_STARTED];
	char when[64] = "?";
	uint64_t up = v[FDP_SV_UPTIME_MS] / 1000;
	struct tm tm;
	size_t i;

	if (gmtime_r(&started, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("broker     fdpass %s, protocol %" PRIu64 ", pid %" PRIu64
	    ", uid %" PRIu64 ", gid %" PRIu64 "\n", s->version,
	    v[FDP_SV_PROTOCOL], v[FDP_SV_PID], v[FDP_SV_UID], v[FDP_SV_GID]);
	printf("address    %s\n", s->address);
	printf("started    %s, up ", when);
	if (up >= 86400)
		printf("%" PRIu64 "d ", up / 86400);
	printf("%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 "\n", up / 3600 % 24,
	    up / 60 % 60, up % 60);
	if (v[FDP_SV_TOOK_OVER_FROM] != 0)
		printf("took over  from pid %" PRIu64 "\n",
		    v[FDP_SV_TOOK_OVER_FROM]);
	printf("groups     %" PRIu64 ", holding %" PRIu64 " fds of --max-fds %"
	    PRIu64 "\n", v[FDP_SV_GROUPS], v[FDP_SV_FDS], v[FDP_SV_MAX_FDS]);
	printf("fds open   %" PRIu64 " of the fd limit %" PRIu64 "\n",
	    v[FDP_SV_FDS_OPEN], v[FDP_SV_NOFILE]);
	printf("clients    %" PRIu64 " of --max-clients %" PRIu64 ", and %"
	    PRIu64 " more for the broker's uid and root; %" PRIu64
	    " refused\n", v[FDP_SV_CLIENTS], v[FDP_SV_MAX_CLIENTS],
	    v[FDP_SV_RESERVED_CLIENTS], v[FDP_SV_REFUSED_CLIENTS]);
	printf("waiters    %" PRIu64 " of other uids, of --max-waiters %" PRIu64
	    "\n", v[FDP_SV_WAITERS], v[FDP_SV_MAX_WAITERS]);
	printf("monitors   %" PRIu64 ", %" PRIu64 " of other uids of "
	    "--max-monitors %" PRIu64 "; %" PRIu64 " events waiting each at "
	    "most, %" PRIu64 " dropped\n", v[FDP_SV_MONITORS],
	    v[FDP_SV_MONITORS_OTHERS], v[FDP_SV_MAX_MONITORS],
	    v[FDP_SV_MONITOR_QUEUE], v[FDP_SV_EVENTS_DROPPED]);
	printf("in flight  %" PRIu64 " fds of --max-inflight %" PRIu64 ", %"
	    PRIu64 " to one client at most\n", v[FDP_SV_INFLIGHT],
	    v[FDP_SV_MAX_INFLIGHT], v[FDP_SV_CLIENT_INFLIGHT]);
	if (v[FDP_SV_CLIENT_TIMEOUT] != 0)
		printf("idle       clients dropped after %" PRIu64 " s "
		    "(--client-timeout)\n", v[FDP_SV_CLIENT_TIMEOUT]);
	else
		printf("idle       clients never dropped (--client-timeout 0)\n");
	printf("requests   %-9s %12s %12s\n", "", "served", "refused");
	for (i = 0; i < FDP_RK_COUNT; i++)
		printf("           %-9s %12" PRIu64 " %12" PRIu64 "\n",
		    status_kinds[i], v[FDP_SV_SERVED + 2 * i],
		    v[FDP_SV_SERVED + 2 * i + 1]);
}

/*
 * STATUS, and its answer printed; a broker older than the request says
 * so. Returns the exit status.
 */
static int
status_show(int sock, int json)
{
	static struct fdp_reply r;
	static struct status_reply s;
	int rc;

	rc = cmd_call("status", sock, FDP_OP_STATUS, 0, 0, NULL, NULL, 0, &r);
	if (rc == 0 && r.h.status == FDP_S_UNSUPPORTED) {
		cmd_warn("status", "the broker does not answer STATUS (an "
		    "fdpass older than this one, or a peer)");
		return EXIT_REFUSED;
	}
	if (rc == 0 && r.h.status == FDP_S_OK)
		rc = status_decode(&r, &s);
	fdp_close_fds(r.fds, r.nfds);
	if (rc != 0 || r.h.status != FDP_S_OK)
		return cmd_call_status("status", NULL, rc, &r);
	if (json)
		status_print_json(&s);
	else
		status_print_text(&s);
	if (fflush(stdout) == EOF)
		return cmd_call_status("status", NULL, FDP_ESYS, &r);
	return 0;
}

static const struct option status_options[] = {
	{ "socket",	required_argument,	NULL,	's' },
	{ "json",	no_argument,		NULL,	'j' },
	CMD_COMMON_OPTIONS
};

static int
status_run(int argc, char **argv)
{
	const char *socket_opt = NULL;
	int ch, status, json = 0;

	while ((ch = getopt_long(argc, argv, "s:jvh", status_options,
	    NULL)) != -1) {
		if (ch == 'j')
			json = 1;
		else if ((status = cmd_common_option(&cmd_status, ch, optarg,
		    &socket_opt)) != -1)
			return status;
	}
	return cmd_run_connected(&cmd_status, argc, socket_opt, json, status_show);
}

const struct cmd_entry cmd_status = {
	"status",
	"status [-v] [-s ADDR] [--trust-uid N] [--json]\n"
	"Print what the broker is doing: who and where it is, what it holds and\n"
	"serves against its limits, and the requests it served and refused.\n"
	"  -s, --socket ADDR  broker address (path or @abstract)\n"
	"  -j, --json         print one JSON object (see fdpass(1))\n"
	"  -v, --verbose      log each protocol step to stderr\n"
	CMD_TRUST_UID_USAGE,
	status_run,
};
