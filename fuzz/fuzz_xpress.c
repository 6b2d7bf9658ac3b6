/*
 * Fuzz target for xpress_decode (the Content-Encoding: xpress body wuagent
 * will read from a server). The input is a block-framed body. Every
 * promise of xpress.h is checked: a failure is WSD_EINVAL or WSD_ETOOBIG
 * with the output released; a success stays within max_out; and what
 * decodes must survive xpress_encode and decode back to the same bytes.
 * A broken promise traps.
 */
#include <stdint.h>
#include <string.h>

#include "common/xpress.h"

#define MAX_OUT (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf dec, enc, again;
	struct wsd_err e = { WSD_OK, NULL };
	int rc;

	sbuf_init(&dec, MAX_OUT);
	rc = xpress_decode(data, size, MAX_OUT, &dec, &e);
	if (rc != 0) {
		if ((rc != WSD_EINVAL && rc != WSD_ETOOBIG) || e.code != rc ||
		    e.what == NULL || dec.sb_buf != NULL || dec.sb_len != 0)
			__builtin_trap();
		return 0;
	}
	if (dec.sb_len > MAX_OUT)
		__builtin_trap();

	sbuf_init(&enc, xpress_bound(dec.sb_len));
	if (xpress_encode((const unsigned char *)dec.sb_buf, dec.sb_len, &enc,
		&e) != 0)
		__builtin_trap(); /* the bound is exact: only OOM can fail */
	if (enc.sb_len > xpress_bound(dec.sb_len))
		__builtin_trap();
	sbuf_init(&again, MAX_OUT);
	if (xpress_decode((const unsigned char *)enc.sb_buf, enc.sb_len,
		dec.sb_len, &again, &e) != 0 ||
	    again.sb_len != dec.sb_len ||
	    (dec.sb_len > 0 &&
		memcmp(again.sb_buf, dec.sb_buf, dec.sb_len) != 0))
		__builtin_trap();
	sbuf_release(&again);
	sbuf_release(&enc);
	sbuf_release(&dec);
	return 0;
}
