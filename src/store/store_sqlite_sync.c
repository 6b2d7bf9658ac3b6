/*
 * SQLite backend, what SyncUpdates reads (WUSP.md 4.2): the latest
 * revision of every non-declined update with the approval one computer
 * gets, their prerequisites and bundle members. The closure and the
 * page are computed by the caller.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_sqlite_int.h"

/* Rows of one kind held at once: far above any catalog (WSUS with every
 * product has a few hundred thousand revisions). */
#define SYNC_MAX_ROWS (4UL * 1024 * 1024)

static void
copy_col(sqlite3_stmt *q, int i, char *out, size_t n)
{
	const unsigned char *t = sqlite3_column_text(q, i);

	snprintf(out, n, "%s", t ? (const char *)t : "");
}

/* Makes room for one more element of SIZE bytes in *V (*N used, *CAP). */
static int
grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *nv;
	size_t nc;

	if (n < *cap)
		return 0;
	if (n >= SYNC_MAX_ROWS)
		return WSD_ETOOBIG;
	nc = *cap ? *cap * 2 : 256;
	if ((nv = realloc(*v, nc * size)) == NULL)
		return WSD_ENOMEM;
	*v = nv;
	*cap = nc;
	return 0;
}

/*
 * The effective approval of each of the computer's groups (own, else the
 * nearest ancestor's; NotApproved stops inheritance), then per update the
 * strongest of them: Install sorts before Uninstall.
 */
static const char rev_sql[] =
    "WITH RECURSIVE up(start, pk, depth) AS ("
    " SELECT m.group_pk, m.group_pk, 0 FROM computer_group_member m"
    " JOIN computer c ON c.computer_pk = m.computer_pk"
    " WHERE c.computer_id = ?1"
    " UNION ALL SELECT up.start, g.parent_pk, up.depth + 1"
    " FROM target_group g JOIN up ON g.group_pk = up.pk"
    " WHERE g.parent_pk IS NOT NULL AND up.depth < 64), "
    "eff AS (SELECT a.update_pk, a.rowid AS aid, a.action, a.deadline,"
    " a.created, row_number() OVER (PARTITION BY up.start, a.update_pk"
    " ORDER BY up.depth) AS rn FROM up JOIN approval a ON"
    " a.group_pk = up.pk), "
    "dep AS (SELECT update_pk, aid, action, deadline, created,"
    " row_number() OVER (PARTITION BY update_pk ORDER BY action, aid)"
    " AS rk FROM eff WHERE rn = 1 AND action <> 'NotApproved') "
    "SELECT r.revision_id, u.update_id, NOT EXISTS (SELECT 1 FROM"
    " prerequisite p JOIN revision r2 ON r2.revision_id = p.revision_id"
    " AND r2.is_latest = 1 WHERE p.update_id = u.update_id),"
    " coalesce(d.aid, 0), coalesce(d.action, ''),"
    " coalesce(d.deadline, ''), substr(coalesce(d.created, r.created), 1,"
    " 10) "
    "FROM revision r JOIN update_ u ON u.update_pk = r.update_pk"
    " LEFT JOIN dep d ON d.update_pk = u.update_pk AND d.rk = 1"
    " WHERE r.is_latest = 1 AND u.declined = 0 ORDER BY r.revision_id";

static const char pre_sql[] =
    "SELECT p.revision_id, p.clause, p.update_id, p.is_category"
    " FROM prerequisite p JOIN revision r ON r.revision_id = p.revision_id"
    " JOIN update_ u ON u.update_pk = r.update_pk"
    " WHERE r.is_latest = 1 AND u.declined = 0"
    " ORDER BY p.revision_id, p.clause, p.update_id";

static const char bun_sql[] =
    "SELECT b.revision_id, b.clause, b.update_id, 0"
    " FROM bundle_member b JOIN revision r ON r.revision_id = b.revision_id"
    " JOIN update_ u ON u.update_pk = r.update_pk"
    " WHERE r.is_latest = 1 AND u.declined = 0"
    " ORDER BY b.revision_id, b.clause, b.update_id";

static int
registered(struct store_sqlite *s, const char *computer_id, struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s, "SELECT 1 FROM computer WHERE computer_id = ?1", &q,
		 err)) < 0)
		return rc;
	sqlite3_bind_text(q, 1, computer_id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc == SQLITE_DONE)
		return wsd_fail(err, WSD_ENOTFOUND, "computer not registered");
	if (rc != SQLITE_ROW)
		return db_fail(s, err, "cannot read computers");
	return 0;
}

static int
load_revs(struct store_sqlite *s, const char *computer_id,
    struct store_sync_scope *out, struct wsd_err *err)
{
	size_t cap = 0;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s, rev_sql, &q, err)) < 0)
		return rc;
	sqlite3_bind_text(q, 1, computer_id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_sync_rev *r;

		if ((rc = grow((void **)&out->revs, &cap, out->n_revs,
			 sizeof(*r))) < 0) {
			sqlite3_finalize(q);
			return wsd_fail(err, (enum wsd_errc)rc,
			    "sync scope too large");
		}
		r = &out->revs[out->n_revs++];
		memset(r, 0, sizeof(*r));
		r->revision_id = sqlite3_column_int64(q, 0);
		copy_col(q, 1, r->update_id, sizeof(r->update_id));
		r->is_leaf = sqlite3_column_int(q, 2) != 0;
		r->approval_id = sqlite3_column_int64(q, 3);
		copy_col(q, 4, r->action, sizeof(r->action));
		copy_col(q, 5, r->deadline, sizeof(r->deadline));
		copy_col(q, 6, r->changed, sizeof(r->changed));
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "cannot read revisions");
	return 0;
}

/*
 * Reads the (revision_id, clause, update_id, is_category) rows of SQL
 * into *V, and points each revision of OUT at its run of rows (both are
 * ordered by revision_id). BUNDLE says which run to set.
 */
static int
load_refs(struct store_sqlite *s, const char *sql, bool bundle,
    struct store_sync_scope *out, struct store_sync_ref **v, size_t *n,
    struct wsd_err *err)
{
	size_t cap = 0, ri = 0;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s, sql, &q, err)) < 0)
		return rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t rid = sqlite3_column_int64(q, 0);
		struct store_sync_ref *f;
		struct store_sync_rev *r;

		while (ri < out->n_revs && out->revs[ri].revision_id < rid)
			ri++;
		if (ri == out->n_revs || out->revs[ri].revision_id != rid)
			continue; /* cannot happen: same filter as load_revs */
		if ((rc = grow((void **)v, &cap, *n, sizeof(*f))) < 0) {
			sqlite3_finalize(q);
			return wsd_fail(err, (enum wsd_errc)rc,
			    "sync scope too large");
		}
		f = &(*v)[*n];
		f->clause = (unsigned)sqlite3_column_int(q, 1);
		copy_col(q, 2, f->update_id, sizeof(f->update_id));
		f->is_category = sqlite3_column_int(q, 3) != 0;
		r = &out->revs[ri];
		if (bundle) {
			if (r->n_bun++ == 0)
				r->bun_first = *n;
		} else {
			if (r->n_pre++ == 0)
				r->pre_first = *n;
		}
		(*n)++;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "cannot read relationships");
	return 0;
}

int
sqlite_sync_scope(struct store *st, const char *computer_id,
    struct store_sync_scope *out, struct wsd_err *err)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	int rc;

	memset(out, 0, sizeof(*out));
	/* One read transaction, so the three reads see one catalog. */
	if ((rc = exec(s, "SAVEPOINT sync", err, "cannot start a read")) < 0)
		return rc;
	if ((rc = registered(s, computer_id, err)) < 0 ||
	    (rc = load_revs(s, computer_id, out, err)) < 0 ||
	    (rc = load_refs(s, pre_sql, false, out, &out->pre, &out->n_pre,
		 err)) < 0 ||
	    (rc = load_refs(s, bun_sql, true, out, &out->bun, &out->n_bun,
		 err)) < 0) {
		store_sync_scope_release(out);
	}
	{
		struct wsd_err e2;

		/* Nothing was written: releasing cannot lose anything, and a
		 * failure here leaves the first error the one reported. */
		if (exec(s, "RELEASE sync", &e2, "cannot end a read") < 0 &&
		    rc == 0) {
			store_sync_scope_release(out);
			*err = e2;
			rc = e2.code;
		}
	}
	return rc;
}

void
store_sync_scope_release(struct store_sync_scope *sc)
{
	if (sc == NULL)
		return;
	free(sc->revs);
	free(sc->pre);
	free(sc->bun);
	memset(sc, 0, sizeof(*sc));
}
