/*
 * SQLite backend, reading the catalog back whole (export, MS-WSUSSS
 * GetUpdateData later), the file table, and cleanup. Everything a
 * callback sees is allocated from a per-revision pool freed after it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "store/store_sqlite_int.h"

struct pool {
	void **p;
	size_t n, cap;
};

static void *
pool_keep(struct pool *pl, void *ptr)
{
	if (ptr == NULL)
		return NULL;
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 32;
		void **np = realloc(pl->p, cap * sizeof(*np));

		if (np == NULL) {
			free(ptr);
			return NULL;
		}
		pl->p = np;
		pl->cap = cap;
	}
	pl->p[pl->n++] = ptr;
	return ptr;
}

static void *
pool_calloc(struct pool *pl, size_t n, size_t size)
{
	return pool_keep(pl, calloc(n ? n : 1, size));
}

/* A copy of column I (text or blob) with a NUL after it; NULL stays NULL. */
static char *
pool_col(struct pool *pl, sqlite3_stmt *q, int i, size_t *len)
{
	const void *v;
	size_t n;
	char *c;

	if (sqlite3_column_type(q, i) == SQLITE_NULL) {
		if (len)
			*len = 0;
		return NULL;
	}
	v = sqlite3_column_blob(q, i);
	n = (size_t)sqlite3_column_bytes(q, i);
	if ((c = pool_keep(pl, malloc(n + 1))) == NULL)
		return NULL;
	if (n > 0)
		memcpy(c, v, n);
	c[n] = '\0';
	if (len)
		*len = n;
	return c;
}

static void
pool_free(struct pool *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		free(pl->p[i]);
	free(pl->p);
	pl->p = NULL;
	pl->n = pl->cap = 0;
}

/* Counts the rows a sub-query gives for REVISION_ID, then rewinds it. */
static int
count_rows(sqlite3_stmt *q, int64_t rid, unsigned *n)
{
	int rc;

	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, rid);
	*n = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		(*n)++;
	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, rid);
	return rc == SQLITE_DONE ? 0 : -1;
}

enum { Q_LOC, Q_FILE, Q_CAT, Q_PRE, Q_BUN, Q_SUP, Q_N };

static const char *const sub_sql[Q_N] = {
	[Q_LOC] = "SELECT language, title, xml FROM revision_localized "
		  "WHERE revision_id = ?1 ORDER BY language",
	[Q_FILE] = "SELECT f.sha1, f.sha256, f.size, f.file_name, f.modified, "
		   "f.patching_type FROM revision_file rf JOIN file f ON "
		   "f.sha1 = rf.sha1 WHERE rf.revision_id = ?1 ORDER BY f.sha1",
	[Q_CAT] = "SELECT category_id FROM revision_category WHERE "
		  "revision_id = ?1 ORDER BY category_id",
	[Q_PRE] = "SELECT clause, update_id, is_category FROM prerequisite "
		  "WHERE revision_id = ?1 ORDER BY clause, update_id",
	[Q_BUN] = "SELECT clause, update_id, revision_number FROM "
		  "bundle_member WHERE revision_id = ?1 ORDER BY clause, "
		  "update_id",
	[Q_SUP] = "SELECT superseded_id FROM supersedes WHERE revision_id = "
		  "?1 ORDER BY superseded_id",
};

/* Fills the relationship arrays of OUT from the sub-queries. */
static int
load_relations(struct pool *pl, sqlite3_stmt **sq, int64_t rid,
    struct store_revision_in *rv)
{
	unsigned n;

	if (count_rows(sq[Q_LOC], rid, &n) < 0)
		return -1;
	{
		struct store_localized *l = pool_calloc(pl, n, sizeof(*l));

		if (l == NULL)
			return -1;
		for (unsigned i = 0; i < n && sqlite3_step(sq[Q_LOC]) ==
		     SQLITE_ROW; i++) {
			l[i].language = pool_col(pl, sq[Q_LOC], 0, NULL);
			l[i].title = pool_col(pl, sq[Q_LOC], 1, NULL);
			l[i].xml = pool_col(pl, sq[Q_LOC], 2, &l[i].xml_len);
		}
		rv->n_localized = n;
		rv->localized = l;
	}
	if (count_rows(sq[Q_FILE], rid, &n) < 0)
		return -1;
	{
		struct store_file *f = pool_calloc(pl, n, sizeof(*f));

		if (f == NULL)
			return -1;
		for (unsigned i = 0; i < n && sqlite3_step(sq[Q_FILE]) ==
		     SQLITE_ROW; i++) {
			const void *h1 = sqlite3_column_blob(sq[Q_FILE], 0);
			const void *h2 = sqlite3_column_blob(sq[Q_FILE], 1);

			if (h1 && sqlite3_column_bytes(sq[Q_FILE], 0) == 20)
				memcpy(f[i].sha1, h1, 20);
			if (h2 && sqlite3_column_bytes(sq[Q_FILE], 1) == 32) {
				memcpy(f[i].sha256, h2, 32);
				f[i].has_sha256 = true;
			}
			f[i].size =
			    (uint64_t)sqlite3_column_int64(sq[Q_FILE], 2);
			f[i].file_name = pool_col(pl, sq[Q_FILE], 3, NULL);
			f[i].modified = pool_col(pl, sq[Q_FILE], 4, NULL);
			f[i].patching_type = pool_col(pl, sq[Q_FILE], 5, NULL);
		}
		rv->n_files = n;
		rv->files = f;
	}
	if (count_rows(sq[Q_CAT], rid, &n) < 0)
		return -1;
	{
		const char **c = pool_calloc(pl, n, sizeof(*c));

		if (c == NULL)
			return -1;
		for (unsigned i = 0; i < n && sqlite3_step(sq[Q_CAT]) ==
		     SQLITE_ROW; i++)
			c[i] = pool_col(pl, sq[Q_CAT], 0, NULL);
		rv->n_categories = n;
		rv->categories = c;
	}
	if (count_rows(sq[Q_PRE], rid, &n) < 0)
		return -1;
	{
		struct store_prereq *p = pool_calloc(pl, n, sizeof(*p));

		if (p == NULL)
			return -1;
		for (unsigned i = 0; i < n && sqlite3_step(sq[Q_PRE]) ==
		     SQLITE_ROW; i++) {
			p[i].clause = (unsigned)sqlite3_column_int(sq[Q_PRE], 0);
			p[i].update_id = pool_col(pl, sq[Q_PRE], 1, NULL);
			p[i].is_category = sqlite3_column_int(sq[Q_PRE], 2) != 0;
		}
		rv->n_prereqs = n;
		rv->prereqs = p;
	}
	if (count_rows(sq[Q_BUN], rid, &n) < 0)
		return -1;
	{
		struct store_bundle_member *b = pool_calloc(pl, n, sizeof(*b));

		if (b == NULL)
			return -1;
		for (unsigned i = 0; i < n && sqlite3_step(sq[Q_BUN]) ==
		     SQLITE_ROW; i++) {
			b[i].clause = (unsigned)sqlite3_column_int(sq[Q_BUN], 0);
			b[i].update_id = pool_col(pl, sq[Q_BUN], 1, NULL);
			b[i].revision_number = sqlite3_column_int(sq[Q_BUN], 2);
		}
		rv->n_bundle = n;
		rv->bundle = b;
	}
	if (count_rows(sq[Q_SUP], rid, &n) < 0)
		return -1;
	{
		const char **c = pool_calloc(pl, n, sizeof(*c));

		if (c == NULL)
			return -1;
		for (unsigned i = 0; i < n && sqlite3_step(sq[Q_SUP]) ==
		     SQLITE_ROW; i++)
			c[i] = pool_col(pl, sq[Q_SUP], 0, NULL);
		rv->n_supersedes = n;
		rv->supersedes = c;
	}
	return 0;
}

#define REV_SELECT                                                           \
	"SELECT r.revision_id, u.update_id, r.revision_number, "            \
	"u.update_type, u.category_type, u.origin, "                         \
	"r.explicitly_deployable, r.is_leaf, r.is_bundle, r.kb_article, "    \
	"r.msrc_severity, r.eula_id, r.title, r.xml_core, r.xml_extended, "  \
	"u.declined FROM revision r JOIN update_ u ON u.update_pk = "        \
	"r.update_pk WHERE "
#define REV_REST \
	"(?2 = 0 OR r.is_latest = 1) ORDER BY u.update_id, r.revision_number"

int
sqlite_revisions_each(struct store *st, const char *update_id,
    int64_t revision_id,
    bool latest_only, int (*cb)(void *, const struct store_revision_out *),
    void *arg, struct wsd_err *err)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *q = NULL, *sq[Q_N] = { NULL };
	bool found = false;
	int rc = 0, step;

	/*
	 * One statement per way of asking: "?1 IS NULL OR update_id = ?1"
	 * is planned before ?1 is known, as a scan of every update, which
	 * made each lookup of one update cost the whole catalog.
	 */
	if ((rc = sqlite_prep(s,
		 update_id != NULL ? REV_SELECT "u.update_id = lower(?1) AND "
						"(?3 = 0 OR r.revision_id = ?3) "
						"AND " REV_REST :
		 revision_id != 0 ? REV_SELECT "r.revision_id = ?3 AND ?1 IS "
					       "NULL AND " REV_REST :
				      REV_SELECT "?1 IS NULL AND ?3 = 0 AND "
						 REV_REST,
		 &q, err)) < 0)
		return rc;
	for (int i = 0; i < Q_N; i++)
		if ((rc = sqlite_prep(s, sub_sql[i], &sq[i], err)) < 0)
			goto out;
	if (update_id)
		sqlite3_bind_text(q, 1, update_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 2, latest_only);
	sqlite3_bind_int64(q, 3, revision_id);
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_revision_out o;
		struct pool pl = { 0 };
		int stop;

		memset(&o, 0, sizeof(o));
		found = true;
		o.revision_id = sqlite3_column_int64(q, 0);
		o.rv.update_id = pool_col(&pl, q, 1, NULL);
		o.rv.revision_number = sqlite3_column_int(q, 2);
		o.rv.update_type = pool_col(&pl, q, 3, NULL);
		o.rv.category_type = pool_col(&pl, q, 4, NULL);
		o.rv.origin = pool_col(&pl, q, 5, NULL);
		o.rv.explicitly_deployable = sqlite3_column_int(q, 6) != 0;
		o.rv.is_leaf = sqlite3_column_int(q, 7) != 0;
		o.rv.is_bundle = sqlite3_column_int(q, 8) != 0;
		o.rv.kb_article = pool_col(&pl, q, 9, NULL);
		o.rv.msrc_severity = pool_col(&pl, q, 10, NULL);
		o.rv.eula_id = pool_col(&pl, q, 11, NULL);
		o.rv.title = pool_col(&pl, q, 12, NULL);
		o.rv.xml_core = pool_col(&pl, q, 13, &o.rv.xml_core_len);
		o.rv.xml_extended = pool_col(&pl, q, 14,
		    &o.rv.xml_extended_len);
		o.declined = sqlite3_column_int(q, 15) != 0;
		if (o.rv.update_id == NULL || o.rv.xml_core == NULL ||
		    load_relations(&pl, sq, o.revision_id, &o.rv) < 0) {
			pool_free(&pl);
			rc = db_fail(s, err, "cannot read revision");
			goto out;
		}
		stop = cb(arg, &o);
		pool_free(&pl);
		if (stop)
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = db_fail(s, err, "cannot read revisions");
	else if ((update_id != NULL || revision_id != 0) && !found)
		rc = wsd_fail(err, WSD_ENOTFOUND, "unknown update");
out:
	for (int i = 0; i < Q_N; i++)
		sqlite3_finalize(sq[i]);
	sqlite3_finalize(q);
	return rc;
}

int
sqlite_files_list(struct store *st,
    int (*cb)(void *, const struct store_file_row *), void *arg,
    struct wsd_err *err)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s, "SELECT f.sha1, f.sha256, f.size, f.file_name, "
			  "f.state, (SELECT count(*) FROM revision_file rf "
			  "JOIN revision r ON r.revision_id = rf.revision_id "
			  "AND r.is_latest = 1 JOIN update_ u ON u.update_pk "
			  "= r.update_pk AND u.declined = 0 WHERE rf.sha1 = "
			  "f.sha1), (SELECT count(*) FROM revision_file rf "
			  "WHERE rf.sha1 = f.sha1) FROM file f ORDER BY f.sha1",
		 &q, err)) < 0)
		return rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const unsigned char *h2 = sqlite3_column_blob(q, 1);
		struct store_file_row row = {
			.sha1 = sqlite3_column_blob(q, 0),
			.sha256 = (h2 && sqlite3_column_bytes(q, 1) == 32) ?
			    h2 : NULL,
			.size = (uint64_t)sqlite3_column_int64(q, 2),
			.file_name = (const char *)sqlite3_column_text(q, 3),
			.state = (const char *)sqlite3_column_text(q, 4),
			.needed = (unsigned)sqlite3_column_int(q, 5),
			.refs = (unsigned)sqlite3_column_int(q, 6),
		};

		if (row.sha1 == NULL || sqlite3_column_bytes(q, 0) != 20)
			continue; /* CHECK constraint makes this impossible */
		if (cb(arg, &row) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "cannot list files");
	return 0;
}

int
sqlite_file_set_state(struct store *st, const unsigned char *sha1,
    const char *state, struct wsd_err *err)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *q;
	int rc;

	if (strcmp(state, "missing") != 0 && strcmp(state, "present") != 0 &&
	    strcmp(state, "quarantined") != 0)
		return wsd_fail(err, WSD_EINVAL, "unknown file state");
	if ((rc = sqlite_prep(s, "UPDATE file SET state = ?2 WHERE sha1 = ?1", &q,
		 err)) < 0)
		return rc;
	sqlite3_bind_blob(q, 1, sha1, 20, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, state, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "cannot set file state");
	if (sqlite3_changes(s->db) == 0)
		return wsd_fail(err, WSD_ENOTFOUND, "unknown file");
	return 0;
}

int
sqlite_file_forget(struct store *st, const unsigned char *sha1,
    struct wsd_err *err)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s, "DELETE FROM file WHERE sha1 = ?1 AND NOT EXISTS "
			  "(SELECT 1 FROM revision_file WHERE sha1 = ?1)",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_blob(q, 1, sha1, 20, SQLITE_TRANSIENT);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : db_fail(s, err, "cannot forget file");
}

static int
exec_count(struct store_sqlite *s, const char *sql, int arg, unsigned *n,
    struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s, sql, &q, err)) < 0)
		return rc;
	if (arg >= 0)
		sqlite3_bind_int(q, 1, arg);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "cleanup failed");
	*n = (unsigned)sqlite3_changes(s->db);
	return 0;
}

int
sqlite_cleanup(struct store *st, bool superseded, bool expired, bool obsolete,
    unsigned inactive_days, struct store_cleanup_counts *out,
    struct wsd_err *err)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = exec(s, "SAVEPOINT cleanup", err, "cannot start cleanup")) <
	    0)
		return rc;
	if (superseded &&
	    (rc = exec_count(s,
		 "UPDATE update_ SET declined = 1 WHERE declined = 0 AND "
		 "update_type <> 'Category' AND update_id IN (SELECT "
		 "sp.superseded_id FROM supersedes sp JOIN revision r ON "
		 "r.revision_id = sp.revision_id AND r.is_latest = 1 JOIN "
		 "update_ su ON su.update_pk = r.update_pk AND su.declined = 0) "
		 "AND NOT EXISTS (SELECT 1 FROM approval a WHERE a.update_pk = "
		 "update_.update_pk AND a.action = 'Install')",
		 -1, &out->declined_superseded, err)) < 0)
		goto fail;
	if (expired &&
	    (rc = exec_count(s,
		 "UPDATE update_ SET declined = 1 WHERE declined = 0 AND "
		 "update_type <> 'Category' AND EXISTS (SELECT 1 FROM revision "
		 "r WHERE r.update_pk = update_.update_pk AND r.is_latest = 1 "
		 "AND r.expired = 1)",
		 -1, &out->declined_expired, err)) < 0)
		goto fail;
	if ((superseded || expired) &&
	    (rc = exec(s, "DELETE FROM approval WHERE update_pk IN (SELECT "
			  "update_pk FROM update_ WHERE declined = 1)",
		 err, "cleanup failed")) < 0)
		goto fail;
	if (obsolete &&
	    (rc = exec_count(s, "DELETE FROM revision WHERE is_latest = 0", -1,
		 &out->revisions_deleted, err)) < 0)
		goto fail;
	if (inactive_days > 0 &&
	    (rc = exec_count(s,
		 "DELETE FROM computer WHERE coalesce(last_sync, created) < "
		 "strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || ?1 || ' days')",
		 (int)inactive_days, &out->computers_deleted, err)) < 0)
		goto fail;
	if ((rc = sqlite_revoked_prune(s, err)) < 0)
		goto fail;
	return exec(s, "RELEASE cleanup", err, "cannot finish cleanup");
fail:
	(void)sqlite3_exec(s->db, "ROLLBACK TO cleanup; RELEASE cleanup", NULL,
	    NULL, NULL);
	return rc;
}
