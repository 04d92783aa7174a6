/*
 * listeners.c: the listener specs of send --listen and exec -l, parsed one
 * and all before anything is created (a bad one is a usage error), then
 * opened, each failure told in one message naming the spec, and what they
 * made undone when the command fails.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>

#include "cmd.h"

int
cmd_listener_parse(const char *cmd, const char *spec, int deftype,
    struct fdp_listener **l)
{
	char err[FDP_LISTEN_ERRLEN];
	int rc;

	if ((rc = fdp_listener_parse(spec, deftype, l, err, sizeof(err))) == 0)
		return 0;
	cmd_warn(cmd, "%s: %s", spec, err);
	return rc == FDP_ESYS ? EXIT_SYSTEM : EXIT_USAGE;
}

int
cmd_listener_open(const char *cmd, const char *spec, struct fdp_listener *l)
{
	char err[FDP_LISTEN_ERRLEN];
	int fd;

	if ((fd = fdp_listener_open(l, err, sizeof(err))) >= 0)
		return fd;
	cmd_warn(cmd, "cannot listen on %s: %s", spec, err);
	if (fd == FDP_ENETNS)
		exit(EXIT_SYSTEM);
	return -1;
}

void
cmd_listeners_undo(struct fdp_listener **l, size_t n)
{
	while (n-- > 0)
		fdp_listener_undo(l[n]);
}
