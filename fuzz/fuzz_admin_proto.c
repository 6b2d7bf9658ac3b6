/*
 * Fuzz target for the administration wire format (src/common/
 * admin_proto.h): what the admin socket and ApiRemoting30 read from a
 * caller not yet authorized (requests), and what wsusutil reads from a
 * server (answer frames).
 *
 * Input: one mode byte, then the bytes.
 *	bit 0	0: admin_request_decode; 1: admin_frames_feed
 *	bits 1-7 (frames): the stream is fed in pieces of this many bytes
 *		(0 means all at once), so every split point is tried.
 *
 * Checks (a broken one traps): a refused request is WSD_EINVAL with a
 * static reason and nothing left to release; a decoded request has 1 to
 * ADMIN_MAX_ARGS NUL-free arguments of at most ADMIN_MAX_ARG bytes, a
 * NULL after the last, and encodes back to exactly the input. Frames:
 * every payload handed over is on channel 'o' or 'e' and at most
 * ADMIN_MAX_FRAME bytes; the same stream fed whole and in pieces gives
 * the same result, payload bytes and exit status.
 */
#include <stdint.h>
#include <string.h>

#include "common/admin_proto.h"
#include "common/sbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct tally {
	size_t bytes;
	uint32_t sum;
};

static int
count(void *arg, char chan, const void *p, size_t n)
{
	struct tally *t = arg;
	const unsigned char *s = p;

	if ((chan != 'o' && chan != 'e') || n > ADMIN_MAX_FRAME)
		__builtin_trap();
	for (size_t i = 0; i < n; i++)
		t->sum = t->sum * 31 + s[i] + (chan == 'e' ? 7u : 0u);
	t->bytes += n;
	return 0;
}

static void
request(const uint8_t *data, size_t size)
{
	struct admin_request rq;
	struct wsd_err err = { WSD_OK, NULL };
	struct sbuf again;

	if (admin_request_decode(data, size, &rq, &err) < 0) {
		if (err.code != WSD_EINVAL && err.code != WSD_ENOMEM)
			__builtin_trap();
		if (err.what == NULL || rq.buf != NULL || rq.argc != 0)
			__builtin_trap();
		admin_request_release(&rq);
		return;
	}
	if (rq.argc < 1 || rq.argc > ADMIN_MAX_ARGS ||
	    rq.argv[rq.argc] != NULL)
		__builtin_trap();
	for (int i = 0; i < rq.argc; i++)
		if (strlen(rq.argv[i]) > ADMIN_MAX_ARG)
			__builtin_trap();
	sbuf_init(&again, ADMIN_MAX_REQUEST);
	if (admin_request_encode(rq.argc, rq.argv, &again, &err) < 0 ||
	    again.sb_len != size || memcmp(again.sb_buf, data, size) != 0)
		__builtin_trap();
	sbuf_release(&again);
	admin_request_release(&rq);
}

static int
feed(const uint8_t *data, size_t size, size_t piece, struct tally *t,
    int *status)
{
	struct admin_frames f;
	struct wsd_err err;
	int rc = 0;

	admin_frames_init(&f);
	memset(t, 0, sizeof(*t));
	for (size_t off = 0; off < size && rc == 0;) {
		size_t k = piece == 0 || size - off < piece ? size - off : piece;

		rc = admin_frames_feed(&f, data + off, k, count, t, &err);
		off += k;
	}
	*status = f.done ? f.status : -1;
	admin_frames_release(&f);
	return rc < 0 ? -1 : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tally whole, parts;
	int st1, st2, r1, r2;

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		request(data + 1, size - 1);
		return 0;
	}
	r1 = feed(data + 1, size - 1, 0, &whole, &st1);
	r2 = feed(data + 1, size - 1, data[0] >> 1, &parts, &st2);
	/* A stream refused whole may have handed over frames before the
	 * bad one: compare only complete, accepted streams. */
	if (r1 != r2 || (r1 == 0 && (st1 != st2 || whole.bytes != parts.bytes ||
					    whole.sum != parts.sum)))
		__builtin_trap();
	return 0;
}
