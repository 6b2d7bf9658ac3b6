#include "common/xmlesc.h"

#include <string.h>

#include "common/sbuf.h"

/* TAB, LF, CR as character references: [hex][which]. */
static const char *const ws_refs[2][3] = {
	{ "&#9;", "&#10;", "&#13;" },
	{ "&#x9;", "&#xA;", "&#xD;" },
};

size_t
xmlesc_utf8(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t c = p[0], min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	/* C0 and C1 only start overlong forms, F5..FF only values above
	 * U+10FFFF; 80..BF are continuation bytes. */
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (uint32_t)(p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/*
 * The character at P (N > 0 bytes): its length, its replacement under
 * FLAGS in *REP (NULL to copy it as it is); or 0 and *BAD when FLAGS
 * refuse it.
 */
static size_t
next_char(const unsigned char *p, size_t n, unsigned flags, const char **rep,
    enum xmlesc_bad *bad)
{
	uint32_t cp;
	size_t k = xmlesc_utf8(p, n, &cp);
	int ws;

	*rep = NULL;
	if (k == 0) {
		*bad = XMLESC_BAD_UTF8;
		return 0;
	}
	switch (cp) {
	case '&':
		*rep = "&amp;";
		return k;
	case '<':
		*rep = "&lt;";
		return k;
	case '>':
		*rep = "&gt;";
		return k;
	case '"':
		if (flags & XMLESC_QUOT)
			*rep = "&quot;";
		return k;
	case '\t':
		ws = 0;
		break;
	case '\n':
		ws = 1;
		break;
	case '\r':
		ws = 2;
		break;
	default:
		if (cp < 0x20 ||
		    ((flags & XMLESC_NO_C1) && cp >= 0x7f && cp <= 0x9f)) {
			*bad = XMLESC_BAD_CONTROL;
			return 0;
		}
		if (cp == 0xfffe || cp == 0xffff) {
			*bad = XMLESC_BAD_NONCHAR;
			return 0;
		}
		return k;
	}
	if (ws > 0 && (flags & XMLESC_NO_NL)) {
		*bad = XMLESC_BAD_CONTROL;
		return 0;
	}
	if ((flags & XMLESC_WS) || (ws == 2 && (flags & XMLESC_CR)))
		*rep = ws_refs[(flags & XMLESC_HEX) != 0][ws];
	return k;
}

enum xmlesc_bad
xmlesc_check(const char *p, size_t n, unsigned flags)
{
	const unsigned char *s = (const unsigned char *)p;
	enum xmlesc_bad bad = XMLESC_OK;
	const char *rep;
	size_t i = 0, k;

	while (i < n) {
		if ((k = next_char(s + i, n - i, flags, &rep, &bad)) == 0)
			return bad;
		i += k;
	}
	return XMLESC_OK;
}

const char *
xmlesc_bad_what(enum xmlesc_bad bad)
{
	switch (bad) {
	case XMLESC_OK:
		return NULL;
	case XMLESC_BAD_UTF8:
		return "invalid UTF-8";
	case XMLESC_BAD_CONTROL:
		return "control character";
	case XMLESC_BAD_NONCHAR:
		return "character not allowed in XML";
	}
	return "bad character";
}

int
xmlesc_put(const char *p, size_t n, unsigned flags,
    int (*put)(void *ctx, const char *s, size_t len), void *ctx,
    enum xmlesc_bad *bad)
{
	const unsigned char *s = (const unsigned char *)p;
	enum xmlesc_bad why = XMLESC_OK;
	const char *rep;
	size_t i = 0, st = 0, k; /* p[st..i) is copied as it is */
	int rc;

	if (bad != NULL)
		*bad = XMLESC_OK;
	while (i < n) {
		if ((k = next_char(s + i, n - i, flags, &rep, &why)) == 0) {
			if (bad != NULL)
				*bad = why;
			return WSD_EINVAL;
		}
		if (rep == NULL) {
			i += k;
			continue;
		}
		if ((i > st && (rc = put(ctx, p + st, i - st)) < 0) ||
		    (rc = put(ctx, rep, strlen(rep))) < 0)
			return rc;
		i += k;
		st = i;
	}
	if (n > st && (rc = put(ctx, p + st, n - st)) < 0)
		return rc;
	return 0;
}

static int
put_sbuf(void *ctx, const char *s, size_t len)
{
	return sbuf_add(ctx, s, len);
}

int
xmlesc_add(struct sbuf *sb, const char *p, size_t n, unsigned flags,
    enum xmlesc_bad *bad)
{
	return xmlesc_put(p, n, flags, put_sbuf, sb, bad);
}
