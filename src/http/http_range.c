#include "http/http_range.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/*
 * The header is parsed in one left-to-right pass over the bytes: split at
 * ',', parse each range-spec and clip it to the representation at once,
 * so nothing is stored but the (at most WSD_MAX_RANGES) clipped ranges.
 * Sorting and merging then work on those 16 entries only. Every decision
 * to ignore the header depends on the bytes alone, never on SIZE, so the
 * same header is either honoured or ignored for every file.
 */

enum spec_rc {
	SPEC_OK,      /* *r holds the spec clipped to the representation */
	SPEC_UNSAT,   /* well-formed, selects no byte of this representation */
	SPEC_INVALID, /* syntax error: ignore the whole header */
};

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Consumes 1*DIGIT. RFC 9110 puts no bound on the number of digits, so a
 * value past UINT64_MAX is not a syntax error: it saturates at UINT64_MAX
 * and sets *ovf, and the caller decides what it means. Every digit is
 * still consumed, so the cost stays linear in the input.
 */
static int
parse_pos(struct sv *s, uint64_t *out, bool *ovf)
{
	uint64_t v = 0;
	size_t i;

	*ovf = false;
	for (i = 0; i < s->n && is_digit(s->p[i]); i++) {
		uint64_t d = (uint64_t)(s->p[i] - '0');

		if (*ovf)
			continue;
		if (v > (UINT64_MAX - d) / 10) {
			v = UINT64_MAX;
			*ovf = true;
		} else {
			v = v * 10 + d;
		}
	}
	if (i == 0)
		return WSD_EINVAL;
	*out = v;
	s->p += i;
	s->n -= i;
	return 0;
}

/*
 * One non-empty range-spec, already stripped of OWS, which must be used up
 * entirely: "first-last", "first-" or "-suffix".
 *
 * Numbers that do not fit in 64 bits (S13: MS15-034 overflowed exactly
 * here):
 *  - last-pos and suffix-length saturate. Both only ever get clipped to the
 *    representation, and any value >= SIZE already means "to the end" or
 *    "the whole representation", so UINT64_MAX gives the exact answer.
 *  - first-pos makes the header invalid, so it is ignored (200). Such a
 *    range could never be satisfied, but deciding whether it is first > last
 *    (invalid) or merely unsatisfiable would mean comparing two numbers we
 *    cannot hold; no real client sends one, and RFC 9110 14.2 lets a server
 *    ignore any Range header.
 */
static enum spec_rc
parse_spec(struct sv s, uint64_t size, struct http_range *r)
{
	uint64_t first, last;
	bool ovf;

	assert(s.n > 0);
	if (s.p[0] == '-') {
		s.p++;
		s.n--;
		if (parse_pos(&s, &last, &ovf) < 0 || s.n != 0)
			return SPEC_INVALID;
		/* RFC 9110 14.1.1: a suffix-length of 0 is unsatisfiable; one
		 * longer than the representation selects all of it. */
		if (last == 0 || size == 0)
			return SPEC_UNSAT;
		r->first = last >= size ? 0 : size - last;
		r->last = size - 1;
		return SPEC_OK;
	}
	if (parse_pos(&s, &first, &ovf) < 0 || ovf ||
	    strparse_char(&s, '-') < 0)
		return SPEC_INVALID;
	if (s.n == 0)
		last = UINT64_MAX; /* "first-": to the end */
	else if (parse_pos(&s, &last, &ovf) < 0 || s.n != 0)
		return SPEC_INVALID;
	/* RFC 9110 14.1.1: last < first makes the ranges-specifier invalid.
	 * Checked before SIZE so that validity never depends on the file. */
	if (first > last)
		return SPEC_INVALID;
	if (first >= size)
		return SPEC_UNSAT;
	/* first < size, so size - 1 cannot wrap. */
	r->first = first;
	r->last = last < size - 1 ? last : size - 1;
	return SPEC_OK;
}

/* Insertion sort by first: n <= WSD_MAX_RANGES, so quadratic is nothing. */
static void
sort_ranges(struct http_range *r, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		struct http_range t = r[i];
		unsigned j = i;

		for (; j > 0 && r[j - 1].first > t.first; j--)
			r[j] = r[j - 1];
		r[j] = t;
	}
}

/*
 * Merges overlapping and adjacent ranges of a sorted array in place and
 * returns the new count. Adjacent ones are merged too (RFC 9110 14.2 lets
 * us coalesce) so the result is the smallest set of ranges, each part of
 * the body is sent once, and the 206 never says more than SIZE bytes.
 */
static unsigned
merge_ranges(struct http_range *r, unsigned n)
{
	unsigned k = 0;

	assert(n > 0);
	for (unsigned i = 1; i < n; i++) {
		/* Every last < size <= UINT64_MAX, so + 1 cannot wrap. */
		if (r[i].first <= r[k].last + 1) {
			if (r[i].last > r[k].last)
				r[k].last = r[i].last;
		} else {
			r[++k] = r[i];
		}
	}
	return k + 1;
}

/* Sum of the lengths of disjoint ranges, false if it would exceed size. */
static bool
total_within(const struct http_range *r, unsigned n, uint64_t size)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t len = r[i].last - r[i].first + 1;

		if (r[i].first > r[i].last || r[i].last >= size ||
		    len > size - total)
			return false;
		total += len;
	}
	return true;
}

int
http_range_parse(struct sv value, uint64_t size, struct http_range_set *out,
    struct wsd_err *err)
{
	struct sv v;
	unsigned nspec = 0, n = 0;
	bool within;

	assert(out != NULL);
	out->hr_count = 0;

	/*
	 * The HTTP parser should already have stripped OWS around the field
	 * value (RFC 9110 5.5); doing it again costs nothing. The unit is
	 * case-insensitive (RFC 9110 14.1); any other unit, or none, is a
	 * header we do not understand and therefore ignore.
	 */
	v = sv_trim_ows(value);
	if (strparse_lit_ci(&v, "bytes=") < 0)
		return 0;

	/*
	 * range-set = 1#range-spec. RFC 9110 5.6.1.2 makes recipients accept
	 * empty list elements; we also take OWS before the first and after
	 * the last element, which carries no meaning either way.
	 */
	for (;;) {
		const char *comma = memchr(v.p, ',', v.n);
		size_t len = comma != NULL ? (size_t)(comma - v.p) : v.n;
		struct sv elem = sv_trim_ows((struct sv){ v.p, len });

		if (elem.n > 0) {
			/*
			 * Count raw specs, before clipping or merging: 10 000
			 * copies of "0-" would merge into one range, but
			 * honouring them would still reward the request
			 * (CVE-2011-3192), so more than the limit is ignored.
			 * Stopping here also bounds the work to the limit.
			 */
			if (++nspec > WSD_MAX_RANGES)
				return 0;
			/* n < nspec <= WSD_MAX_RANGES: hr_r[n] is in bounds. */
			switch (parse_spec(elem, size, &out->hr_r[n])) {
			case SPEC_OK:
				n++;
				break;
			case SPEC_UNSAT:
				break;
			case SPEC_INVALID:
				return 0;
			}
		}
		if (comma == NULL)
			break;
		v.p = comma + 1;
		v.n -= len + 1;
	}
	if (nspec == 0)
		return 0; /* "bytes=" or only commas: no range-spec at all */
	if (n == 0)
		return wsd_fail(err, WSD_EUNSAT, "no satisfiable range");

	sort_ranges(out->hr_r, n);
	n = merge_ranges(out->hr_r, n);

	/*
	 * Cannot happen: merged ranges are disjoint and inside [0, SIZE).
	 * The header promises never to answer more than SIZE bytes (S13), so
	 * a bug here fails safe as "send the whole file", not as a large 206.
	 */
	within = total_within(out->hr_r, n, size);
	assert(within);
	if (!within)
		return 0;
	out->hr_count = n;
	return 0;
}
