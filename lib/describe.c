/*
 * describe.c: what an fd is, the way lsof would say it, learned without
 * changing the fd's state. Only queries that leave the open file as it was:
 * fstat, fstatfs, fcntl's getters, getsockopt, getsockname, getpeername,
 * FIONREAD, mq_getattr, lseek(fd, 0, SEEK_CUR), readlink of /proc/self/fd/N
 * and /proc/self/fdinfo/N. Nothing reads from the fd, moves its offset or
 * opens its object a second time. Another process's fd that cannot be
 * copied is described from /proc/PID alone, naming the fields only the fd
 * itself could give (unread).
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

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"

/* The mqueue filesystem's statfs f_type; no userspace header defines it. */
#define MQUEUE_MAGIC	0x19800202

#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC	0x0020
#endif

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* What every kind's describer starts from, gathered once per fd. */
struct fd_facts {
	int		 fd;			/* -1: known from /proc alone */
	int		 flags;			/* F_GETFL */
	struct stat	 st;
	char		 link[PATH_MAX];	/* /proc/self/fd/N, or "" */
	struct fdp_proc	*proc;			/* whose fd num is; NULL: ours */
	int		 num;
	uintmax_t	 pos;			/* fdinfo's, when fd is -1 */
	char		*unread;		/* when fd is -1: keys not known */
};

/* Room for the keys an fd known from /proc alone leaves unread. */
#define UNREAD_MAX	128

/* A number the kernel uses and the word people use for it. */
struct code_name {
	int		 code;
	const char	*name;
};

/* A flag bit (or group of bits that must all be set) and its word. */
struct bit_name {
	unsigned int	 bits;
	const char	*name;
};

/* fdinfo_value's state: the key sought and where its value goes. */
struct fdinfo_lookup {
	const char	*key;
	char		*value;
	size_t		 len;
	int		 found;
};

/* fdinfo_count's state: which lines count, and how many did. */
struct fdinfo_count {
	const char	*prefix;
	const char	*needle;
	uintmax_t	 n;
};

/* describe_unknown's state: fdinfo's lines joined into one value. */
struct fdinfo_fold {
	char		 text[1024];
	size_t		 len;
};

static const struct code_name family_names[] = {
	{ AF_UNIX, "unix" }, { AF_INET, "inet" }, { AF_INET6, "inet6" },
	{ AF_NETLINK, "netlink" }, { AF_PACKET, "packet" },
	{ AF_VSOCK, "vsock" },
};

static const struct code_name socktype_names[] = {
	{ SOCK_STREAM, "stream" }, { SOCK_DGRAM, "dgram" },
	{ SOCK_SEQPACKET, "seqpacket" }, { SOCK_RAW, "raw" },
	{ SOCK_RDM, "rdm" }, { SOCK_PACKET, "packet" },
};

static const struct code_name ip_protocol_names[] = {
	{ IPPROTO_TCP, "tcp" }, { IPPROTO_UDP, "udp" },
	{ IPPROTO_UDPLITE, "udplite" }, { IPPROTO_SCTP, "sctp" },
	{ IPPROTO_ICMP, "icmp" }, { IPPROTO_ICMPV6, "icmpv6" },
	{ IPPROTO_RAW, "raw" }, { IPPROTO_MPTCP, "mptcp" },
};

static const struct code_name clock_names[] = {
	{ CLOCK_REALTIME, "realtime" }, { CLOCK_MONOTONIC, "monotonic" },
	{ CLOCK_BOOTTIME, "boottime" },
	{ CLOCK_REALTIME_ALARM, "realtime_alarm" },
	{ CLOCK_BOOTTIME_ALARM, "boottime_alarm" },
};

static const struct bit_name open_flag_names[] = {
	{ O_APPEND, "append" }, { O_NONBLOCK, "nonblock" },
	{ O_SYNC, "sync" }, { O_DIRECT, "direct" },
	{ O_NOATIME, "noatime" }, { O_PATH, "path" },
};

static const struct bit_name seal_names[] = {
	{ F_SEAL_SEAL, "seal" }, { F_SEAL_SHRINK, "shrink" },
	{ F_SEAL_GROW, "grow" }, { F_SEAL_WRITE, "write" },
	{ F_SEAL_FUTURE_WRITE, "future_write" }, { F_SEAL_EXEC, "exec" },
};

/* Every fact goes through here, so neither arena nor field table overflows. */
static void __attribute__((format(printf, 4, 5)))
field_add(struct fdp_desc *d, const char *key, enum fdp_field_type type,
    const char *fmt,
    ...)
{
	char *value = d->text + d->used;
	size_t room = sizeof(d->text) - d->used;
	va_list ap;
	int n;

	if (d->nfields >= FDP_DESC_MAX_FIELDS || room == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(value, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (type != FDP_FIELD_STRING && (size_t)n >= room)) {
		*value = '\0';
		return;
	}
	d->used += (size_t)n < room ? (size_t)n + 1 : room;
	d->fields[d->nfields].key = key;
	d->fields[d->nfields].value = value;
	d->fields[d->nfields].type = type;
	d->nfields++;
}

/* Most facts are plain text. */
static void
field_str(struct fdp_desc *d, const char *key, const char *value)
{
	field_add(d, key, FDP_FIELD_STRING, "%s", value);
}

/* Sizes, counts, ids and inode numbers. */
static void
field_uint(struct fdp_desc *d, const char *key, uintmax_t value)
{
	field_add(d, key, FDP_FIELD_NUMBER, "%ju", value);
}

/* Yes/no facts. */
static void
field_bool(struct fdp_desc *d, const char *key, int value)
{
	field_add(d, key, FDP_FIELD_BOOLEAN, "%s", value ? "yes" : "no");
}

/* Families, types, protocols and clocks print as words where one is known. */
static void
field_code(struct fdp_desc *d, const char *key, const struct code_name *names,
    size_t n, int code)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i].code == code) {
			field_str(d, key, names[i].name);
			return;
		}
	field_add(d, key, FDP_FIELD_STRING, "%d", code);
}

/* Flag and seal lists are words joined by commas. */
static void
list_append(char *list, size_t size, const char *word)
{
	size_t n = strlen(list);

	if (n < size)
		snprintf(list + n, size - n, "%s%s", n > 0 ? "," : "", word);
}

/* Open flags and seals are both bit sets named word by word. */
static void
list_append_bits(char *list, size_t size, unsigned int bits,
    const struct bit_name *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((bits & names[i].bits) == names[i].bits)
			list_append(list, size, names[i].name);
}

/*
 * Whether x is an fd this process holds and can ask; if it is known from
 * /proc alone, keys (what asking would have given) join its unread list.
 */
static int
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
static int
proc_path(char *buf, size_t len, const char *dir, const struct fd_facts *x)
{
	if (x->proc == NULL) {
		snprintf(buf, len, "/proc/self/%s/%d", dir, x->num);
		return AT_FDCWD;
	}
	snprintf(buf, len, "%s/%d", dir, x->num);
	return x->proc->dirfd;
}

/*
 * fdinfo is the one place the kernel states what anon inodes hold; fn sees
 * each line until it returns nonzero.
 */
static void
fdinfo_scan(const struct fd_facts *x, int (*fn)(const char *line, void *arg),
    void *arg)
{
	char path[64];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int fd;

	fd = openat(proc_path(path, sizeof(path), "fdinfo", x), path,
	    O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return;
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (fn(line, arg))
			break;
	}
	free(line);
	fclose(f);
}

/* fdinfo_scan's callback for fdinfo_value. */
static int
lookup_line(const char *line, void *arg)
{
	struct fdinfo_lookup *l = arg;
	size_t keylen = strlen(l->key);

	if (strncmp(line, l->key, keylen) != 0 || line[keylen] != ':')
		return 0;
	line += keylen + 1;
	snprintf(l->value, l->len, "%s", line + strspn(line, " \t"));
	l->found = 1;
	return 1;
}

/* The value of fdinfo's first "key:" line, blanks trimmed; 0 if found. */
static int
fdinfo_value(const struct fd_facts *x, const char *key, char *value,
    size_t len)
{
	struct fdinfo_lookup l = { key, value, len, 0 };

	fdinfo_scan(x, lookup_line, &l);
	return l.found ? 0 : -1;
}

/* fdinfo's counters, ids and clocks are numbers in a known base; 0 if found. */
static int
fdinfo_number(const struct fd_facts *x, const char *key, int base,
    unsigned long long *number)
{
	char value[64];
	char *end;

	if (fdinfo_value(x, key, value, sizeof(value)) == -1)
		return -1;
	*number = strtoull(value, &end, base);
	return end == value || *end != '\0' ? -1 : 0;
}

/* fdinfo_scan's callback for fdinfo_count. */
static int
count_line(const char *line, void *arg)
{
	struct fdinfo_count *c = arg;

	if (strncmp(line, c->prefix, strlen(c->prefix)) == 0 &&
	    (c->needle == NULL || strstr(line, c->needle) != NULL))
		c->n++;
	return 0;
}

/* epoll, inotify and fanotify list one fdinfo line per thing watched. */
static uintmax_t
fdinfo_count(const struct fd_facts *x, const char *prefix, const char *needle)
{
	struct fdinfo_count c = { prefix, needle, 0 };

	fdinfo_scan(x, count_line, &c);
	return c.n;
}

/* fdinfo_scan's callback for unknown kinds: lines joined by "; ". */
static int
fold_line(const char *line, void *arg)
{
	struct fdinfo_fold *fold = arg;
	size_t room = sizeof(fold->text) - 1;
	int blank = fold->len > 0;

	if (fold->len > 0 && fold->len < room)
		fold->text[fold->len++] = ';';
	for (; *line != '\0' && fold->len < room; line++) {
		if (isspace((unsigned char)*line)) {
			blank = 1;
			continue;
		}
		if (blank && fold->len > 0 && fold->len < room - 1)
			fold->text[fold->len++] = ' ';
		blank = 0;
		fold->text[fold->len++] = *line;
	}
	fold->text[fold->len] = '\0';
	return fold->len >= room;
}

/* Links of unlinked files end in " (deleted)"; the length without it. */
static size_t
strip_deleted(const char *s)
{
	static const char suffix[] = " (deleted)";
	size_t n = strlen(s);
	size_t slen = sizeof(suffix) - 1;

	if (n >= slen && strcmp(s + n - slen, suffix) == 0)
		return n - slen;
	return n;
}

/* Anything named in a filesystem: its path or name, and whether unlinked. */
static void
field_name(const struct fd_facts *x, const char *key, struct fdp_desc *d)
{
	int deleted = x->st.st_nlink == 0;
	size_t n = deleted ? strip_deleted(x->link) : strlen(x->link);

	field_add(d, key, FDP_FIELD_STRING, "%.*s", (int)n, x->link);
	field_bool(d, "deleted", deleted);
}

/* Where a file lives: inode number and the filesystem's device. */
static void
field_inode(const struct fd_facts *x, struct fdp_desc *d)
{
	field_uint(d, "inode", x->st.st_ino);
	field_add(d, "dev", FDP_FIELD_STRING, "%u:%u", major(x->st.st_dev),
	    minor(x->st.st_dev));
}

/* The file position, asked without moving it; O_PATH fds have none. */
static void
field_offset(const struct fd_facts *x, struct fdp_desc *d)
{
	off_t offset;

	if (x->fd == -1)
		field_uint(d, "offset", x->pos);
	else if ((offset = lseek(x->fd, 0, SEEK_CUR)) != -1)
		field_uint(d, "offset", (uintmax_t)offset);
}

/* The access mode and the open flags that matter, e.g. "rdwr,append". */
static void
field_flags(const struct fd_facts *x, struct fdp_desc *d)
{
	static const char *const access_names[] = {
		"rdonly", "wronly", "rdwr", "noaccess",
	};
	char list[128];

	snprintf(list, sizeof(list), "%s", access_names[x->flags & O_ACCMODE]);
	list_append_bits(list, sizeof(list), (unsigned int)x->flags,
	    open_flag_names, NELEM(open_flag_names));
	field_str(d, "flags", list);
}

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
static void
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
static void
describe_dir(const struct fd_facts *x, struct fdp_desc *d)
{
	d->kind = "dir";
	field_name(x, "path", d);
	field_inode(x, d);
}

/* Pipes and FIFOs: which end this is, the buffer's size and the bytes in it. */
static void
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

/* An address as people write it: 1.2.3.4:80, [::1]:80, /path, @name. */
static int
sockaddr_text(const struct sockaddr_storage *ss, socklen_t len, char *buf,
    size_t size)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_un *sun = (const struct sockaddr_un *)ss;
	size_t off = offsetof(struct sockaddr_un, sun_path);
	char ip[INET6_ADDRSTRLEN];
	size_t n, i;

	switch (ss->ss_family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(sin->sin_port));
		return 0;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, ntohs(sin6->sin6_port));
		return 0;
	case AF_UNIX:
		if (len <= off)
			return -1;
		n = len - off;
		if (n > sizeof(sun->sun_path))
			n = sizeof(sun->sun_path);
		if (sun->sun_path[0] != '\0') {
			snprintf(buf, size, "%.*s",
			    (int)strnlen(sun->sun_path, n), sun->sun_path);
			return 0;
		}
		/* Abstract names may hold NULs; show them as '@' like ss(8). */
		for (i = 0; i < n && i + 1 < size; i++)
			buf[i] = i == 0 || sun->sun_path[i] == '\0' ? '@' :
			    sun->sun_path[i];
		buf[i] = '\0';
		return 0;
	}
	return -1;
}

/* An address as a field, when it has a text form. */
static void
field_address(struct fdp_desc *d, const char *key,
    const struct sockaddr_storage *ss, socklen_t len)
{
	char text[256];

	if (sockaddr_text(ss, len, text, sizeof(text)) == 0)
		field_str(d, key, text);
}

/* The local or peer address; -1 if the kernel has none (e.g. not connected). */
static int
field_sockaddr(int fd, int peer, struct fdp_desc *d)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int r;

	memset(&ss, 0, sizeof(ss));
	if (peer)
		r = getpeername(fd, (struct sockaddr *)&ss, &len);
	else
		r = getsockname(fd, (struct sockaddr *)&ss, &len);
	if (r == -1)
		return -1;
	if (len > sizeof(ss))
		len = sizeof(ss);
	field_address(d, peer ? "peer" : "local", &ss, len);
	return 0;
}

/* getsockopt for the int-valued SOL_SOCKET options. */
static int
sockopt_int(int fd, int option, int *value)
{
	socklen_t len = sizeof(*value);

	return getsockopt(fd, SOL_SOCKET, option, value, &len);
}

/* The connected peer of a Unix socket, as of connect() or socketpair(). */
static void
field_peer_cred(int fd, struct fdp_desc *d)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    cred.pid <= 0)
		return;
	field_uint(d, "peer_pid", (uintmax_t)cred.pid);
	field_uint(d, "peer_uid", cred.uid);
	field_uint(d, "peer_gid", cred.gid);
}

/* What a listener's settings left on it (fdp_sockinfo), as the kernel says. */
static void
field_listener(int fd, int family, int listening, struct fdp_desc *d)
{
	struct fdp_sockinfo si;

	fdp_sockinfo(fd, family, listening, &si);
	if (si.backlog >= 0)
		field_uint(d, "backlog", (uintmax_t)si.backlog);
	if (si.pending >= 0)
		field_uint(d, "pending", (uintmax_t)si.pending);
	if (si.reuseport >= 0)
		field_bool(d, "reuseport", si.reuseport);
	if (si.v6only >= 0)
		field_bool(d, "v6only", si.v6only);
	if (si.netns != 0)
		field_uint(d, "netns", si.netns);
	else if (si.netns_cookie != 0)
		field_uint(d, "netns_cookie", si.netns_cookie);
}

/*
 * Another process's socket seen from /proc alone: what the socket tables
 * of its network namespace say; a Unix socket's peer is not among it.
 */
static void
describe_socket_proc(const struct fd_facts *x, struct fdp_desc *d)
{
	struct fdp_sock_facts s;

	if (fdp_proc_socket(x->proc, x->st.st_ino, &s) == -1) {
		can_ask(x, "family,type,protocol,listening,local,peer");
		return;
	}
	field_code(d, "family", family_names, NELEM(family_names), s.family);
	field_code(d, "type", socktype_names, NELEM(socktype_names), s.type);
	field_code(d, "protocol", ip_protocol_names,
	    s.family == AF_UNIX ? 0 : NELEM(ip_protocol_names), s.protocol);
	field_bool(d, "listening", s.listening);
	if (s.local_len > 0)
		field_address(d, "local", &s.local, s.local_len);
	if (s.peer_len > 0)
		field_address(d, "peer", &s.peer, s.peer_len);
	if (s.family == AF_UNIX && s.connected && !s.listening)
		can_ask(x, "peer,peer_pid,peer_uid,peer_gid");
	if (s.listening)
		can_ask(x, "backlog,pending");
	if (s.family == AF_INET || s.family == AF_INET6)
		can_ask(x, s.family == AF_INET6 ? "reuseport,v6only" :
		    "reuseport");
}

/* Sockets: family, type, protocol, addresses, and who is at the other end. */
static void
describe_socket(const struct fd_facts *x, struct fdp_desc *d)
{
	int family, type, protocol, listening = 0;
	int connected;

	d->kind = "socket";
	field_uint(d, "inode", x->st.st_ino);
	if (x->fd == -1) {
		describe_socket_proc(x, d);
		return;
	}
	/* An O_PATH fd of a socket file is no socket to ask. */
	if (sockopt_int(x->fd, SO_DOMAIN, &family) == -1) {
		field_name(x, "path", d);
		return;
	}
	field_code(d, "family", family_names, NELEM(family_names), family);
	if (sockopt_int(x->fd, SO_TYPE, &type) == 0)
		field_code(d, "type", socktype_names, NELEM(socktype_names),
		    type);
	if (sockopt_int(x->fd, SO_PROTOCOL, &protocol) == 0)
		field_code(d, "protocol", ip_protocol_names,
		    family == AF_INET || family == AF_INET6 ?
		    NELEM(ip_protocol_names) : 0, protocol);
	if (sockopt_int(x->fd, SO_ACCEPTCONN, &listening) == -1)
		listening = 0;
	field_bool(d, "listening", listening);
	field_sockaddr(x->fd, 0, d);
	connected = field_sockaddr(x->fd, 1, d) == 0;
	/* A listening Unix socket reports its own credentials, not a peer's. */
	if (family == AF_UNIX && connected && !listening)
		field_peer_cred(x->fd, d);
	field_listener(x->fd, family, listening, d);
}

/* Terminals, other character devices and block devices. */
static void
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

/* eventfd: the counter, which read() would consume, taken from fdinfo. */
static void
describe_eventfd(const struct fd_facts *x, struct fdp_desc *d)
{
	unsigned long long n;

	d->kind = "eventfd";
	if (fdinfo_number(x, "eventfd-count", 16, &n) == 0)
		field_uint(d, "counter", n);
	if (fdinfo_number(x, "eventfd-semaphore", 10, &n) == 0)
		field_bool(d, "semaphore", n != 0);
}

/* fdinfo writes timerfd times as "(sec, nsec)"; we print decimal seconds. */
static void
field_fdinfo_time(const struct fd_facts *x, const char *fdinfo_key,
    const char *key, struct fdp_desc *d)
{
	char value[64];
	long long sec;
	long nsec;

	if (fdinfo_value(x, fdinfo_key, value, sizeof(value)) == 0 &&
	    sscanf(value, "(%lld, %ld)", &sec, &nsec) == 2)
		field_add(d, key, FDP_FIELD_NUMBER, "%lld.%09ld", sec, nsec);
}

/*
 * timerfd: all from fdinfo, since even timerfd_gettime() forwards an
 * expired periodic timer.
 */
static void
describe_timerfd(const struct fd_facts *x, struct fdp_desc *d)
{
	unsigned long long n;

	d->kind = "timerfd";
	if (fdinfo_number(x, "clockid", 10, &n) == 0)
		field_code(d, "clock", clock_names, NELEM(clock_names),
		    (int)n);
	field_fdinfo_time(x, "it_value", "value", d);
	field_fdinfo_time(x, "it_interval", "interval", d);
	if (fdinfo_number(x, "ticks", 10, &n) == 0)
		field_uint(d, "ticks", n);
}

/* signalfd: the mask as the kernel prints it, and as signal names. */
static void
describe_signalfd(const struct fd_facts *x, struct fdp_desc *d)
{
	char mask[64], list[512] = "", word[24];
	unsigned long long bits;
	const char *name;
	size_t n;
	int sig;

	d->kind = "signalfd";
	if (fdinfo_value(x, "sigmask", mask, sizeof(mask)) == -1)
		return;
	field_str(d, "sigmask", mask);
	n = strlen(mask);
	bits = strtoull(n > 16 ? mask + n - 16 : mask, NULL, 16);
	for (sig = 1; sig <= 64; sig++) {
		if ((bits & 1ULL << (sig - 1)) == 0)
			continue;
		if ((name = sigabbrev_np(sig)) != NULL)
			snprintf(word, sizeof(word), "%s", name);
		else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
			snprintf(word, sizeof(word), "RTMIN+%d",
			    sig - SIGRTMIN);
		else
			snprintf(word, sizeof(word), "%d", sig);
		list_append(list, sizeof(list), word);
	}
	field_str(d, "signals", list[0] != '\0' ? list : "none");
}

/* epoll: fdinfo has one "tfd:" line per fd in the interest list. */
static void
describe_epoll(const struct fd_facts *x, struct fdp_desc *d)
{
	d->kind = "epoll";
	field_uint(d, "watches", fdinfo_count(x, "tfd:", NULL));
}

/* inotify: fdinfo has one "inotify wd:" line per watch. */
static void
describe_inotify(const struct fd_facts *x, struct fdp_desc *d)
{
	d->kind = "inotify";
	field_uint(d, "watches", fdinfo_count(x, "inotify wd:", NULL));
}

/* fanotify: fanotify_init()'s flags; a "fanotify ... mflags:" line per mark. */
static void
describe_fanotify(const struct fd_facts *x, struct fdp_desc *d)
{
	char value[128];
	unsigned int init_flags, event_flags;

	d->kind = "fanotify";
	if (fdinfo_value(x, "fanotify flags", value, sizeof(value)) == 0 &&
	    sscanf(value, "%x event-flags:%x", &init_flags,
	    &event_flags) == 2) {
		field_add(d, "fanotify_flags", FDP_FIELD_STRING, "0x%x", init_flags);
		field_add(d, "event_flags", FDP_FIELD_STRING, "0x%x", event_flags);
	}
	field_uint(d, "watches", fdinfo_count(x, "fanotify ", "mflags:"));
}

/* pidfd: fdinfo's "Pid:", -1 once the process is gone, 0 if not ours to see. */
static void
describe_pidfd(const struct fd_facts *x, struct fdp_desc *d)
{
	char value[64];
	char *end;
	long pid;

	d->kind = "pidfd";
	if (fdinfo_value(x, "Pid", value, sizeof(value)) == -1)
		return;
	pid = strtol(value, &end, 10);
	if (end != value && *end == '\0')
		field_add(d, "pid", FDP_FIELD_NUMBER, "%ld", pid);
}

/* Anything else: what the link says and fdinfo folded into one field. */
static void
describe_unknown(const struct fd_facts *x, struct fdp_desc *d)
{
	struct fdinfo_fold fold;

	d->kind = "unknown";
	if (x->link[0] != '\0')
		field_str(d, "link", x->link);
	field_uint(d, "inode", x->st.st_ino);
	fold.len = 0;
	fold.text[0] = '\0';
	fdinfo_scan(x, fold_line, &fold);
	if (fold.len > 0)
		field_str(d, "fdinfo", fold.text);
}

/*
 * Anonymous inodes have no dependable file type; only their link names
 * them. First match wins, so other anon inodes end as unknown whatever
 * their mode.
 */
static const struct {
	const char	*link_prefix;
	void		(*describe)(const struct fd_facts *,
			    struct fdp_desc *);
} anon_kinds[] = {
	{ "anon_inode:[eventfd]", describe_eventfd },
	{ "anon_inode:[timerfd]", describe_timerfd },
	{ "anon_inode:[signalfd]", describe_signalfd },
	{ "anon_inode:[eventpoll]", describe_epoll },
	{ "anon_inode:inotify", describe_inotify },
	{ "anon_inode:[fanotify]", describe_fanotify },
	{ "anon_inode:[pidfd]", describe_pidfd },
	{ "pidfd:", describe_pidfd },
	{ "anon_inode:", describe_unknown },
};

/* Pick the describer: the link for anonymous inodes, else the file type. */
static void
describe_kind(const struct fd_facts *x, struct fdp_desc *d)
{
	size_t i;

	for (i = 0; i < NELEM(anon_kinds); i++)
		if (strncmp(x->link, anon_kinds[i].link_prefix,
		    strlen(anon_kinds[i].link_prefix)) == 0) {
			anon_kinds[i].describe(x, d);
			return;
		}
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

/* describe adds what it knows besides the fd itself: the fd's name. */
void
fdp_desc_add(struct fdp_desc *d, const char *key, enum fdp_field_type type,
    const char *value)
{
	field_add(d, key, type, "%s", value);
}

/*
 * Quote a value that a reader splitting on blanks and '=' would misread,
 * or that holds anything to escape.
 */
static int
text_needs_quotes(const char *s)
{
	enum fdp_utf8_kind kind;
	uint32_t c;
	size_t n;

	if (*s == '\0')
		return 1;
	for (; *s != '\0'; s += n) {
		n = fdp_utf8_next(s, &c, &kind);
		if (kind != FDP_UTF8_TEXT || c == ' ' || c == '"' ||
		    c == '\\' || c == '=')
			return 1;
	}
	return 0;
}

/*
 * One value of the text format, quoted and C-escaped when needed: UTF-8
 * text as it is, each byte of anything else as \xNN.
 */
static void
text_print_value(FILE *f, const char *s)
{
	enum fdp_utf8_kind kind;
	uint32_t c;
	size_t n, i;

	if (!text_needs_quotes(s)) {
		fputs(s, f);
		return;
	}
	putc('"', f);
	for (; *s != '\0'; s += n) {
		n = fdp_utf8_next(s, &c, &kind);
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", (int)c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (kind == FDP_UTF8_TEXT)
			fwrite(s, 1, n, f);
		else
			for (i = 0; i < n; i++)
				fprintf(f, "\\x%02x", (unsigned char)s[i]);
	}
	putc('"', f);
}

/* The form people read: "KIND key=value ..." on one line. */
void
fdp_desc_print_text(FILE *f, const struct fdp_desc *d)
{
	size_t i;

	fputs(d->kind != NULL ? d->kind : "unknown", f);
	for (i = 0; i < d->nfields && i < FDP_DESC_MAX_FIELDS; i++) {
		fprintf(f, " %s=", d->fields[i].key);
		text_print_value(f, d->fields[i].value);
	}
	putc('\n', f);
}

/*
 * A JSON string: UTF-8 text as it is, the characters to hide escaped, and
 * bytes that are not UTF-8 as lone surrogates \udcNN (surrogateescape).
 */
void
fdp_json_print_string(FILE *f, const char *s)
{
	enum fdp_utf8_kind kind;
	uint32_t c;
	size_t n;

	putc('"', f);
	for (; *s != '\0'; s += n) {
		n = fdp_utf8_next(s, &c, &kind);
		if (kind == FDP_UTF8_INVALID)
			fprintf(f, "\\udc%02x", (unsigned)c);
		else if (c == '"' || c == '\\')
			fprintf(f, "\\%c", (int)c);
		else if (kind == FDP_UTF8_TEXT)
			fwrite(s, 1, n, f);
		else if (c > 0xffff)
			fprintf(f, "\\u%04x\\u%04x",
			    (unsigned)(0xd800 + ((c - 0x10000) >> 10)),
			    (unsigned)(0xdc00 + ((c - 0x10000) & 0x3ff)));
		else
			fprintf(f, "\\u%04x", (unsigned)c);
	}
	putc('"', f);
}

/* The members of a descriptor object, kind first, without the braces. */
static void
json_print_members(FILE *f, const struct fdp_desc *d)
{
	const struct fdp_field *field;
	size_t i;

	fputs("\"kind\":", f);
	fdp_json_print_string(f, d->kind != NULL ? d->kind : "unknown");
	for (i = 0; i < d->nfields && i < FDP_DESC_MAX_FIELDS; i++) {
		field = &d->fields[i];
		putc(',', f);
		fdp_json_print_string(f, field->key);
		putc(':', f);
		if (field->type == FDP_FIELD_BOOLEAN)
			fputs(strcmp(field->value, "yes") == 0 ? "true" : "false",
			    f);
		else if (field->type == FDP_FIELD_NUMBER)
			fputs(field->value, f);
		else
			fdp_json_print_string(f, field->value);
	}
}

/* The form programs read: one flat JSON object, kind first. */
void
fdp_desc_print_json(FILE *f, const struct fdp_desc *d)
{
	putc('{', f);
	json_print_members(f, d);
	putc('}', f);
}

/* describe's objects start with the fd's number. */
void
fdp_desc_print_json_fd(FILE *f, int fd, const struct fdp_desc *d)
{
	fprintf(f, "{\"fd\":%d,", fd);
	json_print_members(f, d);
	putc('}', f);
}
