/*
 * listen-values.c: the values of listener settings, read as systemd reads
 * them (parse_size, parse_sec): booleans, numbers, sizes such as 1.5M,
 * time spans such as 1h 30min, octal modes, users and groups, words, names
 * and paths, each turned into what the kernel takes.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "listen.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* What systemd takes for blanks between the parts of a size or time span. */
#define BLANKS		" \t\n\r"

#define USEC_PER_SEC	1000000ULL
#define USEC_PER_MIN	(60 * USEC_PER_SEC)
#define USEC_PER_HOUR	(60 * USEC_PER_MIN)
#define USEC_PER_DAY	(24 * USEC_PER_HOUR)
#define USEC_INFINITY	ULLONG_MAX

/*
 * systemd.time(7)'s units, in microseconds, in the order systemd tries them:
 * the first that begins what follows a number is its unit ("ms" before
 * "m"); case matters ("M" is a month).
 */
static const struct {
	const char		*unit;
	unsigned long long	 usec;
} time_units[] = {
	{ "seconds", USEC_PER_SEC }, { "second", USEC_PER_SEC },
	{ "sec", USEC_PER_SEC }, { "s", USEC_PER_SEC },
	{ "minutes", USEC_PER_MIN }, { "minute", USEC_PER_MIN },
	{ "min", USEC_PER_MIN },
	{ "months", 2629800 * USEC_PER_SEC },
	{ "month", 2629800 * USEC_PER_SEC }, { "M", 2629800 * USEC_PER_SEC },
	{ "msec", 1000 }, { "ms", 1000 }, { "m", USEC_PER_MIN },
	{ "hours", USEC_PER_HOUR }, { "hour", USEC_PER_HOUR },
	{ "hr", USEC_PER_HOUR }, { "h", USEC_PER_HOUR },
	{ "days", USEC_PER_DAY }, { "day", USEC_PER_DAY }, { "d", USEC_PER_DAY },
	{ "weeks", 7 * USEC_PER_DAY }, { "week", 7 * USEC_PER_DAY },
	{ "w", 7 * USEC_PER_DAY },
	{ "years", 31557600 * USEC_PER_SEC },
	{ "year", 31557600 * USEC_PER_SEC }, { "y", 31557600 * USEC_PER_SEC },
	{ "usec", 1 }, { "us", 1 },
	{ "\xce\xbcs", 1 },	/* U+03BC GREEK SMALL LETTER MU */
	{ "\xc2\xb5s", 1 },	/* U+00B5 MICRO SIGN */
};

/* Size suffixes, largest first, base 1024; each part of a size takes a smaller one. */
static const struct {
	char			 suffix;
	unsigned long long	 factor;
} size_units[] = {
	{ 'E', 1ULL << 60 }, { 'P', 1ULL << 50 }, { 'T', 1ULL << 40 },
	{ 'G', 1ULL << 30 }, { 'M', 1ULL << 20 }, { 'K', 1ULL << 10 },
	{ 'B', 1 },
};

/* IPTOS='s words (ip(7)). */
static const struct {
	const char	*word;
	int		 tos;
} tos_words[] = {
	{ "low-delay", 0x10 }, { "throughput", 0x08 },
	{ "reliability", 0x04 }, { "low-cost", 0x02 },
};

/* The decimal digits at *p, at least one, up to max; *p moves past them. */
static int
read_decimal(const char **p, unsigned long long max, unsigned long long *v)
{
	const char *s = *p;
	unsigned long long n = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (n > (max - (unsigned long long)(*s - '0')) / 10)
			return -1;
		n = n * 10 + (unsigned long long)(*s - '0');
	}
	*p = s;
	*v = n;
	return 0;
}

int
listen_parse_decimal(const char *s, unsigned long long max,
    unsigned long long *v)
{
	unsigned long long n;

	if (read_decimal(&s, max, &n) == -1 || *s != '\0')
		return -1;
	*v = n;
	return 0;
}

/*
 * A size as systemd's parse_size reads one: parts, each a number with an
 * optional decimal fraction, then a suffix smaller than the part before's
 * ("1G 512M", "1.5M"); only the last may go without one (bytes). Blanks
 * around it are fine, as in a unit file, which strips them. A part's
 * fraction is worked out in double precision and cut to whole bytes, as
 * systemd does, so that the same words give the same size.
 */
static int
parse_size(const char *s, unsigned long long *v)
{
	unsigned long long total = 0, whole, digits, factor, part;
	size_t next = 0, i;
	const char *p = s, *fraction;
	double frac;

	do {
		if (next > NELEM(size_units))
			return -1;
		p += strspn(p, BLANKS);
		if (*p == '+')
			p++;
		if (read_decimal(&p, ULLONG_MAX, &whole) == -1)
			return -1;
		frac = 0;
		if (*p == '.' && isdigit((unsigned char)p[1])) {
			fraction = ++p;
			if (read_decimal(&p, ULLONG_MAX, &digits) == -1)
				return -1;
			for (frac = (double)digits; fraction < p; fraction++)
				frac /= 10;
		} else if (*p == '.')
			p++;
		p += strspn(p, BLANKS);
		for (i = next; i < NELEM(size_units) &&
		    *p != size_units[i].suffix; i++)
			;
		factor = i < NELEM(size_units) ? size_units[i].factor : 1;
		if (i < NELEM(size_units))
			p++;
		if (whole + (frac > 0) > ULLONG_MAX / factor)
			return -1;
		part = whole * factor + (unsigned long long)(frac *
		    (double)factor);
		if (part > ULLONG_MAX - total)
			return -1;
		total += part;
		next = i + 1;
		p += strspn(p, BLANKS);
	} while (*p != '\0');
	*v = total;
	return 0;
}

/* The unit at s (time_units), its length in *len; seconds and 0 if none. */
static unsigned long long
time_unit(const char *s, size_t *len)
{
	size_t i;

	for (i = 0; i < NELEM(time_units); i++) {
		*len = strlen(time_units[i].unit);
		if (strncmp(s, time_units[i].unit, *len) == 0)
			return time_units[i].usec;
	}
	*len = 0;
	return USEC_PER_SEC;
}

/*
 * A time span as systemd's parse_sec reads one, in microseconds:
 * "infinity", or parts, each a number with an optional decimal fraction
 * ("1.5", ".5") and an optional unit, seconds without one: "90", "1.5s",
 * "500ms", "1h 30min", "2min5s". Fractions count to the microsecond.
 */
static int
parse_time(const char *s, unsigned long long *usec)
{
	unsigned long long total = 0, whole, unit, part, step;
	const char *p = s + strspn(s, BLANKS), *digits, *fraction, *after;
	size_t len;

	if (strncmp(p, "infinity", 8) == 0) {
		if (p[8 + strspn(p + 8, BLANKS)] != '\0')
			return -1;
		*usec = USEC_INFINITY;
		return 0;
	}
	if (*p == '\0')
		return -1;
	while (*p != '\0') {
		if (*p == '+' && isdigit((unsigned char)p[1]))
			p++;
		digits = p;
		whole = 0;
		if (isdigit((unsigned char)*p) &&
		    read_decimal(&p, LLONG_MAX, &whole) == -1)
			return -1;
		fraction = NULL;
		if (*p == '.') {
			fraction = ++p;
			if ((p += strspn(p, "0123456789")) == fraction)
				return -1;
		} else if (p == digits)
			return -1;
		after = p + strspn(p, BLANKS);
		unit = time_unit(after, &len);
		if (len == 0 && after == p && *p != '\0')
			return -1;
		p = after + len;
		if (whole >= USEC_INFINITY / unit ||
		    (part = whole * unit) >= USEC_INFINITY - total)
			return -1;
		total += part;
		for (step = unit / 10; fraction != NULL &&
		    isdigit((unsigned char)*fraction); fraction++, step /= 10) {
			if ((part = (unsigned long long)(*fraction - '0') * step) >=
			    USEC_INFINITY - total)
				return -1;
			total += part;
		}
		p += strspn(p, BLANKS);
	}
	*usec = total;
	return 0;
}

/*
 * A time setting in the whole seconds the kernel takes, cut as systemd
 * cuts them (1.5s is 1, 500ms is 0). 0 and, for LV_SECONDS_INF_DEFAULT,
 * infinity leave the kernel's default, as under systemd; infinity is
 * otherwise the most the kernel takes.
 */
static int
parse_seconds(const struct listen_setting *s, const char *value, long long *v)
{
	unsigned long long usec, sec;

	if (parse_time(value, &usec) == -1)
		return LISTEN_VALUE_BAD;
	if (usec == 0 || (usec == USEC_INFINITY &&
	    s->type == LV_SECONDS_INF_DEFAULT))
		return LISTEN_VALUE_DEFAULT;
	sec = usec == USEC_INFINITY ? (unsigned long long)s->max :
	    usec / USEC_PER_SEC;
	*v = sec > LLONG_MAX ? LLONG_MAX : (long long)sec;
	return *v < s->min || *v > s->max ? LISTEN_VALUE_RANGE : 0;
}

/*
 * A size setting in bytes; 0 leaves the kernel's default, as under
 * systemd, and one past max is out of range.
 */
static int
parse_bytes(const struct listen_setting *s, const char *value, long long *v)
{
	unsigned long long n;

	if (parse_size(value, &n) == -1)
		return LISTEN_VALUE_BAD;
	if (n == 0)
		return LISTEN_VALUE_DEFAULT;
	*v = n > LLONG_MAX ? LLONG_MAX : (long long)n;
	return n > (unsigned long long)s->max ? LISTEN_VALUE_RANGE : 0;
}

/* systemd's booleans. */
static int
parse_bool(const char *s)
{
	static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
	static const char *const no[] = { "0", "no", "n", "false", "f", "off" };
	size_t i;

	for (i = 0; i < NELEM(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* SocketUser=: a name or a uid; the user's own group goes with a name. */
static int
parse_user(struct fdp_listener *l, const char *s, long long *v)
{
	unsigned long long n;
	struct passwd *pw;

	fdp_nss_builtin_only();
	if (listen_parse_decimal(s, UINT32_MAX - 1, &n) == 0) {
		*v = (long long)n;
		pw = getpwuid((uid_t)n);
	} else if ((pw = getpwnam(s)) != NULL)
		*v = pw->pw_uid;
	else
		return -1;
	l->user_gid = pw != NULL ? (long long)pw->pw_gid : -1;
	return 0;
}

/* SocketGroup=: a name or a gid. */
static int
parse_group(const char *s, long long *v)
{
	unsigned long long n;
	struct group *gr;

	fdp_nss_builtin_only();
	if (listen_parse_decimal(s, UINT32_MAX - 1, &n) == 0)
		*v = (long long)n;
	else if ((gr = getgrnam(s)) != NULL)
		*v = gr->gr_gid;
	else
		return -1;
	return 0;
}

/* Symlinks=: paths separated by blanks, added to those before; empty resets. */
static int
parse_paths(struct fdp_listener *l, char *s)
{
	struct listen_symlink *grown;
	char *word, *save = NULL;

	if (*s == '\0') {
		l->nsymlinks = 0;
		return 0;
	}
	for (word = strtok_r(s, " \t", &save); word != NULL;
	    word = strtok_r(NULL, " \t", &save)) {
		if (strlen(word) >= PATH_MAX)
			return LISTEN_VALUE_BAD;
		grown = realloc(l->symlinks, (l->nsymlinks + 1) *
		    sizeof(*l->symlinks));
		if (grown == NULL)
			return LISTEN_VALUE_NOMEM;
		l->symlinks = grown;
		memset(&l->symlinks[l->nsymlinks], 0, sizeof(*l->symlinks));
		l->symlinks[l->nsymlinks++].path = word;
	}
	return 0;
}

void
listen_value_hint(const struct listen_setting *s, char *buf, size_t len)
{
	size_t i, n;

	switch (s->type) {
	case LV_BOOL:
		snprintf(buf, len, "yes or no");
		break;
	case LV_NUMBER:
		snprintf(buf, len, "a whole number from %lld to %lld", s->min,
		    s->max);
		break;
	case LV_SIZE:
		snprintf(buf, len, "a size in bytes such as 65536, 64K or 1.5M "
		    "(K, M, G, T, P, E: powers of 1024)");
		break;
	case LV_SECONDS:
	case LV_SECONDS_INF_DEFAULT:
		snprintf(buf, len, "a time span such as 5, 1.5s, 500ms, 2min "
		    "or 1h 30min, or infinity");
		break;
	case LV_MODE:
		snprintf(buf, len, "an octal mode such as 0660");
		break;
	case LV_USER:
		snprintf(buf, len, "a user name or uid that exists");
		break;
	case LV_GROUP:
		snprintf(buf, len, "a group name or gid that exists");
		break;
	case LV_CHOICE:
		n = snprintf(buf, len, "one of");
		for (i = 0; s->choices[i] != NULL && n < len; i++)
			n += snprintf(buf + n, len - n, " %s", s->choices[i]);
		break;
	case LV_TOS:
		snprintf(buf, len, "a number from 0 to 255, low-delay, "
		    "throughput, reliability or low-cost");
		break;
	case LV_NAME:
		snprintf(buf, len, "a name of 1 to %lld characters without "
		    "blanks or '/'", s->max);
		break;
	case LV_PATH:
	case LV_PATHS:
		snprintf(buf, len, "a path shorter than %d bytes", PATH_MAX);
		break;
	}
}

void
listen_range_hint(const struct listen_setting *s, long long v, char *buf,
    size_t len)
{
	if (s->type == LV_SIZE)
		snprintf(buf, len, "%lld bytes, more than the kernel takes "
		    "(at most %lld)", v, s->max);
	else
		snprintf(buf, len, "%lld seconds (cut to whole seconds, as "
		    "systemd cuts them); the kernel takes %lld to %lld", v,
		    s->min, s->max);
}

int
listen_parse_value(struct fdp_listener *l, const struct listen_setting *s,
    char *value, long long *v)
{
	unsigned long long n;
	size_t i;

	switch (s->type) {
	case LV_BOOL:
		return (*v = parse_bool(value)) == -1 ? -1 : 0;
	case LV_NUMBER:
		if (listen_parse_decimal(value, ULLONG_MAX, &n) == -1 ||
		    n < (unsigned long long)s->min ||
		    n > (unsigned long long)s->max)
			return LISTEN_VALUE_BAD;
		*v = (long long)n;
		return 0;
	case LV_SIZE:
		return parse_bytes(s, value, v);
	case LV_SECONDS:
	case LV_SECONDS_INF_DEFAULT:
		return parse_seconds(s, value, v);
	case LV_MODE:
		if (value[0] == '\0' || strlen(value) > 5 ||
		    value[strspn(value, "01234567")] != '\0')
			return -1;
		*v = strtol(value, NULL, 8);
		return *v > s->max ? -1 : 0;
	case LV_USER:
		return parse_user(l, value, v);
	case LV_GROUP:
		return parse_group(value, v);
	case LV_CHOICE:
		for (i = 0; s->choices[i] != NULL; i++)
			if (strcasecmp(value, s->choices[i]) == 0) {
				*v = (long long)i;
				return 0;
			}
		return -1;
	case LV_TOS:
		for (i = 0; i < NELEM(tos_words); i++)
			if (strcasecmp(value, tos_words[i].word) == 0) {
				*v = tos_words[i].tos;
				return 0;
			}
		if (listen_parse_decimal(value, 255, &n) == -1)
			return -1;
		*v = (long long)n;
		return 0;
	case LV_NAME:
		i = strlen(value);
		return i < (size_t)s->min || i > (size_t)s->max ||
		    value[strcspn(value, " \t/")] != '\0' ? -1 : 0;
	case LV_PATH:
		return value[0] == '\0' || strlen(value) >= PATH_MAX ? -1 : 0;
	case LV_PATHS:
		return parse_paths(l, value);
	}
	return -1;
}
