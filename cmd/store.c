/* store.c: the broker's named groups of fds in a chained hash table. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "store.h"

#define STORE_MIN_BUCKETS	64

/* The name sits after the fds in the same allocation. */
const char *
group_name(const struct group *g)
{
	return (const char *)(g->fds + g->nfds);
}

size_t
group_namelen(const struct group *g)
{
	return (size_t)g->namelen + 1;
}

/* FNV-1a: cheap, and spreads names of up to 255 bytes well. */
static uint32_t
store_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 16777619u;
	}
	return h;
}

int
store_init(struct store *s)
{
	memset(s, 0, sizeof(*s));
	s->buckets = calloc(STORE_MIN_BUCKETS, sizeof(*s->buckets));
	if (s->buckets == NULL)
		return -1;
	s->nbuckets = STORE_MIN_BUCKETS;
	return 0;
}

/* The chain slot that holds name, or the empty slot at its chain's end. */
static struct group **
store_slot(const struct store *s, const char *name, size_t len, uint32_t h)
{
	struct group **gp = &s->buckets[h & (s->nbuckets - 1)];

	for (; *gp != NULL; gp = &(*gp)->next)
		if ((*gp)->hash == h && group_namelen(*gp) == len &&
		    memcmp(group_name(*gp), name, len) == 0)
			break;
	return gp;
}

struct group *
store_find(const struct store *s, const char *name, size_t len)
{
	return *store_slot(s, name, len, store_hash(name, len));
}

/* Doubling keeps chains short as the store grows; failure just keeps them longer. */
static void
store_grow(struct store *s)
{
	struct group **nb, *g, *next;
	size_t i, n = s->nbuckets * 2;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	for (i = 0; i < s->nbuckets; i++) {
		for (g = s->buckets[i]; g != NULL; g = next) {
			next = g->next;
			g->next = nb[g->hash & (n - 1)];
			nb[g->hash & (n - 1)] = g;
		}
	}
	free(s->buckets);
	s->buckets = nb;
	s->nbuckets = n;
}

/* A group and its fds go away together. */
static void
group_free(struct group *g)
{
	fdp_close_fds(g->fds, g->nfds);
	free(g);
}

int
store_put(struct store *s, const char *name, size_t len, int *fds,
    size_t nfds, int replace)
{
	uint32_t h = store_hash(name, len);
	struct group **gp = store_slot(s, name, len, h), *g, *old = *gp;

	if (old != NULL && !replace)
		return FDP_S_EXISTS;
	g = malloc(sizeof(*g) + nfds * sizeof(int) + len);
	if (g == NULL)
		return FDP_S_FULL;
	g->hash = h;
	g->nfds = (uint16_t)nfds;
	g->namelen = (uint8_t)(len - 1);
	memcpy(g->fds, fds, nfds * sizeof(int));
	memcpy(g->fds + nfds, name, len);
	s->nfds += nfds;
	if (old != NULL) {
		g->next = old->next;
		*gp = g;
		s->nfds -= old->nfds;
		group_free(old);
		return 0;
	}
	g->next = NULL;
	*gp = g;
	if (++s->ngroups > s->nbuckets)
		store_grow(s);
	return 0;
}

void
store_foreach(const struct store *s, void (*fn)(const struct group *, void *),
    void *arg)
{
	const struct group *g;
	size_t i;

	for (i = 0; i < s->nbuckets; i++)
		for (g = s->buckets[i]; g != NULL; g = g->next)
			fn(g, arg);
}

void
store_free(struct store *s)
{
	struct group *g, *next;
	size_t i;

	for (i = 0; i < s->nbuckets; i++)
		for (g = s->buckets[i]; g != NULL; g = next) {
			next = g->next;
			group_free(g);
		}
	free(s->buckets);
	memset(s, 0, sizeof(*s));
}
