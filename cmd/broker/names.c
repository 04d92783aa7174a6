/*
 * names.c: the store's held groups in name order, for LIST and DUMP to go
 * on after a name without looking at every group: a sorted array, with the
 * groups stored since kept apart and sorted in, a few hundred at a time or
 * when a listing asks, and the holes deleted ones leave closed up when a
 * listing asks or they grow many.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "store.h"

/* group->pending of a group in the sorted array (or not held). */
#define NAMES_SORTED	UINT32_MAX

/*
 * The groups added that are sorted in at once: no STORE, and no listing,
 * sorts more than these (a takeover's copy starts with a listing).
 */
#define NAMES_STEP	256

int
store_name_cmp(const char *a, size_t alen, const char *b, size_t blen)
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
	return store_name_cmp(group_name(a), group_namelen(a), group_name(b),
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

/*
 * Where g goes among the first hi slots of the sorted array: a binary
 * search by name, which steps over the holes between the bounds it
 * narrows; its own slot when g is there (found set).
 */
static size_t
names_place(const struct store *s, const struct group *g, size_t hi,
    int *found)
{
	size_t lo = 0, mid, m;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		for (m = mid; m < hi && s->sorted[m] == NULL; m++)
			continue;
		if (m == hi) {
			hi = mid;
			continue;
		}
		if (s->sorted[m] == g) {
			*found = 1;
			return m;
		}
		if (group_cmp(s->sorted[m], g) < 0)
			lo = m + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Close up the holes deleted groups left in the sorted array, when a
 * listing asks (all) or when they pass an eighth of its slots: a binary
 * search steps over holes, so they must stay few, and a pass once in so
 * many deletions costs each little.
 */
static void
names_close_holes(struct store *s, size_t most)
{
	size_t i, j;

	if (s->holes <= most)
		return;
	for (i = j = 0; i < s->nsorted; i++)
		if (s->sorted[i] != NULL)
			s->sorted[j++] = s->sorted[i];
	s->nsorted = j;
	s->holes = 0;
}

/*
 * Sort the groups added since into the sorted array: sorted among
 * themselves, then each put in place from the last, by a binary search
 * and one move of the slots after it, so that every slot moves at most
 * once (the room is there already).
 */
static void
names_merge(struct store *s)
{
	size_t hi = s->nsorted, k, at;
	int found;

	qsort(s->unsorted, s->nunsorted, sizeof(*s->unsorted), group_ptr_cmp);
	for (k = s->nunsorted; k > 0; k--) {
		at = names_place(s, s->unsorted[k - 1], hi, &found);
		memmove(s->sorted + at + k, s->sorted + at,
		    (hi - at) * sizeof(*s->sorted));
		s->sorted[at + k - 1] = s->unsorted[k - 1];
		s->sorted[at + k - 1]->pending = NAMES_SORTED;
		hi = at;
	}
	s->nsorted += s->nunsorted;
	s->nunsorted = 0;
}

/*
 * A group added goes with those to sort; every NAMES_STEP of them are
 * sorted in, so that neither a STORE nor a listing sorts more at once.
 */
void
names_add(struct store *s, struct group *g)
{
	g->pending = (uint32_t)s->nunsorted;
	s->unsorted[s->nunsorted++] = g;
	s->nheld++;
	if (s->nunsorted >= NAMES_STEP)
		names_merge(s);
}

void
names_del(struct store *s, struct group *g)
{
	struct group *last;
	size_t i;
	int found;

	if (g->pending != NAMES_SORTED) {
		last = s->unsorted[--s->nunsorted];
		s->unsorted[g->pending] = last;
		last->pending = g->pending;
	} else {
		i = names_place(s, g, s->nsorted, &found);
		if (found) {
			s->sorted[i] = NULL;
			s->holes++;
			names_close_holes(s, s->nsorted / 8);
		}
	}
	g->pending = NAMES_SORTED;
	s->nheld--;
}

/* Make the sorted array whole for a listing: no holes, nothing to sort. */
static void
names_settle(struct store *s)
{
	names_close_holes(s, 0);
	if (s->nunsorted > 0)
		names_merge(s);
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
		if (store_name_cmp(group_name(g), group_namelen(g), after,
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
