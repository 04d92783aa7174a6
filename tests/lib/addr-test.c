/*
 * addr-test: lib/addr.c and lib/cred.c, Unix addresses, the broker address
 * and peer credentials (listener specs: listen-test).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "tap.h"

static char tmpdir[64];

/* A file name inside the test's temp dir, in a static buffer. */
static const char *
tmp_path(const char *name)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

/* The prefix then n letters 'a', in a static buffer. */
static const char *
long_text(const char *prefix, size_t n)
{
	static char buf[256];
	size_t p = strlen(prefix);

	memcpy(buf, prefix, p);
	memset(buf + p, 'a', n);
	buf[p + n] = '\0';
	return buf;
}

/* Parse text into a, bailing out if it does not parse. */
static void
parse(const char *text, struct fdp_addr *a)
{
	if (fdp_addr_parse(text, a) != 0) {
		errno = EINVAL;
		bail(text);
	}
}

/*
 * Whether a client connecting to a reaches the listener lfd. A Unix connect
 * is queued on the listener when it returns, so a poll with no wait finds
 * it; connections queued before it (a closed probe) are skipped.
 */
static int
connects(const struct fdp_addr *a, int lfd)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	int c, s, found = 0;
	char b;

	if ((c = fdp_connect_unix(a, SOCK_STREAM)) < 0)
		return 0;
	if (write(c, "t", 1) == 1)
		while (!found && poll(&pfd, 1, 0) == 1 &&
		    (s = accept(lfd, NULL, NULL)) != -1) {
			found = read(s, &b, 1) == 1 && b == 't';
			close(s);
		}
	close(c);
	return found;
}

/* Abstract names and paths parse to the right lengths, and limits hold. */
static void
test_parse(void)
{
	struct fdp_addr a;
	size_t base = offsetof(struct sockaddr_un, sun_path);

	ok(fdp_addr_parse("@fdpass", &a) == 0 && fdp_addr_is_abstract(&a) &&
	    a.len == base + 1 + 6 && memcmp(a.sun.sun_path, "\0fdpass", 7) == 0,
	    "@name is abstract, len = offsetof + 1 + namelen");
	ok(fdp_addr_parse("/run/x.sock", &a) == 0 &&
	    !fdp_addr_is_abstract(&a) && a.len == base + 12 &&
	    strcmp(a.sun.sun_path, "/run/x.sock") == 0,
	    "a path is not abstract, len includes the NUL");
	ok(fdp_addr_parse("", &a) == FDP_EADDR, "\"\" gives FDP_EADDR");
	ok(fdp_addr_parse("@", &a) == FDP_EADDR, "\"@\" gives FDP_EADDR");
	ok(fdp_addr_parse(long_text("/", 106), &a) == 0 &&
	    a.len == sizeof(a.sun), "a 107-byte path fits");
	ok(fdp_addr_parse(long_text("/", 107), &a) == FDP_EADDRLEN,
	    "a 108-byte path gives FDP_EADDRLEN");
	ok(fdp_addr_parse(long_text("@", 107), &a) == 0 &&
	    a.len == sizeof(a.sun), "107 bytes after @ fit");
	ok(fdp_addr_parse(long_text("@", 108), &a) == FDP_EADDRLEN,
	    "108 bytes after @ give FDP_EADDRLEN");
}

/* The permission bits of a path, or 0 if it cannot be stat'ed. */
static unsigned
file_mode(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (unsigned)(st.st_mode & 0777) : 0u;
}

/* restrict_mode makes the socket 0600 whatever the umask, and restores it. */
static void
test_restrict_mode(void)
{
	struct fdp_addr a;
	mode_t saved;
	unsigned mode;
	int fd;

	parse(tmp_path("mode.sock"), &a);
	saved = umask(0);
	fd = fdp_listen_unix(&a, SOCK_STREAM, 1);
	mode = file_mode(a.sun.sun_path);
	ok(fd >= 0 && mode == 0600,
	    "restrict_mode under umask 0: mode 0600 (got %04o)", mode);
	ok(umask(022) == 0, "restrict_mode: the process umask is restored");
	if (fd >= 0)
		close(fd);
	fdp_unlink_unix(&a);
	fd = fdp_listen_unix(&a, SOCK_STREAM, 0);
	mode = file_mode(a.sun.sun_path);
	ok(fd >= 0 && mode != 0 && mode != 0600,
	    "no restrict_mode under umask 022: the kernel's mode (%04o)", mode);
	ok(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
	    "a listener is close-on-exec");
	ok(fd >= 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK),
	    "a listener is blocking");
	if (fd >= 0)
		close(fd);
	fdp_unlink_unix(&a);
	umask(saved);
}

/* A socket file with no server behind it is replaced by a working listener. */
static void
test_stale(void)
{
	struct fdp_addr a;
	int fd;

	parse(tmp_path("stale.sock"), &a);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&a.sun, a.len) == -1)
		bail("bind stale");
	close(fd);
	fd = fdp_listen_unix(&a, SOCK_STREAM, 0);
	ok(fd >= 0, "a stale socket file is replaced");
	ok(fd >= 0 && connects(&a, fd), "a client reaches the new listener");
	close(fd);
	fdp_unlink_unix(&a);
	ok(access(a.sun.sun_path, F_OK) == -1 && errno == ENOENT,
	    "fdp_unlink_unix removes the socket file");
}

/* A live server keeps its path: FDP_EINUSE, its file and listener intact. */
static void
test_live(void)
{
	struct fdp_addr a;
	struct stat st;
	int first, before;

	parse(tmp_path("live.sock"), &a);
	if ((first = fdp_listen_unix(&a, SOCK_STREAM, 0)) < 0)
		bail("first listener");
	before = fd_count();
	ok(fdp_listen_unix(&a, SOCK_STREAM, 0) == FDP_EINUSE,
	    "a live server at the path gives FDP_EINUSE");
	ok(fd_count() == before, "FDP_EINUSE leaks no fd");
	ok(lstat(a.sun.sun_path, &st) == 0 && S_ISSOCK(st.st_mode),
	    "the live server's socket file is still there");
	ok(connects(&a, first),
	    "the first listener still accepts a connection");
	close(first);
	fdp_unlink_unix(&a);
}

/* A regular file at the path is an error and is left as it was. */
static void
test_regular_file(void)
{
	struct fdp_addr a;
	char buf[32] = "";
	int fd, before;
	ssize_t n = -1;

	parse(tmp_path("file"), &a);
	fd = open(a.sun.sun_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, "keep me", 7) != 7)
		bail("regular file");
	close(fd);
	before = fd_count();
	errno = 0;
	fd = fdp_listen_unix(&a, SOCK_STREAM, 0);
	ok(fd == FDP_ESYS && errno == EADDRINUSE,
	    "a regular file: FDP_ESYS with EADDRINUSE (got %d, %s)", fd,
	    strerror(errno));
	ok(fd_count() == before, "a regular file: no fd leaked");
	if ((fd = open(a.sun.sun_path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	ok(n == 7 && memcmp(buf, "keep me", 7) == 0,
	    "a regular file: left untouched");
	unlink(a.sun.sun_path);
}

/* An abstract name in use is FDP_EINUSE; fdp_unlink_unix leaves it alone. */
static void
test_abstract(void)
{
	struct fdp_addr a;
	char name[64];
	int first, c;

	snprintf(name, sizeof(name), "@fdpass-addr-test-%d", (int)getpid());
	parse(name, &a);
	if ((first = fdp_listen_unix(&a, SOCK_STREAM, 0)) < 0)
		bail("abstract listener");
	ok(fdp_listen_unix(&a, SOCK_STREAM, 0) == FDP_EINUSE,
	    "an abstract name in use gives FDP_EINUSE");
	fdp_unlink_unix(&a);
	ok(connects(&a, first),
	    "fdp_unlink_unix is harmless for abstract names");
	c = fdp_connect_unix(&a, SOCK_STREAM);
	ok(c >= 0 && (fcntl(c, F_GETFD) & FD_CLOEXEC) &&
	    !(fcntl(c, F_GETFL) & O_NONBLOCK),
	    "fdp_connect_unix gives a close-on-exec, blocking fd");
	close(c);
	close(first);
}

/* Connecting where no server listens fails cleanly. */
static void
test_connect_none(void)
{
	struct fdp_addr a;
	int before = fd_count(), fd;

	parse(tmp_path("nobody.sock"), &a);
	errno = 0;
	fd = fdp_connect_unix(&a, SOCK_STREAM);
	ok(fd == FDP_ESYS && (errno == ENOENT || errno == ECONNREFUSED),
	    "no listener: FDP_ESYS with ENOENT or ECONNREFUSED (%s)",
	    strerror(errno));
	ok(fd_count() == before, "no listener: no fd leaked");
}

/* Broker address: option, $FDPASS_SOCKET, $XDG_RUNTIME_DIR, then default. */
static void
test_broker_address(void)
{
	char buf[128], want[64];
	const char *r;

	setenv("FDPASS_SOCKET", "@from-env", 1);
	setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
	r = fdp_broker_address("@from-option", buf, sizeof(buf));
	ok(r == buf && strcmp(buf, "@from-option") == 0, "the option wins");
	r = fdp_broker_address("", buf, sizeof(buf));
	ok(r != NULL && strcmp(r, "@from-env") == 0,
	    "no option: $FDPASS_SOCKET");
	unsetenv("FDPASS_SOCKET");
	r = fdp_broker_address(NULL, buf, sizeof(buf));
	ok(r != NULL && strcmp(r, "/run/user/4242/fdpass.sock") == 0,
	    "then $XDG_RUNTIME_DIR/fdpass.sock");
	unsetenv("XDG_RUNTIME_DIR");
	if (geteuid() == 0)
		snprintf(want, sizeof(want), "/run/fdpass.sock");
	else
		snprintf(want, sizeof(want), "/tmp/fdpass-%lu.sock",
		    (unsigned long)geteuid());
	r = fdp_broker_address(NULL, buf, sizeof(buf));
	ok(r != NULL && strcmp(r, want) == 0, "then the default %s", want);
	ok(fdp_broker_address(NULL, buf, strlen(want) + 1) == buf,
	    "a buffer just large enough holds it");
	ok(fdp_broker_address(NULL, buf, strlen(want)) == NULL,
	    "a buffer one byte short gives NULL");
}

/* Peer credentials of a socketpair are our own; a pipe has none. */
static void
test_peer_cred(void)
{
	struct fdp_cred c;
	int sv[2], p[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    pipe2(p, O_CLOEXEC) == -1)
		bail("socketpair/pipe");
	ok(fdp_peer_cred(sv[0], &c) == 0 && c.pid == getpid() &&
	    c.uid == getuid() && c.gid == getgid(),
	    "fdp_peer_cred: our pid, uid and gid");
	errno = 0;
	rc = fdp_peer_cred(p[0], &c);
	ok(rc == FDP_ESYS && errno == ENOTSOCK,
	    "fdp_peer_cred on a pipe: FDP_ESYS (%s)", strerror(errno));
	close(sv[0]);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

/* A path socket bound at path (by someone else, say), or -1. */
static int
bind_plain(const char *path)
{
	struct fdp_addr a;

	if (fdp_addr_parse(path, &a) != 0)
		return -1;
	return fdp_listen_unix(&a, SOCK_SEQPACKET, 1);
}

/*
 * The broker's socket file: bound from inside its directory, so a 107-byte
 * path with a long file name binds; removed at the end only while it is
 * still the file bound, never one bound there later; a name starting with
 * '@' is a path like any other.
 */
static void
test_broker_sockfile(void)
{
	char dir[] = "/tmp/aXXXXXX", path[108], cwd[256], cwd2[256];
	struct fdp_sockfile f;
	struct fdp_addr a;
	struct stat st;
	int fd, other;

	if (mkdtemp(dir) == NULL || getcwd(cwd, sizeof(cwd)) == NULL)
		bail("mkdtemp");
	snprintf(path, sizeof(path), "%s/%s", dir, long_text("s",
	    107 - strlen(dir) - 2));
	if (fdp_addr_parse(path, &a) != 0)
		bail("fdp_addr_parse");
	fd = fdp_listen_broker(&a, 0600, &f);
	ok(fd >= 0 && strlen(path) == 107 && stat(path, &st) == 0 &&
	    S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600,
	    "a 107-byte path whose file name is %zu bytes binds, mode 0600",
	    strlen(path) - strlen(dir) - 1);
	ok(getcwd(cwd2, sizeof(cwd2)) != NULL && strcmp(cwd, cwd2) == 0,
	    "and the working directory is as it was");
	fdp_sockfile_close(&f, 1);
	ok(stat(path, &st) == -1 && errno == ENOENT && f.dirfd == -1,
	    "fdp_sockfile_close removes the broker's own file");
	close(fd);

	fd = fdp_listen_broker(&a, 0600, &f);
	unlink(path);
	other = bind_plain(path);
	fdp_sockfile_close(&f, 1);
	ok(fd >= 0 && other >= 0 && stat(path, &st) == 0,
	    "but leaves a socket bound at the same path since");
	close(fd);
	ok(fdp_sockfile_claim(&a, &f) == 0, "fdp_sockfile_claim takes it");
	fdp_sockfile_close(&f, 0);
	ok(stat(path, &st) == 0, "closed without removing, it stays");
	ok(fdp_sockfile_claim(&a, &f) == 0, "claimed again");
	fdp_sockfile_close(&f, 1);
	ok(stat(path, &st) == -1, "and removed");
	close(other);

	snprintf(path, sizeof(path), "%s/@x", dir);
	if (fdp_addr_parse(path, &a) != 0)
		bail("fdp_addr_parse");
	fd = fdp_listen_broker(&a, 0600, &f);
	ok(fd >= 0 && stat(path, &st) == 0 && S_ISSOCK(st.st_mode),
	    "a file name starting with '@' is a path");
	fdp_sockfile_close(&f, 1);
	close(fd);
	close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	ok(fdp_sockfile_claim(&a, &f) == -1 && f.dirfd == -1,
	    "a file that is not a socket is not claimed");
	unlink(path);
	ok(rmdir(dir) == 0, "nothing else left in %s", dir);
}

int
main(void)
{
	int before = fd_count();

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/addr-test.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		bail("mkdtemp");
	test_parse();
	test_restrict_mode();
	test_stale();
	test_live();
	test_regular_file();
	test_abstract();
	test_connect_none();
	test_broker_address();
	test_peer_cred();
	test_broker_sockfile();
	ok(rmdir(tmpdir) == 0, "every file made in %s is gone", tmpdir);
	ok(fd_count() == before, "no fd left open at the end");
	return done_testing();
}
