/*
 * names.c: the store's held groups in name order, for LIST and DUMP to go
 * on after a name without looking at every group: a sorted array, with the
 * groups stored since kept apart and sorted in, and the holes deleted ones
 * leave closed up, only when a listing next asks.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "store.h"

/* group->pending of a group in the sorted array (or not held). */
#define NAMES_SORTED	UINT32_MAX

/* Names in LIST order: bytes, then length. */
static int
name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* Two groups in LIST order. */
static int
group_cmp(const struct group *a, const struct group *b)
{
	return name_cmp(group_name(a), group_namelen(a), group_name(b),
	    group_namelen(b));
}

/* qsort's comparison of group pointers. */
static int
group_ptr_cmp(const void *a, const void *b)
{
	return group_cmp(*(struct group *const *)a, *(struct group *const *)b);
}

/*
 * Both arrays have room for every held group, so that a group added goes
 * in, and the unsorted ones merge into the sorted, without allocating.
 */
int
names_reserve(struct store *s)
{
	struct group **p;
	size_t want = s->nsorted + s->nunsorted + 1, room;

	if (want <= s->room)
		return 0;
	room = s->room < 64 ? 64 : s->room * 2;
	if ((p = realloc(s->sorted, room * sizeof(*p))) == NULL)
		return -1;
	s->sorted = p;
	if ((p = realloc(s->unsorted, room * sizeof(*p))) == NULL)
		return -1;
	s->unsorted = p;
	s->room = room;
	return 0;
}

void
names_add(struct store *s, struct group *g)
{
	g->pending = (uint32_t)s->nunsorted;
	s->unsorted[s->nunsorted++] = g;
	s->nheld++;
}

/*
 * The sorted slot of a group: a binary search by name, which steps over the
 * holes between the bounds it narrows.
 */
static size_t
names_find(const struct store *s, const struct group *g)
{
	size_t lo = 0, hi = s->nsorted, mid, m;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		for (m = mid; m < hi && s->sorted[m] == NULL; m++)
			continue;
		if (m == hi) {
			hi = mid;
			continue;
		}
		if (s->sorted[m] == g)
			return m;
		if (group_cmp(s->sorted[m], g) < 0)
			lo = m + 1;
		else
			hi = mid;
	}
	return s->nsorted;
}

void
names_del(struct store *s, struct group *g)
{
	struct group *last;
	size_t i;

	if (g->pending != NAMES_SORTED) {
		last = s->unsorted[--s->nunsorted];
		s->unsorted[g->pending] = last;
		last->pending = g->pending;
	} else if ((i = names_find(s, g)) < s->nsorted) {
		s->sorted[i] = NULL;
		s->holes++;
	}
	g->pending = NAMES_SORTED;
	s->nheld--;
}

/*
 * Make the sorted array whole: close up the holes, sort the groups added
 * since and merge them in from the back (the room is there already).
 */
static void
names_settle(struct store *s)
{
	size_t i, j, k, w;

	if (s->holes > 0) {
		for (i = j = 0; i < s->nsorted; i++)
			if (s->sorted[i] != NULL)
				s->sorted[j++] = s->sorted[i];
		s->nsorted = j;
		s->holes = 0;
	}
	if (s->nunsorted == 0)
		return;
	qsort(s->unsorted, s->nunsorted, sizeof(*s->unsorted), group_ptr_cmp);
	i = s->nsorted;
	k = s->nunsorted;
	for (w = i + k; k > 0; w--) {
		if (i > 0 && group_cmp(s->sorted[i - 1], s->unsorted[k - 1]) > 0)
			s->sorted[w - 1] = s->sorted[--i];
		else {
			s->sorted[w - 1] = s->unsorted[--k];
			s->sorted[w - 1]->pending = NAMES_SORTED;
		}
	}
	s->nsorted += s->nunsorted;
	s->nunsorted = 0;
}

void
names_free(struct store *s)
{
	free(s->sorted);
	free(s->unsorted);
	s->sorted = s->unsorted = NULL;
	s->nsorted = s->nunsorted = s->holes = s->room = 0;
}

size_t
store_list_next(struct store *s, const char *after, size_t afterlen,
    int (*keep)(const struct group *, void *), void *arg, size_t budget,
    size_t overhead, size_t max_fds, const struct group **out, int *more)
{
	const struct group *g;
	size_t lo = 0, hi, mid, n = 0, total = 0, fds = 0;

	names_settle(s);
	for (hi = s->nsorted; afterlen > 0 && lo < hi;) {
		mid = lo + (hi - lo) / 2;
		g = s->sorted[mid];
		if (name_cmp(group_name(g), group_namelen(g), after,
		    afterlen) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*more = 0;
	for (; lo < s->nsorted; lo++) {
		g = s->sorted[lo];
		if (!keep(g, arg))
			continue;
		if (total + overhead + group_namelen(g) > budget ||
		    (max_fds != 0 && fds + g->nfds > max_fds)) {
			*more = 1;
			break;
		}
		out[n++] = g;
		total += overhead + group_namelen(g);
		fds += g->nfds;
	}
	return n;
}
