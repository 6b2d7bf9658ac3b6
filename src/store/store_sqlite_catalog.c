/*
 * SQLite backend, catalog half: updates and revisions, target groups,
 * computers, approvals, events. Every statement binds its parameters;
 * every multi-statement change runs under a savepoint, so it is whole
 * or absent even outside a caller's transaction (issue #4 item 9).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/encode.h"
#include "common/log.h"
#include "catalog/fragment.h"
#include "common/sbuf.h"
#include "store/store_sqlite_int.h"

#define ALL_COMPUTERS "a0a08746-4dbe-4a37-9adf-9e7652c0b421"
#define UNASSIGNED "b73ca6ed-5727-47f3-84de-015e03f6a88a"

int
sp_begin(struct store_sqlite *s, struct wsd_err *err)
{
	return exec(s, "SAVEPOINT cat", err, "cannot start a change");
}

int
sp_end(struct store_sqlite *s, int rc, struct wsd_err *err)
{
	if (rc < 0) {
		(void)sqlite3_exec(s->db, "ROLLBACK TO cat; RELEASE cat", NULL,
		    NULL, NULL);
		return rc;
	}
	return exec(s, "RELEASE cat", err, "cannot finish a change");
}

static int
cat_begin(struct store *st, struct wsd_err *err)
{
	return exec(SQ(st), "BEGIN IMMEDIATE", err, "cannot begin");
}

static int
cat_commit(struct store *st, struct wsd_err *err)
{
	return exec(SQ(st), "COMMIT", err, "cannot commit");
}

static void
cat_rollback(struct store *st)
{
	(void)sqlite3_exec(SQ(st)->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Looks up one integer; WSD_ENOTFOUND with NOTFOUND when no row. */
static int
one_int64(struct store_sqlite *s, sqlite3_stmt *q, int64_t *out,
    struct wsd_err *err, const char *notfound)
{
	int rc = sqlite3_step(q);

	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
		return 0;
	}
	sqlite3_finalize(q);
	if (rc == SQLITE_DONE)
		return wsd_fail(err, WSD_ENOTFOUND, notfound);
	return db_fail(s, err, "lookup failed");
}

static int
update_pk_of(struct store_sqlite *s, const char *guid, int64_t *pk,
    struct wsd_err *err)
{
	char id[37];
	sqlite3_stmt *q;
	int rc;

	if (guid_normalize(guid, id) < 0)
		return wsd_fail(err, WSD_EINVAL, "malformed UpdateID");
	if ((rc = sqlite_prep(s, "SELECT update_pk FROM update_ WHERE update_id = ?1",
		 &q, err)) < 0)
		return rc;
	sq_bind_text(q, 1, id);
	return one_int64(s, q, pk, err, "unknown update");
}

static int
group_pk_of(struct store_sqlite *s, const char *name, int64_t *pk,
    struct wsd_err *err)
{
	char id[37];
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s, "SELECT group_pk FROM target_group WHERE "
			  "name = ?1 COLLATE NOCASE OR group_id = ?2",
		 &q, err)) < 0)
		return rc;
	sq_bind_text(q, 1, name);
	sq_bind_text(q, 2, guid_normalize(name, id) == 0 ? id : "");
	return one_int64(s, q, pk, err, "unknown group");
}

static bool
valid_type(const char *t, const char *const *allowed)
{
	for (; t != NULL && *allowed != NULL; allowed++)
		if (strcmp(t, *allowed) == 0)
			return true;
	return false;
}

static int
put_guid_rows(struct store_sqlite *s, const char *sql, int64_t rid,
    unsigned n, const char *const *ids, struct wsd_err *err)
{
	for (unsigned i = 0; i < n; i++) {
		char id[37];
		sqlite3_stmt *q;
		int rc;

		if (guid_normalize(ids[i], id) < 0)
			return wsd_fail(err, WSD_EINVAL,
			    "malformed UpdateID in relationships");
		if ((rc = sqlite_prep(s, sql, &q, err)) < 0)
			return rc;
		sqlite3_bind_int64(q, 1, rid);
		sq_bind_text(q, 2, id);
		if ((rc = sq_run(s, q, err, "cannot store relationship")) < 0)
			return rc;
	}
	return 0;
}

static int
put_file(struct store_sqlite *s, int64_t rid, const struct store_file *f,
    struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	/* A file is known by its SHA-1; the same SHA-1 with another size or
	 * SHA-256 is metadata we must not trust. */
	if ((rc = sqlite_prep(s, "SELECT size, sha256 FROM file WHERE sha1 = ?1", &q,
		 err)) < 0)
		return rc;
	sqlite3_bind_blob(q, 1, f->sha1, 20, SQLITE_TRANSIENT);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const void *h = sqlite3_column_blob(q, 1);
		bool same = (uint64_t)sqlite3_column_int64(q, 0) == f->size &&
		    (!f->has_sha256 || h == NULL ||
			(sqlite3_column_bytes(q, 1) == 32 &&
			    memcmp(h, f->sha256, 32) == 0));

		sqlite3_finalize(q);
		if (!same)
			return wsd_fail(err, WSD_EINVAL,
			    "file metadata conflicts with a stored file of the "
			    "same SHA-1");
	} else {
		sqlite3_finalize(q);
		if (rc != SQLITE_DONE)
			return db_fail(s, err, "cannot read file");
		if ((rc = sqlite_prep(s, "INSERT INTO file (sha1, sha256, size, "
				  "file_name, modified, patching_type) VALUES "
				  "(?1, ?2, ?3, ?4, ?5, ?6)",
			 &q, err)) < 0)
			return rc;
		sqlite3_bind_blob(q, 1, f->sha1, 20, SQLITE_TRANSIENT);
		if (f->has_sha256)
			sqlite3_bind_blob(q, 2, f->sha256, 32, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(q, 2);
		sqlite3_bind_int64(q, 3, (sqlite3_int64)f->size);
		sq_bind_text(q, 4, f->file_name ? f->file_name : "");
		sq_bind_text(q, 5, f->modified ? f->modified : "");
		sq_bind_text(q, 6, f->patching_type);
		if ((rc = sq_run(s, q, err, "cannot store file")) < 0)
			return rc;
	}
	if ((rc = sqlite_prep(s, "INSERT OR IGNORE INTO revision_file (revision_id, "
			  "sha1) VALUES (?1, ?2)",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int64(q, 1, rid);
	sqlite3_bind_blob(q, 2, f->sha1, 20, SQLITE_TRANSIENT);
	return sq_run(s, q, err, "cannot store file");
}

static int
put_relations(struct store_sqlite *s, int64_t rid,
    const struct store_revision_in *in, struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	for (unsigned i = 0; i < in->n_localized; i++) {
		const struct store_localized *l = &in->localized[i];

		if (l->language == NULL || l->xml == NULL)
			return wsd_fail(err, WSD_EINVAL,
			    "localized properties without language");
		if ((rc = sqlite_prep(s, "INSERT INTO revision_localized (revision_id, "
				  "language, title, xml) VALUES (?1, ?2, ?3, ?4)",
			 &q, err)) < 0)
			return rc;
		sqlite3_bind_int64(q, 1, rid);
		sq_bind_text(q, 2, l->language);
		sq_bind_text(q, 3, l->title ? l->title : "");
		sqlite3_bind_blob(q, 4, l->xml, (int)l->xml_len,
		    SQLITE_TRANSIENT);
		if ((rc = sq_run(s, q, err, "cannot store localized properties")) <
		    0)
			return rc;
	}
	for (unsigned i = 0; i < in->n_files; i++)
		if ((rc = put_file(s, rid, &in->files[i], err)) < 0)
			return rc;
	if ((rc = put_guid_rows(s, "INSERT OR IGNORE INTO revision_category "
				   "(revision_id, category_id) VALUES (?1, ?2)",
		 rid, in->n_categories, in->categories, err)) < 0 ||
	    (rc = put_guid_rows(s, "INSERT OR IGNORE INTO supersedes "
				   "(revision_id, superseded_id) VALUES (?1, ?2)",
		 rid, in->n_supersedes, in->supersedes, err)) < 0)
		return rc;
	for (unsigned i = 0; i < in->n_prereqs; i++) {
		const struct store_prereq *p = &in->prereqs[i];
		char id[37];

		if (p->update_id == NULL || guid_normalize(p->update_id, id) < 0)
			return wsd_fail(err, WSD_EINVAL,
			    "malformed UpdateID in prerequisites");
		if ((rc = sqlite_prep(s, "INSERT OR IGNORE INTO prerequisite "
				  "(revision_id, clause, update_id, is_category) "
				  "VALUES (?1, ?2, ?3, ?4)",
			 &q, err)) < 0)
			return rc;
		sqlite3_bind_int64(q, 1, rid);
		sqlite3_bind_int(q, 2, (int)p->clause);
		sq_bind_text(q, 3, id);
		sqlite3_bind_int(q, 4, p->is_category);
		if ((rc = sq_run(s, q, err, "cannot store prerequisite")) < 0)
			return rc;
	}
	for (unsigned i = 0; i < in->n_bundle; i++) {
		const struct store_bundle_member *b = &in->bundle[i];
		char id[37];

		if (b->update_id == NULL || guid_normalize(b->update_id, id) < 0)
			return wsd_fail(err, WSD_EINVAL,
			    "malformed UpdateID in bundle");
		if ((rc = sqlite_prep(s, "INSERT OR IGNORE INTO bundle_member "
				  "(revision_id, clause, update_id, "
				  "revision_number) VALUES (?1, ?2, ?3, ?4)",
			 &q, err)) < 0)
			return rc;
		sqlite3_bind_int64(q, 1, rid);
		sqlite3_bind_int(q, 2, (int)b->clause);
		sq_bind_text(q, 3, id);
		sqlite3_bind_int(q, 4, b->revision_number);
		if ((rc = sq_run(s, q, err, "cannot store bundle member")) < 0)
			return rc;
	}
	return 0;
}

/* "a,b" from the GUIDs of A that B has too (all of A when B is NULL). */
static int
chid_list(struct sbuf *sb, const struct fragment_guid *a, size_t na,
    const struct fragment_guid *b, size_t nb, bool intersect)
{
	bool first = true;

	for (size_t i = 0; i < na; i++) {
		bool keep = !intersect;

		for (size_t k = 0; intersect && !keep && k < nb; k++)
			keep = strcmp(a[i].s, b[k].s) == 0;
		if (!keep)
			continue;
		if ((!first && sbuf_adds(sb, ",") < 0) ||
		    sbuf_adds(sb, a[i].s) < 0)
			return -1;
		first = false;
	}
	return 0;
}

/*
 * The driver table rows of a driver revision (schema 0006), derived from
 * its core fragment: what SyncUpdates' driver pass matches on. The
 * effective CHIDs are Target and Distribution intersected when both are
 * given, else whichever is (MS-WUSP 3.1.5.7).
 */
static int
put_drivers(struct store_sqlite *s, int64_t rid,
    const struct store_revision_in *in, struct wsd_err *err)
{
	struct fragment_driver *d = NULL;
	struct sbuf chids, scores;
	sqlite3_stmt *q;
	size_t n = 0;
	int rc;

	if ((rc = fragment_parse_drivers(in->xml_core, in->xml_core_len, &d,
		 &n, err)) < 0)
		return rc;
	if (n == 0)
		return wsd_fail(err, WSD_EINVAL,
		    "driver revision without d.WindowsDriverMetaData");
	sbuf_init(&chids, 64 * 1024);
	sbuf_init(&scores, 64 * 1024);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct fragment_driver *e = &d[i];
		bool both = e->n_target_chids > 0 && e->n_dist_chids > 0;

		sbuf_reset(&chids);
		sbuf_reset(&scores);
		if ((e->n_target_chids > 0 ?
			    chid_list(&chids, e->target_chids,
				e->n_target_chids, e->dist_chids,
				e->n_dist_chids, both) :
			    chid_list(&chids, e->dist_chids, e->n_dist_chids,
				NULL, 0, false)) < 0) {
			rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
			break;
		}
		for (size_t k = 0; k < e->n_scores; k++)
			if (sbuf_addf(&scores, "%s%s=%02X", k ? "," : "",
				e->scores[k].os, e->scores[k].score) < 0) {
				rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
				break;
			}
		if (rc < 0)
			break;
		if ((rc = sqlite_prep(s, "INSERT INTO driver_metadata "
				  "(revision_id, seq, hardware_id, "
				  "driver_date, driver_version, driver_class, "
				  "provider, manufacturer, chids, "
				  "chid_targeted, feature_scores) VALUES (?1, "
				  "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
			 &q, err)) < 0)
			break;
		sqlite3_bind_int64(q, 1, rid);
		sqlite3_bind_int64(q, 2, (int64_t)i);
		sq_bind_text(q, 3, e->hardware_id);
		sqlite3_bind_int(q, 4, e->date);
		sqlite3_bind_int64(q, 5, (int64_t)e->version);
		sq_bind_text(q, 6, e->driver_class);
		sq_bind_text(q, 7, e->provider);
		sq_bind_text(q, 8, e->manufacturer);
		sq_bind_text(q, 9, sbuf_str(&chids));
		sqlite3_bind_int(q, 10,
		    e->n_target_chids > 0 || e->n_dist_chids > 0);
		sq_bind_text(q, 11, sbuf_str(&scores));
		rc = sq_run(s, q, err, "cannot store driver metadata");
	}
	sbuf_release(&chids);
	sbuf_release(&scores);
	fragment_drivers_release(d, n);
	return rc;
}

static int
revision_put_locked(struct store_sqlite *s, const struct store_revision_in *in,
    int64_t *revision_id, bool *existed, struct wsd_err *err)
{
	static const char *const types[] = { "Software", "Driver", "Category",
		"Detectoid", NULL };
	static const char *const cats[] = { "Company", "ProductFamily",
		"Product", "UpdateClassification", NULL };
	static const char *const origins[] = { "local", "import", "upstream",
		"seed", NULL };
	char id[37], now[32];
	int64_t upk, maxrev = -1;
	sqlite3_stmt *q;
	int rc;

	*existed = false;
	if (in->update_id == NULL || guid_normalize(in->update_id, id) < 0)
		return wsd_fail(err, WSD_EINVAL, "malformed UpdateID");
	if (!valid_type(in->update_type, types))
		return wsd_fail(err, WSD_EINVAL, "unknown update type");
	if ((strcmp(in->update_type, "Category") == 0) !=
	    (in->category_type != NULL) ||
	    (in->category_type != NULL && !valid_type(in->category_type, cats)))
		return wsd_fail(err, WSD_EINVAL, "bad category type");
	if (!valid_type(in->origin, origins))
		return wsd_fail(err, WSD_EINVAL, "unknown origin");
	if (in->revision_number < 0 || in->xml_core == NULL ||
	    in->xml_core_len == 0)
		return wsd_fail(err, WSD_EINVAL, "revision without core metadata");
	sq_now_iso(now);

	if ((rc = sqlite_prep(s, "SELECT update_pk, update_type FROM update_ WHERE "
			  "update_id = ?1",
		 &q, err)) < 0)
		return rc;
	sq_bind_text(q, 1, id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		upk = sqlite3_column_int64(q, 0);
		if (strcmp(sq_col(q, 1), in->update_type) != 0) {
			sqlite3_finalize(q);
			return wsd_fail(err, WSD_EINVAL,
			    "update type differs from the stored update");
		}
		sqlite3_finalize(q);
	} else {
		sqlite3_finalize(q);
		if (rc != SQLITE_DONE)
			return db_fail(s, err, "cannot read update");
		if ((rc = sqlite_prep(s, "INSERT INTO update_ (update_id, update_type, "
				  "category_type, origin, created) VALUES "
				  "(?1, ?2, ?3, ?4, ?5)",
			 &q, err)) < 0)
			return rc;
		sq_bind_text(q, 1, id);
		sq_bind_text(q, 2, in->update_type);
		sq_bind_text(q, 3, in->category_type);
		sq_bind_text(q, 4, in->origin);
		sq_bind_text(q, 5, now);
		if ((rc = sq_run(s, q, err, "cannot store update")) < 0)
			return rc;
		upk = sqlite3_last_insert_rowid(s->db);
	}

	/* Same revision again: a no-op if identical, else refused. */
	if ((rc = sqlite_prep(s, "SELECT revision_id, xml_core FROM revision WHERE "
			  "update_pk = ?1 AND revision_number = ?2",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int64(q, 1, upk);
	sqlite3_bind_int(q, 2, in->revision_number);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		bool same = (size_t)sqlite3_column_bytes(q, 1) ==
			in->xml_core_len &&
		    memcmp(sqlite3_column_blob(q, 1), in->xml_core,
			in->xml_core_len) == 0;

		*revision_id = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
		if (!same)
			return wsd_fail(err, WSD_EINVAL,
			    "revision exists with other metadata");
		*existed = true;
		return 0;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "cannot read revision");

	if ((rc = sqlite_prep(s, "SELECT max(revision_number) FROM revision WHERE "
			  "update_pk = ?1",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int64(q, 1, upk);
	if (sqlite3_step(q) == SQLITE_ROW &&
	    sqlite3_column_type(q, 0) != SQLITE_NULL)
		maxrev = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (in->revision_number > maxrev) {
		if ((rc = sqlite_prep(s, "UPDATE revision SET is_latest = 0 WHERE "
				  "update_pk = ?1",
			 &q, err)) < 0)
			return rc;
		sqlite3_bind_int64(q, 1, upk);
		if ((rc = sq_run(s, q, err, "cannot update revisions")) < 0)
			return rc;
	}
	if ((rc = sqlite_prep(s, "INSERT INTO revision (update_pk, revision_number, "
			  "is_latest, explicitly_deployable, is_leaf, "
			  "is_bundle, kb_article, msrc_severity, eula_id, "
			  "title, xml_core, xml_extended, created) VALUES "
			  "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
			  "?12, ?13)",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int64(q, 1, upk);
	sqlite3_bind_int(q, 2, in->revision_number);
	sqlite3_bind_int(q, 3, in->revision_number > maxrev);
	sqlite3_bind_int(q, 4, in->explicitly_deployable);
	sqlite3_bind_int(q, 5, in->is_leaf);
	sqlite3_bind_int(q, 6, in->is_bundle);
	sq_bind_text(q, 7, in->kb_article);
	sq_bind_text(q, 8, in->msrc_severity);
	sq_bind_text(q, 9, in->eula_id);
	sq_bind_text(q, 10, in->title ? in->title : "");
	sqlite3_bind_blob(q, 11, in->xml_core, (int)in->xml_core_len,
	    SQLITE_TRANSIENT);
	if (in->xml_extended != NULL)
		sqlite3_bind_blob(q, 12, in->xml_extended,
		    (int)in->xml_extended_len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, 12);
	sq_bind_text(q, 13, now);
	if ((rc = sq_run(s, q, err, "cannot store revision")) < 0)
		return rc;
	*revision_id = sqlite3_last_insert_rowid(s->db);
	if ((rc = put_relations(s, *revision_id, in, err)) < 0)
		return rc;
	return strcmp(in->update_type, "Driver") == 0 ?
	    put_drivers(s, *revision_id, in, err) :
	    0;
}

static int
cat_revision_put(struct store *st, const struct store_revision_in *in,
    int64_t *revision_id, bool *existed, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	int rc;

	if ((rc = sp_begin(s, err)) < 0)
		return rc;
	rc = revision_put_locked(s, in, revision_id, existed, err);
	return sp_end(s, rc, err);
}

static int
cat_updates_list(struct store *st, const struct store_update_filter *f,
    int (*cb)(void *, const struct store_update_row *), void *arg,
    struct wsd_err *err)
{
	/* Category titles come from the categories' latest revisions. */
	static const char sql[] =
	    "SELECT u.update_id, r.revision_number, r.revision_id, "
	    " u.update_type, coalesce(u.category_type, ''), r.title, "
	    " coalesce(r.kb_article, ''), coalesce(r.msrc_severity, ''), "
	    " coalesce((SELECT cr.title FROM revision_category rc "
	    "  JOIN update_ cu ON cu.update_id = rc.category_id "
	    "  JOIN revision cr ON cr.update_pk = cu.update_pk "
	    "   AND cr.is_latest = 1 "
	    "  WHERE rc.revision_id = r.revision_id "
	    "   AND cu.category_type = 'UpdateClassification' LIMIT 1), ''), "
	    " coalesce((SELECT cr.title FROM revision_category rc "
	    "  JOIN update_ cu ON cu.update_id = rc.category_id "
	    "  JOIN revision cr ON cr.update_pk = cu.update_pk "
	    "   AND cr.is_latest = 1 "
	    "  WHERE rc.revision_id = r.revision_id "
	    "   AND cu.category_type = 'Product' LIMIT 1), ''), "
	    " u.declined, u.origin, "
	    " (SELECT count(*) FROM revision_file rf "
	    "  WHERE rf.revision_id = r.revision_id), "
	    " (SELECT coalesce(sum(fl.size), 0) FROM revision_file rf "
	    "  JOIN file fl ON fl.sha1 = rf.sha1 "
	    "  WHERE rf.revision_id = r.revision_id), "
	    " (SELECT count(*) FROM supersedes sp JOIN revision sr "
	    "  ON sr.revision_id = sp.revision_id AND sr.is_latest = 1 "
	    "  WHERE sp.superseded_id = u.update_id) "
	    "FROM update_ u JOIN revision r ON r.update_pk = u.update_pk "
	    " AND r.is_latest = 1 "
	    "WHERE ((?1 IS NULL AND u.update_type <> 'Category') "
	    "  OR u.update_type = ?1) "
	    " AND (?2 OR u.declined = 0) "
	    " AND (?3 IS NULL OR EXISTS (SELECT 1 FROM revision_category rc "
	    "  WHERE rc.revision_id = r.revision_id AND rc.category_id = ?3)) "
	    " AND (?4 IS NULL OR EXISTS (SELECT 1 FROM revision_category rc "
	    "  WHERE rc.revision_id = r.revision_id AND rc.category_id = ?4)) "
	    "ORDER BY u.update_id";
	struct store_sqlite *s = SQ(st);
	char c1[37], c2[37];
	sqlite3_stmt *q;
	int rc;

	if (f->classification && guid_normalize(f->classification, c1) < 0)
		return wsd_fail(err, WSD_EINVAL, "malformed classification id");
	if (f->product && guid_normalize(f->product, c2) < 0)
		return wsd_fail(err, WSD_EINVAL, "malformed product id");
	if ((rc = sqlite_prep(s, sql, &q, err)) < 0)
		return rc;
	sq_bind_text(q, 1, f->update_type);
	sqlite3_bind_int(q, 2, f->include_declined);
	sq_bind_text(q, 3, f->classification ? c1 : NULL);
	sq_bind_text(q, 4, f->product ? c2 : NULL);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_update_row row = {
			.update_id = sq_col(q, 0),
			.revision_number = sqlite3_column_int(q, 1),
			.revision_id = sqlite3_column_int64(q, 2),
			.update_type = sq_col(q, 3),
			.category_type = sq_col(q, 4),
			.title = sq_col(q, 5),
			.kb_article = sq_col(q, 6),
			.msrc_severity = sq_col(q, 7),
			.classification = sq_col(q, 8),
			.product = sq_col(q, 9),
			.declined = sqlite3_column_int(q, 10) != 0,
			.origin = sq_col(q, 11),
			.n_files = (unsigned)sqlite3_column_int(q, 12),
			.bytes = (uint64_t)sqlite3_column_int64(q, 13),
			.n_superseded_by = (unsigned)sqlite3_column_int(q, 14),
		};

		if (cb(arg, &row) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "cannot list updates");
	return 0;
}

static int
cat_category_find(struct store *st, const char *type, const char *name_or_id,
    char out_id[37], struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	char id[37];
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s, "SELECT u.update_id FROM update_ u JOIN revision r "
			  "ON r.update_pk = u.update_pk AND r.is_latest = 1 "
			  "WHERE u.update_type = 'Category' AND "
			  "u.category_type = ?1 AND (u.update_id = ?2 OR "
			  "r.title = ?3 COLLATE NOCASE) ORDER BY u.update_pk "
			  "LIMIT 1",
		 &q, err)) < 0)
		return rc;
	sq_bind_text(q, 1, type);
	sq_bind_text(q, 2, guid_normalize(name_or_id, id) == 0 ? id : "");
	sq_bind_text(q, 3, name_or_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		snprintf(out_id, 37, "%s", sq_col(q, 0));
	sqlite3_finalize(q);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return wsd_fail(err, WSD_ENOTFOUND, "unknown category");
	return db_fail(s, err, "cannot look up category");
}

static int
is_category(struct store_sqlite *s, int64_t upk, bool *cat, bool *declined,
    struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s, "SELECT update_type = 'Category', declined FROM "
			  "update_ WHERE update_pk = ?1",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int64(q, 1, upk);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*cat = sqlite3_column_int(q, 0) != 0;
		*declined = sqlite3_column_int(q, 1) != 0;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_ROW ? 0 : db_fail(s, err, "cannot read update");
}

static int
cat_update_decline(struct store *st, const char *update_id,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	bool cat = false, declined = false;
	sqlite3_stmt *q;
	int64_t upk = 0;
	int rc;

	if ((rc = sp_begin(s, err)) < 0)
		return rc;
	if ((rc = update_pk_of(s, update_id, &upk, err)) < 0 ||
	    (rc = is_category(s, upk, &cat, &declined, err)) < 0)
		return sp_end(s, rc, err);
	if (cat)
		return sp_end(s, wsd_fail(err, WSD_EINVAL,
				     "categories cannot be declined"),
		    err);
	if ((rc = sqlite_prep(s, "UPDATE update_ SET declined = 1 WHERE update_pk = ?1",
		 &q, err)) < 0)
		return sp_end(s, rc, err);
	sqlite3_bind_int64(q, 1, upk);
	if ((rc = sq_run(s, q, err, "cannot decline")) < 0)
		return sp_end(s, rc, err);
	if ((rc = sqlite_prep(s, "DELETE FROM approval WHERE update_pk = ?1", &q,
		 err)) < 0)
		return sp_end(s, rc, err);
	sqlite3_bind_int64(q, 1, upk);
	rc = sq_run(s, q, err, "cannot remove approvals");
	return sp_end(s, rc, err);
}

static bool
valid_name(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > STORE_MAX_NAME)
		return false;
	for (const unsigned char *p = (const unsigned char *)n; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return n[0] != ' ' && n[len - 1] != ' ';
}

static int
cat_group_add(struct store *st, const char *name, const char *parent,
    char out_id[37], struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	int64_t ppk = 0, existing = 0;
	char now[32], id[37];
	sqlite3_stmt *q;
	int rc;

	if (!valid_name(name))
		return wsd_fail(err, WSD_EINVAL,
		    "group name must be 1-256 printable characters");
	if (guid_normalize(name, id) == 0)
		return wsd_fail(err, WSD_EINVAL, "group name cannot be a GUID");
	if ((rc = sp_begin(s, err)) < 0)
		return rc;
	rc = group_pk_of(s, name, &existing, err);
	if (rc == 0)
		return sp_end(s, wsd_fail(err, WSD_EINVAL,
				     "group already exists"),
		    err);
	if (rc != WSD_ENOTFOUND)
		return sp_end(s, rc, err);
	if ((rc = group_pk_of(s, parent ? parent : ALL_COMPUTERS, &ppk, err)) <
	    0)
		return sp_end(s, rc == WSD_ENOTFOUND ?
			wsd_fail(err, rc, "unknown parent group") : rc, err);
	{
		int64_t unassigned;

		if ((rc = group_pk_of(s, UNASSIGNED, &unassigned, err)) < 0)
			return sp_end(s, rc, err);
		if (ppk == unassigned)
			return sp_end(s, wsd_fail(err, WSD_EINVAL,
					     "groups cannot be created under "
					     "Unassigned Computers"),
			    err);
	}
	if ((rc = guid_generate(id, err)) < 0)
		return sp_end(s, rc, err);
	sq_now_iso(now);
	if ((rc = sqlite_prep(s, "INSERT INTO target_group (group_id, name, "
			  "parent_pk, created) VALUES (?1, ?2, ?3, ?4)",
		 &q, err)) < 0)
		return sp_end(s, rc, err);
	sq_bind_text(q, 1, id);
	sq_bind_text(q, 2, name);
	sqlite3_bind_int64(q, 3, ppk);
	sq_bind_text(q, 4, now);
	if ((rc = sq_run(s, q, err, "cannot add group")) < 0)
		return sp_end(s, rc, err);
	if (out_id != NULL)
		memcpy(out_id, id, 37);
	return sp_end(s, 0, err);
}

static int
cat_group_remove(struct store *st, const char *name, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	int64_t pk = 0, n = 0;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sp_begin(s, err)) < 0)
		return rc;
	if ((rc = group_pk_of(s, name, &pk, err)) < 0)
		return sp_end(s, rc, err);
	if ((rc = sqlite_prep(s, "SELECT builtin FROM target_group WHERE "
			  "group_pk = ?1",
		 &q, err)) < 0)
		return sp_end(s, rc, err);
	sqlite3_bind_int64(q, 1, pk);
	if ((rc = one_int64(s, q, &n, err, "unknown group")) < 0)
		return sp_end(s, rc, err);
	if (n != 0)
		return sp_end(s, wsd_fail(err, WSD_EPERM,
				     "built-in groups cannot be removed"),
		    err);
	if ((rc = sqlite_prep(s, "SELECT count(*) FROM target_group WHERE "
			  "parent_pk = ?1",
		 &q, err)) < 0)
		return sp_end(s, rc, err);
	sqlite3_bind_int64(q, 1, pk);
	if ((rc = one_int64(s, q, &n, err, "unknown group")) < 0)
		return sp_end(s, rc, err);
	if (n != 0)
		return sp_end(s, wsd_fail(err, WSD_EINVAL,
				     "group has child groups: remove them "
				     "first"),
		    err);
	/* Computers only in this group go back to Unassigned Computers. */
	if ((rc = sqlite_prep(s, "INSERT OR IGNORE INTO computer_group_member "
			  "(computer_pk, group_pk) SELECT m.computer_pk, "
			  "(SELECT group_pk FROM target_group WHERE "
			  "group_id = '" UNASSIGNED "') FROM "
			  "computer_group_member m WHERE m.group_pk = ?1 AND "
			  "NOT EXISTS (SELECT 1 FROM computer_group_member o "
			  "WHERE o.computer_pk = m.computer_pk AND "
			  "o.group_pk <> ?1)",
		 &q, err)) < 0)
		return sp_end(s, rc, err);
	sqlite3_bind_int64(q, 1, pk);
	if ((rc = sq_run(s, q, err, "cannot move computers")) < 0)
		return sp_end(s, rc, err);
	if ((rc = sqlite_prep(s, "DELETE FROM target_group WHERE group_pk = ?1", &q,
		 err)) < 0)
		return sp_end(s, rc, err);
	sqlite3_bind_int64(q, 1, pk);
	rc = sq_run(s, q, err, "cannot remove group");
	return sp_end(s, rc, err);
}

static int
cat_groups_list(struct store *st,
    int (*cb)(void *, const struct store_group_row *), void *arg,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	/* Depth-first order of the tree, siblings by name. */
	if ((rc = sqlite_prep(s,
		 "WITH RECURSIVE t(pk, path) AS ("
		 " SELECT group_pk, name FROM target_group WHERE parent_pk IS NULL"
		 " UNION ALL SELECT g.group_pk, t.path || char(1) || g.name"
		 " FROM target_group g JOIN t ON g.parent_pk = t.pk) "
		 "SELECT g.group_id, g.name, coalesce(p.name, ''), g.builtin, "
		 " (SELECT count(*) FROM computer_group_member m "
		 "  WHERE m.group_pk = g.group_pk) "
		 "FROM t JOIN target_group g ON g.group_pk = t.pk "
		 "LEFT JOIN target_group p ON p.group_pk = g.parent_pk "
		 "ORDER BY t.path COLLATE NOCASE",
		 &q, err)) < 0)
		return rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_group_row row = {
			.group_id = sq_col(q, 0),
			.name = sq_col(q, 1),
			.parent = sq_col(q, 2),
			.builtin = sqlite3_column_int(q, 3) != 0,
			.n_computers = (unsigned)sqlite3_column_int(q, 4),
		};

		if (cb(arg, &row) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "cannot list groups");
	return 0;
}

static int
cat_computer_upsert(struct store *st, const char *computer_id,
    const char *dns_name, const char *os_description, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	char id[37], now[32];
	sqlite3_stmt *q;
	int rc;

	if (computer_id == NULL || guid_normalize(computer_id, id) < 0)
		return wsd_fail(err, WSD_EINVAL, "malformed computer id");
	if (dns_name == NULL || strlen(dns_name) > 255 ||
	    (os_description && strlen(os_description) > 1024))
		return wsd_fail(err, WSD_EINVAL, "computer name too long");
	sq_now_iso(now);
	if ((rc = sp_begin(s, err)) < 0)
		return rc;
	if ((rc = sqlite_prep(s, "INSERT INTO computer (computer_id, dns_name, "
			  "os_description, created) VALUES (?1, ?2, ?3, ?4) "
			  "ON CONFLICT (computer_id) DO UPDATE SET "
			  "dns_name = excluded.dns_name, os_description = "
			  "CASE excluded.os_description WHEN '' THEN "
			  "computer.os_description ELSE "
			  "excluded.os_description END",
		 &q, err)) < 0)
		return sp_end(s, rc, err);
	sq_bind_text(q, 1, id);
	sq_bind_text(q, 2, dns_name);
	sq_bind_text(q, 3, os_description ? os_description : "");
	sq_bind_text(q, 4, now);
	if ((rc = sq_run(s, q, err, "cannot store computer")) < 0)
		return sp_end(s, rc, err);
	if ((rc = sqlite_prep(s, "INSERT INTO computer_group_member (computer_pk, "
			  "group_pk) SELECT c.computer_pk, g.group_pk FROM "
			  "computer c, target_group g WHERE c.computer_id = ?1 "
			  "AND g.group_id = '" UNASSIGNED "' AND NOT EXISTS "
			  "(SELECT 1 FROM computer_group_member m WHERE "
			  "m.computer_pk = c.computer_pk)",
		 &q, err)) < 0)
		return sp_end(s, rc, err);
	sq_bind_text(q, 1, id);
	rc = sq_run(s, q, err, "cannot assign computer");
	return sp_end(s, rc, err);
}

static int
cat_computer_move(struct store *st, const char *computer, const char *group,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	int64_t cpk = 0, gpk = 0, all = 0;
	char id[37];
	sqlite3_stmt *q;
	int rc;

	if ((rc = sp_begin(s, err)) < 0)
		return rc;
	if ((rc = sqlite_prep(s, "SELECT computer_pk FROM computer WHERE "
			  "computer_id = ?1 OR dns_name = ?2 COLLATE NOCASE "
			  "ORDER BY computer_pk LIMIT 1",
		 &q, err)) < 0)
		return sp_end(s, rc, err);
	sq_bind_text(q, 1, guid_normalize(computer, id) == 0 ? id : "");
	sq_bind_text(q, 2, computer);
	if ((rc = one_int64(s, q, &cpk, err, "unknown computer")) < 0 ||
	    (rc = group_pk_of(s, group, &gpk, err)) < 0 ||
	    (rc = group_pk_of(s, ALL_COMPUTERS, &all, err)) < 0)
		return sp_end(s, rc, err);
	if (gpk == all)
		return sp_end(s, wsd_fail(err, WSD_EINVAL,
				     "every computer is in All Computers: "
				     "choose another group"),
		    err);
	if ((rc = sqlite_prep(s, "DELETE FROM computer_group_member WHERE "
			  "computer_pk = ?1",
		 &q, err)) < 0)
		return sp_end(s, rc, err);
	sqlite3_bind_int64(q, 1, cpk);
	if ((rc = sq_run(s, q, err, "cannot move computer")) < 0)
		return sp_end(s, rc, err);
	if ((rc = sqlite_prep(s, "INSERT INTO computer_group_member (computer_pk, "
			  "group_pk) VALUES (?1, ?2)",
		 &q, err)) < 0)
		return sp_end(s, rc, err);
	sqlite3_bind_int64(q, 1, cpk);
	sqlite3_bind_int64(q, 2, gpk);
	rc = sq_run(s, q, err, "cannot move computer");
	return sp_end(s, rc, err);
}

static int
cat_computers_list(struct store *st,
    int (*cb)(void *, const struct store_computer_row *), void *arg,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s, "SELECT c.computer_id, c.dns_name, "
			  "coalesce((SELECT group_concat(name, ', ') FROM "
			  "(SELECT g.name FROM computer_group_member m JOIN "
			  "target_group g ON g.group_pk = m.group_pk WHERE "
			  "m.computer_pk = c.computer_pk ORDER BY g.name)), ''), "
			  "coalesce(c.last_sync, ''), c.os_description, "
			  "c.manufacturer, c.model FROM computer c "
			  "ORDER BY c.dns_name COLLATE NOCASE, c.computer_id",
		 &q, err)) < 0)
		return rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_computer_row row = {
			.computer_id = sq_col(q, 0),
			.dns_name = sq_col(q, 1),
			.groups = sq_col(q, 2),
			.last_sync = sq_col(q, 3),
			.os_description = sq_col(q, 4),
			.manufacturer = sq_col(q, 5),
			.model = sq_col(q, 6),
		};

		if (cb(arg, &row) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "cannot list computers");
	return 0;
}

/*
 * ISO-8601 deadlines: YYYY-MM-DD, or with THH:MM[:SS] and an optional Z;
 * normalised to YYYY-MM-DDTHH:MM:SSZ (UTC).
 */
static int
normalize_deadline(const char *in, char out[32])
{
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	size_t len = strlen(in);
	struct tm tm = { 0 };

	if (len == 10) {
		if (sscanf(in, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
			return -1;
	} else if (len >= 16 && len <= 20) {
		if (sscanf(in, "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi,
			&n) != 5 || n != 16)
			return -1;
		if (in[16] == ':') {
			int n2 = 0;

			if (sscanf(in + 16, ":%2d%n", &sec, &n2) != 1 || n2 != 3)
				return -1;
			n += 3;
		}
		if (in[n] == 'Z')
			n++;
		if ((size_t)n != len)
			return -1;
	} else {
		return -1;
	}
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 59 || in[4] != '-' || in[7] != '-')
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	{
		time_t t = timegm(&tm);
		struct tm back;

		gmtime_r(&t, &back);
		if (back.tm_mday != d || back.tm_mon != mo - 1)
			return -1; /* 2026-02-31 */
	}
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi,
	    sec);
	return 0;
}

static int
cat_approval_set(struct store *st, const char *update_id, const char *group,
    const char *action, const char *deadline, const char *admin,
    struct wsd_err *err)
{
	static const char *const actions[] = { "Install", "Uninstall",
		"NotApproved", NULL };
	struct store_sqlite *s = SQ(st);
	char dl[32], now[32];
	bool cat = false, declined = false;
	int64_t upk = 0, gpk = 0;
	sqlite3_stmt *q;
	int rc;

	if (!valid_type(action, actions))
		return wsd_fail(err, WSD_EINVAL,
		    "action must be install, uninstall or notapproved");
	if (deadline != NULL && normalize_deadline(deadline, dl) < 0)
		return wsd_fail(err, WSD_EINVAL,
		    "deadline is not an ISO-8601 date or time");
	if ((rc = sp_begin(s, err)) < 0)
		return rc;
	if ((rc = update_pk_of(s, update_id, &upk, err)) < 0 ||
	    (rc = group_pk_of(s, group, &gpk, err)) < 0 ||
	    (rc = is_category(s, upk, &cat, &declined, err)) < 0)
		return sp_end(s, rc, err);
	if (cat)
		return sp_end(s, wsd_fail(err, WSD_EINVAL,
				     "categories cannot be approved"),
		    err);
	if (declined && strcmp(action, "NotApproved") != 0)
		return sp_end(s, wsd_fail(err, WSD_EINVAL,
				     "update is declined"),
		    err);
	sq_now_iso(now);
	if ((rc = sqlite_prep(s, "INSERT INTO approval (update_pk, group_pk, action, "
			  "deadline, admin, created) VALUES (?1, ?2, ?3, ?4, "
			  "?5, ?6) ON CONFLICT (update_pk, group_pk) DO UPDATE "
			  "SET action = excluded.action, deadline = "
			  "excluded.deadline, admin = excluded.admin, created "
			  "= excluded.created",
		 &q, err)) < 0)
		return sp_end(s, rc, err);
	sqlite3_bind_int64(q, 1, upk);
	sqlite3_bind_int64(q, 2, gpk);
	sq_bind_text(q, 3, action);
	sq_bind_text(q, 4, deadline ? dl : NULL);
	sq_bind_text(q, 5, admin ? admin : "");
	sq_bind_text(q, 6, now);
	rc = sq_run(s, q, err, "cannot store approval");
	return sp_end(s, rc, err);
}

static int
cat_approval_effective(struct store *st, const char *update_id,
    const char *group, char action[16], char deadline[40],
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	int64_t upk = 0, gpk = 0;
	sqlite3_stmt *q;
	int rc;

	if ((rc = update_pk_of(s, update_id, &upk, err)) < 0 ||
	    (rc = group_pk_of(s, group, &gpk, err)) < 0)
		return rc;
	/* The nearest group on the way up that has an approval decides. */
	if ((rc = sqlite_prep(s,
		 "WITH RECURSIVE up(pk, depth) AS ("
		 " SELECT ?2, 0 UNION ALL SELECT g.parent_pk, up.depth + 1"
		 " FROM target_group g JOIN up ON g.group_pk = up.pk"
		 " WHERE g.parent_pk IS NOT NULL AND up.depth < 64) "
		 "SELECT a.action, coalesce(a.deadline, '') FROM up "
		 "JOIN approval a ON a.group_pk = up.pk AND a.update_pk = ?1 "
		 "JOIN update_ u ON u.update_pk = a.update_pk "
		 "WHERE u.declined = 0 ORDER BY up.depth LIMIT 1",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int64(q, 1, upk);
	sqlite3_bind_int64(q, 2, gpk);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		snprintf(action, 16, "%s", sq_col(q, 0));
		snprintf(deadline, 40, "%s", sq_col(q, 1));
	} else {
		snprintf(action, 16, "NotApproved");
		deadline[0] = '\0';
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "cannot read approvals");
	return 0;
}

static int
cat_approvals_list(struct store *st, const char *update_id,
    int (*cb)(void *, const struct store_approval_row *), void *arg,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	char id[37];
	sqlite3_stmt *q;
	int rc;

	if (update_id != NULL && guid_normalize(update_id, id) < 0)
		return wsd_fail(err, WSD_EINVAL, "malformed UpdateID");
	if ((rc = sqlite_prep(s, "SELECT u.update_id, g.name, a.action, "
			  "coalesce(a.deadline, ''), a.created FROM approval a "
			  "JOIN update_ u ON u.update_pk = a.update_pk "
			  "JOIN target_group g ON g.group_pk = a.group_pk "
			  "WHERE ?1 IS NULL OR u.update_id = ?1 "
			  "ORDER BY u.update_id, g.name COLLATE NOCASE",
		 &q, err)) < 0)
		return rc;
	sq_bind_text(q, 1, update_id ? id : NULL);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_approval_row row = {
			.update_id = sq_col(q, 0),
			.group = sq_col(q, 1),
			.action = sq_col(q, 2),
			.deadline = sq_col(q, 3),
			.created = sq_col(q, 4),
		};

		if (cb(arg, &row) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "cannot list approvals");
	return 0;
}

static int
cat_event_add(struct store *st, const char *kind, const char *subject,
    const char *message, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	char now[32];
	int rc;

	sq_now_iso(now);
	if ((rc = sqlite_prep(s, "INSERT INTO event (time, kind, subject, message) "
			  "VALUES (?1, ?2, ?3, ?4)",
		 &q, err)) < 0)
		return rc;
	sq_bind_text(q, 1, now);
	sq_bind_text(q, 2, kind);
	sq_bind_text(q, 3, subject ? subject : "");
	sq_bind_text(q, 4, message);
	return sq_run(s, q, err, "cannot record event");
}

static int
cat_client_events_add(struct store *st, const struct store_client_event *ev,
    size_t n, size_t *added, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	char now[32];
	int rc;

	*added = 0;
	sq_now_iso(now);
	if ((rc = sp_begin(s, err)) < 0)
		return rc;
	if ((rc = sqlite_prep(s, "INSERT OR IGNORE INTO client_event "
			  "(event_instance_id, computer_id, time_at_target, "
			  "event_id, source_id, update_id, revision_number, "
			  "hresult, app_name, replacement_strings, misc_data, "
			  "received) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
			  "?9, ?10, ?11, ?12)",
		 &q, err)) < 0)
		return sp_end(s, rc, err);
	for (size_t i = 0; i < n; i++) {
		const struct store_client_event *e = &ev[i];

		sqlite3_reset(q);
		sq_bind_text(q, 1, e->event_instance_id);
		sq_bind_text(q, 2, e->computer_id);
		sq_bind_text(q, 3, e->time_at_target);
		sqlite3_bind_int(q, 4, e->event_id);
		sqlite3_bind_int(q, 5, e->source_id);
		sq_bind_text(q, 6, e->update_id);
		sqlite3_bind_int(q, 7, e->revision_number);
		sqlite3_bind_int(q, 8, e->hresult);
		sq_bind_text(q, 9, e->app_name ? e->app_name : "");
		sq_bind_text(q, 10, e->replacement_strings ? e->replacement_strings :
							   "");
		sq_bind_text(q, 11, e->misc_data ? e->misc_data : "");
		sq_bind_text(q, 12, now);
		stmt_clock(s);
		if (sqlite3_step(q) != SQLITE_DONE) {
			sqlite3_finalize(q);
			return sp_end(s, db_fail(s, err, "cannot store events"),
			    err);
		}
		*added += (size_t)sqlite3_changes(s->db);
	}
	sqlite3_finalize(q);
	return sp_end(s, 0, err);
}

static int
cat_client_events_each(struct store *st, const char *computer_id,
    int (*cb)(void *, const struct store_client_event_row *), void *arg,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s, "SELECT event_id, update_id, misc_data, "
			  "time_at_target FROM client_event WHERE computer_id "
			  "= ?1 ORDER BY time_at_target, rowid",
		 &q, err)) < 0)
		return rc;
	sq_bind_text(q, 1, computer_id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_client_event_row row = {
			.event_id = sqlite3_column_int(q, 0),
			.update_id = sq_col(q, 1),
			.misc_data = sq_col(q, 2),
			.time_at_target = sq_col(q, 3),
		};

		if (cb(arg, &row) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "cannot read events");
	return 0;
}

static int
cat_client_events_recent(struct store *st, const char *computer,
    unsigned limit,
    int (*cb)(void *, const struct store_client_event_full *), void *arg,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	char id[37];
	sqlite3_stmt *q;
	bool any = false;
	int rc;

	/* By ID whether or not the computer is still registered; by name
	 * only while it is. */
	if ((rc = sqlite_prep(s, "SELECT e.event_instance_id, e.computer_id, "
			  "e.time_at_target, e.event_id, e.source_id, "
			  "e.update_id, e.revision_number, e.hresult, "
			  "e.app_name, e.replacement_strings, e.misc_data, "
			  "e.received, coalesce(c.dns_name, '') FROM "
			  "client_event e LEFT JOIN computer c ON "
			  "c.computer_id = e.computer_id WHERE ?1 IS NULL OR "
			  "e.computer_id = ?2 OR c.dns_name = ?1 COLLATE "
			  "NOCASE ORDER BY e.rowid DESC LIMIT ?3",
		 &q, err)) < 0)
		return rc;
	sq_bind_text(q, 1, computer);
	sq_bind_text(q, 2, computer != NULL && guid_normalize(computer, id) == 0
		? id
		: "");
	sqlite3_bind_int64(q, 3, limit);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_client_event_full row = {
			.ev = {
			    .event_instance_id = sq_col(q, 0),
			    .computer_id = sq_col(q, 1),
			    .time_at_target = sq_col(q, 2),
			    .event_id = sqlite3_column_int(q, 3),
			    .source_id = sqlite3_column_int(q, 4),
			    .update_id = sq_col(q, 5),
			    .revision_number = sqlite3_column_int(q, 6),
			    .hresult = sqlite3_column_int(q, 7),
			    .app_name = sq_col(q, 8),
			    .replacement_strings = sq_col(q, 9),
			    .misc_data = sq_col(q, 10),
			},
			.received = sq_col(q, 11),
			.dns_name = sq_col(q, 12),
		};

		any = true;
		if (cb(arg, &row) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "cannot read events");
	if (!any && computer != NULL) {
		/* No event: say so only if the computer is unknown too. */
		if ((rc = sqlite_prep(s, "SELECT 1 FROM computer WHERE "
				  "computer_id = ?2 OR dns_name = ?1 COLLATE "
				  "NOCASE",
			 &q, err)) < 0)
			return rc;
		sq_bind_text(q, 1, computer);
		sq_bind_text(q, 2, guid_normalize(computer, id) == 0 ? id : "");
		rc = sqlite3_step(q);
		sqlite3_finalize(q);
		if (rc == SQLITE_DONE)
			return wsd_fail(err, WSD_ENOTFOUND, "unknown computer");
		if (rc != SQLITE_ROW)
			return db_fail(s, err, "cannot read computers");
	}
	return 0;
}

static int
cat_computer_touch(struct store *st, const char *computer_id,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	char now[32];
	int rc;

	sq_now_iso(now);
	if ((rc = sqlite_prep(s, "UPDATE computer SET last_sync = ?2 WHERE "
			  "computer_id = ?1",
		 &q, err)) < 0)
		return rc;
	sq_bind_text(q, 1, computer_id);
	sq_bind_text(q, 2, now);
	return sq_run(s, q, err, "cannot record contact");
}

static int
cat_computer_set_groups(struct store *st, const char *computer_id,
    const char *names, unsigned *matched, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	int64_t cpk = 0, all = 0, gpk;
	char id[37], name[STORE_MAX_NAME + 1];
	const char *p = names;
	sqlite3_stmt *q;
	int rc;

	*matched = 0;
	if (guid_normalize(computer_id, id) < 0)
		return wsd_fail(err, WSD_EINVAL, "malformed computer id");
	if ((rc = sp_begin(s, err)) < 0)
		return rc;
	if ((rc = sqlite_prep(s, "SELECT computer_pk FROM computer WHERE "
			  "computer_id = ?1",
		 &q, err)) < 0)
		return sp_end(s, rc, err);
	sq_bind_text(q, 1, id);
	if ((rc = one_int64(s, q, &cpk, err, "unknown computer")) < 0 ||
	    (rc = group_pk_of(s, ALL_COMPUTERS, &all, err)) < 0)
		return sp_end(s, rc, err);
	if ((rc = sqlite_prep(s, "DELETE FROM computer_group_member WHERE "
			  "computer_pk = ?1",
		 &q, err)) < 0)
		return sp_end(s, rc, err);
	sqlite3_bind_int64(q, 1, cpk);
	if ((rc = sq_run(s, q, err, "cannot set groups")) < 0)
		return sp_end(s, rc, err);
	while (*p != '\0') {
		const char *semi = strchr(p, ';');
		size_t n = semi ? (size_t)(semi - p) : strlen(p);

		while (n > 0 && *p == ' ') {
			p++;
			n--;
		}
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n > 0 && n <= STORE_MAX_NAME) {
			memcpy(name, p, n);
			name[n] = '\0';
			rc = group_pk_of(s, name, &gpk, err);
			if (rc == 0 && gpk != all) {
				if ((rc = sqlite_prep(s, "INSERT OR IGNORE INTO "
						  "computer_group_member "
						  "(computer_pk, group_pk) "
						  "VALUES (?1, ?2)",
					 &q, err)) < 0)
					return sp_end(s, rc, err);
				sqlite3_bind_int64(q, 1, cpk);
				sqlite3_bind_int64(q, 2, gpk);
				if ((rc = sq_run(s, q, err, "cannot set groups")) < 0)
					return sp_end(s, rc, err);
				(*matched)++;
			} else if (rc < 0 && rc != WSD_ENOTFOUND) {
				return sp_end(s, rc, err);
			}
		}
		p += semi ? (size_t)(semi - p) + 1 : strlen(p);
	}
	if (*matched == 0 &&
	    (rc = sqlite_prep(s, "INSERT INTO computer_group_member (computer_pk, "
			  "group_pk) SELECT ?1, group_pk FROM target_group "
			  "WHERE group_id = '" UNASSIGNED "'",
		 &q, err)) == 0) {
		sqlite3_bind_int64(q, 1, cpk);
		rc = sq_run(s, q, err, "cannot set groups");
	}
	return sp_end(s, rc < 0 ? rc : 0, err);
}

static int
cat_computer_details_set(struct store *st, const char *computer_id,
    const struct store_computer_details *d, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s, "UPDATE computer SET os_build = ?2, os_locale = ?3, "
			  "manufacturer = ?4, model = ?5, bios_version = ?6, "
			  "processor = ?7, client_version = ?8 WHERE "
			  "computer_id = ?1",
		 &q, err)) < 0)
		return rc;
	sq_bind_text(q, 1, computer_id);
	sqlite3_bind_int(q, 2, d->os_build);
	sq_bind_text(q, 3, d->os_locale ? d->os_locale : "");
	sq_bind_text(q, 4, d->manufacturer ? d->manufacturer : "");
	sq_bind_text(q, 5, d->model ? d->model : "");
	sq_bind_text(q, 6, d->bios_version ? d->bios_version : "");
	sq_bind_text(q, 7, d->processor ? d->processor : "");
	sq_bind_text(q, 8, d->client_version ? d->client_version : "");
	return sq_run(s, q, err, "cannot record computer details");
}

const struct store_catalog_ops store_sqlite_catalog_ops = {
	.begin = cat_begin,
	.commit = cat_commit,
	.rollback = cat_rollback,
	.revision_put = cat_revision_put,
	.updates_list = cat_updates_list,
	.category_find = cat_category_find,
	.update_decline = cat_update_decline,
	.group_add = cat_group_add,
	.group_remove = cat_group_remove,
	.groups_list = cat_groups_list,
	.computer_upsert = cat_computer_upsert,
	.computer_move = cat_computer_move,
	.computer_delete = sqlite_computer_delete,
	.cookie_revoked = sqlite_cookie_revoked,
	.computers_list = cat_computers_list,
	.approval_set = cat_approval_set,
	.approval_effective = cat_approval_effective,
	.approvals_list = cat_approvals_list,
	.event_add = cat_event_add,
	.revisions_each = sqlite_revisions_each,
	.files_list = sqlite_files_list,
	.file_set_state = sqlite_file_set_state,
	.file_forget = sqlite_file_forget,
	.cleanup = sqlite_cleanup,
	.sync_head = sqlite_sync_head,
	.sync_catalog = sqlite_sync_catalog,
	.sync_deployments = sqlite_sync_deployments,
	.revision_core = sqlite_revision_core,
	.client_events_add = cat_client_events_add,
	.client_events_each = cat_client_events_each,
	.client_events_recent = cat_client_events_recent,
	.computer_touch = cat_computer_touch,
	.computer_set_groups = cat_computer_set_groups,
	.computer_details_set = cat_computer_details_set,
};
