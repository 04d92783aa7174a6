/*
 * broker-limits.h: how many fds and clients the broker allows itself, so that it
 * never runs out of fds in a way that loses one.
 */
#ifndef FDPASS_BROKER_LIMITS_H
#define FDPASS_BROKER_LIMITS_H

#include <stddef.h>

/* fds kept free beyond a whole request's 253, for accept and the loop. */
#define LIMITS_RESERVE	16

struct broker_limits {
	size_t		 nofile;	/* soft RLIMIT_NOFILE, raised to the hard one */
	size_t		 fixed_fds;	/* fds open before any client */
	size_t		 max_fds;	/* --max-fds: fds the store may hold; 0 for the default */
	size_t		 max_clients;	/* --max-clients */
	unsigned	 client_timeout; /* --client-timeout, seconds; 0 for never */
	int		 can_pause;	/* the limit leaves room for a whole request at all */
};

/*
 * The soft fd limit, raised to the hard one first when asked: a broker
 * holding many groups, or a client taking them, needs every fd the system
 * lets it have.
 */
size_t	 limits_nofile(int raise);

/*
 * How many fds this process has open below nofile, counted in
 * /proc/self/fd (a tool such as valgrind may hold its own above the limit
 * it reports); -1 with errno when the directory cannot be read.
 */
int	 limits_open_below(size_t nofile, size_t *open);

/* Defaults before the options are read. */
void	 limits_init(struct broker_limits *l);

/*
 * At start, before the broker takes any fd in: learn the soft fd limit,
 * raising it to the hard one first if raise is set, so that a broker
 * holding many groups (handed over by a takeover, say) has every fd the
 * system lets it have. Peer mode, which holds one group, does not raise
 * it: exec --listen runs its program with the limit it was given.
 */
void	 limits_start(struct broker_limits *l, int raise);

/*
 * Once the loop is set up: count the fds open, less counted, the ones the
 * broker counts itself (groups, clients, queued replies, such as those an
 * fd store or a takeover handed over), and settle the default --max-fds
 * (what the limit allows minus the reserve, a whole request's room, and as
 * much for clients). An explicit --max-fds is kept as given.
 */
void	 limits_settle(struct broker_limits *l, size_t counted);

/*
 * Whether the broker, holding in_use fds, may receive a request: it has room
 * for 253 more plus the reserve, or its limit is too small ever to have that
 * and the kernel's MSG_CTRUNC must stand in.
 */
int	 limits_room(const struct broker_limits *l, size_t in_use);

#endif
