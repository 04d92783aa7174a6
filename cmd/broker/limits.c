/* limits.c: the broker's fd, client, waiter, monitor and in-flight limits. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "fdpass.h"
#include "limits.h"

#define LIMITS_DEFAULT_CLIENTS	1024
#define LIMITS_DEFAULT_RESERVED	16
#define LIMITS_DEFAULT_TIMEOUT	60
#define LIMITS_DEFAULT_MONITORS	16

void
limits_init(struct broker_limits *l)
{
	l->nofile = 0;
	l->fixed_fds = 0;
	l->max_fds = 0;
	l->max_fds_given = 0;
	l->max_clients = LIMITS_DEFAULT_CLIENTS;
	l->max_clients_given = 0;
	l->reserved_clients = LIMITS_DEFAULT_RESERVED;
	l->max_waiters = 0;
	l->max_monitors = LIMITS_DEFAULT_MONITORS;
	l->max_inflight = 0;
	l->client_inflight = 0;
	l->client_timeout = LIMITS_DEFAULT_TIMEOUT;
	l->can_pause = 0;
}

/* The broker's count of its open fds, a guess if /proc cannot tell. */
static size_t
limits_count_open(size_t nofile)
{
	size_t n;

	return fdp_fds_open_below(nofile, &n) == 0 ? n : 8;
}

void
limits_start(struct broker_limits *l, int raise)
{
	l->nofile = fdp_nofile(raise);
}

/* The fds the limit leaves beside fixed ones open and the reserve. */
static size_t
limits_spare(const struct broker_limits *l, size_t fixed)
{
	return l->nofile > fixed + LIMITS_RESERVE ?
	    l->nofile - fixed - LIMITS_RESERVE : 0;
}

size_t
limits_capacity(const struct broker_limits *l)
{
	size_t spare = limits_spare(l, limits_count_open(l->nofile));

	if (l->max_fds_given)
		return l->max_fds;
	return spare > FDP_MAX_FDS ? spare - FDP_MAX_FDS : 0;
}

int
limits_settle(struct broker_limits *l, size_t counted)
{
	size_t open = limits_count_open(l->nofile), spare, half, most;
	int cut = 0;

	l->fixed_fds = open > counted ? open - counted : 0;
	spare = limits_spare(l, l->fixed_fds);
	l->can_pause = spare > FDP_MAX_FDS;
	half = l->can_pause ? (spare - FDP_MAX_FDS) / 2 : spare;
	/* held fds never take the fd the owner connects with */
	most = spare > l->reserved_clients + 1 ?
	    spare - l->reserved_clients - 1 : 0;
	if (!l->max_fds_given)
		l->max_fds = half;
	else if (l->max_fds > most) {
		l->max_fds = most;
		cut |= 1;
	}
	/* clients get the half --max-fds leaves them by default */
	most = half > l->reserved_clients + 1 ? half - l->reserved_clients : 1;
	if (l->can_pause && l->max_clients > most) {
		l->max_clients = most;
		if (l->max_clients_given)
			cut |= 2;
	}
	if (l->max_waiters == 0)
		l->max_waiters = l->max_clients / 2 > 0 ? l->max_clients / 2 : 1;
	if (l->max_inflight == 0) {
		l->max_inflight = l->nofile / 2 > FDP_MAX_FDS ?
		    l->nofile / 2 : FDP_MAX_FDS;
		if (l->max_inflight > LIMITS_INFLIGHT_CEILING)
			l->max_inflight = LIMITS_INFLIGHT_CEILING;
	}
	l->client_inflight = l->max_inflight / 4;
	if (l->client_inflight < FDP_MAX_FDS)
		l->client_inflight = FDP_MAX_FDS;
	if (l->client_inflight > 2 * FDP_MAX_FDS)
		l->client_inflight = 2 * FDP_MAX_FDS;
	return cut;
}

int
limits_room(const struct broker_limits *l, size_t in_use)
{
	if (!l->can_pause)
		return 1;
	return in_use + FDP_MAX_FDS + LIMITS_RESERVE <= l->nofile;
}

int
limits_room_for(const struct broker_limits *l, size_t in_use, size_t n)
{
	return in_use + n + LIMITS_RESERVE <= l->nofile;
}

size_t
limits_inflight(const struct broker_limits *l, int trusted)
{
	if (trusted || l->max_inflight < 2 * FDP_MAX_FDS)
		return l->max_inflight;
	return l->max_inflight - FDP_MAX_FDS;
}
