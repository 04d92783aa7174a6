/*
 * socket.c: where the broker listens: a socket bound at its address, or
 * handed over by a service manager (socket activation, with the fd store's
 * groups); removed when it stops while it is still the broker's own.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"

/* Whether fd is a listening AF_UNIX SOCK_SEQPACKET socket, a broker's kind. */
static int
is_seqpacket_listener(int fd)
{
	int domain = 0, type = 0, listening = 0;
	socklen_t len = sizeof(int);

	getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len);
	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
	getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
	return domain == AF_UNIX && type == SOCK_SEQPACKET && listening;
}

/* Whether a LISTEN_FDNAMES name is one systemd gives a socket unit's fd. */
static int
is_socket_unit_name(const char *name)
{
	size_t len = strlen(name);

	return strcmp(name, "unknown") == 0 ||
	    (len > 7 && strcmp(name + len - 7, ".socket") == 0);
}

/*
 * Take what a service manager handed over through LISTEN_FDS, once: a
 * listening AF_UNIX SOCK_SEQPACKET socket to serve on (socket activation)
 * and, with --fdstore, the groups its fd store kept, which broker_run adopts.
 * systemd passes a socket unit's fds before the fd store's and names them
 * after the unit ("NAME.socket"; systemd-socket-activate: "unknown"), so
 * with --fdstore the listener is fd 3 when it is such a socket so named.
 * Without --fdstore a lone listener is all serve takes. Returns 1 with
 * b->listen_fd set, 0 without a listener, or -1 after saying why.
 */
int
serve_inherited(struct broker *b, int fdstore)
{
	char **names;
	int n, listener;

	if ((n = fdp_listen_fds(&names)) <= 0) {
		if (n < 0)
			cmd_warn("serve", "%s", fdp_strerror(n));
		return n < 0 ? -1 : 0;
	}
	listener = is_seqpacket_listener(FDP_LISTEN_FDS_START) &&
	    (!fdstore || is_socket_unit_name(names[0]));
	if (!fdstore && (n != 1 || !listener)) {
		if (n == 1)
			cmd_warn("serve", "the socket handed over through "
			    "LISTEN_FDS is not a listening Unix SOCK_SEQPACKET "
			    "socket (use ListenSequentialPacket=, or "
			    "systemd-socket-activate --seqpacket)");
		else
			cmd_warn("serve", "%d fds handed over through LISTEN_FDS;"
			    " serve takes exactly one listening socket (and the "
			    "fd store's groups with --fdstore)", n);
		while (n-- > 0)
			close(FDP_LISTEN_FDS_START + n);
		free(names);
		return -1;
	}
	if (listener) {
		b->listen_fd = FDP_LISTEN_FDS_START;
		b->activated = 1;
		names[0] = NULL;
	}
	b->adopt_names = names;
	b->nadopt = n;
	return listener;
}

/* Close the fds handed over for adoption that no broker_run took. */
void
serve_inherited_close(struct broker *b)
{
	int i;

	for (i = 0; i < b->nadopt; i++)
		if (b->adopt_names[i] != NULL)
			close(FDP_LISTEN_FDS_START + i);
	free(b->adopt_names);
	b->adopt_names = NULL;
	b->nadopt = 0;
}

/* Listen where asked, saying plainly why not. */
static int
broker_listen(struct broker *b, const char *cmd, const char *address)
{
	b->listen_fd = fdp_listen_broker(&b->addr, b->mode, &b->sockfile);
	if (b->listen_fd == FDP_ESYS && errno == ELOOP) {
		cmd_warn(cmd, "cannot listen on %s: a directory on the way "
		    "is a symbolic link owned by another user", address);
		return -1;
	}
	if (b->listen_fd < 0) {
		cmd_warn(cmd, "cannot listen on %s: %s", address,
		    fdp_strerror(b->listen_fd));
		return -1;
	}
	return 0;
}

/*
 * Listen at the address (-s, or the default), or on the socket a service
 * manager handed over, and run the broker there until it stops; serve and
 * peer mode both come here. The socket file goes when the broker stops,
 * unless a new broker took it over or the service manager made it.
 */
int
broker_serve_at(struct broker *b, const char *cmd, const char *socket_opt,
    int ready_fd)
{
	char addrbuf[PATH_MAX];
	const char *address = "the socket handed over through LISTEN_FDS";
	int rc, status;

	if (!b->activated) {
		address = fdp_broker_address(socket_opt, addrbuf,
		    sizeof(addrbuf));
		if (address == NULL) {
			cmd_warn(cmd, "the broker address: %s",
			    fdp_strerror(FDP_EADDRLEN));
			return EXIT_USAGE;
		}
		if ((rc = fdp_addr_parse(address, &b->addr)) != 0) {
			cmd_warn(cmd, "%s: %s", address, fdp_strerror(rc));
			return EXIT_USAGE;
		}
		if (broker_listen(b, cmd, address) == -1)
			return EXIT_SYSTEM;
	}
	if (fcntl(b->listen_fd, F_SETFL, O_NONBLOCK) == -1) {
		cmd_warn(cmd, "%s: %s", address, strerror(errno));
		status = EXIT_SYSTEM;
	} else {
		signal(SIGPIPE, SIG_IGN);
		cmd_log(cmd, "listening on %s", address);
		status = broker_run(b, ready_fd);
	}
	close(b->listen_fd);
	fdp_sockfile_close(&b->sockfile, !b->handed_over);
	return status;
}
