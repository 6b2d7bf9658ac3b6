/*
 * Range header parsing (RFC 9110 14.1-14.2) for GET on static content.
 *
 * The parser is total: any byte string gives one of three answers, never
 * more than WSD_MAX_RANGES ranges, and no arithmetic that can overflow
 * (S13: "Apache Killer", MS15-034).
 */
#ifndef WSUSD_HTTP_HTTP_RANGE_H
#define WSUSD_HTTP_HTTP_RANGE_H

#include <stdint.h>

#include "common/strparse.h"
#include "common/wsd_err.h"
#include "common/wsd_limits.h"

struct http_range {
	uint64_t first; /* inclusive */
	uint64_t last;  /* inclusive, < size */
};

struct http_range_set {
	unsigned hr_count; /* 0: ignore the header, send 200 and all */
	struct http_range hr_r[WSD_MAX_RANGES]; /* ascending, disjoint */
};

/*
 * Parses the value of a Range header for a representation of SIZE bytes.
 *
 *   0, hr_count >= 1   answer 206 with these ranges: sorted ascending,
 *                      overlapping or adjacent ranges merged, each clipped
 *                      to the representation (RFC 9110 14.1.1).
 *   0, hr_count == 0   ignore the header and send the whole file with 200:
 *                      a unit other than "bytes", a syntax error anywhere
 *                      (including first > last, as RFC 9110 says such a set
 *                      is invalid), more than WSD_MAX_RANGES specs, or a set
 *                      whose merged bytes exceed SIZE.
 *   WSD_EUNSAT         answer 416 with "Content-Range: bytes * /SIZE":
 *                      syntactically valid but no range satisfiable (every
 *                      first-pos >= SIZE, or suffix length 0, or SIZE == 0).
 */
int http_range_parse(struct sv value, uint64_t size, struct http_range_set *out,
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
