/*
 * wsusutil export PACKAGE LOGFILE [--with-approvals] [--with-content] and
 * wsusutil import PACKAGE LOGFILE: Microsoft's commands for disconnected
 * networks (issue #4 item 7). The package format and every check are in
 * catalog/package.h and docs/PACKAGE.md; this file is the glue to the
 * store, the content store and the log file.
 *
 * Export reads one snapshot (one transaction) and writes the package
 * under a temporary name next to PACKAGE, renamed into place only when
 * whole: a failed export leaves no package behind.
 *
 * Import verifies the whole package (pass 1) before it opens a
 * transaction, then reads it again (pass 2) applying each record inside
 * that one transaction, and commits only when pass 2 verified to the
 * end. Content files are stored (verified) as they arrive; a refusal
 * after that leaves them unreferenced until cleanup --unneeded-content,
 * never a revision pointing at a missing or unverified file. Importing
 * what the catalog already has commits nothing.
 *
 * LOGFILE gets one line per finding and a summary, on refusal too.
 */
#include "wsusutil/wsusutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "catalog/package.h"
#include "common/encode.h"
#include "common/fileio.h"
#include "common/testhook.h"
#include "common/wsd_limits.h"
#include "config/config.h"
#include "content/content_store.h"
#include "store/store.h"

#define ALL_COMPUTERS "a0a08746-4dbe-4a37-9adf-9e7652c0b421"
#define UNASSIGNED    "b73ca6ed-5727-47f3-84de-015e03f6a88a"
/* DATADIR/tls/trusted-exporters: certificates whose packages import
 * accepts (docs/PACKAGE.md, SECURITY.md S24). */
#define TRUST_DIR   "tls/trusted-exporters"
#define MAX_TRUSTED 64

/* ------------------------------------------------------------------ */
/* The log file                                                        */

struct logf {
	FILE *fp;
	const char *cmd;
};

static void logline(struct logf *lf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
logline(struct logf *lf, const char *fmt, ...)
{
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;

	if (lf->fp == NULL)
		return;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* Whole lines: import logs from its worker thread too. */
	flockfile(lf->fp);
	fprintf(lf->fp, "%s %s: ", ts, lf->cmd);
	va_start(ap, fmt);
	vfprintf(lf->fp, fmt, ap);
	va_end(ap);
	fputc('\n', lf->fp);
	fflush(lf->fp);
	funlockfile(lf->fp);
}

static int
log_open(struct logf *lf, const char *cmd, const char *path)
{
	int fd;

	lf->cmd = cmd;
	lf->fp = NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0640);
	if (fd < 0 || (lf->fp = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "wsusutil: %s: cannot open log file %s: %s\n",
		    cmd, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return 0;
}

/* Closes the log; a write error there is a failure of the command. */
static int
log_close(struct logf *lf)
{
	int rc = 0;

	if (lf->fp != NULL && (ferror(lf->fp) || fclose(lf->fp) != 0)) {
		fprintf(stderr, "wsusutil: %s: cannot write the log file\n",
		    lf->cmd);
		rc = -1;
	}
	lf->fp = NULL;
	return rc;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
fingerprint(const unsigned char *der, size_t n, char out[65])
{
	unsigned char d[32];

	EVP_Digest(der, n, d, NULL, EVP_sha256(), NULL);
	hex_encode_upper(d, 32, out);
}

static void
hex_lower(const unsigned char *p, size_t n, char *out)
{
	hex_encode_upper(p, n, out);
	for (; *out; out++)
		if (*out >= 'A' && *out <= 'F')
			*out = (char)(*out + 32);
}

/* ------------------------------------------------------------------ */
/* export                                                              */

struct group_item {
	char id[37];
	char name[STORE_MAX_NAME + 1];
	char parent[STORE_MAX_NAME + 1]; /* name; "" for the root */
};

struct group_list {
	struct group_item *v;
	size_t n, cap;
	bool oom;
};

static int
collect_group(void *arg, const struct store_group_row *g)
{
	struct group_list *gl = arg;

	if (gl->n == gl->cap) {
		size_t cap = gl->cap ? gl->cap * 2 : 16;
		struct group_item *nv = realloc(gl->v, cap * sizeof(*nv));

		if (nv == NULL) {
			gl->oom = true;
			return 1;
		}
		gl->v = nv;
		gl->cap = cap;
	}
	snprintf(gl->v[gl->n].id, sizeof(gl->v[gl->n].id), "%s", g->group_id);
	snprintf(gl->v[gl->n].name, sizeof(gl->v[gl->n].name), "%s", g->name);
	snprintf(gl->v[gl->n].parent, sizeof(gl->v[gl->n].parent), "%s",
	    g->parent);
	gl->n++;
	return 0;
}

static const struct group_item *
group_by_name(const struct group_list *gl, const char *name)
{
	for (size_t i = 0; i < gl->n; i++)
		if (strcasecmp(gl->v[i].name, name) == 0)
			return &gl->v[i];
	return NULL;
}

struct export_ctx {
	struct pkg_writer *w;
	struct wsd_err err;
	int rc;
	const struct group_list *groups;
	struct logf *lf;
};

static int
export_revision(void *arg, const struct store_revision_out *o)
{
	struct export_ctx *x = arg;

	if ((x->rc = pkg_write_revision(x->w, &o->rv, o->declined, &x->err)) <
	    0) {
		logline(x->lf, "REFUSED: update %s revision %d: %s",
		    o->rv.update_id, o->rv.revision_number, x->err.what);
		return 1;
	}
	return 0;
}

static int
export_approval(void *arg, const struct store_approval_row *a)
{
	struct export_ctx *x = arg;
	const struct group_item *g = group_by_name(x->groups, a->group);
	struct pkg_approval pa;

	if (g == NULL) {
		/* Cannot happen inside one snapshot; fail safe. */
		x->rc = wsd_fail(&x->err, WSD_EINTERNAL,
		    "approval names an unknown group");
		return 1;
	}
	pa.update_id = a->update_id;
	pa.group_id = g->id;
	pa.action = a->action;
	pa.deadline = a->deadline[0] ? a->deadline : NULL;
	if ((x->rc = pkg_write_approval(x->w, &pa, &x->err)) < 0) {
		logline(x->lf, "REFUSED: approval of %s for %s: %s",
		    a->update_id, a->group, x->err.what);
		return 1;
	}
	return 0;
}

struct file_item {
	struct pkg_content c;
	char name[256];
	char state[16];
	unsigned refs;
};

struct file_list {
	struct file_item *v;
	size_t n, cap;
	bool oom;
};

static int
collect_file(void *arg, const struct store_file_row *r)
{
	struct file_list *fl = arg;
	struct file_item *it;

	if (r->refs == 0)
		return 0; /* no revision names it: not part of the catalog */
	if (fl->n == fl->cap) {
		size_t cap = fl->cap ? fl->cap * 2 : 256;
		struct file_item *nv = realloc(fl->v, cap * sizeof(*nv));

		if (nv == NULL) {
			fl->oom = true;
			return 1;
		}
		fl->v = nv;
		fl->cap = cap;
	}
	it = &fl->v[fl->n++];
	memset(it, 0, sizeof(*it));
	memcpy(it->c.sha1, r->sha1, 20);
	if (r->sha256 != NULL) {
		memcpy(it->c.sha256, r->sha256, 32);
		it->c.has_sha256 = true;
	}
	it->c.size = r->size;
	snprintf(it->name, sizeof(it->name), "%s",
	    r->file_name ? r->file_name : "");
	snprintf(it->state, sizeof(it->state), "%s", r->state ? r->state : "");
	it->refs = r->refs;
	return 0;
}

/* Opens DATADIR/content/REL ("XX/NAME") one component at a time, never
 * through a symbolic link (S17). -1 with errno on failure. */
static int
open_content(const char *datadir, const char *rel)
{
	char path[PATH_MAX], sub[3] = { rel[0], rel[1], '\0' };
	int cfd, xfd, fd;

	snprintf(path, sizeof(path), "%s/content", datadir);
	if ((cfd = open(path,
		 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	xfd = openat(cfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(cfd);
	if (xfd < 0)
		return -1;
	fd = openat(xfd, rel + 3,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(xfd);
	return fd;
}

/*
 * Every file a revision names and this server has ("present"); files
 * the server does not have are listed in the log and left out, as WSUS
 * leaves out content it never downloaded. A file recorded as present
 * that is missing or does not verify stops the export.
 */
static int
export_content(struct pkg_writer *w, struct store *st, const char *datadir,
    struct logf *lf, unsigned *n_files, uint64_t *bytes, unsigned *n_missing,
    struct wsd_err *err)
{
	struct file_list fl = { 0 };
	int rc = 0;

	if ((rc = store_files_list(st, collect_file, &fl, err)) < 0)
		return rc;
	if (fl.oom) {
		free(fl.v);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < fl.n && rc == 0; i++) {
		struct file_item *it = &fl.v[i];
		struct content_expect ce;
		char rel[CONTENT_REL_PATH_MAX];
		struct stat sb;
		int fd;

		memset(&ce, 0, sizeof(ce));
		memcpy(ce.sha1, it->c.sha1, 20);
		ce.filename = it->name;
		if (content_rel_path(&ce, rel, sizeof(rel)) < 0) {
			rc = wsd_fail(err, WSD_EINTERNAL, "content path");
			break;
		}
		if (strcmp(it->state, "present") != 0) {
			logline(lf,
			    "not included: content/%s (%s): %s on this "
			    "server",
			    rel, it->name, it->state);
			(*n_missing)++;
			continue;
		}
		fd = open_content(datadir, rel);
		if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
		    (uint64_t)sb.st_size != it->c.size) {
			logline(lf,
			    "REFUSED: content/%s (%s) is recorded as "
			    "present but is %s: run wsusutil reset",
			    rel, it->name,
			    fd < 0 ? "missing" : "not its recorded size");
			if (fd >= 0)
				close(fd);
			rc = wsd_fail(err, WSD_EINVAL,
			    "a content file is missing or changed");
			break;
		}
		it->c.name = it->name;
		rc = pkg_write_content(w, &it->c, fd, err);
		close(fd);
		if (rc < 0) {
			logline(lf,
			    "REFUSED: content/%s (%s): %s: run "
			    "wsusutil reset",
			    rel, it->name, err->what);
			break;
		}
		(*n_files)++;
		*bytes += it->c.size;
	}
	free(fl.v);
	return rc;
}

/* The publishing key and certificate, when this server has them. */
static int
load_signer(const char *datadir, EVP_PKEY **key, unsigned char **der,
    int *der_len, struct logf *lf)
{
	char kp[PATH_MAX], cp[PATH_MAX];
	char *kbuf = NULL, *cbuf = NULL;
	size_t klen, clen;
	struct wsd_err err;
	BIO *b = NULL;
	X509 *x = NULL;
	int rc = -1;

	*key = NULL;
	*der = NULL;
	snprintf(kp, sizeof(kp), "%s/tls/publishing.key", datadir);
	snprintf(cp, sizeof(cp), "%s/tls/publishing.crt", datadir);
	if (access(kp, F_OK) != 0 && access(cp, F_OK) != 0) {
		logline(lf,
		    "note: package not signed: this server has no "
		    "publishing certificate (wsusutil publishingcert "
		    "create)");
		return 0;
	}
	if (fileio_read_small(kp, WSD_MAX_PEM_FILE, &kbuf, &klen, NULL, &err) <
		0 ||
	    fileio_read_small(cp, WSD_MAX_PEM_FILE, &cbuf, &clen, NULL, &err) <
		0) {
		logline(lf,
		    "REFUSED: cannot read the publishing certificate "
		    "or key: %s",
		    err.what);
		goto out;
	}
	if ((b = BIO_new_mem_buf(kbuf, (int)klen)) == NULL ||
	    (*key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL) {
		logline(lf, "REFUSED: the publishing key cannot be read");
		goto out;
	}
	BIO_free(b);
	if ((b = BIO_new_mem_buf(cbuf, (int)clen)) == NULL ||
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL ||
	    (*der_len = i2d_X509(x, der)) <= 0 ||
	    X509_check_private_key(x, *key) != 1) {
		logline(lf,
		    "REFUSED: the publishing certificate cannot be "
		    "read or does not match its key");
		goto out;
	}
	rc = 0;
out:
	if (rc < 0) {
		EVP_PKEY_free(*key);
		*key = NULL;
		OPENSSL_free(*der);
		*der = NULL;
	}
	BIO_free(b);
	X509_free(x);
	fileio_free_secret(kbuf, klen);
	free(cbuf);
	return rc;
}

static int
export_usage(void)
{
	fprintf(stderr,
	    "usage: wsusutil export PACKAGE LOGFILE "
	    "[--with-approvals] [--with-content]\n");
	return 2;
}

/* Creates DIR-of-PATH/.BASE.tmp-XXXXXX; TMP gets its name. */
static int
tmp_beside(const char *path, char tmp[PATH_MAX])
{
	char d[PATH_MAX], b[PATH_MAX];
	int n, fd;

	snprintf(d, sizeof(d), "%s", path);
	snprintf(b, sizeof(b), "%s", path);
	n = snprintf(tmp, PATH_MAX, "%s/.%s.tmp-XXXXXX", dirname(d),
	    basename(b));
	if (n < 0 || n >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd >= 0)
		fchmod(fd, 0640);
	return fd;
}

static void
fsync_dir_of(const char *path)
{
	char d[PATH_MAX];
	int fd;

	snprintf(d, sizeof(d), "%s", path);
	if ((fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd); /* best effort: the rename is done */
		close(fd);
	}
}

int
cmd_export(const char *datadir, int argc, char **argv)
{
	static const char CMD[] = "export";
	const char *package = NULL, *logpath = NULL;
	bool approvals = false, content = false, in_tx = false;
	struct group_list gl = { 0 };
	struct export_ctx x = { 0 };
	struct pkg_header hdr = { 0 };
	struct pkg_manifest man = { 0 };
	struct pkg_signer signer;
	struct config *cf = NULL;
	struct store *st = NULL;
	struct pkg_writer *w = NULL;
	struct logf lf;
	struct wsd_err err;
	EVP_PKEY *key = NULL;
	unsigned char *der = NULL;
	int der_len = 0, fd = -1, rc = 1;
	unsigned n_files = 0, n_missing = 0;
	uint64_t content_bytes = 0;
	char tmp[PATH_MAX] = "", created[32], hex[65];
	double t0 = now_s();

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--with-approvals") == 0)
			approvals = true;
		else if (strcmp(argv[i], "--with-content") == 0)
			content = true;
		else if (argv[i][0] == '-')
			return export_usage();
		else if (package == NULL)
			package = argv[i];
		else if (logpath == NULL)
			logpath = argv[i];
		else
			return export_usage();
	}
	if (package == NULL || logpath == NULL)
		return export_usage();
	if (log_open(&lf, CMD, logpath) < 0)
		return 1;
	logline(&lf, "exporting to %s%s%s", package,
	    approvals ? " with approvals" : "", content ? " with content" : "");
	if (config_load(datadir, NULL, &cf, &err) < 0 ||
	    store_open(&st, cf->cf_datadir, &err) < 0) {
		logline(&lf, "REFUSED: %s", err.what);
		wsusutil_fail(CMD, err.what);
		goto out;
	}
	if (load_signer(cf->cf_datadir, &key, &der, &der_len, &lf) < 0) {
		wsusutil_fail(CMD,
		    "cannot use the publishing certificate to "
		    "sign the package");
		goto out;
	}
	/* One snapshot: nothing changes between the first and last row. */
	if (store_begin(st, &err) < 0) {
		logline(&lf, "REFUSED: %s", err.what);
		wsusutil_fail(CMD, err.what);
		goto out;
	}
	in_tx = true;
	if ((fd = tmp_beside(package, tmp)) < 0) {
		tmp[0] = '\0';
		logline(&lf,
		    "REFUSED: cannot create the package next to %s: %s",
		    package, strerror(errno));
		wsusutil_fail(CMD, "cannot create the package");
		goto out;
	}
	{
		time_t t = time(NULL);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	hdr.created = created;
	hdr.exporter = cf->cf_server_name ? cf->cf_server_name : "";
	hdr.approvals = approvals;
	hdr.content = content;
	if (pkg_writer_open(&w, fd, &hdr, &err) < 0)
		goto fail;
	x.w = w;
	x.lf = &lf;
	x.groups = &gl;
	if (approvals) {
		if (store_groups_list(st, collect_group, &gl, &err) < 0)
			goto fail;
		if (gl.oom) {
			err = (struct wsd_err){ WSD_ENOMEM, "out of memory" };
			goto fail;
		}
		for (size_t i = 0; i < gl.n; i++) {
			const struct group_item *p = gl.v[i].parent[0]
			    ? group_by_name(&gl, gl.v[i].parent)
			    : NULL;
			struct pkg_group g = { gl.v[i].id, gl.v[i].name,
				p ? p->id : NULL };

			if (pkg_write_group(w, &g, &err) < 0) {
				logline(&lf, "REFUSED: group %s: %s",
				    gl.v[i].name, err.what);
				goto fail;
			}
		}
	}
	if (store_revisions_each(st, false, export_revision, &x, &err) < 0)
		goto fail;
	if (x.rc < 0) {
		err = x.err;
		goto fail;
	}
	if (approvals) {
		if (store_approvals_list(st, NULL, export_approval, &x, &err) <
		    0)
			goto fail;
		if (x.rc < 0) {
			err = x.err;
			goto fail;
		}
	}
	if (content &&
	    export_content(w, st, cf->cf_datadir, &lf, &n_files, &content_bytes,
		&n_missing, &err) < 0)
		goto fail;
	store_rollback(st); /* read only: end the snapshot */
	in_tx = false;
	signer = (struct pkg_signer){ key, der, (size_t)der_len };
	if (pkg_writer_finish(w, key ? &signer : NULL, &man, &err) < 0)
		goto fail;
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		err = (struct wsd_err){ WSD_EIO, "cannot write the package" };
		goto fail;
	}
	fd = -1;
	if (rename(tmp, package) < 0) {
		logline(&lf, "REFUSED: cannot rename %s to %s: %s", tmp,
		    package, strerror(errno));
		err = (struct wsd_err){ WSD_EIO, "cannot write the package" };
		goto fail;
	}
	tmp[0] = '\0';
	fsync_dir_of(package);
	hex_lower(man.sha256, 32, hex);
	if (n_missing > 0)
		logline(&lf,
		    "%u content files not included (not on this "
		    "server); the importing server lists them as "
		    "missing",
		    n_missing);
	logline(&lf,
	    "manifest: %llu updates, %llu revisions, %llu groups, "
	    "%llu approvals, %llu content files (%llu bytes); "
	    "document %llu bytes, SHA-256 %s",
	    (unsigned long long)man.updates, (unsigned long long)man.revisions,
	    (unsigned long long)man.groups, (unsigned long long)man.approvals,
	    (unsigned long long)man.contents, (unsigned long long)content_bytes,
	    (unsigned long long)man.bytes, hex);
	if (key != NULL) {
		fingerprint(der, (size_t)der_len, hex);
		logline(&lf,
		    "signed with the publishing certificate, SHA-256 "
		    "fingerprint %s",
		    hex);
	}
	logline(&lf,
	    "export complete: %s, %llu bytes (%llu decompressed), "
	    "%.2f s",
	    package, (unsigned long long)man.compressed,
	    (unsigned long long)man.decompressed, now_s() - t0);
	printf("exported %llu updates (%llu revisions), %llu approvals, "
	       "%llu content files to %s\n",
	    (unsigned long long)man.updates, (unsigned long long)man.revisions,
	    (unsigned long long)man.approvals, (unsigned long long)man.contents,
	    package);
	rc = 0;
	goto out;
fail:
	logline(&lf, "REFUSED: %s; no package written", err.what);
	wsusutil_fail(CMD, err.what);
	rc = 1;
out:
	pkg_writer_free(w);
	pkg_manifest_release(&man);
	if (fd >= 0)
		close(fd);
	if (tmp[0] != '\0')
		unlink(tmp);
	if (in_tx)
		store_rollback(st);
	store_close(st);
	config_free(cf);
	EVP_PKEY_free(key);
	OPENSSL_free(der);
	free(gl.v);
	if (log_close(&lf) < 0)
		rc = 1;
	return rc;
}

/* ------------------------------------------------------------------ */
/* import                                                              */

struct gmap {
	char pkg[37];
	char tgt[37];
};

struct eappr {
	char key[75]; /* update id, '/', target group id */
	char action[16];
	char deadline[40];
};

struct efile {
	unsigned char sha1[20];
	bool present;
};

struct imp {
	struct store *st;
	const char *datadir;
	struct logf *lf;
	struct group_list tg; /* the target's groups */
	struct gmap *gm;
	size_t n_gm, gm_cap;
	struct eappr *ea;
	size_t n_ea, ea_cap;
	struct efile *ef;
	size_t n_ef, ef_cap;
	bool oom;
	unsigned rev_new, rev_same, declined, groups_added, groups_same;
	unsigned appr_set, appr_same, appr_skipped;
	unsigned content_stored, content_same, states_set;
	bool changed;
};

/* bsearch that takes an empty (possibly NULL) array. */
static void *
bfind(const void *key, const void *base, size_t n, size_t size,
    int (*cmp)(const void *, const void *))
{
	return n == 0 ? NULL : bsearch(key, base, n, size, cmp);
}

static int
cmp_eappr(const void *a, const void *b)
{
	return strcmp(((const struct eappr *)a)->key,
	    ((const struct eappr *)b)->key);
}

static int
cmp_efile(const void *a, const void *b)
{
	return memcmp(((const struct efile *)a)->sha1,
	    ((const struct efile *)b)->sha1, 20);
}

static int
collect_eappr(void *arg, const struct store_approval_row *a)
{
	struct imp *im = arg;
	const struct group_item *g = group_by_name(&im->tg, a->group);
	struct eappr *e;

	if (g == NULL)
		return 0;
	if (im->n_ea == im->ea_cap) {
		size_t cap = im->ea_cap ? im->ea_cap * 2 : 64;
		struct eappr *nv = realloc(im->ea, cap * sizeof(*nv));

		if (nv == NULL) {
			im->oom = true;
			return 1;
		}
		im->ea = nv;
		im->ea_cap = cap;
	}
	e = &im->ea[im->n_ea++];
	snprintf(e->key, sizeof(e->key), "%.36s/%.36s", a->update_id, g->id);
	snprintf(e->action, sizeof(e->action), "%s", a->action);
	snprintf(e->deadline, sizeof(e->deadline), "%s", a->deadline);
	return 0;
}

static int
collect_efile(void *arg, const struct store_file_row *r)
{
	struct imp *im = arg;

	if (im->n_ef == im->ef_cap) {
		size_t cap = im->ef_cap ? im->ef_cap * 2 : 256;
		struct efile *nv = realloc(im->ef, cap * sizeof(*nv));

		if (nv == NULL) {
			im->oom = true;
			return 1;
		}
		im->ef = nv;
		im->ef_cap = cap;
	}
	memcpy(im->ef[im->n_ef].sha1, r->sha1, 20);
	im->ef[im->n_ef].present = r->state && strcmp(r->state, "present") == 0;
	im->n_ef++;
	return 0;
}

static const char *
gmap_find(const struct imp *im, const char *pkg_id)
{
	for (size_t i = 0; i < im->n_gm; i++)
		if (strcmp(im->gm[i].pkg, pkg_id) == 0)
			return im->gm[i].tgt;
	return NULL;
}

static int
gmap_add(struct imp *im, const char *pkg, const char *tgt, struct wsd_err *err)
{
	if (im->n_gm == im->gm_cap) {
		size_t cap = im->gm_cap ? im->gm_cap * 2 : 16;
		struct gmap *nv = realloc(im->gm, cap * sizeof(*nv));

		if (nv == NULL)
			return wsd_fail(err, WSD_ENOMEM, "out of memory");
		im->gm = nv;
		im->gm_cap = cap;
	}
	snprintf(im->gm[im->n_gm].pkg, 37, "%s", pkg);
	snprintf(im->gm[im->n_gm].tgt, 37, "%s", tgt);
	im->n_gm++;
	return 0;
}

/* ---- applying records (worker thread; the only one using the store) */

static int
apply_group(struct imp *im, const struct pkg_group *g, struct wsd_err *err)
{
	const struct group_item *t = NULL;
	char out_id[37];
	int rc;

	/* The built-in groups have the same GUIDs everywhere. */
	if (strcmp(g->id, ALL_COMPUTERS) == 0 || strcmp(g->id, UNASSIGNED) == 0)
		return gmap_add(im, g->id, g->id, err);
	t = group_by_name(&im->tg, g->name);
	if (t != NULL) {
		const char *want = g->parent ? gmap_find(im, g->parent) : NULL;
		const struct group_item *tp =
		    t->parent[0] ? group_by_name(&im->tg, t->parent) : NULL;

		if (want != NULL && (tp == NULL || strcmp(tp->id, want) != 0))
			logline(im->lf,
			    "note: group \"%s\" exists here under "
			    "\"%s\"; its place in the tree is kept",
			    t->name, t->parent);
		im->groups_same++;
		return gmap_add(im, g->id, t->id, err);
	}
	if ((rc = store_group_add(im->st, g->name,
		 g->parent ? gmap_find(im, g->parent) : NULL, out_id, err)) < 0)
		return rc;
	if (im->tg.n == im->tg.cap) {
		size_t cap = im->tg.cap ? im->tg.cap * 2 : 16;
		struct group_item *nv = realloc(im->tg.v, cap * sizeof(*nv));

		if (nv == NULL)
			return wsd_fail(err, WSD_ENOMEM, "out of memory");
		im->tg.v = nv;
		im->tg.cap = cap;
	}
	{
		struct group_item *n = &im->tg.v[im->tg.n++];
		const char *pid = g->parent ? gmap_find(im, g->parent) : NULL;
		const struct group_item *p = NULL;

		for (size_t i = 0; pid && i + 1 < im->tg.n; i++)
			if (strcmp(im->tg.v[i].id, pid) == 0)
				p = &im->tg.v[i];
		snprintf(n->id, sizeof(n->id), "%s", out_id);
		snprintf(n->name, sizeof(n->name), "%s", g->name);
		snprintf(n->parent, sizeof(n->parent), "%s", p ? p->name : "");
	}
	logline(im->lf, "group added: \"%s\"", g->name);
	im->groups_added++;
	im->changed = true;
	return gmap_add(im, g->id, out_id, err);
}

static int
apply_revision(struct imp *im, const struct store_revision_in *rv,
    struct wsd_err *err)
{
	struct store_revision_in in = *rv;
	int64_t rid;
	bool existed;
	int rc;

	in.origin = "import";
	if ((rc = store_revision_put(im->st, &in, &rid, &existed, err)) < 0)
		return rc;
	if (existed) {
		im->rev_same++;
	} else {
		im->rev_new++;
		im->changed = true;
	}
	return 0;
}

static int
declined_cb(void *arg, const struct store_revision_out *o)
{
	*(bool *)arg = o->declined;
	return 0;
}

static int
apply_update_end(struct imp *im, const char *update_id, bool declined,
    struct wsd_err *err)
{
	bool here = false;
	int rc;

	if (!declined)
		return 0; /* a local decline is the administrator's to undo */
	if ((rc = store_revision_latest(im->st, update_id, declined_cb, &here,
		 err)) < 0)
		return rc;
	if (here)
		return 0;
	if ((rc = store_update_decline(im->st, update_id, err)) < 0)
		return rc;
	logline(im->lf, "declined: %s (declined in the package)", update_id);
	im->declined++;
	im->changed = true;
	return 0;
}

static int
apply_approval(struct imp *im, const struct pkg_approval *a,
    struct wsd_err *err)
{
	const char *g = gmap_find(im, a->group_id);
	struct eappr key, *e;
	struct wsd_err aerr;
	int rc;

	if (g == NULL)
		return wsd_fail(err, WSD_EINTERNAL, "group not mapped");
	snprintf(key.key, sizeof(key.key), "%.36s/%.36s", a->update_id, g);
	e = bfind(&key, im->ea, im->n_ea, sizeof(*im->ea), cmp_eappr);
	if (e != NULL && strcmp(e->action, a->action) == 0 &&
	    strcmp(e->deadline, a->deadline ? a->deadline : "") == 0) {
		im->appr_same++;
		return 0;
	}
	rc = store_approval_set(im->st, a->update_id, g, a->action, a->deadline,
	    "import", &aerr);
	if (rc == WSD_EINVAL && strcmp(aerr.what, "update is declined") == 0) {
		/* Local state (a declined update) wins over the package. */
		logline(im->lf, "approval skipped: %s for group %s: %s",
		    a->update_id, g, aerr.what);
		im->appr_skipped++;
		return 0;
	}
	if (rc < 0) {
		*err = aerr;
		return rc;
	}
	im->appr_set++;
	im->changed = true;
	return 0;
}

/* Stores the verified bytes in FD (closed here) as C's content file. */
static int
apply_content(struct imp *im, const struct pkg_content *c, int fd,
    struct wsd_err *err)
{
	struct content_expect ce;
	struct content_added added;
	struct efile key, *e;
	int rc;

	memset(&ce, 0, sizeof(ce));
	memcpy(ce.sha1, c->sha1, 20);
	memcpy(ce.sha256, c->sha256, 32);
	ce.has_sha256 = c->has_sha256;
	ce.size = c->size;
	ce.has_size = true;
	ce.filename = c->name;
	if (lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return wsd_fail(err, WSD_EIO, "cannot read a temporary file");
	}
	rc = content_store_add_fd(im->datadir, fd, &ce, &added, err);
	close(fd);
	if (rc < 0)
		return rc;
	if (added.already) {
		im->content_same++;
	} else {
		im->content_stored++;
		im->changed = true;
	}
	memcpy(key.sha1, c->sha1, 20);
	e = bfind(&key, im->ef, im->n_ef, sizeof(*im->ef), cmp_efile);
	if (e != NULL && e->present)
		return 0;
	if ((rc = store_file_set_state(im->st, c->sha1, "present", err)) < 0)
		return rc;
	im->states_set++;
	im->changed = true;
	return 0;
}

/* ---- the queue between the reader and the worker */

enum job_kind { J_GROUP, J_REVISION, J_UPDATE_END, J_APPROVAL, J_CONTENT };

struct job {
	struct job *next;
	enum job_kind kind;
	size_t cost;
	int fd; /* J_CONTENT: the verified bytes */
	bool declined;
	struct store_revision_in rv;
	struct pkg_group g;
	struct pkg_approval a;
	struct pkg_content c;
	char id[37];
	_Alignas(max_align_t) char data[]; /* strings and arrays of the above */
};

/* Copies into DATA at *OFF (or only counts when DATA is NULL). */
static void *
jb_put(char *data, size_t *off, const void *src, size_t n)
{
	void *p = NULL;

	*off = (*off + 15) & ~(size_t)15;
	if (data != NULL) {
		p = data + *off;
		if (src != NULL)
			memcpy(p, src, n);
	}
	*off += n;
	return p;
}

static const char *
jb_str(char *data, size_t *off, const char *s)
{
	return s == NULL ? NULL : jb_put(data, off, s, strlen(s) + 1);
}

/* A deep copy of RV into DATA (NULL: counts the bytes into *OFF). */
static void
jb_revision(char *data, size_t *off, const struct store_revision_in *rv,
    struct store_revision_in *out)
{
	struct store_localized *l;
	struct store_file *f;
	struct store_prereq *p;
	struct store_bundle_member *b;
	const char **cats, **sup;

	if (data != NULL)
		*out = *rv;
#define S(field)                                                               \
	(data ? (out->field = jb_str(data, off, rv->field))                    \
	      : jb_str(data, off, rv->field))
	S(update_id);
	S(update_type);
	S(category_type);
	S(origin);
	S(kb_article);
	S(msrc_severity);
	S(eula_id);
	S(title);
#undef S
	{
		const char *c =
		    jb_put(data, off, rv->xml_core, rv->xml_core_len);
		const char *e = rv->xml_extended
		    ? jb_put(data, off, rv->xml_extended, rv->xml_extended_len)
		    : NULL;

		if (data != NULL) {
			out->xml_core = c;
			out->xml_extended = e;
		}
	}
	l = jb_put(data, off, rv->localized,
	    rv->n_localized * sizeof(*rv->localized));
	for (unsigned i = 0; i < rv->n_localized; i++) {
		const char *lang = jb_str(data, off, rv->localized[i].language);
		const char *title = jb_str(data, off, rv->localized[i].title);
		const char *xml = jb_put(data, off, rv->localized[i].xml,
		    rv->localized[i].xml_len);

		if (data != NULL) {
			l[i].language = lang;
			l[i].title = title;
			l[i].xml = xml;
		}
	}
	f = jb_put(data, off, rv->files, rv->n_files * sizeof(*rv->files));
	for (unsigned i = 0; i < rv->n_files; i++) {
		const char *n = jb_str(data, off, rv->files[i].file_name);
		const char *m = jb_str(data, off, rv->files[i].modified);
		const char *pt = jb_str(data, off, rv->files[i].patching_type);

		if (data != NULL) {
			f[i].file_name = n;
			f[i].modified = m;
			f[i].patching_type = pt;
		}
	}
	cats = jb_put(data, off, NULL, rv->n_categories * sizeof(*cats));
	for (unsigned i = 0; i < rv->n_categories; i++) {
		const char *c = jb_str(data, off, rv->categories[i]);

		if (data != NULL)
			cats[i] = c;
	}
	p = jb_put(data, off, rv->prereqs, rv->n_prereqs * sizeof(*p));
	for (unsigned i = 0; i < rv->n_prereqs; i++) {
		const char *u = jb_str(data, off, rv->prereqs[i].update_id);

		if (data != NULL)
			p[i].update_id = u;
	}
	b = jb_put(data, off, rv->bundle, rv->n_bundle * sizeof(*b));
	for (unsigned i = 0; i < rv->n_bundle; i++) {
		const char *u = jb_str(data, off, rv->bundle[i].update_id);

		if (data != NULL)
			b[i].update_id = u;
	}
	sup = jb_put(data, off, NULL, rv->n_supersedes * sizeof(*sup));
	for (unsigned i = 0; i < rv->n_supersedes; i++) {
		const char *u = jb_str(data, off, rv->supersedes[i]);

		if (data != NULL)
			sup[i] = u;
	}
	if (data != NULL) {
		out->localized = l;
		out->files = f;
		out->categories = cats;
		out->prereqs = p;
		out->bundle = b;
		out->supersedes = sup;
	}
}

/* Queued records at most, in bytes: bounds memory when the worker lags. */
#define QUEUE_MAX_BYTES (64UL << 20)

struct pipeline {
	struct imp *im;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* anything changed */
	struct job *head, *tail;
	size_t bytes;
	bool end;    /* no more jobs */
	bool abort;  /* the reader failed: drop what is queued */
	bool failed; /* the worker failed: the reader stops */
	struct wsd_err err;
	char detail[512];
	int cfd; /* reader side: content being received */
};

static void
job_free(struct job *j)
{
	if (j->kind == J_CONTENT && j->fd >= 0)
		close(j->fd);
	free(j);
}

static int
job_run(struct imp *im, struct job *j, char *detail, size_t n,
    struct wsd_err *err)
{
	int rc;

	switch (j->kind) {
	case J_GROUP:
		snprintf(detail, n, "group \"%s\"", j->g.name);
		return apply_group(im, &j->g, err);
	case J_REVISION:
		snprintf(detail, n, "update %s revision %d", j->rv.update_id,
		    j->rv.revision_number);
		return apply_revision(im, &j->rv, err);
	case J_UPDATE_END:
		snprintf(detail, n, "update %s", j->id);
		return apply_update_end(im, j->id, j->declined, err);
	case J_APPROVAL:
		snprintf(detail, n, "approval of %s for group %s",
		    j->a.update_id, j->a.group_id);
		return apply_approval(im, &j->a, err);
	case J_CONTENT: {
		char hex[41];

		hex_encode_upper(j->c.sha1, 20, hex);
		snprintf(detail, n, "content %s (%s)", hex, j->c.name);
		rc = apply_content(im, &j->c, j->fd, err);
		j->fd = -1;
		return rc;
	}
	}
	return wsd_fail(err, WSD_EINTERNAL, "unknown job");
}

static void *
worker(void *arg)
{
	struct pipeline *pl = arg;

	for (;;) {
		struct job *j;
		struct wsd_err err;
		char detail[512];
		int rc = 0;

		pthread_mutex_lock(&pl->mu);
		while (pl->head == NULL && !pl->end)
			pthread_cond_wait(&pl->cv, &pl->mu);
		j = pl->head;
		if (j == NULL) { /* end and empty */
			pthread_mutex_unlock(&pl->mu);
			return NULL;
		}
		pl->head = j->next;
		if (pl->head == NULL)
			pl->tail = NULL;
		pl->bytes -= j->cost;
		if (pl->abort || pl->failed) {
			pthread_cond_broadcast(&pl->cv);
			pthread_mutex_unlock(&pl->mu);
			job_free(j);
			continue;
		}
		pthread_cond_broadcast(&pl->cv);
		pthread_mutex_unlock(&pl->mu);
		rc = job_run(pl->im, j, detail, sizeof(detail), &err);
		job_free(j);
		if (rc < 0) {
			pthread_mutex_lock(&pl->mu);
			pl->failed = true;
			pl->err = err;
			snprintf(pl->detail, sizeof(pl->detail), "%s", detail);
			pthread_cond_broadcast(&pl->cv);
			pthread_mutex_unlock(&pl->mu);
		}
	}
}

/* Queues J (owned by the queue from here); fails once the worker did. */
static int
q_push(struct pipeline *pl, struct job *j, struct wsd_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&pl->mu);
	while (!pl->failed && pl->head != NULL &&
	    pl->bytes + j->cost > QUEUE_MAX_BYTES)
		pthread_cond_wait(&pl->cv, &pl->mu);
	if (pl->failed) {
		*err = pl->err;
		rc = pl->err.code < 0 ? (int)pl->err.code : WSD_EINVAL;
	} else {
		j->next = NULL;
		if (pl->tail != NULL)
			pl->tail->next = j;
		else
			pl->head = j;
		pl->tail = j;
		pl->bytes += j->cost;
		pthread_cond_broadcast(&pl->cv);
	}
	pthread_mutex_unlock(&pl->mu);
	if (rc < 0)
		job_free(j);
	return rc;
}

static struct job *
job_new(enum job_kind kind, size_t extra, struct wsd_err *err)
{
	struct job *j = calloc(1, sizeof(*j) + extra);

	if (j == NULL) {
		wsd_fail(err, WSD_ENOMEM, "out of memory");
		return NULL;
	}
	j->kind = kind;
	j->cost = sizeof(*j) + extra;
	j->fd = -1;
	return j;
}

static int
imp_header(void *arg, const struct pkg_header *h, struct wsd_err *err)
{
	struct pipeline *pl = arg;

	(void)err;
	/* The first record: the worker has nothing to log yet. */
	logline(pl->im->lf, "package version %u from %s, created %s%s%s",
	    h->version, h->exporter[0] ? h->exporter : "(unnamed server)",
	    h->created, h->approvals ? ", with approvals" : "",
	    h->content ? ", with content" : "");
	return 0;
}

static int
q_group(void *arg, const struct pkg_group *g, struct wsd_err *err)
{
	size_t off = 0;
	struct job *j;

	jb_str(NULL, &off, g->id);
	jb_str(NULL, &off, g->name);
	jb_str(NULL, &off, g->parent);
	if ((j = job_new(J_GROUP, off, err)) == NULL)
		return WSD_ENOMEM;
	off = 0;
	j->g.id = jb_str(j->data, &off, g->id);
	j->g.name = jb_str(j->data, &off, g->name);
	j->g.parent = jb_str(j->data, &off, g->parent);
	return q_push(arg, j, err);
}

static int
q_revision(void *arg, const struct store_revision_in *rv, struct wsd_err *err)
{
	size_t off = 0;
	struct job *j;

	jb_revision(NULL, &off, rv, NULL);
	if ((j = job_new(J_REVISION, off, err)) == NULL)
		return WSD_ENOMEM;
	off = 0;
	jb_revision(j->data, &off, rv, &j->rv);
	return q_push(arg, j, err);
}

static int
q_update_end(void *arg, const char *update_id, bool declined,
    struct wsd_err *err)
{
	struct job *j;

	if (!declined)
		return 0; /* nothing to do for it */
	if ((j = job_new(J_UPDATE_END, 0, err)) == NULL)
		return WSD_ENOMEM;
	snprintf(j->id, sizeof(j->id), "%s", update_id);
	j->declined = declined;
	return q_push(arg, j, err);
}

static int
q_approval(void *arg, const struct pkg_approval *a, struct wsd_err *err)
{
	size_t off = 0;
	struct job *j;

	jb_str(NULL, &off, a->update_id);
	jb_str(NULL, &off, a->group_id);
	jb_str(NULL, &off, a->action);
	jb_str(NULL, &off, a->deadline);
	if ((j = job_new(J_APPROVAL, off, err)) == NULL)
		return WSD_ENOMEM;
	off = 0;
	j->a.update_id = jb_str(j->data, &off, a->update_id);
	j->a.group_id = jb_str(j->data, &off, a->group_id);
	j->a.action = jb_str(j->data, &off, a->action);
	j->a.deadline = jb_str(j->data, &off, a->deadline);
	return q_push(arg, j, err);
}

static int
q_content_begin(void *arg, const struct pkg_content *c, struct wsd_err *err)
{
	struct pipeline *pl = arg;
	char path[PATH_MAX];

	(void)c;
	/* An unnamed file: nothing to clean up after a crash. */
	pl->cfd = open(pl->im->datadir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (pl->cfd < 0 &&
	    (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		snprintf(path, sizeof(path), "%s/.import-XXXXXX",
		    pl->im->datadir);
		if ((pl->cfd = mkostemp(path, O_CLOEXEC)) >= 0)
			unlink(path);
	}
	if (pl->cfd < 0)
		return wsd_fail(err, WSD_EIO, "cannot create a temporary file");
	return 0;
}

static int
q_content_data(void *arg, const void *p, size_t n, struct wsd_err *err)
{
	struct pipeline *pl = arg;
	const unsigned char *b = p;

	while (n > 0) {
		ssize_t w = write(pl->cfd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return wsd_fail(err, WSD_EIO,
			    "cannot write a temporary file");
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
q_content_end(void *arg, const struct pkg_content *c, struct wsd_err *err)
{
	struct pipeline *pl = arg;
	size_t off = 0;
	struct job *j;

	jb_str(NULL, &off, c->name);
	if ((j = job_new(J_CONTENT, off, err)) == NULL)
		return WSD_ENOMEM;
	off = 0;
	j->c = *c;
	j->c.name = jb_str(j->data, &off, c->name);
	j->fd = pl->cfd;
	pl->cfd = -1;
	return q_push(pl, j, err);
}

/* Certificates in DATADIR/tls/trusted-exporters (one PEM each). */
static int
load_trusted(const char *datadir, unsigned char **certs, size_t *lens,
    size_t *n, struct logf *lf)
{
	char dir[PATH_MAX];
	struct dirent *d;
	DIR *dp;

	*n = 0;
	snprintf(dir, sizeof(dir), "%s/" TRUST_DIR, datadir);
	if ((dp = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((d = readdir(dp)) != NULL && *n < MAX_TRUSTED) {
		char path[PATH_MAX], *pem = NULL;
		size_t len;
		struct wsd_err err;
		unsigned char *der = NULL;
		BIO *b;
		X509 *x;
		int dl;

		if (d->d_name[0] == '.' ||
		    snprintf(path, sizeof(path), "%s/%s", dir, d->d_name) >=
			(int)sizeof(path))
			continue;
		if (fileio_read_small(path, WSD_MAX_PEM_FILE, &pem, &len, NULL,
			&err) < 0)
			continue;
		b = BIO_new_mem_buf(pem, (int)len);
		x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
		dl = x ? i2d_X509(x, &der) : -1;
		BIO_free(b);
		X509_free(x);
		free(pem);
		if (dl <= 0) {
			logline(lf,
			    "note: %s/%s holds no PEM certificate; "
			    "ignored",
			    TRUST_DIR, d->d_name);
			continue;
		}
		certs[*n] = der;
		lens[(*n)++] = (size_t)dl;
	}
	closedir(dp);
	return 0;
}

/*
 * S24: with trusted exporters configured, only their signed packages are
 * imported. Without, a signature is checked against its own certificate
 * (it catches damage, not a forger) and the log says it was not trusted.
 */
static int
check_signer(const char *datadir, const struct pkg_manifest *m, struct logf *lf,
    struct wsd_err *err)
{
	unsigned char *certs[MAX_TRUSTED];
	size_t lens[MAX_TRUSTED], n = 0, which = 0;
	char fp[65];
	int rc = 0;

	if (load_trusted(datadir, certs, lens, &n, lf) < 0) {
		logline(lf, "REFUSED: cannot read %s: %s", TRUST_DIR,
		    strerror(errno));
		return wsd_fail(err, WSD_EIO,
		    "cannot read the trusted exporters");
	}
	if (m->cert != NULL)
		fingerprint(m->cert, m->cert_len, fp);
	if (n > 0) {
		rc = pkg_check_signature(m, (const unsigned char *const *)certs,
		    lens, n, &which, err);
		if (rc < 0)
			logline(lf, "REFUSED: %s%s%s", err->what,
			    m->cert ? " (signer certificate SHA-256 " : "",
			    m->cert ? fp : "");
		else
			logline(lf,
			    "signature verified: signed by trusted "
			    "exporter %s",
			    fp);
	} else if (m->cert != NULL) {
		const unsigned char *self[1] = { m->cert };
		size_t selflen[1] = { m->cert_len };

		rc = pkg_check_signature(m, self, selflen, 1, NULL, err);
		if (rc < 0)
			logline(lf, "REFUSED: %s", err->what);
		else
			logline(lf,
			    "note: package signed by certificate "
			    "SHA-256 %s, not checked against trusted "
			    "exporters: none in DATADIR/%s",
			    fp, TRUST_DIR);
	} else {
		logline(lf,
		    "note: package not signed; no trusted exporters in "
		    "DATADIR/%s",
		    TRUST_DIR);
	}
	for (size_t i = 0; i < n; i++)
		OPENSSL_free(certs[i]);
	return rc;
}

static int
import_usage(void)
{
	fprintf(stderr, "usage: wsusutil import PACKAGE LOGFILE\n");
	return 2;
}

int
cmd_import(const char *datadir, int argc, char **argv)
{
	static const char CMD[] = "import";
	const char *package = NULL, *logpath = NULL;
	struct pkg_limits lim;
	struct pkg_manifest man = { 0 };
	struct pkg_report rep = { "" };
	struct pkg_sink sink;
	struct pipeline pl;
	pthread_t th;
	struct imp im;
	struct config *cf = NULL;
	struct logf lf;
	struct wsd_err err;
	struct stat sb;
	bool in_tx = false;
	char hex[65], summary[512];
	int fd = -1, rc = 1, prc;
	double t0 = now_s(), t1;

	memset(&im, 0, sizeof(im));
	memset(&pl, 0, sizeof(pl));
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			return import_usage();
		if (package == NULL)
			package = argv[i];
		else if (logpath == NULL)
			logpath = argv[i];
		else
			return import_usage();
	}
	if (package == NULL || logpath == NULL)
		return import_usage();
	if (log_open(&lf, CMD, logpath) < 0)
		return 1;
	im.lf = &lf;
	logline(&lf, "importing %s", package);
	if ((fd = open(package, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		logline(&lf, "REFUSED: cannot read %s: %s", package,
		    fd < 0 ? strerror(errno) : "not a regular file");
		logline(&lf, "nothing was imported");
		wsusutil_fail(CMD, "cannot read the package");
		goto out;
	}
	if (config_load(datadir, NULL, &cf, &err) < 0) {
		logline(&lf, "REFUSED: %s", err.what);
		logline(&lf, "nothing was imported");
		wsusutil_fail(CMD, err.what);
		goto out;
	}
	im.datadir = cf->cf_datadir;
	pkg_limits_default(&lim);

	/* Pass 1: the whole file verifies before the database is opened. */
	if (pkg_verify(fd, &lim, &man, &rep, &err) < 0) {
		logline(&lf, "REFUSED: %s: %s", err.what, rep.detail);
		logline(&lf, "nothing was imported");
		fprintf(stderr, "wsusutil: import: %s: %s\n", err.what,
		    rep.detail);
		goto out;
	}
	hex_lower(man.sha256, 32, hex);
	logline(&lf,
	    "manifest verified: %llu updates, %llu revisions, %llu "
	    "groups, %llu approvals, %llu content files; %llu bytes "
	    "(%llu compressed), SHA-256 %s",
	    (unsigned long long)man.updates, (unsigned long long)man.revisions,
	    (unsigned long long)man.groups, (unsigned long long)man.approvals,
	    (unsigned long long)man.contents, (unsigned long long)man.bytes,
	    (unsigned long long)man.compressed, hex);
	if (check_signer(cf->cf_datadir, &man, &lf, &err) < 0) {
		logline(&lf, "nothing was imported");
		wsusutil_fail(CMD, err.what);
		goto out;
	}
	t1 = now_s();

	/* Pass 2: one transaction, committed only if all of it verified. */
	if (store_open(&im.st, cf->cf_datadir, &err) < 0 ||
	    store_begin(im.st, &err) < 0) {
		logline(&lf, "REFUSED: %s", err.what);
		wsusutil_fail(CMD, err.what);
		goto out;
	}
	in_tx = true;
	if (store_groups_list(im.st, collect_group, &im.tg, &err) < 0 ||
	    (man.approvals > 0 &&
		store_approvals_list(im.st, NULL, collect_eappr, &im, &err) <
		    0) ||
	    (man.contents > 0 &&
		store_files_list(im.st, collect_efile, &im, &err) < 0)) {
		logline(&lf, "REFUSED: %s", err.what);
		wsusutil_fail(CMD, err.what);
		goto out;
	}
	if (im.oom || im.tg.oom) {
		logline(&lf, "REFUSED: out of memory");
		wsusutil_fail(CMD, "out of memory");
		goto out;
	}
	if (im.n_ea > 1)
		qsort(im.ea, im.n_ea, sizeof(*im.ea), cmp_eappr);
	if (im.n_ef > 1)
		qsort(im.ef, im.n_ef, sizeof(*im.ef), cmp_efile);
	/* The reader parses and checks while the worker applies. */
	pl.im = &im;
	pl.cfd = -1;
	if (pthread_mutex_init(&pl.mu, NULL) != 0)
		goto nothread;
	if (pthread_cond_init(&pl.cv, NULL) != 0) {
		pthread_mutex_destroy(&pl.mu);
		goto nothread;
	}
	if (pthread_create(&th, NULL, worker, &pl) != 0) {
		pthread_cond_destroy(&pl.cv);
		pthread_mutex_destroy(&pl.mu);
		goto nothread;
	}
	sink = (struct pkg_sink){ .arg = &pl,
		.header = imp_header,
		.group = q_group,
		.revision = q_revision,
		.update_end = q_update_end,
		.approval = q_approval,
		.content_begin = q_content_begin,
		.content_data = q_content_data,
		.content_end = q_content_end };
	prc = pkg_read(fd, &lim, &man, &sink, &rep, &err);
	pthread_mutex_lock(&pl.mu);
	pl.abort = prc < 0;
	pl.end = true;
	pthread_cond_broadcast(&pl.cv);
	pthread_mutex_unlock(&pl.mu);
	pthread_join(th, NULL);
	pthread_cond_destroy(&pl.cv);
	pthread_mutex_destroy(&pl.mu);
	if (pl.cfd >= 0)
		close(pl.cfd);
	if (pl.failed) {
		/* The store refused a record: name that record. */
		err = pl.err;
		snprintf(rep.detail, sizeof(rep.detail), "%s", pl.detail);
	}
	if (prc < 0 || pl.failed) {
		logline(&lf, "REFUSED: %s: %s", err.what, rep.detail);
		if (im.content_stored > 0)
			logline(&lf,
			    "%u verified content files were stored "
			    "before the refusal; wsusutil cleanup "
			    "--unneeded-content removes them",
			    im.content_stored);
		logline(&lf, "nothing was imported: the catalog is as it was");
		fprintf(stderr, "wsusutil: import: %s: %s\n", err.what,
		    rep.detail);
		goto out;
	}
	snprintf(summary, sizeof(summary),
	    "%u new revisions, %u already present; %u updates declined; "
	    "%u groups added, %u found; %u approvals set, %u unchanged, %u "
	    "skipped; %u content files stored, %u already present, %u "
	    "marked present",
	    im.rev_new, im.rev_same, im.declined, im.groups_added,
	    im.groups_same, im.appr_set, im.appr_same, im.appr_skipped,
	    im.content_stored, im.content_same, im.states_set);
	if (im.changed &&
	    store_event_add(im.st, "import", hex, summary, &err) < 0) {
		logline(&lf, "REFUSED: %s", err.what);
		wsusutil_fail(CMD, err.what);
		goto out;
	}
	testhook_pause("import:before-commit");
	if (!im.changed) {
		store_rollback(im.st);
		in_tx = false;
		logline(&lf,
		    "nothing to import: the catalog already holds "
		    "everything in this package");
	} else {
		if (store_commit(im.st, &err) < 0) {
			logline(&lf, "REFUSED: %s", err.what);
			wsusutil_fail(CMD, err.what);
			goto out;
		}
		in_tx = false;
	}
	logline(&lf, "import complete: %s", summary);
	logline(&lf, "verify %.2f s, import %.2f s", t1 - t0, now_s() - t1);
	printf("imported: %s\n", summary);
	rc = 0;
	goto out;
nothread:
	logline(&lf, "REFUSED: cannot start the import thread");
	wsusutil_fail(CMD, "cannot start the import thread");
out:
	if (in_tx)
		store_rollback(im.st);
	store_close(im.st);
	config_free(cf);
	pkg_manifest_release(&man);
	free(im.tg.v);
	free(im.gm);
	free(im.ea);
	free(im.ef);
	if (fd >= 0)
		close(fd);
	if (log_close(&lf) < 0)
		rc = 1;
	return rc;
}
