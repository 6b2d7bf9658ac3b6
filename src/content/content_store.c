#include "content/content_store.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/encode.h"
#include "common/log.h"
#include "common/wsd_limits.h"

/* Largest content file we store (wsd_limits.h says why). */
#define CONTENT_MAX_FILE WSD_MAX_CONTENT_FILE

/* Bytes per read while copying and hashing: four times the HTTP file
 * chunk, so that a multi-GiB file costs tens of thousands of system
 * calls, not millions. From the heap: adds may run on worker threads. */
#define CONTENT_IO_CHUNK (256 * 1024)

/* Seconds without a write after which a temporary file is a crash
 * leftover. Every read of a live add writes, so only a source stalled
 * that long is swept from under its add. */
#define CONTENT_TMP_MAX_AGE 3600

/* Names tried in quarantine/ for one file in one second ("-2" ...). */
#define CONTENT_QUARANTINE_TRIES 100

#define CONTENT_DIR_MODE  0750 /* S17: dirs wsusd:wsusd 0750 */
#define CONTENT_FILE_MODE 0440 /* S14: stored files read-only */

/* Outcomes of comparing a file with its metadata. */
enum verdict { V_OK, V_SIZE, V_SHA1, V_SHA256, V_NOTREG };

static const struct {
	const char *what; /* e.what, exact text callers may compare */
	const char *tag;  /* quarantine file name suffix */
} verdicts[] = {
	[V_OK] = { NULL, NULL },
	[V_SIZE] = { "size mismatch", "size-mismatch" },
	[V_SHA1] = { "SHA-1 digest mismatch", "sha1-mismatch" },
	[V_SHA256] = { "SHA-256 digest mismatch", "sha256-mismatch" },
	[V_NOTREG] = { "not a regular file", "not-regular" },
};

/* The names of one content file. */
struct names {
	char hex[41];                    /* SHA1HEX, upper case */
	char base[CONTENT_REL_PATH_MAX]; /* SHA1HEX[.ext] */
	char rel[CONTENT_REL_PATH_MAX];  /* XX/SHA1HEX[.ext] */
	char xx[3];
	char xx_rel[16]; /* "content/XX", for log lines */
};

/* Directories of one operation; every fd -1 until opened. */
struct cs {
	const char *datadir;
	int data;    /* DATADIR */
	int content; /* DATADIR/content */
	int xx;      /* DATADIR/content/XX */
	int tmp;     /* DATADIR/content/.tmp */
	struct names nm;
};

/*
 * FILENAME's extension in lower case into EXT, or "" when it has none or
 * it is not 1-8 of [A-Za-z0-9] (what http/static_file serves). Only the
 * last component counts, whichever slash separates them.
 */
static void
file_ext(const char *filename, char ext[9])
{
	const char *base, *dot;
	size_t n;

	ext[0] = '\0';
	if (filename == NULL)
		return;
	base = filename;
	for (const char *p = filename; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	if ((dot = strrchr(base, '.')) == NULL)
		return;
	n = strlen(dot + 1);
	if (n < 1 || n > 8)
		return;
	for (size_t i = 0; i < n; i++) {
		char c = dot[1 + i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
			ext[0] = '\0';
			return;
		}
		ext[i] = c;
	}
	ext[n] = '\0';
}

static void
make_names(const struct content_expect *ce, struct names *nm)
{
	char ext[9];

	hex_encode_upper(ce->sha1, sizeof(ce->sha1), nm->hex);
	/* WUSP.md 7: the folder is the last two hex digits. */
	nm->xx[0] = nm->hex[38];
	nm->xx[1] = nm->hex[39];
	nm->xx[2] = '\0';
	file_ext(ce->filename, ext);
	/* At most 40 + 1 + 8 and 3 + 49 bytes: always fits. */
	snprintf(nm->base, sizeof(nm->base), "%s%s%s", nm->hex,
	    ext[0] != '\0' ? "." : "", ext);
	snprintf(nm->rel, sizeof(nm->rel), "%s/%s%s%s", nm->xx, nm->hex,
	    ext[0] != '\0' ? "." : "", ext);
	snprintf(nm->xx_rel, sizeof(nm->xx_rel), "content/%s", nm->xx);
}

int
content_rel_path(const struct content_expect *ce, char *out, size_t n)
{
	struct names nm;
	size_t len;

	make_names(ce, &nm);
	len = strlen(nm.rel);
	if (n < len + 1)
		return WSD_ETOOBIG;
	memcpy(out, nm.rel, len + 1);
	return 0;
}

static void
cs_init(struct cs *cs, const char *datadir, const struct content_expect *ce)
{
	cs->datadir = datadir;
	cs->data = cs->content = cs->xx = cs->tmp = -1;
	make_names(ce, &cs->nm);
}

static void
cs_close(struct cs *cs)
{
	int *fds[] = { &cs->tmp, &cs->xx, &cs->content, &cs->data };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/*
 * Opens directory NAME below PARENT (REL: its path below DATADIR, for the
 * log) without following a symbolic link; with CREATE makes it first when
 * missing, with exactly CONTENT_DIR_MODE whatever the umask, and sets
 * *CREATED (may be NULL). WSD_ENOTFOUND when missing; WSD_EPERM when
 * something else, a link included, is in its place.
 */
static int
open_dir(const struct cs *cs, int parent, const char *name, const char *rel,
    bool create, bool *created, int *fdp, struct wsd_err *err)
{
	bool made = false;
	int fd;

	*fdp = -1;
	if (created != NULL)
		*created = false;
	if (create) {
		if (mkdirat(parent, name, CONTENT_DIR_MODE) == 0) {
			made = true;
		} else if (errno != EEXIST) {
			log_warn("%s/%s", cs->datadir, rel);
			return wsd_fail(err, WSD_EIO,
			    "cannot create directory");
		}
	}
	fd = openat(parent, name,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return wsd_fail(err, WSD_ENOTFOUND,
			    "no such content file");
		if (errno == ELOOP || errno == ENOTDIR) {
			log_warnx("%s/%s: not a directory (a symbolic link?); "
				  "refusing to use it",
			    cs->datadir, rel);
			return wsd_fail(err, WSD_EPERM,
			    "not a directory in the content store");
		}
		log_warn("%s/%s", cs->datadir, rel);
		return wsd_fail(err, WSD_EIO, "cannot open directory");
	}
	/* Only one we made: an existing directory's mode is the
	 * administrator's (and checkhealth's) business. */
	if (made && fchmod(fd, CONTENT_DIR_MODE) < 0)
		log_warn("%s/%s", cs->datadir, rel);
	if (created != NULL)
		*created = made;
	*fdp = fd;
	return 0;
}

/* DATADIR (a link there is the administrator's choice) and content/. */
static int
cs_open(struct cs *cs, bool create, struct wsd_err *err)
{
	cs->data = open(cs->datadir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cs->data < 0) {
		log_warn("%s", cs->datadir);
		return wsd_fail(err, errno == ENOENT ? WSD_ENOTFOUND : WSD_EIO,
		    "cannot open data directory");
	}
	return open_dir(cs, cs->data, "content", "content", create, NULL,
	    &cs->content, err);
}

/* Durability only: by then the rename has happened (as in fileio.c). */
static void
sync_dir(const struct cs *cs, int fd, const char *rel)
{
	if (fsync(fd) < 0)
		log_warn("fsync %s/%s", cs->datadir, rel);
}

struct hasher {
	EVP_MD_CTX *h_sha1;
	EVP_MD_CTX *h_sha256;
};

static void
hasher_free(struct hasher *h)
{
	EVP_MD_CTX_free(h->h_sha1);
	EVP_MD_CTX_free(h->h_sha256);
	h->h_sha1 = h->h_sha256 = NULL;
}

static int
hasher_init(struct hasher *h, struct wsd_err *err)
{
	h->h_sha1 = EVP_MD_CTX_new();
	h->h_sha256 = EVP_MD_CTX_new();
	if (h->h_sha1 == NULL || h->h_sha256 == NULL ||
	    EVP_DigestInit_ex(h->h_sha1, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestInit_ex(h->h_sha256, EVP_sha256(), NULL) != 1) {
		log_ssl("content digest");
		hasher_free(h);
		return wsd_fail(err, WSD_ETLS, "digest failure");
	}
	return 0;
}

static int
write_all(int fd, const unsigned char *p, size_t n, const char *label,
    struct wsd_err *err)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_warn("%s", label);
			return wsd_fail(err, WSD_EIO, "cannot write file");
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Reads SRC to its end, or to MAX + 1 bytes, into OUT's digests and, when
 * DST >= 0, into DST. *OVER says more than MAX bytes came. Every read
 * makes progress or ends the loop, and at most MAX + 1 bytes are read.
 * LABEL names SRC (or DST) in log lines.
 */
static int
pump(int src, int dst, uint64_t max, const char *label,
    struct content_hashes *out, bool *over, struct wsd_err *err)
{
	struct hasher h = { NULL, NULL };
	unsigned char *buf;
	uint64_t total = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	*over = false;
	if ((buf = malloc(CONTENT_IO_CHUNK)) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	if ((rc = hasher_init(&h, err)) < 0) {
		free(buf);
		return rc;
	}
	for (;;) {
		size_t want = CONTENT_IO_CHUNK;
		ssize_t n;

		if (max - total < want)
			want = (size_t)(max - total) + 1;
		n = read(src, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_warn("reading %s", label);
			rc = wsd_fail(err, WSD_EIO, "cannot read file");
			goto done;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(h.h_sha1, buf, (size_t)n) != 1 ||
		    EVP_DigestUpdate(h.h_sha256, buf, (size_t)n) != 1) {
			log_ssl("content digest");
			rc = wsd_fail(err, WSD_ETLS, "digest failure");
			goto done;
		}
		if (dst >= 0 &&
		    (rc = write_all(dst, buf, (size_t)n, label, err)) < 0)
			goto done;
		total += (uint64_t)n;
		if (total > max) {
			*over = true;
			break;
		}
	}
	if (EVP_DigestFinal_ex(h.h_sha1, out->sha1, NULL) != 1 ||
	    EVP_DigestFinal_ex(h.h_sha256, out->sha256, NULL) != 1) {
		log_ssl("content digest");
		rc = wsd_fail(err, WSD_ETLS, "digest failure");
		goto done;
	}
	out->size = total;
	rc = 0;
done:
	free(buf);
	hasher_free(&h);
	return rc;
}

int
content_hash_fd(int fd, uint64_t max, struct content_hashes *out,
    struct wsd_err *err)
{
	bool over;
	int rc;

	if ((rc = pump(fd, -1, max, "file to hash", out, &over, err)) < 0)
		return rc;
	if (over) {
		memset(out, 0, sizeof(*out));
		return wsd_fail(err, WSD_ETOOBIG, "file too large");
	}
	return 0;
}

/* Size first: a wrong size makes both digests wrong and says more. */
static enum verdict
judge(const struct content_expect *ce, const struct content_hashes *got,
    bool over)
{
	if (over || (ce->has_size && got->size != ce->size))
		return V_SIZE;
	if (CRYPTO_memcmp(got->sha1, ce->sha1, sizeof(ce->sha1)) != 0)
		return V_SHA1;
	if (ce->has_sha256 &&
	    CRYPTO_memcmp(got->sha256, ce->sha256, sizeof(ce->sha256)) != 0)
		return V_SHA256;
	return V_OK;
}

static void
log_mismatch(const struct cs *cs, const char *which,
    const struct content_expect *ce, const struct content_hashes *got,
    bool over, enum verdict v)
{
	char want[65], have[65];

	switch (v) {
	case V_SIZE:
		log_warnx("%s for %s: size mismatch: metadata says %llu "
			  "bytes, got %s%llu",
		    which, cs->nm.rel, (unsigned long long)ce->size,
		    over ? "more than " : "",
		    (unsigned long long)(over ? ce->size : got->size));
		break;
	case V_SHA1:
		hex_encode_upper(ce->sha1, sizeof(ce->sha1), want);
		hex_encode_upper(got->sha1, sizeof(got->sha1), have);
		log_warnx("%s for %s: SHA-1 digest mismatch: metadata says "
			  "%s, got %s",
		    which, cs->nm.rel, want, have);
		break;
	case V_SHA256:
		hex_encode_upper(ce->sha256, sizeof(ce->sha256), want);
		hex_encode_upper(got->sha256, sizeof(got->sha256), have);
		log_warnx("%s for %s: SHA-256 digest mismatch: metadata says "
			  "%s, got %s",
		    which, cs->nm.rel, want, have);
		break;
	case V_NOTREG:
		log_warnx("%s for %s: not a regular file", which, cs->nm.rel);
		break;
	case V_OK:
		break;
	}
}

/* Copies FD (from its start) to a new NAME in QFD: content/ is on
 * another file system than DATADIR, so no rename. */
static int
copy_into(int fd, int qfd, const char *name, const char *label,
    struct wsd_err *err)
{
	struct content_hashes unused;
	bool over;
	int nfd, rc;

	if (lseek(fd, 0, SEEK_SET) < 0) {
		log_warn("%s", label);
		return wsd_fail(err, WSD_EIO, "cannot read file");
	}
	nfd = openat(qfd, name,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    CONTENT_FILE_MODE);
	if (nfd < 0) {
		if (errno == EEXIST)
			return wsd_fail(err, WSD_EAGAIN, "name taken");
		log_warn("quarantine/%s", name);
		return wsd_fail(err, WSD_EIO, "cannot create file");
	}
	/* Bounded by what the store itself wrote or a stored file's size;
	 * UINT64_MAX - 1 just keeps pump's arithmetic whole. */
	rc = pump(fd, nfd, UINT64_MAX - 1, label, &unused, &over, err);
	if (rc == 0 && (fchmod(nfd, CONTENT_FILE_MODE) < 0 || fsync(nfd) < 0)) {
		log_warn("quarantine/%s", name);
		rc = wsd_fail(err, WSD_EIO, "cannot write file");
	}
	if (close(nfd) < 0 && rc == 0) {
		log_warn("quarantine/%s", name);
		rc = wsd_fail(err, WSD_EIO, "cannot write file");
	}
	if (rc < 0)
		unlinkat(qfd, name, 0);
	return rc;
}

/*
 * Moves NAME in DIRFD (REL: that directory below DATADIR) to
 * DATADIR/quarantine/ as "<base>.<unix-time>.<tag>", writing the new path
 * into OUT. FD, when >= 0, is open on the file NAME should still be: if
 * someone replaced it meanwhile, the newcomer is left alone. Across file
 * systems FD's bytes are copied. What cannot be moved is deleted, so it is
 * not served; only when that fails too is the result an error.
 */
static int
quarantine(const struct cs *cs, int dirfd, const char *rel, const char *name,
    int fd, enum verdict v, char *out, size_t outn, struct wsd_err *err)
{
	struct stat st, now;
	char qname[CONTENT_REL_PATH_MAX + 64];
	long long t = (long long)time(NULL);
	int qfd, rc;
	bool moved = false;

	out[0] = '\0';
	if (fd >= 0) {
		if (fstat(fd, &st) < 0 ||
		    fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_dev != now.st_dev || st.st_ino != now.st_ino) {
			log_warnx("%s/%s/%s changed while being checked; "
				  "left to the next check",
			    cs->datadir, rel, name);
			return 0;
		}
	}
	if ((rc = open_dir(cs, cs->data, "quarantine", "quarantine", true, NULL,
		 &qfd, err)) < 0)
		goto remove;
	for (int i = 1; i <= CONTENT_QUARANTINE_TRIES && !moved; i++) {
		if (i == 1)
			snprintf(qname, sizeof(qname), "%s.%lld.%s",
			    cs->nm.base, t, verdicts[v].tag);
		else
			snprintf(qname, sizeof(qname), "%s.%lld.%s-%d",
			    cs->nm.base, t, verdicts[v].tag, i);
		if (renameat2(dirfd, name, qfd, qname, RENAME_NOREPLACE) == 0) {
			moved = true;
			break;
		}
		if (errno == EEXIST)
			continue;
		if (errno == EINVAL) {
			/* No RENAME_NOREPLACE on this file system: a
			 * check, then a plain rename (losing evidence at
			 * worst, never following a link). */
			if (fstatat(qfd, qname, &now, AT_SYMLINK_NOFOLLOW) == 0)
				continue;
			if (renameat(dirfd, name, qfd, qname) == 0) {
				moved = true;
				break;
			}
		}
		if (errno == EXDEV && fd >= 0) {
			rc = copy_into(fd, qfd, qname, rel, err);
			if (rc == WSD_EAGAIN)
				continue;
			if (rc == 0 && unlinkat(dirfd, name, 0) < 0) {
				log_warn("%s/%s/%s", cs->datadir, rel, name);
				unlinkat(qfd, qname, 0);
				break;
			}
			moved = rc == 0;
			break;
		}
		log_warn("%s/%s/%s: to quarantine/%s", cs->datadir, rel, name,
		    qname);
		break;
	}
	if (moved) {
		sync_dir(cs, qfd, "quarantine");
		sync_dir(cs, dirfd, rel);
		close(qfd);
		if ((size_t)snprintf(out, outn, "%s/quarantine/%s", cs->datadir,
			qname) >= outn)
			out[0] = '\0';
		log_warnx("%s/%s/%s: quarantined as %s/quarantine/%s",
		    cs->datadir, rel, name, cs->datadir, qname);
		return 0;
	}
	close(qfd);
remove:
	/* Not served is what matters; the evidence is in the log. */
	if (unlinkat(dirfd, name, 0) == 0 ||
	    unlinkat(dirfd, name, AT_REMOVEDIR) == 0) {
		log_warnx("%s/%s/%s: could not be quarantined; deleted",
		    cs->datadir, rel, name);
		sync_dir(cs, dirfd, rel);
		return 0;
	}
	log_warn("%s/%s/%s: cannot quarantine or delete it", cs->datadir, rel,
	    name);
	return wsd_fail(err, WSD_EIO, "cannot quarantine file");
}

/*
 * Judges what is at the content path (CS->xx open): WSD_ENOTFOUND when
 * nothing is there; else 0 with *V, *GOT, and *FDP open on it when it is
 * a regular file (the caller closes it).
 */
static int
hash_stored(const struct cs *cs, const struct content_expect *ce, int *fdp,
    struct content_hashes *got, bool *over, enum verdict *v,
    struct wsd_err *err)
{
	struct stat st;
	int fd, rc;

	*fdp = -1;
	*over = false;
	memset(got, 0, sizeof(*got));
	if (fstatat(cs->xx, cs->nm.base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return wsd_fail(err, WSD_ENOTFOUND,
			    "no such content file");
		log_warn("%s/content/%s", cs->datadir, cs->nm.rel);
		return wsd_fail(err, WSD_EIO, "cannot read file");
	}
	*v = V_NOTREG;
	if (!S_ISREG(st.st_mode))
		return 0;
	/* O_NONBLOCK: should a FIFO take its place now, open returns. */
	fd = openat(cs->xx, cs->nm.base,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return wsd_fail(err, WSD_ENOTFOUND,
			    "no such content file");
		if (errno == ELOOP)
			return 0;
		log_warn("%s/content/%s", cs->datadir, cs->nm.rel);
		return wsd_fail(err, WSD_EIO, "cannot read file");
	}
	if (fstat(fd, &st) < 0) {
		log_warn("%s/content/%s", cs->datadir, cs->nm.rel);
		close(fd);
		return wsd_fail(err, WSD_EIO, "cannot read file");
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	rc = pump(fd, -1, ce->has_size ? ce->size : CONTENT_MAX_FILE,
	    cs->nm.rel, got, over, err);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*v = judge(ce, got, *over);
	*fdp = fd;
	return 0;
}

int
content_store_add_fd(const char *datadir, int srcfd,
    const struct content_expect *ce, struct content_added *out,
    struct wsd_err *err)
{
	struct content_hashes old;
	struct cs cs;
	struct stat st;
	unsigned char rnd[8];
	char rhex[17], tmpname[64];
	uint64_t limit;
	enum verdict v;
	bool over, created = false, tmp_live = false;
	int fd = -1, tmpfd = -1, rc;

	assert(datadir != NULL && ce != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	cs_init(&cs, datadir, ce);
	memcpy(out->rel_path, cs.nm.rel, strlen(cs.nm.rel) + 1);
	if (ce->has_size && ce->size > CONTENT_MAX_FILE) {
		log_warnx("%s: metadata size %llu is over the %llu-byte limit",
		    cs.nm.rel, (unsigned long long)ce->size,
		    (unsigned long long)CONTENT_MAX_FILE);
		return wsd_fail(err, WSD_ETOOBIG, "file too large");
	}
	if (fstat(srcfd, &st) < 0) {
		log_warn("source for %s", cs.nm.rel);
		return wsd_fail(err, WSD_EIO, "cannot read file");
	}
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) &&
	    !S_ISSOCK(st.st_mode)) {
		log_warnx("source for %s: not a file, pipe or socket",
		    cs.nm.rel);
		return wsd_fail(err, WSD_EINVAL, "not a regular file");
	}
	if ((rc = cs_open(&cs, true, err)) < 0)
		goto done;

	/* What is there already: kept if it verifies, else quarantined
	 * now, whatever becomes of the new bytes. */
	rc = open_dir(&cs, cs.content, cs.nm.xx, cs.nm.xx_rel, false, NULL,
	    &cs.xx, err);
	if (rc == WSD_ENOTFOUND)
		rc = 0;
	else if (rc < 0)
		goto done;
	if (cs.xx >= 0) {
		rc = hash_stored(&cs, ce, &fd, &old, &over, &v, err);
		if (rc == 0 && v == V_OK) {
			out->already = true;
			out->hashes = old;
			goto done;
		}
		if (rc == 0) {
			log_mismatch(&cs, "stored file", ce, &old, over, v);
			rc = quarantine(&cs, cs.xx, cs.nm.xx_rel, cs.nm.base,
			    fd, v, out->replaced_path,
			    sizeof(out->replaced_path), err);
			if (rc < 0)
				goto done;
			out->replaced = true;
		} else if (rc != WSD_ENOTFOUND)
			goto done;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}

	/* The new bytes: a private temporary file in .tmp/, whose name
	 * starts with '.' and is no content name. */
	if ((rc = open_dir(&cs, cs.content, ".tmp", "content/.tmp", true, NULL,
		 &cs.tmp, err)) < 0)
		goto done;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		log_ssl("random temporary name");
		rc = wsd_fail(err, WSD_ETLS, "no random bytes");
		goto done;
	}
	hex_encode_upper(rnd, sizeof(rnd), rhex);
	snprintf(tmpname, sizeof(tmpname), ".%s.%s", cs.nm.hex, rhex);
	tmpfd = openat(cs.tmp, tmpname,
	    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (tmpfd < 0) {
		log_warn("%s/content/.tmp/%s", datadir, tmpname);
		rc = wsd_fail(err, WSD_EIO, "cannot create file");
		goto done;
	}
	tmp_live = true;
	limit = ce->has_size ? ce->size : CONTENT_MAX_FILE;
	if ((rc = pump(srcfd, tmpfd, limit, cs.nm.rel, &out->hashes, &over,
		 err)) < 0)
		goto done;
	if (over && !ce->has_size) {
		log_warnx("source for %s: more than %llu bytes", cs.nm.rel,
		    (unsigned long long)CONTENT_MAX_FILE);
		rc = wsd_fail(err, WSD_ETOOBIG, "file too large");
		goto done;
	}
	/* Read-only before it is visible anywhere, then durable. */
	if (fchmod(tmpfd, CONTENT_FILE_MODE) < 0 || fsync(tmpfd) < 0) {
		log_warn("%s/content/.tmp/%s", datadir, tmpname);
		rc = wsd_fail(err, WSD_EIO, "cannot write file");
		goto done;
	}
	if ((v = judge(ce, &out->hashes, over)) != V_OK) {
		log_mismatch(&cs, "new file", ce, &out->hashes, over, v);
		rc = quarantine(&cs, cs.tmp, "content/.tmp", tmpname, tmpfd, v,
		    out->quarantine_path, sizeof(out->quarantine_path), err);
		tmp_live = false; /* moved, or deleted, or reported */
		if (rc == 0)
			rc = wsd_fail(err, WSD_EINVAL, verdicts[v].what);
		goto done;
	}

	if (cs.xx < 0 &&
	    (rc = open_dir(&cs, cs.content, cs.nm.xx, cs.nm.xx_rel, true,
		 &created, &cs.xx, err)) < 0)
		goto done;
	/* rename(2) replaces whatever a concurrent writer put there (a link
	 * too, never following it); both of us verified the same bytes. */
	if (renameat(cs.tmp, tmpname, cs.xx, cs.nm.base) < 0) {
		log_warn("%s/content/%s", datadir, cs.nm.rel);
		rc = wsd_fail(err, WSD_EIO, "cannot install file");
		goto done;
	}
	tmp_live = false;
	sync_dir(&cs, cs.xx, cs.nm.xx_rel);
	if (created)
		sync_dir(&cs, cs.content, "content");
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	if (tmpfd >= 0)
		close(tmpfd);
	if (tmp_live && unlinkat(cs.tmp, tmpname, 0) < 0)
		log_warn("%s/content/.tmp/%s", datadir, tmpname);
	cs_close(&cs);
	return rc;
}

int
content_store_add_path(const char *datadir, const char *path,
    const struct content_expect *ce, struct content_added *out,
    struct wsd_err *err)
{
	struct stat st;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	if (content_rel_path(ce, out->rel_path, sizeof(out->rel_path)) < 0)
		return wsd_fail(err, WSD_EINTERNAL, "content path too long");
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP) {
			log_warnx("%s: a symbolic link; refusing it", path);
			return wsd_fail(err, WSD_EINVAL, "not a regular file");
		}
		log_warn("%s", path);
		return wsd_fail(err, errno == ENOENT ? WSD_ENOTFOUND : WSD_EIO,
		    "cannot open file");
	}
	if (fstat(fd, &st) < 0) {
		log_warn("%s", path);
		rc = wsd_fail(err, WSD_EIO, "cannot read file");
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("%s: not a regular file", path);
		rc = wsd_fail(err, WSD_EINVAL, "not a regular file");
		goto done;
	}
	if ((unsigned long long)st.st_size > CONTENT_MAX_FILE) {
		log_warnx("%s: over the %llu-byte limit", path,
		    (unsigned long long)CONTENT_MAX_FILE);
		rc = wsd_fail(err, WSD_ETOOBIG, "file too large");
		goto done;
	}
	if (fcntl(fd, F_SETFL, 0) < 0) {
		log_warn("%s", path);
		rc = wsd_fail(err, WSD_EIO, "cannot read file");
		goto done;
	}
	rc = content_store_add_fd(datadir, fd, ce, out, err);
done:
	close(fd);
	return rc;
}

int
content_store_verify(const char *datadir, const struct content_expect *ce,
    bool quarantine_it, struct content_verified *out, struct wsd_err *err)
{
	struct cs cs;
	enum verdict v;
	bool over;
	int fd = -1, rc;

	assert(datadir != NULL && ce != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	cs_init(&cs, datadir, ce);
	if ((rc = cs_open(&cs, false, err)) < 0 ||
	    (rc = open_dir(&cs, cs.content, cs.nm.xx, cs.nm.xx_rel, false, NULL,
		 &cs.xx, err)) < 0 ||
	    (rc = hash_stored(&cs, ce, &fd, &out->hashes, &over, &v, err)) < 0)
		goto done;
	if (v == V_OK)
		goto done;
	log_mismatch(&cs, "stored file", ce, &out->hashes, over, v);
	if (quarantine_it &&
	    (rc = quarantine(&cs, cs.xx, cs.nm.xx_rel, cs.nm.base, fd, v,
		 out->quarantine_path, sizeof(out->quarantine_path), err)) < 0)
		goto done;
	rc = wsd_fail(err, WSD_EINVAL, verdicts[v].what);
done:
	if (fd >= 0)
		close(fd);
	cs_close(&cs);
	return rc;
}

int
content_store_remove(const char *datadir, const struct content_expect *ce,
    uint64_t *freed, struct wsd_err *err)
{
	struct cs cs;
	struct stat st;
	int rc;

	assert(datadir != NULL && ce != NULL && freed != NULL);
	*freed = 0;
	cs_init(&cs, datadir, ce);
	if ((rc = cs_open(&cs, false, err)) < 0 ||
	    (rc = open_dir(&cs, cs.content, cs.nm.xx, cs.nm.xx_rel, false, NULL,
		 &cs.xx, err)) < 0)
		goto done;
	if (fstatat(cs.xx, cs.nm.base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT) {
			rc = wsd_fail(err, WSD_ENOTFOUND,
			    "no such content file");
		} else {
			log_warn("%s/content/%s", datadir, cs.nm.rel);
			rc = wsd_fail(err, WSD_EIO, "cannot remove file");
		}
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		log_warnx("%s/content/%s: a directory; not removed", datadir,
		    cs.nm.rel);
		rc = wsd_fail(err, WSD_EPERM, "not a regular file");
		goto done;
	}
	if (unlinkat(cs.xx, cs.nm.base, 0) < 0) {
		if (errno == ENOENT) {
			rc = wsd_fail(err, WSD_ENOTFOUND,
			    "no such content file");
		} else {
			log_warn("%s/content/%s", datadir, cs.nm.rel);
			rc = wsd_fail(err, WSD_EIO, "cannot remove file");
		}
		goto done;
	}
	sync_dir(&cs, cs.xx, cs.nm.xx_rel);
	if (S_ISREG(st.st_mode))
		*freed = (uint64_t)st.st_size;
	rc = 0;
done:
	cs_close(&cs);
	return rc;
}

int
content_store_sweep_tmp(const char *datadir, unsigned *removed,
    struct wsd_err *err)
{
	static const struct content_expect none; /* names unused here */
	struct dirent *de;
	struct cs cs;
	time_t now = time(NULL);
	DIR *d;
	int dfd, rc;
	unsigned n = 0;

	if (removed != NULL)
		*removed = 0;
	cs_init(&cs, datadir, &none);
	if ((rc = cs_open(&cs, false, err)) < 0 ||
	    (rc = open_dir(&cs, cs.content, ".tmp", "content/.tmp", false, NULL,
		 &cs.tmp, err)) < 0) {
		cs_close(&cs);
		return rc == WSD_ENOTFOUND ? 0 : rc;
	}
	/* fdopendir takes its own descriptor; cs.tmp stays for unlinkat. */
	if ((dfd = dup(cs.tmp)) < 0 || (d = fdopendir(dfd)) == NULL) {
		log_warn("%s/content/.tmp", datadir);
		if (dfd >= 0)
			close(dfd);
		cs_close(&cs);
		return wsd_fail(err, WSD_EIO, "cannot open directory");
	}
	/* Ends with the directory; entries added meanwhile are young. */
	while ((errno = 0, de = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(cs.tmp, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    S_ISDIR(st.st_mode) ||
		    now - st.st_mtime < CONTENT_TMP_MAX_AGE)
			continue;
		if (unlinkat(cs.tmp, de->d_name, 0) == 0) {
			log_info("%s/content/.tmp/%s: removed (left by a "
				 "crash)",
			    datadir, de->d_name);
			n++;
		} else if (errno != ENOENT) {
			log_warn("%s/content/.tmp/%s", datadir, de->d_name);
		}
	}
	if (errno != 0) {
		log_warn("%s/content/.tmp", datadir);
		rc = wsd_fail(err, WSD_EIO, "cannot read directory");
	}
	closedir(d);
	if (n > 0)
		sync_dir(&cs, cs.tmp, "content/.tmp");
	cs_close(&cs);
	if (removed != NULL)
		*removed = n;
	return rc;
}
