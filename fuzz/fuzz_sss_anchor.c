/*
 * Fuzz target for the MS-WSUSSS anchor parser (src/wsusss/sss_anchor.h):
 * "n,yyyy-MM-dd HH:mm:ss.fff" as a downstream server sends it back in
 * GetRevisionIdList, GetDeployments and GetDriverIdList.
 *
 * Input: the anchor text, as is (not NUL-terminated). Checks:
 *  - sss_anchor_parse leaves *OUT untouched on failure;
 *  - on success an_gen <= INT64_MAX, the text is at most
 *    SSS_ANCHOR_MAX - 1 bytes, and sss_anchor_format gives the input
 *    back byte for byte, save the leading zeros of n (the format writes
 *    n without them), and that text parses to the same anchor;
 *  - the input's first 16 bytes read as an anchor (an_gen masked to
 *    INT64_MAX, an_ms as it comes): when sss_anchor_format accepts it,
 *    its text is NUL-terminated inside SSS_ANCHOR_MAX and parses back to
 *    the same anchor.
 * __builtin_trap() when one breaks.
 */
#include <stdint.h>
#include <string.h>

#include "common/strparse.h"
#include "wsusss/sss_anchor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
from_struct(const uint8_t *data, size_t size)
{
	struct sss_anchor a, b;
	char buf[SSS_ANCHOR_MAX + 1];
	uint64_t g;
	int64_t ms;
	size_t n;

	if (size < 16)
		return;
	memcpy(&g, data, 8);
	memcpy(&ms, data + 8, 8);
	a.an_gen = g & INT64_MAX;
	a.an_ms = ms;
	memset(buf, 'X', sizeof(buf));
	if (sss_anchor_format(&a, buf) < 0)
		return;
	if (buf[SSS_ANCHOR_MAX] != 'X')
		__builtin_trap();
	n = strnlen(buf, SSS_ANCHOR_MAX);
	if (n == SSS_ANCHOR_MAX)
		__builtin_trap();
	if (sss_anchor_parse((struct sv){ buf, n }, &b) < 0 ||
	    b.an_gen != a.an_gen || b.an_ms != a.an_ms)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct sss_anchor a, b, sentinel;
	char buf[SSS_ANCHOR_MAX];
	size_t z = 0, n;

	from_struct(data, size);

	memset(&sentinel, 0xa5, sizeof(sentinel));
	a = sentinel;
	if (sss_anchor_parse((struct sv){ p, size }, &a) < 0) {
		if (memcmp(&a, &sentinel, sizeof(a)) != 0)
			__builtin_trap();
		return 0;
	}
	if (a.an_gen > INT64_MAX || size >= SSS_ANCHOR_MAX)
		__builtin_trap();
	/* Leading zeros of n, keeping one digit. */
	while (z + 1 < size && p[z] == '0' && p[z + 1] != ',')
		z++;
	if (sss_anchor_format(&a, buf) < 0)
		__builtin_trap();
	n = strnlen(buf, sizeof(buf));
	if (n == sizeof(buf) || n != size - z || memcmp(buf, p + z, n) != 0)
		__builtin_trap();
	if (sss_anchor_parse((struct sv){ buf, n }, &b) < 0 ||
	    b.an_gen != a.an_gen || b.an_ms != a.an_ms)
		__builtin_trap();
	return 0;
}
