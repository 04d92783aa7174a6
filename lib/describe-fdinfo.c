/*
 * describe-fdinfo.c: /proc's fdinfo read, and the kinds only it describes:
 * eventfd, timerfd, signalfd, epoll, inotify, fanotify, pidfd, unnamed ones.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "describe.h"

/* fdinfo_value's state: the key sought and where its value goes. */
struct fdinfo_lookup {
	const char	*key;
	char		*value;
	size_t		 len;
	int		 found;
};

/* fdinfo_count's state: which lines count, and how many did. */
struct fdinfo_count {
	const char	*prefix;
	const char	*needle;
	uintmax_t	 n;
};

/* describe_unknown's state: fdinfo's lines joined into one value. */
struct fdinfo_fold {
	char		 text[1024];
	size_t		 len;
};

static const struct code_name clock_names[] = {
	{ CLOCK_REALTIME, "realtime" }, { CLOCK_MONOTONIC, "monotonic" },
	{ CLOCK_BOOTTIME, "boottime" },
	{ CLOCK_REALTIME_ALARM, "realtime_alarm" },
	{ CLOCK_BOOTTIME_ALARM, "boottime_alarm" },
};

/*
 * fdinfo is the one place the kernel states what anon inodes hold; fn sees
 * each line until it returns nonzero.
 */
static void
fdinfo_scan(const struct fd_facts *x, int (*fn)(const char *line, void *arg),
    void *arg)
{
	char path[64];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int fd;

	fd = openat(proc_path(path, sizeof(path), "fdinfo", x), path,
	    O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return;
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (fn(line, arg))
			break;
	}
	free(line);
	fclose(f);
}

/* fdinfo_scan's callback for fdinfo_value. */
static int
lookup_line(const char *line, void *arg)
{
	struct fdinfo_lookup *l = arg;
	size_t keylen = strlen(l->key);

	if (strncmp(line, l->key, keylen) != 0 || line[keylen] != ':')
		return 0;
	line += keylen + 1;
	snprintf(l->value, l->len, "%s", line + strspn(line, " \t"));
	l->found = 1;
	return 1;
}

/* The value of fdinfo's first "key:" line, blanks trimmed; 0 if found. */
static int
fdinfo_value(const struct fd_facts *x, const char *key, char *value,
    size_t len)
{
	struct fdinfo_lookup l = { key, value, len, 0 };

	fdinfo_scan(x, lookup_line, &l);
	return l.found ? 0 : -1;
}

/* fdinfo's counters, ids and clocks are numbers in a known base; 0 if found. */
int
fdinfo_number(const struct fd_facts *x, const char *key, int base,
    unsigned long long *number)
{
	char value[64];
	char *end;

	if (fdinfo_value(x, key, value, sizeof(value)) == -1)
		return -1;
	*number = strtoull(value, &end, base);
	return end == value || *end != '\0' ? -1 : 0;
}

/* fdinfo_scan's callback for fdinfo_count. */
static int
count_line(const char *line, void *arg)
{
	struct fdinfo_count *c = arg;

	if (strncmp(line, c->prefix, strlen(c->prefix)) == 0 &&
	    (c->needle == NULL || strstr(line, c->needle) != NULL))
		c->n++;
	return 0;
}

/* epoll, inotify and fanotify list one fdinfo line per thing watched. */
static uintmax_t
fdinfo_count(const struct fd_facts *x, const char *prefix, const char *needle)
{
	struct fdinfo_count c = { prefix, needle, 0 };

	fdinfo_scan(x, count_line, &c);
	return c.n;
}

/* fdinfo_scan's callback for unknown kinds: lines joined by "; ". */
static int
fold_line(const char *line, void *arg)
{
	struct fdinfo_fold *fold = arg;
	size_t room = sizeof(fold->text) - 1;
	int blank = fold->len > 0;

	if (fold->len > 0 && fold->len < room)
		fold->text[fold->len++] = ';';
	for (; *line != '\0' && fold->len < room; line++) {
		if (isspace((unsigned char)*line)) {
			blank = 1;
			continue;
		}
		if (blank && fold->len > 0 && fold->len < room - 1)
			fold->text[fold->len++] = ' ';
		blank = 0;
		fold->text[fold->len++] = *line;
	}
	fold->text[fold->len] = '\0';
	return fold->len >= room;
}

/* eventfd: the counter, which read() would consume, taken from fdinfo. */
static void
describe_eventfd(const struct fd_facts *x, struct fdp_desc *d)
{
	unsigned long long n;

	d->kind = "eventfd";
	if (fdinfo_number(x, "eventfd-count", 16, &n) == 0)
		field_uint(d, "counter", n);
	if (fdinfo_number(x, "eventfd-semaphore", 10, &n) == 0)
		field_bool(d, "semaphore", n != 0);
}

/* fdinfo writes timerfd times as "(sec, nsec)"; we print decimal seconds. */
static void
field_fdinfo_time(const struct fd_facts *x, const char *fdinfo_key,
    const char *key, struct fdp_desc *d)
{
	char value[64];
	long long sec;
	long nsec;

	if (fdinfo_value(x, fdinfo_key, value, sizeof(value)) == 0 &&
	    sscanf(value, "(%lld, %ld)", &sec, &nsec) == 2)
		field_add(d, key, FDP_FIELD_NUMBER, "%lld.%09ld", sec, nsec);
}

/*
 * timerfd: all from fdinfo, since even timerfd_gettime() forwards an
 * expired periodic timer.
 */
static void
describe_timerfd(const struct fd_facts *x, struct fdp_desc *d)
{
	unsigned long long n;

	d->kind = "timerfd";
	if (fdinfo_number(x, "clockid", 10, &n) == 0)
		field_code(d, "clock", clock_names, NELEM(clock_names),
		    (int)n);
	field_fdinfo_time(x, "it_value", "value", d);
	field_fdinfo_time(x, "it_interval", "interval", d);
	if (fdinfo_number(x, "ticks", 10, &n) == 0)
		field_uint(d, "ticks", n);
}

/* signalfd: the mask as the kernel prints it, and as signal names. */
static void
describe_signalfd(const struct fd_facts *x, struct fdp_desc *d)
{
	char mask[64], list[512] = "", word[24];
	unsigned long long bits;
	const char *name;
	size_t n;
	int sig;

	d->kind = "signalfd";
	if (fdinfo_value(x, "sigmask", mask, sizeof(mask)) == -1)
		return;
	field_str(d, "sigmask", mask);
	n = strlen(mask);
	bits = strtoull(n > 16 ? mask + n - 16 : mask, NULL, 16);
	for (sig = 1; sig <= 64; sig++) {
		if ((bits & 1ULL << (sig - 1)) == 0)
			continue;
		if ((name = sigabbrev_np(sig)) != NULL)
			snprintf(word, sizeof(word), "%s", name);
		else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
			snprintf(word, sizeof(word), "RTMIN+%d",
			    sig - SIGRTMIN);
		else
			snprintf(word, sizeof(word), "%d", sig);
		list_append(list, sizeof(list), word);
	}
	field_str(d, "signals", list[0] != '\0' ? list : "none");
}

/* epoll: fdinfo has one "tfd:" line per fd in the interest list. */
static void
describe_epoll(const struct fd_facts *x, struct fdp_desc *d)
{
	d->kind = "epoll";
	field_uint(d, "watches", fdinfo_count(x, "tfd:", NULL));
}

/* inotify: fdinfo has one "inotify wd:" line per watch. */
static void
describe_inotify(const struct fd_facts *x, struct fdp_desc *d)
{
	d->kind = "inotify";
	field_uint(d, "watches", fdinfo_count(x, "inotify wd:", NULL));
}

/* fanotify: fanotify_init()'s flags; a "fanotify ... mflags:" line per mark. */
static void
describe_fanotify(const struct fd_facts *x, struct fdp_desc *d)
{
	char value[128];
	unsigned int init_flags, event_flags;

	d->kind = "fanotify";
	if (fdinfo_value(x, "fanotify flags", value, sizeof(value)) == 0 &&
	    sscanf(value, "%x event-flags:%x", &init_flags,
	    &event_flags) == 2) {
		field_add(d, "fanotify_flags", FDP_FIELD_STRING, "0x%x", init_flags);
		field_add(d, "event_flags", FDP_FIELD_STRING, "0x%x", event_flags);
	}
	field_uint(d, "watches", fdinfo_count(x, "fanotify ", "mflags:"));
}

/* pidfd: fdinfo's "Pid:", -1 once the process is gone, 0 if not ours to see. */
static void
describe_pidfd(const struct fd_facts *x, struct fdp_desc *d)
{
	char value[64];
	char *end;
	long pid;

	d->kind = "pidfd";
	if (fdinfo_value(x, "Pid", value, sizeof(value)) == -1)
		return;
	pid = strtol(value, &end, 10);
	if (end != value && *end == '\0')
		field_add(d, "pid", FDP_FIELD_NUMBER, "%ld", pid);
}

/* Anything else: what the link says and fdinfo folded into one field. */
void
describe_unknown(const struct fd_facts *x, struct fdp_desc *d)
{
	struct fdinfo_fold fold;

	d->kind = "unknown";
	if (x->link[0] != '\0')
		field_str(d, "link", x->link);
	field_uint(d, "inode", x->st.st_ino);
	fold.len = 0;
	fold.text[0] = '\0';
	fdinfo_scan(x, fold_line, &fold);
	if (fold.len > 0)
		field_str(d, "fdinfo", fold.text);
}

/*
 * Anonymous inodes have no dependable file type; only their link names
 * them. First match wins, so other anon inodes end as unknown whatever
 * their mode.
 */
static const struct {
	const char	*link_prefix;
	void		(*describe)(const struct fd_facts *,
			    struct fdp_desc *);
} anon_kinds[] = {
	{ "anon_inode:[eventfd]", describe_eventfd },
	{ "anon_inode:[timerfd]", describe_timerfd },
	{ "anon_inode:[signalfd]", describe_signalfd },
	{ "anon_inode:[eventpoll]", describe_epoll },
	{ "anon_inode:inotify", describe_inotify },
	{ "anon_inode:[fanotify]", describe_fanotify },
	{ "anon_inode:[pidfd]", describe_pidfd },
	{ "pidfd:", describe_pidfd },
	{ "anon_inode:", describe_unknown },
};

/* describe.c asks here first: the link, not the file type, names these. */
int
describe_anon(const struct fd_facts *x, struct fdp_desc *d)
{
	size_t i;

	for (i = 0; i < NELEM(anon_kinds); i++)
		if (strncmp(x->link, anon_kinds[i].link_prefix,
		    strlen(anon_kinds[i].link_prefix)) == 0) {
			anon_kinds[i].describe(x, d);
			return 1;
		}
	return 0;
}
