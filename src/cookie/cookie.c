#include "cookie/cookie.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/encode.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/sbuf.h"

/*
 * Token layout: see cookie.h. Offsets within the token.
 */
#define TOK_VERSION  1
#define TOK_HDR      3 /* version, key id, kind */
#define TOK_NONCE    12
#define TOK_TAG      16
#define TOK_OVERHEAD (TOK_HDR + TOK_NONCE + TOK_TAG)
#define TOK_FIELDS   60 /* body bytes holding fields; zeros follow */

/* Fixed label in front of the header in the AAD (domain separation). */
static const char aad_label[] = "wsusd-cookie";
#define AAD_LABEL_LEN (sizeof(aad_label) - 1)

static const char txt_invalid[] = "invalid cookie";
static const char txt_expired[] = "cookie expired";

/*
 * Key file (DATADIR/tls/cookie.key), 88 bytes, big-endian:
 *	0 magic "WSDCKEY1", 8 current id, 9 previous id (0: none),
 *	10..15 zero, 16 rotated (i64), 24 current key, 56 previous key
 *	(zeros when none).
 * Binary and of one size, so reading it is a length check and a few
 * comparisons; an editor cannot half-break it into something accepted.
 */
static const char kf_magic[8] = { 'W', 'S', 'D', 'C', 'K', 'E', 'Y', '1' };
#define KF_SIZE     88
#define KF_CUR_ID   8
#define KF_PREV_ID  9
#define KF_ROTATED  16
#define KF_CUR_KEY  24
#define KF_PREV_KEY 56
#define KF_NAME     "cookie.key"
#define KF_DIR      "tls"

/* Waiting for another rotation: attempts x interval = 5 s. */
#define ROTATE_LOCK_TRIES 50
#define ROTATE_LOCK_USEC  100000

_Static_assert(COOKIE_CLIENT_BYTES - TOK_OVERHEAD >= TOK_FIELDS,
    "client token too small for its fields");
_Static_assert(COOKIE_AUTH_BYTES - TOK_OVERHEAD >= TOK_FIELDS,
    "authorization token too small for its fields");
_Static_assert(KF_PREV_KEY + COOKIE_KEY_BYTES == KF_SIZE, "key file layout");

/* ---- byte order ---- */

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* ---- sizes ---- */

static size_t
tok_bytes(enum cookie_kind kind)
{
	switch (kind) {
	case COOKIE_AUTHORIZATION:
	case COOKIE_DSS_AUTHORIZATION:
		return COOKIE_AUTH_BYTES;
	case COOKIE_CLIENT:
	case COOKIE_DSS:
		return COOKIE_CLIENT_BYTES;
	}
	return 0;
}

size_t
cookie_b64_len(enum cookie_kind kind)
{
	size_t n = tok_bytes(kind);

	return n == 0 ? 0 : 4 * ((n + 2) / 3);
}

/* ---- strict base64 ---- */

/* 0..63, or -1 for anything outside the standard alphabet. */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decodes padded base64 that must be exactly the encoding of N bytes,
 * and the canonical one: INLEN == 4*ceil(N/3), "=" only as the padding N
 * needs, and the unused low bits of the last character zero. So each N
 * bytes have exactly one accepted spelling, and no change to a token's
 * text decodes to the same token. -1 for anything else. (encode.h's
 * b64_decode_exact stops at 64 bytes and does not check the unused bits.)
 */
static int
b64_decode_canonical(const char *in, size_t inlen, unsigned char *out, size_t n)
{
	size_t pad = (3 - n % 3) % 3, full, o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	if (inlen != 4 * ((n + 2) / 3))
		return -1;
	full = inlen - pad;
	for (size_t i = full; i < inlen; i++)
		if (in[i] != '=')
			return -1;
	for (size_t i = 0; i < full; i++) {
		int v = b64_value((unsigned char)in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= n)
				return -1; /* cannot happen: length checked */
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* What is left over must be the zero bits padding leaves. */
	if (o != n || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	return 0;
}

/* ---- keys ---- */

void
cookie_keys_init(struct cookie_keys *ck)
{
	memset(ck, 0, sizeof(*ck));
}

void
cookie_keys_release(struct cookie_keys *ck)
{
	if (ck == NULL)
		return;
	OPENSSL_cleanse(ck, sizeof(*ck));
}

static bool
key_is_zero(const unsigned char *k)
{
	static const unsigned char zero[COOKIE_KEY_BYTES];

	return CRYPTO_memcmp(k, zero, COOKIE_KEY_BYTES) == 0;
}

static const struct cookie_key *
key_by_id(const struct cookie_keys *ck, uint8_t id)
{
	if (id == 0)
		return NULL;
	if (ck->ck_cur.ckk_id == id)
		return &ck->ck_cur;
	if (ck->ck_prev.ckk_id == id)
		return &ck->ck_prev;
	return NULL;
}

/* Checks a key file image and fills CK from it. PATH for the log. */
static int
kf_parse(const unsigned char *b, struct cookie_keys *ck, const char *path,
    struct wsd_err *err)
{
	static const unsigned char zero[6];
	uint8_t cur = b[KF_CUR_ID], prev = b[KF_PREV_ID];
	uint64_t rot = get64(b + KF_ROTATED);
	const char *why = NULL;

	if (memcmp(b, kf_magic, sizeof(kf_magic)) != 0)
		why = "no key file header";
	else if (memcmp(b + 10, zero, sizeof(zero)) != 0)
		why = "reserved bytes not zero";
	else if (cur == 0 || cur == prev)
		why = "bad key ids";
	else if (rot > INT64_MAX)
		why = "bad rotation time";
	else if (key_is_zero(b + KF_CUR_KEY))
		why = "current key is all zeros";
	else if (prev == 0 && !key_is_zero(b + KF_PREV_KEY))
		why = "previous key without an id";
	else if (prev != 0 &&
	    (key_is_zero(b + KF_PREV_KEY) ||
		CRYPTO_memcmp(b + KF_CUR_KEY, b + KF_PREV_KEY,
		    COOKIE_KEY_BYTES) == 0))
		why = "bad previous key";
	if (why != NULL) {
		log_warnx("%s: not a valid cookie key file: %s", path, why);
		return wsd_fail(err, WSD_EINVAL, "invalid cookie key file");
	}
	ck->ck_cur.ckk_id = cur;
	memcpy(ck->ck_cur.ckk_key, b + KF_CUR_KEY, COOKIE_KEY_BYTES);
	ck->ck_prev.ckk_id = prev;
	memcpy(ck->ck_prev.ckk_key, b + KF_PREV_KEY, COOKIE_KEY_BYTES);
	ck->ck_rotated = (int64_t)rot;
	return 0;
}

static void
kf_build(const struct cookie_keys *ck, unsigned char *b)
{
	memset(b, 0, KF_SIZE);
	memcpy(b, kf_magic, sizeof(kf_magic));
	b[KF_CUR_ID] = ck->ck_cur.ckk_id;
	b[KF_PREV_ID] = ck->ck_prev.ckk_id;
	put64(b + KF_ROTATED, (uint64_t)ck->ck_rotated);
	memcpy(b + KF_CUR_KEY, ck->ck_cur.ckk_key, COOKIE_KEY_BYTES);
	if (ck->ck_prev.ckk_id != 0)
		memcpy(b + KF_PREV_KEY, ck->ck_prev.ckk_key, COOKIE_KEY_BYTES);
}

/* "DATADIR/tls" or "DATADIR/tls/cookie.key" into SB, for open and log. */
static int
kf_path(struct sbuf *sb, const char *datadir, bool file, struct wsd_err *err)
{
	sbuf_init(sb, 4096);
	if (sbuf_addf(sb, "%s/%s%s", datadir, KF_DIR, file ? "/" KF_NAME : "") <
	    0)
		return wsd_fail(err, WSD_ETOOBIG, "path too long");
	return 0;
}

/*
 * Opens DATADIR/tls (creating it 0700 when missing), not following a
 * symbolic link there, and refuses it when group or others may write it:
 * whoever can write the directory can replace the key file. *ST gets its
 * fstat.
 */
static int
kf_open_dir(const char *datadir, struct stat *st, int *dirfd,
    struct wsd_err *err)
{
	struct sbuf dir;
	int fd, rc;

	*dirfd = -1;
	if ((rc = kf_path(&dir, datadir, false, err)) < 0)
		goto out;
	if (mkdir(dir.sb_buf, 0700) < 0 && errno != EEXIST) {
		log_warn("%s", dir.sb_buf);
		rc = wsd_fail(err, WSD_EIO, "cannot create key directory");
		goto out;
	}
	fd = open(dir.sb_buf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		log_warn("%s", dir.sb_buf);
		rc = wsd_fail(err, WSD_EIO, "cannot open key directory");
		goto out;
	}
	if (fstat(fd, st) < 0) {
		log_warn("%s", dir.sb_buf);
		close(fd);
		rc = wsd_fail(err, WSD_EIO, "cannot open key directory");
		goto out;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		log_warnx("%s is writable by group or others (mode %04o); "
			  "refusing to use its cookie key: chmod go-w %s",
		    dir.sb_buf, (unsigned)(st->st_mode & 07777), dir.sb_buf);
		close(fd);
		rc = wsd_fail(err, WSD_EPERM, "key directory not private");
		goto out;
	}
	*dirfd = fd;
	rc = 0;
out:
	sbuf_release(&dir);
	return rc;
}

/*
 * Reads the key file in DIRFD into B (KF_SIZE bytes). WSD_ENOTFOUND, not
 * logged, when there is none. ST gets its fstat.
 */
static int
kf_read(int dirfd, const char *path, unsigned char *b, struct stat *st,
    struct wsd_err *err)
{
	size_t got = 0;
	int fd, rc;

	/* O_NONBLOCK: a FIFO planted there must not hang the open. */
	fd = openat(dirfd, KF_NAME,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return wsd_fail(err, WSD_ENOTFOUND, "no cookie key");
		log_warn("%s", path); /* ELOOP: a symbolic link */
		return wsd_fail(err, WSD_EIO, "cannot open cookie key");
	}
	if (fstat(fd, st) < 0) {
		log_warn("%s", path);
		rc = wsd_fail(err, WSD_EIO, "cannot open cookie key");
		goto out;
	}
	if (!S_ISREG(st->st_mode)) {
		log_warnx("%s: not a regular file", path);
		rc = wsd_fail(err, WSD_EINVAL, "invalid cookie key file");
		goto out;
	}
	if (st->st_mode & 077) {
		log_warnx("%s is readable or writable by group or others "
			  "(mode %04o); refusing to use it: chmod 600 %s",
		    path, (unsigned)(st->st_mode & 07777), path);
		rc = wsd_fail(err, WSD_EPERM, "cookie key not private");
		goto out;
	}
	if (st->st_size != KF_SIZE) {
		log_warnx("%s: not a valid cookie key file: %lld bytes, not %d",
		    path, (long long)st->st_size, KF_SIZE);
		rc = wsd_fail(err, WSD_EINVAL, "invalid cookie key file");
		goto out;
	}
	/* At most KF_SIZE bytes; each read makes progress or ends. */
	while (got < KF_SIZE) {
		ssize_t n = read(fd, b + got, KF_SIZE - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_warn("%s", path);
			rc = wsd_fail(err, WSD_EIO, "cannot read cookie key");
			goto out;
		}
		if (n == 0) {
			log_warnx("%s: shrank while being read", path);
			rc = wsd_fail(err, WSD_EIO, "cannot read cookie key");
			goto out;
		}
		got += (size_t)n;
	}
	rc = 0;
out:
	close(fd);
	if (rc < 0)
		OPENSSL_cleanse(b, KF_SIZE);
	return rc;
}

/* A fresh random key with id ID into K. */
static int
key_generate(struct cookie_key *k, uint8_t id, struct wsd_err *err)
{
	k->ckk_id = id;
	if (RAND_bytes(k->ckk_key, COOKIE_KEY_BYTES) != 1) {
		log_ssl("RAND_bytes");
		OPENSSL_cleanse(k, sizeof(*k));
		return wsd_fail(err, WSD_EINTERNAL, "no random bytes");
	}
	return 0;
}

/*
 * Writes the key file for the ring CK into DIRFD, owned like DIRST (best
 * effort: only root can give a file away), mode 0600. NOREPLACE when
 * creating, so two processes starting at once cannot both install a key.
 */
static int
kf_write(int dirfd, const struct stat *dirst, const struct cookie_keys *ck,
    unsigned flags, struct wsd_err *err)
{
	struct fileio_owner owner = { dirst->st_uid, dirst->st_gid, true };
	unsigned char b[KF_SIZE];
	int rc;

	kf_build(ck, b);
	rc = fileio_write_atomic(dirfd, KF_NAME, b, sizeof(b), 0600, &owner,
	    flags, err);
	OPENSSL_cleanse(b, sizeof(b));
	return rc;
}

int
cookie_keys_load(struct cookie_keys *ck, const char *datadir,
    struct wsd_err *err)
{
	struct stat dirst, st;
	struct cookie_keys fresh;
	unsigned char b[KF_SIZE];
	struct sbuf path;
	int dirfd = -1, rc;

	cookie_keys_release(ck); /* whatever it held is wiped, not leaked */
	cookie_keys_init(&fresh);
	if ((rc = kf_path(&path, datadir, true, err)) < 0)
		goto out;
	if ((rc = kf_open_dir(datadir, &dirst, &dirfd, err)) < 0)
		goto out;
	rc = kf_read(dirfd, path.sb_buf, b, &st, err);
	if (rc == WSD_ENOTFOUND) {
		if ((rc = key_generate(&fresh.ck_cur, 1, err)) < 0)
			goto out;
		fresh.ck_rotated = (int64_t)time(NULL);
		rc = kf_write(dirfd, &dirst, &fresh, FILEIO_NOREPLACE, err);
		/* Whether we or a process starting at the same moment
		 * installed it, what counts is what is on disk now. */
		if (rc < 0)
			log_warnx("%s: cannot create it; reading it again",
			    path.sb_buf);
		else
			log_info("%s: created a new cookie key", path.sb_buf);
		rc = kf_read(dirfd, path.sb_buf, b, &st, err);
		if (rc == WSD_ENOTFOUND) {
			log_warnx("%s: missing after creation", path.sb_buf);
			rc = wsd_fail(err, WSD_EIO, "cannot create cookie key");
		}
	}
	if (rc < 0)
		goto out;
	rc = kf_parse(b, ck, path.sb_buf, err);
	OPENSSL_cleanse(b, sizeof(b));
out:
	cookie_keys_release(&fresh);
	if (dirfd >= 0)
		close(dirfd);
	sbuf_release(&path);
	if (rc < 0)
		cookie_keys_release(ck);
	return rc;
}

/* Takes the rotation lock on DIRFD, waiting at most 5 s. */
static int
rotate_lock(int dirfd, const char *path, struct wsd_err *err)
{
	for (int i = 0; i < ROTATE_LOCK_TRIES; i++) {
		if (flock(dirfd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			log_warn("%s: lock", path);
			return wsd_fail(err, WSD_EIO,
			    "cannot lock key directory");
		}
		usleep(ROTATE_LOCK_USEC);
	}
	log_warnx("%s: another rotation holds the lock", path);
	return wsd_fail(err, WSD_EAGAIN, "key rotation in progress");
}

int
cookie_keys_rotate(struct cookie_keys *ck, const char *datadir,
    struct wsd_err *err)
{
	struct stat dirst, st;
	struct cookie_keys old, next;
	unsigned char b[KF_SIZE];
	struct sbuf path;
	int dirfd = -1, rc;
	uint8_t id;

	cookie_keys_init(&old);
	cookie_keys_init(&next);
	if ((rc = kf_path(&path, datadir, true, err)) < 0)
		goto out;
	if ((rc = kf_open_dir(datadir, &dirst, &dirfd, err)) < 0 ||
	    (rc = rotate_lock(dirfd, path.sb_buf, err)) < 0)
		goto out;
	if ((rc = kf_read(dirfd, path.sb_buf, b, &st, err)) < 0) {
		if (rc == WSD_ENOTFOUND)
			log_warnx("%s: no cookie key to rotate", path.sb_buf);
		goto out;
	}
	rc = kf_parse(b, &old, path.sb_buf, err);
	OPENSSL_cleanse(b, sizeof(b));
	if (rc < 0)
		goto out;

	id = old.ck_cur.ckk_id == 255 ? 1 : (uint8_t)(old.ck_cur.ckk_id + 1);
	next.ck_prev = old.ck_cur;
	if ((rc = key_generate(&next.ck_cur, id, err)) < 0)
		goto out;
	next.ck_rotated = (int64_t)time(NULL);
	/* The file keeps its owner, as the directory's would be its owner
	 * at creation. */
	dirst.st_uid = st.st_uid;
	dirst.st_gid = st.st_gid;
	if ((rc = kf_write(dirfd, &dirst, &next, 0, err)) < 0)
		goto out;
	log_info("%s: rotated the cookie key (id %u, previous %u kept)",
	    path.sb_buf, (unsigned)id, (unsigned)next.ck_prev.ckk_id);
	if (ck != NULL) {
		cookie_keys_release(ck);
		*ck = next;
	}
	rc = 0;
out:
	cookie_keys_release(&next);
	cookie_keys_release(&old);
	if (dirfd >= 0)
		close(dirfd); /* drops the lock */
	sbuf_release(&path);
	return rc;
}

/* ---- tokens ---- */

/* The AAD: the fixed label, then the token's three header bytes. */
static void
build_aad(unsigned char *aad, const unsigned char *hdr)
{
	memcpy(aad, aad_label, AAD_LABEL_LEN);
	memcpy(aad + AAD_LABEL_LEN, hdr, TOK_HDR);
}

int
cookie_seal(const struct cookie_keys *ck, const struct cookie *c, char *out,
    size_t outsz, struct wsd_err *err)
{
	unsigned char tok[COOKIE_AUTH_BYTES];
	unsigned char body[COOKIE_AUTH_BYTES];
	unsigned char aad[AAD_LABEL_LEN + TOK_HDR];
	size_t n = tok_bytes(c->co_kind), blen;
	EVP_CIPHER_CTX *ctx = NULL;
	int outl, rc;

	if (outsz > 0)
		out[0] = '\0';
	if (n == 0)
		return wsd_fail(err, WSD_EINVAL, "no such cookie kind");
	if (c->co_issued < 0 || c->co_expires < c->co_issued)
		return wsd_fail(err, WSD_EINVAL, "bad cookie times");
	if (outsz < cookie_b64_len(c->co_kind) + 1)
		return wsd_fail(err, WSD_ETOOBIG, "cookie buffer too small");
	if (ck->ck_cur.ckk_id == 0)
		return wsd_fail(err, WSD_EPERM, "no cookie key loaded");

	blen = n - TOK_OVERHEAD;
	memset(body, 0, blen);
	put32(body, c->co_flags);
	memcpy(body + 4, c->co_computer, 16);
	put32(body + 20, c->co_group_version);
	put32(body + 24, c->co_protocol);
	put64(body + 28, (uint64_t)c->co_issued);
	put64(body + 36, (uint64_t)c->co_expires);
	put64(body + 44, c->co_instance);
	put64(body + 52, c->co_anchor);

	tok[0] = TOK_VERSION;
	tok[1] = ck->ck_cur.ckk_id;
	tok[2] = (unsigned char)c->co_kind;
	build_aad(aad, tok);
	if (RAND_bytes(tok + TOK_HDR, TOK_NONCE) != 1) {
		log_ssl("RAND_bytes");
		rc = wsd_fail(err, WSD_EINTERNAL, "no random bytes");
		goto out;
	}
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
		rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
		goto out;
	}
	/* The default GCM IV length is 12 bytes (TOK_NONCE). */
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, ck->ck_cur.ckk_key,
		tok + TOK_HDR) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)sizeof(aad)) != 1 ||
	    EVP_EncryptUpdate(ctx, tok + TOK_HDR + TOK_NONCE, &outl, body,
		(int)blen) != 1 ||
	    (size_t)outl != blen ||
	    EVP_EncryptFinal_ex(ctx, tok + TOK_HDR + TOK_NONCE + blen, &outl) !=
		1 ||
	    outl != 0 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TOK_TAG,
		tok + n - TOK_TAG) != 1) {
		log_ssl("cookie: AES-256-GCM seal");
		rc = wsd_fail(err, WSD_EINTERNAL, "cannot seal cookie");
		goto out;
	}
	b64_encode(tok, n, out);
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(body, sizeof(body));
	return rc;
}

/*
 * One exit for every invalid cause: the same code and text whatever the
 * cause (S9). WHY goes to the debug log only, never the token.
 */
static int
invalid(struct cookie *out, const char *why, struct wsd_err *err)
{
	memset(out, 0, sizeof(*out));
	log_debug("cookie rejected: %s", why);
	return wsd_fail(err, COOKIE_EINVALID, txt_invalid);
}

int
cookie_open(const struct cookie_keys *ck, const char *b64, size_t len,
    enum cookie_kind expected, time_t now, struct cookie *out,
    struct wsd_err *err)
{
	unsigned char tok[COOKIE_AUTH_BYTES];
	unsigned char body[COOKIE_AUTH_BYTES];
	unsigned char aad[AAD_LABEL_LEN + TOK_HDR];
	const struct cookie_key *key;
	size_t n = tok_bytes(expected), blen;
	EVP_CIPHER_CTX *ctx;
	uint64_t issued, expires;
	int outl, ok;

	memset(out, 0, sizeof(*out));
	if (n == 0) {
		assert(!"cookie_open: no such kind");
		return invalid(out, "no such kind", err);
	}
	/* Size first: nothing longer than a bound is even looked at. */
	if (len > COOKIE_MAX_INPUT)
		return invalid(out, "too long", err);
	if (len != cookie_b64_len(expected))
		return invalid(out, "wrong length", err);
	if (b64_decode_canonical(b64, len, tok, n) < 0)
		return invalid(out, "bad base64", err);
	if (tok[0] != TOK_VERSION)
		return invalid(out, "unknown version", err);
	if (tok[2] != (unsigned char)expected)
		return invalid(out, "wrong kind", err);
	if ((key = key_by_id(ck, tok[1])) == NULL)
		return invalid(out, "unknown key id", err);

	blen = n - TOK_OVERHEAD;
	build_aad(aad, tok);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->ckk_key,
		 tok + TOK_HDR) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int)sizeof(aad)) == 1 &&
	    EVP_DecryptUpdate(ctx, body, &outl, tok + TOK_HDR + TOK_NONCE,
		(int)blen) == 1 &&
	    (size_t)outl == blen &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TOK_TAG,
		tok + n - TOK_TAG) == 1 &&
	    EVP_DecryptFinal_ex(ctx, body + blen, &outl) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		/* A failed tag leaves an error on OpenSSL's queue for some
		 * providers; it is the peer's doing, not ours. */
		ERR_clear_error();
		OPENSSL_cleanse(body, sizeof(body));
		return invalid(out, "bad tag", err);
	}

	/* Authentic from here on; still checked, as a key leak or a bug
	 * in a later version must not turn into odd values. */
	issued = get64(body + 28);
	expires = get64(body + 36);
	ok = issued <= INT64_MAX && expires <= INT64_MAX && issued <= expires;
	for (size_t i = TOK_FIELDS; i < blen; i++)
		ok &= body[i] == 0;
	if (!ok) {
		OPENSSL_cleanse(body, sizeof(body));
		return invalid(out, "bad fields", err);
	}
	out->co_kind = expected;
	out->co_flags = get32(body);
	memcpy(out->co_computer, body + 4, 16);
	out->co_group_version = get32(body + 20);
	out->co_protocol = get32(body + 24);
	out->co_issued = (int64_t)issued;
	out->co_expires = (int64_t)expires;
	out->co_instance = get64(body + 44);
	out->co_anchor = get64(body + 52);
	OPENSSL_cleanse(body, sizeof(body));
	if (out->co_expires < (int64_t)now)
		return wsd_fail(err, COOKIE_EEXPIRED, txt_expired);
	return 0;
}
