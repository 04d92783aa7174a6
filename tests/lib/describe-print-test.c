/*
 * describe-print-test.c: the printers of descriptions and names, on the
 * strings that are awkward to print: quoting, escapes, UTF-8 and not.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe-check.h"

/* The string the printers below print. */
static const char *awkward;

/* fdp_json_print_string of awkward, for printed(). */
static void
print_awkward_json(FILE *f, const struct fdp_desc *d)
{
	(void)d;
	fdp_json_print_string(f, awkward);
}

/* fdp_desc_print_text of a description whose one field holds awkward. */
static void
print_awkward_text(FILE *f, const struct fdp_desc *d)
{
	struct fdp_desc one;

	(void)d;
	one.kind = "file";
	one.nfields = 1;
	one.fields[0].key = "path";
	one.fields[0].value = awkward;
	one.fields[0].type = FDP_FIELD_STRING;
	fdp_desc_print_text(f, &one);
}

/* Whether a printer prints s as want (on one line); says what it printed. */
static int
prints_as(void (*print)(FILE *, const struct fdp_desc *), const char *s,
    const char *want, const char *what)
{
	char *text;
	int good;

	awkward = s;
	text = printed(print);
	text[strcspn(text, "\n")] = '\0';	/* the text format's newline */
	good = strcmp(text, want) == 0;
	ok(good, "%s: %s", what, text);
	free(text);
	return good;
}

/*
 * Commands print group names and every string field with
 * fdp_json_print_string: UTF-8 text as it is, what JSON requires escaped,
 * and each byte that is not UTF-8 as the lone surrogate \udcNN.
 */
static void
test_json_string(void)
{
	static const struct {
		const char	*in;
		const char	*out;
		const char	*what;
	} cases[] = {
		{ "a \"b\" \\c\n\x01\x7f", "\"a \\\"b\\\" \\\\c\\u000a\\u0001\\u007f\"",
		  "quotes, backslashes and controls escaped" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		  "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
		  "UTF-8 of 2, 3 and 4 bytes as it is" },
		{ "\xff\x80x", "\"\\udcff\\udc80x\"",
		  "bytes that start nothing: \\udcNN each" },
		{ "\xc0\xaf\xe0\x80\xaf\xf0\x80\x80\xaf",
		  "\"\\udcc0\\udcaf\\udce0\\udc80\\udcaf\\udcf0\\udc80\\udc80\\udcaf\"",
		  "overlong forms of '/' are not UTF-8" },
		{ "\xed\xa0\x80", "\"\\udced\\udca0\\udc80\"",
		  "a surrogate encoded in UTF-8 is not UTF-8" },
		{ "\xf4\x90\x80\x80\xf5\x80", "\"\\udcf4\\udc90\\udc80\\udc80\\udcf5\\udc80\"",
		  "code points above U+10FFFF are not UTF-8" },
		{ "\xe2\x82", "\"\\udce2\\udc82\"",
		  "a sequence cut short by the end is not UTF-8" },
		{ "\xe2\x82x\xf0\x9f\x98", "\"\\udce2\\udc82x\\udcf0\\udc9f\\udc98\"",
		  "a sequence cut short by ASCII is not UTF-8" },
		{ "\xf4\x8f\xbf\xbf\xef\xbf\xbd", "\"\xf4\x8f\xbf\xbf\xef\xbf\xbd\"",
		  "U+10FFFF and U+FFFD are text" },
		{ "\xc2\x9b\xe2\x80\xae\xe2\x81\xa6\xc2\xa0\xe2\x80\x8b",
		  "\"\\u009b\\u202e\\u2066\\u00a0\\u200b\"",
		  "C1 controls, bidi overrides and isolates, odd spaces, "
		  "zero-width characters as \\uXXXX" },
		{ "\xf3\xa0\x81\x81", "\"\\udb40\\udc41\"",
		  "a tag character as a surrogate pair" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		prints_as(print_awkward_json, cases[i].in, cases[i].out,
		    cases[i].what);
}

/*
 * The text format shows UTF-8 text as it is, and quotes and \xNN-escapes
 * what is not, and what a terminal would act on or hides text.
 */
static void
test_text_value(void)
{
	prints_as(print_awkward_text, "/caf\xc3\xa9/\xe2\x82\xac",
	    "file path=/caf\xc3\xa9/\xe2\x82\xac",
	    "text: UTF-8 as it is, unquoted");
	prints_as(print_awkward_text, "/a\xff" "b\xed\xa0\x80",
	    "file path=\"/a\\xffb\\xed\\xa0\\x80\"",
	    "text: bytes that are not UTF-8 escaped, quoted");
	prints_as(print_awkward_text, "/x\xc2\x9b\xe2\x80\xaey\x1b",
	    "file path=\"/x\\xc2\\x9b\\xe2\\x80\\xaey\\x1b\"",
	    "text: a C1 control, a bidi override and ESC escaped");
}

int
main(void)
{
	test_json_string();
	test_text_value();
	return done_testing();
}
