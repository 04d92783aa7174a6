/*
 * describe-test.c: fdp_describe() on one fd of every kind it knows, its
 * promise to leave each fd as it was, and both output formats of each.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "describe-check.h"

/* Files: size, offset, flags, path, and quoting of awkward paths. */
static void
test_file(const char *dir)
{
	char path[PATH_MAX], odd[PATH_MAX];
	char block[100];
	struct stat st;
	char *text;
	int fd;

	snprintf(path, sizeof(path), "%s/data file", dir);
	fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	memset(block, 'x', sizeof(block));
	if (!ok(fd != -1 && write(fd, block, sizeof(block)) == 100,
	    "create a file")) {
		close(fd);
		return;
	}
	fstat(fd, &st);
	describe_as(fd, "file", "an O_APPEND file");
	ok(field_is("path", path), "its path");
	ok(number_is("size", 100) && number_is("offset", 100),
	    "size and offset 100");
	ok(field_is("flags", "rdwr,append"), "flags rdwr,append (%s)",
	    shown("flags"));
	ok(number_is("inode", (long long)st.st_ino), "its inode number");
	ok(field_is("deleted", "no"), "not deleted");
	text = printed(fdp_desc_print_text);
	ok(text_well_formed(text) && strstr(text, " path=\"") != NULL &&
	    strstr(text, "/data file\" ") != NULL,
	    "text quotes a path with a space: %s", text);
	free(text);
	close(fd);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	lseek(fd, 42, SEEK_SET);
	describe_as(fd, "file", "a file read up to 42");
	ok(number_is("offset", 42) && field_is("flags", "rdonly"),
	    "offset 42, flags rdonly");
	ok(lseek(fd, 0, SEEK_CUR) == 42, "the offset did not move");
	unlink(path);
	describe_as(fd, "file", "an unlinked file");
	ok(field_is("path", path) && field_is("deleted", "yes"),
	    "path without \" (deleted)\", deleted=yes");
	close(fd);

	snprintf(odd, sizeof(odd), "%s/q\"t\tn\n\xff=", dir);
	fd = open(odd, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (!ok(fd != -1, "create a file with an awkward name"))
		return;
	describe_as(fd, "file", "the awkward file");
	text = printed(fdp_desc_print_text);
	ok(text_well_formed(text) &&
	    strstr(text, "/q\\\"t\\tn\\n\\xff=\" ") != NULL,
	    "text escapes quote, tab, newline, byte 0xff: %s", text);
	free(text);
	text = printed(fdp_desc_print_json);
	ok(json_well_formed(text) &&
	    strstr(text, "/q\\\"t\\u0009n\\u000a\\udcff=\"") != NULL &&
	    strstr(text, "\"deleted\":false") != NULL &&
	    strstr(text, "\"size\":0,") != NULL,
	    "JSON is well formed and escaped: %s", text);
	free(text);
	close(fd);
	unlink(odd);
}

/* Directories, and O_PATH fds, which allow almost nothing. */
static void
test_dir_and_o_path(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	describe_as(fd, "dir", "a directory");
	ok(field_is("path", dir) && field_is("flags", "rdonly"),
	    "its path, flags rdonly");
	close(fd);

	snprintf(path, sizeof(path), "%s/o_path", dir);
	close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	fd = open(path, O_PATH | O_CLOEXEC);
	describe_as(fd, "file", "an O_PATH fd of a file");
	ok(field_is("path", path) && field_is("flags", "rdonly,path") &&
	    value_of("offset") == NULL,
	    "its path, flags rdonly,path, no offset");
	close(fd);
	unlink(path);
}

/* Pipes and FIFOs: ends, buffer size, and data left where it was. */
static void
test_pipe_and_fifo(const char *dir)
{
	char path[PATH_MAX], buf[8];
	struct stat st;
	int p[2], fd;

	if (!ok(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0, "make a pipe"))
		return;
	fstat(p[0], &st);
	if (write(p[1], "abc", 3) != 3)
		ok(0, "write to the pipe");
	describe_as(p[0], "pipe", "a pipe's read end");
	ok(field_is("end", "read") && field_is("flags", "rdonly,nonblock"),
	    "end read, flags rdonly,nonblock");
	ok(number_is("inode", (long long)st.st_ino) && number_is("queued", 3),
	    "inode, 3 bytes queued");
	ok(value_of("pipe_size") != NULL && atoi(value_of("pipe_size")) > 0,
	    "a buffer size");
	describe_as(p[1], "pipe", "a pipe's write end");
	ok(field_is("end", "write"), "end write");
	ok(read(p[0], buf, sizeof(buf)) == 3 && memcmp(buf, "abc", 3) == 0,
	    "the data is still in the pipe");
	close(p[0]);
	close(p[1]);

	snprintf(path, sizeof(path), "%s/fifo", dir);
	if (!ok(mkfifo(path, 0600) == 0, "make a FIFO"))
		return;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	describe_as(fd, "fifo", "a FIFO's read end");
	ok(field_is("path", path) && field_is("end", "read"),
	    "its path, end read");
	close(fd);
	fd = open(path, O_RDWR | O_CLOEXEC);
	describe_as(fd, "fifo", "a FIFO opened read-write");
	ok(field_is("end", "both"), "end both");
	close(fd);
	unlink(path);
}

/* TCP: a listener on 127.0.0.1 and a client connected to it. */
static void
test_tcp(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char addr[64];
	char *json;
	int lfd, cfd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!ok(lfd != -1 && bind(lfd, (struct sockaddr *)&sin, len) == 0 &&
	    listen(lfd, 1) == 0 &&
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == 0,
	    "listen on 127.0.0.1")) {
		close(lfd);
		return;
	}
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sin.sin_port));
	describe_as(lfd, "socket", "a TCP listener");
	ok(field_is("family", "inet") && field_is("type", "stream") &&
	    field_is("protocol", "tcp"), "inet, stream, tcp");
	ok(field_is("listening", "yes") && field_is("local", addr) &&
	    value_of("peer") == NULL, "listening on %s, no peer", addr);
	ok(field_is("backlog", "1") && field_is("pending", "0") &&
	    field_is("reuseport", "no") && value_of("v6only") == NULL &&
	    value_of("netns") == NULL,
	    "backlog 1 from tcp_info, nothing pending, no reuseport, our netns");
	json = printed(fdp_desc_print_json);
	ok(json_well_formed(json) &&
	    strstr(json, "\"listening\":true") != NULL &&
	    strstr(json, "\"family\":\"inet\"") != NULL,
	    "JSON: %s", json);
	free(json);

	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ok(connect(cfd, (struct sockaddr *)&sin, len) == 0,
	    "connect to it")) {
		describe_as(cfd, "socket", "a TCP client");
		ok(field_is("listening", "no") && field_is("peer", addr),
		    "not listening, peer %s", addr);
	}
	close(cfd);
	close(lfd);
}

/* IPv6 addresses print in brackets; skipped where ::1 is missing. */
static void
test_udp6(void)
{
	struct sockaddr_in6 sin6;
	socklen_t len = sizeof(sin6);
	char addr[64];
	int fd;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin6, len) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin6, &len) == -1) {
		ok(1, "# SKIP no IPv6 loopback: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return;
	}
	snprintf(addr, sizeof(addr), "[::1]:%u", ntohs(sin6.sin6_port));
	describe_as(fd, "socket", "a UDP socket on ::1");
	ok(field_is("family", "inet6") && field_is("type", "dgram") &&
	    field_is("protocol", "udp") && field_is("local", addr) &&
	    field_is("listening", "no"), "inet6, dgram, udp, local %s", addr);
	close(fd);
}

/* Unix sockets: a socketpair's peer credentials, abstract and path names. */
static void
test_unix(const char *dir)
{
	struct sockaddr_un sun;
	char name[64], expect[80];
	socklen_t len;
	int sv[2], fd;

	if (ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0,
	    "make a socketpair")) {
		describe_as(sv[0], "socket", "a socketpair end");
		ok(field_is("family", "unix") && field_is("type", "stream") &&
		    field_is("listening", "no"), "unix, stream, not listening");
		ok(number_is("peer_pid", getpid()) &&
		    number_is("peer_uid", getuid()) &&
		    number_is("peer_gid", getgid()), "peer is this process");
		ok(value_of("local") == NULL && value_of("peer") == NULL,
		    "unnamed addresses left out");
		close(sv[0]);
		close(sv[1]);
	}

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(name, sizeof(name), "fdpass-describe-test-%ld",
	    (long)getpid());
	memcpy(sun.sun_path + 1, name, strlen(name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(name));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	snprintf(expect, sizeof(expect), "@%s", name);
	if (ok(bind(fd, (struct sockaddr *)&sun, len) == 0 &&
	    listen(fd, 1) == 0, "listen on an abstract name")) {
		describe_as(fd, "socket", "an abstract listener");
		ok(field_is("local", expect) && field_is("type", "seqpacket") &&
		    field_is("listening", "yes") &&
		    value_of("peer_pid") == NULL,
		    "local %s, seqpacket, listening, no peer_pid", expect);
		ok(field_is("backlog", "1") && field_is("pending", "0") &&
		    value_of("reuseport") == NULL,
		    "backlog 1 from sock_diag, nothing pending");
	}
	close(fd);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/sock", dir);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ok(bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0,
	    "bind to a path")) {
		describe_as(fd, "socket", "a bound datagram socket");
		ok(field_is("local", sun.sun_path) && field_is("type", "dgram"),
		    "local %s, dgram", sun.sun_path);
	}
	close(fd);
	fd = open(sun.sun_path, O_PATH | O_CLOEXEC);
	describe_as(fd, "socket", "an O_PATH fd of a socket file");
	ok(field_is("path", sun.sun_path) && value_of("family") == NULL,
	    "its path and no socket facts");
	close(fd);
	unlink(sun.sun_path);
}

/* Devices: /dev/null and a pseudo-terminal. */
static void
test_devices(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	describe_as(fd, "chardev", "/dev/null");
	ok(field_is("path", "/dev/null") && number_is("major", 1) &&
	    number_is("minor", 3) && field_is("flags", "rdwr"),
	    "path, major 1, minor 3, rdwr");
	close(fd);

	fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		ok(1, "# SKIP posix_openpt: %s", strerror(errno));
		return;
	}
	describe_as(fd, "tty", "a pty master");
	ok(value_of("path") != NULL && value_of("major") != NULL,
	    "a path and device numbers");
	close(fd);
}

/* eventfd, timerfd, signalfd: counters and settings, nothing consumed. */
static void
test_event_fds(void)
{
	struct itimerspec its = { { 5, 0 }, { 100, 0 } };
	uint64_t counter = 0;
	sigset_t mask;
	double value;
	int fd;

	fd = eventfd(7, EFD_CLOEXEC);
	describe_as(fd, "eventfd", "an eventfd");
	ok(number_is("counter", 7) && field_is("semaphore", "no"),
	    "counter 7, not a semaphore");
	ok(read(fd, &counter, sizeof(counter)) == 8 && counter == 7,
	    "the counter is still 7");
	close(fd);

	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	timerfd_settime(fd, 0, &its, NULL);
	describe_as(fd, "timerfd", "a timerfd");
	value = value_of("value") != NULL ? atof(value_of("value")) : 0;
	ok(field_is("clock", "monotonic") &&
	    field_is("interval", "5.000000000") && value > 90 && value <= 100 &&
	    number_is("ticks", 0), "monotonic, interval 5, value %g, ticks 0",
	    value);
	close(fd);

	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGRTMIN + 2);
	fd = signalfd(-1, &mask, SFD_CLOEXEC);
	describe_as(fd, "signalfd", "a signalfd");
	ok(field_is("signals", "USR1,TERM,RTMIN+2") &&
	    field_is("sigmask", "0000000800004200"),
	    "signals USR1,TERM,RTMIN+2 (%s), sigmask %s", shown("signals"),
	    shown("sigmask"));
	close(fd);
}

/* epoll, inotify and fanotify: the number of things each watches. */
static void
test_watchers(const char *dir)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd, p[2];

	fd = epoll_create1(EPOLL_CLOEXEC);
	if (pipe2(p, O_CLOEXEC) == -1)
		ok(0, "make a pipe");
	epoll_ctl(fd, EPOLL_CTL_ADD, p[0], &ev);
	epoll_ctl(fd, EPOLL_CTL_ADD, p[1], &ev);
	describe_as(fd, "epoll", "an epoll fd");
	ok(number_is("watches", 2), "2 fds watched");
	close(fd);
	close(p[0]);
	close(p[1]);

	fd = inotify_init1(IN_CLOEXEC);
	inotify_add_watch(fd, dir, IN_CREATE);
	describe_as(fd, "inotify", "an inotify fd");
	ok(number_is("watches", 1), "1 watch");
	close(fd);

	fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY);
	if (fd == -1) {
		ok(1, "# SKIP fanotify_init: %s", strerror(errno));
		return;
	}
	fanotify_mark(fd, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, dir);
	describe_as(fd, "fanotify", "a fanotify fd");
	ok(number_is("watches", 1) &&
	    strncmp(shown("fanotify_flags"), "0x", 2) == 0 &&
	    strncmp(shown("event_flags"), "0x", 2) == 0,
	    "1 mark, init flags %s, event flags %s", shown("fanotify_flags"),
	    shown("event_flags"));
	close(fd);
}

/* memfd: its name, size and seals. */
static void
test_memfd(void)
{
	int fd = memfd_create("describe test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (!ok(fd != -1 && ftruncate(fd, 4096) == 0 &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0,
	    "make a sealed memfd"))
		return;
	describe_as(fd, "memfd", "a memfd");
	ok(field_is("name", "describe test") && number_is("size", 4096) &&
	    field_is("seals", "shrink,grow"), "name, size 4096, shrink,grow");
	close(fd);

	fd = memfd_create("unsealable", MFD_CLOEXEC);
	describe_as(fd, "memfd", "a memfd without sealing");
	ok(field_is("seals", "seal"), "sealed against seals");
	close(fd);
}

/* pidfd and POSIX message queues. */
static void
test_pidfd_and_mqueue(void)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 64 };
	char name[64], message[64];
	mqd_t q;
	int fd;

	fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (fd == -1)
		ok(1, "# SKIP pidfd_open: %s", strerror(errno));
	else {
		describe_as(fd, "pidfd", "a pidfd");
		ok(number_is("pid", getpid()), "pid is ours");
		close(fd);
	}

	snprintf(name, sizeof(name), "/fdpass-describe-%ld", (long)getpid());
	q = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
	if (q == (mqd_t)-1) {
		ok(1, "# SKIP mq_open: %s", strerror(errno));
		return;
	}
	mq_unlink(name);
	if (mq_send(q, "hi", 2, 0) == -1)
		ok(0, "mq_send");
	describe_as(q, "mqueue", "a message queue");
	ok(field_is("name", name) && field_is("deleted", "yes") &&
	    number_is("messages", 1) && number_is("max_messages", 4) &&
	    number_is("message_size", 64),
	    "name, deleted, 1 message of at most 4, size 64");
	ok(mq_receive(q, message, sizeof(message), NULL) == 2,
	    "the message is still there");
	mq_close(q);
}

/* Closed and invalid fds are errors, with errno EBADF. */
static void
test_bad_fds(void)
{
	int fd = dup(0);
	int r;

	close(fd);
	errno = 0;
	r = fdp_describe(fd, &desc);
	ok(r == FDP_ESYS && errno == EBADF, "a closed fd gives EBADF");
	errno = 0;
	r = fdp_describe(-1, &desc);
	ok(r == FDP_ESYS && errno == EBADF, "fd -1 gives EBADF");
}

/* A long path fits; a description never overflows its arena. */
static void
test_long_path(const char *dir)
{
	char path[PATH_MAX], part[201];
	int fd, depth;

	memset(part, 'd', sizeof(part) - 1);
	part[sizeof(part) - 1] = '\0';
	snprintf(path, sizeof(path), "%s", dir);
	for (depth = 0; depth < 18; depth++) {
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "/%s", part);
		if (mkdir(path, 0700) == -1)
			break;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	describe_as(fd, "dir", "a directory with a long path");
	ok(field_is("path", path), "the whole path (%zu bytes)", strlen(path));
	close(fd);
	for (; depth > 0; depth--) {
		rmdir(path);
		*strrchr(path, '/') = '\0';
	}
}

/* Something fdp_describe has no name for: the link and fdinfo. */
static void
test_unknown(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);

	if (fd == -1) {
		ok(1, "# SKIP userfaultfd: %s", strerror(errno));
		return;
	}
	describe_as(fd, "unknown", "a userfaultfd");
	ok(field_is("link", "anon_inode:[userfaultfd]") &&
	    value_of("fdinfo") != NULL, "its link and fdinfo: %s",
	    shown("fdinfo"));
	close(fd);
}

int
main(void)
{
	char dir[] = "/tmp/describe-test.XXXXXX";

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_file(dir);
	test_dir_and_o_path(dir);
	test_pipe_and_fifo(dir);
	test_tcp();
	test_udp6();
	test_unix(dir);
	test_devices();
	test_event_fds();
	test_watchers(dir);
	test_memfd();
	test_pidfd_and_mqueue();
	test_bad_fds();
	test_long_path(dir);
	test_unknown();
	rmdir(dir);
	return done_testing();
}
