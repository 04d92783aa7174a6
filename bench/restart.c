/*
 * restart.c: the benchmark's section 7, HTTP latency while a server restarts
 * by `fdpass run` and by stop-then-exec, and the small server it restarts.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

/* The start-up work the server does before it serves, in ms: a model of a
 * real server's (the issue measured lighttpd and gunicorn at 0.6-1.7 s). */
#define HTTPD_DELAY	"300"
#define HTTPD_DELAY_NS	300000000LL
#define RESTARTS	5
#define LOAD_CLIENTS	4
#define LOAD_PERIOD_NS	4000000LL	/* a request per client each 4 ms */
#define STEADY_NS	1500000000LL
#define SETTLE_NS	300000000LL	/* after a restart, before the next */
#define MAX_SAMPLES	100000
#define EVENT_WAIT_MS	30000

enum phase { PH_NONE, PH_STEADY, PH_RUN, PH_EXEC, PH_COUNT };

/* One request: the phase it started in, how it ended, how long it took. */
struct sample {
	int	phase;
	int	error;		/* 0 answered, 1 refused, 2 reset, 3 other */
	double	ms;
};

/* Shared by the benchmark and its load clients (MAP_SHARED). */
struct load {
	volatile int	phase;
	volatile int	stop;
	size_t		n;
	struct sample	s[MAX_SAMPLES];
};

/* ---- the server: fdpass-bench --httpd DELAY_MS ---- */

static volatile sig_atomic_t httpd_stop;

static void
httpd_on_term(int sig)
{
	(void)sig;
	httpd_stop = 1;
}

/* Read a request's head and answer with a three-byte page. */
static void
httpd_answer(int conn)
{
	static const char page[] = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n"
	    "Connection: close\r\n\r\nok\n";
	struct pollfd p = { conn, POLLIN, 0 };
	char buf[4096];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(buf) - 1 && poll(&p, 1, 5000) == 1 &&
	    (n = read(conn, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL) {
			(void)!write(conn, page, sizeof(page) - 1);
			break;
		}
	}
	close(conn);
}

int
bench_httpd(int argc, char **argv)
{
	const char *pid = getenv("LISTEN_PID"), *notify = getenv("NOTIFY_SOCKET");
	struct pollfd p = { FDP_LISTEN_FDS_START, POLLIN, 0 };
	struct timespec delay;
	struct sigaction sa;
	sigset_t term, orig;
	int conn, ns;

	if (argc != 3 || pid == NULL || atol(pid) != (long)getpid()) {
		fprintf(stderr, "usage: fdpass-bench --httpd DELAY_MS, with a "
		    "listening socket at fd 3 (LISTEN_FDS)\n");
		return 2;
	}
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &orig);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = httpd_on_term;
	sigaction(SIGTERM, &sa, NULL);
	delay.tv_sec = atoi(argv[2]) / 1000;
	delay.tv_nsec = (long)(atoi(argv[2]) % 1000) * 1000000;
	nanosleep(&delay, NULL);
	/* Every instance shares the socket's one open file, and expects
	 * O_NONBLOCK: another may take the connection poll woke it for. */
	fcntl(FDP_LISTEN_FDS_START, F_SETFL, O_NONBLOCK);
	if (notify != NULL && (ns = fdp_notify_connect(notify)) >= 0) {
		fdp_notify_send(ns, "READY=1", NULL, 0);
		close(ns);
	}
	while (!httpd_stop) {
		if (ppoll(&p, 1, NULL, &orig) != 1)
			continue;
		if ((conn = accept4(FDP_LISTEN_FDS_START, NULL, NULL,
		    SOCK_CLOEXEC)) != -1)
			httpd_answer(conn);
	}
	return 0;
}

/* ---- the load ---- */

/* One GET: 0 answered, 1 refused, 2 reset, 3 anything else. */
static int
http_get(const struct sockaddr_in *sin)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	struct timeval tv = { 10, 0 };
	char buf[256];
	size_t len = 0;
	ssize_t n = 0;
	int fd, rc = 3;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 3;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) == -1)
		rc = errno == ECONNREFUSED ? 1 : 3;
	else if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
		rc = errno == ECONNRESET || errno == EPIPE ? 2 : 3;
	else {
		while (len < sizeof(buf) - 1 &&
		    (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
			len += (size_t)n;
		buf[len] = '\0';
		if (n == -1)
			rc = errno == ECONNRESET ? 2 : 3;
		else
			rc = strncmp(buf, "HTTP/1.0 200", 12) == 0 ? 0 : 3;
	}
	close(fd);
	return rc;
}

/*
 * A client: a GET each LOAD_PERIOD_NS, each one recorded, until stop, or
 * until the benchmark dies (then the kernel kills it too).
 */
static void __attribute__((noreturn))
load_client(struct load *l, const struct sockaddr_in *sin, pid_t parent)
{
	long long next = now_ns(), start;
	struct timespec ts;
	size_t i;
	int phase, error;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(1);
	while (!l->stop) {
		phase = l->phase;
		start = now_ns();
		error = http_get(sin);
		if (phase != PH_NONE && (i = __atomic_fetch_add(&l->n, 1,
		    __ATOMIC_RELAXED)) < MAX_SAMPLES) {
			l->s[i].phase = phase;
			l->s[i].error = error;
			l->s[i].ms = (double)(now_ns() - start) / 1e6;
		}
		next += LOAD_PERIOD_NS;
		if (next < now_ns())
			next = now_ns();
		ts.tv_sec = next / 1000000000LL;
		ts.tv_nsec = next % 1000000000LL;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	_exit(0);
}

/* ---- the servers' restarts ---- */

/* `fdpass run`'s events, read from its stderr a line at a time. */
struct events {
	int	fd;
	char	buf[4096];
	size_t	len;
};

/* Wait for the next event line holding text; 0 at EOF, die on a timeout. */
static int
wait_event(struct events *ev, const char *text)
{
	struct pollfd p = { ev->fd, POLLIN, 0 };
	char *nl;
	ssize_t n;

	for (;;) {
		while ((nl = memchr(ev->buf, '\n', ev->len)) != NULL) {
			*nl = '\0';
			n = strstr(ev->buf, text) != NULL;
			ev->len -= (size_t)(nl + 1 - ev->buf);
			memmove(ev->buf, nl + 1, ev->len);
			if (n)
				return 1;
		}
		if (ev->len == sizeof(ev->buf))
			ev->len = 0;
		if (poll(&p, 1, EVENT_WAIT_MS) != 1)
			die("fdpass run: no \"%s\" within %d s", text,
			    EVENT_WAIT_MS / 1000);
		if ((n = read(ev->fd, ev->buf + ev->len,
		    sizeof(ev->buf) - ev->len)) <= 0)
			return 0;
		ev->len += (size_t)n;
	}
}

/* Start `fdpass run` on the stored socket; its stderr comes to ev. */
static pid_t
start_run(const struct bench *b, const char *self, struct events *ev)
{
	const char *argv[] = { b->fdpass, "run", "-s", b->address,
	    "--ready=notify", "--stop-timeout", "10", "bench-web", "--", self,
	    "--httpd", HTTPD_DELAY, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int p[2], rc;

	if (pipe2(p, O_CLOEXEC) == -1)
		die("pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, b->devnull, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	rc = posix_spawn(&pid, argv[0], &fa, NULL,
	    (char *const *)(uintptr_t)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc != 0)
		die("cannot run %s: %s", argv[0], strerror(rc));
	track_daemon(0, pid);
	ev->fd = p[0];
	ev->len = 0;
	return pid;
}

/* `fdpass exec` of the server on the stored socket, through the broker. */
static pid_t
start_exec(const struct bench *b, const char *self)
{
	const char *argv[] = { b->fdpass, "exec", "-s", b->address,
	    "bench-web", "--", self, "--httpd", HTTPD_DELAY, NULL };
	pid_t pid = spawn(argv, b->devnull, -1, -1);

	track_daemon(0, pid);
	return pid;
}

/* Stop run with SIGTERM; what it still says is read, so it never blocks. */
static void
stop_run(pid_t pid, struct events *ev)
{
	int status;

	track_daemon(pid, 0);
	kill(pid, SIGTERM);
	while (wait_event(ev, "\n"))
		continue;
	close(ev->fd);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			die("waiting for fdpass run: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("fdpass run failed (wait status %d)", status);
}

/* ---- the figures ---- */

/* The spread of a phase's answered requests, and its failures. */
struct phase_stats {
	struct spread	sp;
	size_t		n, refused_or_reset, other;
};

static struct phase_stats
phase_stats(const struct load *l, int phase)
{
	struct phase_stats st;
	size_t i, n = l->n < MAX_SAMPLES ? l->n : MAX_SAMPLES, k = 0;
	double *ms = malloc(n * sizeof(*ms) + 1);

	memset(&st, 0, sizeof(st));
	if (ms == NULL)
		die("%s", strerror(ENOMEM));
	for (i = 0; i < n; i++) {
		if (l->s[i].phase != phase)
			continue;
		st.n++;
		if (l->s[i].error == 1 || l->s[i].error == 2)
			st.refused_or_reset++;
		else if (l->s[i].error != 0)
			st.other++;
		else
			ms[k++] = l->s[i].ms;
	}
	st.sp = spread_of(ms, k);
	free(ms);
	return st;
}

/* The lines of one phase of restarts against the steady state. */
static void
report_phase(struct bench *b, const char *what, const struct phase_stats *st,
    const struct phase_stats *steady, int targets)
{
	char label[64], fig[64], ref[64];

	snprintf(label, sizeof(label), "7 HTTP during %d restarts %s", RESTARTS,
	    what);
	snprintf(ref, sizeof(ref), "steady p99 %.3f ms", steady->sp.p99);
	report(b, label, spread_text(&st->sp, fig, sizeof(fig)), ref,
	    steady->sp.p99 > 0 ? st->sp.p99 / steady->sp.p99 : 0,
	    targets ? "<= 2.0x" : "", st->sp.p99 <= 2 * steady->sp.p99);
	snprintf(label, sizeof(label), "7   %s: slowest request", what);
	snprintf(fig, sizeof(fig), "%.1f ms", st->sp.max);
	report(b, label, fig, "", 0, targets ? "<= 100ms" : "",
	    st->sp.max <= 100);
	snprintf(label, sizeof(label), "7   %s: refused or reset", what);
	snprintf(fig, sizeof(fig), "%zu of %zu (other %zu)",
	    st->refused_or_reset, st->n, st->other);
	report(b, label, fig, "", 0, targets ? "0" : "",
	    st->refused_or_reset == 0 && st->other == 0);
}

/* Each phase: the load clients record while the servers restart. */
static void
restart_phases(struct bench *b, struct load *l, const char *self)
{
	struct events ev;
	pid_t run_pid, server;
	int i;

	run_pid = start_run(b, self, &ev);
	wait_event(&ev, "ready after");
	sleep_ns(SETTLE_NS);
	l->phase = PH_STEADY;
	sleep_ns(STEADY_NS);
	l->phase = PH_RUN;
	for (i = 0; i < RESTARTS; i++) {
		kill(run_pid, SIGHUP);
		if (!wait_event(&ev, "stopped ("))
			die("fdpass run ended during a restart");
		sleep_ns(SETTLE_NS);
	}
	l->phase = PH_NONE;
	stop_run(run_pid, &ev);
	server = start_exec(b, self);
	sleep_ns(HTTPD_DELAY_NS + SETTLE_NS);
	l->phase = PH_EXEC;
	for (i = 0; i < RESTARTS; i++) {
		stop_daemon(server, "the HTTP server");
		server = start_exec(b, self);
		sleep_ns(HTTPD_DELAY_NS + SETTLE_NS);
	}
	l->phase = PH_NONE;
	stop_daemon(server, "the HTTP server");
}

void
bench_restarts(struct bench *b)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct phase_stats st[PH_COUNT];
	pid_t clients[LOAD_CLIENTS];
	char self[PATH_MAX];
	pid_t self_pid = getpid();
	struct load *l;
	ssize_t n;
	int fd, sock, i;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		die("/proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	l = mmap(NULL, sizeof(*l), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (l == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 1024) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		die("the HTTP socket: %s", strerror(errno));
	sock = connect_broker(b->address);
	call(sock, FDP_OP_STORE, FDP_F_REPLACE, "bench-web", &fd, 1);
	close(fd);
	for (i = 0; i < LOAD_CLIENTS; i++)
		if ((clients[i] = fork()) == 0)
			load_client(l, &sin, self_pid);
		else if (clients[i] == -1)
			die("fork: %s", strerror(errno));
	restart_phases(b, l, self);
	l->stop = 1;
	for (i = 0; i < LOAD_CLIENTS; i++)
		while (waitpid(clients[i], NULL, 0) == -1 && errno == EINTR)
			continue;
	call(sock, FDP_OP_DELETE, 0, "bench-web", NULL, 0);
	close(sock);
	for (i = PH_STEADY; i < PH_COUNT; i++)
		st[i] = phase_stats(l, i);
	report(b, "7 HTTP steady (run serving): p50/p99/max",
	    spread_text(&st[PH_STEADY].sp, self, sizeof(self)),
	    "(reference)", 0, "", 1);
	report_phase(b, "by run", &st[PH_RUN], &st[PH_STEADY], 1);
	report_phase(b, "stop+exec", &st[PH_EXEC], &st[PH_STEADY], 0);
	munmap(l, sizeof(*l));
}
