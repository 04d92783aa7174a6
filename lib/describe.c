/*
 * describe.c: what an fd is, the way lsof would say it: its facts, from the
 * fd or from /proc/PID alone, and the describer its kind picks.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "describe.h"

/*
 * Whether x is an fd this process holds and can ask; if it is known from
 * /proc alone, keys (what asking would have given) join its unread list.
 */
int
can_ask(const struct fd_facts *x, const char *keys)
{
	if (x->fd != -1)
		return 1;
	list_append(x->unread, UNREAD_MAX, keys);
	return 0;
}

/*
 * The fd's entry "fd" (its target) or "fdinfo" under /proc/self, or under
 * the other process's /proc/PID; returns the directory fd buf is relative to.
 */
int
proc_path(char *buf, size_t len, const char *dir, const struct fd_facts *x)
{
	if (x->proc == NULL) {
		snprintf(buf, len, "/proc/self/%s/%d", dir, x->num);
		return AT_FDCWD;
	}
	snprintf(buf, len, "%s/%d", dir, x->num);
	return x->proc->dirfd;
}

/* Pick the describer: the link for anonymous inodes, else the file type. */
static void
describe_kind(const struct fd_facts *x, struct fdp_desc *d)
{
	if (describe_anon(x, d))
		return;
	switch (x->st.st_mode & S_IFMT) {
	case S_IFREG:
		describe_regular(x, d);
		break;
	case S_IFDIR:
		describe_dir(x, d);
		break;
	case S_IFIFO:
		describe_pipe(x, d);
		break;
	case S_IFSOCK:
		describe_socket(x, d);
		break;
	case S_IFCHR:
	case S_IFBLK:
		describe_device(x, d);
		break;
	default:
		describe_unknown(x, d);
		break;
	}
}

/* Both describers start from an empty description and fd num of proc. */
static void
describe_start(struct fd_facts *x, int fd, struct fdp_proc *proc, int num,
    struct fdp_desc *d)
{
	d->kind = "unknown";
	d->nfields = 0;
	d->used = 0;
	d->text[0] = '\0';
	x->fd = fd;
	x->proc = proc;
	x->num = num;
	x->pos = 0;
	x->unread = NULL;
}

/* What the fd's link in /proc names: a path, or "socket:[N]" and the like. */
static void
read_link(struct fd_facts *x)
{
	char path[64];
	ssize_t n;

	n = readlinkat(proc_path(path, sizeof(path), "fd", x), path, x->link,
	    sizeof(x->link) - 1);
	x->link[n < 0 ? 0 : n] = '\0';
}

/* fdpass shows users what they pass and receive; this says what an fd is. */
int
fdp_describe(int fd, struct fdp_desc *d)
{
	struct fd_facts x;

	describe_start(&x, fd, NULL, fd, d);
	if (fstat(fd, &x.st) == -1 || (x.flags = fcntl(fd, F_GETFL)) == -1)
		return FDP_ESYS;
	read_link(&x);
	describe_kind(&x, d);
	field_flags(&x, d);
	return 0;
}

/*
 * describe --pid, for an fd it may not copy: stat(2) through the fd's link
 * in /proc/PID, fdinfo's flags and pos, and the socket tables stand in for
 * asking the fd.
 */
int
fdp_describe_proc(struct fdp_proc *p, int num, const char *why,
    struct fdp_desc *d)
{
	struct fd_facts x;
	unsigned long long flags, pos;
	char path[64], unread[UNREAD_MAX] = "";

	describe_start(&x, -1, p, num, d);
	x.unread = unread;
	if (fstatat(proc_path(path, sizeof(path), "fd", &x), path, &x.st,
	    0) == -1)
		return FDP_ESYS;
	if (fdinfo_number(&x, "flags", 8, &flags) == -1 ||
	    fdinfo_number(&x, "pos", 10, &pos) == -1) {
		errno = ENOENT;
		return FDP_ESYS;
	}
	x.flags = (int)flags;
	x.pos = pos;
	read_link(&x);
	describe_kind(&x, d);
	field_flags(&x, d);
	if (unread[0] != '\0')
		field_add(d, "unread", FDP_FIELD_STRING, "%s: %s", unread,
		    why);
	return 0;
}
