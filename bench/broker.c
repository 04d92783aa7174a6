/*
 * broker.c: the benchmark's side of a broker: starting one on a private
 * address, connecting, and requests that must succeed.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* Every reply lands here: 64 KiB is too much to put on the stack each call. */
static struct fdp_reply reply;

/*
 * Start `fdpass serve` at address, taking over the broker there when
 * takeover says so, allowed to hold all the fds the limit leaves past its
 * own few (its default --max-fds keeps half back for clients, less than
 * the scale section holds).
 */
pid_t
serve_at(const struct bench *b, const char *address, int takeover)
{
	char max_fds[32];
	const char *argv[] = { b->fdpass, "serve", "-s", address,
	    "--ready-fd", "3", "--max-fds", max_fds,
	    takeover ? "--takeover" : NULL, NULL };

	snprintf(max_fds, sizeof(max_fds), "%llu",
	    (unsigned long long)b->nofile - 64);
	return start_daemon(argv, 3, b->devnull);
}

/* Start `fdpass serve` on a fresh private abstract address. */
pid_t
start_broker(const struct bench *b, char *address, size_t len)
{
	static unsigned serial;

	snprintf(address, len, "@fdpass-bench-%ld-%u", (long)getpid(),
	    serial++);
	return serve_at(b, address, 0);
}

/* Connect to a broker; the benchmark cannot go on without it. */
int
connect_broker(const char *address)
{
	int sock = fdp_client_connect(address);

	if (sock < 0)
		die("cannot reach the broker at %s: %s", address,
		    fdp_strerror(sock));
	return sock;
}

/* One request that must succeed; any fds the reply carries are closed. */
void
call(int sock, uint16_t op, uint32_t flags, const char *name, const int *fds,
    size_t nfds)
{
	int rc = fdp_call(sock, op, flags, name, fds, nfds, &reply);

	if (rc != 0)
		die("%s: %s", name, fdp_strerror(rc));
	if (reply.h.status != FDP_S_OK)
		die("%s: %s", name, fdp_status_text(reply.h.status));
	fdp_close_fds(reply.fds, reply.nfds);
}

/* Store nfds copies of fd under name (replacing what was there). */
void
store_copies(int sock, const char *name, int fd, size_t nfds)
{
	int fds[FDP_MAX_FDS];
	size_t i;

	for (i = 0; i < nfds; i++)
		if ((fds[i] = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
			die("dup: %s (raise the fd limit)", strerror(errno));
	call(sock, FDP_OP_STORE, FDP_F_REPLACE, name, fds, nfds);
	fdp_close_fds(fds, nfds);
}
