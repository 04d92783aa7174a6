/*
 * describe-socket.c: what a socket is: family, type, protocol, addresses
 * and peer, asked of the socket, or read from /proc's socket tables.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string.h>

#include "describe.h"

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
void
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
