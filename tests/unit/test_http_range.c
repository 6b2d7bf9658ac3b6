#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http_range.h"

#define IGNORE 1 /* expected: return 0 with hr_count == 0 (send 200) */
#define UNSAT  WSD_EUNSAT
#define U64MAX UINT64_MAX

/* Value with its length from sizeof, so embedded NULs are kept. */
#define V(s) s, sizeof(s) - 1

struct range_case {
	const char *value;
	size_t len;
	uint64_t size;
	int want;   /* 0 (206), IGNORE or UNSAT */
	unsigned n; /* ranges expected when want == 0 */
	struct http_range r[4];
};

static const struct range_case cases[] = {
	/* Single ranges and clipping. */
	{ V("bytes=0-99"), 1000, 0, 1, { { 0, 99 } } },
	{ V("bytes=100-"), 1000, 0, 1, { { 100, 999 } } },
	{ V("bytes=999-"), 1000, 0, 1, { { 999, 999 } } },
	{ V("bytes=500-5000"), 1000, 0, 1, { { 500, 999 } } },
	{ V("bytes=0-0"), 1, 0, 1, { { 0, 0 } } },
	{ V("bytes=-500"), 100, 0, 1, { { 0, 99 } } },
	{ V("bytes=-100"), 100, 0, 1, { { 0, 99 } } },
	{ V("bytes=-99"), 100, 0, 1, { { 1, 99 } } },
	{ V("bytes=-1"), 100, 0, 1, { { 99, 99 } } },
	{ V("bytes=00000000000000000000000001-02"), 100, 0, 1, { { 1, 2 } } },

	/* Unsatisfiable: 416. */
	{ V("bytes=-0"), 1000, UNSAT, 0, { { 0, 0 } } },
	{ V("bytes=-000"), 1000, UNSAT, 0, { { 0, 0 } } },
	{ V("bytes=1000-"), 1000, UNSAT, 0, { { 0, 0 } } },
	{ V("bytes=1000-2000"), 1000, UNSAT, 0, { { 0, 0 } } },
	{ V("bytes=2000-,-0,1000-1000"), 1000, UNSAT, 0, { { 0, 0 } } },
	{ V("bytes=0-"), 0, UNSAT, 0, { { 0, 0 } } },
	{ V("bytes=0-0"), 0, UNSAT, 0, { { 0, 0 } } },
	{ V("bytes=-5"), 0, UNSAT, 0, { { 0, 0 } } },
	/* One satisfiable spec is enough; the others are dropped. */
	{ V("bytes=2000-3000,0-9,-0"), 1000, 0, 1, { { 0, 9 } } },

	/* Syntax errors and other units: ignore, even when SIZE is 0. */
	{ V("bytes=5-1"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=5-1"), 0, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=0-1,5-1"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=2000-,5-1"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("items=0-1"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("byte=0-1"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytesx=0-1"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes =0-1"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes:0-1"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V(""), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V(" \t "), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes="), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes="), 0, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=,"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes= , \t,"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=-"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=--1"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=1--2"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=1-2-3"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=1"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=+1-2"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=1-+2"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=-+2"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=0x10-20"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=0 -1"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=0- 1"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=0-1 2-3"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=0-1;"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=0-1;q=1"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=0-1 x"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=0-1,x"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("xbytes=0-1"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("x bytes=0-1"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=0-1\r\n"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=\xff-1"), 1000, IGNORE, 0, { { 0, 0 } } },
	/* Embedded NUL: the value is a slice, not a C string. */
	{ V("bytes=0-1\0"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=0\0-1"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=0-1\0,2-3"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("\0bytes=0-1"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes\0=0-1"), 1000, IGNORE, 0, { { 0, 0 } } },

	/* Unit case, OWS and empty list elements (RFC 9110 5.6.1.2). */
	{ V("BYTES=0-1"), 1000, 0, 1, { { 0, 1 } } },
	{ V("Bytes=0-1"), 1000, 0, 1, { { 0, 1 } } },
	{ V(" bytes=0-1\t"), 1000, 0, 1, { { 0, 1 } } },
	{ V("bytes= 0-1 "), 1000, 0, 1, { { 0, 1 } } },
	{ V("bytes=0-1 , 5-6\t,\t8-9"), 1000, 0, 3,
	    { { 0, 1 }, { 5, 6 }, { 8, 9 } } },
	{ V("bytes=0-1,,4-5"), 1000, 0, 2, { { 0, 1 }, { 4, 5 } } },
	{ V("bytes=,0-1,"), 1000, 0, 1, { { 0, 1 } } },
	{ V("bytes=, ,0-1 , ,"), 1000, 0, 1, { { 0, 1 } } },

	/* Sorting and merging. */
	{ V("bytes=500-599,0-99,200-299"), 1000, 0, 3,
	    { { 0, 99 }, { 200, 299 }, { 500, 599 } } },
	{ V("bytes=0-100,50-150"), 1000, 0, 1, { { 0, 150 } } },
	{ V("bytes=50-150,0-100"), 1000, 0, 1, { { 0, 150 } } },
	{ V("bytes=0-500,100-200"), 1000, 0, 1, { { 0, 500 } } },
	{ V("bytes=0-99,100-199"), 1000, 0, 1, { { 0, 199 } } },
	{ V("bytes=100-199,0-99"), 1000, 0, 1, { { 0, 199 } } },
	{ V("bytes=0-99,101-199"), 1000, 0, 2, { { 0, 99 }, { 101, 199 } } },
	{ V("bytes=0-0,0-0,0-0"), 1000, 0, 1, { { 0, 0 } } },
	{ V("bytes=-100,850-950"), 1000, 0, 1, { { 850, 999 } } },
	{ V("bytes=-100,850-899"), 1000, 0, 1, { { 850, 999 } } },
	{ V("bytes=-100,850-898"), 1000, 0, 2, { { 850, 898 }, { 900, 999 } } },
	{ V("bytes=900-,0-0,-1,500-600"), 1000, 0, 3,
	    { { 0, 0 }, { 500, 600 }, { 900, 999 } } },
	{ V("bytes=0-0,2-2,1-1,3-"), 5, 0, 1, { { 0, 4 } } },
	{ V("bytes=0-0,2-2,1-1,4-"), 5, 0, 2, { { 0, 2 }, { 4, 4 } } },

	/* 64-bit limits (S13: MS15-034). */
	{ V("bytes=0-18446744073709551615"), 1000, 0, 1, { { 0, 999 } } },
	{ V("bytes=0-18446744073709551615"), U64MAX, 0, 1,
	    { { 0, U64MAX - 1 } } },
	{ V("bytes=18446744073709551614-18446744073709551615"), U64MAX, 0, 1,
	    { { U64MAX - 1, U64MAX - 1 } } },
	{ V("bytes=-1"), U64MAX, 0, 1, { { U64MAX - 1, U64MAX - 1 } } },
	{ V("bytes=-18446744073709551615"), U64MAX, 0, 1,
	    { { 0, U64MAX - 1 } } },
	{ V("bytes=18446744073709551615-"), 1000, UNSAT, 0, { { 0, 0 } } },
	{ V("bytes=18446744073709551615-"), U64MAX, UNSAT, 0, { { 0, 0 } } },
	/* last-pos and suffix-length past 2^64 - 1 saturate: "to the end". */
	{ V("bytes=0-18446744073709551616"), 1000, 0, 1, { { 0, 999 } } },
	{ V("bytes=10-99999999999999999999999999999999"), 1000, 0, 1,
	    { { 10, 999 } } },
	{ V("bytes=-18446744073709551616"), 1000, 0, 1, { { 0, 999 } } },
	{ V("bytes=-18446744073709551616"), U64MAX, 0, 1,
	    { { 0, U64MAX - 1 } } },
	/* first-pos past 2^64 - 1 makes the header invalid: ignore. */
	{ V("bytes=18446744073709551616-"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=18446744073709551616-"), U64MAX, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=18446744073709551616-18446744073709551617"), 1000, IGNORE, 0,
	    { { 0, 0 } } },
	{ V("bytes=99999999999999999999-1"), 1000, IGNORE, 0, { { 0, 0 } } },
	{ V("bytes=0-1,18446744073709551616-"), 1000, IGNORE, 0, { { 0, 0 } } },

	/* Windows Delivery Optimization, as captured. */
	{ V("bytes=204472320-204745167"), 204745168, 0, 1,
	    { { 204472320, 204745167 } } },
	{ V("bytes=0-1048575"), 204745168, 0, 1, { { 0, 1048575 } } },
	{ V("bytes=102760448-103809023"), 204745168, 0, 1,
	    { { 102760448, 103809023 } } },
	{ V("bytes=0-918943"), 918944, 0, 1, { { 0, 918943 } } },
};

static void
check_result(const char *what, int rc, const struct wsd_err *e,
    const struct http_range_set *rs, int want, unsigned n,
    const struct http_range *r)
{
	switch (want) {
	case IGNORE:
		if (rc != 0 || rs->hr_count != 0)
			fail_msg("%s: want ignore, got rc %d count %u", what,
			    rc, rs->hr_count);
		return;
	case UNSAT:
		if (rc != WSD_EUNSAT || rs->hr_count != 0 ||
		    e->code != WSD_EUNSAT || e->what == NULL)
			fail_msg("%s: want 416, got rc %d count %u", what, rc,
			    rs->hr_count);
		return;
	default:
		break;
	}
	if (rc != 0 || rs->hr_count != n)
		fail_msg("%s: want %u ranges, got rc %d count %u", what, n, rc,
		    rs->hr_count);
	for (unsigned i = 0; i < n; i++)
		if (rs->hr_r[i].first != r[i].first ||
		    rs->hr_r[i].last != r[i].last)
			fail_msg("%s: range %u is %" PRIu64 "-%" PRIu64
				 ", want %" PRIu64 "-%" PRIu64,
			    what, i, rs->hr_r[i].first, rs->hr_r[i].last,
			    r[i].first, r[i].last);
}

static int
parse(const char *p, size_t len, uint64_t size, struct http_range_set *rs,
    struct wsd_err *e)
{
	struct sv v = { p, len };

	/* Poison the outputs so a parser that forgets to set them fails. */
	memset(rs, 0xa5, sizeof(*rs));
	e->code = WSD_OK;
	e->what = NULL;
	return http_range_parse(v, size, rs, e);
}

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct range_case *c = &cases[i];
		struct http_range_set rs;
		struct wsd_err e;
		char what[160];
		int rc;

		snprintf(what, sizeof(what), "case %zu (size %" PRIu64 ")", i,
		    c->size);
		rc = parse(c->value, c->len, c->size, &rs, &e);
		check_result(what, rc, &e, &rs, c->want, c->n, c->r);
	}
}

/*
 * "bytes=" followed by COUNT specs: SPEC each time, or if SPEC is NULL
 * distinct one-byte ranges in descending order ("30-30,28-28,...,0-0").
 */
static char *
make_list(unsigned count, const char *spec, size_t *len)
{
	size_t cap = 16 + (size_t)count * 32, n;
	char *buf = malloc(cap);

	assert_non_null(buf);
	n = (size_t)snprintf(buf, cap, "bytes=");
	for (unsigned i = 0; i < count; i++) {
		unsigned x = (count - 1 - i) * 2;

		if (i > 0)
			buf[n++] = ',';
		if (spec != NULL)
			n += (size_t)snprintf(buf + n, cap - n, "%s", spec);
		else
			n += (size_t)snprintf(buf + n, cap - n, "%u-%u", x, x);
		assert_true(n < cap);
	}
	*len = n;
	return buf;
}

static void
test_limit(void **state)
{
	struct http_range want[WSD_MAX_RANGES];
	struct http_range_set rs;
	struct wsd_err e;
	size_t len;
	char *s;
	int rc;

	(void)state;
	/* Exactly the limit: 16 disjoint ranges, sent in descending order. */
	for (unsigned i = 0; i < WSD_MAX_RANGES; i++)
		want[i] = (struct http_range){ i * 2, i * 2 };
	s = make_list(WSD_MAX_RANGES, NULL, &len);
	rc = parse(s, len, 1000, &rs, &e);
	check_result("16 specs", rc, &e, &rs, 0, WSD_MAX_RANGES, want);
	free(s);

	/* Limit + 1: ignored, even though each is fine on its own. */
	s = make_list(WSD_MAX_RANGES + 1, NULL, &len);
	rc = parse(s, len, 1000, &rs, &e);
	check_result("17 specs", rc, &e, &rs, IGNORE, 0, NULL);
	free(s);

	/* Raw specs count, not merged ranges: 17 identical ones are still
	 * too many, as are 17 unsatisfiable ones. */
	s = make_list(WSD_MAX_RANGES + 1, "0-0", &len);
	rc = parse(s, len, 1000, &rs, &e);
	check_result("17 x 0-0", rc, &e, &rs, IGNORE, 0, NULL);
	free(s);
	s = make_list(WSD_MAX_RANGES, "0-0", &len);
	rc = parse(s, len, 1000, &rs, &e);
	check_result("16 x 0-0", rc, &e, &rs, 0, 1,
	    &(struct http_range){ 0, 0 });
	free(s);
	s = make_list(WSD_MAX_RANGES + 1, "5000-", &len);
	rc = parse(s, len, 1000, &rs, &e);
	check_result("17 x 5000-", rc, &e, &rs, IGNORE, 0, NULL);
	free(s);
	s = make_list(WSD_MAX_RANGES, "5000-", &len);
	rc = parse(s, len, 1000, &rs, &e);
	check_result("16 x 5000-", rc, &e, &rs, UNSAT, 0, NULL);
	free(s);

	/* Empty elements do not count towards the limit. */
	s = make_list(WSD_MAX_RANGES * 4, "", &len);
	s = realloc(s, len + 4);
	assert_non_null(s);
	memcpy(s + len, ",0-1", 4);
	rc = parse(s, len + 4, 1000, &rs, &e);
	check_result("64 empty elements, 1 spec", rc, &e, &rs, 0, 1,
	    &(struct http_range){ 0, 1 });
	free(s);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fills buf with PREFIX then REP repeated up to LEN bytes, then SUFFIX. */
static char *
make_big(const char *prefix, const char *rep, const char *suffix, size_t len,
    size_t *outlen)
{
	size_t pl = strlen(prefix), rl = strlen(rep), sl = strlen(suffix);
	size_t n = pl;
	char *buf = malloc(pl + len + rl + sl);

	assert_non_null(buf);
	memcpy(buf, prefix, pl);
	while (n - pl < len) {
		memcpy(buf + n, rep, rl);
		n += rl;
	}
	memcpy(buf + n, suffix, sl);
	*outlen = n + sl;
	return buf;
}

/*
 * S13: CVE-2011-3192 sent hundreds of overlapping ranges. 10 000 copies of
 * "0-" must be ignored, and no input shape may cost more than linear time:
 * a megabyte of empty elements, of digits, or of "0-," copies each parses
 * in well under a second even under ASan (a quadratic pass would not).
 */
static void
test_many_and_long(void **state)
{
	struct http_range_set rs;
	struct wsd_err e;
	const size_t mib = 1024 * 1024;
	double t0;
	size_t len;
	char *s;
	int rc;

	(void)state;
	t0 = now();

	s = make_big("bytes=0-", ",0-", "", 3 * 9999, &len);
	assert_int_equal((int)(len - 6), 3 * 10000 - 1);
	rc = parse(s, len, 1024 * 1024, &rs, &e);
	check_result("10000 x 0-", rc, &e, &rs, IGNORE, 0, NULL);
	free(s);

	s = make_big("bytes=0-0", ", \t", "", mib, &len);
	rc = parse(s, len, 1000, &rs, &e);
	check_result("1 MiB of empty elements", rc, &e, &rs, 0, 1,
	    &(struct http_range){ 0, 0 });
	free(s);

	s = make_big("bytes=1-", "9", "", mib, &len);
	rc = parse(s, len, 1000, &rs, &e);
	check_result("1 MiB last-pos", rc, &e, &rs, 0, 1,
	    &(struct http_range){ 1, 999 });
	free(s);

	s = make_big("bytes=", "0", "7-8", mib, &len);
	rc = parse(s, len, 1000, &rs, &e);
	check_result("1 MiB of leading zeros", rc, &e, &rs, 0, 1,
	    &(struct http_range){ 7, 8 });
	free(s);

	assert_true(now() - t0 < 2.0);
}

/*
 * Exhaustive cross-check against a reference that cannot be clever: it
 * marks, for each byte of a small representation, whether any spec selects
 * it (straight from the RFC 9110 14.1.1 definitions), then reads the
 * maximal runs of marked bytes, which are by construction sorted, clipped,
 * merged and non-adjacent.
 */
#define REF_MAX_SIZE 40

enum spec_kind { K_INT, K_OPEN, K_SUFFIX };

struct spec {
	enum spec_kind kind;
	uint64_t a, b; /* first-last, first-, or -a */
};

static int
ref_parse(const struct spec *sp, unsigned nsp, uint64_t size,
    struct http_range_set *out)
{
	bool sel[REF_MAX_SIZE] = { false };
	unsigned n = 0;

	out->hr_count = 0;
	if (nsp > WSD_MAX_RANGES)
		return IGNORE;
	for (unsigned i = 0; i < nsp; i++)
		if (sp[i].kind == K_INT && sp[i].a > sp[i].b)
			return IGNORE;
	for (uint64_t x = 0; x < size; x++) {
		for (unsigned i = 0; i < nsp; i++) {
			const struct spec *s = &sp[i];

			if ((s->kind == K_INT && s->a <= x && x <= s->b) ||
			    (s->kind == K_OPEN && s->a <= x) ||
			    (s->kind == K_SUFFIX && size - x <= s->a))
				sel[x] = true;
		}
	}
	for (uint64_t x = 0; x < size; x++) {
		if (!sel[x])
			continue;
		if (x == 0 || !sel[x - 1])
			out->hr_r[n++].first = x;
		out->hr_r[n - 1].last = x;
	}
	out->hr_count = n;
	return n == 0 ? UNSAT : 0;
}

/* xorshift64: fixed seed, so a failure reproduces. */
static uint64_t
rnd(uint64_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return *st;
}

static uint64_t
rnd_pos(uint64_t *st)
{
	static const uint64_t big[] = { U64MAX, U64MAX - 1, 1ULL << 32, 1000 };

	if (rnd(st) % 16 == 0)
		return big[rnd(st) % 4];
	return rnd(st) % (REF_MAX_SIZE + 5);
}

static void
rnd_spec(uint64_t *st, struct spec *s)
{
	switch (rnd(st) % 4) {
	case 0:
		s->kind = K_OPEN;
		s->a = rnd_pos(st);
		break;
	case 1:
		s->kind = K_SUFFIX;
		s->a = rnd_pos(st);
		break;
	default:
		/* Mostly first <= last, sometimes anything. */
		s->kind = K_INT;
		s->a = rnd_pos(st);
		s->b = rnd(st) % 24 == 0 ? rnd_pos(st) : s->a + rnd(st) % 12;
		if (s->b < s->a && rnd(st) % 2 == 0)
			s->b = U64MAX; /* a + n wrapped */
		break;
	}
}

static void append(char *buf, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
append(char *buf, size_t cap, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(buf + *n, cap - *n, fmt, ap);
	va_end(ap);
	assert_true(w >= 0 && (size_t)w < cap - *n);
	*n += (size_t)w;
}

static void
append_ows(uint64_t *st, char *buf, size_t cap, size_t *n)
{
	static const char *const ows[] = { "", "", "", " ", "\t", " \t " };

	append(buf, cap, n, "%s", ows[rnd(st) % 6]);
}

/* Writes the specs as a header value, with random unit case, OWS and
 * empty list elements, none of which may change the answer. */
static size_t
format_specs(uint64_t *st, const struct spec *sp, unsigned nsp, char *buf,
    size_t cap)
{
	static const char *const unit[] = { "bytes=", "BYTES=", "Bytes=" };
	size_t n = 0;

	append(buf, cap, &n, "%s", unit[rnd(st) % 3]);
	for (unsigned i = 0; i < nsp; i++) {
		if (i > 0) {
			append_ows(st, buf, cap, &n);
			append(buf, cap, &n, ",");
			if (rnd(st) % 8 == 0)
				append(buf, cap, &n, ",");
			append_ows(st, buf, cap, &n);
		}
		switch (sp[i].kind) {
		case K_INT:
			append(buf, cap, &n, "%" PRIu64 "-%" PRIu64, sp[i].a,
			    sp[i].b);
			break;
		case K_OPEN:
			append(buf, cap, &n, "%" PRIu64 "-", sp[i].a);
			break;
		case K_SUFFIX:
			append(buf, cap, &n, "-%" PRIu64, sp[i].a);
			break;
		}
	}
	if (rnd(st) % 8 == 0)
		append(buf, cap, &n, ",");
	return n;
}

struct xstats {
	unsigned long runs, ignored, unsat, multi;
};

static void
cross_check_one(uint64_t *st, const struct spec *sp, unsigned nsp,
    uint64_t size, struct xstats *xs)
{
	struct http_range_set got, want;
	struct wsd_err e;
	char buf[1024], what[1200];
	size_t len;
	int rc, wrc;

	len = format_specs(st, sp, nsp, buf, sizeof(buf));
	wrc = ref_parse(sp, nsp, size, &want);
	rc = parse(buf, len, size, &got, &e);
	snprintf(what, sizeof(what), "\"%.*s\" size %" PRIu64, (int)len, buf,
	    size);
	check_result(what, rc, &e, &got, wrc, want.hr_count, want.hr_r);
	xs->runs++;
	xs->ignored += wrc == IGNORE;
	xs->unsat += wrc == UNSAT;
	xs->multi += wrc == 0 && want.hr_count > 1;
}

static void
test_cross_check_single(void **state)
{
	struct xstats xs = { 0 };
	uint64_t st = 0x9e3779b97f4a7c15ULL;
	uint64_t vals[REF_MAX_SIZE + 6];
	unsigned nv = 0;

	(void)state;
	for (uint64_t v = 0; v <= REF_MAX_SIZE + 2; v++)
		vals[nv++] = v;
	vals[nv++] = 1ULL << 32;
	vals[nv++] = U64MAX - 1;
	vals[nv++] = U64MAX;
	for (uint64_t size = 0; size <= REF_MAX_SIZE; size++) {
		for (unsigned i = 0; i < nv; i++) {
			struct spec s;

			s = (struct spec){ K_OPEN, vals[i], 0 };
			cross_check_one(&st, &s, 1, size, &xs);
			s = (struct spec){ K_SUFFIX, vals[i], 0 };
			cross_check_one(&st, &s, 1, size, &xs);
			for (unsigned j = 0; j < nv; j++) {
				s = (struct spec){ K_INT, vals[i], vals[j] };
				cross_check_one(&st, &s, 1, size, &xs);
			}
		}
	}
	/* The test covered every outcome, not just one. */
	assert_true(xs.ignored > 1000);
	assert_true(xs.unsat > 1000);
	assert_true(xs.runs - xs.ignored - xs.unsat > 1000);
}

static void
test_cross_check_pairs(void **state)
{
	struct xstats xs = { 0 };
	uint64_t st = 0x2545f4914f6cdd1dULL;
	struct spec all[200];
	unsigned na = 0;

	(void)state;
	/* Every spec over 0..9, every ordered pair, sizes 0..12: all
	 * overlap, adjacency and containment cases among small ranges. */
	for (uint64_t a = 0; a <= 9; a++) {
		all[na++] = (struct spec){ K_OPEN, a, 0 };
		all[na++] = (struct spec){ K_SUFFIX, a, 0 };
		for (uint64_t b = a; b <= 9; b++)
			all[na++] = (struct spec){ K_INT, a, b };
	}
	assert_true(na <= sizeof(all) / sizeof(all[0]));
	for (uint64_t size = 0; size <= 12; size++)
		for (unsigned i = 0; i < na; i++)
			for (unsigned j = 0; j < na; j++) {
				struct spec p[2] = { all[i], all[j] };

				cross_check_one(&st, p, 2, size, &xs);
			}
	assert_true(xs.multi > 1000);
	assert_true(xs.unsat > 100);
}

static void
test_cross_check_random(void **state)
{
	struct xstats xs = { 0 };
	uint64_t st = 0xd1b54a32d192ed03ULL;

	(void)state;
	for (unsigned iter = 0; iter < 200000; iter++) {
		struct spec sp[WSD_MAX_RANGES + 2];
		unsigned nsp = 1 + (unsigned)(rnd(&st) % 6);
		uint64_t size = rnd(&st) % (REF_MAX_SIZE + 1);

		/* Now and then a long list, around the limit. */
		if (rnd(&st) % 10 == 0)
			nsp = WSD_MAX_RANGES - 1 + (unsigned)(rnd(&st) % 3);
		for (unsigned i = 0; i < nsp; i++)
			rnd_spec(&st, &sp[i]);
		cross_check_one(&st, sp, nsp, size, &xs);
	}
	assert_true(xs.ignored > 1000);
	assert_true(xs.unsat > 1000);
	assert_true(xs.multi > 10000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_many_and_long),
		cmocka_unit_test(test_cross_check_single),
		cmocka_unit_test(test_cross_check_pairs),
		cmocka_unit_test(test_cross_check_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
