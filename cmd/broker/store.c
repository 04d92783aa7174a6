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

/*
 * Old buckets each insertion moves into the new table. Enough: a doubling
 * to 2m buckets comes with the (m + 1)th entry, and the next is due past
 * 2m entries, at least m insertions later (removals only put it off); the
 * m old buckets are all moved after m / 2 of them. The slack lets a
 * doubling that failed allocation come up to m / 2 insertions late; one
 * later still finds the migration going and waits for it to end.
 */
#define STORE_MOVE_STEP		2

const char *
group_name(const struct group *g)
{
	return g->name;
}

size_t
group_namelen(const struct group *g)
{
	return (size_t)g->namelen + 1;
}

/* LIST reports time left; the timer itself knows when it fires. */
uint32_t
group_expires_in(const struct group *g)
{
	struct timeval tv, now;
	uint64_t ms;

	if (g->ttl_ev == NULL || !evtimer_pending(g->ttl_ev, &tv))
		return 0;
	if (event_base_gettimeofday_cached(g->s->base, &now) == -1 ||
	    timercmp(&tv, &now, <))
		return 1;
	timersub(&tv, &now, &tv);
	ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
	return ms == 0 ? 1 : (uint32_t)((ms + 999) / 1000);
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
store_init(struct store *s, struct event_base *base)
{
	memset(s, 0, sizeof(*s));
	s->buckets = calloc(STORE_MIN_BUCKETS, sizeof(*s->buckets));
	if (s->buckets == NULL)
		return -1;
	s->nbuckets = STORE_MIN_BUCKETS;
	s->base = base;
	return 0;
}

/* The slot in the chain at gp that holds name, or the chain's end. */
static struct group **
chain_slot(struct group **gp, const char *name, size_t len, uint32_t h)
{
	for (; *gp != NULL; gp = &(*gp)->next)
		if ((*gp)->hash == h && group_namelen(*gp) == len &&
		    memcmp(group_name(*gp), name, len) == 0)
			break;
	return gp;
}

/*
 * The chain slot that holds name, or the empty slot at its chain's end in
 * the new table. During a migration name may be in its old bucket, if not
 * moved yet, or in the new table, where it went if added since.
 */
static struct group **
store_slot(const struct store *s, const char *name, size_t len, uint32_t h)
{
	struct group **gp;
	size_t i;

	if (s->old != NULL && (i = h & (s->nold - 1)) >= s->moved &&
	    *(gp = chain_slot(&s->old[i], name, len, h)) != NULL)
		return gp;
	return chain_slot(&s->buckets[h & (s->nbuckets - 1)], name, len, h);
}

struct group *
store_find(const struct store *s, const char *name, size_t len)
{
	struct group *g = *store_slot(s, name, len, store_hash(name, len));

	return g != NULL && g->nfds > 0 ? g : NULL;
}

/*
 * Doubling keeps chains short as the store grows; failure just keeps them
 * longer. The entries follow a few buckets a time, in store_migrate.
 */
static void
store_grow(struct store *s)
{
	struct group **nb;
	size_t n = s->nbuckets * 2;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	s->old = s->buckets;
	s->nold = s->nbuckets;
	s->moved = 0;
	s->buckets = nb;
	s->nbuckets = n;
}

/* A few old buckets a time, so that no request rehashes the whole store. */
static void
store_migrate(struct store *s)
{
	struct group *g, **nb;
	int i;

	for (i = 0; i < STORE_MOVE_STEP && s->old != NULL; i++) {
		while ((g = s->old[s->moved]) != NULL) {
			s->old[s->moved] = g->next;
			nb = &s->buckets[g->hash & (s->nbuckets - 1)];
			g->next = *nb;
			*nb = g;
		}
		if (++s->moved == s->nold) {
			free(s->old);
			s->old = NULL;
			s->nold = s->moved = 0;
		}
	}
}

/* The entry for name, made empty (nothing held, nobody waiting) if new. */
static struct group *
store_entry(struct store *s, const char *name, size_t len)
{
	uint32_t h = store_hash(name, len);
	struct group **gp = store_slot(s, name, len, h), *g;

	if (*gp != NULL)
		return *gp;
	if ((g = calloc(1, sizeof(*g) + len)) == NULL)
		return NULL;
	g->s = s;
	g->hash = h;
	g->namelen = (uint8_t)(len - 1);
	TAILQ_INIT(&g->waiters);
	memcpy(g->name, name, len);
	*gp = g;
	s->ngroups++;
	store_migrate(s);
	if (s->old == NULL && s->ngroups > s->nbuckets)
		store_grow(s);
	return g;
}

/* Let go of what the entry holds: its fds and its timer. */
static void
group_release(struct group *g)
{
	fdp_close_fds(g->fds, g->nfds);
	g->s->nfds -= g->nfds;
	g->nfds = 0;
	free(g->fds);
	g->fds = NULL;
	if (g->ttl_ev != NULL)
		event_free(g->ttl_ev);
	g->ttl_ev = NULL;
}

/* An entry that holds nothing and has nobody waiting leaves the table. */
static void
store_drop_if_empty(struct store *s, struct group *g)
{
	struct group **gp;

	if (g->nfds > 0 || !TAILQ_EMPTY(&g->waiters))
		return;
	gp = store_slot(s, group_name(g), group_namelen(g), g->hash);
	*gp = g->next;
	s->ngroups--;
	free(g);
}

/* Whoever mirrors the store hears of a group before it goes, after it comes. */
static void
store_changed(struct store *s, const struct group *g, int held)
{
	if (s->on_change != NULL && g->nfds > 0)
		s->on_change(g, held, s->on_change_arg);
}

void
store_remove(struct store *s, struct group *g)
{
	store_changed(s, g, 0);
	if (g->nfds > 0)
		names_del(s, g);
	group_release(g);
	store_drop_if_empty(s, g);
}

/* A group's TTL ran out: the broker closes it as DELETE would. */
static void
group_expire(evutil_socket_t fd, short what, void *arg)
{
	struct group *g = arg;

	(void)fd;
	(void)what;
	if (g->s->on_expire != NULL)
		g->s->on_expire(g, g->s->on_expire_arg);
	store_remove(g->s, g);
}

/* The timer is made before anything changes, so failure changes nothing. */
static struct event *
ttl_timer(struct store *s, struct group *g, uint32_t ttl)
{
	struct timeval tv = { (time_t)ttl, 0 };
	struct event *ev;

	if (ttl == 0)
		return NULL;
	if ((ev = evtimer_new(s->base, group_expire, g)) == NULL)
		return NULL;
	if (evtimer_add(ev, &tv) == -1) {
		event_free(ev);
		return NULL;
	}
	return ev;
}

int
store_put(struct store *s, const char *name, size_t len, int *fds,
    size_t nfds, int replace, uint32_t ttl)
{
	struct group *g;
	struct event *ev;
	int *copy, held;

	if ((g = store_entry(s, name, len)) == NULL)
		return FDP_S_FULL;
	if ((held = g->nfds > 0) && !replace)
		return FDP_S_EXISTS;
	copy = malloc(nfds * sizeof(*copy));
	ev = ttl_timer(s, g, ttl);
	if (copy == NULL || (ttl != 0 && ev == NULL) ||
	    (!held && names_reserve(s) == -1)) {
		free(copy);
		if (ev != NULL)
			event_free(ev);
		store_drop_if_empty(s, g);
		return FDP_S_FULL;
	}
	store_changed(s, g, 0);
	group_release(g);
	memcpy(copy, fds, nfds * sizeof(*copy));
	g->fds = copy;
	g->nfds = (uint16_t)nfds;
	g->ttl_ev = ev;
	s->nfds += nfds;
	if (!held)
		names_add(s, g);
	store_changed(s, g, 1);
	return 0;
}

int
store_wait(struct store *s, const char *name, size_t len, struct waiter *w,
    int take)
{
	struct group *g;

	if ((g = store_entry(s, name, len)) == NULL)
		return -1;
	w->g = g;
	w->take = take;
	TAILQ_INSERT_TAIL(&g->waiters, w, entry);
	return 0;
}

void
store_unwait(struct store *s, struct waiter *w)
{
	struct group *g = w->g;

	if (g == NULL)
		return;
	TAILQ_REMOVE(&g->waiters, w, entry);
	w->g = NULL;
	store_drop_if_empty(s, g);
}

/* Visit the held groups of one chain. */
static void
chain_foreach(const struct group *g, void (*fn)(const struct group *, void *),
    void *arg)
{
	for (; g != NULL; g = g->next)
		if (g->nfds > 0)
			fn(g, arg);
}

void
store_foreach(const struct store *s, void (*fn)(const struct group *, void *),
    void *arg)
{
	size_t i;

	for (i = s->moved; i < s->nold; i++)
		chain_foreach(s->old[i], fn, arg);
	for (i = 0; i < s->nbuckets; i++)
		chain_foreach(s->buckets[i], fn, arg);
}

/* Let go of the held groups of one chain, as store_remove does. */
static void
chain_clear(struct store *s, struct group *g)
{
	struct group *next;

	for (; g != NULL; g = next) {
		next = g->next;
		if (g->nfds > 0)
			store_remove(s, g);
	}
}

void
store_clear(struct store *s)
{
	size_t i;

	for (i = s->moved; i < s->nold; i++)
		chain_clear(s, s->old[i]);
	for (i = 0; i < s->nbuckets; i++)
		chain_clear(s, s->buckets[i]);
}

/* Free one chain's entries, closing their fds and cutting off their waiters. */
static void
chain_free(struct group *g)
{
	struct group *next;
	struct waiter *w;

	for (; g != NULL; g = next) {
		next = g->next;
		while ((w = TAILQ_FIRST(&g->waiters)) != NULL) {
			TAILQ_REMOVE(&g->waiters, w, entry);
			w->g = NULL;
		}
		group_release(g);
		free(g);
	}
}

void
store_free(struct store *s)
{
	size_t i;

	for (i = s->moved; i < s->nold; i++)
		chain_free(s->old[i]);
	for (i = 0; i < s->nbuckets; i++)
		chain_free(s->buckets[i]);
	free(s->old);
	free(s->buckets);
	names_free(s);
	memset(s, 0, sizeof(*s));
}
