/*
 * listen-spec.c: a listener spec ("ADDRESS[,Setting=value]...") parsed into
 * a struct fdp_listener, every value checked and every setting checked to
 * apply to the kind of listener, before anything is created.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "listen.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The kernel's room for a congestion control name, NUL included. */
#define TCP_CA_NAME_MAX	16

static const char *const bind_ipv6_only_words[] = {
	[V6_DEFAULT] = "default", [V6_BOTH] = "both", [V6_ONLY] = "ipv6-only",
	NULL
};
static const char *const timestamping_words[] = {
	[TS_OFF] = "off", [TS_US] = "us", [TS_USEC] = "usec",
	[TS_MICRO] = "\xc2\xb5s", [TS_NS] = "ns", [TS_NSEC] = "nsec", NULL
};
static const char *const protocol_words[] = {
	[SP_UDPLITE] = "udplite", [SP_SCTP] = "sctp", [SP_MPTCP] = "mptcp", NULL
};

/* systemd.socket(5)'s settings that make or shape a listener. */
const struct listen_setting listen_settings[LS_COUNT] = {
	[LS_SOCKET_PROTOCOL] = { "SocketProtocol", LV_CHOICE, LC_IP, 0, 0,
	    protocol_words, 0, 0, NULL },
	[LS_NETNS_PATH] = { "NetworkNamespacePath", LV_PATH,
	    LC_IP | LC_UNIX | LC_NETLINK, 0, 0, NULL, 0, 0, "CAP_SYS_ADMIN" },
	[LS_BIND_IPV6_ONLY] = { "BindIPv6Only", LV_CHOICE, LC_IP, 0, 0,
	    bind_ipv6_only_words, 0, 0, NULL },
	[LS_REUSE_PORT] = { "ReusePort", LV_BOOL, LC_IP, 0, 1, NULL,
	    SOL_SOCKET, SO_REUSEPORT, NULL },
	[LS_FREE_BIND] = { "FreeBind", LV_BOOL, LC_IP, 0, 1, NULL,
	    IPPROTO_IP, IP_FREEBIND, NULL },
	[LS_TRANSPARENT] = { "Transparent", LV_BOOL, LC_IP, 0, 1, NULL,
	    IPPROTO_IP, IP_TRANSPARENT, "CAP_NET_ADMIN or CAP_NET_RAW" },
	[LS_BIND_TO_DEVICE] = { "BindToDevice", LV_NAME, LC_IP, 1,
	    IFNAMSIZ - 1, NULL, 0, 0, "CAP_NET_RAW" },
	[LS_MARK] = { "Mark", LV_NUMBER, LC_IP, 0, UINT32_MAX, NULL,
	    SOL_SOCKET, SO_MARK, "CAP_NET_ADMIN" },
	[LS_PRIORITY] = { "Priority", LV_NUMBER, LC_IP, 0, INT_MAX, NULL,
	    SOL_SOCKET, SO_PRIORITY, "CAP_NET_ADMIN above 6" },
	[LS_IP_TOS] = { "IPTOS", LV_TOS, LC_IP, 0, 255, NULL, 0, 0, NULL },
	[LS_IP_TTL] = { "IPTTL", LV_NUMBER, LC_IP, 1, 255, NULL, 0, 0, NULL },
	[LS_RECEIVE_BUFFER] = { "ReceiveBuffer", LV_SIZE, LC_SOCKET, 1,
	    INT_MAX, NULL, 0, 0, NULL },
	[LS_SEND_BUFFER] = { "SendBuffer", LV_SIZE, LC_SOCKET, 1, INT_MAX,
	    NULL, 0, 0, NULL },
	[LS_BROADCAST] = { "Broadcast", LV_BOOL, LC_IP_DGRAM, 0, 1, NULL,
	    SOL_SOCKET, SO_BROADCAST, NULL },
	[LS_PASS_CREDENTIALS] = { "PassCredentials", LV_BOOL,
	    LC_UNIX | LC_NETLINK, 0, 1, NULL, SOL_SOCKET, SO_PASSCRED, NULL },
	[LS_PASS_SECURITY] = { "PassSecurity", LV_BOOL, LC_UNIX, 0, 1, NULL,
	    SOL_SOCKET, SO_PASSSEC, NULL },
	[LS_PASS_PACKET_INFO] = { "PassPacketInfo", LV_BOOL,
	    LC_IP | LC_NETLINK, 0, 1, NULL, 0, 0, NULL },
	[LS_TIMESTAMPING] = { "Timestamping", LV_CHOICE,
	    LC_IP | LC_UNIX | LC_NETLINK, 0, 0, timestamping_words, 0, 0, NULL },
	[LS_NO_DELAY] = { "NoDelay", LV_BOOL, LC_IP_STREAM, 0, 1, NULL,
	    IPPROTO_TCP, TCP_NODELAY, NULL },
	[LS_KEEP_ALIVE] = { "KeepAlive", LV_BOOL, LC_IP_STREAM, 0, 1, NULL,
	    SOL_SOCKET, SO_KEEPALIVE, NULL },
	[LS_KEEP_ALIVE_TIME] = { "KeepAliveTimeSec", LV_SECONDS_INF_DEFAULT,
	    LC_IP_STREAM, 1, 32767, NULL, IPPROTO_TCP, TCP_KEEPIDLE, NULL },
	[LS_KEEP_ALIVE_INTERVAL] = { "KeepAliveIntervalSec", LV_SECONDS,
	    LC_IP_STREAM, 1, 32767, NULL, IPPROTO_TCP, TCP_KEEPINTVL, NULL },
	[LS_KEEP_ALIVE_PROBES] = { "KeepAliveProbes", LV_NUMBER, LC_IP_STREAM,
	    1, 127, NULL, IPPROTO_TCP, TCP_KEEPCNT, NULL },
	[LS_DEFER_ACCEPT] = { "DeferAcceptSec", LV_SECONDS, LC_IP_STREAM, 0,
	    INT_MAX, NULL, IPPROTO_TCP, TCP_DEFER_ACCEPT, NULL },
	[LS_TCP_CONGESTION] = { "TCPCongestion", LV_NAME, LC_IP_STREAM, 1,
	    TCP_CA_NAME_MAX - 1, NULL, 0, 0, NULL },
	[LS_BACKLOG] = { "Backlog", LV_NUMBER,
	    LC_IP_STREAM | LC_UNIX_CONN | LC_VSOCK_CONN, 0, UINT32_MAX, NULL,
	    0, 0, NULL },
	[LS_SOCKET_MODE] = { "SocketMode", LV_MODE, LC_FILE | LC_MQUEUE, 0,
	    07777, NULL, 0, 0, NULL },
	[LS_SOCKET_USER] = { "SocketUser", LV_USER, LC_FILE | LC_MQUEUE, 0, 0,
	    NULL, 0, 0, "CAP_CHOWN" },
	[LS_SOCKET_GROUP] = { "SocketGroup", LV_GROUP, LC_FILE | LC_MQUEUE, 0,
	    0, NULL, 0, 0, "CAP_CHOWN, or membership of the group" },
	[LS_DIRECTORY_MODE] = { "DirectoryMode", LV_MODE, LC_FILE, 0, 07777,
	    NULL, 0, 0, NULL },
	[LS_SYMLINKS] = { "Symlinks", LV_PATHS, LC_FILE, 0, 0, NULL, 0, 0,
	    NULL },
	[LS_PIPE_SIZE] = { "PipeSize", LV_SIZE, LC_FIFO, 1, INT_MAX, NULL, 0,
	    0, "CAP_SYS_RESOURCE above fs.pipe-max-size" },
	[LS_MQ_MAX_MESSAGES] = { "MessageQueueMaxMessages", LV_NUMBER,
	    LC_MQUEUE, 1, LONG_MAX, NULL, 0, 0, NULL },
	[LS_MQ_MESSAGE_SIZE] = { "MessageQueueMessageSize", LV_NUMBER,
	    LC_MQUEUE, 1, LONG_MAX, NULL, 0, 0, NULL },
	[LS_WRITABLE] = { "Writable", LV_BOOL, LC_SPECIAL, 0, 1, NULL, 0, 0,
	    NULL },
};

/* Words for classes in messages; a group is named before its members. */
static const struct {
	unsigned int	 class;
	const char	*words;
} class_words[] = {
	{ LC_SOCKET, "sockets" },
	{ LC_IP, "IP sockets" },
	{ LC_IP_STREAM, "IP stream sockets (TCP, SCTP, MPTCP)" },
	{ LC_IP_DGRAM, "IP datagram sockets (UDP, UDP-Lite)" },
	{ LC_UNIX, "Unix sockets" },
	{ LC_UNIX_CONN, "Unix stream and seqpacket sockets" },
	{ LC_UNIX_DGRAM, "Unix datagram sockets" },
	{ LC_UNIX_PATH, "Unix sockets on a path" },
	{ LC_VSOCK_CONN, "vsock stream and seqpacket sockets" },
	{ LC_NETLINK, "netlink sockets" },
	{ LC_FIFO, "FIFOs" },
	{ LC_SPECIAL, "special files" },
	{ LC_MQUEUE, "message queues" },
};

/* ListenNetlink='s family names, as systemd spells them. */
static const struct {
	const char	*name;
	int		 family;
} netlink_families[] = {
	{ "route", NETLINK_ROUTE }, { "usersock", NETLINK_USERSOCK },
	{ "firewall", 3 }, { "inet-diag", NETLINK_INET_DIAG },
	{ "sock-diag", NETLINK_SOCK_DIAG }, { "nflog", 5 },
	{ "xfrm", NETLINK_XFRM }, { "selinux", NETLINK_SELINUX },
	{ "iscsi", NETLINK_ISCSI }, { "audit", NETLINK_AUDIT },
	{ "fib-lookup", NETLINK_FIB_LOOKUP },
	{ "connector", NETLINK_CONNECTOR }, { "netfilter", NETLINK_NETFILTER },
	{ "ip6-fw", NETLINK_IP6_FW }, { "dnrtmsg", NETLINK_DNRTMSG },
	{ "kobject-uevent", NETLINK_KOBJECT_UEVENT },
	{ "generic", NETLINK_GENERIC },
	{ "scsitransport", NETLINK_SCSITRANSPORT },
	{ "ecryptfs", NETLINK_ECRYPTFS }, { "rdma", NETLINK_RDMA },
	{ "crypto", NETLINK_CRYPTO }, { "smc", NETLINK_SMC },
};

static const char address_forms[] = "expected tcp:HOST:PORT, "
    "udp:HOST:PORT, HOST:PORT, PORT, unix:PATH, /PATH, @NAME, "
    "vsock:CID:PORT, fifo:PATH, special:PATH, netlink:FAMILY[:GROUP] or "
    "mqueue:/NAME";

int
listen_error(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = saved;
	return code;
}

/* "Backlog= applies to IP stream sockets ... only": the classes, in words. */
static void
class_text(unsigned int class, char *buf, size_t len)
{
	const char *words[NELEM(class_words)];
	size_t i, n = 0, used = 0;

	for (i = 0; i < NELEM(class_words); i++)
		if ((class & class_words[i].class) == class_words[i].class) {
			words[n++] = class_words[i].words;
			class &= ~class_words[i].class;
		}
	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s",
		    i == 0 ? "" : i + 1 == n ? " and " : ", ", words[i]);
}

/*
 * One "Name=value": known, applicable and well written. A value that
 * leaves the kernel's default (ReceiveBuffer=0) takes back one given before.
 */
static int
parse_setting(struct fdp_listener *l, char *text, char *err, size_t errlen)
{
	const struct listen_setting *s = NULL;
	char *value = strchr(text, '=');
	char hint[256];
	size_t i;

	*value++ = '\0';
	for (i = 0; i < LS_COUNT; i++)
		if (strcasecmp(text, listen_settings[i].name) == 0) {
			s = &listen_settings[i];
			break;
		}
	if (s == NULL)
		return listen_error(err, errlen, FDP_EADDR, "unknown setting "
		    "'%s' (fdpass(1) lists them: LISTENERS, Settings)", text);
	if ((s->applies & l->class) == 0) {
		class_text(s->applies, hint, sizeof(hint));
		return listen_error(err, errlen, FDP_EADDR, "%s= applies to %s "
		    "only", s->name, hint);
	}
	l->value_text[i] = value;
	switch (listen_parse_value(l, s, value, &l->value[i])) {
	case 0:
		l->given |= 1ULL << i;
		return 0;
	case LISTEN_VALUE_DEFAULT:
		l->given &= ~(1ULL << i);
		return 0;
	case LISTEN_VALUE_NOMEM:
		return listen_error(err, errlen, FDP_ESYS, "%s", strerror(errno));
	case LISTEN_VALUE_RANGE:
		listen_range_hint(s, l->value[i], hint, sizeof(hint));
		return listen_error(err, errlen, FDP_EADDR, "%s=%s: %s", s->name,
		    value, hint);
	default:
		listen_value_hint(s, hint, sizeof(hint));
		return listen_error(err, errlen, FDP_EADDR, "%s=%s: expected %s",
		    s->name, value, hint);
	}
}

/* HOST:PORT, [V6]:PORT or PORT, cut in place; HOST * or empty: every address. */
static int
parse_ip(struct fdp_listener *l, char *s, int socktype, char *err,
    size_t errlen)
{
	unsigned long long port;
	char *colon, *end;

	l->kind = LK_IP;
	l->socktype = socktype;
	l->class = socktype == SOCK_DGRAM ? LC_IP_DGRAM : LC_IP_STREAM;
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL || end == s + 1 ||
		    end[1] != ':')
			return listen_error(err, errlen, FDP_EADDR, "malformed "
			    "address: an IPv6 address goes in brackets, "
			    "[ADDRESS]:PORT");
		*end = '\0';
		l->host = s + 1;
		l->port = end + 2;
	} else if ((colon = strrchr(s, ':')) == NULL) {
		l->port = s;
	} else if (strchr(s, ':') != colon) {
		return listen_error(err, errlen, FDP_EADDR, "malformed address: "
		    "%s", address_forms);
	} else {
		*colon = '\0';
		l->host = *s == '\0' || strcmp(s, "*") == 0 ? NULL : s;
		l->port = colon + 1;
	}
	if (listen_parse_decimal(l->port, 65535, &port) == -1)
		return listen_error(err, errlen, FDP_EADDR, "port '%s': expected "
		    "a number from 0 to 65535", l->port);
	return 0;
}

/* unix:PATH, /PATH or @NAME. */
static int
parse_unix(struct fdp_listener *l, const char *s, int socktype, char *err,
    size_t errlen)
{
	int rc;

	l->kind = LK_UNIX;
	l->socktype = socktype;
	if ((rc = fdp_addr_parse(s, &l->unix_addr)) != 0)
		return listen_error(err, errlen, FDP_EADDR, "%s", fdp_strerror(rc));
	l->class = socktype == SOCK_DGRAM ? LC_UNIX_DGRAM : LC_UNIX_CONN;
	if (!fdp_addr_is_abstract(&l->unix_addr)) {
		l->class |= LC_UNIX_PATH;
		l->path = s;
	}
	return 0;
}

/* vsock:CID:PORT, CID empty for any. */
static int
parse_vsock(struct fdp_listener *l, char *s, int socktype, char *err,
    size_t errlen)
{
	unsigned long long cid = VMADDR_CID_ANY, port;
	char *colon = strchr(s, ':');

	l->kind = LK_VSOCK;
	l->socktype = socktype;
	l->class = socktype == SOCK_DGRAM ? LC_VSOCK_DGRAM : LC_VSOCK_CONN;
	if (colon == NULL || strchr(colon + 1, ':') != NULL)
		return listen_error(err, errlen, FDP_EADDR, "malformed address: "
		    "expected vsock:CID:PORT (CID may be empty for any)");
	*colon = '\0';
	if ((*s != '\0' && listen_parse_decimal(s, UINT32_MAX, &cid) == -1) ||
	    listen_parse_decimal(colon + 1, UINT32_MAX, &port) == -1)
		return listen_error(err, errlen, FDP_EADDR, "vsock CID and port "
		    "are numbers from 0 to %u", UINT32_MAX);
	l->vsock_cid = (unsigned int)cid;
	l->vsock_port = (unsigned int)port;
	return 0;
}

/* netlink:FAMILY[:GROUP] (or systemd's "FAMILY GROUP"). */
static int
parse_netlink(struct fdp_listener *l, char *s, char *err, size_t errlen)
{
	unsigned long long n;
	char *group = s + strcspn(s, ": ");
	size_t i;

	l->kind = LK_NETLINK;
	l->socktype = SOCK_RAW;
	l->class = LC_NETLINK;
	l->netlink_family = -1;
	if (*group != '\0')
		*group++ = '\0';
	for (i = 0; i < NELEM(netlink_families); i++)
		if (strcasecmp(s, netlink_families[i].name) == 0)
			l->netlink_family = netlink_families[i].family;
	if (l->netlink_family == -1 && listen_parse_decimal(s, 31, &n) == 0)
		l->netlink_family = (int)n;
	if (l->netlink_family == -1)
		return listen_error(err, errlen, FDP_EADDR, "netlink family "
		    "'%s': expected a name such as route, audit, "
		    "kobject-uevent or generic, or a number up to 31", s);
	if (*group != '\0' && listen_parse_decimal(group, UINT32_MAX, &n) == -1)
		return listen_error(err, errlen, FDP_EADDR, "netlink group '%s': "
		    "expected a number (the nl_groups mask)", group);
	l->netlink_groups = *group != '\0' ? (unsigned int)n : 0;
	return 0;
}

/* fifo:PATH, special:PATH, mqueue:/NAME. */
static int
parse_path(struct fdp_listener *l, enum listen_kind kind, const char *s,
    char *err, size_t errlen)
{
	l->kind = kind;
	l->path = s;
	l->class = kind == LK_FIFO ? LC_FIFO : kind == LK_SPECIAL ?
	    LC_SPECIAL : LC_MQUEUE;
	if (kind == LK_MQUEUE && (s[0] != '/' || s[1] == '\0' ||
	    strchr(s + 1, '/') != NULL || strlen(s) > NAME_MAX))
		return listen_error(err, errlen, FDP_EADDR, "a message queue "
		    "name is '/' and 1 to %d characters without another '/'",
		    NAME_MAX - 1);
	if (s[0] == '\0' || strlen(s) >= PATH_MAX)
		return listen_error(err, errlen, FDP_EADDR, "expected a path "
		    "shorter than %d bytes", PATH_MAX);
	return 0;
}

/* The socket type deftype stands for. */
static int
default_socktype(int deftype)
{
	if (deftype == FDP_LISTEN_DGRAM)
		return SOCK_DGRAM;
	if (deftype == FDP_LISTEN_SEQPACKET)
		return SOCK_SEQPACKET;
	return SOCK_STREAM;
}

/* The address, which says what kind of listener this is. */
static int
parse_address(struct fdp_listener *l, char *a, int deftype, char *err,
    size_t errlen)
{
	static const struct {
		const char		*prefix;
		enum listen_kind	 kind;
	} schemes[] = {
		{ "fifo:", LK_FIFO }, { "special:", LK_SPECIAL },
		{ "mqueue:", LK_MQUEUE },
	};
	int socktype = default_socktype(deftype);
	size_t i;

	if (strncmp(a, "tcp:", 4) == 0)
		return parse_ip(l, a + 4, SOCK_STREAM, err, errlen);
	if (strncmp(a, "udp:", 4) == 0)
		return parse_ip(l, a + 4, SOCK_DGRAM, err, errlen);
	if (strncmp(a, "unix:", 5) == 0)
		return parse_unix(l, a + 5, socktype, err, errlen);
	if (a[0] == '@' || a[0] == '/')
		return parse_unix(l, a, socktype, err, errlen);
	if (strncmp(a, "vsock:", 6) == 0)
		return parse_vsock(l, a + 6, socktype, err, errlen);
	if (strncmp(a, "netlink:", 8) == 0)
		return parse_netlink(l, a + 8, err, errlen);
	for (i = 0; i < NELEM(schemes); i++)
		if (strncmp(a, schemes[i].prefix,
		    strlen(schemes[i].prefix)) == 0)
			return parse_path(l, schemes[i].kind,
			    a + strlen(schemes[i].prefix), err, errlen);
	return parse_ip(l, a, socktype, err, errlen);
}

/* What settings say together: the protocol, and pairs that go together. */
static int
check_combination(struct fdp_listener *l, char *err, size_t errlen)
{
	static const int protocols[] = {
		[SP_UDPLITE] = IPPROTO_UDPLITE, [SP_SCTP] = IPPROTO_SCTP,
		[SP_MPTCP] = IPPROTO_MPTCP,
	};
	struct in_addr in;
	long long p = l->value[LS_SOCKET_PROTOCOL];

	if (LISTEN_GIVEN(l, LS_SOCKET_PROTOCOL)) {
		if ((p == SP_UDPLITE) != (l->socktype == SOCK_DGRAM) ||
		    (p == SP_MPTCP && l->socktype != SOCK_STREAM))
			return listen_error(err, errlen, FDP_EADDR,
			    "SocketProtocol=%s: %s",
			    l->value_text[LS_SOCKET_PROTOCOL],
			    p == SP_UDPLITE ? "UDP-Lite is for datagram sockets "
			    "(udp:)" : p == SP_SCTP ? "SCTP is for stream "
			    "(tcp:) or seqpacket sockets" : "MPTCP is for "
			    "stream sockets (tcp:)");
		l->protocol = protocols[p];
	}
	if (l->kind == LK_IP && l->socktype == SOCK_SEQPACKET &&
	    l->protocol != IPPROTO_SCTP)
		return listen_error(err, errlen, FDP_EADDR, "a seqpacket socket "
		    "needs a Unix address (/path, @name or unix:path), or "
		    "SocketProtocol=sctp");
	if (LISTEN_GIVEN(l, LS_MQ_MAX_MESSAGES) !=
	    LISTEN_GIVEN(l, LS_MQ_MESSAGE_SIZE))
		return listen_error(err, errlen, FDP_EADDR, "MessageQueueMax"
		    "Messages= and MessageQueueMessageSize= go together: give "
		    "both or neither");
	if (LISTEN_GIVEN(l, LS_BIND_IPV6_ONLY) && l->host != NULL &&
	    inet_pton(AF_INET, l->host, &in) == 1)
		return listen_error(err, errlen, FDP_EADDR, "BindIPv6Only= "
		    "applies to IPv6 sockets; %s is an IPv4 address", l->host);
	return 0;
}

/*
 * Where the next setting starts: a comma, then a name (a letter, then
 * letters or digits) and '='.
 */
static char *
next_setting(char *s)
{
	size_t n;

	for (s = strchr(s, ','); s != NULL; s = strchr(s + 1, ',')) {
		if (!isalpha((unsigned char)s[1]))
			continue;
		for (n = 2; isalnum((unsigned char)s[n]); n++)
			;
		if (s[n] == '=')
			return s;
	}
	return NULL;
}

int
fdp_listener_parse(const char *spec, int deftype, struct fdp_listener **out,
    char *err, size_t errlen)
{
	struct fdp_listener *l;
	char *setting, *next;
	int rc;

	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->text = strdup(spec)) == NULL) {
		free(l);
		return listen_error(err, errlen, FDP_ESYS, "%s", strerror(errno));
	}
	l->user_gid = -1;
	if ((setting = next_setting(l->text)) != NULL)
		*setting++ = '\0';
	if (l->text[0] == '\0')
		rc = listen_error(err, errlen, FDP_EADDR, "no address: %s",
		    address_forms);
	else
		rc = parse_address(l, l->text, deftype, err, errlen);
	for (; rc == 0 && setting != NULL; setting = next) {
		if ((next = next_setting(setting)) != NULL)
			*next++ = '\0';
		rc = parse_setting(l, setting, err, errlen);
	}
	if (rc == 0)
		rc = check_combination(l, err, errlen);
	if (rc != 0) {
		fdp_listener_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

void
fdp_listener_free(struct fdp_listener *l)
{
	if (l == NULL)
		return;
	free(l->symlinks);
	free(l->text);
	free(l);
}
