/*
 * store-test: cmd/store.c, above all while a doubling's migration is going:
 * lookups, removals, waiters, store_foreach and store_free must each find
 * every entry in whichever table it is.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <sys/resource.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "broker/store.h"
#include "tap.h"

/* Enough groups for six doublings, from 64 buckets to 4096. */
#define NGROUPS		3000
#define NWAITERS	200
#define NEEDFDS		(NGROUPS + NWAITERS + 64)

static struct event_base *base;
static int devnull;
static int fds[NGROUPS + NWAITERS];
static int visits[NGROUPS];

/* The name of group i, or of the entry waiter i waits on. */
static size_t
name(char *buf, size_t len, const char *prefix, int i)
{
	return (size_t)snprintf(buf, len, "%s%d", prefix, i);
}

/* Hold a fresh fd under group i's name. */
static int
put(struct store *s, int i)
{
	char buf[32];
	size_t len = name(buf, sizeof(buf), "g", i);

	if ((fds[i] = dup(devnull)) == -1)
		bail("dup");
	return store_put(s, buf, len, &fds[i], 1, 0, 0);
}

/* Group i, looked up by name. */
static struct group *
find(struct store *s, int i)
{
	char buf[32];
	size_t len = name(buf, sizeof(buf), "g", i);

	return store_find(s, buf, len);
}

/* Whether group i is found holding just its fd, or is not found if gone. */
static int
found(struct store *s, int i, int held)
{
	struct group *g = find(s, i);

	if (!held)
		return g == NULL;
	return g != NULL && g->nfds == 1 && g->fds[0] == fds[i];
}

/* Whether the groups below n are all found as held[] says (NULL: all held). */
static int
all_found(struct store *s, int n, const char *held)
{
	int i;

	for (i = 0; i < n; i++)
		if (!found(s, i, held == NULL || held[i]))
			return 0;
	return 1;
}

/*
 * Whether each entry is in the bucket its hash picks, in the old table only
 * in a bucket not moved yet, moved buckets are empty and the entries number
 * ngroups.
 */
static int
table_ok(const struct store *s)
{
	const struct group *g;
	size_t i, n = 0;

	if ((s->old == NULL) != (s->nold == 0) || s->moved > s->nold)
		return 0;
	for (i = 0; i < s->nold; i++)
		for (g = s->old[i]; g != NULL; g = g->next, n++)
			if (i < s->moved || (g->hash & (s->nold - 1)) != i)
				return 0;
	for (i = 0; i < s->nbuckets; i++)
		for (g = s->buckets[i]; g != NULL; g = g->next, n++)
			if ((g->hash & (s->nbuckets - 1)) != i)
				return 0;
	return n == s->ngroups;
}

/* Count a visit to a held group by its number (names have no NUL). */
static void
visit(const struct group *g, void *arg)
{
	char buf[32];

	(void)arg;
	snprintf(buf, sizeof(buf), "%.*s", (int)group_namelen(g),
	    group_name(g));
	if (buf[0] == 'g')
		visits[atoi(buf + 1)]++;
	else
		visits[0] += NGROUPS;
}

/* Whether store_foreach visits each of the groups below n held[] says once. */
static int
foreach_once(const struct store *s, int n, const char *held)
{
	int i;

	memset(visits, 0, sizeof(visits));
	store_foreach(s, visit, NULL);
	for (i = 0; i < NGROUPS; i++)
		if (visits[i] != (i < n && (held == NULL || held[i])))
			return 0;
	return 1;
}

/* Fill a store up to the start of a migration out of a table of 1024. */
static void
fill_to_migration(struct store *s, int *n)
{
	if (store_init(s, base) == -1)
		bail("store_init");
	for (*n = 0; s->old == NULL || s->nold < 1024; (*n)++)
		if (put(s, *n) != 0)
			bail("store_put");
}

/* Inserts across doublings, every name looked up after each. */
static void
test_grow(void)
{
	struct store s;
	size_t nbuckets;
	int i, doublings = 0, at_once = 0, late = 0, lost = 0, bad = 0;

	if (store_init(&s, base) == -1)
		bail("store_init");
	nbuckets = s.nbuckets;
	for (i = 0; i < NGROUPS; i++) {
		if (put(&s, i) != 0)
			bail("store_put");
		if (s.nbuckets != nbuckets) {
			doublings++;
			nbuckets = s.nbuckets;
			if (s.old == NULL || s.moved > 2)
				at_once++;
		}
		if (s.old != NULL && s.ngroups > s.nbuckets)
			late++;
		if (!all_found(&s, i + 1, NULL) || !found(&s, i + 1, 0))
			lost++;
		if (!table_ok(&s))
			bad++;
	}
	ok(doublings == 6, "%d groups: six doublings (%d)", NGROUPS, doublings);
	ok(at_once == 0, "no doubling moves everything at once");
	ok(late == 0, "each migration ends before the next doubling is due");
	ok(lost == 0, "every group found with its fd after each insertion");
	ok(bad == 0, "each entry in its bucket of the table it is in");
	ok(s.nfds == NGROUPS && s.ngroups == NGROUPS && s.nheld == NGROUPS,
	    "the counts add up");
	store_free(&s);
}

/* Removals mixed with insertions while a migration goes on. */
static void
test_remove(void)
{
	struct store s;
	char held[NGROUPS];
	int i, n, removed = 0, mid = 0, wrong = 0;

	fill_to_migration(&s, &n);
	memset(held, 1, sizeof(held));
	for (i = 0; s.old != NULL; i += 2) {
		store_remove(&s, find(&s, i));
		held[i] = 0;
		removed++;
		if (put(&s, n++) != 0)
			bail("store_put");
		mid += s.old != NULL;
		if (!all_found(&s, n, held) || !table_ok(&s))
			wrong++;
	}
	ok(mid > 100, "%d removals mid-migration", mid);
	ok(wrong == 0, "removed groups gone, the others found, after each");
	ok(s.ngroups == (size_t)(n - removed) &&
	    s.nfds == (size_t)(n - removed) &&
	    s.nheld == (size_t)(n - removed), "the counts add up");
	ok(foreach_once(&s, n, held), "store_foreach visits the rest once");
	store_free(&s);
}

/* store_foreach mid-migration: each held group once, waited-for ones never. */
static void
test_foreach(void)
{
	struct store s;
	struct waiter w;
	int n, checks = 0, wrong = 0;

	fill_to_migration(&s, &n);
	if (store_wait(&s, "waited", 6, &w, 0) == -1)
		bail("store_wait");
	while (s.old != NULL) {
		checks++;
		if (!foreach_once(&s, n, NULL))
			wrong++;
		if (put(&s, n++) != 0)
			bail("store_put");
	}
	ok(checks > 100 && wrong == 0,
	    "store_foreach visits each held group once, at %d points", checks);
	ok(foreach_once(&s, n, NULL), "and once the migration is over");
	store_unwait(&s, &w);
	store_free(&s);
}

/* Waiters keep their entries through doublings; a STORE finds them. */
static void
test_waiters(void)
{
	struct store s;
	struct waiter w[NWAITERS];
	char buf[32];
	size_t len;
	int i, n = 0, gone = 0, woken = 0, mid = 0;

	if (store_init(&s, base) == -1)
		bail("store_init");
	for (i = 0; i < NWAITERS; i++) {
		len = name(buf, sizeof(buf), "w", i);
		if (store_wait(&s, buf, len, &w[i], i % 2) == -1)
			bail("store_wait");
	}
	for (i = 0; n < NGROUPS; n++) {
		if (put(&s, n) != 0)
			bail("store_put");
		if (s.old != NULL && n % 7 == 0 && i < NWAITERS / 2) {
			store_unwait(&s, &w[i++]);
			mid++;
		}
	}
	for (i = 0; i < NWAITERS / 2; i++)
		gone += w[i].g == NULL;
	ok(mid == NWAITERS / 2 && gone == NWAITERS / 2,
	    "%d waiters stop waiting mid-migration", mid);
	ok(s.ngroups == NGROUPS + NWAITERS / 2 && s.nheld == NGROUPS &&
	    table_ok(&s), "their entries went, the others stay; held ones "
	    "are counted apart");
	for (i = NWAITERS / 2; i < NWAITERS; i++) {
		len = name(buf, sizeof(buf), "w", i);
		if ((fds[NGROUPS + i] = dup(devnull)) == -1)
			bail("dup");
		if (w[i].g == NULL || store_find(&s, buf, len) != NULL ||
		    group_namelen(w[i].g) != len ||
		    memcmp(group_name(w[i].g), buf, len) != 0 ||
		    store_put(&s, buf, len, &fds[NGROUPS + i], 1, 0, 0) != 0)
			continue;
		woken += store_find(&s, buf, len) == w[i].g &&
		    TAILQ_FIRST(&w[i].g->waiters) == &w[i] &&
		    w[i].take == i % 2;
	}
	ok(woken == NWAITERS / 2,
	    "the STORE of each awaited name finds its waiter (%d)", woken);
	for (i = NWAITERS / 2; i < NWAITERS; i++)
		store_unwait(&s, &w[i]);
	ok(s.ngroups == NGROUPS + NWAITERS / 2 && table_ok(&s) &&
	    s.nheld == NGROUPS + NWAITERS / 2 && all_found(&s, n, NULL),
	    "the groups all there once unwaited");
	store_free(&s);
}

/* store_list_next's filter: only even-numbered groups (names: "g" N). */
static int
even_only(const struct group *g, void *arg)
{
	char buf[32];

	(void)arg;
	snprintf(buf, sizeof(buf), "%.*s", (int)group_namelen(g),
	    group_name(g));
	return atoi(buf + 1) % 2 == 0;
}

/* Let every group in. */
static int
keep_all(const struct group *g, void *arg)
{
	(void)g;
	(void)arg;
	return 1;
}

/* Whether g's name sorts after the name in after: bytes, then length. */
static int
name_after(const struct group *g, const char *after, size_t afterlen)
{
	size_t len = group_namelen(g);
	int c = memcmp(group_name(g), after, len < afterlen ? len : afterlen);

	return c > 0 || (c == 0 && len > afterlen);
}

/*
 * Walk the store as LIST does, budget bytes a batch at 8 bytes each beside
 * the name: each visit counted, names strictly rising; with change set,
 * group i is removed and a new one added before each batch after the first.
 * Returns the batches, or -1 when a batch broke the order or the budget.
 */
static int
list_walk(struct store *s, size_t budget, int (*keep)(const struct group *,
    void *), int *n, char *held, int change)
{
	static const struct group *out[STORE_LIST_ROOM(4096, 8)];
	char after[256];
	size_t afterlen = 0, k, i, bytes;
	int more = 1, batches = 0, r = 0;

	memset(visits, 0, sizeof(visits));
	while (more) {
		if (change && batches > 0) {
			store_remove(s, find(s, r));
			held[r] = 0;
			r += 7;
			held[*n] = 1;
			if (put(s, (*n)++) != 0)
				bail("store_put");
		}
		k = store_list_next(s, after, afterlen, keep, NULL, budget, 8, 0,
		    out, &more);
		batches++;
		for (i = 0, bytes = 0; i < k; i++) {
			bytes += 8 + group_namelen(out[i]);
			if (afterlen > 0 && !name_after(out[i], after,
			    afterlen))
				return -1;
			visit(out[i], NULL);
			afterlen = group_namelen(out[i]);
			memcpy(after, group_name(out[i]), afterlen);
		}
		if (bytes > budget || (more && k == 0))
			return -1;
	}
	return batches;
}

/*
 * LIST in name order a batch at a time, mid-migration: each held group
 * once, in order, the filter obeyed, waited-for entries left out, and
 * groups added and removed between batches never shown twice.
 */
static void
test_list_next(void)
{
	struct store s;
	struct waiter w;
	char held[NGROUPS];
	int i, n, batches, twice = 0, missing = 0, odd = 0;

	fill_to_migration(&s, &n);
	if (store_wait(&s, "g99999", 6, &w, 0) == -1)
		bail("store_wait");
	memset(held, 0, sizeof(held));
	memset(held, 1, (size_t)n);
	batches = list_walk(&s, 4096, keep_all, &n, held, 0);
	for (i = 0; i < NGROUPS; i++)
		if (visits[i] != (i < n))
			missing++;
	ok(batches > 2 && s.old != NULL && missing == 0,
	    "mid-migration, %d batches: every held group once, in name "
	    "order, no waited-for entry", batches);
	batches = list_walk(&s, 4096, even_only, &n, held, 0);
	for (i = 0; i < NGROUPS; i++)
		odd += visits[i] != (i < n && i % 2 == 0);
	ok(batches > 0 && odd == 0, "only the groups the filter lets in");
	batches = list_walk(&s, 600, keep_all, &n, held, 1);
	for (i = 0; i < NGROUPS; i++) {
		twice += visits[i] > 1;
		missing += visits[i] == 0 && held[i] && i < 1000;
	}
	ok(batches > 20 && twice == 0,
	    "groups stored and removed between %d batches: none twice",
	    batches);
	ok(missing == 0, "and none held throughout left out");
	ok(list_walk(&s, 263, keep_all, &n, held, 0) > 0,
	    "a budget of one longest entry still makes progress");
	store_unwait(&s, &w);
	store_free(&s);
}

/*
 * The name order through random stores, replaces and removals, listed in
 * whole at points between: always each held group once, in order; removals
 * from the sorted part (holes, found by binary search) and from the part
 * not sorted yet alike.
 */
static void
test_names_random(void)
{
	struct store s;
	char held[NGROUPS], buf[32];
	int i, k, op, wrong = 0, lists = 0;
	unsigned r = 12345;
	size_t len, most_unsorted = 0, many_holes = 0;

	if (store_init(&s, base) == -1)
		bail("store_init");
	memset(held, 0, sizeof(held));
	for (k = 0; k < 20000; k++) {
		r = r * 1103515245 + 12345;
		i = (int)((r >> 8) % 1000);
		op = (int)((r >> 20) % 4);
		if (op < 2 && !held[i]) {
			if (put(&s, i) != 0)
				bail("store_put");
			held[i] = 1;
		} else if (op == 2 && held[i]) {
			store_remove(&s, find(&s, i));
			held[i] = 0;
		} else if (op == 3 && held[i]) {
			len = name(buf, sizeof(buf), "g", i);
			close(fds[i]);
			if ((fds[i] = dup(devnull)) == -1 ||
			    store_put(&s, buf, len, &fds[i], 1, 1, 0) != 0)
				bail("replace");
		}
		if (s.nunsorted > most_unsorted)
			most_unsorted = s.nunsorted;
		many_holes += s.holes > s.nsorted / 8;
		if (k % 1999 == 0) {
			lists++;
			if (list_walk(&s, 4096, keep_all, NULL, NULL, 0) < 1)
				wrong++;
			for (i = 0; i < 1000; i++)
				wrong += visits[i] != held[i];
		}
	}
	ok(lists > 10 && wrong == 0,
	    "20000 random stores, replaces and removals: each held group "
	    "listed once, in order, at %d points", lists);
	ok(most_unsorted == 255, "groups added are sorted in 256 at a time "
	    "between listings (at most %zu waited)", most_unsorted);
	ok(many_holes == 0, "the holes removals leave stay within an eighth "
	    "of the sorted slots");
	store_free(&s);
}

/* store_free at points through a migration: every fd closed, no waiter left. */
static void
test_free(void)
{
	struct store s;
	struct waiter w[2];
	int before, n, more[4], i, k, mid = 0, open = 0, waiting = 0;

	before = fd_count();
	for (k = 0; k < 8; k++) {
		fill_to_migration(&s, &n);
		for (i = 0; i < k * 60; i++)
			if (put(&s, n++) != 0)
				bail("store_put");
		for (i = 0; i < 4; i++)
			if ((more[i] = dup(devnull)) == -1)
				bail("dup");
		if (store_put(&s, "three", 5, more, 3, 0, 0) != 0 ||
		    store_put(&s, "ttl", 3, &more[3], 1, 0, 60) != 0 ||
		    store_wait(&s, "w0", 2, &w[0], 0) == -1 ||
		    store_wait(&s, "w1", 2, &w[1], 1) == -1)
			bail("store");
		mid += s.old != NULL && fd_count() == before + n + 4;
		store_free(&s);
		open += fd_count() - before;
		waiting += (w[0].g != NULL) + (w[1].g != NULL);
	}
	ok(mid == 8, "8 stores mid-migration, each holding its fds");
	ok(open == 0, "store_free closes every one (%d left open)", open);
	ok(waiting == 0, "and cuts off the waiters");
}

/* What on_expire was told: how often, of which name, still held or not. */
struct expiry {
	int	 calls;
	int	 held;
	char	 name[8];
};

static void
note_expiry(const struct group *g, void *arg)
{
	struct expiry *x = arg;

	x->calls++;
	x->held = g->nfds == 1 && g->s->nheld == 1;
	snprintf(x->name, sizeof(x->name), "%.*s", (int)group_namelen(g),
	    group_name(g));
}

/* A TTL closes its group, telling on_expire first; a DELETE does not tell. */
static void
test_expire(void)
{
	struct expiry x = { 0, 0, "" };
	struct store s;
	int fd[2];

	if (store_init(&s, base) == -1)
		bail("store_init");
	s.on_expire = note_expiry;
	s.on_expire_arg = &x;
	if ((fd[0] = dup(devnull)) == -1 || (fd[1] = dup(devnull)) == -1)
		bail("dup");
	if (store_put(&s, "brief", 5, &fd[0], 1, 0, 1) != 0 ||
	    store_put(&s, "kept", 4, &fd[1], 1, 0, 1) != 0)
		bail("store_put");
	store_remove(&s, store_find(&s, "kept", 4));
	event_base_dispatch(base);
	ok(x.calls == 1 && strcmp(x.name, "brief") == 0,
	    "on_expire hears of the group its TTL closed, and of no other");
	ok(x.held, "while the group is still held");
	ok(s.nheld == 0 && s.nfds == 0 && store_find(&s, "brief", 5) == NULL,
	    "then it is gone");
	store_free(&s);
}

int
main(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		bail("getrlimit");
	if (rl.rlim_cur < NEEDFDS && rl.rlim_max >= NEEDFDS) {
		rl.rlim_cur = NEEDFDS;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			bail("setrlimit");
	}
	if (rl.rlim_cur < NEEDFDS) {
		printf("1..0 # SKIP needs %d fds\n", NEEDFDS);
		return 0;
	}
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		bail("open /dev/null");
	if ((base = event_base_new()) == NULL)
		bail("event_base_new");
	test_grow();
	test_remove();
	test_foreach();
	test_waiters();
	test_free();
	test_list_next();
	test_names_random();
	test_expire();
	event_base_free(base);
	close(devnull);
	return done_testing();
}
