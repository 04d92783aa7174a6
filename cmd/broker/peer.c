/*
 * peer.c: peer mode (recv --peer, exec --peer): the broker's own code run
 * for one client and one STORE, whose group the command then takes.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <fcntl.h>
#include <string.h>

#include "broker.h"
#include "log.h"

/* In peer mode the loop ends once the one client is answered or gone. */
void
peer_check_done(struct broker *b, struct client *c)
{
	if (b->peer && (c == NULL || c->dead ||
	    (b->peer_stored && STAILQ_EMPTY(&c->out))))
		event_base_loopbreak(b->base);
}

/* Peer mode keeps the one group stored; the store closes its own copies. */
void
peer_collect(const struct group *g, void *arg)
{
	struct broker *b = arg;
	size_t i;

	for (i = 0; i < g->nfds; i++) {
		b->peer_out->fds[i] = fcntl(g->fds[i], F_DUPFD_CLOEXEC, 0);
		if (b->peer_out->fds[i] == -1) {
			fdp_close_fds(b->peer_out->fds, i);
			return;
		}
	}
	b->peer_out->nfds = g->nfds;
	memcpy(b->peer_name, group_name(g), group_namelen(g));
	b->peer_name[group_namelen(g)] = '\0';
}

int
serve_peer(const char *cmd, const char *socket_opt, struct fdp_reply *r,
    char *name)
{
	struct broker b;
	int status;

	broker_init(&b);
	b.limits.max_clients = 1;
	b.limits.reserved_clients = 0;
	b.peer = 1;
	b.peer_out = r;
	b.peer_name = name;
	r->nfds = 0;
	status = broker_serve_at(&b, cmd, socket_opt, -1);
	if (status == 0 && r->nfds == 0) {
		cmd_warn(cmd, "the sender left without storing a group");
		status = EXIT_SYSTEM;
	}
	return status;
}
