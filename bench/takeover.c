/*
 * takeover.c: the benchmark's section 8, how long one client's requests
 * wait while a new broker takes over an old one holding as many fds as
 * section 5 (in groups of 1 and of 253), and `fdpass transfer` of as many
 * groups of 1 against a copy made a request at a time.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define PROBE_SAMPLES	(1 << 19)	/* 5 s of requests at 10 us */
#define PAUSE_LEAD_NS	300000000LL	/* probing before the takeover */
#define PAUSE_TAIL_NS	300000000LL	/* and after the old broker is gone */
#define TRANSFER_RUNS	5

/* The probe client's requests, shared with it (MAP_SHARED). */
struct probe_log {
	volatile int	stop;
	volatile size_t	n;
	struct {
		long long	start, end;
	} s[PROBE_SAMPLES];
};

/* A reply whose fds are kept: the lockstep copy stores what it retrieves. */
static struct fdp_reply kept;

/* Store held fds under g0, g1, ... in groups of at most group fds. */
static size_t
fill_groups(const struct bench *b, const char *address, size_t group,
    size_t held)
{
	char name[32];
	size_t i, n, k;
	int sock = connect_broker(address);

	for (i = 0, n = 0; n < held; i++, n += k) {
		k = held - n < group ? held - n : group;
		snprintf(name, sizeof(name), "g%zu", i);
		store_copies(sock, name, b->sample_fd, k);
	}
	close(sock);
	return i;
}

/* The probe client: retrieve g0 in a loop, logging each request's times. */
static void __attribute__((noreturn))
pause_probe(const char *address, struct probe_log *log)
{
	int sock = connect_broker(address);
	long long t;

	while (!log->stop && log->n < PROBE_SAMPLES) {
		t = now_ns();
		call(sock, FDP_OP_RETRIEVE, 0, "g0", NULL, 0);
		log->s[log->n].start = t;
		log->s[log->n].end = now_ns();
		log->n++;
	}
	_exit(0);
}

/*
 * The spread of the probe's requests that ended before from (when before),
 * that overlapped from..to, or that started after to (when after).
 */
static struct spread
probe_spread(const struct probe_log *log, long long from, long long to,
    int when)
{
	struct spread sp;
	double *ms = malloc(log->n * sizeof(*ms) + 1);
	size_t i, k = 0;
	int in;

	if (ms == NULL)
		die("%s", strerror(ENOMEM));
	for (i = 0; i < log->n; i++) {
		if (when < 0)
			in = log->s[i].end < from;
		else if (when > 0)
			in = log->s[i].start > to;
		else
			in = log->s[i].start <= to && log->s[i].end >= from;
		if (in)
			ms[k++] = (double)(log->s[i].end - log->s[i].start) / 1e6;
	}
	sp = spread_of(ms, k);
	free(ms);
	return sp;
}

/*
 * One takeover while the probe retrieves: a broker filled with held fds in
 * groups of group, a new one started with --takeover at its address and
 * the same limits, on another CPU than the old broker and the probe share
 * (on one, the wait would be the scheduler's share of the CPU, not the
 * brokers'); the probe's requests before, during (from the new broker's
 * start to the old one's exit) and after.
 */
static void
pause_run(struct bench *b, struct probe_log *log, size_t group, size_t held,
    double ceiling_ms)
{
	char address[64], label[64], fig[64], ref[64], target[16];
	struct spread before, during, after;
	long long t0, t_ready, t_gone;
	pid_t old, new, probe;
	size_t groups;

	old = start_broker(b, address, sizeof(address));
	groups = fill_groups(b, address, group, held);
	log->stop = 0;
	log->n = 0;
	if ((probe = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (probe == 0)
		pause_probe(address, log);
	sleep_ns(PAUSE_LEAD_NS);
	place_self(1);
	t0 = now_ns();
	new = serve_at(b, address, 1);
	t_ready = now_ns();
	place_self(0);
	track_daemon(old, 0);
	reap(old, "the broker taken over");
	t_gone = now_ns();
	sleep_ns(PAUSE_TAIL_NS);
	log->stop = 1;
	reap(probe, "the probe client");
	before = probe_spread(log, t0, t_gone, -1);
	during = probe_spread(log, t0, t_gone, 0);
	after = probe_spread(log, t0, t_gone, 1);
	snprintf(label, sizeof(label), "8 takeover, %zu groups of %zu: before",
	    groups, group);
	report(b, label, spread_text(&before, fig, sizeof(fig)),
	    "p50/p99/max", 0, "", 1);
	snprintf(ref, sizeof(ref), "before: max %.3f ms", before.max);
	snprintf(label, sizeof(label), "8   during (%zu fds held)", held);
	snprintf(target, sizeof(target), "<= %.0fms", ceiling_ms);
	report(b, label, spread_text(&during, fig, sizeof(fig)), ref, 0, target,
	    during.max <= ceiling_ms);
	report(b, "8   after", spread_text(&after, fig, sizeof(fig)),
	    "p50/p99/max", 0, "", 1);
	snprintf(fig, sizeof(fig), "%.1f ms; %.1f ms",
	    (double)(t_ready - t0) / 1e6, (double)(t_gone - t0) / 1e6);
	report(b, "8   new broker ready; old broker gone", fig,
	    "after the new starts", 0, "", 1);
	stop_daemon(new, "fdpass serve");
}

/*
 * Every name a broker holds, by LIST: n names, each ending in a NUL, one
 * after the other in a buffer for free().
 */
static char *
held_names(int sock, size_t *n)
{
	const struct fdp_wire_entry *e;
	size_t off, len = 0, size = 1 << 16;
	char *names = malloc(size);
	int rc;

	*n = 0;
	if (names == NULL)
		die("%s", strerror(ENOMEM));
	for (rc = fdp_call(sock, FDP_OP_LIST, 0, NULL, NULL, 0, &kept);;
	    rc = fdp_reply_recv(sock, FDP_OP_LIST, &kept)) {
		if (rc != 0 || kept.h.status != FDP_S_OK)
			die("LIST: %s", rc != 0 ? fdp_strerror(rc) :
			    fdp_status_text(kept.h.status));
		for (off = 0; off + sizeof(*e) <= kept.len;
		    off += sizeof(*e) + e->name_len) {
			e = (const void *)(kept.payload + off);
			if (len + e->name_len + 1 > size &&
			    (names = realloc(names, size *= 2)) == NULL)
				die("%s", strerror(ENOMEM));
			memcpy(names + len, kept.payload + off + sizeof(*e),
			    e->name_len);
			len += e->name_len;
			names[len++] = '\0';
			(*n)++;
		}
		if (!(kept.h.flags & FDP_F_MORE))
			return names;
	}
}

/*
 * The reference: every group of from copied to to a request at a time, a
 * LIST and then a RETRIEVE and a STORE in turn for each, as transfer did
 * before DUMP and LOAD.
 */
static void
copy_lockstep(const char *from, const char *to)
{
	int src = connect_broker(from), dst = connect_broker(to), rc;
	size_t i, n;
	char *names = held_names(src, &n), *name = names;

	for (i = 0; i < n; i++, name += strlen(name) + 1) {
		if ((rc = fdp_call(src, FDP_OP_RETRIEVE, 0, name, NULL, 0,
		    &kept)) != 0 || kept.h.status != FDP_S_OK)
			die("%s: %s", name, rc != 0 ? fdp_strerror(rc) :
			    fdp_status_text(kept.h.status));
		call(dst, FDP_OP_STORE, 0, name, kept.fds, kept.nfds);
		fdp_close_fds(kept.fds, kept.nfds);
	}
	free(names);
	close(src);
	close(dst);
}

/* How many groups the broker at address holds. */
static size_t
count_groups(const char *address)
{
	int sock = connect_broker(address);
	size_t n;

	free(held_names(sock, &n));
	close(sock);
	return n;
}

/*
 * Copy every group of from into a fresh broker, by `fdpass transfer` or
 * (lockstep) the reference; check it holds them all; the time it took.
 */
static double
copy_once(const struct bench *b, const char *from, size_t groups,
    int lockstep)
{
	char to[64];
	const char *argv[] = { b->fdpass, "transfer", from, to, NULL };
	pid_t dst = start_broker(b, to, sizeof(to));
	long long t = now_ns();
	size_t held;
	double ms;

	if (lockstep)
		copy_lockstep(from, to);
	else
		run(argv, b->devnull);
	ms = (double)(now_ns() - t) / 1e6;
	if ((held = count_groups(to)) != groups)
		die("%s copied %zu groups of %zu", lockstep ?
		    "the lockstep copy" : "fdpass transfer", held, groups);
	stop_daemon(dst, "fdpass serve");
	return ms;
}

/* transfer against the lockstep copy, in alternating runs. */
static void
transfer_runs(struct bench *b, size_t held)
{
	double ref[TRANSFER_RUNS], fig[TRANSFER_RUNS], r, f;
	char from[64], label[64], text[64], reftext[64];
	pid_t src = start_broker(b, from, sizeof(from));
	size_t i, groups = fill_groups(b, from, 1, held);

	for (i = 0; i < TRANSFER_RUNS; i++) {
		ref[i] = copy_once(b, from, groups, 1);
		fig[i] = copy_once(b, from, groups, 0);
	}
	stop_daemon(src, "fdpass serve");
	r = median_of(ref, TRANSFER_RUNS);
	f = median_of(fig, TRANSFER_RUNS);
	snprintf(label, sizeof(label), "8 transfer, %zu groups of 1", groups);
	snprintf(text, sizeof(text), "%.1f ms", f);
	snprintf(reftext, sizeof(reftext), "lockstep copy %.1f ms", r);
	report(b, label, text, reftext, f / r, "<= 0.1x", f <= r / 10);
}

/* 8: the pause in groups of 1 and of 253 (issue 17's ceilings), transfer. */
void
bench_takeover(struct bench *b)
{
	struct probe_log *log;
	size_t held = scale_held(b);

	log = mmap(NULL, sizeof(*log), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (log == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	pause_run(b, log, 1, held, 20);
	pause_run(b, log, FDP_MAX_FDS, held, 10);
	munmap(log, sizeof(*log));
	transfer_runs(b, held);
}
