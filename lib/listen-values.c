/*
 * listen-values.c: the values of listener settings, read as systemd.socket(5)
 * writes them: booleans, numbers, sizes with K, M, G, time spans, octal
 * modes, users and groups, words, names and paths.
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

/* Units of a time span, in microseconds (systemd.time(7) less months, years). */
static const struct {
	const char		*unit;
	unsigned long long	 usec;
} time_units[] = {
	{ "usec", 1 }, { "us", 1 }, { "\xc2\xb5s", 1 },
	{ "msec", 1000 }, { "ms", 1000 },
	{ "seconds", 1000000 }, { "second", 1000000 }, { "sec", 1000000 },
	{ "s", 1000000 },
	{ "minutes", 60000000 }, { "minute", 60000000 }, { "min", 60000000 },
	{ "m", 60000000 },
	{ "hours", 3600000000ULL }, { "hour", 3600000000ULL },
	{ "hr", 3600000000ULL }, { "h", 3600000000ULL },
	{ "days", 86400000000ULL }, { "day", 86400000000ULL },
	{ "d", 86400000000ULL },
	{ "weeks", 604800000000ULL }, { "week", 604800000000ULL },
	{ "w", 604800000000ULL },
};

/* IPTOS='s words (ip(7)). */
static const struct {
	const char	*word;
	int		 tos;
} tos_words[] = {
	{ "low-delay", 0x10 }, { "throughput", 0x08 },
	{ "reliability", 0x04 }, { "low-cost", 0x02 },
};

int
listen_parse_decimal(const char *s, unsigned long long max,
    unsigned long long *v)
{
	unsigned long long n = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s) ||
		    n > (max - (unsigned long long)(*s - '0')) / 10)
			return -1;
		n = n * 10 + (unsigned long long)(*s - '0');
	}
	*v = n;
	return 0;
}

/* A size: bytes, or a number with K, M or G after it (base 1024). */
static int
parse_size(const char *s, unsigned long long *v)
{
	char digits[32];
	size_t n = strspn(s, "0123456789");
	unsigned long long mult = 1;
	const char *p;

	if (n == 0 || n >= sizeof(digits))
		return -1;
	if (s[n] != '\0') {
		if (s[n + 1] != '\0' || (p = strchr("KkMmGg", s[n])) == NULL)
			return -1;
		mult = 1ULL << (10 * (1 + (p - "KkMmGg") / 2));
	}
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (listen_parse_decimal(digits, ULLONG_MAX / mult, v) == -1)
		return -1;
	*v *= mult;
	return 0;
}

/* A time span ("5", "5s", "500ms", "1min 30s") in seconds, rounded up. */
static int
parse_seconds(const char *s, unsigned long long *v)
{
	unsigned long long total = 0, n, unit;
	char digits[24], word[16];
	size_t len, i;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		len = strspn(s, "0123456789");
		if (len == 0 || len >= sizeof(digits))
			return -1;
		memcpy(digits, s, len);
		digits[len] = '\0';
		if (listen_parse_decimal(digits, ULLONG_MAX, &n) == -1)
			return -1;
		for (s += len; *s == ' '; s++)
			;
		len = strcspn(s, "0123456789 ");
		unit = 1000000;
		if (len > 0) {
			if (len >= sizeof(word))
				return -1;
			memcpy(word, s, len);
			word[len] = '\0';
			for (i = 0; i < NELEM(time_units); i++)
				if (strcmp(word, time_units[i].unit) == 0)
					break;
			if (i == NELEM(time_units))
				return -1;
			unit = time_units[i].usec;
		}
		if (n > (ULLONG_MAX - total) / unit)
			return -1;
		total += n * unit;
		for (s += len; *s == ' '; s++)
			;
	}
	*v = total / 1000000 + (total % 1000000 != 0);
	return 0;
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
	char *word, *save = NULL, **grown;

	if (*s == '\0') {
		l->nsymlinks = 0;
		return 0;
	}
	for (word = strtok_r(s, " \t", &save); word != NULL;
	    word = strtok_r(NULL, " \t", &save)) {
		if (strlen(word) >= PATH_MAX)
			return -1;
		grown = realloc(l->symlinks, (l->nsymlinks + 1) *
		    sizeof(*l->symlinks));
		if (grown == NULL)
			return -2;
		l->symlinks = grown;
		l->symlinks[l->nsymlinks++] = word;
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
		snprintf(buf, len, "a size in bytes from %lld to %lld, K, M "
		    "and G meaning 1024, 1024^2 and 1024^3", s->min, s->max);
		break;
	case LV_SECONDS:
		snprintf(buf, len, "a time span from %lld to %lld seconds, such "
		    "as 5, 5s, 500ms or 1min 30s", s->min, s->max);
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
	case LV_SIZE:
	case LV_SECONDS:
		if ((s->type == LV_NUMBER ?
		    listen_parse_decimal(value, ULLONG_MAX, &n) :
		    s->type == LV_SIZE ? parse_size(value, &n) :
		    parse_seconds(value, &n)) == -1 ||
		    n < (unsigned long long)s->min ||
		    n > (unsigned long long)s->max)
			return -1;
		*v = (long long)n;
		return 0;
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
