/*
 * addr.c: Unix addresses ("@name" abstract or a path): parsing them, and
 * binding, listening and connecting on them, for the broker and its clients.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"

/* Both the broker and its clients start from an address as the user wrote it. */
int
fdp_addr_parse(const char *text, struct fdp_addr *a)
{
	size_t n = strlen(text);
	size_t room = sizeof(a->sun.sun_path);

	memset(a, 0, sizeof(*a));
	a->sun.sun_family = AF_UNIX;
	if (n == 0 || (text[0] == '@' && n == 1))
		return FDP_EADDR;
	if (text[0] == '@') {
		if (n > room)
			return FDP_EADDRLEN;
		memcpy(a->sun.sun_path + 1, text + 1, n - 1);
		a->len = offsetof(struct sockaddr_un, sun_path) + n;
		return 0;
	}
	if (n >= room)
		return FDP_EADDRLEN;
	memcpy(a->sun.sun_path, text, n);
	a->len = offsetof(struct sockaddr_un, sun_path) + n + 1;
	return 0;
}

/* Abstract names have no file to create, check or remove. */
int
fdp_addr_is_abstract(const struct fdp_addr *a)
{
	return a->sun.sun_path[0] == '\0';
}

/* Every command finds the broker the same way, so all agree without flags. */
const char *
fdp_broker_address(const char *option, char *buf, size_t len)
{
	const char *env;
	int n;

	if (option != NULL && *option != '\0')
		n = snprintf(buf, len, "%s", option);
	else if ((env = getenv("FDPASS_SOCKET")) != NULL && *env != '\0')
		n = snprintf(buf, len, "%s", env);
	else if ((env = getenv("XDG_RUNTIME_DIR")) != NULL && *env == '/')
		n = snprintf(buf, len, "%s/fdpass.sock", env);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/run/fdpass.sock");
	else
		n = snprintf(buf, len, "/tmp/fdpass-%lu.sock",
		    (unsigned long)geteuid());
	return n < 0 || (size_t)n >= len ? NULL : buf;
}

/*
 * A socket file whose server is gone may be replaced: 1. A live server (even
 * one too busy to accept: the probe does not wait) or anything else: 0.
 * A file that is not a socket: -1 with EADDRINUSE, so it is never removed.
 */
static int
fdp_path_is_stale(const struct fdp_addr *a, int type)
{
	struct stat st;
	int fd, rc;

	if (lstat(a->sun.sun_path, &st) == -1)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EADDRINUSE;
		return -1;
	}
	if ((fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	rc = connect(fd, (const struct sockaddr *)&a->sun, a->len);
	rc = rc == -1 && errno == ECONNREFUSED;
	close(fd);
	return rc;
}

/* Bind under a umask giving a path socket exactly mode; -1: the process's. */
static int
bind_under_mode(int fd, const struct fdp_addr *a, mode_t mode)
{
	mode_t old = 0;
	int rc, saved;

	if (mode != (mode_t)-1)
		old = umask(~mode & 0777);
	rc = bind(fd, (const struct sockaddr *)&a->sun, a->len);
	saved = errno;
	if (mode != (mode_t)-1)
		umask(old);
	errno = saved;
	return rc;
}

/* The broker and every Unix listener replace a dead server's socket alike. */
int
fdp_bind_unix(int fd, const struct fdp_addr *a, int type, mode_t mode)
{
	int stale;

	if (bind_under_mode(fd, a, mode) == 0)
		return 0;
	if (errno != EADDRINUSE)
		return FDP_ESYS;
	stale = fdp_addr_is_abstract(a) ? 0 : fdp_path_is_stale(a, type);
	if (stale == 0)
		return FDP_EINUSE;
	if (stale == -1 || unlink(a->sun.sun_path) == -1 ||
	    bind_under_mode(fd, a, mode) == -1)
		return FDP_ESYS;
	return 0;
}

/* Bind and listen with the socket file's mode chosen; see fdp_listen_unix. */
static int
fdp_listen_unix_mode(const struct fdp_addr *a, int type, mode_t mode)
{
	int fd, rc, saved;

	if ((fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0)) == -1)
		return FDP_ESYS;
	if ((rc = fdp_bind_unix(fd, a, type, mode)) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return rc;
	}
	if (type != SOCK_DGRAM && listen(fd, SOMAXCONN) == -1) {
		saved = errno;
		fdp_unlink_unix(a);
		close(fd);
		errno = saved;
		return FDP_ESYS;
	}
	return fd;
}

/* Listeners on Unix addresses, for the broker and for `send --listen`. */
int
fdp_listen_unix(const struct fdp_addr *a, int type, int restrict_mode)
{
	return fdp_listen_unix_mode(a, type, restrict_mode ? 0600 : (mode_t)-1);
}

/*
 * Open directory name inside dir without following a symlink unless root or
 * we own it, creating it 0700 when it is missing. Returns an O_PATH fd.
 */
static int
fdp_open_dir_step(int dir, const char *name)
{
	struct stat st;
	int fd, flags = O_PATH | O_DIRECTORY | O_CLOEXEC;

	fd = openat(dir, name, flags | O_NOFOLLOW);
	if (fd == -1 && errno == ENOENT) {
		if (mkdirat(dir, name, 0700) == -1 && errno != EEXIST)
			return -1;
		fd = openat(dir, name, flags | O_NOFOLLOW);
	}
	if (fd >= 0 || (errno != ENOTDIR && errno != ELOOP))
		return fd;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (!S_ISLNK(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		errno = ELOOP;
		return -1;
	}
	return openat(dir, name, flags);
}

/* Walk the directories of path (modified) and return the last one, opened. */
static int
fdp_open_parent(char *path, char **base)
{
	char *slash, *name, *save = NULL;
	int dir, next;

	if ((slash = strrchr(path, '/')) == NULL) {
		*base = path;
		return open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	*slash = '\0';
	*base = slash + 1;
	dir = open(path[0] == '\0' || path[0] == '/' ? "/" : ".",
	    O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (name = strtok_r(path, "/", &save); dir >= 0 && name != NULL;
	    name = strtok_r(NULL, "/", &save)) {
		next = fdp_open_dir_step(dir, name);
		close(dir);
		dir = next;
	}
	return dir;
}

int
fdp_listen_broker(const struct fdp_addr *a, mode_t mode,
    struct fdp_addr *bound, int *dirfd)
{
	char path[sizeof(a->sun.sun_path)], inside[64 + sizeof(path)], *base;
	int fd, saved;

	*bound = *a;
	*dirfd = -1;
	if (fdp_addr_is_abstract(a))
		return fdp_listen_unix_mode(a, SOCK_SEQPACKET, mode);
	memcpy(path, a->sun.sun_path, sizeof(path));
	if ((*dirfd = fdp_open_parent(path, &base)) == -1)
		return FDP_ESYS;
	snprintf(inside, sizeof(inside), "/proc/self/fd/%d/%s", *dirfd, base);
	if (*base == '\0')
		fd = FDP_EADDR;
	else if ((fd = fdp_addr_parse(inside, bound)) == 0)
		fd = fdp_listen_unix_mode(bound, SOCK_SEQPACKET, mode);
	if (fd < 0) {
		saved = errno;
		close(*dirfd);
		*dirfd = -1;
		errno = saved;
	}
	return fd;
}

/* Clients, and the tests, connect with a plain blocking connect. */
int
fdp_connect_unix(const struct fdp_addr *a, int type)
{
	int fd, saved;

	if ((fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0)) == -1)
		return FDP_ESYS;
	while (connect(fd, (const struct sockaddr *)&a->sun, a->len) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EISCONN)
			break;
		saved = errno;
		close(fd);
		errno = saved;
		return FDP_ESYS;
	}
	return fd;
}

/* A broker that stops cleanly leaves no socket file behind. */
void
fdp_unlink_unix(const struct fdp_addr *a)
{
	if (!fdp_addr_is_abstract(a))
		unlink(a->sun.sun_path);
}
