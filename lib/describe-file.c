/*
 * describe-file.c: the kinds a file type names: files, memfds, POSIX
 * message queues, directories, pipes and FIFOs, and devices.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include <linux/magic.h>

#include <fcntl.h>
#include <mqueue.h>
#include <string.h>
#include <unistd.h>

#include "describe.h"

/* The mqueue filesystem's statfs f_type; no userspace header defines it. */
#define MQUEUE_MAGIC	0x19800202

#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC	0x0020
#endif

static const struct bit_name seal_names[] = {
	{ F_SEAL_SEAL, "seal" }, { F_SEAL_SHRINK, "shrink" },
	{ F_SEAL_GROW, "grow" }, { F_SEAL_WRITE, "write" },
	{ F_SEAL_FUTURE_WRITE, "future_write" }, { F_SEAL_EXEC, "exec" },
};

/* A plain regular file. */
static void
describe_file(const struct fd_facts *x, struct fdp_desc *d)
{
	d->kind = "file";
	field_name(x, "path", d);
	field_uint(d, "size", (uintmax_t)x->st.st_size);
	field_offset(x, d);
	field_inode(x, d);
}

/* memfd_create() files: a name rather than a path, and seals. */
static void
describe_memfd(const struct fd_facts *x, int seals, struct fdp_desc *d)
{
	const char *name = x->link + strlen("/memfd:");
	char list[128] = "";

	d->kind = "memfd";
	field_add(d, "name", FDP_FIELD_STRING, "%.*s", (int)strip_deleted(name), name);
	field_uint(d, "size", (uintmax_t)x->st.st_size);
	field_offset(x, d);
	if (!can_ask(x, "seals"))
		return;
	list_append_bits(list, sizeof(list), (unsigned int)seals, seal_names,
	    NELEM(seal_names));
	field_str(d, "seals", list[0] != '\0' ? list : "none");
}

/*
 * POSIX message queues. mq_getattr only reads; QSIZE is left out because
 * only reading the queue's file gives it, and closing a second fd of the
 * queue would cancel this process's mq_notify registration.
 */
static void
describe_mqueue(const struct fd_facts *x, struct fdp_desc *d)
{
	struct mq_attr attr;

	d->kind = "mqueue";
	field_name(x, "name", d);
	if (can_ask(x, "messages,max_messages,message_size") &&
	    mq_getattr(x->fd, &attr) == 0) {
		field_uint(d, "messages", (uintmax_t)attr.mq_curmsgs);
		field_uint(d, "max_messages", (uintmax_t)attr.mq_maxmsg);
		field_uint(d, "message_size", (uintmax_t)attr.mq_msgsize);
	}
}

/*
 * The file system an fd's file is on; for another process's fd, through
 * the link in our /proc/PID directory fd, so nothing is opened.
 */
static int
fd_statfs(const struct fd_facts *x, struct statfs *fs)
{
	char path[64];

	if (x->fd != -1)
		return fstatfs(x->fd, fs);
	snprintf(path, sizeof(path), "/proc/self/fd/%d/fd/%d",
	    x->proc->dirfd, x->num);
	return statfs(path, fs);
}

/*
 * Whether a file named like a memfd is one: it has seals to ask for, or,
 * seen from /proc alone, lives on the shared-memory file systems.
 */
static int
is_memfd(const struct fd_facts *x, const struct statfs *fs, int *seals)
{
	if (strncmp(x->link, "/memfd:", strlen("/memfd:")) != 0)
		return 0;
	if (x->fd != -1)
		return (*seals = fcntl(x->fd, F_GET_SEALS)) != -1;
	return fs->f_type == TMPFS_MAGIC || fs->f_type == HUGETLBFS_MAGIC;
}

/* Regular inodes are files, memfds or message queues: which one? */
void
describe_regular(const struct fd_facts *x, struct fdp_desc *d)
{
	struct statfs fs;
	int seals = 0;

	if (fd_statfs(x, &fs) == -1)
		fs.f_type = 0;
	if (fs.f_type == MQUEUE_MAGIC)
		describe_mqueue(x, d);
	else if (is_memfd(x, &fs, &seals))
		describe_memfd(x, seals, d);
	else
		describe_file(x, d);
}

/* Directories. */
void
describe_dir(const struct fd_facts *x, struct fdp_desc *d)
{
	d->kind = "dir";
	field_name(x, "path", d);
	field_inode(x, d);
}

/* Pipes and FIFOs: which end this is, the buffer's size and the bytes in it. */
void
describe_pipe(const struct fd_facts *x, struct fdp_desc *d)
{
	static const char *const end_names[] = {
		"read", "write", "both", "none",
	};
	int size, queued;

	if (strncmp(x->link, "pipe:", strlen("pipe:")) == 0) {
		d->kind = "pipe";
		field_uint(d, "inode", x->st.st_ino);
	} else {
		d->kind = "fifo";
		field_name(x, "path", d);
		field_inode(x, d);
	}
	if ((x->flags & O_PATH) == 0)
		field_str(d, "end", end_names[x->flags & O_ACCMODE]);
	if (!can_ask(x, "pipe_size,queued"))
		return;
	if ((size = fcntl(x->fd, F_GETPIPE_SZ)) != -1)
		field_uint(d, "pipe_size", (uintmax_t)size);
	if (ioctl(x->fd, FIONREAD, &queued) == 0)
		field_uint(d, "queued", (uintmax_t)queued);
}

/* Terminals, other character devices and block devices. */
void
describe_device(const struct fd_facts *x, struct fdp_desc *d)
{
	if (S_ISBLK(x->st.st_mode))
		d->kind = "blockdev";
	else if (x->fd != -1 ? isatty(x->fd) : fdp_tty_device(x->st.st_rdev))
		d->kind = "tty";
	else
		d->kind = "chardev";
	field_name(x, "path", d);
	field_uint(d, "major", major(x->st.st_rdev));
	field_uint(d, "minor", minor(x->st.st_rdev));
}
