/*
 * Content downloads (agent_download.h): fetch into NAME.part, verify
 * size, SHA-1 and SHA-256 in one streamed pass, rename.
 */
#include "wuagent/agent_download.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/encode.h"

#define VERIFY_CHUNK (64 * 1024)
/* Opening DEST.part again when another process renamed it meanwhile. */
#define PART_OPEN_TRIES 3
#define MAX_PARALLEL    16

int
agent_download_path(const char *state_dir, const struct agent_file *f,
    char *path, size_t size)
{
	char hex[41];
	int n;

	hex_encode_upper(f->sha1, sizeof(f->sha1), hex);
	n = snprintf(path, size, "%s/downloads/%s", state_dir, hex);
	if (n < 0 || (size_t)n >= size)
		return WSD_ETOOBIG;
	return 0;
}

/* mkdir 0700 unless it is there; 0 when PATH is a directory. */
static int
ensure_dir(const char *path, char *msg, size_t msg_size)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		snprintf(msg, msg_size, "%s: cannot create: %s", path,
		    strerror(errno));
		return -1;
	}
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(msg, msg_size, "%s: not a directory", path);
		return -1;
	}
	return 0;
}

/* fsync the directory PATH is in, so a rename there is durable. */
static int
sync_parent(const char *path)
{
	char dir[AGENT_PATH_MAX + 16];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static enum agent_dl_result
digest_fail(char *msg, size_t msg_size, const char *what)
{
	snprintf(msg, msg_size, "%s", what);
	return AGENT_DL_LOCAL;
}

/*
 * The size, SHA-1 and SHA-256 of FD's contents against F's. Reads with
 * pread from 0, so FD's offset does not matter.
 */
static enum agent_dl_result
verify_fd(int fd, const struct agent_file *f, char *msg, size_t msg_size)
{
	unsigned char *buf = NULL, d1[EVP_MAX_MD_SIZE], d2[EVP_MAX_MD_SIZE];
	unsigned int l1 = 0, l2 = 0;
	EVP_MD_CTX *c1 = NULL, *c2 = NULL;
	enum agent_dl_result res = AGENT_DL_LOCAL;
	uint64_t off = 0;
	struct stat st;
	bool bad1, bad2;

	if (!f->has_sha256) {
		snprintf(msg, msg_size,
		    "%s: the metadata gives no SHA-256: refused", f->name);
		return AGENT_DL_MISMATCH;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(msg, msg_size, "%s: cannot stat: %s", f->name,
		    strerror(errno));
		return AGENT_DL_LOCAL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, msg_size, "%s: not a regular file", f->name);
		return AGENT_DL_MISMATCH;
	}
	if ((uint64_t)st.st_size != f->size) {
		snprintf(msg, msg_size,
		    "%s: size mismatch: %" PRIu64
		    " bytes, the metadata says %" PRIu64,
		    f->name, (uint64_t)st.st_size, f->size);
		return AGENT_DL_MISMATCH;
	}
	if ((buf = malloc(VERIFY_CHUNK)) == NULL ||
	    (c1 = EVP_MD_CTX_new()) == NULL ||
	    (c2 = EVP_MD_CTX_new()) == NULL) {
		res = digest_fail(msg, msg_size, "out of memory");
		goto out;
	}
	if (EVP_DigestInit_ex(c1, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestInit_ex(c2, EVP_sha256(), NULL) != 1) {
		res = digest_fail(msg, msg_size, "cannot start SHA-1/SHA-256");
		goto out;
	}
	/* Each pass reads at least one byte or stops: bounded by f->size. */
	while (off < f->size) {
		size_t want = f->size - off < VERIFY_CHUNK
		    ? (size_t)(f->size - off)
		    : VERIFY_CHUNK;
		ssize_t r = pread(fd, buf, want, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(msg, msg_size, "%s: cannot read: %s", f->name,
			    strerror(errno));
			goto out;
		}
		if (r == 0) {
			snprintf(msg, msg_size,
			    "%s: size mismatch: the file ends at %" PRIu64
			    " bytes",
			    f->name, off);
			res = AGENT_DL_MISMATCH;
			goto out;
		}
		if (EVP_DigestUpdate(c1, buf, (size_t)r) != 1 ||
		    EVP_DigestUpdate(c2, buf, (size_t)r) != 1) {
			res =
			    digest_fail(msg, msg_size, "digest update failed");
			goto out;
		}
		off += (uint64_t)r;
	}
	if (EVP_DigestFinal_ex(c1, d1, &l1) != 1 ||
	    EVP_DigestFinal_ex(c2, d2, &l2) != 1 || l1 != 20 || l2 != 32) {
		res = digest_fail(msg, msg_size, "digest final failed");
		goto out;
	}
	bad1 = CRYPTO_memcmp(d1, f->sha1, 20) != 0;
	bad2 = CRYPTO_memcmp(d2, f->sha256, 32) != 0;
	if (bad1 || bad2) {
		char want_hex[65], got_hex[65];

		/* Name the digest; SHA-256 is the stronger, say it first. */
		if (bad2) {
			hex_encode_upper(f->sha256, 32, want_hex);
			hex_encode_upper(d2, 32, got_hex);
		} else {
			hex_encode_upper(f->sha1, 20, want_hex);
			hex_encode_upper(d1, 20, got_hex);
		}
		snprintf(msg, msg_size,
		    "%s: %s mismatch: the metadata says %s, the file has %s",
		    f->name,
		    bad1 && bad2 ? "SHA-256 and SHA-1 digest"
			: bad2   ? "SHA-256 digest"
				 : "SHA-1 digest",
		    want_hex, got_hex);
		res = AGENT_DL_MISMATCH;
		goto out;
	}
	res = AGENT_DL_OK;
out:
	EVP_MD_CTX_free(c1);
	EVP_MD_CTX_free(c2);
	free(buf);
	return res;
}

enum agent_dl_result
agent_verify_file(const char *path, const struct agent_file *f, char *msg,
    size_t msg_size)
{
	enum agent_dl_result res;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) <
	    0) {
		if (errno == ELOOP) {
			snprintf(msg, msg_size, "%s: a symbolic link", path);
			return AGENT_DL_MISMATCH;
		}
		snprintf(msg, msg_size, "%s: cannot open: %s", path,
		    strerror(errno));
		return AGENT_DL_LOCAL;
	}
	res = verify_fd(fd, f, msg, msg_size);
	close(fd);
	return res;
}

/*
 * Opens and locks PART. The lock is only good while PART still names
 * the locked file: a downloader that finished meanwhile renamed it, so
 * after the lock the name is checked and, if it moved, opened again.
 */
static enum agent_dl_result
open_part(const char *part, int *fdp, char *msg, size_t msg_size)
{
	for (int tries = 0; tries < PART_OPEN_TRIES; tries++) {
		struct stat a, b;
		int fd;

		fd =
		    open(part, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			snprintf(msg, msg_size, "%s: cannot open: %s", part,
			    strerror(errno));
			return AGENT_DL_LOCAL;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int busy = errno == EWOULDBLOCK;

			if (busy)
				snprintf(msg, msg_size,
				    "%s: another download of this file is in "
				    "progress",
				    part);
			else
				snprintf(msg, msg_size, "%s: cannot lock: %s",
				    part, strerror(errno));
			close(fd);
			return busy ? AGENT_DL_NETWORK : AGENT_DL_LOCAL;
		}
		if (fstat(fd, &a) == 0 && lstat(part, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			if (!S_ISREG(a.st_mode)) {
				snprintf(msg, msg_size,
				    "%s: not a regular file", part);
				close(fd);
				return AGENT_DL_LOCAL;
			}
			*fdp = fd;
			return AGENT_DL_OK;
		}
		close(fd);
	}
	snprintf(msg, msg_size, "%s: keeps changing under us", part);
	return AGENT_DL_NETWORK;
}

enum agent_dl_result
agent_download_to(struct agent_http *h, const struct agent_file *f,
    const char *dest, uint64_t range_size, char *msg, size_t msg_size)
{
	char part[AGENT_PATH_MAX + 8];
	enum agent_dl_result res;
	struct stat st;
	int fd = -1, n, rc;

	if (!f->has_sha256) {
		snprintf(msg, msg_size,
		    "%s: the metadata gives no SHA-256: refused", f->name);
		return AGENT_DL_MISMATCH;
	}
	n = snprintf(part, sizeof(part), "%s.part", dest);
	if (n < 0 || (size_t)n >= sizeof(part)) {
		snprintf(msg, msg_size, "destination path too long");
		return AGENT_DL_LOCAL;
	}
	if ((res = open_part(part, &fd, msg, msg_size)) != AGENT_DL_OK)
		return res;
	rc = agent_http_fetch_fd(h, f->url, fd, f->size, range_size, msg,
	    msg_size);
	if (rc == WSD_EUNSAT) {
		/* The server's file is not the metadata's: nothing to keep. */
		res = AGENT_DL_MISMATCH;
		goto discard;
	}
	if (rc < 0) {
		res = rc == WSD_EIO ? AGENT_DL_LOCAL : AGENT_DL_NETWORK;
		/* Nothing came (a 404, a refused server): leave no litter. */
		if (fstat(fd, &st) == 0 && st.st_size == 0)
			(void)unlink(part); /* best effort; still locked */
		goto out;
	}
	if ((res = verify_fd(fd, f, msg, msg_size)) == AGENT_DL_MISMATCH)
		goto discard;
	if (res != AGENT_DL_OK)
		goto out;
	if (rename(part, dest) < 0) {
		snprintf(msg, msg_size, "%s: cannot rename to %s: %s", part,
		    dest, strerror(errno));
		res = AGENT_DL_LOCAL;
		goto out;
	}
	if (sync_parent(dest) < 0) {
		snprintf(msg, msg_size, "%s: cannot sync its directory: %s",
		    dest, strerror(errno));
		res = AGENT_DL_LOCAL;
		goto out;
	}
	msg[0] = '\0';
	goto out;
discard:
	/* Still locked: no other downloader is appending to it. */
	if (unlink(part) < 0 && errno != ENOENT) {
		size_t len = strlen(msg);

		snprintf(msg + len, msg_size - len, "; cannot delete %s: %s",
		    part, strerror(errno));
	}
out:
	close(fd);
	return res;
}

enum agent_dl_result
agent_download(struct agent_http *h, const char *state_dir,
    const struct agent_file *f, uint64_t range_size, char *path, char *msg,
    size_t msg_size)
{
	char dir[AGENT_PATH_MAX];
	enum agent_dl_result res;
	int n;

	path[0] = '\0';
	n = snprintf(dir, sizeof(dir), "%s/downloads", state_dir);
	if (n < 0 || (size_t)n >= sizeof(dir) ||
	    agent_download_path(state_dir, f, path, AGENT_PATH_MAX) < 0) {
		snprintf(msg, msg_size, "state directory path too long");
		path[0] = '\0';
		return AGENT_DL_LOCAL;
	}
	if (ensure_dir(state_dir, msg, msg_size) < 0 ||
	    ensure_dir(dir, msg, msg_size) < 0) {
		path[0] = '\0';
		return AGENT_DL_LOCAL;
	}
	/* Already here: used only if it still verifies. */
	res = agent_verify_file(path, f, msg, msg_size);
	if (res == AGENT_DL_OK) {
		msg[0] = '\0';
		return AGENT_DL_OK;
	}
	if (res == AGENT_DL_MISMATCH && unlink(path) < 0 && errno != ENOENT) {
		snprintf(msg, msg_size, "%s: cannot delete a bad file: %s",
		    path, strerror(errno));
		path[0] = '\0';
		return AGENT_DL_LOCAL;
	}
	if ((res = agent_download_to(h, f, path, range_size, msg, msg_size)) !=
	    AGENT_DL_OK)
		path[0] = '\0';
	return res;
}

/* ------------------------------------------------------------ pool */

struct dl_pool {
	const struct agent_config *cf;
	const struct agent_file *files;
	const size_t *todo; /* indices to fetch: first of each SHA-1 */
	size_t ntodo;
	size_t next; /* next TODO slot; guarded by mu */
	pthread_mutex_t mu;
	enum agent_dl_result *results;
	char (*msgs)[AGENT_MSG_MAX];
};

static bool
pool_take(struct dl_pool *p, size_t *i)
{
	bool ok = false;

	pthread_mutex_lock(&p->mu);
	if (p->next < p->ntodo) {
		*i = p->todo[p->next++];
		ok = true;
	}
	pthread_mutex_unlock(&p->mu);
	return ok;
}

static void *
pool_worker(void *arg)
{
	struct dl_pool *p = arg;
	struct agent_http *h = NULL;
	struct wsd_err e = { 0, NULL };
	char path[AGENT_PATH_MAX];
	uint64_t range = p->cf->ranged_downloads ? AGENT_DL_RANGE_SIZE : 0;
	int rc;
	size_t i;

	rc = agent_http_open(p->cf, &h, &e);
	while (pool_take(p, &i)) {
		if (rc < 0) {
			snprintf(p->msgs[i], AGENT_MSG_MAX, "%s: %s",
			    p->files[i].name, e.what);
			p->results[i] = AGENT_DL_LOCAL;
			continue;
		}
		p->results[i] = agent_download(h, p->cf->state_dir,
		    &p->files[i], range, path, p->msgs[i], AGENT_MSG_MAX);
	}
	agent_http_close(h);
	return NULL;
}

size_t
agent_download_all(const struct agent_config *cf,
    const struct agent_file *files, size_t n, unsigned parallel,
    enum agent_dl_result *results, char (*msgs)[AGENT_MSG_MAX])
{
	pthread_t tids[MAX_PARALLEL];
	size_t *todo = NULL, *first = NULL, ntodo = 0, failed = 0;
	unsigned started = 0;
	struct dl_pool p;

	if (n == 0)
		return 0;
	if ((todo = calloc(n, sizeof(*todo))) == NULL ||
	    (first = calloc(n, sizeof(*first))) == NULL) {
		free(todo);
		for (size_t i = 0; i < n; i++) {
			results[i] = AGENT_DL_LOCAL;
			snprintf(msgs[i], AGENT_MSG_MAX, "out of memory");
		}
		return n;
	}
	/* The same SHA-1 twice would race for one .part: fetch it once. */
	for (size_t i = 0; i < n; i++) {
		first[i] = i;
		for (size_t j = 0; j < i; j++)
			if (memcmp(files[i].sha1, files[j].sha1, 20) == 0) {
				first[i] = j;
				break;
			}
		if (first[i] == i)
			todo[ntodo++] = i;
		results[i] = AGENT_DL_LOCAL;
		msgs[i][0] = '\0';
	}
	memset(&p, 0, sizeof(p));
	p.cf = cf;
	p.files = files;
	p.todo = todo;
	p.ntodo = ntodo;
	p.results = results;
	p.msgs = msgs;
	pthread_mutex_init(&p.mu, NULL);
	if (parallel < 1)
		parallel = 1;
	if (parallel > MAX_PARALLEL)
		parallel = MAX_PARALLEL;
	if (parallel > ntodo)
		parallel = (unsigned)ntodo;
	for (unsigned k = 0; k < parallel; k++) {
		if (pthread_create(&tids[k], NULL, pool_worker, &p) != 0)
			break;
		started++;
	}
	if (started == 0)
		pool_worker(&p); /* no thread at all: this one does it */
	for (unsigned k = 0; k < started; k++)
		pthread_join(tids[k], NULL);
	pthread_mutex_destroy(&p.mu);
	for (size_t i = 0; i < n; i++) {
		if (first[i] != i) {
			results[i] = results[first[i]];
			memcpy(msgs[i], msgs[first[i]], AGENT_MSG_MAX);
		}
		if (results[i] != AGENT_DL_OK)
			failed++;
	}
	free(first);
	free(todo);
	return failed;
}
