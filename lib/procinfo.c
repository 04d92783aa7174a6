/*
 * procinfo.c: what /proc's tables say about an object, for another
 * process's fd that may not be copied and asked itself: a socket, by its
 * inode, in the socket tables of the process's network namespace
 * (/proc/PID/net), and a terminal, by its device number (/proc/tty/drivers).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/sysmacros.h>

#include <netinet/in.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"

/* The kernel's states a table line shows (include/net/tcp_states.h). */
#define TABLE_TCP_SYN_SENT	0x02
#define TABLE_TCP_CLOSE		0x07
#define TABLE_TCP_LISTEN	0x0a
#define TABLE_SS_CONNECTED	3	/* socket_state of a Unix socket */
#define TABLE_UNIX_LISTENING	0x10000	/* __SO_ACCEPTCON in its flags */

/* The sockets of one process and what the tables say of each. */
struct fdp_proc_net {
	size_t			 n;
	unsigned long		*inodes;	/* sorted */
	struct fdp_sock_facts	*facts;		/* family 0: in no table */
};

/* One table of a network namespace, and what every socket in it is. */
struct net_table {
	const char	*file;
	int		 family;
	int		 type;
	int		 protocol;
};

static const struct net_table net_tables[] = {
	{ "net/tcp", AF_INET, SOCK_STREAM, IPPROTO_TCP },
	{ "net/tcp6", AF_INET6, SOCK_STREAM, IPPROTO_TCP },
	{ "net/udp", AF_INET, SOCK_DGRAM, IPPROTO_UDP },
	{ "net/udp6", AF_INET6, SOCK_DGRAM, IPPROTO_UDP },
	{ "net/udplite", AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE },
	{ "net/udplite6", AF_INET6, SOCK_DGRAM, IPPROTO_UDPLITE },
	{ "net/unix", AF_UNIX, 0, 0 },
};

/* A table scan's caller sees each socket; nonzero stops the scan. */
typedef int (*table_fn)(unsigned long inode, const struct fdp_sock_facts *s,
    void *arg);

/*
 * An address as the tables print it: hex words of the address as it lies
 * in memory, then the port as a number. Returns the address's length.
 */
static socklen_t
table_inet_address(int family, const char *hex, unsigned int port,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char word[9];
	uint32_t v;
	int i;

	ss->ss_family = (sa_family_t)family;
	for (i = 0; i < (family == AF_INET ? 1 : 4); i++) {
		memcpy(word, hex + 8 * i, 8);
		word[8] = '\0';
		v = (uint32_t)strtoul(word, NULL, 16);
		if (family == AF_INET)
			memcpy(&sin->sin_addr, &v, sizeof(v));
		else
			memcpy(&sin6->sin6_addr.s6_addr[4 * i], &v, sizeof(v));
	}
	if (family == AF_INET) {
		sin->sin_port = htons((uint16_t)port);
		return sizeof(*sin);
	}
	sin6->sin6_port = htons((uint16_t)port);
	return sizeof(*sin6);
}

/* One line of tcp, udp and the like; -1 if it is not a socket's. */
static int
table_inet_line(const char *line, const struct net_table *t,
    unsigned long *inode, struct fdp_sock_facts *s)
{
	char laddr[33], raddr[33];
	unsigned int lport, rport, state;
	size_t hexlen = t->family == AF_INET ? 8 : 32;

	if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %32[0-9A-Fa-f]:%x %x %*s "
	    "%*s %*s %*s %*s %lu", laddr, &lport, raddr, &rport, &state,
	    inode) != 6 || strlen(laddr) != hexlen || strlen(raddr) != hexlen)
		return -1;
	s->listening = t->type == SOCK_STREAM && state == TABLE_TCP_LISTEN;
	s->local_len = table_inet_address(t->family, laddr, lport, &s->local);
	/* getpeername's rule: a port, and past connecting. */
	s->connected = rport != 0 && state != TABLE_TCP_CLOSE &&
	    state != TABLE_TCP_SYN_SENT;
	if (s->connected)
		s->peer_len = table_inet_address(t->family, raddr, rport,
		    &s->peer);
	return 0;
}

/* One line of the unix table: the bound name, '@' first when abstract. */
static int
table_unix_line(const char *line, unsigned long *inode,
    struct fdp_sock_facts *s)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&s->local;
	unsigned int refs, protocol, flags, type, state;
	const char *path;
	size_t n;
	int end;

	if (sscanf(line, "%*s %x %x %x %x %x %lu%n", &refs, &protocol, &flags,
	    &type, &state, inode, &end) != 6)
		return -1;
	s->type = (int)type;
	s->protocol = (int)protocol;
	s->listening = (flags & TABLE_UNIX_LISTENING) != 0;
	s->connected = state == TABLE_SS_CONNECTED;
	path = line + end + (line[end] == ' ');
	if ((n = strlen(path)) == 0)
		return 0;
	if (n > sizeof(sun->sun_path) - 1)
		n = sizeof(sun->sun_path) - 1;
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
	if (path[0] == '@')
		sun->sun_path[0] = '\0';
	s->local_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    n + (path[0] != '@'));
	return 0;
}

/* Read every table of the process's network namespace, line by line. */
static void
table_scan(const struct fdp_proc *p, table_fn fn, void *arg)
{
	struct fdp_sock_facts s;
	unsigned long inode;
	char *line = NULL;
	size_t i, cap = 0;
	ssize_t n;
	FILE *f;
	int fd, stop = 0, rc;

	for (i = 0; i < sizeof(net_tables) / sizeof(net_tables[0]) && !stop;
	    i++) {
		fd = openat(p->dirfd, net_tables[i].file, O_RDONLY | O_CLOEXEC);
		if (fd == -1)
			continue;
		if ((f = fdopen(fd, "r")) == NULL) {
			close(fd);
			continue;
		}
		n = getline(&line, &cap, f);	/* the header */
		while (!stop && n > 0 && (n = getline(&line, &cap, f)) > 0) {
			if (line[n - 1] == '\n')
				line[n - 1] = '\0';
			memset(&s, 0, sizeof(s));
			s.family = net_tables[i].family;
			s.type = net_tables[i].type;
			s.protocol = net_tables[i].protocol;
			if (s.family == AF_UNIX)
				rc = table_unix_line(line, &inode, &s);
			else
				rc = table_inet_line(line, &net_tables[i],
				    &inode, &s);
			if (rc == 0 && inode != 0)
				stop = fn(inode, &s, arg);
		}
		fclose(f);
	}
	free(line);
}

/* qsort and bsearch order inodes. */
static int
inode_cmp(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* table_scan's callback filling the cache: sockets the process holds. */
static int
keep_held(unsigned long inode, const struct fdp_sock_facts *s, void *arg)
{
	struct fdp_proc_net *net = arg;
	unsigned long *found;

	found = bsearch(&inode, net->inodes, net->n, sizeof(inode), inode_cmp);
	if (found != NULL)
		net->facts[found - net->inodes] = *s;
	return 0;
}

/* The process's socket inodes, from the fd links "socket:[N]", sorted. */
static int
held_sockets(struct fdp_proc *p, struct fdp_proc_net *net)
{
	char path[32], link[64];
	unsigned long inode;
	int *fds, n, i;
	ssize_t len;

	if ((n = fdp_proc_fds(p, &fds)) < 0)
		return -1;
	net->n = 0;
	net->inodes = calloc((size_t)n + 1, sizeof(*net->inodes));
	for (i = 0; i < n && net->inodes != NULL; i++) {
		snprintf(path, sizeof(path), "fd/%d", fds[i]);
		len = readlinkat(p->dirfd, path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%lu]", &inode) == 1)
			net->inodes[net->n++] = inode;
	}
	free(fds);
	if (net->inodes == NULL)
		return -1;
	qsort(net->inodes, net->n, sizeof(*net->inodes), inode_cmp);
	net->facts = calloc(net->n + 1, sizeof(*net->facts));
	return net->facts != NULL ? 0 : -1;
}

/* Read the tables once, keeping only the sockets the process holds. */
static struct fdp_proc_net *
net_cache(struct fdp_proc *p)
{
	struct fdp_proc_net *net;

	if (p->net != NULL)
		return p->net;
	if ((net = calloc(1, sizeof(*net))) == NULL)
		return NULL;
	if (held_sockets(p, net) == -1) {
		fdp_proc_net_free(net);
		return NULL;
	}
	table_scan(p, keep_held, net);
	return p->net = net;
}

/* find_one's state: the socket sought, and where its facts go. */
struct one_socket {
	unsigned long		 inode;
	struct fdp_sock_facts	*s;
};

/* table_scan's callback for a socket the cache did not know of. */
static int
find_one(unsigned long inode, const struct fdp_sock_facts *s, void *arg)
{
	struct one_socket *want = arg;

	if (inode != want->inode)
		return 0;
	*want->s = *s;
	return 1;
}

int
fdp_proc_socket(struct fdp_proc *p, unsigned long inode,
    struct fdp_sock_facts *s)
{
	struct fdp_proc_net *net = net_cache(p);
	struct one_socket want = { inode, s };
	unsigned long *found = NULL;

	if (net != NULL)
		found = bsearch(&inode, net->inodes, net->n, sizeof(inode),
		    inode_cmp);
	if (found != NULL) {
		*s = net->facts[found - net->inodes];
		return s->family != 0 ? 0 : -1;
	}
	/* Opened since the cache was made: one more scan, for it alone. */
	memset(s, 0, sizeof(*s));
	table_scan(p, find_one, &want);
	return s->family != 0 ? 0 : -1;
}

void
fdp_proc_net_free(struct fdp_proc_net *net)
{
	if (net == NULL)
		return;
	free(net->inodes);
	free(net->facts);
	free(net);
}

int
fdp_tty_device(dev_t rdev)
{
	unsigned int maj, lo, hi;
	char *line = NULL;
	size_t cap = 0;
	int n, tty = 0;
	FILE *f;

	if ((f = fopen("/proc/tty/drivers", "re")) == NULL)
		return 0;
	while (!tty && getline(&line, &cap, f) > 0) {
		n = sscanf(line, "%*s %*s %u %u-%u", &maj, &lo, &hi);
		if (n == 2)
			hi = lo;
		tty = n >= 2 && maj == major(rdev) && minor(rdev) >= lo &&
		    minor(rdev) <= hi;
	}
	free(line);
	fclose(f);
	return tty;
}
