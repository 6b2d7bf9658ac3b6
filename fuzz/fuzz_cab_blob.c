/*
 * Fuzz target for cab_blob_unpack (catalog/cab_blob.h): the cabinet of an
 * upstream's XmlUpdateBlobCompressed, after base64, read as hostile input
 * through libmspack over memory.
 *
 * Input: the cabinet bytes.
 *
 * Promises checked (a broken one traps):
 * - a failure is WSD_EINVAL, WSD_ETOOBIG or WSD_ENOMEM with err naming
 *   it, and the output is cut back to what it held before the call;
 * - a success appends valid UTF-8 without NUL, at most the output cap,
 *   whose UTF-16 form fits MAX_OUT;
 * - what decodes packs again (cab_blob_pack) and unpacks to the same
 *   bytes.
 */
#include <stdint.h>
#include <string.h>

#include "catalog/cab_blob.h"
#include "common/sbuf.h"

#define MAX_OUT (1024 * 1024)
#define OUT_CAP (2 * MAX_OUT)
#define PREFIX  "prefix"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			__builtin_trap();                                      \
	} while (0)

/* Valid UTF-8 without NUL; returns its UTF-16 length in bytes. */
static size_t
check_utf8(const unsigned char *p, size_t n)
{
	size_t i = 0, u16 = 0;

	while (i < n) {
		uint32_t c = p[i], min;
		size_t k;

		CHECK(c != 0);
		if (c < 0x80) {
			i++;
			u16 += 2;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 2;
			c &= 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 3;
			c &= 0x0f;
			min = 0x800;
		} else {
			CHECK(c >= 0xf0 && c <= 0xf4);
			k = 4;
			c &= 0x07;
			min = 0x10000;
		}
		CHECK(i + k <= n);
		for (size_t j = 1; j < k; j++) {
			CHECK((p[i + j] & 0xc0) == 0x80);
			c = c << 6 | (p[i + j] & 0x3f);
		}
		CHECK(c >= min && c <= 0x10ffff && (c < 0xd800 || c > 0xdfff));
		u16 += c >= 0x10000 ? 4 : 2;
		i += k;
	}
	return u16;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf out, cab, again;
	struct wsd_err e = { WSD_OK, NULL };
	const unsigned char *doc;
	size_t n;
	int rc;

	sbuf_init(&out, OUT_CAP);
	CHECK(sbuf_adds(&out, PREFIX) == 0);
	rc = cab_blob_unpack(data, size, MAX_OUT, &out, &e);
	if (rc != 0) {
		CHECK(
		    rc == WSD_EINVAL || rc == WSD_ETOOBIG || rc == WSD_ENOMEM);
		CHECK(e.code == (enum wsd_errc)rc && e.what != NULL);
		/* Cut back, or released when sbuf itself failed. */
		CHECK(out.sb_buf == NULL ||
		    (out.sb_len == strlen(PREFIX) &&
			memcmp(out.sb_buf, PREFIX, strlen(PREFIX)) == 0));
		sbuf_release(&out);
		return 0;
	}
	CHECK(out.sb_len >= strlen(PREFIX) && out.sb_len <= OUT_CAP);
	CHECK(memcmp(out.sb_buf, PREFIX, strlen(PREFIX)) == 0);
	doc = (const unsigned char *)out.sb_buf + strlen(PREFIX);
	n = out.sb_len - strlen(PREFIX);
	CHECK(check_utf8(doc, n) <= MAX_OUT);

	sbuf_init(&cab, 4 * MAX_OUT);
	CHECK(cab_blob_pack((const char *)doc, n, &cab, &e) == 0);
	sbuf_init(&again, OUT_CAP);
	CHECK(
	    cab_blob_unpack(cab.sb_buf, cab.sb_len, MAX_OUT, &again, &e) == 0);
	CHECK(
	    again.sb_len == n && (n == 0 || memcmp(again.sb_buf, doc, n) == 0));
	sbuf_release(&again);
	sbuf_release(&cab);
	sbuf_release(&out);
	return 0;
}
