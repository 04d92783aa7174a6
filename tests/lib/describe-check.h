/*
 * describe-check.h: what the tests of lib/describe*.c share: one
 * description, its fields looked up, and both printed forms checked.
 * describe-print-test.c needs only printed(): the rest is marked unused.
 */
#ifndef FDPASS_DESCRIBE_CHECK_H
#define FDPASS_DESCRIBE_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdpass.h"
#include "tap.h"

/* One description per check keeps each check's failure readable. */
static struct fdp_desc desc;

/* The value of key in desc, or NULL if desc has no such field. */
static __attribute__((unused)) const char *
value_of(const char *key)
{
	size_t i;

	for (i = 0; i < desc.nfields; i++)
		if (strcmp(desc.fields[i].key, key) == 0)
			return desc.fields[i].value;
	return NULL;
}

/* The value of key for a check's description, even when it is missing. */
static __attribute__((unused)) const char *
shown(const char *key)
{
	const char *v = value_of(key);

	return v != NULL ? v : "(missing)";
}

/* Whether key is present and holds value. */
static __attribute__((unused)) int
field_is(const char *key, const char *value)
{
	const char *v = value_of(key);

	return v != NULL && strcmp(v, value) == 0;
}

/* Whether key is a numeric field holding number. */
static __attribute__((unused)) int
number_is(const char *key, long long number)
{
	char text[32];
	size_t i;

	snprintf(text, sizeof(text), "%lld", number);
	for (i = 0; i < desc.nfields; i++)
		if (strcmp(desc.fields[i].key, key) == 0)
			return desc.fields[i].type == FDP_FIELD_NUMBER &&
			    strcmp(desc.fields[i].value, text) == 0;
	return 0;
}

/* Whether every field stays inside the arena and every key is lower case (digits after the first letter). */
static __attribute__((unused)) int
desc_sane(void)
{
	const char *p;
	size_t i;

	if (desc.nfields > FDP_DESC_MAX_FIELDS || desc.used > sizeof(desc.text))
		return 0;
	for (i = 0; i < desc.nfields; i++) {
		if (desc.fields[i].value < desc.text ||
		    desc.fields[i].value >= desc.text + desc.used)
			return 0;
		for (p = desc.fields[i].key; *p != '\0'; p++)
			if ((*p < 'a' || *p > 'z') && *p != '_' &&
			    (p == desc.fields[i].key || *p < '0' || *p > '9'))
				return 0;
	}
	return 1;
}

/* Run one of the printers on desc into a string the caller frees. */
static char *
printed(void (*print)(FILE *, const struct fdp_desc *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL) {
		printf("Bail out! open_memstream: %s\n", strerror(errno));
		exit(1);
	}
	print(f, &desc);
	fclose(f);
	return text;
}

/* Whether the text form is "KIND ..." on one line; drops the newline. */
static __attribute__((unused)) int
text_well_formed(char *text)
{
	size_t n = strlen(desc.kind);
	char *newline = strchr(text, '\n');

	if (newline == NULL || newline[1] != '\0')
		return 0;
	*newline = '\0';
	return strncmp(text, desc.kind, n) == 0 &&
	    (text[n] == ' ' || text[n] == '\0');
}

/*
 * Skip a JSON string at *p; 0 if it is well formed: escapes, and no
 * control characters (bytes of 0x80 and up are UTF-8, checked elsewhere).
 */
static __attribute__((unused)) int
json_skip_string(const char **p)
{
	const char *s = *p;

	if (*s++ != '"')
		return -1;
	for (; *s != '"'; s++) {
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return -1;
		if (*s != '\\')
			continue;
		s++;
		if (*s == 'u') {
			if (strspn(s + 1, "0123456789abcdefABCDEF") < 4)
				return -1;
			s += 4;
		} else if (strchr("\"\\/bfnrt", *s) == NULL || *s == '\0')
			return -1;
	}
	*p = s + 1;
	return 0;
}

/* Skip a JSON scalar at *p: a string, a number, true or false. */
static __attribute__((unused)) int
json_skip_value(const char **p)
{
	size_t n;

	if (**p == '"')
		return json_skip_string(p);
	if (strncmp(*p, "true", 4) == 0 || strncmp(*p, "false", 5) == 0) {
		*p += **p == 't' ? 4 : 5;
		return 0;
	}
	n = strspn(*p, "-+.0123456789eE");
	if (n == 0 || (**p != '-' && (**p < '0' || **p > '9')))
		return -1;
	*p += n;
	return 0;
}

/* Whether text is one flat JSON object with "kind" first and nothing after. */
static __attribute__((unused)) int
json_well_formed(const char *text)
{
	const char *p = text;

	if (strncmp(p, "{\"kind\":", 8) != 0)
		return 0;
	p++;
	for (;;) {
		if (json_skip_string(&p) == -1 || *p++ != ':' ||
		    json_skip_value(&p) == -1)
			return 0;
		if (*p == '}')
			return p[1] == '\0';
		if (*p++ != ',')
			return 0;
	}
}

/*
 * Describe fd and check its kind, that its fields stay in the arena, and
 * that both printed forms are well formed; every later check reads desc.
 */
static __attribute__((unused)) int
describe_as(int fd, const char *kind, const char *what)
{
	char *text, *json;
	int r = fdp_describe(fd, &desc);
	int good;

	if (r != 0)
		return ok(0, "%s is described as %s (got error %d)", what, kind,
		    r);
	text = printed(fdp_desc_print_text);
	json = printed(fdp_desc_print_json);
	good = strcmp(desc.kind, kind) == 0 && desc_sane() &&
	    text_well_formed(text) && json_well_formed(json);
	ok(good, "%s is described as %s", what, kind);
	if (!good)
		printf("# text: %s\n# JSON: %s\n", text, json);
	free(text);
	free(json);
	return good;
}

#endif
