/*
 * place.c: putting the gathered fds at the numbers a program expects (3
 * onward, the --fd numbers) and setting LISTEN_FDS, LISTEN_PID and
 * LISTEN_FDNAMES for it, then executing it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"

/* The lowest number above every target, where fds wait to be placed. */
static int
above_targets(const int *targets, size_t n)
{
	int top = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (targets[i] >= top)
			top = targets[i] + 1;
	return top;
}

/*
 * Put fds[i] at targets[i] without close-on-exec. Every fd first moves to
 * top or above, so no move overwrites a fd still to move.
 */
static int
place_fds(int *fds, const int *targets, size_t n, int top)
{
	size_t i;
	int fd;

	for (i = 0; i < n; i++) {
		if ((fd = fcntl(fds[i], F_DUPFD_CLOEXEC, top)) == -1)
			return -1;
		close(fds[i]);
		fds[i] = fd;
	}
	for (i = 0; i < n; i++) {
		if (dup2(fds[i], targets[i]) == -1)
			return -1;
		close(fds[i]);
		fds[i] = targets[i];
	}
	return 0;
}

/* LISTEN_FDS, LISTEN_PID (ours: prog runs in this process) and LISTEN_FDNAMES. */
static int
set_listen_env(const struct launch_fds *x)
{
	char num[32], *names, *p;
	size_t i, len = 1;
	int rc;

	for (i = 0; i < x->n; i++)
		len += strlen(x->names[i]) + 1;
	if ((names = malloc(len)) == NULL)
		return -1;
	for (p = names, i = 0; i < x->n; i++) {
		if (i > 0)
			*p++ = ':';
		p = stpcpy(p, x->names[i]);
	}
	*p = '\0';
	snprintf(num, sizeof(num), "%zu", x->n);
	rc = setenv("LISTEN_FDS", num, 1);
	snprintf(num, sizeof(num), "%ld", (long)getpid());
	if (rc == 0)
		rc = setenv("LISTEN_PID", num, 1);
	if (rc == 0)
		rc = setenv("LISTEN_FDNAMES", names, 1);
	if (rc == 0)
		rc = unsetenv("LISTEN_PIDFDID");
	free(names);
	return rc;
}

/* -E NAME=VALUE sets; -E NAME passes our value on ("" if unset). */
static int
apply_setenv(const struct launch_opts *o)
{
	const char *eq, *value;
	char name[256];
	size_t i, len;

	for (i = 0; i < o->nsetenv; i++) {
		eq = strchr(o->setenv[i], '=');
		len = eq != NULL ? (size_t)(eq - o->setenv[i]) :
		    strlen(o->setenv[i]);
		memcpy(name, o->setenv[i], len);
		name[len] = '\0';
		value = eq != NULL ? eq + 1 : getenv(name);
		if (setenv(name, value != NULL ? value : "", 1) == -1)
			return -1;
	}
	return 0;
}

/*
 * prog did not run: put the stderr this process started with (kept at
 * saved, close-on-exec) back at 2 for its own messages, moving a passed fd
 * placed there out of the way first, so that it can still be given back.
 */
static void
stderr_back(int saved, struct launch_fds *p)
{
	size_t i;
	int fd;

	if (saved == -1)
		return;
	for (i = 0; i < p->n; i++)
		if (p->fds[i] == STDERR_FILENO) {
			if ((fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC,
			    FDP_LISTEN_FDS_START)) == -1) {
				close(saved);
				return;
			}
			p->fds[i] = fd;
		}
	dup2(saved, STDERR_FILENO);
	close(saved);
}

int
launch_exec(const struct launch_opts *o, struct launch_fds *x,
    struct launch_fds *p, const int *p_targets, char **prog)
{
	size_t i, n = x->n + p->n;
	int *fds, *targets, rc = -1, saved = -1, top, err;

	fds = malloc((n + 1) * sizeof(*fds));
	targets = malloc((n + 1) * sizeof(*targets));
	if (fds != NULL && targets != NULL) {
		for (i = 0; i < n; i++) {
			fds[i] = i < x->n ? x->fds[i] : p->fds[i - x->n];
			targets[i] = i >= x->n ? p_targets[i - x->n] :
			    o->inetd ? 0 : FDP_LISTEN_FDS_START + (int)i;
		}
		top = above_targets(targets, n);
		saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, top);
		rc = place_fds(fds, targets, n, top);
		for (i = 0; i < n; i++)
			*(i < x->n ? &x->fds[i] : &p->fds[i - x->n]) = fds[i];
	}
	free(fds);
	free(targets);
	if (rc == 0 && o->inetd)
		rc = dup2(0, 1) == -1 ? -1 : 0;
	else if (rc == 0 && x->n > 0)
		rc = set_listen_env(x);
	if (rc == 0)
		rc = apply_setenv(o);
	if (rc == 0)
		execvp(prog[0], prog);
	err = errno;
	stderr_back(saved, p);
	if (rc == -1) {
		cmd_warn(o->cmd, "cannot pass the file descriptors on: %s",
		    strerror(err));
		return EXIT_SYSTEM;
	}
	cmd_warn(o->cmd, "cannot run %s: %s", prog[0], strerror(err));
	return err == ENOENT ? 127 : 126;
}
