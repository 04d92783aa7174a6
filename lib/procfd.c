/*
 * procfd.c: another process's fds: listing them, copying them with
 * pidfd_getfd(2) without stopping or touching the process, describing
 * them, and saying why the kernel refuses when it does.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open	434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd	438
#endif

/* What decides whether we may reach into a process (ptrace(2)'s rules). */
struct ptrace_view {
	int		 have_ids;
	unsigned long	 uid[3], gid[3];	/* its real, effective, saved */
	unsigned long	 my_uid, my_gid;	/* ours, as the check counts them */
	int		 ids_differ;
	int		 undumpable;
	int		 scope;			/* Yama's ptrace_scope; -1: none */
	int		 cap;			/* we have CAP_SYS_PTRACE */
};

/* A "Key:" line of a status file, the rest of it in value; 0 if found. */
static int
status_line(int dirfd, const char *path, const char *key, char *value,
    size_t len)
{
	size_t keylen = strlen(key);
	char *line = NULL;
	size_t cap = 0;
	int fd, found = -1;
	FILE *f;

	if ((fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return -1;
	}
	while (found == -1 && getline(&line, &cap, f) > 0)
		if (strncmp(line, key, keylen) == 0 && line[keylen] == ':') {
			snprintf(value, len, "%s", line + keylen + 1);
			found = 0;
		}
	free(line);
	fclose(f);
	return found;
}

/* Whether this process holds CAP_SYS_PTRACE in its effective set. */
static int
have_cap_sys_ptrace(void)
{
	char value[64];
	unsigned long long caps;

	if (status_line(AT_FDCWD, "/proc/self/status", "CapEff", value,
	    sizeof(value)) == -1 || sscanf(value, "%llx", &caps) != 1)
		return 0;
	return (caps >> CAP_SYS_PTRACE & 1) != 0;
}

/* Yama's /proc/sys/kernel/yama/ptrace_scope, or -1 without Yama. */
static int
yama_scope(void)
{
	int scope = -1;
	FILE *f;

	if ((f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re")) == NULL)
		return -1;
	if (fscanf(f, "%d", &scope) != 1)
		scope = -1;
	fclose(f);
	return scope;
}

/*
 * Gather what ptrace's check looks at: copying an fd (attach) compares our
 * real ids with the process's, reading /proc our file-system ids (the
 * effective ones); a process not dumpable has /proc/PID owned by root.
 */
static void
ptrace_view(const struct fdp_proc *p, int attach, struct ptrace_view *v)
{
	char value[128];
	struct stat st;
	int i;

	memset(v, 0, sizeof(*v));
	v->my_uid = attach ? getuid() : geteuid();
	v->my_gid = attach ? getgid() : getegid();
	v->have_ids = status_line(p->dirfd, "status", "Uid", value,
	    sizeof(value)) == 0 && sscanf(value, "%lu %lu %lu", &v->uid[0],
	    &v->uid[1], &v->uid[2]) == 3 && status_line(p->dirfd, "status",
	    "Gid", value, sizeof(value)) == 0 && sscanf(value, "%lu %lu %lu",
	    &v->gid[0], &v->gid[1], &v->gid[2]) == 3;
	for (i = 0; v->have_ids && i < 3; i++)
		if (v->uid[i] != v->my_uid || v->gid[i] != v->my_gid)
			v->ids_differ = 1;
	v->undumpable = v->have_ids && v->uid[1] != 0 &&
	    fstat(p->dirfd, &st) == 0 && st.st_uid == 0;
	v->scope = attach ? yama_scope() : -1;
	v->cap = have_cap_sys_ptrace();
}

/* Append to a sentence being built in buf, never past len. */
static void __attribute__((format(printf, 3, 4)))
append(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/* "uid 5" when the three agree, else "uids 5/0/0 (real/effective/saved)". */
static void
append_ids(char *buf, size_t len, const char *what, const unsigned long *id)
{
	if (id[0] == id[1] && id[1] == id[2])
		append(buf, len, "%s %lu", what, id[0]);
	else
		append(buf, len, "%ss %lu/%lu/%lu (real/effective/saved)", what,
		    id[0], id[1], id[2]);
}

/* Why ptrace's rules refuse, in full, and what would permit it. */
static void
explain_ptrace(const struct fdp_proc *p, const struct ptrace_view *v,
    char *buf, size_t len)
{
	const char *sep = ": ";

	if (v->cap) {
		append(buf, len, v->scope == 3 ? ": kernel.yama.ptrace_scope "
		    "is 3, which lets no process reach into another, not even "
		    "with CAP_SYS_PTRACE" : ": refused even with CAP_SYS_PTRACE, "
		    "so a security module (SELinux, AppArmor), a seccomp filter "
		    "or a user namespace stands in the way");
		return;
	}
	if (v->ids_differ) {
		append(buf, len, "%spid %ld runs as ", sep, (long)p->pid);
		append_ids(buf, len, "uid", v->uid);
		append(buf, len, " ");
		append_ids(buf, len, "gid", v->gid);
		append(buf, len, " and this command as uid %lu gid %lu",
		    v->my_uid, v->my_gid);
		sep = "; ";
	}
	if (v->undumpable) {
		append(buf, len, "%spid %ld is not dumpable (a set-uid or "
		    "set-gid program, or one that called prctl(PR_SET_DUMPABLE, "
		    "0))", sep, (long)p->pid);
		sep = "; ";
	}
	if (v->scope >= 1) {
		append(buf, len, "%skernel.yama.ptrace_scope is %d, %s", sep,
		    v->scope, v->scope == 1 ? "which lets only a process's "
		    "ancestors reach into it" : v->scope == 2 ? "which lets only "
		    "CAP_SYS_PTRACE reach into another process" : "which lets no "
		    "process reach into another");
		sep = "; ";
	}
	if (*sep == ':')
		append(buf, len, ": not by uid, gid or dumpability, so a "
		    "security module (SELinux, AppArmor) or a seccomp filter");
	if (v->scope == 3)
		return;
	append(buf, len, "; CAP_SYS_PTRACE (root has it) would permit it");
	if (!v->undumpable && v->scope <= 1 && (v->ids_differ || v->scope == 1))
		append(buf, len, ", as would %s%s%s", v->ids_differ ? "running "
		    "as its uid and gid" : "", v->ids_differ && v->scope == 1 ?
		    " with " : "", v->scope == 1 ? "kernel.yama.ptrace_scope 0" :
		    "");
}

const char *
fdp_proc_explain(const struct fdp_proc *p, const char *op, int err,
    int attach, char *buf, size_t len)
{
	struct ptrace_view v;

	snprintf(buf, len, "%s: %s", op, strerror(err));
	if (err == ENOSYS)
		append(buf, len, ": this kernel lacks it (pidfd_open came with "
		    "Linux 5.3, pidfd_getfd with 5.6), or a seccomp filter "
		    "hides it");
	else if (err == EPERM || err == EACCES) {
		ptrace_view(p, attach, &v);
		explain_ptrace(p, &v, buf, len);
	}
	return buf;
}

/*
 * The refusal in a few words, for the unread field of every description:
 * "pidfd_getfd: Operation not permitted (uid 0, ours 1000; ptrace_scope=1;
 * no CAP_SYS_PTRACE)".
 */
static void
refuse(struct fdp_proc *p, const char *op, int err)
{
	struct ptrace_view v;
	size_t len = sizeof(p->why);
	const char *sep = " (";

	p->refused = err;
	p->refused_by = op;
	snprintf(p->why, len, "%s: %s", op, strerror(err));
	if (err != EPERM)
		return;
	ptrace_view(p, 1, &v);
	if (v.ids_differ) {
		append(p->why, len, "%sits uid/gid %lu/%lu, ours %lu/%lu", sep,
		    v.uid[0], v.gid[0], v.my_uid, v.my_gid);
		sep = "; ";
	}
	if (v.undumpable) {
		append(p->why, len, "%snot dumpable", sep);
		sep = "; ";
	}
	if (v.scope >= 1) {
		append(p->why, len, "%sptrace_scope=%d", sep, v.scope);
		sep = "; ";
	}
	append(p->why, len, "%s%s)", sep, v.cap ? "even with CAP_SYS_PTRACE" :
	    "no CAP_SYS_PTRACE");
	errno = err;
}

/*
 * The state letter of /proc/PID/stat, after the name in parentheses
 * (which may hold anything); 0 if it cannot be read: gone.
 */
static char
proc_state(const struct fdp_proc *p)
{
	char buf[512], *close_paren;
	ssize_t n;
	int fd;

	if ((fd = openat(p->dirfd, "stat", O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if ((close_paren = strrchr(buf, ')')) == NULL || close_paren[1] != ' ')
		return 0;
	return close_paren[2];
}

int
fdp_proc_alive(const struct fdp_proc *p)
{
	struct pollfd pfd = { p->pidfd, POLLIN, 0 };
	char state;

	if (p->self)
		return 1;
	if (p->pidfd != -1 && poll(&pfd, 1, 0) != 0)
		return 0;
	state = proc_state(p);
	return state != 0 && state != 'Z' && state != 'X';
}

/*
 * The process a pid's thread belongs to (Tgid), which is the pid itself
 * for a process; -1 if gone. /proc/TID works for any thread, pidfds and
 * fd tables go by process.
 */
static long
leader(const struct fdp_proc *p)
{
	char value[32];
	long tgid;

	if (status_line(p->dirfd, "status", "Tgid", value, sizeof(value)) ==
	    -1 || sscanf(value, "%ld", &tgid) != 1)
		return -1;
	return tgid;
}

int
fdp_proc_open(pid_t pid, struct fdp_proc *p)
{
	char path[32];
	long tgid = -1;
	int err;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->dirfd = -1;
	p->pidfd = -1;
	if (pid == 0 || pid == getpid()) {
		p->pid = getpid();
		p->self = 1;
		return 0;
	}
	if (pid < 0) {
		errno = ESRCH;
		return FDP_ESYS;
	}
	/* The pidfd first: if its process outlives the open below, /proc/PID is it. */
	if ((p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1 &&
	    errno == ESRCH)
		return FDP_ESYS;
	err = errno;
	snprintf(path, sizeof(path), "/proc/%ld", (long)pid);
	if ((p->dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		err = errno == ENOENT ? ESRCH : errno;
	else if ((tgid = leader(p)) != pid)
		err = tgid > 0 && fdp_proc_alive(p) ? EINVAL : ESRCH;
	else if (!fdp_proc_alive(p))
		err = ESRCH;
	else {
		if (p->pidfd == -1)
			refuse(p, "pidfd_open", err);
		return 0;
	}
	fdp_proc_close(p);
	if (err == EINVAL)
		p->pid = (pid_t)tgid;
	errno = err;
	return FDP_ESYS;
}

void
fdp_proc_close(struct fdp_proc *p)
{
	if (p->dirfd != -1)
		close(p->dirfd);
	if (p->pidfd != -1)
		close(p->pidfd);
	fdp_proc_net_free(p->net);
	p->dirfd = p->pidfd = -1;
	p->net = NULL;
}

/* qsort's order of fd numbers. */
static int
fd_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int
fdp_proc_fds(struct fdp_proc *p, int **fds)
{
	struct dirent *e;
	DIR *dir;
	int *list = NULL, *grown, fd, skip, err = 0;
	size_t n = 0, cap = 0;

	*fds = NULL;
	if (p->self)
		dir = opendir("/proc/self/fd");
	else if ((fd = openat(p->dirfd, "fd", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return FDP_ESYS;
	else if ((dir = fdopendir(fd)) == NULL)
		close(fd);
	if (dir == NULL)
		return FDP_ESYS;
	skip = p->self ? dirfd(dir) : -1;
	for (errno = 0; (e = readdir(dir)) != NULL; errno = 0) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9' ||
		    (fd = (int)strtol(e->d_name, NULL, 10)) == skip)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 64 : 2 * cap;
			if ((grown = realloc(list, cap * sizeof(*list))) == NULL)
				break;
			list = grown;
		}
		list[n++] = fd;
	}
	err = errno;
	closedir(dir);
	if (err != 0 || n > INT_MAX) {
		free(list);
		errno = err != 0 ? err : ENOMEM;
		return FDP_ESYS;
	}
	if (n > 0)
		qsort(list, n, sizeof(*list), fd_cmp);
	*fds = list;
	return (int)n;
}

int
fdp_proc_getfd(struct fdp_proc *p, int fd)
{
	int copy;

	if (p->self)
		return (copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1 ?
		    FDP_ESYS : copy;
	if (p->refused != 0) {
		errno = p->refused;
		return FDP_ESYS;
	}
	if ((copy = (int)syscall(SYS_pidfd_getfd, p->pidfd, fd, 0)) >= 0)
		return copy;
	if (errno == EBADF && !fdp_proc_alive(p))
		errno = ESRCH;
	else if (errno == EPERM || errno == ENOSYS)
		refuse(p, "pidfd_getfd", errno);
	return FDP_ESYS;
}

int
fdp_proc_describe(struct fdp_proc *p, int fd, struct fdp_desc *d)
{
	char why[sizeof(p->why)];
	int copy, rc, err;

	if (p->self)
		return fdp_describe(fd, d);
	if ((copy = fdp_proc_getfd(p, fd)) >= 0) {
		rc = fdp_describe(copy, d);
		close(copy);
		return rc;
	}
	if (errno == EBADF || errno == ESRCH)
		return FDP_ESYS;
	/* Refused for every fd, or for this one alone (EMFILE, say). */
	if (p->refused != 0)
		snprintf(why, sizeof(why), "%s", p->why);
	else
		snprintf(why, sizeof(why), "pidfd_getfd: %s", strerror(errno));
	if ((rc = fdp_describe_proc(p, fd, why, d)) == 0)
		return 0;
	err = errno;
	if (!fdp_proc_alive(p))
		err = ESRCH;
	else if (err == ENOENT)
		err = EBADF;
	errno = err;
	return rc;
}
