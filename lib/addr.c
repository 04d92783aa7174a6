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

/*
 * Run fn on the basename of a path, from inside its directory: fchdir to
 * dir, so that the address stays short whatever the directory's path, and
 * back to where we were. The broker is single-threaded while it does this.
 */
static int
fdp_in_dir(int dir, const char *base, int (*fn)(const struct fdp_addr *,
    void *), void *arg)
{
	struct fdp_addr rel;
	size_t n = strlen(base);
	int here, rc, saved;

	if (n == 0)
		return FDP_EADDR;
	memset(&rel, 0, sizeof(rel));	/* a path even if it starts with '@' */
	rel.sun.sun_family = AF_UNIX;
	memcpy(rel.sun.sun_path, base, n);
	rel.len = offsetof(struct sockaddr_un, sun_path) + n + 1;
	if ((here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return FDP_ESYS;
	if (fchdir(dir) == -1)
		rc = FDP_ESYS;
	else
		rc = fn(&rel, arg);
	saved = errno;
	if (fchdir(here) == -1 && rc >= 0) {
		saved = errno;
		if (rc > 0)
			close(rc);
		rc = FDP_ESYS;
	}
	close(here);
	errno = saved;
	return rc;
}

/* The broker's socket, bound with its mode inside its directory. */
static int
fdp_bind_broker(const struct fdp_addr *rel, void *arg)
{
	const mode_t *mode = arg;

	return fdp_listen_unix_mode(rel, SOCK_SEQPACKET, *mode);
}

/* Note which file a path socket is, to tell it from a later one. */
static int
fdp_sockfile_note(struct fdp_sockfile *f)
{
	struct stat st;

	if (fstatat(f->dirfd, f->base, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = ENOTSOCK;
		return -1;
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	return 0;
}

/* Open the directory of path a safely and name the file in it. */
static int
fdp_sockfile_open(const struct fdp_addr *a, struct fdp_sockfile *f)
{
	char path[sizeof(a->sun.sun_path)], *base;

	memcpy(path, a->sun.sun_path, sizeof(path));
	if ((f->dirfd = fdp_open_parent(path, &base)) == -1)
		return -1;
	snprintf(f->base, sizeof(f->base), "%s", base);
	return 0;
}

/* Forget a socket file without touching it. */
static void
fdp_sockfile_forget(struct fdp_sockfile *f)
{
	int saved = errno;

	if (f->dirfd >= 0)
		close(f->dirfd);
	f->dirfd = -1;
	errno = saved;
}

int
fdp_listen_broker(const struct fdp_addr *a, mode_t mode,
    struct fdp_sockfile *f)
{
	int fd;

	f->dirfd = -1;
	if (fdp_addr_is_abstract(a))
		return fdp_listen_unix_mode(a, SOCK_SEQPACKET, mode);
	if (fdp_sockfile_open(a, f) == -1)
		return FDP_ESYS;
	fd = fdp_in_dir(f->dirfd, f->base, fdp_bind_broker, &mode);
	if (fd >= 0 && fdp_sockfile_note(f) == -1) {
		unlinkat(f->dirfd, f->base, 0);
		close(fd);
		fd = FDP_ESYS;
	}
	if (fd < 0)
		fdp_sockfile_forget(f);
	return fd;
}

int
fdp_sockfile_claim(const struct fdp_addr *a, struct fdp_sockfile *f)
{
	f->dirfd = -1;
	if (fdp_addr_is_abstract(a))
		return 0;
	if (fdp_sockfile_open(a, f) == -1 || fdp_sockfile_note(f) == -1) {
		fdp_sockfile_forget(f);
		return -1;
	}
	return 0;
}

void
fdp_sockfile_close(struct fdp_sockfile *f, int remove)
{
	struct stat st;

	if (f->dirfd < 0)
		return;
	if (remove && fstatat(f->dirfd, f->base, &st,
	    AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == f->dev &&
	    st.st_ino == f->ino)
		unlinkat(f->dirfd, f->base, 0);
	fdp_sockfile_forget(f);
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
