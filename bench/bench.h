/*
 * bench.h: what the benchmark's sections share: the run's state, the
 * report table, processes, and the broker's requests (bench.c).
 */
#ifndef FDPASS_BENCH_H
#define FDPASS_BENCH_H

#include <sys/resource.h>
#include <sys/types.h>

#include "fdpass.h"

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

/* Nothing can be measured after this: say why, stop the daemons, exit 3. */
void	 die(const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 1, 2)));

/* The monotonic clock, in nanoseconds. */
long long now_ns(void);

/* qsort's comparison of doubles. */
int	 cmp_double(const void *a, const void *b);

/*
 * One line of the table: a figure, its reference, the ratio (none when 0),
 * the target ("" for none) and whether it is met.
 */
void	 report(struct bench *b, const char *label, const char *figure,
	    const char *ref, double ratio, const char *target, int met);

/* Start argv with in_fd, out_fd, fd3 at 0, 1, 3 (each when not -1). */
pid_t	 spawn(const char *const argv[], int in_fd, int out_fd, int fd3);

/* Keep the list of daemons die() stops: (0, pid) adds, (pid, 0) removes. */
void	 track_daemon(pid_t old, pid_t new);

/* Stop a daemon with SIGTERM; anything but exit 0 stops the benchmark. */
void	 stop_daemon(pid_t pid, const char *what);

/* Run the benchmark and broker on CPU 0 (one_cpu) or on every CPU. */
void	 place(pid_t broker, int one_cpu);

/* Connect to a broker, or die. */
int	 connect_broker(const char *address);

/* One request that must succeed; fds a reply carries are closed. */
void	 call(int sock, uint16_t op, uint32_t flags, const char *name,
	    const int *fds, size_t nfds);

/* ---- restart.c: section 7 ---- */

/* 7: HTTP latency while a server restarts, through run and through exec. */
void	 bench_restarts(struct bench *b);

/* fdpass-bench --httpd DELAY_MS: section 7's server, on LISTEN_FDS fd 3. */
int	 bench_httpd(int argc, char **argv);

#endif
