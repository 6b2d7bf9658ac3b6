/*
 * Fuzz target for http_range_parse (SECURITY.md S13). The input is the raw
 * Range field value. It is parsed against several representation sizes,
 * including the edges 0, 1 and UINT64_MAX where clipping arithmetic would
 * overflow, and every promise of http_range.h is checked; a broken one
 * traps, which libFuzzer and the corpus replay both report as a crash.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "http/http_range.h"

static const uint64_t sizes[] = { 0, 1, 1000, UINT64_MAX };

/* Traps unless RC, E and RS are a valid answer for SIZE. */
static void
check(int rc, const struct wsd_err *e, const struct http_range_set *rs,
    uint64_t size)
{
	if (rc != 0 && rc != WSD_EUNSAT)
		__builtin_trap();
	if (rc == WSD_EUNSAT && (rs->hr_count != 0 || e->code != WSD_EUNSAT))
		__builtin_trap();
	if (rs->hr_count > WSD_MAX_RANGES)
		__builtin_trap();
	for (unsigned i = 0; i < rs->hr_count; i++) {
		const struct http_range *r = &rs->hr_r[i];

		if (r->first > r->last || r->last >= size)
			__builtin_trap();
		/* Ascending, disjoint and not adjacent; last < size, so the
		 * + 1 cannot wrap. */
		if (i > 0 && r->first <= rs->hr_r[i - 1].last + 1)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sv v = { (const char *)data, size };
	int ignored = -1;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct http_range_set rs;
		struct wsd_err e = { WSD_OK, NULL };
		bool ign;
		int rc;

		/* Garbage in, so a field the parser forgets shows up. */
		memset(&rs, 0xa5, sizeof(rs));
		rc = http_range_parse(v, sizes[i], &rs, &e);
		check(rc, &e, &rs, sizes[i]);

		/*
		 * Whether the header is ignored depends on its bytes only
		 * (syntax, unit, spec count), never on the file: the same
		 * request must not be honoured for one size and silently
		 * ignored for another.
		 */
		ign = rc == 0 && rs.hr_count == 0;
		if (ignored >= 0 && ign != (ignored != 0))
			__builtin_trap();
		ignored = ign;
	}
	return 0;
}
