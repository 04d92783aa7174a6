/*
 * proc.c: the processes the benchmark starts and what /proc says of them:
 * commands run to completion, daemons no way out leaves behind, CPU
 * placement, a process's memory and open fds.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

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
void
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
void
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
pid_t
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
 * Latencies are compared with a ping-pong between two processes the
 * scheduler keeps on one CPU; a broker and its client split across CPUs pay
 * a cross-CPU wake-up on every request instead (about 45 us on the 2-vCPU
 * VM this was written on), which says nothing about fdpass. So the latency
 * sections (and the takeover's, whose lockstep copy would otherwise pay it
 * twice a group) run the benchmark and its brokers (which inherit it) on
 * CPU 0, the concurrency, command-line and restart sections on every CPU.
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

/*
 * Run the benchmark, and what it starts from now on, on the last CPU
 * (last) or on CPU 0: a new broker taking over then runs beside the old
 * one and its client rather than in their time.
 */
void
place_self(int last)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&set);
	CPU_SET(last && n > 1 ? n - 1 : 0, &set);
	if (sched_setaffinity(0, sizeof(set), &set) == -1)
		die("sched_setaffinity: %s", strerror(errno));
}

/* A process's resident set, in bytes, from /proc/PID/status. */
long
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
int
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
void
wait_fd_count(pid_t pid, int n)
{
	int tries;

	for (tries = 0; fd_count(pid) > n; tries++) {
		if (tries == 10000)
			die("the broker did not drop its clients");
		usleep(1000);
	}
}
