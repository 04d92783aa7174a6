/*
 * fdstore.c: `serve --fdstore`: keep the service manager's fd store a
 * mirror of the broker's groups, and adopt what it hands back on start.
 * The fd store keeps no TTL, so adopted groups have none.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "fdstore.h"

int
fdstore_open(const char *cmd, int *status)
{
	const char *address = getenv("NOTIFY_SOCKET");
	int sock;

	if (address == NULL || *address == '\0') {
		cmd_warn(cmd, "--fdstore: $NOTIFY_SOCKET is not set: no "
		    "service manager to keep the groups");
		*status = EXIT_USAGE;
		return -1;
	}
	if ((sock = fdp_notify_connect(address)) < 0) {
		cmd_warn(cmd, "--fdstore: cannot reach the service manager at "
		    "$NOTIFY_SOCKET=%s: %s", address, fdp_strerror(sock));
		*status = EXIT_SYSTEM;
		return -1;
	}
	return sock;
}

/*
 * Gather the inherited fds named like names[first] (names[i] NULL once
 * taken) into one group and store it; the store holds them, or they are
 * closed with a message.
 */
static void
fdstore_adopt_group(struct store *s, const char *cmd, char **names, int n,
    int first)
{
	const char *name = names[first];
	size_t len = strlen(name), nfds = 0;
	int fds[FDP_MAX_FDS], i, fd;

	for (i = first; i < n; i++) {
		if (names[i] == NULL || strcmp(names[i], name) != 0)
			continue;
		names[i] = NULL;
		fd = FDP_LISTEN_FDS_START + i;
		if (nfds == FDP_MAX_FDS) {
			cmd_warn(cmd, "--fdstore: %s: more than %d fds handed "
			    "back; closing fd %d", name, FDP_MAX_FDS, fd);
			close(fd);
		} else
			fds[nfds++] = fd;
	}
	if (fdp_name_check(name, len) != 0)
		cmd_warn(cmd, "--fdstore: '%s': %s; closing its fds", name,
		    fdp_status_text(FDP_S_BADNAME));
	else if (store_put(s, name, len, fds, nfds, 0, 0) != FDP_S_OK)
		cmd_warn(cmd, "--fdstore: %s: cannot hold the group handed "
		    "back; closing its fds", name);
	else {
		cmd_log(cmd, "adopted %s: %zu fds from the fd store", name,
		    nfds);
		return;
	}
	fdp_close_fds(fds, nfds);
}

void
fdstore_adopt(struct store *s, const char *cmd, char **names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (names[i] != NULL)
			fdstore_adopt_group(s, cmd, names, n, i);
}

void
fdstore_mirror(const struct group *g, int held, void *arg)
{
	const int *sock = arg;
	char state[64 + 256];
	int rc;

	snprintf(state, sizeof(state), "%s\nFDNAME=%.*s", held ?
	    "FDSTORE=1\nFDPOLL=0" : "FDSTOREREMOVE=1",
	    (int)group_namelen(g), group_name(g));
	rc = fdp_notify_send(*sock, state, held ? g->fds : NULL,
	    held ? g->nfds : 0);
	if (rc < 0)
		cmd_warn("serve", "%.*s: cannot %s the service manager's fd "
		    "store: %s", (int)group_namelen(g), group_name(g),
		    held ? "add it to" : "remove it from", fdp_strerror(rc));
}
