/*
 * measure.c: the benchmark's clock and statistics, the probes that time
 * requests in alternating blocks, and the table every figure is printed in.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

/* Every figure is taken on the monotonic clock. */
long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Sleep ns nanoseconds, signals or not. */
void
sleep_ns(long long ns)
{
	struct timespec ts = { ns / 1000000000LL, ns % 1000000000LL };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

/* qsort's comparison for samples. */
int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of a few runs' figures (sorts them). */
double
median_of(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/*
 * Median and 99th percentile of n per-operation samples, and the rate: the
 * median of the rates of ROUNDS runs, each a stretch of consecutive samples,
 * so that one stretch a noisy neighbour slowed does not decide it.
 */
struct stats
stats_of(double *ns, size_t n)
{
	double rates[ROUNDS], total;
	size_t r, i, run = n / ROUNDS;
	struct stats s;

	for (r = 0; r < ROUNDS; r++) {
		for (total = 0, i = r * run; i < (r + 1) * run; i++)
			total += ns[i];
		rates[r] = total > 0 ? (double)run * 1e9 / total : 0;
	}
	s.rate = median_of(rates, ROUNDS);
	qsort(ns, n, sizeof(*ns), cmp_double);
	s.median = ns[n / 2];
	s.p99 = ns[n * 99 / 100];
	return s;
}

/* p50, p99 and max of n latencies (sorts them); all 0 when n is 0. */
struct spread
spread_of(double *ms, size_t n)
{
	struct spread sp = { 0, 0, 0 };

	if (n > 0) {
		qsort(ms, n, sizeof(*ms), cmp_double);
		sp.p50 = ms[n / 2];
		sp.p99 = ms[n * 99 / 100];
		sp.max = ms[n - 1];
	}
	return sp;
}

/* "0.080/2.780/4.10 ms": a spread as the table shows it. */
const char *
spread_text(const struct spread *sp, char *buf, size_t len)
{
	snprintf(buf, len, "%.3f/%.3f/%.2f ms", sp->p50, sp->p99, sp->max);
	return buf;
}

/* One line of the table: a figure, its reference, the ratio, the target. */
void
report(struct bench *b, const char *label, const char *figure,
    const char *ref, double ratio, const char *target, int met)
{
	char ratio_text[32] = "";

	if (ratio > 0)
		snprintf(ratio_text, sizeof(ratio_text), "%.2fx", ratio);
	printf("| %-44s | %-26s | %-22s | %6s | %-8s | %-4s |\n", label, figure,
	    ref, ratio_text, target, target[0] == '\0' ? "" : met ? "yes" : "NO");
	fflush(stdout);
	if (target[0] != '\0') {
		b->checked++;
		if (!met)
			b->missed++;
	}
}

/* "12.3 us (p99 45.6)": a latency figure as the table shows it. */
static const char *
latency_text(const struct stats *s, char *buf, size_t len)
{
	snprintf(buf, len, "%.1f us (p99 %.1f)", s->median / 1000,
	    s->p99 / 1000);
	return buf;
}

/* A latency line with its ratio to a reference latency and a ceiling. */
void
report_latency(struct bench *b, const char *label, const struct stats *s,
    const char *ref, const struct stats *r, double ceiling)
{
	char fig[64], tgt[16] = "";
	double ratio = r != NULL ? s->median / r->median : 0;

	if (ceiling > 0)
		snprintf(tgt, sizeof(tgt), "<= %.1fx", ceiling);
	report(b, label, latency_text(s, fig, sizeof(fig)), ref, ratio, tgt,
	    ceiling <= 0 || ratio <= ceiling);
}

/* A rate line with its ratio to a reference rate and a floor. */
void
report_rate(struct bench *b, const char *label, double rate,
    const char *unit, const char *ref, double ref_rate, double floor)
{
	char fig[64], tgt[16] = "";
	double ratio = ref_rate > 0 ? rate / ref_rate : 0;

	snprintf(fig, sizeof(fig), "%.0f %s", rate, unit);
	if (floor > 0)
		snprintf(tgt, sizeof(tgt), ">= %.1fx", floor);
	report(b, label, fig, ref, ratio, tgt, floor <= 0 || ratio >= floor);
}

/* Do one operation of a probe: a request (stores replace), or a ping-pong. */
void
probe_once(const struct probe *p)
{
	unsigned char byte = 'x';
	int got[FDP_MAX_FDS];
	size_t ngot = FDP_MAX_FDS;

	if (!p->raw) {
		call(p->sock, p->op, p->op == FDP_OP_STORE ? FDP_F_REPLACE : 0,
		    p->name, p->fds, p->nfds);
		return;
	}
	if (fdp_send_msg(p->sock, &byte, 1, p->fds, p->nfds) != 1 ||
	    fdp_recv_msg(p->sock, &byte, 1, got, &ngot) != 1 ||
	    ngot != p->nfds)
		die("raw ping-pong failed");
	fdp_close_fds(got, ngot);
}

/* Take samples from..to of a probe. */
void
time_block(struct probe *p, size_t from, size_t to)
{
	long long t;
	size_t i;

	for (i = from; i < to; i++) {
		t = now_ns();
		probe_once(p);
		p->ns[i] = (double)(now_ns() - t);
	}
}

/* Room for n samples of each probe, after a warm-up of n / 10. */
void
probes_start(struct probe *p, size_t np, size_t n)
{
	size_t k;

	for (k = 0; k < np; k++) {
		if ((p[k].ns = calloc(n, sizeof(*p[k].ns))) == NULL)
			die("%s", strerror(ENOMEM));
		time_block(&p[k], 0, n / 10);
	}
}

/* The figures of each probe's samples. */
void
probes_finish(struct probe *p, size_t np, size_t n, struct stats *st)
{
	size_t k;

	for (k = 0; k < np; k++) {
		st[k] = stats_of(p[k].ns, n);
		free(p[k].ns);
	}
}

/*
 * Time n operations of each probe in ROUNDS alternating blocks, so that a
 * noisy machine slows a figure and its reference alike.
 */
void
time_probes(struct probe *p, size_t np, size_t n, struct stats *st)
{
	size_t k, r, block = n / ROUNDS;

	probes_start(p, np, n);
	for (r = 0; r < ROUNDS; r++)
		for (k = 0; k < np; k++)
			time_block(&p[k], r * block, (r + 1) * block);
	probes_finish(p, np, block * ROUNDS, st);
}
