#include "common/fileio.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/log.h"

void
fileio_tmp_init(struct fileio_tmp *ft)
{
	ft->ft_dirfd = AT_FDCWD;
	ft->ft_name = NULL;
	ft->ft_flags = 0;
	sbuf_init(&ft->ft_tmp, PATH_MAX);
}

/*
 * NAME's directory part, slash included ("" for a bare name), then
 * ".BASE.tmp-" and 16 random hex digits: unpredictable, so only a file
 * planted by someone who can write the directory anyway could be in the
 * way, and O_EXCL refuses it.
 */
static int
tmp_name(struct sbuf *sb, const char *name, struct wsd_err *err)
{
	const char *base = strrchr(name, '/');
	unsigned char rnd[8];

	base = base != NULL ? base + 1 : name;
	if (*base == '\0')
		return wsd_fail(err, WSD_EINVAL, "no file name");
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return wsd_fail(err, WSD_ETLS, "no random bytes");
	if (sbuf_add(sb, name, (size_t)(base - name)) < 0 ||
	    sbuf_addf(sb, ".%s.tmp-", base) < 0)
		return wsd_fail(err, WSD_ETOOBIG, "path too long");
	for (size_t i = 0; i < sizeof(rnd); i++)
		if (sbuf_addf(sb, "%02x", rnd[i]) < 0)
			return wsd_fail(err, WSD_ETOOBIG, "path too long");
	return 0;
}

int
fileio_tmp_write(struct fileio_tmp *ft, int dirfd, const char *name,
    const void *data, size_t len, mode_t mode, const struct fileio_owner *owner,
    unsigned flags, struct wsd_err *err)
{
	const char *p = data;
	size_t off = 0;
	int fd, rc;

	assert(ft->ft_tmp.sb_len == 0);
	fileio_tmp_init(ft);
	ft->ft_dirfd = dirfd;
	ft->ft_name = name;
	ft->ft_flags = flags;
	if ((rc = tmp_name(&ft->ft_tmp, name, err)) < 0) {
		sbuf_release(&ft->ft_tmp);
		return rc;
	}
	/* Private (0600) until it has its owner and mode; with FILEIO_UMASK
	 * what open(2) makes of MODE, and no fchmod. */
	fd = openat(dirfd, ft->ft_tmp.sb_buf,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    (flags & FILEIO_UMASK) ? mode : 0600);
	if (fd < 0) {
		log_warn("%s", ft->ft_tmp.sb_buf);
		sbuf_release(&ft->ft_tmp);
		return wsd_fail(err, WSD_EIO, "cannot create file");
	}
	if (owner != NULL && fchown(fd, owner->fo_uid, owner->fo_gid) < 0) {
		if (!owner->fo_best_effort)
			goto fail;
		log_debug("%s: keeps its owner: cannot give it to %lu:%lu: %s",
		    ft->ft_tmp.sb_buf, (unsigned long)owner->fo_uid,
		    (unsigned long)owner->fo_gid, strerror(errno));
	}
	/* Exactly MODE, whatever the umask; after fchown, which may clear
	 * the set-id bits. */
	if (!(flags & FILEIO_UMASK) && fchmod(fd, mode) < 0)
		goto fail;
	while (off < len) {
		ssize_t n = write(fd, p + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	log_warn("%s", ft->ft_tmp.sb_buf);
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, ft->ft_tmp.sb_buf, 0);
	sbuf_release(&ft->ft_tmp);
	return wsd_fail(err, WSD_EIO, "cannot write file");
}

void
fileio_tmp_abort(struct fileio_tmp *ft)
{
	if (ft->ft_tmp.sb_len > 0)
		unlinkat(ft->ft_dirfd, ft->ft_tmp.sb_buf, 0);
	sbuf_release(&ft->ft_tmp);
}

/* Durability only: by now the rename has happened, so a failure is
 * logged and not returned. */
static void
fsync_dir_of(int dirfd, const char *name)
{
	const char *slash = strrchr(name, '/');
	struct sbuf sb;
	int fd;

	if (slash == NULL && dirfd != AT_FDCWD) {
		if (fsync(dirfd) < 0)
			log_warn("fsync directory of %s", name);
		return;
	}
	sbuf_init(&sb, PATH_MAX);
	if (slash == NULL ? sbuf_adds(&sb, ".") < 0
			  : sbuf_add(&sb, name,
				(size_t)(slash == name ? 1 : slash - name)) < 0)
		return;
	fd = openat(dirfd, sb.sb_buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd) < 0)
			log_warn("fsync %s", sb.sb_buf);
		close(fd);
	}
	sbuf_release(&sb);
}

int
fileio_tmp_commit(struct fileio_tmp *ft, struct wsd_err *err)
{
	int dirfd = ft->ft_dirfd;

	assert(ft->ft_tmp.sb_len > 0);
	if (ft->ft_tmp.sb_len == 0)
		return wsd_fail(err, WSD_EINTERNAL, "nothing to install");
	if (ft->ft_flags & FILEIO_NOREPLACE) {
		if (linkat(dirfd, ft->ft_tmp.sb_buf, dirfd, ft->ft_name, 0) < 0)
			goto fail;
		unlinkat(dirfd, ft->ft_tmp.sb_buf, 0);
	} else {
		if (renameat(dirfd, ft->ft_tmp.sb_buf, dirfd, ft->ft_name) < 0)
			goto fail;
	}
	sbuf_release(&ft->ft_tmp);
	fsync_dir_of(dirfd, ft->ft_name);
	return 0;
fail:
	log_warn("%s", ft->ft_name);
	fileio_tmp_abort(ft);
	return wsd_fail(err, WSD_EIO, "cannot install file");
}

int
fileio_write_atomic(int dirfd, const char *name, const void *data, size_t len,
    mode_t mode, const struct fileio_owner *owner, unsigned flags,
    struct wsd_err *err)
{
	struct fileio_tmp ft;
	int rc;

	fileio_tmp_init(&ft);
	if ((rc = fileio_tmp_write(&ft, dirfd, name, data, len, mode, owner,
		 flags, err)) < 0)
		return rc;
	return fileio_tmp_commit(&ft, err);
}

int
fileio_ensure_parent(const char *path, mode_t mode, struct wsd_err *err)
{
	struct sbuf sb;
	struct stat st;
	char *slash;
	int rc = 0;

	sbuf_init(&sb, PATH_MAX);
	if (sbuf_adds(&sb, path) < 0)
		return wsd_fail(err, WSD_ETOOBIG, "path too long");
	slash = strrchr(sb.sb_buf, '/');
	if (slash == NULL || slash == sb.sb_buf) {
		sbuf_release(&sb);
		return 0;
	}
	*slash = '\0';
	if (stat(sb.sb_buf, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			log_warnx("%s: not a directory", sb.sb_buf);
			rc = wsd_fail(err, WSD_EIO, "cannot create directory");
		}
	} else if (errno != ENOENT || mkdir(sb.sb_buf, mode) < 0) {
		if (errno != EEXIST) {
			log_warn("%s", sb.sb_buf);
			rc = wsd_fail(err, WSD_EIO, "cannot create directory");
		}
	}
	sbuf_release(&sb);
	return rc;
}

int
fileio_read_small(const char *path, size_t max, char **out, size_t *outlen,
    struct stat *stp, struct wsd_err *err)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, want = 0;
	ssize_t n;
	int fd, rc = WSD_EIO;
	const char *what = "cannot read file";

	*out = NULL;
	*outlen = 0;
	/* O_NONBLOCK: opening a FIFO must not hang; cleared below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		log_warn("%s", path);
		return wsd_fail(err, WSD_EIO, what);
	}
	if (fstat(fd, &st) < 0) {
		log_warn("%s", path);
		goto fail;
	}
	if (stp != NULL)
		*stp = st;
	if (!S_ISREG(st.st_mode)) {
		log_warnx("%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size < 0 || (unsigned long long)st.st_size > max) {
		log_warnx("%s: larger than %zu bytes", path, max);
		rc = WSD_ETOOBIG;
		what = "file too large";
		goto fail;
	}
	if (fcntl(fd, F_SETFL, 0) < 0) {
		log_warn("%s", path);
		goto fail;
	}
	want = (size_t)st.st_size;
	if ((buf = malloc(want + 1)) == NULL) {
		log_warnx("%s: out of memory", path);
		rc = WSD_ENOMEM;
		what = "out of memory";
		goto fail;
	}
	/* Bounded: at most want + 1 bytes, and read() makes progress. */
	while (len <= want) {
		n = read(fd, buf + len, want + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_warn("%s", path);
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > want) {
		log_warnx("%s: file grew while being read", path);
		rc = WSD_EAGAIN;
		what = "file changed while being read";
		goto fail;
	}
	buf[len] = '\0';
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;
fail:
	if (buf != NULL)
		fileio_free_secret(buf, want + 1);
	close(fd);
	return wsd_fail(err, rc, what);
}

void
fileio_free_secret(char *buf, size_t len)
{
	if (buf == NULL)
		return;
	OPENSSL_cleanse(buf, len);
	free(buf);
}
