/*
 * wsusutil reset, cleanup, deleteunneededrevisions: keeping the content
 * store and the catalog in step, as WSUS's reset and Server Cleanup
 * Wizard do.
 */
#include "wsusutil/wsusutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/encode.h"
#include "common/strparse.h"
#include "config/config.h"
#include "content/content_store.h"
#include "store/store.h"

/* A file row copied out of the listing callback. */
struct file_item {
	struct content_expect ce;
	char name[256];
	char state[16];
	unsigned needed, refs;
};

struct file_list {
	struct file_item *v;
	size_t n, cap;
};

static int
collect(void *arg, const struct store_file_row *r)
{
	struct file_list *fl = arg;
	struct file_item *it;

	if (fl->n == fl->cap) {
		size_t cap = fl->cap ? fl->cap * 2 : 256;
		struct file_item *nv = realloc(fl->v, cap * sizeof(*nv));

		if (nv == NULL)
			return 1;
		fl->v = nv;
		fl->cap = cap;
	}
	it = &fl->v[fl->n++];
	memset(it, 0, sizeof(*it));
	memcpy(it->ce.sha1, r->sha1, 20);
	if (r->sha256) {
		memcpy(it->ce.sha256, r->sha256, 32);
		it->ce.has_sha256 = true;
	}
	it->ce.size = r->size;
	it->ce.has_size = true;
	snprintf(it->name, sizeof(it->name), "%s", r->file_name);
	it->ce.filename = it->name;
	snprintf(it->state, sizeof(it->state), "%s", r->state);
	it->needed = r->needed;
	it->refs = r->refs;
	return 0;
}

static int
open_all(const char *cmd, const char *datadir, struct config **cf,
    struct store **st, struct file_list *fl)
{
	struct wsd_err err;

	memset(fl, 0, sizeof(*fl));
	if (config_load(datadir, NULL, cf, &err) < 0)
		return wsusutil_fail(cmd, err.what) ? -1 : -1;
	if (store_open(st, (*cf)->cf_datadir, &err) < 0) {
		config_free(*cf);
		return wsusutil_fail(cmd, err.what) ? -1 : -1;
	}
	if (store_files_list(*st, collect, fl, &err) < 0) {
		store_close(*st);
		config_free(*cf);
		return wsusutil_fail(cmd, err.what) ? -1 : -1;
	}
	return 0;
}

int
cmd_reset(const char *datadir, int argc, char **argv)
{
	unsigned ok = 0, missing = 0, quarantined = 0;
	struct file_list fl;
	struct config *cf;
	struct store *st;
	struct wsd_err err;
	int rc = 0;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: wsusutil reset\n");
		return 2;
	}
	if (open_all("reset", datadir, &cf, &st, &fl) < 0)
		return 1;
	for (size_t i = 0; i < fl.n && rc == 0; i++) {
		struct file_item *it = &fl.v[i];
		struct content_verified cv;
		char hex[41], rel[CONTENT_REL_PATH_MAX];
		const char *state = "present";
		int v;

		if (it->refs == 0)
			continue;
		hex_encode_upper(it->ce.sha1, 20, hex);
		(void)!content_rel_path(&it->ce, rel, sizeof(rel));
		v = content_store_verify(cf->cf_datadir, &it->ce, true, &cv,
		    &err);
		if (v == WSD_ENOTFOUND) {
			state = "missing";
			missing++;
			printf("missing      %s (%s): re-queued\n", rel, it->name);
		} else if (v == WSD_EINVAL) {
			state = "missing";
			quarantined++;
			printf("quarantined  %s (%s): %s; moved to %s; "
			       "re-queued\n",
			    rel, it->name, err.what, cv.quarantine_path);
			(void)!store_event_add(st, "quarantine", hex, err.what,
			    &err);
		} else if (v < 0) {
			rc = wsusutil_fail("reset", err.what);
			break;
		} else {
			ok++;
		}
		if (strcmp(state, it->state) != 0 &&
		    store_file_set_state(st, it->ce.sha1, state, &err) < 0)
			rc = wsusutil_fail("reset", err.what);
	}
	if (rc == 0) {
		(void)!store_event_add(st, "reset", "",
		    quarantined || missing ? "content re-queued" :
					     "content verified",
		    &err);
		printf("%u verified, %u missing, %u quarantined\n", ok, missing,
		    quarantined);
	}
	free(fl.v);
	store_close(st);
	config_free(cf);
	return rc;
}

static int
cmp_sha1(const void *a, const void *b)
{
	return memcmp(a, b, 20);
}

/* Content files no database row knows (a publish or import killed
 * between content and commit): removed, bytes added to *FREED. Walks by
 * directory fd without following links (S17). */
static unsigned
remove_orphans(const char *datadir, const struct file_list *fl,
    uint64_t *freed)
{
	unsigned char *known = malloc(fl->n * 20 + 1);
	char path[PATH_MAX];
	unsigned removed = 0;
	int cfd;
	DIR *top;

	if (known == NULL)
		return 0;
	for (size_t i = 0; i < fl->n; i++)
		memcpy(known + 20 * i, fl->v[i].ce.sha1, 20);
	qsort(known, fl->n, 20, cmp_sha1);
	snprintf(path, sizeof(path), "%s/content", datadir);
	cfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cfd < 0 || (top = fdopendir(cfd)) == NULL) {
		if (cfd >= 0)
			close(cfd);
		free(known);
		return 0;
	}
	for (struct dirent *d; (d = readdir(top)) != NULL;) {
		unsigned char b[1];
		int sfd;
		DIR *dd;

		/* Only the XX folders; .tmp is sweep_tmp's. */
		if (strlen(d->d_name) != 2 || hex_decode(d->d_name, 2, b, 1) < 0)
			continue;
		sfd = openat(dirfd(top), d->d_name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0 || (dd = fdopendir(sfd)) == NULL) {
			if (sfd >= 0)
				close(sfd);
			continue;
		}
		for (struct dirent *f; (f = readdir(dd)) != NULL;) {
			unsigned char sha1[20];
			struct stat sb;

			if (strlen(f->d_name) < 40 ||
			    (f->d_name[40] != '\0' && f->d_name[40] != '.') ||
			    hex_decode(f->d_name, 40, sha1, 20) < 0)
				continue;
			if (bsearch(sha1, known, fl->n, 20, cmp_sha1) != NULL)
				continue;
			if (fstatat(dirfd(dd), f->d_name, &sb,
				AT_SYMLINK_NOFOLLOW) == 0 &&
			    (S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode)) &&
			    unlinkat(dirfd(dd), f->d_name, 0) == 0) {
				*freed += S_ISREG(sb.st_mode) ?
				    (uint64_t)sb.st_size : 0;
				removed++;
			}
		}
		closedir(dd);
	}
	closedir(top);
	free(known);
	return removed;
}

static int
cleanup_run(const char *cmd, const char *datadir, bool superseded,
    bool expired, bool obsolete, bool content, unsigned inactive)
{
	struct store_cleanup_counts cc = { 0 };
	unsigned files = 0, orphans = 0, tmps = 0;
	uint64_t freed = 0;
	struct file_list fl;
	struct config *cf;
	struct store *st;
	struct wsd_err err;
	char msg[256];
	int rc = 0;

	if (config_load(datadir, NULL, &cf, &err) < 0)
		return wsusutil_fail(cmd, err.what);
	if (store_open(&st, cf->cf_datadir, &err) < 0) {
		config_free(cf);
		return wsusutil_fail(cmd, err.what);
	}
	/* The database half first, in one transaction; files after, since
	 * a file is only deleted once no live revision needs it. */
	if (store_begin(st, &err) < 0 ||
	    store_cleanup(st, superseded, expired, obsolete, inactive, &cc,
		&err) < 0 ||
	    store_commit(st, &err) < 0) {
		store_rollback(st);
		rc = wsusutil_fail(cmd, err.what);
		goto out;
	}
	memset(&fl, 0, sizeof(fl));
	if (content) {
		if (store_files_list(st, collect, &fl, &err) < 0) {
			rc = wsusutil_fail(cmd, err.what);
			goto out;
		}
		for (size_t i = 0; i < fl.n; i++) {
			struct file_item *it = &fl.v[i];
			uint64_t f = 0;
			int r;

			if (it->needed > 0)
				continue;
			r = content_store_remove(cf->cf_datadir, &it->ce, &f,
			    &err);
			if (r < 0 && r != WSD_ENOTFOUND) {
				rc = wsusutil_fail(cmd, err.what);
				break;
			}
			if (r == 0) {
				files++;
				freed += f;
			}
			r = it->refs == 0 ?
			    store_file_forget(st, it->ce.sha1, &err) :
			    store_file_set_state(st, it->ce.sha1, "missing",
				&err);
			if (r < 0) {
				rc = wsusutil_fail(cmd, err.what);
				break;
			}
		}
		orphans = remove_orphans(cf->cf_datadir, &fl, &freed);
		(void)!content_store_sweep_tmp(cf->cf_datadir, &tmps, &err);
	}
	free(fl.v);
	printf("superseded updates declined: %u\n"
	       "expired updates declined:    %u\n"
	       "obsolete revisions deleted:  %u\n"
	       "inactive computers deleted:  %u\n"
	       "unneeded content files:      %u (+%u unreferenced, %u "
	       "temporary)\n"
	       "bytes freed:                 %" PRIu64 "\n",
	    cc.declined_superseded, cc.declined_expired, cc.revisions_deleted,
	    cc.computers_deleted, files, orphans, tmps, freed);
	snprintf(msg, sizeof(msg), "%u superseded, %u expired, %u revisions, "
				   "%u computers, %u files, %" PRIu64 " bytes",
	    cc.declined_superseded, cc.declined_expired, cc.revisions_deleted,
	    cc.computers_deleted, files + orphans, freed);
	(void)!store_event_add(st, "cleanup", "", msg, &err);
out:
	store_close(st);
	config_free(cf);
	return rc;
}

int
cmd_cleanup(const char *datadir, int argc, char **argv)
{
	bool sup = false, exp = false, obs = false, content = false, any;
	uint64_t days = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--superseded") == 0)
			sup = true;
		else if (strcmp(argv[i], "--expired") == 0)
			exp = true;
		else if (strcmp(argv[i], "--obsolete-revisions") == 0)
			obs = true;
		else if (strcmp(argv[i], "--unneeded-content") == 0)
			content = true;
		else if (strcmp(argv[i], "--computers-inactive") == 0 &&
		    i + 1 < argc) {
			if (strparse_u64_all(argv[++i], 1, 36500, &days) < 0)
				return wsusutil_fail("cleanup",
				    "--computers-inactive takes a number of "
				    "days (1-36500)");
		} else {
			fprintf(stderr, "usage: wsusutil cleanup [--superseded] "
					"[--expired] [--obsolete-revisions] "
					"[--unneeded-content] "
					"[--computers-inactive DAYS]\n");
			return 2;
		}
	}
	/* No choice made: what the wizard has ticked by default. */
	any = sup || exp || obs || content || days > 0;
	if (!any)
		sup = exp = obs = content = true;
	return cleanup_run("cleanup", datadir, sup, exp, obs, content,
	    (unsigned)days);
}

int
cmd_deleteunneededrevisions(const char *datadir, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: wsusutil deleteunneededrevisions\n");
		return 2;
	}
	return cleanup_run("deleteunneededrevisions", datadir, false, false,
	    true, false, 0);
}
