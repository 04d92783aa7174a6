/*
 * fdstore.h: `serve --fdstore`, the broker's groups mirrored in the service
 * manager's fd store (FDSTORE=1, FDNAME=name) so that a broker killed and
 * started again by the manager gets them back through LISTEN_FDS.
 */
#ifndef FDPASS_FDSTORE_H
#define FDPASS_FDSTORE_H

#include "store.h"

/*
 * Connect to $NOTIFY_SOCKET; -1 after a message naming what is wrong
 * (unset, or an address that cannot be reached), with *status the exit
 * status.
 */
int	 fdstore_open(const char *cmd, int *status);

/*
 * Hold the groups the manager handed back through LISTEN_FDS: names[i]
 * (from fdp_listen_fds) names fd 3 + i, NULL for a fd not to adopt; fds of
 * one name form one group, in the order they came, with no TTL. Every fd
 * adopted has its name set to NULL; the caller frees names.
 */
void	 fdstore_adopt(struct store *s, const char *cmd, char **names,
	    int n);

/*
 * A store's on_change: tell the manager of a group stored (FDSTORE=1 with
 * its fds) or let go (FDSTOREREMOVE=1). arg points to the socket from
 * fdstore_open.
 */
void	 fdstore_mirror(const struct group *g, int held, void *arg);

#endif
