/*
 * activation-test: lib/activation.c, reading the fds and names a process
 * inherits through LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "tap.h"

/* Open n fds at 3 onward, without close-on-exec, as a manager leaves them. */
static void
inherit(int n)
{
	int i, fd;

	for (i = 0; i < n; i++) {
		if ((fd = open("/dev/null", O_RDONLY)) == -1 ||
		    (fd != 3 + i && (dup2(fd, 3 + i) == -1 || close(fd) == -1)))
			bail("open /dev/null at 3 onward");
	}
}

/* Set the three variables; a NULL leaves one unset. */
static void
set_env(const char *fds, long pid, const char *names)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", pid);
	unsetenv("LISTEN_FDNAMES");
	if (setenv("LISTEN_FDS", fds, 1) == -1 ||
	    setenv("LISTEN_PID", buf, 1) == -1 ||
	    (names != NULL && setenv("LISTEN_FDNAMES", names, 1) == -1))
		bail("setenv");
}

/* Whether every variable of the protocol is gone. */
static int
env_gone(void)
{
	return getenv("LISTEN_FDS") == NULL && getenv("LISTEN_PID") == NULL &&
	    getenv("LISTEN_FDNAMES") == NULL && getenv("LISTEN_PIDFDID") == NULL;
}

static void
test_names(void)
{
	char **names;
	int n;

	inherit(3);
	set_env("3", (long)getpid(), "web:web:ctl");
	setenv("LISTEN_PIDFDID", "42", 1);
	n = fdp_listen_fds(&names);
	ok(n == 3, "three fds for our pid (got %d)", n);
	ok(n == 3 && strcmp(names[0], "web") == 0 &&
	    strcmp(names[1], "web") == 0 && strcmp(names[2], "ctl") == 0,
	    "their names come from LISTEN_FDNAMES");
	ok((fcntl(3, F_GETFD) & FD_CLOEXEC) && (fcntl(5, F_GETFD) & FD_CLOEXEC),
	    "the fds are close-on-exec now");
	ok(env_gone(), "the variables are removed");
	free(names);

	set_env("2", (long)getpid(), NULL);
	n = fdp_listen_fds(&names);
	ok(n == 2 && strcmp(names[0], "unknown") == 0 &&
	    strcmp(names[1], "unknown") == 0,
	    "without LISTEN_FDNAMES each fd is \"unknown\"");
	free(names);

	set_env("1", (long)getpid(), "");
	n = fdp_listen_fds(&names);
	ok(n == 1 && strcmp(names[0], "") == 0,
	    "an empty LISTEN_FDNAMES names one fd \"\"");
	free(names);
}

static void
test_not_ours(void)
{
	char **names = (char **)&names;

	set_env("3", (long)getpid() + 1, "a:b:c");
	ok(fdp_listen_fds(&names) == 0 && names == NULL,
	    "LISTEN_PID of another process: no fds");
	ok(env_gone(), "the variables are removed all the same");
	unsetenv("LISTEN_PID");
	setenv("LISTEN_FDS", "3", 1);
	ok(fdp_listen_fds(&names) == 0, "no LISTEN_PID: no fds");
	ok(fdp_listen_fds(&names) == 0, "nothing set: no fds");
	set_env("0", (long)getpid(), NULL);
	ok(fdp_listen_fds(&names) == 0, "LISTEN_FDS=0: no fds");
	set_env("x", (long)getpid(), NULL);
	ok(fdp_listen_fds(&names) == 0, "LISTEN_FDS not a number: no fds");
}

static void
test_malformed(void)
{
	char **names;

	set_env("3", (long)getpid(), "a:b");
	ok(fdp_listen_fds(&names) == FDP_EENV && names == NULL,
	    "two names for three fds: FDP_EENV");
	ok(env_gone(), "the variables are removed after an error too");
	set_env("3", (long)getpid(), "a:b:c:d");
	ok(fdp_listen_fds(&names) == FDP_EENV, "four names for three fds");
	close(5);
	set_env("3", (long)getpid(), NULL);
	ok(fdp_listen_fds(&names) == FDP_EENV,
	    "a fd that is not open: FDP_EENV");
	ok(strstr(fdp_strerror(FDP_EENV), "LISTEN_FDNAMES") != NULL,
	    "FDP_EENV has a sentence");
	close(3);
	close(4);
}

/* describe's reading: the same answers, and nothing taken. */
static void
test_peek(void)
{
	char **names;
	int n;

	inherit(2);
	set_env("2", (long)getpid(), "web:ctl");
	n = fdp_listen_fds_peek(&names);
	ok(n == 2 && strcmp(names[0], "web") == 0 &&
	    strcmp(names[1], "ctl") == 0, "peek: the fds' count and names");
	free(names);
	ok(getenv("LISTEN_FDS") != NULL && getenv("LISTEN_PID") != NULL &&
	    getenv("LISTEN_FDNAMES") != NULL, "peek leaves the variables set");
	ok((fcntl(3, F_GETFD) & FD_CLOEXEC) == 0 &&
	    (fcntl(4, F_GETFD) & FD_CLOEXEC) == 0,
	    "peek leaves the fds without close-on-exec");
	n = fdp_listen_fds(&names);
	ok(n == 2 && strcmp(names[1], "ctl") == 0,
	    "fdp_listen_fds after a peek takes them as before");
	free(names);
	set_env("2", (long)getpid(), "web");
	ok(fdp_listen_fds_peek(&names) == FDP_EENV && names == NULL,
	    "peek: a name short is FDP_EENV");
	set_env("2", (long)getpid() + 1, "a:b");
	ok(fdp_listen_fds_peek(&names) == 0 && names == NULL,
	    "peek: another process's fds are none");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	close(3);
	close(4);
}

int
main(void)
{
	test_names();
	test_not_ours();
	test_malformed();
	test_peek();
	return done_testing();
}
