/*
 * scale.c: the benchmark's section 5, a retrieve from a broker holding
 * 100,000 fds against one holding 10, the memory each held fd costs, and a
 * client's latency among 1,000 idle ones.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* What a broker filled to SCALE_FDS fds in groups of one size showed. */
struct scale {
	size_t		held;		/* fds held at the end */
	struct stats	few;		/* retrieve with 10 held */
	struct stats	many;		/* retrieve with `held` held */
	double		rss_per_fd;	/* bytes above the idle size */
};

/* Store ten one-fd groups, few-0 to few-9. */
static void
store_few(const struct bench *b, int sock)
{
	char name[16];
	int i;

	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "few-%d", i);
		store_copies(sock, name, b->sample_fd, 1);
	}
}

/*
 * Two fresh brokers, one holding 10 fds and one filled in groups of `group`
 * fds up to `target`; the same retrieve is timed on both, alternating.
 */
static struct scale
scale_run(const struct bench *b, size_t group, size_t target)
{
	char few_addr[64], many_addr[64], name[32];
	struct probe p[2];
	struct stats st[2];
	struct scale sc;
	pid_t few, many;
	size_t i, n;
	long idle;

	few = start_broker(b, few_addr, sizeof(few_addr));
	many = start_broker(b, many_addr, sizeof(many_addr));
	memset(p, 0, sizeof(p));
	p[0].sock = connect_broker(few_addr);
	p[1].sock = connect_broker(many_addr);
	p[0].op = p[1].op = FDP_OP_RETRIEVE;
	p[0].name = p[1].name = "few-0";
	store_few(b, p[0].sock);
	store_few(b, p[1].sock);
	for (i = 0; i < 1000; i++)
		probe_once(&p[1]);
	idle = rss_bytes(many);
	for (sc.held = 10, i = 0; sc.held < target; i++) {
		n = target - sc.held < group ? target - sc.held : group;
		snprintf(name, sizeof(name), "g%zu", i);
		store_copies(p[1].sock, name, b->sample_fd, n);
		sc.held += n;
	}
	sc.rss_per_fd = (double)(rss_bytes(many) - idle) / (double)(sc.held - 10);
	time_probes(p, 2, LATENCY_SAMPLES, st);
	sc.few = st[0];
	sc.many = st[1];
	close(p[0].sock);
	close(p[1].sock);
	stop_daemon(few, "fdpass serve");
	stop_daemon(many, "fdpass serve");
	return sc;
}

/* Report one scale run: latency flat, memory per fd small. */
static void
report_scale(struct bench *b, const struct scale *sc, size_t group)
{
	char label[64], fig[64];

	snprintf(label, sizeof(label), "5 retrieve, %zu fds held (groups of %zu)",
	    sc->held, group);
	report_latency(b, label, &sc->many, "same with 10 held", &sc->few, 1.2);
	snprintf(label, sizeof(label), "5 broker RSS per held fd (groups of %zu)",
	    group);
	snprintf(fig, sizeof(fig), "%.0f bytes", sc->rss_per_fd);
	report(b, label, fig, "160 bytes", sc->rss_per_fd / 160, "<= 1.0x",
	    sc->rss_per_fd <= 160);
}

/*
 * 5 (idle clients): a working client's latency with and without 1,000
 * others connected and idle, in alternating rounds.
 */
static void
bench_idle_clients(struct bench *b)
{
	struct probe p[2];
	struct stats st[2];
	size_t i, r, n = IDLE_CLIENTS, block = LATENCY_SAMPLES / ROUNDS;
	char label[64];
	int *idle, base;

	if (b->nofile < IDLE_CLIENTS + 64)
		n = (size_t)b->nofile - 64;
	if ((idle = calloc(n, sizeof(*idle))) == NULL)
		die("%s", strerror(ENOMEM));
	memset(p, 0, sizeof(p));
	p[0].sock = p[1].sock = connect_broker(b->address);
	p[0].op = p[1].op = FDP_OP_RETRIEVE;
	p[0].name = p[1].name = "one";
	probes_start(p, 2, LATENCY_SAMPLES);
	base = fd_count(b->broker);
	for (r = 0; r < ROUNDS; r++) {
		time_block(&p[0], r * block, (r + 1) * block);
		for (i = 0; i < n; i++) {
			idle[i] = connect_broker(b->address);
			call(idle[i], FDP_OP_RETRIEVE, 0, "one", NULL, 0);
		}
		time_block(&p[1], r * block, (r + 1) * block);
		fdp_close_fds(idle, n);
		wait_fd_count(b->broker, base);
	}
	probes_finish(p, 2, block * ROUNDS, st);
	snprintf(label, sizeof(label), "5 retrieve with %zu idle clients held", n);
	report_latency(b, label, &st[1], "no idle clients", &st[0], 1.2);
	free(idle);
	close(p[0].sock);
}

/* How many fds sections 5 and 8 hold: SCALE_FDS, or what the limit allows. */
size_t
scale_held(const struct bench *b)
{
	return b->nofile >= SCALE_FDS + SCALE_SLACK ? SCALE_FDS :
	    (size_t)b->nofile - SCALE_SLACK;
}

/* 5: latency and memory at scale, in groups of 253 and of 1; idle clients. */
void
bench_scale(struct bench *b)
{
	struct scale sc;

	sc = scale_run(b, FDP_MAX_FDS, scale_held(b));
	report_scale(b, &sc, FDP_MAX_FDS);
	sc = scale_run(b, 1, scale_held(b));
	report_scale(b, &sc, 1);
	bench_idle_clients(b);
}
