/*
 * listen-test: lib/listen-spec.c and lib/listen.c, listener specs parsed
 * into settings (every value type, every refusal naming the setting) and
 * created (every kind, settings read back, nothing left behind on failure).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "listen.h"
#include "tap.h"

static char tmpdir[64];
static char err[FDP_LISTEN_ERRLEN];

/* A file name inside the test's temp dir, in a static buffer (four in turn). */
static const char *
tmp_path(const char *name)
{
	static char buf[4][256];
	static int turn;

	turn = (turn + 1) % 4;
	snprintf(buf[turn], sizeof(buf[turn]), "%s/%s", tmpdir, name);
	return buf[turn];
}

/* Parse spec, which must parse; the caller frees. */
static struct fdp_listener *
parse_ok(const char *spec, int deftype)
{
	struct fdp_listener *l;
	int rc = fdp_listener_parse(spec, deftype, &l, err, sizeof(err));

	ok(rc == 0, "\"%s\" parses%s%s", spec, rc != 0 ? ": " : "",
	    rc != 0 ? err : "");
	return rc == 0 ? l : NULL;
}

/* The value setting id was given, or -1 when the spec does not parse or lacks it. */
static long long
value_of(const char *spec, int id)
{
	struct fdp_listener *l;
	long long v = -1;

	if (fdp_listener_parse(spec, FDP_LISTEN_STREAM, &l, err,
	    sizeof(err)) != 0)
		return -1;
	if (LISTEN_GIVEN(l, id))
		v = l->value[id];
	fdp_listener_free(l);
	return v;
}

/* spec must be refused as malformed, with a message holding want. */
static void
refused(const char *spec, int deftype, const char *want)
{
	struct fdp_listener *l = NULL;
	int rc;

	err[0] = '\0';
	rc = fdp_listener_parse(spec, deftype, &l, err, sizeof(err));
	ok(rc == FDP_EADDR && l == NULL && strstr(err, want) != NULL,
	    "\"%s\" refused, naming \"%s\" (%d: %s)", spec, want, rc, err);
	fdp_listener_free(l);
}

/* An int socket option at level, or -1. */
static int
sockopt(int fd, int level, int opt)
{
	int v;
	socklen_t len = sizeof(v);

	return getsockopt(fd, level, opt, &v, &len) == -1 ? -1 : v;
}

/* Parse and open spec; the fd, or a negative code with err set. */
static int
open_spec(const char *spec, int deftype)
{
	struct fdp_listener *l;
	int rc;

	if ((rc = fdp_listener_parse(spec, deftype, &l, err, sizeof(err))) != 0)
		return rc;
	rc = fdp_listener_open(l, err, sizeof(err));
	fdp_listener_free(l);
	return rc;
}

/* A spec opens a close-on-exec, blocking socket of the family and type it names. */
static void
check_spec(const char *spec, int deftype, int family, int type)
{
	int fd = open_spec(spec, deftype);
	int listening = type != SOCK_DGRAM && type != SOCK_RAW;

	ok(fd >= 0 && sockopt(fd, SOL_SOCKET, SO_DOMAIN) == family &&
	    sockopt(fd, SOL_SOCKET, SO_TYPE) == type &&
	    sockopt(fd, SOL_SOCKET, SO_ACCEPTCONN) == listening &&
	    (fcntl(fd, F_GETFD) & FD_CLOEXEC) &&
	    !(fcntl(fd, F_GETFL) & O_NONBLOCK),
	    "listener \"%s\": family %d, type %d, %s (fd %d%s%s)", spec, family,
	    type, listening ? "listening" : "bound", fd, fd < 0 ? ": " : "",
	    fd < 0 ? err : "");
	if (fd >= 0)
		close(fd);
}

/* Whether this host can bind an IPv6 socket to ::1. */
static int
have_ipv6_loopback(void)
{
	struct sockaddr_in6 sin6;
	int fd, rc;

	if ((fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	rc = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6));
	close(fd);
	return rc == 0;
}

/* Addresses: every scheme, and the socket type taken from deftype. */
static void
test_addresses(void)
{
	char spec[PATH_MAX];
	int fd, family;

	check_spec("tcp:127.0.0.1:0", FDP_LISTEN_STREAM, AF_INET, SOCK_STREAM);
	check_spec("udp:127.0.0.1:0", FDP_LISTEN_STREAM, AF_INET, SOCK_DGRAM);
	if (have_ipv6_loopback())
		check_spec("tcp:[::1]:0", FDP_LISTEN_STREAM, AF_INET6,
		    SOCK_STREAM);
	else
		ok(1, "# SKIP no IPv6");
	fd = open_spec("0", FDP_LISTEN_STREAM);
	family = fd >= 0 ? sockopt(fd, SOL_SOCKET, SO_DOMAIN) : -1;
	ok(fd >= 0 && (family == AF_INET6 || family == AF_INET) &&
	    sockopt(fd, SOL_SOCKET, SO_ACCEPTCONN) == 1,
	    "listener \"0\": any address, listening (family %d)", family);
	if (fd >= 0)
		close(fd);
	check_spec("127.0.0.1:0", FDP_LISTEN_DGRAM, AF_INET, SOCK_DGRAM);
	snprintf(spec, sizeof(spec), "unix:%s", tmp_path("seq.sock"));
	check_spec(spec, FDP_LISTEN_SEQPACKET, AF_UNIX, SOCK_SEQPACKET);
	unlink(spec + 5);
	snprintf(spec, sizeof(spec), "@fdpass-listen-test-%d", (int)getpid());
	check_spec(spec, FDP_LISTEN_STREAM, AF_UNIX, SOCK_STREAM);
	check_spec("netlink:route", FDP_LISTEN_STREAM, AF_NETLINK, SOCK_RAW);
}

/* Malformed addresses and ports outside 0-65535 are refused before anything opens. */
static void
test_address_errors(void)
{
	static const struct {
		const char	*spec;
		int		 deftype;
		const char	*want;
	} bad[] = {
		{ "", FDP_LISTEN_STREAM, "no address" },
		{ "tcp:", FDP_LISTEN_STREAM, "port ''" },
		{ "tcp:host", FDP_LISTEN_STREAM, "port 'host'" },
		{ "tcp:[::1", FDP_LISTEN_STREAM, "brackets" },
		{ "tcp:[]:80", FDP_LISTEN_STREAM, "brackets" },
		{ "tcp:127.0.0.1:notaport", FDP_LISTEN_STREAM, "port 'notaport'" },
		{ "tcp:127.0.0.1:65536", FDP_LISTEN_STREAM, "0 to 65535" },
		{ "tcp:127.0.0.1:65537", FDP_LISTEN_STREAM, "0 to 65535" },
		{ "tcp:127.0.0.1:70000", FDP_LISTEN_STREAM, "0 to 65535" },
		{ "tcp:127.0.0.1:99999999999999999999", FDP_LISTEN_STREAM,
		    "0 to 65535" },
		{ "udp:127.0.0.1:-1", FDP_LISTEN_STREAM, "0 to 65535" },
		{ "tcp:127.0.0.1:+80", FDP_LISTEN_STREAM, "0 to 65535" },
		{ "tcp:127.0.0.1: 80", FDP_LISTEN_STREAM, "0 to 65535" },
		{ "tcp:127.0.0.1:http", FDP_LISTEN_STREAM, "0 to 65535" },
		{ "65536", FDP_LISTEN_STREAM, "0 to 65535" },
		{ "a:b:c", FDP_LISTEN_STREAM, "expected tcp:HOST:PORT" },
		{ "127.0.0.1:0", FDP_LISTEN_SEQPACKET, "needs a Unix address" },
		{ "unix:", FDP_LISTEN_STREAM, "malformed address" },
		{ "vsock:1", FDP_LISTEN_STREAM, "vsock:CID:PORT" },
		{ "vsock:x:1", FDP_LISTEN_STREAM, "numbers" },
		{ "netlink:nosuchfamily", FDP_LISTEN_STREAM, "netlink family" },
		{ "netlink:route:x", FDP_LISTEN_STREAM, "netlink group" },
		{ "mqueue:noslash", FDP_LISTEN_STREAM, "message queue name" },
		{ "mqueue:/a/b", FDP_LISTEN_STREAM, "message queue name" },
		{ "fifo:", FDP_LISTEN_STREAM, "expected a path" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i].spec, bad[i].deftype, bad[i].want);
	fdp_listener_free(parse_ok("tcp:127.0.0.1:65535", FDP_LISTEN_STREAM));
	fdp_listener_free(parse_ok("udp:[::1]:0", FDP_LISTEN_STREAM));
}

/* Values as systemd writes them: booleans, sizes, time spans, modes, names. */
static void
test_values(void)
{
	struct fdp_listener *l;

	ok(value_of("tcp:*:0,NoDelay=yes", LS_NO_DELAY) == 1 &&
	    value_of("tcp:*:0,NoDelay=On", LS_NO_DELAY) == 1 &&
	    value_of("tcp:*:0,NoDelay=true", LS_NO_DELAY) == 1 &&
	    value_of("tcp:*:0,NoDelay=0", LS_NO_DELAY) == 0 &&
	    value_of("tcp:*:0,NoDelay=off", LS_NO_DELAY) == 0,
	    "booleans: yes, on, true, 0, off");
	ok(value_of("tcp:*:0,nodelay=yes", LS_NO_DELAY) == 1 &&
	    value_of("tcp:*:0,BACKLOG=9", LS_BACKLOG) == 9,
	    "names are case-insensitive");
	ok(value_of("tcp:*:0,ReceiveBuffer=64K", LS_RECEIVE_BUFFER) == 65536 &&
	    value_of("tcp:*:0,ReceiveBuffer=3M", LS_RECEIVE_BUFFER) ==
	    3 * 1048576 &&
	    value_of("tcp:*:0,SendBuffer=1G", LS_SEND_BUFFER) == 1073741824 &&
	    value_of("tcp:*:0,SendBuffer=4096", LS_SEND_BUFFER) == 4096,
	    "sizes: K, M, G are 1024-based");
	ok(value_of("tcp:*:0,DeferAcceptSec=5", LS_DEFER_ACCEPT) == 5 &&
	    value_of("tcp:*:0,DeferAcceptSec=5s", LS_DEFER_ACCEPT) == 5 &&
	    value_of("tcp:*:0,KeepAliveTimeSec=1min 30s", LS_KEEP_ALIVE_TIME) ==
	    90 &&
	    value_of("tcp:*:0,KeepAliveTimeSec=2h", LS_KEEP_ALIVE_TIME) == 7200,
	    "time spans: seconds, units, sums");
	ok(value_of("unix:/x,SocketMode=0660", LS_SOCKET_MODE) == 0660 &&
	    value_of("unix:/x,SocketMode=600", LS_SOCKET_MODE) == 0600,
	    "modes are octal");
	ok(value_of("unix:/x,SocketUser=root", LS_SOCKET_USER) == 0 &&
	    value_of("unix:/x,SocketUser=4242", LS_SOCKET_USER) == 4242 &&
	    value_of("unix:/x,SocketGroup=root", LS_SOCKET_GROUP) == 0,
	    "users and groups by name or number");
	ok(value_of("tcp:*:0,IPTOS=low-delay", LS_IP_TOS) == 0x10 &&
	    value_of("tcp:*:0,IPTOS=throughput", LS_IP_TOS) == 0x08 &&
	    value_of("tcp:*:0,IPTOS=46", LS_IP_TOS) == 46,
	    "IPTOS: a number or ip(7)'s words");
	ok(value_of("tcp:[::]:0,BindIPv6Only=ipv6-only", LS_BIND_IPV6_ONLY) ==
	    V6_ONLY && value_of("tcp:*:0,BindIPv6Only=both",
	    LS_BIND_IPV6_ONLY) == V6_BOTH &&
	    value_of("tcp:*:0,Timestamping=nsec", LS_TIMESTAMPING) == TS_NSEC,
	    "choices");
	if ((l = parse_ok("unix:/run/a,b", FDP_LISTEN_STREAM)) != NULL) {
		ok(strcmp(l->path, "/run/a,b") == 0 && l->given == 0,
		    "a comma not followed by Name= stays in the path");
		fdp_listener_free(l);
	}
	l = parse_ok("unix:/run/a.sock,Symlinks=/run/b /run/c,Backlog=5,"
	    "Symlinks=/run/d,y", FDP_LISTEN_STREAM);
	if (l != NULL) {
		ok(strcmp(l->path, "/run/a.sock") == 0 && l->nsymlinks == 3 &&
		    strcmp(l->symlinks[0].path, "/run/b") == 0 &&
		    strcmp(l->symlinks[2].path, "/run/d,y") == 0 &&
		    l->value[LS_BACKLOG] == 5,
		    "Symlinks= takes blank-separated paths and repeats add more");
		fdp_listener_free(l);
	}
	if ((l = parse_ok("fifo:/x,Symlinks=/a,Symlinks=", 0)) != NULL) {
		ok(l->nsymlinks == 0, "an empty Symlinks= resets the list");
		fdp_listener_free(l);
	}
}

/*
 * Sizes and time spans in every form systemd's parse_size and parse_sec
 * take, turned into what the kernel takes: bytes, and whole seconds cut
 * as systemd cuts them. -1: nothing set, the kernel's default stays.
 */
static void
test_systemd_values(void)
{
	static const struct {
		const char	*spec;
		int		 id;
		long long	 want;
	} good[] = {
		{ "tcp:*:0,ReceiveBuffer=1.5M", LS_RECEIVE_BUFFER, 1572864 },
		{ "tcp:*:0,ReceiveBuffer=0.5K", LS_RECEIVE_BUFFER, 512 },
		{ "tcp:*:0,ReceiveBuffer=1.0001K", LS_RECEIVE_BUFFER, 1024 },
		{ "tcp:*:0,ReceiveBuffer=10.M", LS_RECEIVE_BUFFER, 10485760 },
		{ "tcp:*:0,ReceiveBuffer=1G 512M", LS_RECEIVE_BUFFER, 1610612736 },
		{ "tcp:*:0,ReceiveBuffer=1M 1K 1B", LS_RECEIVE_BUFFER, 1049601 },
		{ "tcp:*:0,ReceiveBuffer= 64 K ", LS_RECEIVE_BUFFER, 65536 },
		{ "tcp:*:0,ReceiveBuffer=512B", LS_RECEIVE_BUFFER, 512 },
		{ "tcp:*:0,ReceiveBuffer=+4096", LS_RECEIVE_BUFFER, 4096 },
		{ "tcp:*:0,ReceiveBuffer=0.001T", LS_RECEIVE_BUFFER, 1099511627 },
		{ "tcp:*:0,SendBuffer=0.000001P", LS_SEND_BUFFER, 1125899906 },
		{ "tcp:*:0,SendBuffer=0.0000000001E", LS_SEND_BUFFER, 115292150 },
		{ "tcp:*:0,SendBuffer=2147483647", LS_SEND_BUFFER, 2147483647 },
		{ "tcp:*:0,SendBuffer=0", LS_SEND_BUFFER, -1 },
		{ "tcp:*:0,SendBuffer=64K,SendBuffer=0", LS_SEND_BUFFER, -1 },
		{ "fifo:/f,PipeSize=0.25M", LS_PIPE_SIZE, 262144 },
		{ "tcp:*:0,DeferAcceptSec=1.5s", LS_DEFER_ACCEPT, 1 },
		{ "tcp:*:0,DeferAcceptSec=1.5", LS_DEFER_ACCEPT, 1 },
		{ "tcp:*:0,DeferAcceptSec=2.9999999s", LS_DEFER_ACCEPT, 2 },
		{ "tcp:*:0,DeferAcceptSec=2min", LS_DEFER_ACCEPT, 120 },
		{ "tcp:*:0,DeferAcceptSec=1h 30min", LS_DEFER_ACCEPT, 5400 },
		{ "tcp:*:0,DeferAcceptSec=1h30min", LS_DEFER_ACCEPT, 5400 },
		{ "tcp:*:0,DeferAcceptSec=1.5min", LS_DEFER_ACCEPT, 90 },
		{ "tcp:*:0,DeferAcceptSec=.5min", LS_DEFER_ACCEPT, 30 },
		{ "tcp:*:0,DeferAcceptSec=90 s", LS_DEFER_ACCEPT, 90 },
		{ "tcp:*:0,DeferAcceptSec=3000ms", LS_DEFER_ACCEPT, 3 },
		{ "tcp:*:0,DeferAcceptSec=2500msec", LS_DEFER_ACCEPT, 2 },
		{ "tcp:*:0,DeferAcceptSec=1000000us", LS_DEFER_ACCEPT, 1 },
		{ "tcp:*:0,DeferAcceptSec=2000000\xc2\xb5s", LS_DEFER_ACCEPT, 2 },
		{ "tcp:*:0,DeferAcceptSec=3000000\xce\xbcs", LS_DEFER_ACCEPT, 3 },
		{ "tcp:*:0,DeferAcceptSec=1d", LS_DEFER_ACCEPT, 86400 },
		{ "tcp:*:0,DeferAcceptSec=1w", LS_DEFER_ACCEPT, 604800 },
		{ "tcp:*:0,DeferAcceptSec=1M", LS_DEFER_ACCEPT, 2629800 },
		{ "tcp:*:0,DeferAcceptSec=1y", LS_DEFER_ACCEPT, 31557600 },
		{ "tcp:*:0,DeferAcceptSec=2 minutes 3 seconds", LS_DEFER_ACCEPT,
		    123 },
		{ "tcp:*:0,DeferAcceptSec=500ms", LS_DEFER_ACCEPT, 0 },
		{ "tcp:*:0,DeferAcceptSec=0", LS_DEFER_ACCEPT, -1 },
		{ "tcp:*:0,DeferAcceptSec=infinity", LS_DEFER_ACCEPT, 2147483647 },
		{ "tcp:*:0,DeferAcceptSec= infinity ", LS_DEFER_ACCEPT,
		    2147483647 },
		{ "tcp:*:0,KeepAliveIntervalSec=infinity", LS_KEEP_ALIVE_INTERVAL,
		    32767 },
		{ "tcp:*:0,KeepAliveIntervalSec=32767.9", LS_KEEP_ALIVE_INTERVAL,
		    32767 },
		{ "tcp:*:0,KeepAliveTimeSec=infinity", LS_KEEP_ALIVE_TIME, -1 },
		{ "tcp:*:0,KeepAliveTimeSec=0s", LS_KEEP_ALIVE_TIME, -1 },
		{ "tcp:*:0,KeepAliveTimeSec=1.5s", LS_KEEP_ALIVE_TIME, 1 },
	};
	static const struct {
		const char	*spec;
		const char	*want;
	} bad[] = {
		/* Garbage stays garbage. */
		{ "tcp:*:0,ReceiveBuffer=1.5.5M", "ReceiveBuffer=1.5.5M: expected "
		    "a size" },
		{ "tcp:*:0,ReceiveBuffer=1k", "ReceiveBuffer=1k: expected" },
		{ "tcp:*:0,ReceiveBuffer=1KB", "ReceiveBuffer=1KB: expected" },
		{ "tcp:*:0,ReceiveBuffer=1M 2G", "ReceiveBuffer=1M 2G: expected" },
		{ "tcp:*:0,ReceiveBuffer=1 2", "ReceiveBuffer=1 2: expected" },
		{ "tcp:*:0,ReceiveBuffer=.5M", "ReceiveBuffer=.5M: expected" },
		{ "tcp:*:0,ReceiveBuffer=-1", "ReceiveBuffer=-1: expected" },
		{ "tcp:*:0,ReceiveBuffer=0x10", "ReceiveBuffer=0x10: expected" },
		{ "tcp:*:0,ReceiveBuffer=1e3", "ReceiveBuffer=1e3: expected" },
		{ "tcp:*:0,ReceiveBuffer=", "ReceiveBuffer=: expected" },
		{ "tcp:*:0,ReceiveBuffer=99999999999999999999",
		    "ReceiveBuffer=99999999999999999999: expected" },
		{ "tcp:*:0,ReceiveBuffer=16384E", "ReceiveBuffer=16384E: "
		    "expected" },
		{ "tcp:*:0,DeferAcceptSec=1.5.5s", "DeferAcceptSec=1.5.5s: "
		    "expected a time span" },
		{ "tcp:*:0,DeferAcceptSec=5.s", "DeferAcceptSec=5.s: expected" },
		{ "tcp:*:0,DeferAcceptSec=.", "DeferAcceptSec=.: expected" },
		{ "tcp:*:0,DeferAcceptSec=-1", "DeferAcceptSec=-1: expected" },
		{ "tcp:*:0,DeferAcceptSec=5S", "DeferAcceptSec=5S: expected" },
		{ "tcp:*:0,DeferAcceptSec=5mins", "DeferAcceptSec=5mins: expected" },
		{ "tcp:*:0,DeferAcceptSec=infinity 5",
		    "DeferAcceptSec=infinity 5: expected" },
		{ "tcp:*:0,DeferAcceptSec=5 infinity",
		    "DeferAcceptSec=5 infinity: expected" },
		{ "tcp:*:0,DeferAcceptSec=forever", "DeferAcceptSec=forever: "
		    "expected" },
		{ "tcp:*:0,DeferAcceptSec=1e3", "DeferAcceptSec=1e3: expected" },
		{ "tcp:*:0,DeferAcceptSec=600000y", "DeferAcceptSec=600000y: "
		    "expected" },
		/* Well written, but past what the kernel's field takes. */
		{ "tcp:*:0,ReceiveBuffer=2G", "ReceiveBuffer=2G: 2147483648 "
		    "bytes, more than the kernel takes (at most 2147483647)" },
		{ "tcp:*:0,ReceiveBuffer=1T", "ReceiveBuffer=1T: 1099511627776 "
		    "bytes, more than the kernel takes" },
		{ "fifo:/f,PipeSize=1.5G 512M", "PipeSize=1.5G 512M: 2147483648 "
		    "bytes" },
		{ "tcp:*:0,DeferAcceptSec=100y", "DeferAcceptSec=100y: 3155760000 "
		    "seconds" },
		{ "tcp:*:0,KeepAliveTimeSec=500ms", "KeepAliveTimeSec=500ms: 0 "
		    "seconds (cut to whole seconds, as systemd cuts them); the "
		    "kernel takes 1 to 32767" },
		{ "tcp:*:0,KeepAliveIntervalSec=9.2h", "KeepAliveIntervalSec=9.2h: "
		    "33120 seconds" },
	};
	struct fdp_listener *l;
	size_t i;
	long long v;
	int rc;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rc = fdp_listener_parse(good[i].spec, FDP_LISTEN_STREAM, &l, err,
		    sizeof(err));
		v = rc != 0 ? -2 : LISTEN_GIVEN(l, good[i].id) ?
		    l->value[good[i].id] : -1;
		ok(v == good[i].want, "\"%s\" is %lld (%lld%s%s)",
		    good[i].spec, good[i].want, v, rc != 0 ? ": " : "",
		    rc != 0 ? err : "");
		fdp_listener_free(rc == 0 ? l : NULL);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i].spec, FDP_LISTEN_STREAM, bad[i].want);
}

/* Bad values, unknown names and settings on the wrong kind, each named. */
static void
test_setting_errors(void)
{
	static const struct {
		const char	*spec;
		const char	*want;
	} bad[] = {
		{ "tcp:*:0,Bogus=1", "unknown setting 'Bogus' (fdpass(1) lists "
		    "them: LISTENERS, Settings)" },
		{ "tcp:*:0,Accept=yes", "unknown setting 'Accept'" },
		{ "tcp:*:0,Backlog=x", "Backlog=x: expected a whole number" },
		{ "tcp:*:0,Backlog=-1", "Backlog=-1" },
		{ "tcp:*:0,Backlog=4294967296", "Backlog=4294967296" },
		{ "tcp:*:0,NoDelay=maybe", "NoDelay=maybe: expected yes or no" },
		{ "tcp:*:0,ReceiveBuffer=K", "ReceiveBuffer=K" },
		{ "tcp:*:0,DeferAcceptSec=5x", "DeferAcceptSec=5x: expected a time" },
		{ "tcp:*:0,DeferAcceptSec=", "DeferAcceptSec=" },
		{ "tcp:*:0,KeepAliveTimeSec=10h", "KeepAliveTimeSec=10h" },
		{ "tcp:*:0,KeepAliveProbes=128", "KeepAliveProbes=128" },
		{ "tcp:*:0,IPTTL=0", "IPTTL=0" },
		{ "tcp:*:0,IPTTL=256", "IPTTL=256" },
		{ "tcp:*:0,IPTOS=fast", "IPTOS=fast" },
		{ "tcp:*:0,Mark=4294967296", "Mark=4294967296" },
		{ "tcp:*:0,BindIPv6Only=maybe", "BindIPv6Only=maybe: expected one "
		    "of default both ipv6-only" },
		{ "tcp:127.0.0.1:0,BindIPv6Only=both", "BindIPv6Only=" },
		{ "tcp:*:0,Timestamping=ms", "Timestamping=ms" },
		{ "tcp:*:0,BindToDevice=abcdefghijklmnop", "BindToDevice=" },
		{ "tcp:*:0,BindToDevice=a/b", "BindToDevice=a/b" },
		{ "tcp:*:0,TCPCongestion=", "TCPCongestion=" },
		{ "tcp:*:0,NetworkNamespacePath=", "NetworkNamespacePath=" },
		{ "tcp:*:0,SocketProtocol=quic", "SocketProtocol=quic" },
		{ "tcp:*:0,SocketProtocol=udplite", "SocketProtocol=udplite" },
		{ "udp:*:0,SocketProtocol=sctp", "SocketProtocol=sctp" },
		{ "udp:*:0,SocketProtocol=mptcp", "SocketProtocol=mptcp" },
		{ "unix:/x,SocketMode=0800", "SocketMode=0800" },
		{ "unix:/x,SocketMode=017777", "SocketMode=017777" },
		{ "unix:/x,SocketUser=no-such-user-here", "SocketUser=" },
		{ "unix:/x,SocketGroup=no-such-group-here", "SocketGroup=" },
		{ "unix:/x,DirectoryMode=rwx", "DirectoryMode=rwx" },
		{ "mqueue:/q,MessageQueueMaxMessages=5", "go together" },
		{ "mqueue:/q,MessageQueueMaxMessages=0,"
		    "MessageQueueMessageSize=5", "MessageQueueMaxMessages=0" },
		{ "fifo:/f,PipeSize=big", "PipeSize=big" },
		/* Settings that do not apply to the kind. */
		{ "udp:*:0,NoDelay=yes", "NoDelay= applies to IP stream" },
		{ "udp:*:0,Backlog=5", "Backlog= applies to" },
		{ "udp:*:0,DeferAcceptSec=5", "DeferAcceptSec= applies to" },
		{ "udp:*:0,TCPCongestion=reno", "TCPCongestion= applies to" },
		{ "tcp:*:0,Broadcast=yes", "Broadcast= applies to IP datagram" },
		{ "tcp:*:0,PassCredentials=yes", "PassCredentials= applies to" },
		{ "tcp:*:0,SocketMode=0600", "SocketMode= applies to" },
		{ "tcp:*:0,PipeSize=64K", "PipeSize= applies to FIFOs only" },
		{ "@abstract,SocketMode=0600", "SocketMode= applies to Unix "
		    "sockets on a path" },
		{ "@abstract,Symlinks=/x", "Symlinks= applies to" },
		{ "unix:/x,ReusePort=yes", "ReusePort= applies to IP sockets" },
		{ "unix:/x,Mark=1", "Mark= applies to" },
		{ "fifo:/f,Backlog=5", "Backlog= applies to" },
		{ "fifo:/f,NetworkNamespacePath=/run/netns/x",
		    "NetworkNamespacePath= applies to" },
		{ "fifo:/f,ReceiveBuffer=4K", "ReceiveBuffer= applies to sockets" },
		{ "mqueue:/q,Symlinks=/x", "Symlinks= applies to" },
		{ "special:/dev/null,SocketMode=0600", "SocketMode= applies to" },
		{ "tcp:*:0,Writable=yes", "Writable= applies to special files" },
		{ "vsock::1,ReusePort=yes", "ReusePort= applies to" },
		{ "netlink:route,NoDelay=yes", "NoDelay= applies to" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i].spec, FDP_LISTEN_STREAM, bad[i].want);
	refused("unix:/x,Backlog=5", FDP_LISTEN_DGRAM, "Backlog= applies to");
}

/*
 * Every setting: a value it takes on a kind it applies to, a value it
 * refuses, and a kind it does not apply to; each refusal names it.
 */
static void
test_every_setting(void)
{
	static const struct {
		const char	*name;
		const char	*applies;	/* a spec it applies to */
		const char	*good;
		const char	*bad;
		const char	*elsewhere;	/* a spec it does not apply to */
	} settings[] = {
		{ "Backlog", "tcp:*:0", "4096", "-5", "udp:*:0" },
		{ "BindIPv6Only", "tcp:[::]:0", "ipv6-only", "yes", "unix:/x" },
		{ "ReusePort", "udp:*:0", "yes", "2", "unix:/x" },
		{ "FreeBind", "tcp:*:0", "true", "free", "@x" },
		{ "Transparent", "udp:*:0", "on", "onn", "fifo:/f" },
		{ "DeferAcceptSec", "tcp:*:0", "1min", "1 min ago", "udp:*:0" },
		{ "NoDelay", "tcp:*:0", "1", "01", "udp:*:0" },
		{ "KeepAlive", "tcp:*:0", "yes", "", "udp:*:0" },
		{ "KeepAliveTimeSec", "tcp:*:0", "2h", "32768", "udp:*:0" },
		{ "KeepAliveIntervalSec", "tcp:*:0", "75s", "0.5", "unix:/x" },
		{ "KeepAliveProbes", "tcp:*:0", "9", "0", "udp:*:0" },
		{ "Mark", "tcp:*:0", "4294967295", "0x10", "unix:/x" },
		{ "Priority", "udp:*:0", "6", "-1", "netlink:route" },
		{ "IPTOS", "tcp:*:0", "reliability", "256", "@x" },
		{ "IPTTL", "udp:*:0", "255", "0", "unix:/x" },
		{ "ReceiveBuffer", "netlink:route", "1.5M", "1.5.5M", "fifo:/f" },
		{ "SendBuffer", "@x", "1G", "2G", "mqueue:/q" },
		{ "BindToDevice", "tcp:*:0", "eth0", "eth 0", "unix:/x" },
		{ "TCPCongestion", "tcp:*:0", "cubic", "a/b", "udp:*:0" },
		{ "Broadcast", "udp:*:0", "yes", "all", "tcp:*:0" },
		{ "PassCredentials", "unix:/x", "yes", "maybe", "tcp:*:0" },
		{ "PassSecurity", "@x", "no", "maybe", "netlink:route" },
		{ "PassPacketInfo", "netlink:route", "yes", "maybe", "unix:/x" },
		{ "Timestamping", "unix:/x", "ns", "ps", "vsock::1" },
		{ "PipeSize", "fifo:/f", "64K", "64KB", "special:/dev/null" },
		{ "MessageQueueMaxMessages", "mqueue:/q", "10", "ten", "fifo:/f" },
		{ "MessageQueueMessageSize", "mqueue:/q", "8192", "8 K",
		    "tcp:*:0" },
		{ "SocketMode", "mqueue:/q", "0600", "0680", "@x" },
		{ "SocketUser", "fifo:/f", "root", "no-such-user-here", "tcp:*:0" },
		{ "SocketGroup", "unix:/x", "0", "no-such-group-here",
		    "special:/dev/null" },
		{ "DirectoryMode", "fifo:/f", "0700", "u=rwx", "mqueue:/q" },
		{ "Symlinks", "unix:/x", "/a /b", NULL, "@x" },
		{ "NetworkNamespacePath", "@x", "/run/netns/a", "", "fifo:/f" },
		{ "SocketProtocol", "tcp:*:0", "mptcp", "tcp", "unix:/x" },
		{ "Writable", "special:/dev/null", "yes", "rw", "fifo:/f" },
	};
	char spec[256], want[64];
	const char *pair;
	size_t i;

	ok(sizeof(settings) / sizeof(settings[0]) == LS_COUNT,
	    "the table below has every setting");
	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		pair = strncmp(settings[i].name, "MessageQueue", 12) != 0 ? "" :
		    settings[i].name[13] == 'a' ? ",MessageQueueMessageSize=1" :
		    ",MessageQueueMaxMessages=1";
		snprintf(spec, sizeof(spec), "%s,%s=%s%s", settings[i].applies,
		    settings[i].name, settings[i].good, pair);
		fdp_listener_free(parse_ok(spec, FDP_LISTEN_STREAM));
		snprintf(want, sizeof(want), "%s=", settings[i].name);
		if (settings[i].bad != NULL) {
			snprintf(spec, sizeof(spec), "%s,%s=%s%s",
			    settings[i].applies, settings[i].name,
			    settings[i].bad, pair);
			refused(spec, FDP_LISTEN_STREAM, want);
		}
		snprintf(spec, sizeof(spec), "%s,%s=%s", settings[i].elsewhere,
		    settings[i].name, settings[i].good);
		snprintf(want, sizeof(want), "%s= applies to", settings[i].name);
		refused(spec, FDP_LISTEN_STREAM, want);
	}
}

/* Settings on a TCP socket, read back with getsockopt. */
static void
test_tcp_settings(void)
{
	char cc[16] = "";
	socklen_t len = sizeof(cc);
	int fd, idle;

	fd = open_spec("tcp:127.0.0.1:0,ReusePort=yes,FreeBind=yes,NoDelay=1,"
	    "KeepAlive=yes,KeepAliveTimeSec=1min,KeepAliveIntervalSec=7,"
	    "KeepAliveProbes=4,DeferAcceptSec=3,IPTOS=low-delay,IPTTL=9,"
	    "Priority=3,SendBuffer=16K,TCPCongestion=reno", FDP_LISTEN_STREAM);
	if (fd < 0) {
		ok(0, "a TCP listener with settings opens: %s", err);
		return;
	}
	ok(sockopt(fd, SOL_SOCKET, SO_REUSEPORT) == 1 &&
	    sockopt(fd, IPPROTO_IP, IP_FREEBIND) == 1 &&
	    sockopt(fd, IPPROTO_TCP, TCP_NODELAY) == 1 &&
	    sockopt(fd, SOL_SOCKET, SO_KEEPALIVE) == 1 &&
	    sockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE) == 60 &&
	    sockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL) == 7 &&
	    sockopt(fd, IPPROTO_TCP, TCP_KEEPCNT) == 4 &&
	    sockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT) >= 3 &&
	    sockopt(fd, IPPROTO_IP, IP_TOS) == 0x10 &&
	    sockopt(fd, IPPROTO_IP, IP_TTL) == 9 &&
	    sockopt(fd, SOL_SOCKET, SO_PRIORITY) == 3 &&
	    sockopt(fd, SOL_SOCKET, SO_SNDBUF) >= 16384,
	    "a TCP listener carries every setting given");
	ok(getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &len) == 0 &&
	    strcmp(cc, "reno") == 0, "TCPCongestion=reno (got %s)", cc);
	close(fd);
	fd = open_spec("tcp:127.0.0.1:0", FDP_LISTEN_STREAM);
	idle = fd >= 0 ? sockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE) : -1;
	if (fd >= 0)
		close(fd);
	fd = open_spec("tcp:127.0.0.1:0,DeferAcceptSec=infinity,"
	    "KeepAliveTimeSec=infinity,KeepAliveIntervalSec=infinity,"
	    "SendBuffer=0.5K", FDP_LISTEN_STREAM);
	ok(fd >= 0 && sockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT) > 3600 &&
	    sockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE) == idle &&
	    sockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL) == 32767 &&
	    sockopt(fd, SOL_SOCKET, SO_SNDBUF) >= 1024,
	    "infinity: the longest defer and interval the kernel takes, the "
	    "default idle time (%d) as under systemd (%s)", idle,
	    fd < 0 ? err : "");
	if (fd >= 0)
		close(fd);
	fd = open_spec("tcp:127.0.0.1:0,DeferAcceptSec=1.5s", FDP_LISTEN_STREAM);
	ok(fd >= 0 && sockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT) == 1,
	    "DeferAcceptSec=1.5s is 1 second (%s)", fd < 0 ? err : "");
	if (fd >= 0)
		close(fd);
	fd = open_spec("tcp:127.0.0.1:0,TCPCongestion=nosuchalgo",
	    FDP_LISTEN_STREAM);
	ok(fd == FDP_ESYS && strstr(err, "TCPCongestion=nosuchalgo") &&
	    strstr(err, "no such congestion"),
	    "an algorithm the kernel lacks is refused, named (%s)", err);
	if (fd >= 0)
		close(fd);
}

/* The kinds besides IP sockets: Unix with its file, FIFO, special, queue. */
static void
test_other_kinds(void)
{
	char spec[PATH_MAX], name[64];
	struct stat st;
	struct mq_attr attr;
	int fd;

	snprintf(spec, sizeof(spec), "unix:%s,SocketMode=0640,DirectoryMode=0710,"
	    "PassCredentials=yes,Backlog=3", tmp_path("d1/d2/u.sock"));
	fd = open_spec(spec, FDP_LISTEN_STREAM);
	ok(fd >= 0 && stat(tmp_path("d1/d2/u.sock"), &st) == 0 &&
	    (st.st_mode & 0777) == 0640 &&
	    sockopt(fd, SOL_SOCKET, SO_PASSCRED) == 1,
	    "a Unix socket: its mode and PassCredentials (%s)", fd < 0 ? err : "");
	ok(stat(tmp_path("d1/d2"), &st) == 0 && (st.st_mode & 0777) == 0710,
	    "DirectoryMode= is the mode of the directories made");
	if (fd >= 0)
		close(fd);
	unlink(tmp_path("d1/d2/u.sock"));
	rmdir(tmp_path("d1/d2"));
	rmdir(tmp_path("d1"));

	snprintf(spec, sizeof(spec), "fifo:%s,SocketMode=0600,PipeSize=128K",
	    tmp_path("f"));
	fd = open_spec(spec, FDP_LISTEN_STREAM);
	ok(fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
	    (st.st_mode & 0777) == 0600 &&
	    (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR &&
	    !(fcntl(fd, F_GETFL) & O_NONBLOCK) &&
	    (fcntl(fd, F_GETFD) & FD_CLOEXEC) &&
	    fcntl(fd, F_GETPIPE_SZ) == 131072,
	    "a FIFO is made, opened read-write, blocking, with its pipe size");
	if (fd >= 0)
		close(fd);
	fd = open_spec(spec, FDP_LISTEN_STREAM);
	ok(fd >= 0, "a FIFO that is there already is opened");
	if (fd >= 0)
		close(fd);
	snprintf(spec, sizeof(spec), "fifo:%s,SocketMode=0644", tmp_path("f"));
	fd = open_spec(spec, FDP_LISTEN_STREAM);
	ok(fd == FDP_ESYS && strstr(err, "SocketMode=0644") &&
	    access(tmp_path("f"), F_OK) == 0,
	    "one with another mode is refused and left (%s)", err);
	unlink(tmp_path("f"));
	snprintf(spec, sizeof(spec), "fifo:%s", tmpdir);
	fd = open_spec(spec, FDP_LISTEN_STREAM);
	ok(fd < 0 && access(tmpdir, F_OK) == 0,
	    "a directory is no FIFO (%s)", err);

	fd = open_spec("special:/dev/null", FDP_LISTEN_STREAM);
	ok(fd >= 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY,
	    "a special file opens read-only");
	if (fd >= 0)
		close(fd);
	fd = open_spec("special:/dev/null,Writable=yes", FDP_LISTEN_STREAM);
	ok(fd >= 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR,
	    "Writable=yes opens it read-write");
	if (fd >= 0)
		close(fd);
	snprintf(spec, sizeof(spec), "special:%s", tmpdir);
	fd = open_spec(spec, FDP_LISTEN_STREAM);
	ok(fd == FDP_ESYS && strstr(err, "not a special file"),
	    "a directory is no special file (%s)", err);

	snprintf(name, sizeof(name), "/fdpass-listen-test-%d", (int)getpid());
	snprintf(spec, sizeof(spec), "mqueue:%s,MessageQueueMaxMessages=3,"
	    "MessageQueueMessageSize=64,SocketMode=0600", name);
	fd = open_spec(spec, FDP_LISTEN_STREAM);
	ok(fd >= 0 && mq_getattr(fd, &attr) == 0 && attr.mq_maxmsg == 3 &&
	    attr.mq_msgsize == 64 && fstat(fd, &st) == 0 &&
	    (st.st_mode & 0777) == 0600 && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
	    "a message queue is made with its sizes and mode (%s)",
	    fd < 0 ? err : "");
	if (fd >= 0)
		close(fd);
	snprintf(spec, sizeof(spec), "mqueue:%s,MessageQueueMaxMessages=4,"
	    "MessageQueueMessageSize=64", name);
	fd = open_spec(spec, FDP_LISTEN_STREAM);
	ok(fd == FDP_ESYS && strstr(err, "MessageQueueMaxMessages=3"),
	    "a queue there already with other sizes is refused (%s)", err);
	ok(mq_unlink(name) == 0, "and left for its owner");
}

/* A failure after the node is made removes it, and what was made for it. */
static void
test_cleanup(void)
{
	char spec[PATH_MAX * 2];
	int fd, before = fd_count();

	/* A symlink path taken by a file: the last step fails. */
	close(open(tmp_path("taken"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	snprintf(spec, sizeof(spec), "unix:%s,Symlinks=%s %s",
	    tmp_path("new/dir/s.sock"), tmp_path("new/link"),
	    tmp_path("taken"));
	fd = open_spec(spec, FDP_LISTEN_STREAM);
	ok(fd == FDP_ESYS && strstr(err, "Symlinks=") &&
	    access(tmp_path("new"), F_OK) == -1,
	    "a failed Unix listener leaves no socket, symlink or directory (%s)",
	    err);
	snprintf(spec, sizeof(spec), "fifo:%s,Symlinks=%s",
	    tmp_path("made/f"), tmp_path("taken"));
	fd = open_spec(spec, FDP_LISTEN_STREAM);
	ok(fd == FDP_ESYS && access(tmp_path("made"), F_OK) == -1,
	    "a failed FIFO it made is removed, with its directory");
	mkfifo(tmp_path("kept"), 0600);
	snprintf(spec, sizeof(spec), "fifo:%s,Symlinks=%s", tmp_path("kept"),
	    tmp_path("taken"));
	fd = open_spec(spec, FDP_LISTEN_STREAM);
	ok(fd == FDP_ESYS && access(tmp_path("kept"), F_OK) == 0,
	    "a FIFO that was there before stays");
	unlink(tmp_path("kept"));
	unlink(tmp_path("taken"));
	snprintf(spec, sizeof(spec), "unix:%s,Symlinks=%s",
	    tmp_path("s.sock"), tmp_path("l"));
	fd = open_spec(spec, FDP_LISTEN_STREAM);
	ok(fd >= 0 && unlink(tmp_path("l")) == 0,
	    "Symlinks= makes the link (%s)", fd < 0 ? err : "");
	if (fd >= 0)
		close(fd);
	unlink(tmp_path("s.sock"));
	fd = open_spec("tcp:127.0.0.1:0,BindToDevice=no-such-dev0",
	    FDP_LISTEN_STREAM);
	ok(fd == FDP_ESYS && strstr(err, "BindToDevice=no-such-dev0"),
	    "a setting the kernel refuses is named (%s)", err);
	ok(fd_count() == before, "failures leak no fd");
}

/*
 * fdp_listener_undo, for a command that fails after a listener is made:
 * what the open made goes, what was there before (or took a name since)
 * stays.
 */
static void
test_undo(void)
{
	struct fdp_listener *l;
	char spec[PATH_MAX * 2], name[64];
	int fd;

	snprintf(spec, sizeof(spec), "unix:%s,Symlinks=%s %s",
	    tmp_path("u/v/s.sock"), tmp_path("u/l"), tmp_path("w/l"));
	if ((l = parse_ok(spec, FDP_LISTEN_STREAM)) == NULL)
		return;
	fd = fdp_listener_open(l, err, sizeof(err));
	ok(fd >= 0 && access(tmp_path("w/l"), F_OK) == 0,
	    "a Unix listener with its directories and symlinks (%s)",
	    fd < 0 ? err : "");
	fdp_listener_undo(l);
	ok(access(tmp_path("u"), F_OK) == -1 && access(tmp_path("w"), F_OK) ==
	    -1, "undone: its socket file, symlinks and directories are gone");
	fdp_listener_undo(l);
	ok(1, "undoing twice is harmless");
	if (fd >= 0)
		close(fd);

	fd = fdp_listener_open(l, err, sizeof(err));
	ok(fd >= 0, "opened again (%s)", fd < 0 ? err : "");
	unlink(tmp_path("u/v/s.sock"));
	mkfifo(tmp_path("u/v/s.sock"), 0600);
	fdp_listener_undo(l);
	ok(access(tmp_path("u/v/s.sock"), F_OK) == 0 &&
	    access(tmp_path("u/l"), F_OK) == -1,
	    "a file that took the socket's name since stays; the links go");
	if (fd >= 0)
		close(fd);
	unlink(tmp_path("u/v/s.sock"));
	rmdir(tmp_path("u/v"));
	rmdir(tmp_path("u"));
	fdp_listener_free(l);

	mkfifo(tmp_path("old"), 0600);
	snprintf(spec, sizeof(spec), "fifo:%s", tmp_path("old"));
	l = parse_ok(spec, FDP_LISTEN_STREAM);
	if (l != NULL && (fd = fdp_listener_open(l, err, sizeof(err))) >= 0) {
		fdp_listener_undo(l);
		close(fd);
	}
	ok(access(tmp_path("old"), F_OK) == 0, "a FIFO that was there stays");
	unlink(tmp_path("old"));
	fdp_listener_free(l);
	snprintf(spec, sizeof(spec), "fifo:%s", tmp_path("n/new"));
	l = parse_ok(spec, FDP_LISTEN_STREAM);
	if (l != NULL && (fd = fdp_listener_open(l, err, sizeof(err))) >= 0) {
		fdp_listener_undo(l);
		close(fd);
	}
	ok(access(tmp_path("n"), F_OK) == -1, "a FIFO made goes, with its "
	    "directory");
	fdp_listener_free(l);

	snprintf(name, sizeof(name), "/fdpass-listen-undo-%d", (int)getpid());
	snprintf(spec, sizeof(spec), "mqueue:%s", name);
	l = parse_ok(spec, FDP_LISTEN_STREAM);
	if (l != NULL && (fd = fdp_listener_open(l, err, sizeof(err))) >= 0) {
		fdp_listener_undo(l);
		close(fd);
	}
	ok(mq_unlink(name) == -1 && errno == ENOENT, "a queue made goes");
	fdp_listener_free(l);
	fdp_listener_undo(NULL);
}

/* Protocols a kernel may lack: made where it has them, a clear error where not. */
static void
test_protocols(void)
{
	static const struct {
		const char	*spec;
		int		 family, type, protocol;
		const char	*name;
	} protocols[] = {
		{ "tcp:127.0.0.1:0,SocketProtocol=sctp", AF_INET, SOCK_STREAM,
		    IPPROTO_SCTP, "SCTP" },
		{ "udp:127.0.0.1:0,SocketProtocol=udplite", AF_INET, SOCK_DGRAM,
		    IPPROTO_UDPLITE, "UDP-Lite" },
		{ "tcp:127.0.0.1:0,SocketProtocol=mptcp", AF_INET, SOCK_STREAM,
		    IPPROTO_MPTCP, "MPTCP" },
		/* vsock ports are one space for the machine: one of ours */
		{ NULL, AF_VSOCK, SOCK_STREAM, 0, "vsock" },
	};
	char vsock[32];
	size_t i;
	int probe, fd;

	snprintf(vsock, sizeof(vsock), "vsock::%ld", 20000 + (long)getpid() %
	    40000);
	for (i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++) {
		probe = socket(protocols[i].family, protocols[i].type,
		    protocols[i].protocol);
		fd = open_spec(protocols[i].spec != NULL ? protocols[i].spec :
		    vsock, FDP_LISTEN_STREAM);
		if (probe >= 0)
			ok(fd >= 0 && sockopt(fd, SOL_SOCKET, SO_PROTOCOL) ==
			    protocols[i].protocol,
			    "%s: made (%s)", protocols[i].name, fd < 0 ? err : "");
		else
			ok(fd == FDP_ESYS && strstr(err, "this kernel does not "
			    "support") && strstr(err, protocols[i].name),
			    "%s: the kernel lacks it, and says so (%s)",
			    protocols[i].name, err);
		if (probe >= 0)
			close(probe);
		if (fd >= 0)
			close(fd);
	}
}

int
main(void)
{
	int before = fd_count();

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/listen-test.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		bail("mkdtemp");
	test_addresses();
	test_address_errors();
	test_values();
	test_systemd_values();
	test_setting_errors();
	test_every_setting();
	test_tcp_settings();
	test_other_kinds();
	test_cleanup();
	test_undo();
	test_protocols();
	ok(rmdir(tmpdir) == 0, "every file made in %s is gone", tmpdir);
	ok(fd_count() == before, "no fd left open at the end");
	return done_testing();
}
