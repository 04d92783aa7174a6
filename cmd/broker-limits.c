/* broker-limits.c: the broker's fd and client limits. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/resource.h>

#include <dirent.h>
#include <stdlib.h>

#include "fdpass.h"
#include "broker-limits.h"

#define LIMITS_DEFAULT_CLIENTS	1024
#define LIMITS_DEFAULT_TIMEOUT	60

void
limits_init(struct broker_limits *l)
{
	l->nofile = 0;
	l->fixed_fds = 0;
	l->max_fds = 0;
	l->max_clients = LIMITS_DEFAULT_CLIENTS;
	l->client_timeout = LIMITS_DEFAULT_TIMEOUT;
	l->can_pause = 0;
}

size_t
limits_nofile(int raise)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 1024;
	if (raise && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1u << 30)
		return 1u << 30;
	return (size_t)rl.rlim_cur;
}

int
limits_open_below(size_t nofile, size_t *open)
{
	struct dirent *de;
	DIR *d;
	size_t n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && strtoul(de->d_name, NULL, 10) < nofile)
			n++;
	closedir(d);
	*open = n > 0 ? n - 1 : 0;	/* not the directory's own fd */
	return 0;
}

/* The broker's count of its open fds, a guess if /proc cannot tell. */
static size_t
limits_count_open(size_t nofile)
{
	size_t n;

	return limits_open_below(nofile, &n) == 0 ? n : 8;
}

void
limits_start(struct broker_limits *l, int raise)
{
	l->nofile = limits_nofile(raise);
}

void
limits_settle(struct broker_limits *l, size_t counted)
{
	size_t open = limits_count_open(l->nofile), spare;

	l->fixed_fds = open > counted ? open - counted : 0;
	spare = l->nofile > l->fixed_fds + LIMITS_RESERVE ?
	    l->nofile - l->fixed_fds - LIMITS_RESERVE : 0;
	l->can_pause = spare > FDP_MAX_FDS;
	if (l->max_fds != 0)
		return;
	l->max_fds = l->can_pause ? (spare - FDP_MAX_FDS) / 2 : spare;
}

int
limits_room(const struct broker_limits *l, size_t in_use)
{
	if (!l->can_pause)
		return 1;
	return in_use + FDP_MAX_FDS + LIMITS_RESERVE <= l->nofile;
}
