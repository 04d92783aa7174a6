/*
 * utf8.c: which bytes of a string are UTF-8 text, and which characters must
 * not reach a terminal as they are: what describe-print.c escapes.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "fdpass.h"

/*
 * The length of the well-formed UTF-8 sequence at p (RFC 3629), with its
 * code point in *cp; 0 if p does not start one: a stray continuation byte,
 * an overlong form, a UTF-16 surrogate, a code point above U+10FFFF, or a
 * sequence cut short (by the string's NUL, say).
 */
static size_t
utf8_decode(const unsigned char *p, uint32_t *cp)
{
	uint32_t c;
	size_t n, i;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] < 0xc2 || p[0] > 0xf4)	/* continuation, overlong C0/C1 */
		return 0;
	n = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
	c = p[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return n;
}

/*
 * Characters shown escaped even though they are valid: controls (C0, DEL,
 * C1: a terminal acts on them), spaces other than U+0020, and the invisible
 * formatting characters that hide text or reorder it on screen (bidi
 * embeddings, overrides and isolates, zero-width characters, tags).
 */
static int
utf8_hidden(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0xad ||
	    c == 0x61c || c == 0x1680 || c == 0x180e ||
	    (c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
	    (c >= 0x205f && c <= 0x206f) || c == 0x3000 || c == 0xfeff ||
	    (c >= 0xfff9 && c <= 0xfffb) || (c >= 0xe0000 && c <= 0xe007f);
}

size_t
fdp_utf8_next(const char *s, uint32_t *cp, enum fdp_utf8_kind *kind)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = utf8_decode(p, cp);

	if (n == 0) {
		*cp = p[0];
		*kind = FDP_UTF8_INVALID;
		return 1;
	}
	*kind = utf8_hidden(*cp) ? FDP_UTF8_HIDDEN : FDP_UTF8_TEXT;
	return n;
}
