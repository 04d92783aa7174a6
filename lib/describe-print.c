/*
 * describe-print.c: a description printed: as text people read, quoted and
 * escaped where needed, and as JSON programs read.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "fdpass.h"

/*
 * Quote a value that a reader splitting on blanks and '=' would misread,
 * or that holds anything to escape.
 */
static int
text_needs_quotes(const char *s)
{
	enum fdp_utf8_kind kind;
	uint32_t c;
	size_t n;

	if (*s == '\0')
		return 1;
	for (; *s != '\0'; s += n) {
		n = fdp_utf8_next(s, &c, &kind);
		if (kind != FDP_UTF8_TEXT || c == ' ' || c == '"' ||
		    c == '\\' || c == '=')
			return 1;
	}
	return 0;
}

/*
 * One value of the text format, quoted and C-escaped when needed: UTF-8
 * text as it is, each byte of anything else as \xNN.
 */
static void
text_print_value(FILE *f, const char *s)
{
	enum fdp_utf8_kind kind;
	uint32_t c;
	size_t n, i;

	if (!text_needs_quotes(s)) {
		fputs(s, f);
		return;
	}
	putc('"', f);
	for (; *s != '\0'; s += n) {
		n = fdp_utf8_next(s, &c, &kind);
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", (int)c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (kind == FDP_UTF8_TEXT)
			fwrite(s, 1, n, f);
		else
			for (i = 0; i < n; i++)
				fprintf(f, "\\x%02x", (unsigned char)s[i]);
	}
	putc('"', f);
}

/* The form people read: "KIND key=value ..." on one line. */
void
fdp_desc_print_text(FILE *f, const struct fdp_desc *d)
{
	size_t i;

	fputs(d->kind != NULL ? d->kind : "unknown", f);
	for (i = 0; i < d->nfields && i < FDP_DESC_MAX_FIELDS; i++) {
		fprintf(f, " %s=", d->fields[i].key);
		text_print_value(f, d->fields[i].value);
	}
	putc('\n', f);
}

/*
 * A JSON string: UTF-8 text as it is, the characters to hide escaped, and
 * bytes that are not UTF-8 as lone surrogates \udcNN (surrogateescape).
 */
void
fdp_json_print_string(FILE *f, const char *s)
{
	enum fdp_utf8_kind kind;
	uint32_t c;
	size_t n;

	putc('"', f);
	for (; *s != '\0'; s += n) {
		n = fdp_utf8_next(s, &c, &kind);
		if (kind == FDP_UTF8_INVALID)
			fprintf(f, "\\udc%02x", (unsigned)c);
		else if (c == '"' || c == '\\')
			fprintf(f, "\\%c", (int)c);
		else if (kind == FDP_UTF8_TEXT)
			fwrite(s, 1, n, f);
		else if (c > 0xffff)
			fprintf(f, "\\u%04x\\u%04x",
			    (unsigned)(0xd800 + ((c - 0x10000) >> 10)),
			    (unsigned)(0xdc00 + ((c - 0x10000) & 0x3ff)));
		else
			fprintf(f, "\\u%04x", (unsigned)c);
	}
	putc('"', f);
}

/* The members of a descriptor object, kind first, without the braces. */
static void
json_print_members(FILE *f, const struct fdp_desc *d)
{
	const struct fdp_field *field;
	size_t i;

	fputs("\"kind\":", f);
	fdp_json_print_string(f, d->kind != NULL ? d->kind : "unknown");
	for (i = 0; i < d->nfields && i < FDP_DESC_MAX_FIELDS; i++) {
		field = &d->fields[i];
		putc(',', f);
		fdp_json_print_string(f, field->key);
		putc(':', f);
		if (field->type == FDP_FIELD_BOOLEAN)
			fputs(strcmp(field->value, "yes") == 0 ? "true" : "false",
			    f);
		else if (field->type == FDP_FIELD_NUMBER)
			fputs(field->value, f);
		else
			fdp_json_print_string(f, field->value);
	}
}

/* The form programs read: one flat JSON object, kind first. */
void
fdp_desc_print_json(FILE *f, const struct fdp_desc *d)
{
	putc('{', f);
	json_print_members(f, d);
	putc('}', f);
}

/* describe's objects start with the fd's number. */
void
fdp_desc_print_json_fd(FILE *f, int fd, const struct fdp_desc *d)
{
	fprintf(f, "{\"fd\":%d,", fd);
	json_print_members(f, d);
	putc('}', f);
}
