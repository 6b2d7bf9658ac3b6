/*
 * xpress: the body coding of "Content-Encoding: xpress" (MS-WUSP 2.1.1),
 * MS-XCA "plain LZ77" (sections 2.3 and 2.4) in a block framing.
 *
 * A body is zero or more blocks; each block is
 *
 *	u32 LE  uncompressed size U   (1..65535)
 *	u32 LE  compressed size C     (1..65535)
 *	C bytes: plain LZ77 of the block's U bytes, or, when C == U, the
 *	         U bytes stored raw
 *
 * Every block is independent: no match reaches into an earlier block. An
 * empty body is zero blocks (zero bytes).
 *
 * The encoder cuts 16352-byte blocks, as IIS did on the captured Windows
 * Server 2025 WSUS (OBSERVED.md 5), stores a block raw when LZ77 would not
 * make it smaller, and never uses the 4-byte length form (no match can be
 * that long in such a block). It is a greedy hash-chain match finder with
 * a bounded chain walk, so its work per input byte is bounded.
 *
 * The decoder takes any framing the format allows: blocks of up to 65535
 * bytes, LZ77 blocks whose compressed size exceeds the uncompressed one,
 * all length forms. It checks every read and write and fails (never
 * crashes) on a truncated block, a match reaching before the block start,
 * output beyond the block's declared size or short of it, a declared size
 * of 0 or over 65535, and a total over the caller's limit.
 */
#ifndef WSUSD_COMMON_XPRESS_H
#define WSUSD_COMMON_XPRESS_H

#include <stddef.h>

#include "common/sbuf.h"
#include "common/wsd_err.h"

/* Uncompressed bytes per block the encoder cuts (IIS on WS2025). */
#define XPRESS_BLOCK_SIZE 16352
/* Largest uncompressed or compressed block size (MS-WUSP 2.1.1). */
#define XPRESS_MAX_BLOCK 65535
/* Bytes of framing per block. */
#define XPRESS_BLOCK_HEAD 8

/* Most bytes xpress_encode can produce for N input bytes. */
static inline size_t
xpress_bound(size_t n)
{
	return n + (n / XPRESS_BLOCK_SIZE + 1) * XPRESS_BLOCK_HEAD;
}

/*
 * Appends the block-framed Xpress coding of IN[0..N) to OUT. On failure
 * (WSD_ENOMEM, or WSD_ETOOBIG when OUT's cap is too small) OUT has been
 * released, as an sbuf add releases it.
 */
int xpress_encode(const unsigned char *in, size_t n, struct sbuf *out,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Appends the decoding of the block-framed body IN[0..N) to OUT. Fails
 * with WSD_EINVAL on malformed input, WSD_ETOOBIG when the blocks
 * declare more than MAX_OUT bytes in all (checked before each block is
 * decoded) or OUT's cap is reached, WSD_ENOMEM. On failure OUT has been
 * released: a partial decoding is never handed out.
 */
int xpress_decode(const unsigned char *in, size_t n, size_t max_out,
    struct sbuf *out, struct wsd_err *err) WSD_MUST_CHECK;

#endif
