/*
 * store.h: the broker's named groups of fds, in a hash table so that no
 * request scans what is held. An entry is either a held group (nfds > 0)
 * or, while clients wait for a name not held yet, the list of those
 * waiters (nfds == 0), so that the STORE of a name finds its waiters
 * without looking at anyone else's.
 */
#ifndef FDPASS_STORE_H
#define FDPASS_STORE_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

struct group;

/* A client waiting for a name; the broker embeds one in each client. */
struct waiter {
	TAILQ_ENTRY(waiter)	 entry;
	struct group		*g;		/* the entry waited on; NULL if none */
	int			 take;		/* wants the group removed as it gets it */
	void			*owner;		/* the waiting client */
};

/* One named entry; the store holds its fds and closes them. */
struct group {
	struct group		*next;		/* hash chain */
	struct store		*s;
	uint32_t		 hash;
	uint32_t		 pending;	/* names.c: its place among those to sort */
	uint16_t		 nfds;		/* 0: not held, only waited for */
	uint8_t			 namelen;	/* name length - 1 (names are 1..255) */
	int			*fds;
	struct event		*ttl_ev;	/* closes the group at its TTL; or NULL */
	TAILQ_HEAD(, waiter)	 waiters;	/* in arrival order */
	char			 name[];
};

/*
 * A doubling does not rehash at once: the table before it stays in old
 * while each insertion moves a few of its buckets into the new one.
 */
struct store {
	struct group		**buckets;	/* new entries always go here */
	size_t			  nbuckets;	/* a power of two */
	struct group		**old;		/* the table being emptied; or NULL */
	size_t			  nold;		/* its buckets; 0 without one */
	size_t			  moved;	/* old buckets emptied so far */
	size_t			  ngroups;	/* entries, waited-for ones included */
	size_t			  nheld;	/* entries that hold a group (names.c) */
	size_t			  nfds;		/* fds held in all groups */
	/* names.c: the held groups in name order (NULL where one went) */
	struct group		**sorted;
	size_t			  nsorted;
	size_t			  holes;	/* NULLs in sorted */
	struct group		**unsorted;	/* held groups not in sorted yet */
	size_t			  nunsorted;
	size_t			  room;		/* of each array */
	struct event_base	 *base;		/* for TTL timers */
	/* Told of each group stored (held 1) and let go (held 0); or NULL. */
	void			(*on_change)(const struct group *, int held,
				    void *);
	void			 *on_change_arg;
	/* Told of a group its TTL closes, before it goes; or NULL. */
	void			(*on_expire)(const struct group *, void *);
	void			 *on_expire_arg;
};

/* The name of a group and its length. */
const char	*group_name(const struct group *g);
size_t		 group_namelen(const struct group *g);

/* Seconds until the group's TTL closes it, rounded up; 0 without a TTL. */
uint32_t	 group_expires_in(const struct group *g);

int		 store_init(struct store *s, struct event_base *base);

/* The group held under name, or NULL. */
struct group	*store_find(const struct store *s, const char *name, size_t len);

/*
 * Hold fds under name, closing after ttl seconds unless ttl is 0. On
 * success the store holds the fds (and has closed the fds of a group it
 * replaced, cancelling its TTL) and 0 is returned; otherwise an FDP_S_*
 * status and the caller still holds the fds.
 */
int		 store_put(struct store *s, const char *name, size_t len,
		    int *fds, size_t nfds, int replace, uint32_t ttl);

/* Close a held group's fds, cancel its TTL and forget it. */
void		 store_remove(struct store *s, struct group *g);

/* store_remove every held group (waiters keep waiting). */
void		 store_clear(struct store *s);

/* Make w wait for name, which is not held; -1 when out of memory. */
int		 store_wait(struct store *s, const char *name, size_t len,
		    struct waiter *w, int take);

/* Stop w waiting; the entry goes once nothing is held or awaited there. */
void		 store_unwait(struct store *s, struct waiter *w);

/* Visit every held group, in no particular order. */
void		 store_foreach(const struct store *s,
		    void (*fn)(const struct group *, void *), void *arg);

/* ---- names.c: the held groups in name order, for LIST and DUMP ---- */

/*
 * Room for one more held group in the name order, made before anything
 * changes, so that adding it never fails; -1 when memory runs out.
 */
int		 names_reserve(struct store *s);

/*
 * A group becomes held (names_reserve made room), or stops being held;
 * nheld counts them.
 */
void		 names_add(struct store *s, struct group *g);
void		 names_del(struct store *s, struct group *g);

/* Names in LIST order, bytes then length: <0, 0 or >0 as strcmp. */
int		 store_name_cmp(const char *a, size_t alen, const char *b,
		    size_t blen);

/* Free the name order. */
void		 names_free(struct store *s);

/*
 * LIST in name order, a record at a time: the held groups named after the
 * first afterlen bytes of after (all of them for afterlen 0), smallest
 * first, that keep lets in, as many as fit in budget bytes at entry bytes
 * of overhead each besides the name and, when max_fds is not 0, whose fds
 * number max_fds at most all together. They go into out (room for
 * STORE_LIST_ROOM(budget, overhead)), sorted; returns how many, and *more
 * says whether others that keep lets in come after them. Names compare as
 * bytes, a prefix before the longer names it begins.
 */
#define STORE_LIST_ROOM(budget, overhead)	((budget) / ((overhead) + 1) + 1)
size_t		 store_list_next(struct store *s, const char *after,
		    size_t afterlen, int (*keep)(const struct group *, void *),
		    void *arg, size_t budget, size_t overhead, size_t max_fds,
		    const struct group **out, int *more);

/* Close every fd held and free everything. */
void		 store_free(struct store *s);

#endif
