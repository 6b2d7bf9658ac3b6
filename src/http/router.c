#include "http/router.h"

#include <string.h>

/* Strips "http://authority" from an absolute-form target. */
static int
origin_form(struct sv *t)
{
	if (t->n > 0 && t->p[0] == '/')
		return 0;
	if (strparse_lit_ci(t, "http://") < 0 &&
	    strparse_lit_ci(t, "https://") < 0)
		return -1;
	while (t->n > 0 && t->p[0] != '/' && t->p[0] != '?') {
		t->p++;
		t->n--;
	}
	if (t->n == 0 || t->p[0] != '/')
		return -1;
	return 0;
}

int
router_match(struct sv target, char *buf, size_t bufsize, struct route *out)
{
	struct sv t = target, first;
	size_t w = 0, seg_start;
	const char *q;

	out->rt_vroot = VROOT_NONE;
	out->rt_query = (struct sv){ "", 0 };
	if (origin_form(&t) < 0)
		return 400;
	if ((q = memchr(t.p, '?', t.n)) != NULL) {
		out->rt_query = (struct sv){ q + 1, (size_t)(t.p + t.n - q - 1) };
		t.n = (size_t)(q - t.p);
	}
	if (t.n >= bufsize)
		return 400;

	/* Decode once, collapsing slashes; w counts bytes written. */
	for (size_t i = 0; i < t.n; i++) {
		unsigned char c = (unsigned char)t.p[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= t.n)
				return 400;
			hi = hex_digit((unsigned char)t.p[i + 1]);
			lo = hex_digit((unsigned char)t.p[i + 2]);
			if (hi < 0 || lo < 0)
				return 400;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
			/* An encoded slash or backslash is never a separator. */
			if (c == '/' || c == '\\' || c == 0)
				return 400;
		}
		if (c == '\\' || c < 0x20 || c >= 0x7f)
			return 400;
		if (c == '/' && w > 0 && buf[w - 1] == '/')
			continue;
		buf[w++] = (char)c;
	}
	buf[w] = '\0';
	if (w == 0 || buf[0] != '/')
		return 400;

	/* No dot segments anywhere: nothing legitimate uses them. */
	seg_start = 1;
	for (size_t i = 1; i <= w; i++) {
		if (i == w || buf[i] == '/') {
			size_t n = i - seg_start;

			if ((n == 1 && buf[seg_start] == '.') ||
			    (n == 2 && buf[seg_start] == '.' &&
				buf[seg_start + 1] == '.'))
				return 400;
			seg_start = i + 1;
		}
	}

	out->rt_path = (struct sv){ buf, w };
	first.p = buf + 1;
	for (first.n = 0; first.n + 1 < w && buf[1 + first.n] != '/';
	    first.n++)
		;
	for (int v = 0; v < VROOT_COUNT; v++) {
		if (sv_eq_cstr_ci(first, vroot_name((enum vroot)v))) {
			out->rt_vroot = (enum vroot)v;
			out->rt_rest = (struct sv){ first.p + first.n,
				w - 1 - first.n };
			return 0;
		}
	}
	return 0;
}
