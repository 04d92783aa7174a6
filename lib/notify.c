/*
 * notify.c: the service manager's notification protocol (sd_notify(3)), a
 * datagram of newline-separated KEY=VALUE lines sent to $NOTIFY_SOCKET,
 * with fds attached for the fd store. It is small and meant to be
 * reimplemented, so fdpass needs no libsystemd.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"

/* The broker keeps one socket to the manager; every notification reuses it. */
int
fdp_notify_connect(const char *address)
{
	struct fdp_addr a;
	int fd, rc, saved;

	if (strncmp(address, "vsock:", 6) == 0) {
		errno = EAFNOSUPPORT;
		return FDP_ESYS;
	}
	if (address[0] != '/' && address[0] != '@')
		return FDP_EADDR;
	if ((rc = fdp_addr_parse(address, &a)) != 0)
		return rc;
	if ((fd = fdp_connect_unix(&a, SOCK_DGRAM)) < 0)
		return fd;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return FDP_ESYS;
	}
	return fd;
}

/* One datagram per notification: the manager reads it whole, fds and all. */
int
fdp_notify_send(int sock, const char *state, const int *fds, size_t nfds)
{
	ssize_t n;

	n = fdp_send_msg(sock, state, strlen(state), fds, nfds);
	return n < 0 ? (int)n : 0;
}
