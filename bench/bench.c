/*
 * bench.c: `make bench`, fdpass measured against the physical limit (a raw
 * SCM_RIGHTS ping-pong), against itself at scale, and against s6-fdholder,
 * with each of issue 7's targets checked. It starts its own brokers on
 * private abstract addresses and stops them.
 *
 * Usage: fdpass-bench [-s SECTIONS] FDPASS-PROGRAM
 * (fdpass-bench --httpd is section 7's server; see restart.c.)
 * Exit status: 0 when every target is met, 1 when one is missed, 3 when the
 * benchmark itself could not run.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

/* How many fds the scale test holds, and the fd limit it asks for. */
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

/* The figures of one latency measurement, in nanoseconds. */
struct stats {
	double	median;
	double	p99;
	double	rate;		/* operations per second */
};

/* Every reply lands here: 64 KiB is too much to put on the stack each call. */
static struct fdp_reply reply;

/* The daemons running now, so that no way out leaves one behind. */
#define MAX_DAEMONS	4
static pid_t daemons[MAX_DAEMONS];

/* Nothing can be measured after this: say why and stop. */
void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;
	size_t i;

	fprintf(stderr, "fdpass-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	for (i = 0; i < MAX_DAEMONS; i++)
		if (daemons[i] > 0)
			kill(daemons[i], SIGTERM);
	exit(3);
}

/* Every figure is taken on the monotonic clock. */
long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* qsort's comparison for samples. */
int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of a few runs' rates. */
static double
median_rate(double *rates, size_t n)
{
	qsort(rates, n, sizeof(*rates), cmp_double);
	return rates[n / 2];
}

/*
 * Median and 99th percentile of n per-operation samples, and the rate: the
 * median of the rates of ROUNDS runs, each a stretch of consecutive samples,
 * so that one stretch a noisy neighbour slowed does not decide it.
 */
static struct stats
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
	s.rate = median_rate(rates, ROUNDS);
	qsort(ns, n, sizeof(*ns), cmp_double);
	s.median = ns[n / 2];
	s.p99 = ns[n * 99 / 100];
	return s;
}

/* ---- the report ---- */

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
static void
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
static void
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

/* ---- processes ---- */

/*
 * Start argv with in_fd as stdin, out_fd as stdout and fd3 at 3 (each when
 * not -1); the child inherits nothing else we hold: everything is cloexec.
 */
pid_t
spawn(const char *const argv[], int in_fd, int out_fd, int fd3)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&fa);
	if (in_fd != -1)
		posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	if (out_fd != -1)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	if (fd3 != -1)
		posix_spawn_file_actions_adddup2(&fa, fd3, 3);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL,
	    (char *const *)(uintptr_t)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		die("cannot run %s: %s", argv[0], strerror(rc));
	return pid;
}

/* Wait for a child; anything but exit 0 stops the benchmark. */
static void
reap(pid_t pid, const char *what)
{
	int status;

	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			die("waiting for %s: %s", what, strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("%s failed (wait status %d)", what, status);
}

/* Run a command to completion with stdin from in_fd. */
static void
run(const char *const argv[], int in_fd)
{
	reap(spawn(argv, in_fd, -1, -1), argv[0]);
}

/* Replace one entry of the daemon list: (0, pid) adds, (pid, 0) removes. */
void
track_daemon(pid_t old, pid_t new)
{
	size_t i;

	for (i = 0; i < MAX_DAEMONS; i++)
		if (daemons[i] == old) {
			daemons[i] = new;
			return;
		}
	die("more than %d daemons at once", MAX_DAEMONS);
}

/* Start a daemon whose readiness is a line written to ready_at (1 or 3). */
static pid_t
start_daemon(const char *const argv[], int ready_at, int devnull)
{
	char line[8];
	pid_t pid;
	int p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		die("pipe: %s", strerror(errno));
	pid = spawn(argv, devnull, ready_at == 1 ? p[1] : -1,
	    ready_at == 3 ? p[1] : -1);
	close(p[1]);
	if (read(p[0], line, sizeof(line)) <= 0)
		die("%s did not become ready", argv[0]);
	close(p[0]);
	track_daemon(0, pid);
	return pid;
}

/* SIGTERM ends a daemon cleanly; wait for it. */
void
stop_daemon(pid_t pid, const char *what)
{
	track_daemon(pid, 0);
	kill(pid, SIGTERM);
	reap(pid, what);
}

/*
 * Start `fdpass serve` on a fresh private abstract address, allowed to hold
 * as many fds as the limit lets it (its default --max-fds keeps half back
 * for clients, less than the scale section holds).
 */
static pid_t
start_broker(const struct bench *b, char *address, size_t len)
{
	static unsigned serial;
	char max_fds[32];
	const char *argv[] = { b->fdpass, "serve", "-s", address,
	    "--ready-fd", "3", "--max-fds", max_fds, NULL };

	snprintf(address, len, "@fdpass-bench-%ld-%u", (long)getpid(),
	    serial++);
	snprintf(max_fds, sizeof(max_fds), "%llu",
	    (unsigned long long)b->nofile);
	return start_daemon(argv, 3, b->devnull);
}

/*
 * Latencies are compared with a ping-pong between two processes the
 * scheduler keeps on one CPU; a broker and its client split across CPUs pay
 * a cross-CPU wake-up on every request instead (about 45 us on the 2-vCPU
 * VM this was written on), which says nothing about fdpass. So the latency
 * sections run the benchmark and its brokers (which inherit it) on CPU 0,
 * the concurrency and command-line sections on every CPU.
 */
void
place(pid_t broker, int one_cpu)
{
	cpu_set_t set;
	long i, n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&set);
	for (i = 0; i < (one_cpu ? 1 : n) && i < CPU_SETSIZE; i++)
		CPU_SET(i, &set);
	if (sched_setaffinity(0, sizeof(set), &set) == -1 ||
	    sched_setaffinity(broker, sizeof(set), &set) == -1)
		die("sched_setaffinity: %s", strerror(errno));
}

/* A process's resident set, in bytes, from /proc/PID/status. */
static long
rss_bytes(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	if (kb < 0)
		die("%s: no VmRSS", path);
	return kb * 1024;
}

/* How many fds a process has open. */
static int
fd_count(pid_t pid)
{
	char path[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	if ((d = opendir(path)) == NULL)
		die("%s: %s", path, strerror(errno));
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Wait until a broker has dropped the clients that left (10 s at most). */
static void
wait_fd_count(pid_t pid, int n)
{
	int tries;

	for (tries = 0; fd_count(pid) > n; tries++) {
		if (tries == 10000)
			die("the broker did not drop its clients");
		usleep(1000);
	}
}

/* ---- requests ---- */

/* Connect to a broker; the benchmark cannot go on without it. */
int
connect_broker(const char *address)
{
	int sock = fdp_client_connect(address);

	if (sock < 0)
		die("cannot reach the broker at %s: %s", address,
		    fdp_strerror(sock));
	return sock;
}

/* One request that must succeed; any fds the reply carries are closed. */
void
call(int sock, uint16_t op, uint32_t flags, const char *name, const int *fds,
    size_t nfds)
{
	int rc = fdp_call(sock, op, flags, name, fds, nfds, &reply);

	if (rc != 0)
		die("%s: %s", name, fdp_strerror(rc));
	if (reply.h.status != FDP_S_OK)
		die("%s: %s", name, fdp_status_text(reply.h.status));
	fdp_close_fds(reply.fds, reply.nfds);
}

/* Store nfds copies of fd under name (replacing what was there). */
static void
store_copies(int sock, const char *name, int fd, size_t nfds)
{
	int fds[FDP_MAX_FDS];
	size_t i;

	for (i = 0; i < nfds; i++)
		if ((fds[i] = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
			die("dup: %s (raise the fd limit)", strerror(errno));
	call(sock, FDP_OP_STORE, FDP_F_REPLACE, name, fds, nfds);
	fdp_close_fds(fds, nfds);
}

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

/* Do one operation of a probe: a request (stores replace), or a ping-pong. */
static void
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
static void
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
static void
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
static void
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
static void
time_probes(struct probe *p, size_t np, size_t n, struct stats *st)
{
	size_t k, r, block = n / ROUNDS;

	probes_start(p, np, n);
	for (r = 0; r < ROUNDS; r++)
		for (k = 0; k < np; k++)
			time_block(&p[k], r * block, (r + 1) * block);
	probes_finish(p, np, block * ROUNDS, st);
}

/* ---- 1. the limit: raw SCM_RIGHTS ping-pong ---- */

/* The far side of the ping-pong: send back what arrives, fds and all. */
static void __attribute__((noreturn))
echo_peer(int sock)
{
	unsigned char buf[16];
	int fds[FDP_MAX_FDS];
	size_t nfds;
	ssize_t n;

	for (;;) {
		nfds = FDP_MAX_FDS;
		if ((n = fdp_recv_msg(sock, buf, sizeof(buf), fds, &nfds)) <= 0)
			_exit(0);
		fdp_send_msg(sock, buf, (size_t)n, fds, nfds);
		fdp_close_fds(fds, nfds);
	}
}

/* A process at the other end of a socketpair that echoes; returns our end. */
static int
raw_peer_start(pid_t *pid)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		die("socketpair: %s", strerror(errno));
	if ((*pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (*pid == 0) {
		close(sv[0]);
		echo_peer(sv[1]);
	}
	close(sv[1]);
	return sv[0];
}

/* ---- 3. concurrency ---- */

/* One of several clients: retrieve as fast as it can once told to go. */
static void __attribute__((noreturn))
busy_client(const char *address, int ready, int go, int result)
{
	int sock = connect_broker(address);
	double rate;
	long long start, end, count = 0;
	char c;

	call(sock, FDP_OP_RETRIEVE, 0, "one", NULL, 0);
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 0)
		_exit(3);
	start = now_ns();
	end = start + RATE_RUN_NS;
	do {
		call(sock, FDP_OP_RETRIEVE, 0, "one", NULL, 0);
		count++;
	} while (now_ns() < end);
	rate = (double)count * 1e9 / (double)(now_ns() - start);
	_exit(write(result, &rate, sizeof(rate)) == sizeof(rate) ? 0 : 3);
}

/* Aggregate retrieves per second of nclients clients running at once. */
static double
concurrent_rate(const struct bench *b, int nclients)
{
	int ready[2], go[2], result[2], i;
	double rate, total = 0;
	pid_t *pids;
	char c;

	if ((pids = calloc((size_t)nclients, sizeof(*pids))) == NULL)
		die("%s", strerror(ENOMEM));
	if (pipe2(ready, O_CLOEXEC) == -1 || pipe2(go, O_CLOEXEC) == -1 ||
	    pipe2(result, O_CLOEXEC) == -1)
		die("pipe: %s", strerror(errno));
	for (i = 0; i < nclients; i++) {
		if ((pids[i] = fork()) == -1)
			die("fork: %s", strerror(errno));
		if (pids[i] == 0) {
			close(go[1]);
			busy_client(b->address, ready[1], go[0], result[1]);
		}
	}
	close(ready[1]);
	close(go[0]);
	close(result[1]);
	for (i = 0; i < nclients; i++)
		if (read(ready[0], &c, 1) != 1)
			die("a client did not start");
	close(go[1]);
	for (i = 0; i < nclients; i++) {
		if (read(result[0], &rate, sizeof(rate)) != sizeof(rate))
			die("a client did not report");
		total += rate;
	}
	for (i = 0; i < nclients; i++)
		reap(pids[i], "a client");
	close(ready[0]);
	close(result[0]);
	free(pids);
	return total;
}

/* Client counts the concurrency lines compare. */
static const int client_counts[] = { 1, 8, 64 };
#define NCOUNTS	(sizeof(client_counts) / sizeof(client_counts[0]))

/* The median over RATE_RUNS runs of each count's rate, runs interleaved. */
static void
concurrent_medians(const struct bench *b, double *medians)
{
	double rates[NCOUNTS][RATE_RUNS];
	size_t i, k;

	for (i = 0; i < RATE_RUNS; i++)
		for (k = 0; k < NCOUNTS; k++)
			rates[k][i] = concurrent_rate(b, client_counts[k]);
	for (k = 0; k < NCOUNTS; k++)
		medians[k] = median_rate(rates[k], RATE_RUNS);
}

/* ---- 5. scale ---- */

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

/* ---- 6. the command line ---- */

/* An s6-fdholder-daemon in a private directory, allowing our uid. */
struct s6 {
	char	dir[64];
	char	sock[96];
	pid_t	pid;
};

/* Write a one-line file, making the directories on the way. */
static void
write_rule(const char *dir, const char *rel, const char *text)
{
	char path[256], *p;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (p = path + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST)
			die("%s: %s", path, strerror(errno));
		*p = '/';
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die("%s: %s", path, strerror(errno));
	close(fd);
}

/* Start s6-fdholder-daemon if s6 is installed; 0 if it is not. */
static int
s6_start(const struct bench *b, struct s6 *s)
{
	static const char *const rules[][2] = {
		{ "allow", "" },
		{ "env/S6_FDHOLDER_STORE_REGEX", ".*\n" },
		{ "env/S6_FDHOLDER_RETRIEVE_REGEX", ".*\n" },
	};
	char dir[128], rel[128];
	const char *argv[] = { "s6-fdholder-daemon", "-1",
	    "-i", dir, s->sock, NULL };
	size_t i;

	if (system("command -v s6-fdholder-daemon >/dev/null") != 0)
		return 0;
	snprintf(s->dir, sizeof(s->dir), "/tmp/fdpass-bench-XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		die("mkdtemp: %s", strerror(errno));
	snprintf(dir, sizeof(dir), "%s/rules", s->dir);
	snprintf(s->sock, sizeof(s->sock), "%s/s6.sock", s->dir);
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		snprintf(rel, sizeof(rel), "uid/%ld/%s", (long)getuid(),
		    rules[i][0]);
		write_rule(dir, rel, rules[i][1]);
	}
	s->pid = start_daemon(argv, 1, b->devnull);
	return 1;
}

/* nftw's callback: remove one entry, deepest first. */
static int
remove_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
s6_stop(struct s6 *s)
{
	stop_daemon(s->pid, "s6-fdholder-daemon");
	nftw(s->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The three ways to get an fd from one command into another's exec. */
enum cli_kind { CLI_FLOOR, CLI_FDPASS, CLI_S6, CLI_KINDS };

/* One round of kind k, timed. */
static double
cli_round(const struct bench *b, const struct s6 *s, enum cli_kind k)
{
	const char *const floor[] = { "/bin/true", NULL };
	const char *const send[] = { b->fdpass, "send", "-s",
	    b->address, "--replace", "cli", NULL };
	const char *const exec[] = { b->fdpass, "exec", "-s",
	    b->address, "cli", "--", "/bin/true", NULL };
	const char *const store[] = { "s6-fdholder-store",
	    s->sock, "cli", NULL };
	const char *const retrieve[] = { "s6-fdholder-retrieve", "-D",
	    s->sock, "cli", "/bin/true", NULL };
	long long t = now_ns();

	switch (k) {
	case CLI_FLOOR:
		run(floor, b->devnull);
		run(floor, b->devnull);
		run(floor, b->devnull);
		break;
	case CLI_FDPASS:
		run(send, b->devnull);
		run(exec, b->devnull);
		break;
	case CLI_S6:
		run(store, b->devnull);
		run(retrieve, b->devnull);
		break;
	case CLI_KINDS:
		break;
	}
	return (double)(now_ns() - t);
}

/* Rounds of each kind, interleaved so that drift hits them alike. */
static void
bench_cli(struct bench *b)
{
	static double ns[CLI_KINDS][CLI_SAMPLES];
	struct stats st[CLI_KINDS];
	struct s6 s;
	int have_s6 = s6_start(b, &s);
	size_t i;
	int k;

	for (i = 0; i < CLI_SAMPLES + CLI_SAMPLES / 10; i++)
		for (k = 0; k < CLI_KINDS; k++)
			if (k != CLI_S6 || have_s6)
				ns[k][i % CLI_SAMPLES] = cli_round(b, &s, k);
	for (k = 0; k < CLI_KINDS; k++)
		st[k] = stats_of(ns[k], CLI_SAMPLES);
	report_latency(b, "6 floor: three execs of /bin/true", &st[CLI_FLOOR],
	    "(reference)", NULL, 0);
	report_latency(b, "6 fdpass send + fdpass exec /bin/true",
	    &st[CLI_FDPASS], "the floor", &st[CLI_FLOOR], 1.1);
	if (!have_s6) {
		report(b, "6 s6-fdholder-store + -retrieve", "skipped",
		    "s6 not installed", 0, "", 1);
		return;
	}
	report_latency(b, "6 s6-fdholder-store + -retrieve -D /bin/true",
	    &st[CLI_S6], "the floor", &st[CLI_FLOOR], 0);
	report_latency(b, "6 fdpass pair vs the s6 pair", &st[CLI_FDPASS],
	    "s6's pair", &st[CLI_S6], 0.9);
	s6_stop(&s);
}

/* ---- the run ---- */

/* Raise the fd limit as far as the scale test needs and we may. */
static void
raise_nofile(struct bench *b)
{
	struct rlimit rl;
	rlim_t want = WANT_NOFILE;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max < want) {
		rl.rlim_max = want;
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	setrlimit(RLIMIT_NOFILE, &rl);
	b->nofile = rl.rlim_cur;
}

/*
 * How the fdpass under test was linked, which section 6 depends on: whether
 * its ELF program headers ask for a dynamic loader.
 */
static const char *
linkage(const char *path)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	const char *what = "of unknown linkage";
	int fd, i;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return what;
	if (pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) &&
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64) {
		what = "linked statically";
		for (i = 0; i < eh.e_phnum; i++)
			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff +
			    (Elf64_Off)i * eh.e_phentsize)) ==
			    (ssize_t)sizeof(ph) && ph.p_type == PT_INTERP)
				what = "linked dynamically";
	}
	close(fd);
	return what;
}

/* Name the machine the figures come from. */
static void
print_machine(const struct bench *b)
{
	char line[256], model[256] = "unknown CPU", kernel[256] = "";
	FILE *f;

	if ((f = fopen("/proc/cpuinfo", "re")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "model name : %255[^\n]", model) == 1)
				break;
		fclose(f);
	}
	if ((f = fopen("/proc/sys/kernel/osrelease", "re")) != NULL) {
		if (fgets(kernel, sizeof(kernel), f) != NULL)
			kernel[strcspn(kernel, "\n")] = '\0';
		fclose(f);
	}
	printf("fdpass-bench: %ld x %s, Linux %s\n", sysconf(_SC_NPROCESSORS_ONLN),
	    model, kernel);
	printf("%s: %s\n", b->fdpass, linkage(b->fdpass));
	printf("sections 1, 2, 4 and 5 run on CPU 0 (the benchmark and its "
	    "brokers), 3, 6 and 7 on every CPU\n");
	printf("RLIMIT_NOFILE %llu for the benchmark and its brokers",
	    (unsigned long long)b->nofile);
	if (b->nofile < SCALE_FDS + SCALE_SLACK)
		printf(" (raising the hard limit was refused: no "
		    "CAP_SYS_RESOURCE);\nthe scale lines hold %llu fds, "
		    "not %d", (unsigned long long)b->nofile - SCALE_SLACK,
		    SCALE_FDS);
	printf("\n\n");
	printf("| %-44s | %-26s | %-22s | %6s | %-8s | %-4s |\n", "measure",
	    "figure", "reference", "ratio", "target", "met");
	printf("|%.46s|%.28s|%.24s|%.8s|%.10s|%.6s|\n", "--------------------"
	    "----------------------------", "------------------------------",
	    "--------------------------", "----------", "------------",
	    "--------");
}

/* 1, 2 and 4: the raw limit and one client's requests against it. */
static void
bench_one_client(struct bench *b)
{
	struct probe p[4];
	struct stats st[4];
	int fds[FDP_MAX_FDS];
	pid_t raw;
	size_t i;

	for (i = 0; i < FDP_MAX_FDS; i++)
		fds[i] = b->sample_fd;
	memset(p, 0, sizeof(p));
	p[0].sock = raw_peer_start(&raw);
	p[0].raw = 1;
	p[1].sock = connect_broker(b->address);
	p[1].op = FDP_OP_RETRIEVE;
	p[2].sock = p[1].sock;
	p[2].op = FDP_OP_STORE;
	p[0].fds = p[2].fds = fds;
	p[0].nfds = p[2].nfds = 1;
	p[1].name = p[2].name = "one";
	store_copies(p[1].sock, "one", b->sample_fd, 1);
	time_probes(p, 3, LATENCY_SAMPLES, st);
	report_latency(b, "1 raw SCM_RIGHTS ping-pong, 1 fd each way", &st[0],
	    "(reference)", NULL, 0);
	report_latency(b, "2 broker retrieve (1 fd back), 1 client", &st[1],
	    "raw, 1 fd", &st[0], 1.5);
	report_rate(b, "2 broker retrieve, requests per second", st[1].rate,
	    "req/s", "raw round trips/s", st[0].rate, 0);
	report_latency(b, "2 broker store --replace (1 fd), 1 client", &st[2],
	    "raw, 1 fd", &st[0], 1.5);
	report_rate(b, "2 broker store, requests per second", st[2].rate,
	    "req/s", "raw round trips/s", st[0].rate, 0);
	p[0].nfds = p[2].nfds = FDP_MAX_FDS;
	p[1].name = p[2].name = "bulk";
	store_copies(p[1].sock, "bulk", b->sample_fd, FDP_MAX_FDS);
	time_probes(p, 3, BULK_SAMPLES, st);
	report_latency(b, "1 raw SCM_RIGHTS ping-pong, 253 fds each way",
	    &st[0], "(reference)", NULL, 0);
	report_rate(b, "4 bulk retrieve, 253-fd groups: fds moved/s",
	    st[1].rate * FDP_MAX_FDS, "fds/s", "raw 253: fds moved/s",
	    st[0].rate * 2 * FDP_MAX_FDS, 0);
	report_rate(b, "4 bulk store, 253-fd groups: fds moved/s",
	    st[2].rate * FDP_MAX_FDS, "fds/s", "raw 253: fds moved/s",
	    st[0].rate * 2 * FDP_MAX_FDS, 0);
	close(p[0].sock);
	close(p[1].sock);
	reap(raw, "the ping-pong peer");
}

/* 3: several clients at once against one. */
static void
bench_concurrency(struct bench *b)
{
	double rate[NCOUNTS];

	concurrent_medians(b, rate);
	report_rate(b, "3 1 client: retrieves/s", rate[0], "req/s",
	    "(reference)", 0, 0);
	report_rate(b, "3 8 clients at once: retrieves/s in all", rate[1],
	    "req/s", "1 client", rate[0], 1.3);
	report_rate(b, "3 64 clients at once: retrieves/s in all", rate[2],
	    "req/s", "1 client", rate[0], 0);
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

/* Whether the run includes a section, named by its digit. */
static int
wanted(const char *sections, char digit)
{
	return sections == NULL || strchr(sections, digit) != NULL;
}

int
main(int argc, char **argv)
{
	const char *sections = NULL;
	struct bench b;
	struct scale sc;
	size_t held;
	int p[2];

	if (argc >= 2 && strcmp(argv[1], "--httpd") == 0)
		return bench_httpd(argc, argv);
	if (argc == 4 && strcmp(argv[1], "-s") == 0) {
		sections = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: fdpass-bench [-s SECTIONS] "
		    "FDPASS-PROGRAM\n  -s SECTIONS  only these, e.g. 36 "
		    "(1, 2 and 4 run together)\n");
		return 3;
	}
	memset(&b, 0, sizeof(b));
	b.fdpass = argv[1];
	signal(SIGPIPE, SIG_IGN);
	raise_nofile(&b);
	if ((b.devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    pipe2(p, O_CLOEXEC) == -1)
		die("setting up: %s", strerror(errno));
	b.sample_fd = p[0];
	print_machine(&b);
	b.broker = start_broker(&b, b.address, sizeof(b.address));
	store_copies(connect_broker(b.address), "one", b.sample_fd, 1);
	place(b.broker, 1);
	if (wanted(sections, '1') || wanted(sections, '2') ||
	    wanted(sections, '4'))
		bench_one_client(&b);
	if (wanted(sections, '3')) {
		place(b.broker, 0);
		bench_concurrency(&b);
		place(b.broker, 1);
	}
	held = b.nofile >= SCALE_FDS + SCALE_SLACK ? SCALE_FDS :
	    (size_t)b.nofile - SCALE_SLACK;
	if (wanted(sections, '5')) {
		sc = scale_run(&b, FDP_MAX_FDS, held);
		report_scale(&b, &sc, FDP_MAX_FDS);
		sc = scale_run(&b, 1, held);
		report_scale(&b, &sc, 1);
		bench_idle_clients(&b);
	}
	if (wanted(sections, '6')) {
		place(b.broker, 0);
		bench_cli(&b);
	}
	if (wanted(sections, '7')) {
		place(b.broker, 0);
		bench_restarts(&b);
	}
	stop_daemon(b.broker, "fdpass serve");
	printf("\n%d of %d targets met\n", b.checked - b.missed, b.checked);
	return b.missed == 0 ? 0 : 1;
}
