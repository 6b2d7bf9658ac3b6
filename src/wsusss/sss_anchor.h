/*
 * Anchors of GetRevisionIdList and GetDeployments in Windows' format
 * (WSUSSS.md 5.5, <31>, <34>): "n,yyyy-MM-dd HH:mm:ss.fff", n a decimal
 * change number, the time in UTC with milliseconds. A DSS treats them as
 * opaque and sends them back verbatim; wsusd's n is the catalog
 * generation (store_sss.h) the answer was read at, and only n decides
 * what "changed after the anchor" is. The time is informational: it is
 * validated on input (a Windows USS refuses malformed anchors too) and
 * otherwise ignored.
 */
#ifndef WSUSD_WSUSSS_SSS_ANCHOR_H
#define WSUSD_WSUSSS_SSS_ANCHOR_H

#include <stdint.h>

#include "common/strparse.h"
#include "common/wsd_err.h"

/* Bytes of the longest anchor, with its NUL: 19 digits, ',', 23. */
#define SSS_ANCHOR_MAX 48

struct sss_anchor {
	uint64_t an_gen; /* <= INT64_MAX */
	int64_t an_ms;   /* Unix time, milliseconds */
};

/*
 * Parses S, which must be exactly the format above: n of 1-19 digits
 * (no sign, at most INT64_MAX), one ',', a real calendar date and time
 * (years 0001-9999), exactly three fraction digits. WSD_EINVAL otherwise,
 * *OUT untouched.
 */
int sss_anchor_parse(struct sv s, struct sss_anchor *out) WSD_MUST_CHECK;
/* Formats A into OUT; WSD_EINVAL when its time is out of years 1-9999. */
int sss_anchor_format(const struct sss_anchor *a,
    char out[SSS_ANCHOR_MAX]) WSD_MUST_CHECK;

#endif
