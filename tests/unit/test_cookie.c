/*
 * cookie: AEAD tokens and the key file (SECURITY.md S1, S9, S17). Each
 * test gets its own data directory under one mkdtemp directory; tokens
 * are checked by what cookie_open says about them, never by their bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/encode.h"
#include "common/log.h"
#include "cookie/cookie.h"

static char base[] = "/tmp/wsusd-test-cookie-XXXXXX";

/* EVP_DecodeBlock writes whole groups of three, padding included. */
#define RAWSZ (COOKIE_AUTH_BYTES + 4)

/* BASE/A, or BASE/A/B; a few live at once, so rotate. */
static const char *
P(const char *a, const char *b)
{
	static char bufs[8][512];
	static unsigned next;
	char *p = bufs[next++ % 8];

	snprintf(p, sizeof(bufs[0]), "%s/%s%s%s", base, a, b ? "/" : "",
	    b ? b : "");
	return p;
}

/* A new data directory NAME (0700), returned as a path that stays
 * valid for the whole run (one slot per directory; there are 32). */
static const char *
datadir(const char *name)
{
	static char dirs[32][512];
	static unsigned used;
	char *d;

	assert_true(used < 32);
	d = dirs[used++];
	snprintf(d, sizeof(dirs[0]), "%s", P(name, NULL));
	assert_int_equal(mkdir(d, 0700), 0);
	return d;
}

static void
load(struct cookie_keys *ck, const char *dir)
{
	struct wsd_err e = { WSD_OK, NULL };

	cookie_keys_init(ck);
	assert_int_equal(cookie_keys_load(ck, dir, &e), 0);
	assert_int_not_equal(ck->ck_cur.ckk_id, 0);
}

/* A cookie with every field distinct and nonzero. */
static void
sample(struct cookie *c, enum cookie_kind kind)
{
	memset(c, 0, sizeof(*c));
	c->co_kind = kind;
	c->co_flags = 0x80000001u;
	for (int i = 0; i < 16; i++)
		c->co_computer[i] = (unsigned char)(0xe1 + i * 7);
	c->co_group_version = 0x01020304u;
	c->co_protocol = 2u << 16 | 90u;
	c->co_issued = 1791126216;         /* 2026-10-04T15:03:36Z */
	c->co_expires = 1791126216 + 3600; /* WS2025: one hour */
	c->co_instance = 0x1122334455667788ull;
	c->co_anchor = 0xfedcba9876543210ull;
}

static void
seal(const struct cookie_keys *ck, const struct cookie *c, char *out)
{
	struct wsd_err e = { WSD_OK, NULL };

	assert_int_equal(cookie_seal(ck, c, out, COOKIE_B64_BUFSZ, &e), 0);
	assert_int_equal(strlen(out), cookie_b64_len(c->co_kind));
}

/* cookie_open that must say "invalid", with the one text, *OUT zeroed. */
static void
assert_invalid(const struct cookie_keys *ck, const char *b64, size_t len,
    enum cookie_kind kind, time_t now)
{
	static const struct cookie zero;
	struct wsd_err e = { WSD_OK, NULL };
	struct cookie out;
	int rc;

	memset(&out, 0x5a, sizeof(out));
	rc = cookie_open(ck, b64, len, kind, now, &out, &e);
	assert_int_equal(rc, COOKIE_EINVALID);
	assert_int_equal(e.code, COOKIE_EINVALID);
	assert_string_equal(e.what, "invalid cookie");
	assert_memory_equal(&out, &zero, sizeof(out));
}

static void
assert_same(const struct cookie *a, const struct cookie *b)
{
	assert_int_equal(a->co_kind, b->co_kind);
	assert_int_equal(a->co_flags, b->co_flags);
	assert_memory_equal(a->co_computer, b->co_computer, 16);
	assert_int_equal(a->co_group_version, b->co_group_version);
	assert_int_equal(a->co_protocol, b->co_protocol);
	assert_int_equal(a->co_issued, b->co_issued);
	assert_int_equal(a->co_expires, b->co_expires);
	assert_int_equal(a->co_instance, b->co_instance);
	assert_int_equal(a->co_anchor, b->co_anchor);
}

static void
assert_opens(const struct cookie_keys *ck, const char *b64,
    const struct cookie *want, time_t now)
{
	struct wsd_err e = { WSD_OK, NULL };
	struct cookie out;

	assert_int_equal(cookie_open(ck, b64, strlen(b64), want->co_kind, now,
			     &out, &e),
	    0);
	assert_same(&out, want);
}

/* Base64 to bytes without the code under test (OpenSSL's decoder). */
static size_t
raw_decode(const char *b64, unsigned char *out)
{
	size_t len = strlen(b64), pad = 0;
	int n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)len);

	assert_true(n > 0);
	while (pad < 2 && len > pad && b64[len - 1 - pad] == '=')
		pad++;
	return (size_t)n - pad;
}

static int
key_is_all(const unsigned char *k, unsigned char v)
{
	for (int i = 0; i < COOKIE_KEY_BYTES; i++)
		if (k[i] != v)
			return 0;
	return 1;
}

/* Stderr into a file while the log is being checked. */
static int saved_stderr = -1;

static void
capture_start(void)
{
	int fd = open(P("stderr.log", NULL),
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	fflush(stderr);
	saved_stderr = dup(2);
	assert_true(saved_stderr >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
}

/* Restores stderr and returns what was logged (static buffer). */
static const char *
capture_end(void)
{
	static char buf[8192];
	ssize_t n;
	int fd;

	fflush(stderr);
	assert_int_equal(dup2(saved_stderr, 2), 2);
	close(saved_stderr);
	saved_stderr = -1;
	fd = open(P("stderr.log", NULL), O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	fprintf(stderr, "%s", buf); /* still visible in the test log */
	return buf;
}

static void
test_round_trip(void **state)
{
	static const enum cookie_kind kinds[] = { COOKIE_CLIENT,
		COOKIE_AUTHORIZATION };
	struct cookie_keys ck;
	struct cookie c;
	char a[COOKIE_B64_BUFSZ], b[COOKIE_B64_BUFSZ];

	(void)state;
	load(&ck, datadir("roundtrip"));
	for (size_t k = 0; k < 2; k++) {
		sample(&c, kinds[k]);
		seal(&ck, &c, a);
		assert_opens(&ck, a, &c, (time_t)c.co_issued);
		assert_opens(&ck, a, &c, (time_t)c.co_expires);
		/* A fresh nonce each time: the same fields, another token,
		 * which opens just the same. */
		seal(&ck, &c, b);
		assert_string_not_equal(a, b);
		assert_opens(&ck, b, &c, (time_t)c.co_issued);
		/* Zero fields and the extremes survive too. */
		memset(&c, 0, sizeof(c));
		c.co_kind = kinds[k];
		seal(&ck, &c, a);
		assert_opens(&ck, a, &c, 0);
		memset(&c, 0xff, sizeof(c));
		c.co_kind = kinds[k];
		c.co_issued = c.co_expires = INT64_MAX;
		seal(&ck, &c, a);
		assert_opens(&ck, a, &c, 0);
	}
	cookie_keys_release(&ck);
}

/* Size and shape of WSUS's own tokens (vectors scan/000002, 000003). */
static void
test_wsus_shape(void **state)
{
	struct cookie_keys ck;
	struct cookie c;
	char t[COOKIE_B64_BUFSZ];

	(void)state;
	assert_int_equal(cookie_b64_len(COOKIE_AUTHORIZATION), 664);
	assert_int_equal(cookie_b64_len(COOKIE_CLIENT), 300);
	assert_int_equal(cookie_b64_len(COOKIE_DSS_AUTHORIZATION), 664);
	assert_int_equal(cookie_b64_len(COOKIE_DSS), 300);
	assert_int_equal(cookie_b64_len((enum cookie_kind)0), 0);
	assert_int_equal(cookie_b64_len((enum cookie_kind)5), 0);
	load(&ck, datadir("shape"));
	sample(&c, COOKIE_AUTHORIZATION);
	seal(&ck, &c, t);
	assert_int_equal(strlen(t), 664);
	assert_int_equal(strspn(t,
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
			     "opqrstuvwxyz0123456789+/"),
	    662);
	assert_string_equal(t + 662, "==");
	sample(&c, COOKIE_CLIENT);
	seal(&ck, &c, t);
	assert_int_equal(strlen(t), 300);
	assert_int_equal(strspn(t,
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
			     "opqrstuvwxyz0123456789+/"),
	    299);
	assert_string_equal(t + 299, "=");
	cookie_keys_release(&ck);
}

/*
 * Every single-bit flip of a real token, in its bytes and in its base64
 * text, is invalid: never ok, and never "expired", which would mean it
 * had been taken for authentic.
 */
static void
test_bit_flips(void **state)
{
	static const enum cookie_kind kinds[] = { COOKIE_CLIENT,
		COOKIE_AUTHORIZATION };
	unsigned char raw[RAWSZ];
	char t[COOKIE_B64_BUFSZ], f[COOKIE_B64_BUFSZ];
	struct cookie_keys ck;
	struct cookie c;
	unsigned flips = 0;

	(void)state;
	load(&ck, datadir("flips"));
	for (size_t k = 0; k < 2; k++) {
		size_t n, len;

		sample(&c, kinds[k]);
		seal(&ck, &c, t);
		len = strlen(t);
		n = raw_decode(t, raw);
		assert_int_equal(n,
		    kinds[k] == COOKIE_CLIENT ? COOKIE_CLIENT_BYTES
					      : COOKIE_AUTH_BYTES);
		for (size_t bit = 0; bit < n * 8; bit++) {
			raw[bit / 8] ^= (unsigned char)(1u << (bit % 8));
			b64_encode(raw, n, f);
			raw[bit / 8] ^= (unsigned char)(1u << (bit % 8));
			assert_int_equal(strlen(f), len);
			/* Within the lifetime (ok would show) and after it
			 * (expired would show). */
			assert_invalid(&ck, f, len, kinds[k],
			    (time_t)c.co_issued);
			assert_invalid(&ck, f, len, kinds[k],
			    (time_t)c.co_expires + 1);
			flips++;
		}
		for (size_t i = 0; i < len; i++) {
			for (int bit = 0; bit < 8; bit++) {
				memcpy(f, t, len + 1);
				f[i] = (char)(f[i] ^ (1 << bit));
				assert_invalid(&ck, f, len, kinds[k],
				    (time_t)c.co_issued);
				flips++;
			}
		}
		/* The original still opens: the flips were the cause. */
		assert_opens(&ck, t, &c, (time_t)c.co_issued);
	}
	assert_true(flips >= 64);
	cookie_keys_release(&ck);
}

/*
 * The unused low bits of the last base64 character must be zero: a
 * second spelling of the same bytes is refused, so a changed token text
 * never opens.
 */
static void
test_noncanonical_base64(void **state)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
				    "opqrstuvwxyz0123456789+/";
	static const enum cookie_kind kinds[] = { COOKIE_CLIENT,
		COOKIE_AUTHORIZATION };
	char t[COOKIE_B64_BUFSZ], f[COOKIE_B64_BUFSZ];
	struct cookie_keys ck;
	struct cookie c;

	(void)state;
	load(&ck, datadir("canonical"));
	for (size_t k = 0; k < 2; k++) {
		/* client: 224 bytes, 2 spare bits; auth: 496, 4 spare. */
		unsigned spare = kinds[k] == COOKIE_CLIENT ? 3 : 15;
		size_t len, last;
		const char *pos;
		int v, same = 0;

		sample(&c, kinds[k]);
		seal(&ck, &c, t);
		len = strlen(t);
		last = len - (kinds[k] == COOKIE_CLIENT ? 2 : 3);
		pos = strchr(alpha, t[last]);
		assert_non_null(pos);
		v = (int)(pos - alpha);
		assert_int_equal(v & (int)spare, 0);
		for (unsigned s = 1; s <= spare; s++) {
			unsigned char a[RAWSZ], b[RAWSZ];
			size_t na, nb;

			memcpy(f, t, len + 1);
			f[last] = alpha[v | (int)s];
			/* OpenSSL's lenient decoder sees the same bytes... */
			na = raw_decode(f, a);
			nb = raw_decode(t, b);
			assert_int_equal(na, nb);
			same += memcmp(a, b, na) == 0;
			/* ...cookie_open does not accept the spelling. */
			assert_invalid(&ck, f, len, kinds[k],
			    (time_t)c.co_issued);
		}
		assert_int_equal(same, (int)spare);
	}
	cookie_keys_release(&ck);
}

static void
test_truncated_extended(void **state)
{
	static const char *const tails[] = { "A", "AAAA", "=", "====", "\n",
		" ", "\r\n", "\0" };
	char t[COOKIE_B64_BUFSZ], f[COOKIE_MAX_INPUT + 16];
	struct cookie_keys ck;
	struct cookie c;
	size_t len;

	(void)state;
	load(&ck, datadir("trunc"));
	sample(&c, COOKIE_CLIENT);
	seal(&ck, &c, t);
	len = strlen(t);
	for (size_t l = 0; l < len; l++)
		assert_invalid(&ck, t, l, COOKIE_CLIENT, (time_t)c.co_issued);
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		size_t tl = tails[i][0] == '\0' ? 1 : strlen(tails[i]);

		memcpy(f, t, len);
		memcpy(f + len, tails[i], tl);
		assert_invalid(&ck, f, len + tl, COOKIE_CLIENT,
		    (time_t)c.co_issued);
		/* The same in front of the token. */
		memcpy(f, tails[i], tl);
		memcpy(f + tl, t, len);
		assert_invalid(&ck, f, len + tl, COOKIE_CLIENT,
		    (time_t)c.co_issued);
	}
	/* Line breaks inside, as a MIME encoder would add: refused. */
	memcpy(f, t, 76);
	f[76] = '\n';
	memcpy(f + 77, t + 76, len - 76);
	assert_invalid(&ck, f, len + 1, COOKIE_CLIENT, (time_t)c.co_issued);
	/* One past the input bound, the token in front. */
	memset(f, 'A', sizeof(f));
	memcpy(f, t, len);
	assert_invalid(&ck, f, COOKIE_MAX_INPUT + 1, COOKIE_CLIENT,
	    (time_t)c.co_issued);
	/* A client token is not an authorization token even when padded
	 * out to the other kind's length. */
	memset(f, 'A', sizeof(f));
	memcpy(f, t, len - 1);
	f[663] = '=';
	f[662] = '=';
	assert_invalid(&ck, f, 664, COOKIE_AUTHORIZATION, (time_t)c.co_issued);
	assert_opens(&ck, t, &c, (time_t)c.co_issued);
	cookie_keys_release(&ck);
}

static void
test_wrong_kind(void **state)
{
	char a[COOKIE_B64_BUFSZ], t[COOKIE_B64_BUFSZ];
	struct cookie_keys ck;
	struct cookie c;

	(void)state;
	load(&ck, datadir("kind"));
	sample(&c, COOKIE_AUTHORIZATION);
	seal(&ck, &c, a);
	assert_invalid(&ck, a, strlen(a), COOKIE_CLIENT, (time_t)c.co_issued);
	sample(&c, COOKIE_CLIENT);
	seal(&ck, &c, t);
	assert_invalid(&ck, t, strlen(t), COOKIE_AUTHORIZATION,
	    (time_t)c.co_issued);
	assert_opens(&ck, t, &c, (time_t)c.co_issued);
	cookie_keys_release(&ck);
}

/* ---- MS-WSUSSS kinds (issue #7) ---- */

static const enum cookie_kind all_kinds[] = { COOKIE_AUTHORIZATION,
	COOKIE_CLIENT, COOKIE_DSS_AUTHORIZATION, COOKIE_DSS };
#define N_KINDS (sizeof(all_kinds) / sizeof(all_kinds[0]))

/* A DSS cookie as sss_getcookie.c seals it: GUID, protocol 1.20, 240
 * minutes. */
static void
sample_dss(struct cookie *c, enum cookie_kind kind)
{
	sample(c, kind);
	c->co_flags = 0;
	c->co_group_version = 0;
	c->co_anchor = 0;
	c->co_protocol = 1u << 16 | 20u;
	c->co_expires = c->co_issued + 240 * 60;
}

static void
test_dss_round_trip(void **state)
{
	static const enum cookie_kind kinds[] = { COOKIE_DSS_AUTHORIZATION,
		COOKIE_DSS };
	char a[COOKIE_B64_BUFSZ], b[COOKIE_B64_BUFSZ];
	struct cookie_keys ck;
	struct cookie c;

	(void)state;
	load(&ck, datadir("dssround"));
	for (size_t k = 0; k < 2; k++) {
		sample_dss(&c, kinds[k]);
		seal(&ck, &c, a);
		assert_int_equal(strlen(a), kinds[k] == COOKIE_DSS ? 300 : 664);
		assert_opens(&ck, a, &c, (time_t)c.co_issued);
		assert_opens(&ck, a, &c, (time_t)c.co_expires);
		seal(&ck, &c, b);
		assert_string_not_equal(a, b);
		assert_opens(&ck, b, &c, (time_t)c.co_issued);
		/* Every field, not only the ones the DSS kinds use. */
		sample(&c, kinds[k]);
		seal(&ck, &c, a);
		assert_opens(&ck, a, &c, (time_t)c.co_issued);
		memset(&c, 0xff, sizeof(c));
		c.co_kind = kinds[k];
		c.co_issued = c.co_expires = INT64_MAX;
		seal(&ck, &c, a);
		assert_opens(&ck, a, &c, 0);
	}
	cookie_keys_release(&ck);
}

/* Tampering: every bit of a DSS token's bytes, one at a time. */
static void
test_dss_bit_flips(void **state)
{
	static const enum cookie_kind kinds[] = { COOKIE_DSS_AUTHORIZATION,
		COOKIE_DSS };
	unsigned char raw[RAWSZ];
	char t[COOKIE_B64_BUFSZ], f[COOKIE_B64_BUFSZ];
	struct cookie_keys ck;
	struct cookie c;
	unsigned flips = 0;

	(void)state;
	load(&ck, datadir("dssflips"));
	for (size_t k = 0; k < 2; k++) {
		size_t n, len;

		sample_dss(&c, kinds[k]);
		seal(&ck, &c, t);
		len = strlen(t);
		n = raw_decode(t, raw);
		assert_int_equal(n,
		    kinds[k] == COOKIE_DSS ? COOKIE_CLIENT_BYTES
					   : COOKIE_AUTH_BYTES);
		for (size_t bit = 0; bit < n * 8; bit++) {
			raw[bit / 8] ^= (unsigned char)(1u << (bit % 8));
			b64_encode(raw, n, f);
			raw[bit / 8] ^= (unsigned char)(1u << (bit % 8));
			assert_invalid(&ck, f, len, kinds[k],
			    (time_t)c.co_issued);
			assert_invalid(&ck, f, len, kinds[k],
			    (time_t)c.co_expires + 1);
			flips++;
		}
		assert_opens(&ck, t, &c, (time_t)c.co_issued);
	}
	assert_int_equal(flips, (COOKIE_AUTH_BYTES + COOKIE_CLIENT_BYTES) * 8);
	cookie_keys_release(&ck);
}

static void
test_dss_expired(void **state)
{
	static const enum cookie_kind kinds[] = { COOKIE_DSS_AUTHORIZATION,
		COOKIE_DSS };
	struct wsd_err e = { WSD_OK, NULL };
	char t[COOKIE_B64_BUFSZ];
	struct cookie_keys ck;
	struct cookie c, out;

	(void)state;
	load(&ck, datadir("dssexpired"));
	for (size_t k = 0; k < 2; k++) {
		sample_dss(&c, kinds[k]);
		seal(&ck, &c, t);
		assert_opens(&ck, t, &c, (time_t)c.co_expires);
		assert_int_equal(cookie_open(&ck, t, strlen(t), kinds[k],
				     (time_t)c.co_expires + 1, &out, &e),
		    COOKIE_EEXPIRED);
		assert_string_equal(e.what, "cookie expired");
		assert_same(&out, &c);
		/* Expired and opened as another kind: invalid, not expired
		 * (nothing of another kind is ever taken as authentic). */
		for (size_t j = 0; j < N_KINDS; j++)
			if (all_kinds[j] != kinds[k])
				assert_invalid(&ck, t, strlen(t), all_kinds[j],
				    (time_t)c.co_expires + 1);
	}
	cookie_keys_release(&ck);
}

/*
 * Kind confusion across all four kinds: a token opens only as its own
 * kind, though a client cookie and a DSS cookie (and the two
 * authorization kinds) have the same length. Rewriting the clear kind
 * byte to another kind does not help either: it is in the AAD.
 */
static void
test_kind_confusion(void **state)
{
	unsigned char raw[RAWSZ];
	char t[COOKIE_B64_BUFSZ], f[COOKIE_B64_BUFSZ];
	struct cookie_keys ck;
	struct cookie c;
	unsigned refused = 0;

	(void)state;
	load(&ck, datadir("dsskinds"));
	for (size_t i = 0; i < N_KINDS; i++) {
		size_t n;

		sample(&c, all_kinds[i]);
		seal(&ck, &c, t);
		assert_opens(&ck, t, &c, (time_t)c.co_issued);
		n = raw_decode(t, raw);
		assert_int_equal(raw[2], (unsigned char)all_kinds[i]);
		for (size_t j = 0; j < N_KINDS; j++) {
			if (j == i)
				continue;
			assert_invalid(&ck, t, strlen(t), all_kinds[j],
			    (time_t)c.co_issued);
			refused++;
			/* The header says kind J now; the tag says I. */
			raw[2] = (unsigned char)all_kinds[j];
			b64_encode(raw, n, f);
			raw[2] = (unsigned char)all_kinds[i];
			assert_invalid(&ck, f, strlen(f), all_kinds[j],
			    (time_t)c.co_issued);
			assert_invalid(&ck, f, strlen(f), all_kinds[i],
			    (time_t)c.co_issued);
			refused++;
		}
	}
	assert_int_equal(refused, N_KINDS * (N_KINDS - 1) * 2);
	cookie_keys_release(&ck);
}

static void
test_expired(void **state)
{
	struct wsd_err e = { WSD_OK, NULL };
	char t[COOKIE_B64_BUFSZ];
	struct cookie_keys ck;
	struct cookie c, out;

	(void)state;
	load(&ck, datadir("expired"));
	sample(&c, COOKIE_CLIENT);
	seal(&ck, &c, t);
	/* Valid through the second of expiry, as WSUS's Expiration. */
	assert_opens(&ck, t, &c, (time_t)c.co_expires);
	assert_int_equal(cookie_open(&ck, t, strlen(t), COOKIE_CLIENT,
			     (time_t)c.co_expires + 1, &out, &e),
	    COOKIE_EEXPIRED);
	assert_int_equal(e.code, COOKIE_EEXPIRED);
	assert_string_equal(e.what, "cookie expired");
	assert_int_not_equal(COOKIE_EEXPIRED, COOKIE_EINVALID);
	/* Authentic, so the fields are there for the log. */
	assert_same(&out, &c);
	/* Far in the future: still expired, not invalid. */
	assert_int_equal(cookie_open(&ck, t, strlen(t), COOKIE_CLIENT,
			     (time_t)INT64_MAX, &out, &e),
	    COOKIE_EEXPIRED);
	/* Zero lifetime: expired one second later. */
	c.co_expires = c.co_issued;
	seal(&ck, &c, t);
	assert_opens(&ck, t, &c, (time_t)c.co_issued);
	assert_int_equal(cookie_open(&ck, t, strlen(t), COOKIE_CLIENT,
			     (time_t)c.co_issued + 1, &out, &e),
	    COOKIE_EEXPIRED);
	cookie_keys_release(&ck);
}

/* Another install (another data directory) has another key: its tokens
 * are invalid here, though both rings call their key id 1. */
static void
test_foreign_ring(void **state)
{
	char t[COOKIE_B64_BUFSZ], u[COOKIE_B64_BUFSZ];
	struct cookie_keys a, b;
	struct cookie c;

	(void)state;
	load(&a, datadir("installA"));
	load(&b, datadir("installB"));
	assert_int_equal(a.ck_cur.ckk_id, 1);
	assert_int_equal(b.ck_cur.ckk_id, 1);
	sample(&c, COOKIE_CLIENT);
	seal(&a, &c, t);
	seal(&b, &c, u);
	assert_opens(&a, t, &c, (time_t)c.co_issued);
	assert_opens(&b, u, &c, (time_t)c.co_issued);
	assert_invalid(&b, t, strlen(t), COOKIE_CLIENT, (time_t)c.co_issued);
	assert_invalid(&a, u, strlen(u), COOKIE_CLIENT, (time_t)c.co_issued);
	/* Also after expiry: invalid, never "expired". */
	assert_invalid(&b, t, strlen(t), COOKIE_CLIENT,
	    (time_t)c.co_expires + 1);
	cookie_keys_release(&a);
	cookie_keys_release(&b);
}

static void
test_rotation(void **state)
{
	struct wsd_err e = { WSD_OK, NULL };
	char t0[COOKIE_B64_BUFSZ], t1[COOKIE_B64_BUFSZ], t2[COOKIE_B64_BUFSZ];
	struct cookie_keys ck, disk;
	struct cookie c;
	const char *d = datadir("rotate");

	(void)state;
	load(&ck, d);
	sample(&c, COOKIE_CLIENT);
	seal(&ck, &c, t0);

	assert_int_equal(cookie_keys_rotate(&ck, d, &e), 0);
	assert_int_equal(ck.ck_cur.ckk_id, 2);
	assert_int_equal(ck.ck_prev.ckk_id, 1);
	seal(&ck, &c, t1);
	/* Overlap: the old token still opens, in this ring and in one
	 * loaded afresh from the rotated file. */
	assert_opens(&ck, t0, &c, (time_t)c.co_issued);
	assert_opens(&ck, t1, &c, (time_t)c.co_issued);
	load(&disk, d);
	assert_int_equal(disk.ck_cur.ckk_id, 2);
	assert_opens(&disk, t0, &c, (time_t)c.co_issued);
	assert_opens(&disk, t1, &c, (time_t)c.co_issued);
	cookie_keys_release(&disk);

	/* A second rotation (CK NULL: file only) retires the first key. */
	assert_int_equal(cookie_keys_rotate(NULL, d, &e), 0);
	load(&disk, d);
	assert_int_equal(disk.ck_cur.ckk_id, 3);
	assert_int_equal(disk.ck_prev.ckk_id, 2);
	assert_invalid(&disk, t0, strlen(t0), COOKIE_CLIENT,
	    (time_t)c.co_issued);
	assert_opens(&disk, t1, &c, (time_t)c.co_issued);
	seal(&disk, &c, t2);
	assert_opens(&disk, t2, &c, (time_t)c.co_issued);
	/* The ring not reloaded knows nothing of key 3. */
	assert_invalid(&ck, t2, strlen(t2), COOKIE_CLIENT, (time_t)c.co_issued);
	cookie_keys_release(&disk);

	/* Rotating with a stale ring rotates the file, not the stale
	 * ring's idea of it. */
	assert_int_equal(cookie_keys_rotate(&ck, d, &e), 0);
	assert_int_equal(ck.ck_cur.ckk_id, 4);
	assert_int_equal(ck.ck_prev.ckk_id, 3);
	assert_opens(&ck, t2, &c, (time_t)c.co_issued);
	assert_invalid(&ck, t1, strlen(t1), COOKIE_CLIENT, (time_t)c.co_issued);
	cookie_keys_release(&ck);
}

/* Ids run 1..255 and wrap to 1, never 0, never equal to the previous. */
static void
test_rotation_wraps(void **state)
{
	struct wsd_err e = { WSD_OK, NULL };
	char t[COOKIE_B64_BUFSZ];
	struct cookie_keys ck;
	struct cookie c;
	const char *d = datadir("wrap");

	(void)state;
	load(&ck, d);
	sample(&c, COOKIE_CLIENT);
	log_set_level(LOG_LVL_WARN); /* not 255 "rotated" lines */
	for (int i = 1; i <= 255; i++) {
		uint8_t prev = ck.ck_cur.ckk_id;

		seal(&ck, &c, t);
		assert_int_equal(cookie_keys_rotate(&ck, d, &e), 0);
		assert_int_equal(ck.ck_cur.ckk_id, i % 255 + 1);
		assert_int_equal(ck.ck_prev.ckk_id, prev);
		assert_opens(&ck, t, &c, (time_t)c.co_issued);
	}
	/* After 255 rotations the id is 1 again, but not the key that
	 * id 1 had before: the very first key is long gone. */
	log_set_level(LOG_LVL_INFO);
	assert_int_equal(ck.ck_cur.ckk_id, 1);
	assert_int_equal(ck.ck_prev.ckk_id, 255);
	cookie_keys_release(&ck);
}

static void
read_file(const char *path, unsigned char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, n), (ssize_t)n);
	close(fd);
}

static void
write_file(const char *path, const void *buf, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
test_key_file_created(void **state)
{
	unsigned char a[88], b[88];
	struct cookie_keys ka, kb;
	struct stat st;
	const char *da = datadir("freshA"), *db = datadir("freshB");
	char pa[512], pb[512];

	(void)state;
	snprintf(pa, sizeof(pa), "%s/tls/cookie.key", da);
	snprintf(pb, sizeof(pb), "%s/tls/cookie.key", db);
	assert_int_equal(lstat(pa, &st), -1); /* created by the load */
	load(&ka, da);
	load(&kb, db);
	assert_int_equal(lstat(pa, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 88);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(lstat(P("freshA", "tls"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(ka.ck_prev.ckk_id, 0);
	assert_true(ka.ck_rotated > 1700000000);
	/* Two installs, two keys. */
	read_file(pa, a, sizeof(a));
	read_file(pb, b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(ka.ck_cur.ckk_key, kb.ck_cur.ckk_key,
	    COOKIE_KEY_BYTES);
	cookie_keys_release(&kb);
	/* Loading again reads the same key, and does not replace it. */
	load(&kb, da);
	assert_memory_equal(ka.ck_cur.ckk_key, kb.ck_cur.ckk_key,
	    COOKIE_KEY_BYTES);
	read_file(pa, b, sizeof(b));
	assert_memory_equal(a, b, sizeof(a));
	cookie_keys_release(&ka);
	cookie_keys_release(&kb);
}

static void
test_key_file_mode_refused(void **state)
{
	static const mode_t bad[] = { 0644, 0640, 0604, 0620, 0602, 0610, 0601,
		0660, 0666 };
	struct wsd_err e = { WSD_OK, NULL };
	struct cookie_keys ck;
	const char *d = datadir("modes");
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/tls/cookie.key", d);
	load(&ck, d);
	cookie_keys_release(&ck);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *log;

		assert_int_equal(chmod(path, bad[i]), 0);
		capture_start();
		memset(&ck, 0x77, sizeof(ck));
		assert_int_equal(cookie_keys_load(&ck, d, &e), WSD_EPERM);
		log = capture_end();
		assert_non_null(strstr(log, path));
		assert_non_null(strstr(log, "group or others"));
		assert_int_equal(ck.ck_cur.ckk_id, 0); /* emptied */
		assert_true(key_is_all(ck.ck_cur.ckk_key, 0));
	}
	/* Owner-only modes are fine, read-only included. */
	assert_int_equal(chmod(path, 0400), 0);
	load(&ck, d);
	cookie_keys_release(&ck);
	assert_int_equal(chmod(path, 0600), 0);
	load(&ck, d);
	cookie_keys_release(&ck);

	/* A group-writable key directory: someone else could swap the
	 * file. */
	assert_int_equal(chmod(P("modes", "tls"), 0770), 0);
	capture_start();
	assert_int_equal(cookie_keys_load(&ck, d, &e), WSD_EPERM);
	assert_non_null(strstr(capture_end(), P("modes", "tls")));
	assert_int_equal(chmod(P("modes", "tls"), 0700), 0);
	load(&ck, d);
	cookie_keys_release(&ck);
}

static void
test_key_file_symlink_refused(void **state)
{
	struct wsd_err e = { WSD_OK, NULL };
	struct cookie_keys ck;
	const char *d = datadir("symlink"), *other = datadir("symtarget");
	char path[512], target[512];

	(void)state;
	load(&ck, other);
	cookie_keys_release(&ck);
	snprintf(target, sizeof(target), "%s/tls/cookie.key", other);
	snprintf(path, sizeof(path), "%s/tls/cookie.key", d);
	assert_int_equal(mkdir(P("symlink", "tls"), 0700), 0);
	assert_int_equal(symlink(target, path), 0);
	capture_start();
	assert_true(cookie_keys_load(&ck, d, &e) < 0);
	assert_non_null(strstr(capture_end(), path));
	assert_int_equal(ck.ck_cur.ckk_id, 0);
	/* Not replaced by a new key either. */
	assert_int_equal(access(path, F_OK), 0);
	{
		struct stat st;

		assert_int_equal(lstat(path, &st), 0);
		assert_true(S_ISLNK(st.st_mode));
	}
	/* A symbolic link in place of DATADIR/tls: refused as well. */
	(void)datadir("symdir");
	assert_int_equal(symlink(P("symtarget", "tls"), P("symdir", "tls")), 0);
	assert_true(cookie_keys_load(&ck, P("symdir", NULL), &e) < 0);
	assert_int_equal(ck.ck_cur.ckk_id, 0);
}

/* A damaged key file is refused, and left as it was: never silently
 * replaced by a new key (which would invalidate every cookie). */
static void
test_key_file_corrupt(void **state)
{
	struct wsd_err e = { WSD_OK, NULL };
	unsigned char good[88], img[100], after[100];
	struct cookie_keys ck;
	const char *d = datadir("corrupt");
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/tls/cookie.key", d);
	load(&ck, d);
	cookie_keys_release(&ck);
	read_file(path, good, sizeof(good));
	for (int cse = 0; cse < 11; cse++) {
		size_t n = sizeof(good);

		memcpy(img, good, sizeof(good));
		switch (cse) {
		case 0:
			n = 0;
			break;
		case 1:
			n = 87;
			break;
		case 2:
			img[88] = 0;
			n = 89;
			break;
		case 3:
			img[0] = 'X'; /* magic */
			break;
		case 4:
			img[8] = 0; /* current id 0 */
			break;
		case 5:
			img[9] = img[8]; /* previous id == current id */
			break;
		case 6:
			memset(img + 24, 0, 32); /* current key zero */
			break;
		case 7:
			img[80] = 1; /* previous key without a previous id */
			break;
		case 8:
			img[12] = 1; /* reserved */
			break;
		case 9:
			img[16] = 0x80; /* rotation time negative */
			break;
		case 10:
			img[9] = 7; /* previous id, previous key zero */
			break;
		}
		write_file(path, img, n, 0600);
		capture_start();
		assert_int_equal(cookie_keys_load(&ck, d, &e), WSD_EINVAL);
		assert_non_null(strstr(capture_end(), path));
		assert_int_equal(ck.ck_cur.ckk_id, 0);
		/* Rotation refuses it too, and leaves it. */
		assert_int_equal(cookie_keys_rotate(NULL, d, &e), WSD_EINVAL);
		if (n > 0)
			read_file(path, after, n);
		assert_memory_equal(img, after, n);
		{
			struct stat st;

			assert_int_equal(stat(path, &st), 0);
			assert_int_equal(st.st_size, (off_t)n);
		}
	}
	/* A previous key equal to the current one. */
	memcpy(img, good, sizeof(good));
	img[9] = 9;
	memcpy(img + 56, img + 24, 32);
	write_file(path, img, sizeof(good), 0600);
	assert_int_equal(cookie_keys_load(&ck, d, &e), WSD_EINVAL);
	/* The good image loads again. */
	write_file(path, good, sizeof(good), 0600);
	load(&ck, d);
	cookie_keys_release(&ck);
	/* A FIFO in its place neither hangs nor loads. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(cookie_keys_load(&ck, d, &e), WSD_EINVAL);
}

/*
 * SECURITY.md S1 (a): the public CVE-2025-59287 recipe is a BinaryFormatter
 * stream ("AAEAAAD/////" in base64) of about 4 KiB. Whatever its length,
 * and even cut to exactly a token's length, it is an invalid cookie.
 */
static void
test_cve_2025_59287_shape(void **state)
{
	static const unsigned char bf_header[] = { 0x00, 0x01, 0x00, 0x00, 0x00,
		0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x0c, 0x02, 0x00, 0x00, 0x00 };
	static const size_t sizes[] = { 4096, 3072, 3000, 496, 224, 22 };
	static unsigned char blob[4096];
	static char b64[4 * (4096 / 3 + 1) + 1];
	struct cookie_keys ck;

	(void)state;
	load(&ck, datadir("cve"));
	memcpy(blob, bf_header, sizeof(bf_header));
	/* "System.Windows.Data.ObjectDataProvider"-like filler. */
	for (size_t i = sizeof(bf_header); i < sizeof(blob); i++)
		blob[i] = (unsigned char)("ObjectDataProvider"[i % 18]);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t len;

		b64_encode(blob, sizes[s], b64);
		len = strlen(b64);
		assert_memory_equal(b64, "AAEAAAD/////", 12);
		for (int k = COOKIE_AUTHORIZATION; k <= COOKIE_CLIENT; k++) {
			assert_invalid(&ck, b64, len, (enum cookie_kind)k,
			    1791126216);
			/* Cut to exactly a token's length. */
			if (len >= cookie_b64_len((enum cookie_kind)k))
				assert_invalid(&ck, b64,
				    cookie_b64_len((enum cookie_kind)k),
				    (enum cookie_kind)k, 1791126216);
		}
	}
	/* The 4 KiB payload is over the input bound before decoding. */
	b64_encode(blob, 4096, b64);
	assert_true(strlen(b64) > COOKIE_MAX_INPUT);
	cookie_keys_release(&ck);
}

/* A small xorshift, seeded, so a failure can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/*
 * 1000 random blobs of 0 to 8 KiB: raw bytes, base64 text, and tokens of
 * the right length with a valid header (current key id, right kind) and
 * random rest, which get as far as the tag. All invalid; ASan watches.
 */
static void
test_random_blobs(void **state)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
				    "opqrstuvwxyz0123456789+/";
	static char blob[8193];
	unsigned char raw[COOKIE_AUTH_BYTES];
	struct cookie_keys ck;
	unsigned reached_tag = 0;

	(void)state;
	load(&ck, datadir("random"));
	for (int i = 0; i < 1000; i++) {
		enum cookie_kind kind =
		    (rng() & 1) ? COOKIE_CLIENT : COOKIE_AUTHORIZATION;
		size_t len = (size_t)(rng() % 8193);

		switch (i % 4) {
		case 0:
			for (size_t j = 0; j < len; j++)
				blob[j] = (char)rng();
			break;
		case 1:
			for (size_t j = 0; j < len; j++)
				blob[j] = alpha[rng() % 64];
			break;
		case 2: {
			size_t n = kind == COOKIE_CLIENT ? COOKIE_CLIENT_BYTES
							 : COOKIE_AUTH_BYTES;

			for (size_t j = 0; j < n; j++)
				raw[j] = (unsigned char)rng();
			raw[0] = 1;
			raw[1] = ck.ck_cur.ckk_id;
			raw[2] = (unsigned char)kind;
			b64_encode(raw, n, blob);
			len = strlen(blob);
			reached_tag++;
			break;
		}
		case 3:
			/* Right length, random alphabet, padding kept. */
			len = cookie_b64_len(kind);
			for (size_t j = 0; j < len; j++)
				blob[j] = alpha[rng() % 64];
			blob[len - 1] = '=';
			if (kind == COOKIE_AUTHORIZATION)
				blob[len - 2] = '=';
			break;
		}
		assert_invalid(&ck, blob, len, kind, 1791126216);
		assert_invalid(&ck, blob, len, kind, INT64_MAX);
	}
	assert_int_equal(reached_tag, 250);
	cookie_keys_release(&ck);
}

static void
test_seal_rejects(void **state)
{
	struct wsd_err e = { WSD_OK, NULL };
	char out[COOKIE_B64_BUFSZ];
	struct cookie_keys ck, empty;
	struct cookie c;

	(void)state;
	load(&ck, datadir("sealbad"));
	sample(&c, COOKIE_CLIENT);
	c.co_issued = -1;
	memcpy(out, "x", 2);
	assert_int_equal(cookie_seal(&ck, &c, out, sizeof(out), &e),
	    WSD_EINVAL);
	assert_string_equal(out, "");
	sample(&c, COOKIE_CLIENT);
	c.co_expires = c.co_issued - 1;
	assert_int_equal(cookie_seal(&ck, &c, out, sizeof(out), &e),
	    WSD_EINVAL);
	sample(&c, COOKIE_CLIENT);
	c.co_kind = (enum cookie_kind)0;
	assert_int_equal(cookie_seal(&ck, &c, out, sizeof(out), &e),
	    WSD_EINVAL);
	c.co_kind = (enum cookie_kind)5;
	assert_int_equal(cookie_seal(&ck, &c, out, sizeof(out), &e),
	    WSD_EINVAL);
	/* The buffer: exactly the length plus NUL, not one less. */
	sample(&c, COOKIE_CLIENT);
	assert_int_equal(cookie_seal(&ck, &c, out, 300, &e), WSD_ETOOBIG);
	assert_int_equal(cookie_seal(&ck, &c, out, 301, &e), 0);
	assert_opens(&ck, out, &c, (time_t)c.co_issued);
	sample(&c, COOKIE_AUTHORIZATION);
	assert_int_equal(cookie_seal(&ck, &c, out, 664, &e), WSD_ETOOBIG);
	/* An empty ring seals nothing and opens nothing. */
	cookie_keys_init(&empty);
	assert_int_equal(cookie_seal(&empty, &c, out, sizeof(out), &e),
	    WSD_EPERM);
	sample(&c, COOKIE_CLIENT);
	assert_int_equal(cookie_seal(&ck, &c, out, sizeof(out), &e), 0);
	assert_invalid(&empty, out, strlen(out), COOKIE_CLIENT,
	    (time_t)c.co_issued);
	cookie_keys_release(&ck);
}

static void
test_release_wipes(void **state)
{
	static const struct cookie_keys zero;
	struct cookie_keys ck;
	struct wsd_err e = { WSD_OK, NULL };
	const char *d = datadir("wipe");

	(void)state;
	load(&ck, d);
	assert_int_equal(cookie_keys_rotate(&ck, d, &e), 0);
	assert_false(key_is_all(ck.ck_cur.ckk_key, 0));
	assert_false(key_is_all(ck.ck_prev.ckk_key, 0));
	cookie_keys_release(&ck);
	assert_memory_equal(&ck, &zero, sizeof(ck));
	cookie_keys_release(NULL);
}

/* S1 (c): the key WSUS shipped appears nowhere in src/. */
static char needle[9];
static int found_fixed_key;

static int
scan_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	static char buf[1 << 20];
	ssize_t n;
	int fd;

	(void)ftw;
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		for (ssize_t i = 0; i + 8 <= n; i++)
			if (strncasecmp(buf + i, needle, 8) == 0) {
				fprintf(stderr, "%s holds the WSUS key\n",
				    path);
				found_fixed_key = 1;
				break;
			}
	}
	return 0;
}

static void
test_no_fixed_key_in_source(void **state)
{
	char src[4096];
	struct stat st;

	(void)state;
	/* Spelt in two halves so this file does not match itself. */
	snprintf(needle, sizeof(needle), "%s%s", "877C", "14E4");
	snprintf(src, sizeof(src), "%s/src/cookie/cookie.c", TEST_SRCDIR);
	assert_int_equal(stat(src, &st), 0); /* the scan sees our source */
	snprintf(src, sizeof(src), "%s/src", TEST_SRCDIR);
	assert_int_equal(nftw(src, scan_one, 16, FTW_PHYS), 0);
	assert_int_equal(found_fixed_key, 0);
}

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	chmod(path, 0700);
	return remove(path);
}

/* After each test: one that failed while capturing gets stderr back,
 * with what it caught (cmocka's failure message among it). */
static int
restore_stderr(void **state)
{
	(void)state;
	if (saved_stderr >= 0)
		(void)capture_end();
	return 0;
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(base) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_round_trip, restore_stderr),
		cmocka_unit_test_teardown(test_wsus_shape, restore_stderr),
		cmocka_unit_test_teardown(test_bit_flips, restore_stderr),
		cmocka_unit_test_teardown(test_noncanonical_base64,
		    restore_stderr),
		cmocka_unit_test_teardown(test_truncated_extended,
		    restore_stderr),
		cmocka_unit_test_teardown(test_wrong_kind, restore_stderr),
		cmocka_unit_test_teardown(test_expired, restore_stderr),
		cmocka_unit_test_teardown(test_dss_round_trip, restore_stderr),
		cmocka_unit_test_teardown(test_dss_bit_flips, restore_stderr),
		cmocka_unit_test_teardown(test_dss_expired, restore_stderr),
		cmocka_unit_test_teardown(test_kind_confusion, restore_stderr),
		cmocka_unit_test_teardown(test_foreign_ring, restore_stderr),
		cmocka_unit_test_teardown(test_rotation, restore_stderr),
		cmocka_unit_test_teardown(test_rotation_wraps, restore_stderr),
		cmocka_unit_test_teardown(test_key_file_created,
		    restore_stderr),
		cmocka_unit_test_teardown(test_key_file_mode_refused,
		    restore_stderr),
		cmocka_unit_test_teardown(test_key_file_symlink_refused,
		    restore_stderr),
		cmocka_unit_test_teardown(test_key_file_corrupt,
		    restore_stderr),
		cmocka_unit_test_teardown(test_cve_2025_59287_shape,
		    restore_stderr),
		cmocka_unit_test_teardown(test_random_blobs, restore_stderr),
		cmocka_unit_test_teardown(test_seal_rejects, restore_stderr),
		cmocka_unit_test_teardown(test_release_wipes, restore_stderr),
		cmocka_unit_test_teardown(test_no_fixed_key_in_source,
		    restore_stderr),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
