/*
 * listen.c: create what a parsed listener spec describes: sockets made in
 * another network namespace when asked, their settings applied, bound and
 * listening, with nothing left behind when a step fails (the file system
 * side, and its undoing, is listen-file.c's).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/vm_sockets.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"

#define GIVEN(l, id)	LISTEN_GIVEN(l, id)

/* Close an fd on an error path without losing errno. */
void
listen_close(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
}

/* A step that failed with errno. */
int
listen_sys_error(char *err, size_t errlen, const char *what)
{
	return listen_error(err, errlen, FDP_ESYS, "%s: %s", what,
	    strerror(errno));
}

/* A setting the kernel refused, named as written, with what it needs. */
int
listen_setting_error(const struct fdp_listener *l, int id, char *err,
    size_t errlen)
{
	const struct listen_setting *s = &listen_settings[id];
	int needs = errno == EPERM && s->privilege != NULL;

	if (id == LS_TCP_CONGESTION && errno == ENOENT)
		return listen_error(err, errlen, FDP_ESYS, "%s=%s: no such "
		    "congestion control algorithm (see /proc/sys/net/ipv4/"
		    "tcp_available_congestion_control)", s->name,
		    l->value_text[id]);
	return listen_error(err, errlen, FDP_ESYS, "%s=%s: %s%s%s%s", s->name,
	    l->value_text[id], strerror(errno), needs ? " (needs " : "",
	    needs ? s->privilege : "", needs ? ")" : "");
}

/* Most settings are one int socket option. */
static int
set_int(int fd, int level, int option, long long value)
{
	int v = (int)value;

	return setsockopt(fd, level, option, &v, sizeof(v));
}

/* Sizes past net.core.[rw]mem_max need the FORCE options, as systemd tries. */
static int
set_buffer(int fd, int receive, long long size)
{
	if (set_int(fd, SOL_SOCKET, receive ? SO_RCVBUFFORCE : SO_SNDBUFFORCE,
	    size) == 0)
		return 0;
	return set_int(fd, SOL_SOCKET, receive ? SO_RCVBUF : SO_SNDBUF, size);
}

/* One setting on a socket of family; those that are no socket option: nothing. */
static int
apply_setting(int fd, const struct fdp_listener *l, int id, int family)
{
	const struct listen_setting *s = &listen_settings[id];
	const char *text = l->value_text[id];
	long long v = l->value[id];

	switch (id) {
	case LS_BIND_IPV6_ONLY:
		if (family != AF_INET6 || v == V6_DEFAULT)
			return 0;
		return set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, v == V6_ONLY);
	case LS_BIND_TO_DEVICE:
		return setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, text,
		    (socklen_t)strlen(text) + 1);
	case LS_TCP_CONGESTION:
		return setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, text,
		    (socklen_t)strlen(text));
	case LS_IP_TOS:
		if (family == AF_INET6 &&
		    set_int(fd, IPPROTO_IPV6, IPV6_TCLASS, v) == -1)
			return -1;
		return set_int(fd, IPPROTO_IP, IP_TOS, v);
	case LS_IP_TTL:
		if (family == AF_INET6 &&
		    set_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, v) == -1)
			return -1;
		return set_int(fd, IPPROTO_IP, IP_TTL, v);
	case LS_RECEIVE_BUFFER:
	case LS_SEND_BUFFER:
		return set_buffer(fd, id == LS_RECEIVE_BUFFER, v);
	case LS_PASS_PACKET_INFO:
		if (family == AF_INET6)
			return set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, v);
		if (family == AF_NETLINK)
			return set_int(fd, SOL_NETLINK, NETLINK_PKTINFO, v);
		return set_int(fd, IPPROTO_IP, IP_PKTINFO, v);
	case LS_TIMESTAMPING:
		if (v == TS_OFF)
			return set_int(fd, SOL_SOCKET, SO_TIMESTAMP, 0) == 0 &&
			    set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 0) == 0 ?
			    0 : -1;
		return set_int(fd, SOL_SOCKET, v >= TS_NS ? SO_TIMESTAMPNS :
		    SO_TIMESTAMP, 1);
	default:
		return s->option == 0 ? 0 : set_int(fd, s->level, s->option, v);
	}
}

/* Everything set before bind: fdpass's defaults, then each setting given. */
static int
apply_settings(int fd, const struct fdp_listener *l, int family, char *err,
    size_t errlen)
{
	int id;

	if (l->kind == LK_IP && l->socktype != SOCK_DGRAM)
		(void)set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (family == AF_INET6 && !GIVEN(l, LS_BIND_IPV6_ONLY))
		(void)set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
	for (id = 0; id < LS_COUNT; id++)
		if (GIVEN(l, id) && apply_setting(fd, l, id, family) == -1)
			return listen_setting_error(l, id, err, errlen);
	return 0;
}

/* Connection types listen, with Backlog= or SOMAXCONN. */
static int
listen_on(int fd, const struct fdp_listener *l, char *err, size_t errlen)
{
	long long backlog = GIVEN(l, LS_BACKLOG) ? l->value[LS_BACKLOG] :
	    SOMAXCONN;

	if (l->socktype == SOCK_DGRAM || l->socktype == SOCK_RAW)
		return 0;
	if (listen(fd, backlog > INT_MAX ? INT_MAX : (int)backlog) == -1)
		return GIVEN(l, LS_BACKLOG) ?
		    listen_setting_error(l, LS_BACKLOG, err, errlen) :
		    listen_sys_error(err, errlen, "listen");
	return 0;
}

/* Enter NetworkNamespacePath='s namespace; *own is ours, to come back to. */
static int
netns_enter(const struct fdp_listener *l, int *own, char *err, size_t errlen)
{
	const char *path = l->value_text[LS_NETNS_PATH];
	int target, rc;

	if ((*own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) == -1)
		return listen_sys_error(err, errlen, "our own network namespace "
		    "(/proc/self/ns/net)");
	if ((target = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		rc = listen_setting_error(l, LS_NETNS_PATH, err, errlen);
	else if (setns(target, CLONE_NEWNET) == -1)
		rc = errno == EINVAL ? listen_error(err, errlen, FDP_ESYS,
		    "NetworkNamespacePath=%s: not a network namespace", path) :
		    listen_setting_error(l, LS_NETNS_PATH, err, errlen);
	else
		rc = 0;
	if (target != -1)
		listen_close(target);
	if (rc != 0) {
		listen_close(*own);
		*own = -1;
	}
	return rc;
}

/* A kernel without this family or protocol says so in words. */
static int
socket_error(const struct fdp_listener *l, int family, char *err,
    size_t errlen)
{
	const char *what = family == AF_INET6 ? "IPv6" : "this socket type";

	if (errno != EAFNOSUPPORT && errno != EPROTONOSUPPORT &&
	    errno != ESOCKTNOSUPPORT && errno != EPROTOTYPE &&
	    errno != ENOPROTOOPT)
		return listen_sys_error(err, errlen, "socket");
	if (family == AF_VSOCK)
		what = "vsock sockets of this type";
	else if (family == AF_NETLINK)
		what = "this netlink family";
	else if (l->protocol == IPPROTO_SCTP)
		what = "SCTP (SocketProtocol=sctp)";
	else if (l->protocol == IPPROTO_UDPLITE)
		what = "UDP-Lite (SocketProtocol=udplite)";
	else if (l->protocol == IPPROTO_MPTCP)
		what = "MPTCP (SocketProtocol=mptcp; see net.mptcp.enabled)";
	return listen_error(err, errlen, FDP_ESYS, "this kernel does not "
	    "support %s: %s", what, strerror(errno));
}

/*
 * socket(), inside the namespace NetworkNamespacePath= names when given:
 * the socket stays in it wherever it goes. Failing to come back to our
 * own namespace is FDP_ENETNS, and nothing is kept.
 */
static int
make_socket(const struct fdp_listener *l, int family, char *err,
    size_t errlen)
{
	int own = -1, fd, saved, rc;

	if (GIVEN(l, LS_NETNS_PATH) &&
	    (rc = netns_enter(l, &own, err, errlen)) != 0)
		return rc;
	fd = socket(family, l->socktype | SOCK_CLOEXEC,
	    l->kind == LK_NETLINK ? l->netlink_family : l->protocol);
	saved = errno;
	if (own != -1) {
		rc = setns(own, CLONE_NEWNET);
		listen_close(own);
		if (rc == -1) {
			if (fd != -1)
				listen_close(fd);
			return listen_error(err, errlen, FDP_ENETNS,
			    "NetworkNamespacePath=%s: cannot return to our own "
			    "network namespace: %s",
			    l->value_text[LS_NETNS_PATH], strerror(errno));
		}
	}
	errno = saved;
	if (fd == -1)
		return socket_error(l, family, err, errlen);
	return fd;
}

/* A socket with every setting that goes before bind. */
static int
new_socket(const struct fdp_listener *l, int family, char *err,
    size_t errlen)
{
	int fd, rc;

	if ((fd = make_socket(l, family, err, errlen)) < 0)
		return fd;
	if ((rc = apply_settings(fd, l, family, err, errlen)) != 0) {
		listen_close(fd);
		return rc;
	}
	return fd;
}

/*
 * IP, vsock and netlink sockets, bound to one address; *bind_failed says
 * whether only bind failed, so that another address may be tried.
 */
static int
open_socket(const struct fdp_listener *l, const struct sockaddr *sa,
    socklen_t len, int *bind_failed, char *err, size_t errlen)
{
	int fd, rc;

	*bind_failed = 0;
	if ((fd = new_socket(l, sa->sa_family, err, errlen)) < 0)
		return fd;
	if (bind(fd, sa, len) == -1) {
		*bind_failed = 1;
		rc = listen_sys_error(err, errlen, "bind");
	} else
		rc = listen_on(fd, l, err, errlen);
	if (rc != 0) {
		listen_close(fd);
		return rc;
	}
	return fd;
}

/* Resolve the host in one family and bind the first address that takes. */
static int
open_ip_family(const struct fdp_listener *l, int family, char *err,
    size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	int fd = FDP_ERESOLVE, rc, bind_failed = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = l->socktype == SOCK_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	fdp_nss_builtin_only();
	if ((rc = getaddrinfo(l->host, l->port, &hints, &res)) != 0) {
		if (rc == EAI_SYSTEM)
			return listen_sys_error(err, errlen, "getaddrinfo");
		return listen_error(err, errlen, FDP_ERESOLVE, "cannot resolve "
		    "%s%s: %s", l->host != NULL ? l->host : "every address",
		    family == AF_INET6 ? " as IPv6" : "", gai_strerror(rc));
	}
	for (ai = res; ai != NULL && bind_failed; ai = ai->ai_next)
		fd = open_socket(l, ai->ai_addr, ai->ai_addrlen, &bind_failed,
		    err, errlen);
	freeaddrinfo(res);
	return fd;
}

/*
 * TCP and UDP (or SCTP, UDP-Lite, MPTCP): every address means IPv6
 * dual-stack where there is IPv6; BindIPv6Only=both or ipv6-only asks for
 * an IPv6 socket.
 */
static int
open_ip(const struct fdp_listener *l, char *err, size_t errlen)
{
	int v6 = GIVEN(l, LS_BIND_IPV6_ONLY) &&
	    l->value[LS_BIND_IPV6_ONLY] != V6_DEFAULT;
	int fd;

	if (l->host != NULL || v6)
		return open_ip_family(l, v6 ? AF_INET6 : AF_UNSPEC, err, errlen);
	fd = open_ip_family(l, AF_INET6, err, errlen);
	if (fd == FDP_ESYS && errno == EAFNOSUPPORT)
		fd = open_ip_family(l, AF_INET, err, errlen);
	return fd;
}

/* Unix sockets: a path gets its directories, mode, owner and symlinks. */
static int
open_unix(struct fdp_listener *l, char *err, size_t errlen)
{
	mode_t mode = GIVEN(l, LS_SOCKET_MODE) ?
	    (mode_t)l->value[LS_SOCKET_MODE] : (mode_t)-1;
	int fd, rc;

	if ((fd = new_socket(l, AF_UNIX, err, errlen)) < 0)
		return fd;
	if (l->path != NULL && (rc = listen_make_parents(l, l->path,
	    &l->made_dirs, err, errlen)) != 0)
		goto fail;
	if ((rc = fdp_bind_unix(fd, &l->unix_addr, l->socktype, mode)) != 0) {
		rc = rc == FDP_EINUSE ? listen_error(err, errlen, rc, "%s",
		    fdp_strerror(rc)) : listen_sys_error(err, errlen, "bind");
		goto fail;
	}
	if (l->path != NULL)
		listen_note_node(l);
	if ((rc = listen_on(fd, l, err, errlen)) != 0 || (l->path != NULL &&
	    ((rc = listen_set_owner(l, -1, err, errlen)) != 0 ||
	    (rc = listen_make_symlinks(l, err, errlen)) != 0)))
		goto fail;
	return fd;
fail:
	fdp_listener_undo(l);
	listen_close(fd);
	return rc;
}

/* Forget what an earlier open of l made: this one notes its own. */
static void
forget_made(struct fdp_listener *l)
{
	size_t i;

	l->made_dirs = 0;
	l->made_node = 0;
	for (i = 0; i < l->nsymlinks; i++) {
		l->symlinks[i].dirs = 0;
		l->symlinks[i].made = 0;
	}
}

int
fdp_listener_open(struct fdp_listener *l, char *err, size_t errlen)
{
	struct sockaddr_vm vm;
	struct sockaddr_nl nl;
	int bind_failed;

	forget_made(l);
	switch (l->kind) {
	case LK_IP:
		return open_ip(l, err, errlen);
	case LK_UNIX:
		return open_unix(l, err, errlen);
	case LK_VSOCK:
		memset(&vm, 0, sizeof(vm));
		vm.svm_family = AF_VSOCK;
		vm.svm_cid = l->vsock_cid;
		vm.svm_port = l->vsock_port;
		return open_socket(l, (struct sockaddr *)&vm, sizeof(vm),
		    &bind_failed, err, errlen);
	case LK_NETLINK:
		memset(&nl, 0, sizeof(nl));
		nl.nl_family = AF_NETLINK;
		nl.nl_groups = l->netlink_groups;
		return open_socket(l, (struct sockaddr *)&nl, sizeof(nl),
		    &bind_failed, err, errlen);
	case LK_FIFO:
		return listen_open_fifo(l, err, errlen);
	case LK_SPECIAL:
		return listen_open_special(l, err, errlen);
	case LK_MQUEUE:
		return listen_open_mqueue(l, err, errlen);
	}
	return listen_error(err, errlen, FDP_EADDR, "unknown kind of listener");
}
