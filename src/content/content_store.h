/*
 * The verified content store: DATADIR/content/XX/<SHA1HEX>.<ext>, laid out
 * as Windows WSUS lays out WsusContent (WUSP.md 7) so that
 * http/static_file serves it as it is: SHA1HEX the 40 upper-case hex digits
 * of the file's SHA-1, XX its last two, ext the metadata FileName's
 * extension in lower case (none when it is not 1-8 of [A-Za-z0-9]).
 *
 * Owns DATADIR/content/ (the XX directories, the files in them, and .tmp/
 * for files being written) and DATADIR/quarantine/. Nothing else writes
 * there; the HTTP side only reads.
 *
 * Callers may rely on:
 * - A file appears at its content path only whole, fsynced, read-only
 *   (0440) and after its size, SHA-1 and (when the metadata has one)
 *   SHA-256 matched (S14): it is written to content/.tmp/, hashed while
 *   copied, compared with CRYPTO_memcmp, then renamed into place and the
 *   directory fsynced. At every point, kill -9 included, a content path
 *   holds nothing or a verified file; leftovers of a crash stay in .tmp/
 *   under names starting with '.', which the router cannot reach (".tmp"
 *   is not two hex digits), until content_store_sweep_tmp.
 * - Whatever fails verification, be it a new file or one found at a
 *   content path, goes to DATADIR/quarantine/ as
 *   "<SHA1HEX>[.<ext>].<unix-time>.<reason>" (reason: size-mismatch,
 *   sha1-mismatch, sha256-mismatch, not-regular; "-2", "-3"... appended if
 *   that name is taken) and is never served. If it cannot be moved there
 *   it is deleted instead, so that it is not served either.
 * - No symbolic link is followed below DATADIR (S17): directories are
 *   opened relative to their parent's fd with O_NOFOLLOW; a link in place
 *   of content/ or an XX directory is refused (WSD_EPERM), one in place of
 *   a content file is quarantined (the link itself, never its target).
 * - Errors follow wsd_err.h. A verification failure is WSD_EINVAL with
 *   e.what exactly "size mismatch", "SHA-1 digest mismatch" or "SHA-256
 *   digest mismatch" (or "not a regular file" for what is at a content
 *   path). The store logs each mismatch (expected and actual digests,
 *   quarantine path) and each failing system call with its path; the
 *   caller records the event.
 * - Functions keep no state between calls. Concurrent adds of the same
 *   file are safe: each writes its own temporary file and the last rename
 *   wins, both having verified the same bytes.
 */
#ifndef WSUSD_CONTENT_CONTENT_STORE_H
#define WSUSD_CONTENT_CONTENT_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wsd_err.h"

/* "XX/" + 40 hex + "." + 8 + NUL is 53. */
#define CONTENT_REL_PATH_MAX 64

/* What the metadata says about one file. */
struct content_expect {
	unsigned char sha1[20];   /* Digest, decoded */
	unsigned char sha256[32]; /* AdditionalDigest, decoded */
	bool has_sha256;          /* false: SHA-1 only (older metadata) */
	uint64_t size;
	bool has_size;
	const char *filename; /* metadata FileName, for the extension; may
				 be NULL (no extension) */
};

struct content_hashes {
	uint64_t size;
	unsigned char sha1[20];
	unsigned char sha256[32];
};

struct content_added {
	bool already;  /* a verified copy was there; nothing was read */
	bool replaced; /* a bad file was there and went to replaced_path */
	struct content_hashes hashes;        /* of what was read */
	char rel_path[CONTENT_REL_PATH_MAX]; /* "XX/NAME", under content/ */
	char quarantine_path[PATH_MAX];      /* the refused source; "" */
	char replaced_path[PATH_MAX];        /* the bad old file; "" */
};

struct content_verified {
	struct content_hashes hashes;   /* of the stored file */
	char quarantine_path[PATH_MAX]; /* where it went on mismatch; "" */
};

/*
 * Writes "XX/SHA1HEX[.ext]" for CE into OUT (N bytes; CONTENT_REL_PATH_MAX
 * is always enough). Returns 0 or WSD_ETOOBIG.
 */
int content_rel_path(const struct content_expect *ce, char *out,
    size_t n) WSD_MUST_CHECK;

/*
 * Hashes FD from its current offset to its end into OUT. More than MAX
 * bytes is WSD_ETOOBIG ("file too large"); MAX + 1 bytes are read at most.
 */
int content_hash_fd(int fd, uint64_t max, struct content_hashes *out,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Stores what SRCFD reads (a regular file from its offset, a pipe or a
 * socket; not a directory or device) as CE's content file.
 *
 * If a file that verifies is already at the content path, nothing is read
 * and out->already is set. A file there that does not verify is moved to
 * quarantine first (out->replaced, out->replaced_path), whatever comes of
 * the new one.
 *
 * Reads at most CE->size + 1 bytes when CE->has_size (one byte more is a
 * size mismatch, and the quarantined copy holds those bytes only), else
 * at most CONTENT_MAX_FILE (64 GiB, content_store.c; more is WSD_ETOOBIG
 * and nothing is kept). A metadata size over that cap is WSD_ETOOBIG.
 * On a mismatch the new bytes go to quarantine (out->quarantine_path,
 * empty if they could not be moved there and were deleted) and the
 * result is WSD_EINVAL with the mismatch text. Other errors leave nothing
 * new behind. OUT is always written.
 */
int content_store_add_fd(const char *datadir, int srcfd,
    const struct content_expect *ce, struct content_added *out,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * content_store_add_fd on PATH, opened O_NOFOLLOW: a symbolic link, FIFO,
 * directory or device is refused (WSD_EINVAL "not a regular file"), so is
 * a file larger than CONTENT_MAX_FILE (WSD_ETOOBIG); a missing one is
 * WSD_ENOTFOUND.
 */
int content_store_add_path(const char *datadir, const char *path,
    const struct content_expect *ce, struct content_added *out,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Re-hashes CE's stored file (wsusutil reset, checkhealth --content).
 * Returns 0 when it verifies; WSD_ENOTFOUND when it is missing; WSD_EINVAL
 * with the mismatch text when it does not verify (or is not a regular
 * file), and then, if QUARANTINE, it is moved to quarantine
 * (out->quarantine_path) and no longer served. OUT is always written.
 *
 * A concurrent add may replace a bad file between the hashing and the
 * move; the move checks that it takes the file it hashed, which leaves a
 * window of one system call, after which the next verify or add repairs.
 */
int content_store_verify(const char *datadir, const struct content_expect *ce,
    bool quarantine, struct content_verified *out,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Deletes CE's content file (cleanup). *FREED gets its size (0 for a
 * symbolic link). A missing file is WSD_ENOTFOUND with *FREED 0, which
 * cleanup may count as already done.
 */
int content_store_remove(const char *datadir, const struct content_expect *ce,
    uint64_t *freed, struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Deletes files in DATADIR/content/.tmp/ not modified for an hour: what
 * a crash left behind. An add stalled for that long loses its temporary
 * file and fails at the rename. *REMOVED (may be NULL) gets the count.
 */
int content_store_sweep_tmp(const char *datadir, unsigned *removed,
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
