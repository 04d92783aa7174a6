/*
 * sockinfo.c: the listener settings a socket carries, read back from the
 * kernel for describe-socket.c: the backlog and the connections waiting in it
 * (tcp_info for TCP, sock_diag for Unix sockets), SO_REUSEPORT,
 * IPV6_V6ONLY, and the network namespace when it is not ours. Every query
 * only reads.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <string.h>
#include <unistd.h>

#include "fdpass.h"

/*
 * A listening TCP socket's tcp_info holds its backlog in tcpi_sacked and
 * its queue in tcpi_unacked.
 */
static void
tcp_backlog(int fd, struct fdp_sockinfo *si)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 ||
	    len < offsetof(struct tcp_info, tcpi_sacked) +
	    sizeof(ti.tcpi_sacked) || ti.tcpi_state != TCP_LISTEN)
		return;
	si->backlog = ti.tcpi_sacked;
	si->pending = ti.tcpi_unacked;
}

/* One UNIX_DIAG reply: UNIX_DIAG_RQLEN holds the queue and the backlog. */
static void
unix_diag_reply(const struct nlmsghdr *h, size_t len, struct fdp_sockinfo *si)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	const struct unix_diag_rqlen *rq;
	const struct rtattr *a;
	size_t alen;

	if (!NLMSG_OK(h, len) || h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return;
	a = (const struct rtattr *)(m + 1);
	alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
	for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen))
		if (a->rta_type == UNIX_DIAG_RQLEN &&
		    RTA_PAYLOAD(a) >= sizeof(*rq)) {
			rq = RTA_DATA(a);
			si->pending = rq->udiag_rqueue;
			si->backlog = rq->udiag_wqueue;
		}
}

/*
 * A listening Unix socket: ask sock_diag by inode. The kernel answers
 * while it handles the request, so the reply is read without waiting. A
 * socket in another network namespace is not found from ours.
 */
static void
unix_backlog(int fd, struct fdp_sockinfo *si)
{
	struct {
		struct nlmsghdr		h;
		struct unix_diag_req	req;
	} q;
	union {
		struct nlmsghdr	h;
		char		buf[1024];
	} reply;
	struct stat st;
	ssize_t n;
	int nl;

	if (fstat(fd, &st) == -1 || (nl = socket(AF_NETLINK,
	    SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) == -1)
		return;
	memset(&q, 0, sizeof(q));
	q.h.nlmsg_len = sizeof(q);
	q.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.h.nlmsg_flags = NLM_F_REQUEST;
	q.req.sdiag_family = AF_UNIX;
	q.req.udiag_states = 1U << TCP_LISTEN;
	q.req.udiag_ino = (unsigned int)st.st_ino;
	q.req.udiag_show = UDIAG_SHOW_RQLEN;
	q.req.udiag_cookie[0] = q.req.udiag_cookie[1] = ~0U;
	if (send(nl, &q, sizeof(q), 0) == (ssize_t)sizeof(q) &&
	    (n = recv(nl, &reply, sizeof(reply), MSG_DONTWAIT)) > 0)
		unix_diag_reply(&reply.h, (size_t)n, si);
	close(nl);
}

/* The socket's network namespace when it is not ours: its inode, else cookie. */
static void
netns_of(int fd, struct fdp_sockinfo *si)
{
	struct stat ours, theirs;
	unsigned long long cookie, own;
	socklen_t len = sizeof(cookie);
	int ns, probe;

	if ((ns = ioctl(fd, SIOCGSKNS)) >= 0) {
		if (fstat(ns, &theirs) == 0 &&
		    stat("/proc/self/ns/net", &ours) == 0 &&
		    (theirs.st_ino != ours.st_ino ||
		    theirs.st_dev != ours.st_dev))
			si->netns = theirs.st_ino;
		close(ns);
		return;
	}
	/* SIOCGSKNS needs CAP_NET_ADMIN; SO_NETNS_COOKIE (5.14) does not. */
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) == -1 ||
	    (probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	len = sizeof(own);
	if (getsockopt(probe, SOL_SOCKET, SO_NETNS_COOKIE, &own, &len) == 0 &&
	    own != cookie)
		si->netns_cookie = cookie;
	close(probe);
}

/* A yes/no socket option, or -1 when the kernel has none for this socket. */
static int
option(int fd, int level, int name)
{
	socklen_t len = sizeof(int);
	int v;

	return getsockopt(fd, level, name, &v, &len) == -1 ? -1 : v != 0;
}

void
fdp_sockinfo(int fd, int family, int listening, struct fdp_sockinfo *si)
{
	socklen_t len = sizeof(int);
	int protocol;

	memset(si, 0, sizeof(*si));
	si->backlog = si->pending = -1;
	si->reuseport = si->v6only = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) == -1)
		protocol = -1;
	if (family == AF_INET || family == AF_INET6)
		si->reuseport = option(fd, SOL_SOCKET, SO_REUSEPORT);
	if (family == AF_INET6)
		si->v6only = option(fd, IPPROTO_IPV6, IPV6_V6ONLY);
	if (listening && (family == AF_INET || family == AF_INET6) &&
	    protocol == IPPROTO_TCP)
		tcp_backlog(fd, si);
	else if (listening && family == AF_UNIX)
		unix_backlog(fd, si);
	netns_of(fd, si);
}
