/*
 * Fuzz target for cookie_open (SECURITY.md S1, S9). The key ring is made
 * once per process by the real loader in a fresh temporary data directory
 * (which is removed at once: the ring lives on in memory), then rotated
 * once, so key ids 1 (previous) and 2 (current) are both held. The keys
 * are random, so no input can be a genuine token.
 *
 * Input whose first byte is not 0xff is a cookie text: it is opened as
 * each kind at several times, and anything but COOKIE_EINVALID, with the
 * one text and *out zeroed, traps. ok or "expired" for bytes that did not
 * come from cookie_seal is a forgery. (Tokens this process sealed are
 * compared without strcmp/memcmp, whose arguments libFuzzer records, so
 * they do not leak into its dictionary; should one come back anyway, it
 * is recognised among the last ones sealed and checked like a token of
 * the other mode instead.)
 *
 * Input starting with 0xff describes a cookie instead (fields, a time, a
 * mutation): it is sealed, and every promise of cookie.h is checked on the
 * genuine token: it opens (or is "expired" exactly when it should be) to
 * the same fields, re-seals to a token that opens to them again, is
 * invalid as the other kind, and invalid after one bit of its text is
 * flipped or it is cut short.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "cookie/cookie.h"

static struct cookie_keys keys;     /* ids 2 (current) and 1 (previous) */
static struct cookie_keys old_keys; /* id 1 only: seals "previous" tokens */

/* The last tokens sealed here, with their fields. */
#define RECENT 16
static struct {
	char r_tok[COOKIE_B64_BUFSZ];
	struct cookie r_c;
} recent[RECENT];
static unsigned n_recent;

static void
setup(void)
{
	static bool done;
	char dir[] = "/tmp/wsusd-fuzz-cookie-XXXXXX";
	char path[sizeof(dir) + 32];
	struct wsd_err e = { WSD_OK, NULL };
	bool ok;

	if (done)
		return;
	done = true;
	log_set_level(LOG_LVL_WARN);
	if (mkdtemp(dir) == NULL)
		__builtin_trap();
	ok = cookie_keys_load(&old_keys, dir, &e) == 0 &&
	    cookie_keys_rotate(&keys, dir, &e) == 0;
	/* Gone before anything can trap: the rings live in memory. */
	snprintf(path, sizeof(path), "%s/tls/cookie.key", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/tls", dir);
	rmdir(path);
	rmdir(dir);
	if (!ok || keys.ck_cur.ckk_id != 2 || keys.ck_prev.ckk_id != 1 ||
	    old_keys.ck_cur.ckk_id != 1)
		__builtin_trap();
}

/* Equal, by a comparison libFuzzer does not trace (see above). */
static bool
equal(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char d = 0;

	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static void
remember(const char *t, const struct cookie *c)
{
	unsigned slot = n_recent++ % RECENT;

	memcpy(recent[slot].r_tok, t, COOKIE_B64_BUFSZ);
	recent[slot].r_c = *c;
}

static const struct cookie *
sealed_here(const char *b64, size_t len)
{
	for (unsigned i = 0; i < RECENT && i < n_recent; i++)
		if (equal(recent[i].r_tok, strlen(recent[i].r_tok), b64, len))
			return &recent[i].r_c;
	return NULL;
}

static bool
is_zero(const struct cookie *c)
{
	static const struct cookie zero;

	return memcmp(c, &zero, sizeof(zero)) == 0;
}

static bool
same(const struct cookie *a, const struct cookie *b)
{
	return a->co_kind == b->co_kind && a->co_flags == b->co_flags &&
	    memcmp(a->co_computer, b->co_computer, 16) == 0 &&
	    a->co_group_version == b->co_group_version &&
	    a->co_protocol == b->co_protocol && a->co_issued == b->co_issued &&
	    a->co_expires == b->co_expires &&
	    a->co_instance == b->co_instance && a->co_anchor == b->co_anchor;
}

static void must_open(const char *t, size_t len, const struct cookie *c,
    time_t now);

/* Traps unless opening B64 says "invalid", the one way it may. */
static void
must_be_invalid(const char *b64, size_t len, enum cookie_kind kind, time_t now)
{
	struct wsd_err e = { WSD_OK, NULL };
	const struct cookie *c;
	struct cookie out;
	int rc;

	memset(&out, 0xa5, sizeof(out));
	rc = cookie_open(&keys, b64, len, kind, now, &out, &e);
	if ((rc == 0 || rc == COOKIE_EEXPIRED) &&
	    (c = sealed_here(b64, len)) != NULL && c->co_kind == kind) {
		must_open(b64, len, c, now);
		return;
	}
	if (rc != COOKIE_EINVALID || e.code != COOKIE_EINVALID ||
	    e.what == NULL || strcmp(e.what, "invalid cookie") != 0 ||
	    !is_zero(&out))
		__builtin_trap();
}

/* Opens a genuine token T of C at NOW and checks the answer. */
static void
must_open(const char *t, size_t len, const struct cookie *c, time_t now)
{
	struct wsd_err e = { WSD_OK, NULL };
	struct cookie out;
	int rc;

	rc = cookie_open(&keys, t, len, c->co_kind, now, &out, &e);
	if (c->co_expires < (int64_t)now) {
		if (rc != COOKIE_EEXPIRED || e.code != COOKIE_EEXPIRED ||
		    strcmp(e.what, "cookie expired") != 0)
			__builtin_trap();
	} else if (rc != 0) {
		__builtin_trap();
	}
	if (!same(&out, c))
		__builtin_trap();
}

static uint64_t
take(const uint8_t **p, size_t *n, size_t bytes)
{
	uint64_t v = 0;

	for (size_t i = 0; i < bytes; i++) {
		v = v << 8 | (*n > 0 ? **p : 0);
		if (*n > 0) {
			(*p)++;
			(*n)--;
		}
	}
	return v;
}

static void
fields(const uint8_t *p, size_t n)
{
	char t[COOKIE_B64_BUFSZ], u[COOKIE_B64_BUFSZ], f[COOKIE_B64_BUFSZ];
	struct wsd_err e = { WSD_OK, NULL };
	struct cookie c, out;
	unsigned sel = (unsigned)take(&p, &n, 1);
	const struct cookie_keys *sealer = (sel & 2) ? &old_keys : &keys;
	enum cookie_kind other;
	size_t len, pos;
	time_t now;
	int rc;

	memset(&c, 0, sizeof(c));
	c.co_kind = (sel & 1) ? COOKIE_AUTHORIZATION : COOKIE_CLIENT;
	other = (sel & 1) ? COOKIE_CLIENT : COOKIE_AUTHORIZATION;
	c.co_flags = (uint32_t)take(&p, &n, 4);
	for (int i = 0; i < 16; i++)
		c.co_computer[i] = (unsigned char)take(&p, &n, 1);
	c.co_group_version = (uint32_t)take(&p, &n, 4);
	c.co_protocol = (uint32_t)take(&p, &n, 4);
	c.co_issued = (int64_t)take(&p, &n, 8);
	c.co_expires = (int64_t)take(&p, &n, 8);
	c.co_instance = take(&p, &n, 8);
	c.co_anchor = take(&p, &n, 8);
	now = (time_t)take(&p, &n, 8);
	pos = (size_t)take(&p, &n, 2);

	memcpy(t, "garbage", 8);
	rc = cookie_seal(sealer, &c, t, sizeof(t), &e);
	if (c.co_issued < 0 || c.co_expires < c.co_issued) {
		if (rc != WSD_EINVAL || t[0] != '\0')
			__builtin_trap();
		return;
	}
	if (rc != 0)
		__builtin_trap();
	len = strlen(t);
	if (len != cookie_b64_len(c.co_kind))
		__builtin_trap();

	remember(t, &c);
	must_open(t, len, &c, now);
	/* Re-seal what came out: a valid token of the same fields (and,
	 * with a fresh nonce, another text). */
	rc = cookie_open(&keys, t, len, c.co_kind, now, &out, &e);
	if (rc != 0 && rc != COOKIE_EEXPIRED)
		__builtin_trap();
	if (cookie_seal(&keys, &out, u, sizeof(u), &e) != 0 ||
	    equal(t, len, u, strlen(u)))
		__builtin_trap();
	remember(u, &c);
	must_open(u, strlen(u), &c, now);

	must_be_invalid(t, len, other, now);
	/* One bit of the text flipped; then cut short at the same place. */
	memcpy(f, t, len + 1);
	f[(pos >> 3) % len] = (char)(f[(pos >> 3) % len] ^ (1 << (pos & 7)));
	must_be_invalid(f, len, c.co_kind, now);
	must_be_invalid(t, (pos >> 3) % len, c.co_kind, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const time_t nows[] = { 0, 1791126216, INT64_MAX };

	setup();
	if (size > 0 && data[0] == 0xff) {
		fields(data + 1, size - 1);
		return 0;
	}
	for (int k = COOKIE_AUTHORIZATION; k <= COOKIE_CLIENT; k++)
		for (size_t i = 0; i < sizeof(nows) / sizeof(nows[0]); i++)
			must_be_invalid((const char *)data, size,
			    (enum cookie_kind)k, nows[i]);
	return 0;
}
