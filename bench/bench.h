/*
 * bench.h: what the benchmark's rooms share: the run's state and sizes,
 * measuring and reporting (measure.c), processes (proc.c), brokers
 * (broker.c), and each section's entry point (bench.c runs 1 to 4, scale.c
 * 5, cli.c 6, restart.c 7, takeover.c 8).
 */
#ifndef FDPASS_BENCH_H
#define FDPASS_BENCH_H

#include <sys/resource.h>
#include <sys/types.h>

#include "fdpass.h"

/* How many fds the scale sections hold, and the fd limit they ask for. */
#define SCALE_FDS	100000
#define IDLE_CLIENTS	1000
#define WANT_NOFILE	(SCALE_FDS + IDLE_CLIENTS + 4096)
/* What a broker needs besides the fds it holds: its sockets, a request's fds. */
#define SCALE_SLACK	(FDP_MAX_FDS + 64)

/* Samples per latency figure, runs per rate figure. */
#define LATENCY_SAMPLES	20000
#define BULK_SAMPLES	2000
#define ROUNDS		20		/* runs a latency figure alternates in */
#define RATE_RUNS	9
#define RATE_RUN_NS	200000000LL
#define CLI_SAMPLES	300

/* What the benchmark runs against, set up once in main. */
struct bench {
	const char	*fdpass;
	char		 address[64];	/* the main broker's */
	pid_t		 broker;
	int		 sample_fd;	/* the fd every request moves */
	int		 devnull;
	rlim_t		 nofile;
	int		 checked;
	int		 missed;
};

/* The figures of one latency measurement, in nanoseconds. */
struct stats {
	double	median;
	double	p99;
	double	rate;		/* operations per second */
};

/* p50, p99 and max of a set of latencies, in ms. */
struct spread {
	double	p50, p99, max;
};

/* One kind of operation to time: a broker request, or a raw ping-pong. */
struct probe {
	int		 sock;
	int		 raw;
	uint16_t	 op;
	const char	*name;
	const int	*fds;
	size_t		 nfds;
	double		*ns;		/* the samples */
};

/* ---- measure.c ---- */

/* The monotonic clock, in nanoseconds. */
long long now_ns(void);

/* Sleep ns nanoseconds, signals or not. */
void	 sleep_ns(long long ns);

/* qsort's comparison of doubles. */
int	 cmp_double(const void *a, const void *b);

/* The median of n figures (sorts them). */
double	 median_of(double *v, size_t n);

/* Median, p99 and rate of n samples taken in ROUNDS stretches (sorts them). */
struct stats stats_of(double *ns, size_t n);

/* The spread of n latencies (sorts them); all 0 when n is 0. */
struct spread spread_of(double *ms, size_t n);

/* "p50/p99/max ms", as the table shows a spread. */
const char *spread_text(const struct spread *sp, char *buf, size_t len);

/*
 * One line of the table: a figure, its reference, the ratio (none when 0),
 * the target ("" for none) and whether it is met.
 */
void	 report(struct bench *b, const char *label, const char *figure,
	    const char *ref, double ratio, const char *target, int met);

/* A latency line, its ratio to r (when not NULL) and a ceiling (when > 0). */
void	 report_latency(struct bench *b, const char *label,
	    const struct stats *s, const char *ref, const struct stats *r,
	    double ceiling);

/* A rate line, its ratio to ref_rate (when > 0) and a floor (when > 0). */
void	 report_rate(struct bench *b, const char *label, double rate,
	    const char *unit, const char *ref, double ref_rate, double floor);

/* One operation of a probe. */
void	 probe_once(const struct probe *p);

/* Samples from..to of a probe. */
void	 time_block(struct probe *p, size_t from, size_t to);

/* Room for n samples of each of np probes, after a warm-up. */
void	 probes_start(struct probe *p, size_t np, size_t n);

/* The figures of each probe's first n samples; frees them. */
void	 probes_finish(struct probe *p, size_t np, size_t n, struct stats *st);

/* n operations of each of np probes, in alternating blocks. */
void	 time_probes(struct probe *p, size_t np, size_t n, struct stats *st);

/* ---- proc.c ---- */

/* Nothing can be measured after this: say why, stop the daemons, exit 3. */
void	 die(const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 1, 2)));

/* Start argv with in_fd, out_fd, fd3 at 0, 1, 3 (each when not -1). */
pid_t	 spawn(const char *const argv[], int in_fd, int out_fd, int fd3);

/* Wait for a child; anything but exit 0 stops the benchmark. */
void	 reap(pid_t pid, const char *what);

/* Run a command to completion with stdin from in_fd. */
void	 run(const char *const argv[], int in_fd);

/* Keep the list of daemons die() stops: (0, pid) adds, (pid, 0) removes. */
void	 track_daemon(pid_t old, pid_t new);

/* Start a daemon ready when it writes a line to fd ready_at (1 or 3). */
pid_t	 start_daemon(const char *const argv[], int ready_at, int devnull);

/* Stop a daemon with SIGTERM; anything but exit 0 stops the benchmark. */
void	 stop_daemon(pid_t pid, const char *what);

/* Run the benchmark and broker on CPU 0 (one_cpu) or on every CPU. */
void	 place(pid_t broker, int one_cpu);

/* Run the benchmark and what it starts next on the last CPU, or on CPU 0. */
void	 place_self(int last);

/* A process's resident set, in bytes. */
long	 rss_bytes(pid_t pid);

/* How many fds a process has open. */
int	 fd_count(pid_t pid);

/* Wait until a process has at most n fds open (10 s at most). */
void	 wait_fd_count(pid_t pid, int n);

/* ---- broker.c ---- */

/* Start `fdpass serve` at address (with --takeover when takeover). */
pid_t	 serve_at(const struct bench *b, const char *address, int takeover);

/* Start `fdpass serve` on a fresh private address, written to address. */
pid_t	 start_broker(const struct bench *b, char *address, size_t len);

/* Connect to a broker, or die. */
int	 connect_broker(const char *address);

/* One request that must succeed; fds a reply carries are closed. */
void	 call(int sock, uint16_t op, uint32_t flags, const char *name,
	    const int *fds, size_t nfds);

/* Store nfds copies of fd under name, replacing what was there. */
void	 store_copies(int sock, const char *name, int fd, size_t nfds);

/* ---- the sections ---- */

/* scale.c: how many fds sections 5 and 8 hold under this run's limit. */
size_t	 scale_held(const struct bench *b);

/* scale.c, 5: latency and memory at scale, and among idle clients. */
void	 bench_scale(struct bench *b);

/* cli.c, 6: fdpass send + exec against the exec floor and s6-fdholder. */
void	 bench_cli(struct bench *b);

/* restart.c, 7: HTTP latency while a server restarts, by run and by exec. */
void	 bench_restarts(struct bench *b);

/* takeover.c, 8: a client's wait during a takeover; transfer's speed. */
void	 bench_takeover(struct bench *b);

/* fdpass-bench --httpd DELAY_MS: section 7's server, on LISTEN_FDS fd 3. */
int	 bench_httpd(int argc, char **argv);

#endif
