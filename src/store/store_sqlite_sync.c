/*
 * SQLite backend, what SyncUpdates reads (WUSP.md 4.2): the computer's
 * groups and the catalog generation (every request), the catalog (once
 * per generation) and the deployments of a set of groups (once per
 * generation and group set); wusp/sync_cache.c keeps the last two.
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

/* One read transaction, so what is read belongs to one generation. */
static int
read_begin(struct store_sqlite *s, struct wsd_err *err)
{
	return exec(s, "SAVEPOINT sync", err, "cannot start a read");
}

static int
read_end(struct store_sqlite *s, int rc, struct wsd_err *err)
{
	struct wsd_err e2;

	/* Nothing was written: releasing cannot lose anything, and a
	 * failure here leaves the first error the one reported. */
	if (exec(s, "RELEASE sync", &e2, "cannot end a read") < 0 && rc == 0) {
		*err = e2;
		rc = e2.code;
	}
	return rc;
}

static int
generation(struct store_sqlite *s, uint64_t *out, struct wsd_err *err)
{
	static const char sql[] =
	    "SELECT generation FROM catalog_generation WHERE id = 1";
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep_cached(s, sql, &q, err)) < 0)
		return rc;
	rc = sqlite3_step(q);
	*out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(q, 0) : 0;
	sqlite_unprep(q);
	if (rc != SQLITE_ROW)
		return db_fail(s, err, "cannot read the catalog generation");
	return 0;
}

/* ------------------------------------------------------------ head */

static const char head_sql[] =
    "SELECT (SELECT generation FROM catalog_generation WHERE id = 1),"
    " c.last_sync IS NULL OR c.last_sync < strftime('%Y-%m-%dT%H:%M:%SZ',"
    " 'now', '-60 seconds'), m.group_pk FROM computer c"
    " LEFT JOIN computer_group_member m ON m.computer_pk = c.computer_pk"
    " WHERE c.computer_id = ?1 ORDER BY m.group_pk";

int
sqlite_sync_head(struct store *st, const char *computer_id,
    struct store_sync_head *out, struct wsd_err *err)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *q;
	bool found = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = sqlite_prep_cached(s, head_sql, &q, err)) < 0)
		return rc;
	sqlite3_bind_text(q, 1, computer_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		found = true;
		out->generation = (uint64_t)sqlite3_column_int64(q, 0);
		out->contact_stale = sqlite3_column_int(q, 1) != 0;
		if (sqlite3_column_type(q, 2) == SQLITE_NULL)
			continue;
		/* More groups than a computer can be put in: keep the
		 * first; the limit is enforced where members are added. */
		if (out->n_groups < STORE_SYNC_MAX_GROUPS)
			out->groups[out->n_groups++] =
			    sqlite3_column_int64(q, 2);
	}
	sqlite_unprep(q);
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "cannot read the computer");
	if (!found)
		return wsd_fail(err, WSD_ENOTFOUND, "computer not registered");
	return 0;
}

/* --------------------------------------------------------- catalog */

static const char rev_sql[] =
    "SELECT r.revision_id, u.update_id, u.update_type, r.is_bundle,"
    " r.leaf_gen, substr(r.created, 1, 10)"
    " FROM revision r JOIN update_ u ON u.update_pk = r.update_pk"
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

static const char cat_sql[] =
    "SELECT c.revision_id, 0, c.category_id, 1"
    " FROM revision_category c JOIN revision r"
    " ON r.revision_id = c.revision_id"
    " JOIN update_ u ON u.update_pk = r.update_pk"
    " WHERE r.is_latest = 1 AND u.declined = 0"
    " ORDER BY c.revision_id, c.category_id";

static enum store_sync_type
type_of(const unsigned char *t)
{
	const char *s = t ? (const char *)t : "";

	if (strcmp(s, "Driver") == 0)
		return STORE_SYNC_DRIVER;
	if (strcmp(s, "Category") == 0)
		return STORE_SYNC_CATEGORY;
	if (strcmp(s, "Detectoid") == 0)
		return STORE_SYNC_DETECTOID;
	return STORE_SYNC_SOFTWARE;
}

static int
load_revs(struct store_sqlite *s, struct store_sync_catalog *out,
    struct wsd_err *err)
{
	size_t cap = 0;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s, rev_sql, &q, err)) < 0)
		return rc;
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
		r->type = type_of(sqlite3_column_text(q, 2));
		r->is_bundle = sqlite3_column_int(q, 3) != 0;
		r->is_leaf = true;
		r->leaf_gen = (uint64_t)sqlite3_column_int64(q, 4);
		copy_col(q, 5, r->created, sizeof(r->created));
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "cannot read revisions");
	return 0;
}

static const char drv_sql[] =
    "SELECT d.revision_id, d.hardware_id, lower(d.hardware_id),"
    " d.driver_class, d.provider, d.manufacturer, d.chids,"
    " d.feature_scores, d.chid_targeted, d.driver_date, d.driver_version"
    " FROM driver_metadata d JOIN revision r ON r.revision_id = d.revision_id"
    " JOIN update_ u ON u.update_pk = r.update_pk"
    " WHERE r.is_latest = 1 AND u.declined = 0"
    " ORDER BY d.revision_id, d.seq";

/* Appends column I of Q to OUT's pool; *OFF its offset. */
static int
pool_add(struct store_sync_catalog *out, size_t *cap, sqlite3_stmt *q, int i,
    uint32_t *off)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	size_t n = (size_t)sqlite3_column_bytes(q, i);

	if (out->pool_len + n + 1 > UINT32_MAX)
		return WSD_ETOOBIG;
	if (out->pool_len + n + 1 > *cap) {
		size_t ncap = *cap > 0 ? *cap : 4096;
		char *p;

		while (ncap < out->pool_len + n + 1)
			ncap *= 2;
		if ((p = realloc(out->pool, ncap)) == NULL)
			return WSD_ENOMEM;
		out->pool = p;
		*cap = ncap;
	}
	if (n > 0)
		memcpy(out->pool + out->pool_len, t, n);
	out->pool[out->pool_len + n] = '\0';
	*off = (uint32_t)out->pool_len;
	out->pool_len += n + 1;
	return 0;
}

static int
load_drivers(struct store_sqlite *s, struct store_sync_catalog *out,
    struct wsd_err *err)
{
	size_t cap = 0, pcap = 0, ri = 0;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s, drv_sql, &q, err)) < 0)
		return rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t rid = sqlite3_column_int64(q, 0);
		struct store_sync_driver *d;

		while (ri < out->n_revs && out->revs[ri].revision_id < rid)
			ri++;
		if (ri == out->n_revs || out->revs[ri].revision_id != rid)
			continue; /* cannot happen: same filter as load_revs */
		if ((rc = grow((void **)&out->drv, &cap, out->n_drv,
			 sizeof(*d))) < 0)
			break;
		d = &out->drv[out->n_drv];
		memset(d, 0, sizeof(*d));
		d->rev = ri;
		if ((rc = pool_add(out, &pcap, q, 1, &d->hwid)) < 0 ||
		    (rc = pool_add(out, &pcap, q, 2, &d->hwid_key)) < 0 ||
		    (rc = pool_add(out, &pcap, q, 3, &d->drv_class)) < 0 ||
		    (rc = pool_add(out, &pcap, q, 4, &d->provider)) < 0 ||
		    (rc = pool_add(out, &pcap, q, 5, &d->manufacturer)) < 0 ||
		    (rc = pool_add(out, &pcap, q, 6, &d->chids)) < 0 ||
		    (rc = pool_add(out, &pcap, q, 7, &d->scores)) < 0)
			break;
		d->chid_targeted = sqlite3_column_int(q, 8) != 0;
		d->date = sqlite3_column_int(q, 9);
		d->version = (uint64_t)sqlite3_column_int64(q, 10);
		out->n_drv++;
	}
	sqlite3_finalize(q);
	if (rc < 0)
		return wsd_fail(err, (enum wsd_errc)rc, "driver table too large");
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "cannot read the driver table");
	return 0;
}

enum ref_kind { REF_PRE, REF_BUN, REF_CAT };

/*
 * Reads the (revision_id, clause, update_id, is_category) rows of SQL
 * into *V, and points each revision of OUT at its run of rows (both are
 * ordered by revision_id).
 */
static int
load_refs(struct store_sqlite *s, const char *sql, enum ref_kind kind,
    struct store_sync_catalog *out, struct store_sync_ref **v, size_t *n,
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
		size_t *first, *count;

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
		first = kind == REF_PRE ? &r->pre_first :
		    kind == REF_BUN	? &r->bun_first :
					  &r->cat_first;
		count = kind == REF_PRE ? &r->n_pre :
		    kind == REF_BUN	? &r->n_bun :
					  &r->n_cat;
		if ((*count)++ == 0)
			*first = *n;
		(*n)++;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "cannot read relationships");
	return 0;
}

int
sqlite_sync_catalog(struct store *st, struct store_sync_catalog *out,
    struct wsd_err *err)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = read_begin(s, err)) < 0)
		return rc;
	if ((rc = generation(s, &out->generation, err)) < 0 ||
	    (rc = load_revs(s, out, err)) < 0 ||
	    (rc = load_refs(s, pre_sql, REF_PRE, out, &out->pre, &out->n_pre,
		 err)) < 0 ||
	    (rc = load_refs(s, bun_sql, REF_BUN, out, &out->bun, &out->n_bun,
		 err)) < 0 ||
	    (rc = load_refs(s, cat_sql, REF_CAT, out, &out->cat, &out->n_cat,
		 err)) < 0 ||
	    (rc = load_drivers(s, out, err)) < 0)
		store_sync_catalog_release(out);
	if ((rc = read_end(s, rc, err)) < 0)
		store_sync_catalog_release(out);
	return rc;
}

void
store_sync_catalog_release(struct store_sync_catalog *c)
{
	if (c == NULL)
		return;
	free(c->revs);
	free(c->pre);
	free(c->bun);
	free(c->cat);
	free(c->drv);
	free(c->pool);
	memset(c, 0, sizeof(*c));
}

/* ----------------------------------------------------- deployments */

/*
 * The effective approval of each of the groups (own, else the nearest
 * ancestor's; NotApproved stops inheritance), then per update the
 * strongest of them (Install sorts before Uninstall), with the latest
 * change of any approval row on the way up.
 */
static const char dep_sql[] =
    "WITH RECURSIVE up(start, pk, depth) AS ("
    " SELECT value, value, 0 FROM json_each(?1)"
    " UNION ALL SELECT up.start, g.parent_pk, up.depth + 1"
    " FROM target_group g JOIN up ON g.group_pk = up.pk"
    " WHERE g.parent_pk IS NOT NULL AND up.depth < 64), "
    "eff AS (SELECT a.update_pk, a.rowid AS aid, a.action, a.deadline,"
    " a.created, a.changed_gen, row_number() OVER (PARTITION BY up.start,"
    " a.update_pk ORDER BY up.depth) AS rn FROM up JOIN approval a ON"
    " a.group_pk = up.pk), "
    "chg AS (SELECT update_pk, max(changed_gen) AS cg FROM eff"
    " GROUP BY update_pk), "
    "dep AS (SELECT update_pk, aid, action, deadline, created,"
    " row_number() OVER (PARTITION BY update_pk ORDER BY action, aid)"
    " AS rk FROM eff WHERE rn = 1 AND action <> 'NotApproved') "
    "SELECT r.revision_id, coalesce(d.aid, 0), coalesce(d.action, ''),"
    " coalesce(d.deadline, ''), substr(coalesce(d.created, r.created), 1,"
    " 10), c.cg "
    "FROM chg c JOIN update_ u ON u.update_pk = c.update_pk"
    " AND u.declined = 0"
    " JOIN revision r ON r.update_pk = u.update_pk AND r.is_latest = 1"
    " LEFT JOIN dep d ON d.update_pk = c.update_pk AND d.rk = 1"
    " ORDER BY r.revision_id";

int
sqlite_sync_deployments(struct store *st, const int64_t *groups,
    size_t n_groups, uint64_t *gen, struct store_sync_deploy **out,
    size_t *n_out, struct wsd_err *err)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	char list[STORE_SYNC_MAX_GROUPS * 24 + 4];
	size_t cap = 0, len = 0;
	sqlite3_stmt *q;
	int rc;

	*out = NULL;
	*n_out = 0;
	if (n_groups > STORE_SYNC_MAX_GROUPS)
		return wsd_fail(err, WSD_EINVAL, "too many groups");
	/* The group keys as a JSON array for json_each: integers only. */
	list[len++] = '[';
	for (size_t i = 0; i < n_groups; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len,
		    "%s%lld", i ? "," : "", (long long)groups[i]);
	list[len++] = ']';
	list[len] = '\0';
	if ((rc = read_begin(s, err)) < 0)
		return rc;
	if ((rc = generation(s, gen, err)) < 0 ||
	    (rc = sqlite_prep(s, dep_sql, &q, err)) < 0)
		return read_end(s, rc, err);
	sqlite3_bind_text(q, 1, list, (int)len, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_sync_deploy *d;

		if ((rc = grow((void **)out, &cap, *n_out, sizeof(*d))) < 0) {
			rc = wsd_fail(err, (enum wsd_errc)rc,
			    "too many approvals");
			break;
		}
		d = &(*out)[(*n_out)++];
		memset(d, 0, sizeof(*d));
		d->revision_id = sqlite3_column_int64(q, 0);
		d->approval_id = sqlite3_column_int64(q, 1);
		copy_col(q, 2, d->action, sizeof(d->action));
		copy_col(q, 3, d->deadline, sizeof(d->deadline));
		copy_col(q, 4, d->changed, sizeof(d->changed));
		d->changed_gen = (uint64_t)sqlite3_column_int64(q, 5);
	}
	sqlite3_finalize(q);
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc >= 0)
		rc = db_fail(s, err, "cannot read approvals");
	rc = read_end(s, rc, err);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*n_out = 0;
	}
	return rc;
}

/* ------------------------------------------------------------ core */

static const char core_sql[] =
    "SELECT xml_core FROM revision WHERE revision_id = ?1";

int
sqlite_revision_core(struct store *st, int64_t revision_id,
    int (*fn)(void *, const char *, size_t), void *arg, struct wsd_err *err)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep_cached(s, core_sql, &q, err)) < 0)
		return rc;
	sqlite3_bind_int64(q, 1, revision_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *x = sqlite3_column_blob(q, 0);
		int n = sqlite3_column_bytes(q, 0);

		rc = fn(arg, x ? x : "", (size_t)(n > 0 ? n : 0));
		sqlite_unprep(q);
		return rc;
	}
	sqlite_unprep(q);
	if (rc == SQLITE_DONE)
		return wsd_fail(err, WSD_ENOTFOUND, "no such revision");
	return db_fail(s, err, "cannot read a revision");
}
