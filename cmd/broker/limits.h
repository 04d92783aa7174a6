/*
 * limits.h: what the broker allows itself and each client: fds held,
 * clients, waiting clients, monitors, fds in flight to clients, and the
 * room kept for its own uid and root, so that it never runs out of fds in a
 * way that loses one and no client can lock the owner out.
 */
#ifndef FDPASS_LIMITS_H
#define FDPASS_LIMITS_H

#include <stddef.h>

/* fds kept free beyond a whole request's 253, for accept and the loop. */
#define LIMITS_RESERVE	16

/* The most fds in flight to all clients by default, whatever the fd limit. */
#define LIMITS_INFLIGHT_CEILING	16384

struct broker_limits {
	size_t		 nofile;	/* soft RLIMIT_NOFILE, raised to the hard one */
	size_t		 fixed_fds;	/* fds open before any client */
	size_t		 max_fds;	/* --max-fds: fds the store may hold; 0 for the default */
	int		 max_fds_given;	/* --max-fds was given */
	size_t		 max_clients;	/* --max-clients: of any uid */
	int		 max_clients_given; /* --max-clients was given */
	size_t		 reserved_clients; /* --reserved-clients: the owner's more */
	size_t		 max_waiters;	/* --max-waiters: of other uids; 0 default */
	size_t		 max_monitors;	/* --max-monitors: of other uids */
	size_t		 max_inflight;	/* --max-inflight; 0 for the default */
	size_t		 client_inflight; /* of it, one client's share */
	unsigned	 client_timeout; /* --client-timeout, seconds; 0 for never */
	int		 can_pause;	/* the limit leaves room for a whole request at all */
};

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
 * The most fds a broker starting now could hold and still read a whole
 * request: --max-fds if given, else what the fd limit leaves beside the fds
 * open now. A takeover refuses an old broker holding more.
 */
size_t	 limits_capacity(const struct broker_limits *l);

/*
 * Once the loop is set up: count the fds open, less counted, the ones the
 * broker counts itself (groups, clients, queued replies, such as those an
 * fd store or a takeover handed over), and settle every default from the
 * fd limit: --max-fds half of what the limit leaves beside the reserve and
 * a whole request's room, the other half for clients, --max-clients within
 * that half less the owner's reserved ones, --max-waiters half of
 * --max-clients, --max-inflight half the limit up to
 * LIMITS_INFLIGHT_CEILING, and of that a quarter for one client (at least
 * a whole group, at most two). A --max-fds given past what the limit leaves
 * (less an fd for each reserved client) or a --max-clients past its half is
 * cut down to it; the return value then says which (1 max-fds, 2
 * max-clients, or both), for a warning.
 */
int	 limits_settle(struct broker_limits *l, size_t counted);

/*
 * Whether the broker, holding in_use fds, may receive a request that may
 * carry fds: it has room for 253 more plus the reserve, or its limit is too
 * small ever to have that and the kernel's MSG_CTRUNC must stand in.
 */
int	 limits_room(const struct broker_limits *l, size_t in_use);

/* Whether the broker, holding in_use fds, may open n more of its own. */
int	 limits_room_for(const struct broker_limits *l, size_t in_use,
	    size_t n);

/*
 * The fds in flight to all clients that a client may count on: all of
 * --max-inflight for the owner, less a whole group kept for the owner for
 * anyone else.
 */
size_t	 limits_inflight(const struct broker_limits *l, int trusted);

#endif
