/*
 * Cookies: the AuthorizationCookie CookieData (SimpleAuth) and the
 * Cookie EncryptedData (client, reporting) that wsusd issues, as opaque
 * AEAD tokens (issue #5 item 3; SECURITY.md S1, S9; WUSP.md 3.2, 3.3, 5.2).
 *
 * CVE-2025-59287 was WSUS decrypting client-supplied CookieData under a key
 * fixed in the product and handing the plaintext to a deserializer. Here a
 * token is a fixed binary record of plain integers sealed with AES-256-GCM
 * under a random per-install key; nothing in it is ever interpreted before
 * its tag verifies, and nothing is ever deserialized into behaviour. There
 * is no key in the source, no default key and no compatibility mode.
 *
 * Token (big-endian), then padded base64 (RFC 4648, no line breaks):
 *
 *	offset	size	field
 *	0	1	version (1)                     \
 *	1	1	key id (1..255)                  > header, in clear
 *	2	1	kind (enum cookie_kind)         /
 *	3	12	nonce (RAND_bytes, fresh per token)
 *	15	P	ciphertext of the body below
 *	15+P	16	GCM tag
 *
 *	body:	flags u32, computer id 16, group version u32, protocol u32,
 *		issued u64, expires u64, instance u64, anchor u64, then zeros
 *		up to P bytes (60 bytes of fields; P is 193 for a client
 *		cookie, 465 for an authorization cookie)
 *
 * The three header bytes are authenticated as AAD (after the fixed label
 * "wsusd-cookie", which is not sent) but not encrypted: cookie_open must
 * read the key id to choose a key, and version and kind to know the size
 * and layout, before it can decrypt anything; they tell an observer only
 * what the length and the key generation do. Everything else is inside the
 * ciphertext: the computer id and times are nobody's business on the
 * plain-HTTP reporting port, and the client never inspects a cookie
 * (MS-WUSP: server-private), so there is nothing to parse before the tag
 * verifies. Kind in the AAD keeps an authorization cookie from being
 * accepted as a client cookie and back, should their sizes ever coincide.
 *
 * Sizes copy what Windows Server 2025 WSUS sends (vectors scan/000002-4):
 * an authorization cookie is 496 bytes (664 base64 characters, "=="), a
 * client cookie 224 bytes (300 characters, "="); the zero padding after
 * the fields is encrypted like them. Each kind has exactly one length, so
 * anything else is refused before decoding.
 *
 * Nonces are 96 random bits per token. GCM's bound for random nonces is
 * 2^32 tokens per key (NIST SP 800-38D 8.3); at 1,000 new cookies a second
 * that is 49 days, so rotate the key well within that (monthly is ample;
 * a key rotated at every start is fine too, see below).
 *
 * Keys: DATADIR/tls/cookie.key, created at first use from RAND_bytes, mode
 * 0600, owned like DATADIR/tls, O_EXCL|O_NOFOLLOW (common/fileio.h). It
 * holds the current key and at most one previous key, each with a one-byte
 * id. New tokens are sealed with the current key; tokens of either key
 * open. cookie_keys_rotate makes the current key the previous one (the old
 * previous key is wiped) and adds a new current key: tokens issued before
 * one rotation still open (the overlap window: a rotation does not throw
 * every client back to GetAuthorizationCookie at once), tokens older than
 * two rotations are invalid, and every token expires within the cookie
 * lifetime anyway. A key file readable or writable by group or others,
 * not a regular file, a symbolic link, or in a group/other-writable
 * directory is refused with its path in the log (S17).
 *
 * Results of cookie_open: 0; COOKIE_EINVALID with the one text "invalid
 * cookie" for every invalid cause (bad base64, wrong length, unknown
 * version, kind or key id, bad tag, inconsistent fields), so the fault
 * says nothing about which check failed (S9); COOKIE_EEXPIRED, "cookie
 * expired", only for an authentic token whose expiry has passed. The SOAP
 * layer maps COOKIE_EINVALID to InvalidCookie (InvalidAuthorizationCookie
 * for the two authorization kinds) and COOKIE_EEXPIRED to CookieExpired; the
 * client's reaction to each is in WUSP.md 5.1. Whether the computer still
 * exists, matches the request's TargetID, or the instance and group
 * version are current is the caller's check, not this module's.
 *
 * Threads: cookie_seal and cookie_open only read the key ring and may run
 * on any number of threads at once. Loading and rotating write it: build a
 * new ring and swap it in (as a configuration reload does).
 */
#ifndef WSUSD_COOKIE_COOKIE_H
#define WSUSD_COOKIE_COOKIE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/wsd_err.h"

/*
 * Limits. (They belong in common/wsd_limits.h with the others; kept here
 * until that move.)
 *
 * COOKIE_MAX_INPUT: base64 characters cookie_open looks at. Anything longer
 * is refused before a byte is decoded. Our longest token is 664 characters;
 * the CVE-2025-59287 payloads are 4 KiB and more.
 */
#define COOKIE_MAX_INPUT    4096
#define COOKIE_AUTH_BYTES   496 /* as WSUS's CookieData (scan/000002) */
#define COOKIE_CLIENT_BYTES 224 /* as WSUS's EncryptedData (scan/000003) */
/* Buffer for cookie_seal's output: the longer base64 plus its NUL. */
#define COOKIE_B64_BUFSZ (4 * ((COOKIE_AUTH_BYTES + 2) / 3) + 1)

#define COOKIE_KEY_BYTES 32               /* AES-256 */
#define COOKIE_KEY_FILE  "tls/cookie.key" /* relative to the data directory */

enum cookie_kind {
	COOKIE_AUTHORIZATION = 1, /* GetAuthorizationCookie CookieData */
	COOKIE_CLIENT = 2,        /* GetCookie/NewCookie EncryptedData */
	/*
	 * MS-WSUSSS (issue #7), a downstream server (DSS) of ours: the
	 * DssAuthWebService CookieData and the ServerSync Cookie's
	 * EncryptedData. co_computer holds the DSS's ServerID GUID. Windows
	 * WSUS's server-server blobs were never captured, so they take the
	 * sizes of the client kinds (COOKIE_AUTH_BYTES, COOKIE_CLIENT_BYTES);
	 * the kind byte in the AAD keeps each kind from opening as another.
	 */
	COOKIE_DSS_AUTHORIZATION = 3,
	COOKIE_DSS = 4,
};

/* cookie_open results besides 0; see above. Until wsd_err.h has its own
 * code for "authentic but expired", these alias existing codes: compare
 * with these names only, never with the WSD_ codes behind them. */
#define COOKIE_EINVALID WSD_EINVAL
#define COOKIE_EEXPIRED WSD_EPERM

/*
 * What a token carries: plain integers only. This module interprets only
 * co_kind, co_issued and co_expires; the rest is sealed and returned as
 * is, for the layer above.
 */
struct cookie {
	enum cookie_kind co_kind;
	uint32_t co_flags;             /* for the caller; not interpreted */
	unsigned char co_computer[16]; /* SusClientId GUID, 16 bytes */
	uint32_t co_group_version;     /* target-group membership version */
	/* Client protocolVersion, major << 16 | minor (2.90: 0x0002005a). */
	uint32_t co_protocol;
	int64_t co_issued;  /* Unix time; >= 0 */
	int64_t co_expires; /* Unix time; >= co_issued */
	/* Server/database instance, so a reset can answer ServerChanged. */
	uint64_t co_instance;
	/* Highest deployment change already delivered (WUSP.md 4.3). */
	uint64_t co_anchor;
};

struct cookie_key {
	uint8_t ckk_id; /* 1..255; 0: this slot is empty */
	unsigned char ckk_key[COOKIE_KEY_BYTES];
};

/*
 * A key ring, owned by whoever loaded it (the daemon's runtime). Callers
 * read ck_cur.ckk_id and ck_rotated at most; the key bytes never leave
 * this module except to the key file.
 */
struct cookie_keys {
	struct cookie_key ck_cur;  /* seals; empty until loaded */
	struct cookie_key ck_prev; /* opens only; may be empty */
	int64_t ck_rotated;        /* when ck_cur was made, Unix time */
};

/* Empty ring: seals nothing, opens nothing. Never fails or allocates. */
void cookie_keys_init(struct cookie_keys *ck);

/* Wipes the keys (OPENSSL_cleanse); CK is empty afterwards. */
void cookie_keys_release(struct cookie_keys *ck);

/*
 * Loads DATADIR/tls/cookie.key into CK, creating DATADIR/tls (0700) and
 * the file (a new random key, id 1) first if they are missing. CK's old
 * contents are wiped first (it need not have been initialised). Refuses
 * (WSD_EPERM, path and mode in the log) a file with any group or other
 * permission bit, or a group/other-writable DATADIR/tls; WSD_EINVAL for a
 * file that is not a well-formed key file (never replaced by a new key:
 * that would invalidate every cookie); WSD_EIO for system call failures
 * (errno in the log), a symbolic link included. CK is empty on failure.
 */
int cookie_keys_load(struct cookie_keys *ck, const char *datadir,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Rotates the key file of DATADIR: previous := current, current := a new
 * random key with the next id (255 wraps to 1), written atomically (the
 * file keeps its owner, mode 0600). Serialised with other rotations by an
 * flock on DATADIR/tls (WSD_EAGAIN after 5 s of waiting). The file is
 * re-read under the lock, so CK need not be current; on success CK (which
 * may be NULL) is replaced by the new ring, on failure it is unchanged and
 * so is the file. A running wsusd sees the new ring after a reload.
 */
int cookie_keys_rotate(struct cookie_keys *ck, const char *datadir,
    struct wsd_err *err) WSD_MUST_CHECK;

/* Base64 length of a token of KIND (300 for COOKIE_CLIENT and COOKIE_DSS,
 * 664 for the two authorization kinds); 0 for no such kind. */
size_t cookie_b64_len(enum cookie_kind kind);

/*
 * Seals C (co_kind says which kind) under CK's current key into OUT, a
 * NUL-terminated base64 string of cookie_b64_len(C->co_kind) characters;
 * OUTSZ >= COOKIE_B64_BUFSZ always suffices. WSD_EINVAL for a bad kind or
 * times (negative, or expiring before issue), WSD_ETOOBIG if OUT is too
 * small, WSD_EPERM for an empty ring, WSD_ENOMEM or WSD_EINTERNAL if
 * OpenSSL fails. OUT holds "" on failure.
 */
int cookie_seal(const struct cookie_keys *ck, const struct cookie *c, char *out,
    size_t outsz, struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Opens the LEN bytes at B64 (a slice; no NUL needed, and one inside is
 * simply an invalid character) as a token of kind EXPECTED at time NOW.
 * Order: size (> COOKIE_MAX_INPUT, or not exactly cookie_b64_len), strict
 * canonical base64 (no whitespace, no padding inside, unused bits zero),
 * header (version, kind, key id held by CK), GCM tag, then fields.
 * Returns 0 with *OUT filled; COOKIE_EEXPIRED (the token is authentic and
 * *OUT is filled, so the caller may log whose cookie expired) if
 * co_expires < NOW; COOKIE_EINVALID otherwise, *OUT zeroed; WSD_ENOMEM if
 * OpenSSL cannot get a cipher context. Decodes into a bounded stack buffer;
 * the one allocation is OpenSSL's cipher context, freed before return.
 */
int cookie_open(const struct cookie_keys *ck, const char *b64, size_t len,
    enum cookie_kind expected, time_t now, struct cookie *out,
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
