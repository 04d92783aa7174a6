/*
 * place.c: the gathered fds at 3 onward and the --fd numbers, LISTEN_FDS,
 * LISTEN_PID, LISTEN_FDNAMES and LISTEN_PIDFDID set, and the exec of PROG.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"

/* The filesystem of pidfds since Linux 6.9, where each has its own inode. */
#ifndef PID_FS_MAGIC
#define PID_FS_MAGIC	0x50494446
#endif

/*
 * The inode number of a pidfd of this process, which names the process
 * for good (a pid can be reused) where pidfds live on pidfs and so have
 * inodes of their own; 0 elsewhere, or where ino_t cannot hold it.
 */
static unsigned long long
own_pidfd_id(void)
{
	unsigned long long id = 0;
	struct statfs sfs;
	struct stat st;
	int fd;

	if (sizeof(st.st_ino) < sizeof(id) ||
	    (fd = (int)syscall(SYS_pidfd_open, getpid(), 0)) == -1)
		return 0;
	if (fstatfs(fd, &sfs) == 0 && sfs.f_type == PID_FS_MAGIC &&
	    fstat(fd, &st) == 0)
		id = (unsigned long long)st.st_ino;
	close(fd);
	return id;
}

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

/*
 * LISTEN_FDS, LISTEN_PID (ours: prog runs in this process), LISTEN_FDNAMES
 * and, as systemd 258 sets it where the kernel gives pidfds inodes of their
 * own, LISTEN_PIDFDID, which libsystemd then checks too.
 */
static int
set_listen_env(const struct launch_fds *x)
{
	unsigned long long pidfd_id = own_pidfd_id();
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
	snprintf(num, sizeof(num), "%llu", pidfd_id);
	if (rc == 0)
		rc = pidfd_id != 0 ? setenv("LISTEN_PIDFDID", num, 1) :
		    unsetenv("LISTEN_PIDFDID");
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

/*
 * prog runs with the fd limit we were given, not the one raised to receive
 * groups: refuse to hand it fds at numbers it could not have, or so many
 * that it could open next to none of its own (not even its libraries).
 */
static int
check_fd_limit(const char *cmd, const int *targets, size_t n,
    const char *prog)
{
	size_t i, limit = cmd_nofile_given();
	int top = -1;

	for (i = 0; i < n; i++)
		if (targets[i] > top)
			top = targets[i];
	if (top < 0 || (size_t)top + CMD_FD_SPARE < limit)
		return 0;
	if ((size_t)top >= limit)
		cmd_warn(cmd, "%s would get fd %d, past the fd limit it runs "
		    "with (%zu: see ulimit -n); raise that limit, or pass "
		    "fewer fds", prog, top, limit);
	else
		cmd_warn(cmd, "%s would get fds up to %d, leaving it fewer "
		    "than %d free under the fd limit it runs with (%zu: see "
		    "ulimit -n); raise that limit, or pass fewer fds", prog,
		    top, CMD_FD_SPARE, limit);
	return -1;
}

/* Tell the parent through report (if any) which status prog failed with. */
static int
report_failure(int report, int status)
{
	unsigned char b = (unsigned char)status;

	if (report != -1)
		(void)!write(report, &b, 1);
	return status;
}

int
launch_exec(const struct launch_opts *o, struct launch_fds *x,
    struct launch_fds *p, const int *p_targets, char **prog, int report)
{
	size_t i, n = x->n + p->n;
	int *fds, *targets, rc = -1, saved = -1, top, err, fd;

	fds = malloc((n + 1) * sizeof(*fds));
	targets = malloc((n + 1) * sizeof(*targets));
	if (fds != NULL && targets != NULL) {
		for (i = 0; i < n; i++) {
			fds[i] = i < x->n ? x->fds[i] : p->fds[i - x->n];
			targets[i] = i >= x->n ? p_targets[i - x->n] :
			    o->inetd ? 0 : FDP_LISTEN_FDS_START + (int)i;
		}
		if (check_fd_limit(o->cmd, targets, n, prog[0]) == -1) {
			free(fds);
			free(targets);
			return report_failure(report, EXIT_SYSTEM);
		}
		top = above_targets(targets, n);
		saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, top);
		if (report != -1 &&
		    (fd = fcntl(report, F_DUPFD_CLOEXEC, top)) != -1) {
			close(report);
			report = fd;
		}
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
		rc = cmd_nofile_as_given(1);	/* prog gets the limit we got */
	if (rc == 0)
		execvp(prog[0], prog);
	err = errno;
	cmd_nofile_as_given(0);		/* room to give the groups back */
	stderr_back(saved, p);
	if (rc == -1) {
		cmd_warn(o->cmd, "cannot pass the file descriptors on: %s",
		    strerror(err));
		return report_failure(report, EXIT_SYSTEM);
	}
	cmd_warn(o->cmd, "cannot run %s: %s", prog[0], strerror(err));
	return report_failure(report, err == ENOENT ? 127 : 126);
}
