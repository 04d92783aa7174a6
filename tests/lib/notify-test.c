/*
 * notify-test: lib/notify.c against a test listener, a SOCK_DGRAM socket
 * the test binds and reads the way a service manager would.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "tap.h"

static char tmpdir[64];

/* A manager's notification socket bound at address. */
static int
manager_open(const char *address)
{
	struct fdp_addr a;
	int fd;

	if (fdp_addr_parse(address, &a) != 0)
		bail(address);
	if ((fd = fdp_listen_unix(&a, SOCK_DGRAM, 0)) < 0)
		bail("bind the manager's socket");
	return fd;
}

/* Read one notification; NUL-terminates it and returns its length. */
static ssize_t
manager_read(int fd, char *buf, size_t len, int *fds, size_t *nfds)
{
	ssize_t n;

	n = fdp_recv_msg(fd, buf, len - 1, fds, nfds);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* READY=1 arrives as one datagram with exactly those bytes, on a path. */
static void
test_path(void)
{
	char path[128], buf[256];
	int m, s, fds[4];
	size_t nfds = 4;

	snprintf(path, sizeof(path), "%s/notify", tmpdir);
	m = manager_open(path);
	s = fdp_notify_connect(path);
	ok(s >= 0, "connect to a path notification socket");
	ok(s >= 0 && (fcntl(s, F_GETFD) & FD_CLOEXEC) &&
	    (fcntl(s, F_GETFL) & O_NONBLOCK),
	    "the notification socket is close-on-exec and non-blocking");
	ok(fdp_notify_send(s, "READY=1", NULL, 0) == 0, "send READY=1");
	ok(manager_read(m, buf, sizeof(buf), fds, &nfds) == 7 &&
	    strcmp(buf, "READY=1") == 0 && nfds == 0,
	    "the manager reads READY=1, no fds");
	ok(fdp_notify_send(s, "STATUS=2 groups, 3 fds\nSTOPPING=1", NULL,
	    0) == 0, "send two lines");
	nfds = 4;
	ok(manager_read(m, buf, sizeof(buf), fds, &nfds) > 0 &&
	    strcmp(buf, "STATUS=2 groups, 3 fds\nSTOPPING=1") == 0,
	    "the manager reads both lines in one datagram");
	close(s);
	close(m);
	unlink(path);
}

/* FDSTORE=1 carries fds; the sender keeps its own. */
static void
test_fds(void)
{
	char buf[256];
	int m, s, p[2], fds[4];
	size_t nfds = 4;
	struct stat a, b;

	m = manager_open("@fdpass-notify-test-fds");
	if (pipe2(p, O_CLOEXEC) == -1)
		bail("pipe");
	s = fdp_notify_connect("@fdpass-notify-test-fds");
	ok(s >= 0, "connect to an abstract notification socket");
	ok(fdp_notify_send(s, "FDSTORE=1\nFDNAME=pipe", p, 2) == 0,
	    "send FDSTORE=1 with two fds");
	ok(manager_read(m, buf, sizeof(buf), fds, &nfds) > 0 &&
	    strcmp(buf, "FDSTORE=1\nFDNAME=pipe") == 0 && nfds == 2,
	    "the manager gets the text and two fds");
	ok(nfds == 2 && fstat(fds[0], &a) == 0 && fstat(p[0], &b) == 0 &&
	    a.st_ino == b.st_ino, "the fds are the pipe's");
	ok(fdp_fd_is_open(p[0]) && fdp_fd_is_open(p[1]),
	    "the sender's fds stay open (borrowed)");
	fdp_close_fds(fds, nfds);
	close(p[0]);
	close(p[1]);
	close(s);
	close(m);
}

/* A manager that reads nothing makes a send fail with EAGAIN, never wait. */
static void
test_full(void)
{
	int m, s, rc = 0, i;

	m = manager_open("@fdpass-notify-test-full");
	s = fdp_notify_connect("@fdpass-notify-test-full");
	for (i = 0; i < 100000 && rc == 0; i++)
		rc = fdp_notify_send(s, "STATUS=filling the queue", NULL, 0);
	ok(rc == FDP_ESYS && errno == EAGAIN,
	    "a full queue gives EAGAIN after %d datagrams", i);
	close(s);
	close(m);
}

/* Addresses a manager cannot have are refused clearly. */
static void
test_refused(void)
{
	char path[128];
	int rc;

	rc = fdp_notify_connect("vsock:2:1234");
	ok(rc == FDP_ESYS && errno == EAFNOSUPPORT,
	    "a vsock: address is refused with EAFNOSUPPORT");
	ok(fdp_notify_connect("relative/notify") == FDP_EADDR,
	    "a relative path is refused");
	ok(fdp_notify_connect("") == FDP_EADDR, "an empty address is refused");
	snprintf(path, sizeof(path), "%s/nobody", tmpdir);
	rc = fdp_notify_connect(path);
	ok(rc == FDP_ESYS && errno == ENOENT,
	    "no manager at the path: ENOENT");
}

int
main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fdpass-notify-test.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		bail("mkdtemp");
	test_path();
	test_fds();
	test_full();
	test_refused();
	rmdir(tmpdir);
	return done_testing();
}
