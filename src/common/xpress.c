#include "common/xpress.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Plain LZ77 (MS-XCA 2.3/2.4). A stream is a 32-bit LE flag word, read
 * from its most significant bit, one bit per following item: 0 a literal
 * byte, 1 a match. A match is a 16-bit LE token (offset - 1) << 3 |
 * min(length - 3, 7); a 7 continues in a half byte (two matches share one
 * byte, low nibble first), a 15 there in a byte, a 255 there in a 16-bit
 * value of length - 3, a 0 there in a 32-bit one. After 32 items comes
 * the next flag word. The end is a 1 bit with no input left, so the
 * encoder fills the last flag word's unused bits with 1s.
 */
#define XP_MIN_MATCH  3
#define XP_MAX_OFFSET 8192 /* 13 bits of offset - 1 */

/*
 * Match finder. A 3-byte hash (3 is the shortest match, and 3-byte matches
 * pay in XML) heads a chain through earlier positions of the block; at
 * most XP_MAX_CHAIN candidates are tried per position, and a match of
 * XP_NICE_MATCH bytes ends the search, so work per byte is bounded
 * whatever the input (a run of one byte value makes every chain long).
 */
#define XP_HASH_BITS  14
#define XP_HASH_SIZE  (1u << XP_HASH_BITS)
/* A block of N bytes uses a table of about N heads (at least 2^10): a
 * SOAP answer of a few hundred bytes clears 2 KiB, not 32 KiB, and the
 * table stays in cache (bench/scan.sh: a warm rescan's answer). */
#define XP_HASH_BITS_MIN 10
#define XP_MAX_CHAIN  16
#define XP_NICE_MATCH 96
/* Most bytes one item adds: a new flag word, a token, a nibble byte, a
 * length byte and a 16-bit length. */
#define XP_ITEM_MAX (4 + 2 + 1 + 1 + 2)

/* Encoder scratch (80 KiB), one per thread and reused: allocating and
 * clearing it per answer took cold memory every time. */
struct xp_enc {
	/* Hash bits of the block being compressed. */
	unsigned bits;
	/* Block position + 1 of the newest position per hash; 0: none. */
	uint16_t head[XP_HASH_SIZE];
	/* Per position: position + 1 of the previous one with its hash. */
	uint16_t prev[XPRESS_BLOCK_SIZE];
	/* One compressed block; given up on once it reaches the block's
	 * own size, so it never holds more than that plus one item. */
	unsigned char out[XPRESS_BLOCK_SIZE + XP_ITEM_MAX];
};

static inline uint32_t
load_u32le(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline uint32_t
load_u16le(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static inline void
store_u32le(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static inline void
store_u16le(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline uint32_t
hash3(const unsigned char *p, unsigned bits)
{
	uint32_t v =
	    (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;

	return (v * 2654435761u) >> (32 - bits);
}

/* Length of the common prefix of A and B, at most MAX. A precedes B in
 * the same block and B + MAX is within it, so all reads are in bounds. */
static inline size_t
match_len(const unsigned char *a, const unsigned char *b, size_t max)
{
	size_t n = 0;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (max - n >= 8) {
		uint64_t x, y;

		memcpy(&x, a + n, 8);
		memcpy(&y, b + n, 8);
		if (x != y)
			return n + (size_t)(__builtin_ctzll(x ^ y) >> 3);
		n += 8;
	}
#endif
	while (n < max && a[n] == b[n])
		n++;
	return n;
}

/*
 * Writes the match token for LEN bytes at OFF back at OUT + OP, sharing
 * the half-byte at *NIBBLE when one is open (0: none; offset 0 is always
 * a flag word, never a half byte). Returns the new OP.
 */
static size_t
put_match(unsigned char *out, size_t op, size_t *nibble, size_t off, size_t len)
{
	uint32_t tok = (uint32_t)(off - 1) << 3;
	size_t l = len - XP_MIN_MATCH;
	unsigned hb;

	if (l < 7) {
		store_u16le(out + op, tok | (uint32_t)l);
		return op + 2;
	}
	store_u16le(out + op, tok | 7);
	op += 2;
	l -= 7;
	hb = l < 15 ? (unsigned)l : 15;
	if (*nibble == 0) {
		*nibble = op;
		out[op++] = (unsigned char)hb;
	} else {
		out[*nibble] |= (unsigned char)(hb << 4);
		*nibble = 0;
	}
	if (l >= 15) {
		l -= 15;
		if (l < 255) {
			out[op++] = (unsigned char)l;
		} else {
			/* LEN <= XPRESS_BLOCK_SIZE: 16 bits suffice. */
			out[op++] = 255;
			store_u16le(out + op, (uint32_t)(len - XP_MIN_MATCH));
			op += 2;
		}
	}
	return op;
}

static inline void
insert(struct xp_enc *e, const unsigned char *src, size_t pos)
{
	uint32_t h = hash3(src + pos, e->bits);

	e->prev[pos] = e->head[h];
	e->head[h] = (uint16_t)(pos + 1);
}

/*
 * Compresses SRC[0..N) (N <= XPRESS_BLOCK_SIZE) into E->out. Returns the
 * compressed size, or 0 when it would not be smaller than N (the block
 * is then stored raw).
 */
static size_t
encode_block(struct xp_enc *e, const unsigned char *src, size_t n)
{
	unsigned char *out = e->out;
	size_t op = 4, flagpos = 0, nibble = 0, pos = 0;
	uint32_t flags = 0;
	unsigned nflags = 0;

	e->bits = XP_HASH_BITS_MIN;
	while (e->bits < XP_HASH_BITS && ((size_t)1 << e->bits) < n)
		e->bits++;
	memset(e->head, 0, sizeof(e->head[0]) << e->bits);
	while (pos < n) {
		size_t best = XP_MIN_MATCH - 1, boff = 0;

		if (n - pos >= XP_MIN_MATCH) {
			size_t max = n - pos;
			unsigned cand = e->head[hash3(src + pos, e->bits)];
			unsigned depth = XP_MAX_CHAIN;

			while (cand != 0 && depth-- > 0) {
				size_t c = cand - 1;

				if (pos - c > XP_MAX_OFFSET)
					break;
				/* Only a candidate that also matches at BEST
				 * can be longer; best < max, so pos + best is
				 * in the block. */
				if (src[c + best] == src[pos + best]) {
					size_t l =
					    match_len(src + c, src + pos, max);

					if (l > best) {
						best = l;
						boff = pos - c;
						if (l >= XP_NICE_MATCH ||
						    l == max)
							break;
					}
				}
				cand = e->prev[c];
			}
			insert(e, src, pos);
		}
		if (best >= XP_MIN_MATCH) {
			flags = flags << 1 | 1;
			op = put_match(out, op, &nibble, boff, best);
			for (size_t i = pos + 1;
			     i < pos + best && n - i >= XP_MIN_MATCH; i++)
				insert(e, src, i);
			pos += best;
		} else {
			flags <<= 1;
			out[op++] = src[pos++];
		}
		if (++nflags == 32) {
			store_u32le(out + flagpos, flags);
			flagpos = op;
			op += 4;
			nflags = 0;
			flags = 0;
		}
		/* Not smaller: store raw. Before this check OP < N, so one
		 * item more stays within e->out. */
		if (op >= n)
			return 0;
	}
	if (nflags == 0)
		flags = UINT32_MAX;
	else
		flags = flags << (32 - nflags) | ((1u << (32 - nflags)) - 1);
	store_u32le(out + flagpos, flags);
	return op;
}

static pthread_key_t enc_key;
static pthread_once_t enc_once = PTHREAD_ONCE_INIT;
static bool enc_key_ok;

static void
enc_key_create(void)
{
	enc_key_ok = pthread_key_create(&enc_key, free) == 0;
}

/* This thread's scratch, freed when the thread ends; NULL: no memory. */
static struct xp_enc *
thread_enc(void)
{
	struct xp_enc *e;

	if (pthread_once(&enc_once, enc_key_create) != 0 || !enc_key_ok)
		return NULL;
	if ((e = pthread_getspecific(enc_key)) != NULL)
		return e;
	if ((e = malloc(sizeof(*e))) == NULL)
		return NULL;
	if (pthread_setspecific(enc_key, e) != 0) {
		free(e);
		return NULL;
	}
	return e;
}

int
xpress_encode(const unsigned char *in, size_t n, struct sbuf *out,
    struct wsd_err *err)
{
	unsigned char head[XPRESS_BLOCK_HEAD];
	struct xp_enc *e;
	size_t u, c;
	int rc;

	if (n == 0)
		return 0;
	if ((e = thread_enc()) == NULL) {
		sbuf_release(out);
		return wsd_fail(err, WSD_ENOMEM, "xpress: out of memory");
	}
	for (size_t at = 0; at < n; at += u) {
		u = n - at < XPRESS_BLOCK_SIZE ? n - at : XPRESS_BLOCK_SIZE;
		c = encode_block(e, in + at, u);
		store_u32le(head, (uint32_t)u);
		store_u32le(head + 4, (uint32_t)(c != 0 ? c : u));
		if ((rc = sbuf_add(out, head, sizeof(head))) < 0 ||
		    (rc = sbuf_add(out, c != 0 ? e->out : in + at,
			 c != 0 ? c : u)) < 0) {
			return wsd_fail(err, rc,
			    rc == WSD_ETOOBIG ? "xpress: output over its cap"
					      : "xpress: out of memory");
		}
	}
	return 0;
}

/*
 * Decodes the plain LZ77 stream IN[0..N) into exactly U bytes at OUT,
 * following MS-XCA 2.4.4 with every read and write checked.
 */
static int
decode_block(const unsigned char *in, size_t n, unsigned char *out, size_t u,
    struct wsd_err *err)
{
	size_t ip = 0, op = 0, nibble = 0;
	uint32_t flags = 0;
	unsigned nflags = 0;

	/* Each pass consumes input or returns: at most N passes. */
	for (;;) {
		uint64_t len;
		size_t off;
		uint32_t tok;

		if (nflags == 0) {
			if (n - ip < 4) {
				/* Leniency: a block that fills its declared
				 * size exactly and ends on an item boundary
				 * without the spec's closing flag word. */
				if (ip == n && op == u)
					return 0;
				return wsd_fail(err, WSD_EINVAL,
				    "xpress: block truncated in a flag word");
			}
			flags = load_u32le(in + ip);
			ip += 4;
			nflags = 32;
		}
		nflags--;
		if (((flags >> nflags) & 1) == 0) {
			if (ip == n)
				return wsd_fail(err, WSD_EINVAL,
				    "xpress: block truncated in a literal");
			if (op == u)
				return wsd_fail(err, WSD_EINVAL,
				    "xpress: block longer than declared");
			out[op++] = in[ip++];
			continue;
		}
		if (ip == n) {
			if (op != u)
				return wsd_fail(err, WSD_EINVAL,
				    "xpress: block shorter than declared");
			return 0;
		}
		if (n - ip < 2)
			return wsd_fail(err, WSD_EINVAL,
			    "xpress: block truncated in a match");
		tok = load_u16le(in + ip);
		ip += 2;
		off = (size_t)(tok >> 3) + 1;
		len = tok & 7;
		if (len == 7) {
			if (nibble == 0) {
				if (ip == n)
					return wsd_fail(err, WSD_EINVAL,
					    "xpress: block truncated in a "
					    "match length");
				len = in[ip] & 15;
				nibble = ip++;
			} else {
				len = in[nibble] >> 4;
				nibble = 0;
			}
			if (len == 15) {
				if (ip == n)
					return wsd_fail(err, WSD_EINVAL,
					    "xpress: block truncated in a "
					    "match length");
				len = in[ip++];
				if (len == 255) {
					if (n - ip < 2)
						return wsd_fail(err, WSD_EINVAL,
						    "xpress: block truncated "
						    "in a match length");
					len = load_u16le(in + ip);
					ip += 2;
					if (len == 0) {
						if (n - ip < 4)
							return wsd_fail(err,
							    WSD_EINVAL,
							    "xpress: block "
							    "truncated in a "
							    "match length");
						len = load_u32le(in + ip);
						ip += 4;
					}
					if (len < 15 + 7)
						return wsd_fail(err, WSD_EINVAL,
						    "xpress: invalid match "
						    "length");
					len -= 15 + 7;
				}
				len += 15;
			}
			len += 7;
		}
		len += XP_MIN_MATCH;
		if (off > op)
			return wsd_fail(err, WSD_EINVAL,
			    "xpress: match before the block start");
		if (len > u - op)
			return wsd_fail(err, WSD_EINVAL,
			    "xpress: block longer than declared");
		if (off >= len) {
			memcpy(out + op, out + op - off, (size_t)len);
			op += (size_t)len;
		} else {
			/* Overlapping: byte by byte repeats the pattern. */
			for (size_t i = 0; i < (size_t)len; i++, op++)
				out[op] = out[op - off];
		}
	}
}

int
xpress_decode(const unsigned char *in, size_t n, size_t max_out,
    struct sbuf *out, struct wsd_err *err)
{
	unsigned char *buf = NULL;
	size_t at = 0, total = 0;
	int rc;

	while (at < n) {
		size_t u, c;

		if (n - at < XPRESS_BLOCK_HEAD) {
			rc = wsd_fail(err, WSD_EINVAL,
			    "xpress: truncated block header");
			goto fail;
		}
		u = load_u32le(in + at);
		c = load_u32le(in + at + 4);
		at += XPRESS_BLOCK_HEAD;
		if (u == 0 || c == 0 || u > XPRESS_MAX_BLOCK ||
		    c > XPRESS_MAX_BLOCK) {
			rc = wsd_fail(err, WSD_EINVAL,
			    "xpress: block size out of range");
			goto fail;
		}
		if (c > n - at) {
			rc = wsd_fail(err, WSD_EINVAL,
			    "xpress: truncated block");
			goto fail;
		}
		if (u > max_out - total) {
			rc = wsd_fail(err, WSD_ETOOBIG,
			    "xpress: decoded body over the limit");
			goto fail;
		}
		if (c == u) {
			/* Stored raw. */
			if ((rc = sbuf_add(out, in + at, u)) < 0)
				goto sbuf_fail;
		} else {
			if (buf == NULL &&
			    (buf = malloc(XPRESS_MAX_BLOCK)) == NULL) {
				rc = wsd_fail(err, WSD_ENOMEM,
				    "xpress: out of memory");
				goto fail;
			}
			if ((rc = decode_block(in + at, c, buf, u, err)) < 0)
				goto fail;
			if ((rc = sbuf_add(out, buf, u)) < 0)
				goto sbuf_fail;
		}
		at += c;
		total += u;
	}
	free(buf);
	return 0;
sbuf_fail:
	/* OUT is already released. */
	free(buf);
	return wsd_fail(err, rc,
	    rc == WSD_ETOOBIG ? "xpress: decoded body over its cap"
			      : "xpress: out of memory");
fail:
	free(buf);
	sbuf_release(out);
	return rc;
}
