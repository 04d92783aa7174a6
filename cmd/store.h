/*
 * store.h: the broker's named groups of fds, in a hash table so that no
 * request scans what is held.
 */
#ifndef FDPASS_STORE_H
#define FDPASS_STORE_H

#include <stddef.h>
#include <stdint.h>

/* One named group; the store holds its fds and closes them. */
struct group {
	struct group	*next;		/* hash chain */
	uint32_t	 hash;
	uint16_t	 nfds;
	uint8_t		 namelen;	/* name length - 1 (names are 1..255) */
	int		 fds[];		/* nfds fds, then the name's bytes */
};

struct store {
	struct group	**buckets;
	size_t		  nbuckets;	/* a power of two */
	size_t		  ngroups;
	size_t		  nfds;		/* fds held in all groups */
};

/* The name of a group and its length. */
const char	*group_name(const struct group *g);
size_t		 group_namelen(const struct group *g);

int		 store_init(struct store *s);
struct group	*store_find(const struct store *s, const char *name, size_t len);

/*
 * Hold fds under name. On success the store holds the fds (and has closed the
 * fds of a group it replaced) and 0 is returned; otherwise an FDP_S_* status
 * and the caller still holds the fds.
 */
int		 store_put(struct store *s, const char *name, size_t len,
		    int *fds, size_t nfds, int replace);

/* Visit every group, in no particular order. */
void		 store_foreach(const struct store *s,
		    void (*fn)(const struct group *, void *), void *arg);

/* Close every fd held and free everything. */
void		 store_free(struct store *s);

#endif
