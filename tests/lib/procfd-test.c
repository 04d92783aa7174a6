/*
 * procfd-test: lib/procfd.c and lib/procinfo.c, another process's fds:
 * opening a process by handle, listing and copying its fds, describing
 * them from a copy or from /proc alone, and a process that exits midway.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "tap.h"

/* The child's fds: a pipe's read end with bytes queued, a TCP listener. */
static int child_pipe, child_listener;

/* A child that holds the fds above and waits to be killed. */
static pid_t
start_child(void)
{
	struct sockaddr_in sin;
	int p[2], ready[2];
	char c;
	pid_t pid;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (pipe(p) == -1 || write(p[1], "queued", 6) != 6 || pipe(ready) == -1 ||
	    (child_listener = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(child_listener, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(child_listener, 4) == -1)
		bail("set up the child's fds");
	child_pipe = p[0];
	if ((pid = fork()) == -1)
		bail("fork");
	if (pid == 0) {
		close(ready[0]);
		close(ready[1]);
		for (;;)
			pause();
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 0)
		bail("wait for the child");
	close(ready[0]);
	close(p[1]);
	return pid;
}

/* The value of key in d, or "" if d has no such field. */
static const char *
field(const struct fdp_desc *d, const char *key)
{
	size_t i;

	for (i = 0; i < d->nfields; i++)
		if (strcmp(d->fields[i].key, key) == 0)
			return d->fields[i].value;
	return "";
}

/* Whether two descriptions say the same, field by field. */
static int
same_desc(const struct fdp_desc *a, const struct fdp_desc *b)
{
	size_t i;

	if (strcmp(a->kind, b->kind) != 0 || a->nfields != b->nfields)
		return 0;
	for (i = 0; i < a->nfields; i++)
		if (strcmp(a->fields[i].key, b->fields[i].key) != 0 ||
		    strcmp(a->fields[i].value, b->fields[i].value) != 0)
			return 0;
	return 1;
}

/* A listener's fields only the socket itself can tell (lib/sockinfo.c). */
static int
asked_only(const char *key)
{
	return strcmp(key, "backlog") == 0 || strcmp(key, "pending") == 0 ||
	    strcmp(key, "reuseport") == 0 || strcmp(key, "v6only") == 0;
}

/*
 * Whether b, from /proc alone, says what a does but the fields only the
 * socket itself tells, which b names in its last field, unread.
 */
static int
same_but_asked(const struct fdp_desc *a, const struct fdp_desc *b,
    const char *unread)
{
	size_t i, j = 0;

	if (strcmp(a->kind, b->kind) != 0)
		return 0;
	for (i = 0; i < a->nfields; i++) {
		if (asked_only(a->fields[i].key))
			continue;
		if (j >= b->nfields ||
		    strcmp(a->fields[i].key, b->fields[j].key) != 0 ||
		    strcmp(a->fields[i].value, b->fields[j].value) != 0)
			return 0;
		j++;
	}
	return j + 1 == b->nfields &&
	    strcmp(b->fields[j].key, "unread") == 0 &&
	    strcmp(b->fields[j].value, unread) == 0;
}

static void
test_copy(pid_t child)
{
	static struct fdp_desc mine, theirs;
	struct fdp_proc p;
	int *fds, n, i, copy, found = 0;

	ok(fdp_proc_open(child, &p) == 0 && !p.self && p.dirfd >= 0,
	    "a child opens by handle");
	n = fdp_proc_fds(&p, &fds);
	for (i = 0; i < n; i++)
		found += fds[i] == child_pipe || fds[i] == child_listener;
	ok(n >= 2 && found == 2, "its fds are listed (%d)", n);
	for (i = 1; i < n; i++)
		if (fds[i - 1] >= fds[i])
			break;
	ok(n > 0 && i == n, "in increasing order");
	free(fds);
	copy = fdp_proc_getfd(&p, child_pipe);
	ok(copy >= 0 && (fcntl(copy, F_GETFD) & FD_CLOEXEC),
	    "pidfd_getfd gives a close-on-exec copy");
	ok(fdp_describe(child_pipe, &mine) == 0 &&
	    fdp_proc_describe(&p, child_pipe, &theirs) == 0 &&
	    same_desc(&mine, &theirs), "described as the fd itself is");
	ok(strcmp(field(&theirs, "queued"), "6") == 0,
	    "nothing was read from it");
	if (copy >= 0)
		close(copy);
	ok(fdp_proc_getfd(&p, 999) == FDP_ESYS && errno == EBADF,
	    "a fd not open there: EBADF");
	ok(fdp_proc_describe(&p, 999, &theirs) == FDP_ESYS && errno == EBADF,
	    "describing it: EBADF");
	fdp_proc_close(&p);
}

/* From /proc alone: a listener's every field, a pipe's unread ones named. */
static void
test_proc_alone(pid_t child)
{
	static struct fdp_desc mine, theirs;
	struct fdp_proc p;

	if (fdp_proc_open(child, &p) != 0)
		bail("open the child");
	ok(fdp_describe(child_listener, &mine) == 0 &&
	    fdp_describe_proc(&p, child_listener, "why", &theirs) == 0 &&
	    same_but_asked(&mine, &theirs, "backlog,pending,reuseport: why"),
	    "a TCP listener from the socket tables: the same fields, those "
	    "only the socket tells named unread");
	ok(fdp_describe_proc(&p, child_pipe, "because", &theirs) == 0 &&
	    strcmp(theirs.kind, "pipe") == 0 &&
	    strcmp(field(&theirs, "end"), "read") == 0 &&
	    strcmp(field(&theirs, "unread"), "pipe_size,queued: because") == 0,
	    "a pipe: what only the fd gives is named unread, with why");
	ok(fdp_describe_proc(&p, 999, "why", &theirs) == FDP_ESYS,
	    "a fd not open there fails");
	fdp_proc_close(&p);
}

/* The process goes between opening it and describing its fds. */
static void
test_exit_midway(pid_t child)
{
	static struct fdp_desc d;
	struct fdp_proc p;
	int *fds;

	if (fdp_proc_open(child, &p) != 0)
		bail("open the child");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	ok(!fdp_proc_alive(&p), "a reaped child is not alive");
	ok(fdp_proc_describe(&p, child_pipe, &d) == FDP_ESYS &&
	    errno == ESRCH, "describing its fd then: ESRCH");
	ok(fdp_proc_getfd(&p, child_pipe) == FDP_ESYS && errno == ESRCH,
	    "copying it: ESRCH");
	ok(fdp_proc_fds(&p, &fds) <= 0, "its fds are no longer listed");
	fdp_proc_close(&p);
	ok(fdp_proc_open(child, &p) == FDP_ESYS && errno == ESRCH,
	    "opening it again: ESRCH");
}

/* A thread of ours to name by its id. */
static void *
idle(void *arg)
{
	*(pid_t *)arg = gettid();
	pause();
	return NULL;
}

static void
test_self_and_threads(void)
{
	struct fdp_proc p;
	pthread_t t;
	pid_t tid = 0;
	char buf[512];

	ok(fdp_proc_open(0, &p) == 0 && p.self && p.dirfd == -1 &&
	    p.pidfd == -1, "pid 0 is this process, opened without an fd");
	fdp_proc_close(&p);
	ok(fdp_proc_open(getpid(), &p) == 0 && p.self,
	    "so is our own pid");
	fdp_proc_close(&p);
	if (pthread_create(&t, NULL, idle, &tid) != 0)
		bail("pthread_create");
	while (__atomic_load_n(&tid, __ATOMIC_SEQ_CST) == 0)
		usleep(1000);
	ok(fdp_proc_open(tid, &p) == FDP_ESYS && errno == EINVAL &&
	    p.pid == getpid(), "a thread's id: EINVAL, and its process");
	pthread_cancel(t);
	pthread_join(t, NULL);
	ok(fdp_proc_open(-5, &p) == FDP_ESYS && errno == ESRCH,
	    "a negative pid: ESRCH");
	ok(strstr(fdp_proc_explain(&p, "pidfd_getfd", ENOSYS, 1, buf,
	    sizeof(buf)), "pidfd_getfd with 5.6") != NULL,
	    "ENOSYS is explained: %s", buf);
}

int
main(void)
{
	pid_t child;

	signal(SIGPIPE, SIG_IGN);
	test_self_and_threads();
	child = start_child();
	test_copy(child);
	test_proc_alone(child);
	test_exit_midway(child);
	close(child_pipe);
	close(child_listener);
	return done_testing();
}
