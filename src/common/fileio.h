/*
 * Small files written atomically and read with a bound: certificates,
 * keys and wsusd.conf.
 *
 * Writing: the bytes go to a fresh temporary name next to the final one
 * (same directory, so the rename is atomic): ".NAME.tmp-" and 16 random
 * hex digits, created with O_CREAT | O_EXCL | O_NOFOLLOW, so a stale or
 * planted file or symbolic link there is never reused or followed; then
 * owner, mode, every byte, fsync, close; then rename(2) over NAME (which
 * replaces a symbolic link at NAME, never writes through it), or link(2)
 * with FILEIO_NOREPLACE; then the directory is fsynced. Until the commit,
 * NAME is untouched: readers see the old file or the new one, whole. On
 * any failure nothing new is left behind.
 *
 * Files are named by a directory descriptor and a name relative to it, as
 * in openat(2): AT_FDCWD with a path, or an open directory with a bare
 * name. System call failures are logged with the name (log_warn: errno
 * appended) and returned as WSD_EIO with static text ("cannot create
 * file", "cannot write file", "cannot install file"); callers add their
 * own context.
 */
#ifndef WSUSD_COMMON_FILEIO_H
#define WSUSD_COMMON_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/sbuf.h"
#include "common/wsd_err.h"

enum fileio_flags {
	/* The commit fails if NAME exists (link(2) instead of rename(2)). */
	FILEIO_NOREPLACE = 1 << 0,
	/* MODE less the umask, as open(2) does; default: MODE exactly. */
	FILEIO_UMASK = 1 << 1,
};

/* Whom the new file belongs to; giving a file away needs root. */
struct fileio_owner {
	uid_t fo_uid;
	gid_t fo_gid;
	bool fo_best_effort; /* a failing fchown leaves the caller's owner */
};

/*
 * A file written but not yet installed. Empty after fileio_tmp_init (or
 * zero-initialisation), after a commit and after an abort.
 */
struct fileio_tmp {
	int ft_dirfd;        /* borrowed; must stay open until commit/abort */
	const char *ft_name; /* final name, borrowed */
	unsigned ft_flags;   /* enum fileio_flags */
	struct sbuf ft_tmp;  /* temporary name; empty when none */
};

void fileio_tmp_init(struct fileio_tmp *ft);

/*
 * Writes LEN bytes of DATA to a new temporary file for NAME (relative to
 * DIRFD) with MODE (see FILEIO_UMASK), owned by OWNER (NULL: the caller),
 * fsynced and closed. FT must be empty; on failure it stays empty and
 * nothing is left behind. FLAGS also say how fileio_tmp_commit installs
 * it. Returns 0 or a negative wsd_errc.
 */
int fileio_tmp_write(struct fileio_tmp *ft, int dirfd, const char *name,
    const void *data, size_t len, mode_t mode, const struct fileio_owner *owner,
    unsigned flags, struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Moves FT's temporary file to its final name and fsyncs the directory.
 * On failure the temporary file is removed and the final name is as it
 * was. FT is empty afterwards either way.
 */
int fileio_tmp_commit(struct fileio_tmp *ft,
    struct wsd_err *err) WSD_MUST_CHECK;

/* Removes FT's temporary file, if any. Safe on an empty FT. */
void fileio_tmp_abort(struct fileio_tmp *ft);

/* fileio_tmp_write then fileio_tmp_commit: one file, all or nothing. */
int fileio_write_atomic(int dirfd, const char *name, const void *data,
    size_t len, mode_t mode, const struct fileio_owner *owner, unsigned flags,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Creates the directory PATH is in, with MODE, when it is missing (only
 * that one level). Returns 0 when it is, or is now, a directory.
 */
int fileio_ensure_parent(const char *path, mode_t mode,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Reads PATH whole into a new NUL-terminated buffer *OUT of *OUTLEN bytes
 * (caller frees; fileio_free_secret if it may hold a key). Only a regular
 * file of at most MAX bytes; a FIFO does not block the open. ST, when not
 * NULL, gets the fstat of what was opened (*OUTLEN may be less than its
 * st_size if the file shrank meanwhile). Returns 0, WSD_EIO, WSD_ETOOBIG,
 * WSD_ENOMEM, or WSD_EAGAIN when the file grew while being read; all are
 * logged with the path. The buffer is wiped on failure.
 */
int fileio_read_small(const char *path, size_t max, char **out, size_t *outlen,
    struct stat *st, struct wsd_err *err) WSD_MUST_CHECK;

/* Wipes LEN bytes of BUF (OPENSSL_cleanse), then frees it. NULL-safe. */
void fileio_free_secret(char *buf, size_t len);

#endif
