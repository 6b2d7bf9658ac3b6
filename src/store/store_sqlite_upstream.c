/* store_upstream.h on SQLite (schema 0008). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/store_sqlite_int.h"
#include "store/store_upstream.h"

static void
copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
}

static const char *
pass_name(enum store_sync_pass p)
{
	return p == STORE_PASS_CONFIG ? "config" : "updates";
}

static int
up_get(struct store *st, struct store_upstream *out, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = sqlite_prep(s,
		 "SELECT url, mode, use_tls, client_cert, client_key, "
		 "config_anchor, anchor_config, anchor_updates, "
		 "deployment_anchor, stage_anchor_config, "
		 "stage_anchor_updates, changed FROM upstream WHERE id = 1",
		 &q, err)) < 0)
		return rc;
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(q);
		return wsd_fail(err, WSD_ENOTFOUND,
		    "no upstream server is set (wsusutil upstream set URL)");
	}
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(q);
		return db_fail(s, err, "cannot read the upstream");
	}
	copy(out->url, sizeof(out->url), sq_col(q, 0));
	out->replica = strcmp(sq_col(q, 1), "replica") == 0;
	out->use_tls = sqlite3_column_int(q, 2) != 0;
	copy(out->client_cert, sizeof(out->client_cert), sq_col(q, 3));
	copy(out->client_key, sizeof(out->client_key), sq_col(q, 4));
	copy(out->config_anchor, sizeof(out->config_anchor), sq_col(q, 5));
	copy(out->anchor_config, sizeof(out->anchor_config), sq_col(q, 6));
	copy(out->anchor_updates, sizeof(out->anchor_updates), sq_col(q, 7));
	copy(out->deployment_anchor, sizeof(out->deployment_anchor),
	    sq_col(q, 8));
	copy(out->stage_anchor_config, sizeof(out->stage_anchor_config),
	    sq_col(q, 9));
	copy(out->stage_anchor_updates, sizeof(out->stage_anchor_updates),
	    sq_col(q, 10));
	copy(out->changed, sizeof(out->changed), sq_col(q, 11));
	sqlite3_finalize(q);
	return 0;
}

static int
up_set(struct store *st, const struct store_upstream *in, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	char now[32];
	int rc;

	sq_now_iso(now);
	if ((rc = exec(s, "SAVEPOINT up", err, "cannot start a change")) < 0)
		return rc;
	/* Another server: its anchors mean nothing to the new one. */
	if ((rc = sqlite_prep(s,
		 "DELETE FROM sync_stage WHERE EXISTS (SELECT 1 FROM upstream "
		 "WHERE id = 1 AND url <> ?1)",
		 &q, err)) < 0)
		goto out;
	sqlite3_bind_text(q, 1, in->url, -1, SQLITE_TRANSIENT);
	if ((rc = sq_run(s, q, err, "cannot reset the staging")) < 0)
		goto out;
	if ((rc = sqlite_prep(s,
		 "INSERT INTO upstream (id, url, mode, use_tls, client_cert, "
		 "client_key, changed) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6) "
		 "ON CONFLICT (id) DO UPDATE SET "
		 "config_anchor = CASE WHEN url = excluded.url THEN "
		 "config_anchor END, "
		 "anchor_config = CASE WHEN url = excluded.url THEN "
		 "anchor_config END, "
		 "anchor_updates = CASE WHEN url = excluded.url THEN "
		 "anchor_updates END, "
		 "deployment_anchor = CASE WHEN url = excluded.url THEN "
		 "deployment_anchor END, "
		 "stage_anchor_config = CASE WHEN url = excluded.url THEN "
		 "stage_anchor_config END, "
		 "stage_anchor_updates = CASE WHEN url = excluded.url THEN "
		 "stage_anchor_updates END, "
		 "url = excluded.url, mode = excluded.mode, "
		 "use_tls = excluded.use_tls, "
		 "client_cert = excluded.client_cert, "
		 "client_key = excluded.client_key, changed = excluded.changed",
		 &q, err)) < 0)
		goto out;
	sqlite3_bind_text(q, 1, in->url, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, in->replica ? "replica" : "autonomous", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int(q, 3, in->use_tls ? 1 : 0);
	sqlite3_bind_text(q, 4, in->client_cert, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 5, in->client_key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 6, now, -1, SQLITE_TRANSIENT);
	rc = sq_run(s, q, err, "cannot set the upstream");
out:
	if (rc < 0) {
		(void)sqlite3_exec(s->db, "ROLLBACK TO up; RELEASE up", NULL,
		    NULL, NULL);
		return rc;
	}
	return exec(s, "RELEASE up", err, "cannot finish a change");
}

static int
up_anchor_set(struct store *st, enum store_anchor which, const char *value,
    struct wsd_err *err)
{
	static const char *const sql[] = {
		[STORE_ANCHOR_CONFIG_DATA] =
		    "UPDATE upstream SET config_anchor = ?1 WHERE id = 1",
		[STORE_ANCHOR_CONFIG_PASS] =
		    "UPDATE upstream SET anchor_config = ?1 WHERE id = 1",
		[STORE_ANCHOR_UPDATES_PASS] =
		    "UPDATE upstream SET anchor_updates = ?1 WHERE id = 1",
		[STORE_ANCHOR_DEPLOYMENTS] =
		    "UPDATE upstream SET deployment_anchor = ?1 WHERE id = 1",
		[STORE_ANCHOR_STAGE_CONFIG] =
		    "UPDATE upstream SET stage_anchor_config = ?1 WHERE id = 1",
		[STORE_ANCHOR_STAGE_UPDATES] = "UPDATE upstream SET "
					       "stage_anchor_updates = ?1 "
					       "WHERE id = 1",
	};
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((unsigned)which >= sizeof(sql) / sizeof(sql[0]))
		return wsd_fail(err, WSD_EINVAL, "no such anchor");
	if ((rc = sqlite_prep(s, sql[which], &q, err)) < 0)
		return rc;
	if (value != NULL && value[0] != '\0')
		sqlite3_bind_text(q, 1, value, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, 1);
	return sq_run(s, q, err, "cannot write an anchor");
}

static int
up_stage_add(struct store *st, enum store_sync_pass pass,
    const char *update_id, int rev, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "INSERT INTO sync_stage (update_id, revision_number, pass) "
		 "VALUES (lower(?1), ?2, ?3) ON CONFLICT DO NOTHING",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_text(q, 1, update_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 2, rev);
	sqlite3_bind_text(q, 3, pass_name(pass), -1, SQLITE_STATIC);
	return sq_run(s, q, err, "cannot list a revision to fetch");
}

static int
up_stage_pending(struct store *st, enum store_sync_pass pass, size_t max,
    int (*cb)(void *, const char *, int), void *arg, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "SELECT update_id, revision_number FROM sync_stage "
		 "WHERE pass = ?1 AND doc IS NULL ORDER BY update_id LIMIT ?2",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_text(q, 1, pass_name(pass), -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)max);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if (cb(arg, sq_col(q, 0), sqlite3_column_int(q, 1)) != 0)
			break;
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "cannot read the staging");
	return 0;
}

static int
up_stage_put(struct store *st, const char *update_id, int rev,
    const char *doc, size_t len, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "UPDATE sync_stage SET doc = ?3 WHERE update_id = lower(?1) "
		 "AND revision_number = ?2",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_text(q, 1, update_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 2, rev);
	sqlite3_bind_blob64(q, 3, doc, (sqlite3_uint64)len, SQLITE_TRANSIENT);
	return sq_run(s, q, err, "cannot keep a fetched revision");
}

static int
up_stage_drop(struct store *st, const char *update_id, int rev,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "DELETE FROM sync_stage WHERE update_id = lower(?1) AND "
		 "revision_number = ?2",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_text(q, 1, update_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 2, rev);
	return sq_run(s, q, err, "cannot drop a listed revision");
}

static int
up_stage_each(struct store *st, enum store_sync_pass pass,
    int (*cb)(void *, const char *, int, const char *, size_t), void *arg,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc, stop = 0;

	if ((rc = sqlite_prep(s,
		 "SELECT update_id, revision_number, doc FROM sync_stage "
		 "WHERE pass = ?1 AND doc IS NOT NULL ORDER BY update_id, "
		 "revision_number",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_text(q, 1, pass_name(pass), -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *doc = sqlite3_column_blob(q, 2);
		size_t n = (size_t)sqlite3_column_bytes(q, 2);

		/* Long applies must not trip the per-statement clock. */
		stmt_clock(s);
		if ((stop = cb(arg, sq_col(q, 0), sqlite3_column_int(q, 1),
			 doc ? doc : "", n)) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "cannot read the staging");
	return stop < 0 ? stop : 0;
}

static int
up_stage_count(struct store *st, int64_t *listed, int64_t *fetched,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "SELECT count(*), count(doc) FROM sync_stage", &q, err)) < 0)
		return rc;
	if (sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		return db_fail(s, err, "cannot count the staging");
	}
	*listed = sqlite3_column_int64(q, 0);
	*fetched = sqlite3_column_int64(q, 1);
	sqlite3_finalize(q);
	return 0;
}

static int
up_stage_clear(struct store *st, struct wsd_err *err)
{
	return exec(SQ(st),
	    "DELETE FROM sync_stage; UPDATE upstream SET "
	    "stage_anchor_config = NULL, stage_anchor_updates = NULL",
	    err, "cannot clear the staging");
}

static int
up_have_revision(struct store *st, const char *update_id, int rev,
    bool *have, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "SELECT 1 FROM revision r JOIN update_ u USING (update_pk) "
		 "WHERE u.update_id = lower(?1) AND r.revision_number = ?2",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_text(q, 1, update_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 2, rev);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "cannot look up a revision");
	*have = rc == SQLITE_ROW;
	return 0;
}

static int
up_sync_begin(struct store *st, const char *trigger, int64_t *sync_id,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	char now[32];
	int rc;

	sq_now_iso(now);
	/* The caller holds the synchronization lock: a row still running
	 * is one a killed synchronization left. */
	if ((rc = exec(s,
		 "UPDATE sync_history SET result = 'interrupted', message = "
		 "'the synchronization stopped before it finished' "
		 "WHERE result = 'running'",
		 err, "cannot close old synchronizations")) < 0)
		return rc;
	if ((rc = sqlite_prep(s,
		 "INSERT INTO sync_history (started, trigger_, result) "
		 "VALUES (?1, ?2, 'running')",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_text(q, 1, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, trigger, -1, SQLITE_TRANSIENT);
	if ((rc = sq_run(s, q, err, "cannot record a synchronization")) < 0)
		return rc;
	*sync_id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static int
up_sync_progress(struct store *st, int64_t sync_id,
    const struct store_sync_progress *p, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "UPDATE sync_history SET phase = ?2, items_total = ?3, "
		 "items_done = ?4, new_revisions = ?5, metadata_bytes = ?6, "
		 "files_total = ?7, files_done = ?8, files_quarantined = ?9, "
		 "content_bytes = ?10, revisions_vanished = ?11 "
		 "WHERE sync_id = ?1",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int64(q, 1, sync_id);
	sqlite3_bind_text(q, 2, p->phase ? p->phase : "", -1,
	    SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 3, p->items_total);
	sqlite3_bind_int64(q, 4, p->items_done);
	sqlite3_bind_int64(q, 5, p->new_revisions);
	sqlite3_bind_int64(q, 6, p->metadata_bytes);
	sqlite3_bind_int64(q, 7, p->files_total);
	sqlite3_bind_int64(q, 8, p->files_done);
	sqlite3_bind_int64(q, 9, p->files_quarantined);
	sqlite3_bind_int64(q, 10, p->content_bytes);
	sqlite3_bind_int64(q, 11, p->revisions_vanished);
	return sq_run(s, q, err, "cannot record progress");
}

static int
up_sync_end(struct store *st, int64_t sync_id, const char *result,
    const char *message, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	char now[32];
	int rc;

	sq_now_iso(now);
	if ((rc = sqlite_prep(s,
		 "UPDATE sync_history SET finished = ?2, result = ?3, "
		 "message = ?4 WHERE sync_id = ?1",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int64(q, 1, sync_id);
	sqlite3_bind_text(q, 2, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 3, result, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 4, message ? message : "", -1, SQLITE_TRANSIENT);
	return sq_run(s, q, err, "cannot record the end of a synchronization");
}

static int
up_sync_history(struct store *st, unsigned n,
    int (*cb)(void *, const struct store_sync_row *), void *arg,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "SELECT sync_id, started, coalesce(finished, ''), trigger_, "
		 "result, message, phase, items_total, items_done, "
		 "new_revisions, metadata_bytes, files_total, files_done, "
		 "files_quarantined, content_bytes, revisions_vanished "
		 "FROM sync_history "
		 "ORDER BY sync_id DESC LIMIT ?1",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int(q, 1, (int)n);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_sync_row r = {
			.sync_id = sqlite3_column_int64(q, 0),
			.started = sq_col(q, 1),
			.finished = sq_col(q, 2),
			.trigger = sq_col(q, 3),
			.result = sq_col(q, 4),
			.message = sq_col(q, 5),
			.phase = sq_col(q, 6),
			.items_total = sqlite3_column_int64(q, 7),
			.items_done = sqlite3_column_int64(q, 8),
			.new_revisions = sqlite3_column_int64(q, 9),
			.metadata_bytes = sqlite3_column_int64(q, 10),
			.files_total = sqlite3_column_int64(q, 11),
			.files_done = sqlite3_column_int64(q, 12),
			.files_quarantined = sqlite3_column_int64(q, 13),
			.content_bytes = sqlite3_column_int64(q, 14),
			.revisions_vanished = sqlite3_column_int64(q, 15),
		};

		if (cb(arg, &r) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "cannot read the history");
	return 0;
}


static int
up_stage_clear_pass(struct store *st, enum store_sync_pass pass,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s, "DELETE FROM sync_stage WHERE pass = ?1", &q,
		 err)) < 0)
		return rc;
	sqlite3_bind_text(q, 1, pass_name(pass), -1, SQLITE_STATIC);
	return sq_run(s, q, err, "cannot clear the staging");
}

#define ALL_COMPUTERS "a0a08746-4dbe-4a37-9adf-9e7652c0b421"
#define UNASSIGNED    "b73ca6ed-5727-47f3-84de-015e03f6a88a"
#define ZERO_GUID     "00000000-0000-0000-0000-000000000000"

static int
up_replica_group(struct store *st, const char *id, const char *name,
    const char *parent, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	char now[32];
	int rc;

	if (parent == NULL || parent[0] == '\0' ||
	    strcmp(parent, ZERO_GUID) == 0)
		parent = ALL_COMPUTERS;
	sq_now_iso(now);
	/* A local group of that name under another GUID is adopted. */
	if ((rc = sqlite_prep(s,
		 "UPDATE target_group SET group_id = ?1 WHERE name = ?2 "
		 "COLLATE NOCASE AND group_id <> ?1 AND builtin = 0 AND NOT "
		 "EXISTS (SELECT 1 FROM target_group WHERE group_id = ?1)",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
	if ((rc = sq_run(s, q, err, "cannot adopt a group")) < 0)
		return rc;
	/* A parent not seen yet (the upstream lists parents first, but do
	 * not rely on it) hangs under All Computers until it is. */
	if ((rc = sqlite_prep(s,
		 "INSERT INTO target_group (group_id, name, parent_pk, "
		 "builtin, created) VALUES (?1, ?2, coalesce((SELECT group_pk "
		 "FROM target_group WHERE group_id = ?3), (SELECT group_pk "
		 "FROM target_group WHERE group_id = '" ALL_COMPUTERS "')), "
		 "0, ?4) ON CONFLICT (group_id) DO UPDATE SET name = "
		 "excluded.name, parent_pk = excluded.parent_pk",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 3, parent, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 4, now, -1, SQLITE_TRANSIENT);
	return sq_run(s, q, err, "cannot write a replica group");
}

static int
up_replica_clear(struct store *st, struct wsd_err *err)
{
	return exec(SQ(st), "DELETE FROM approval", err,
	    "cannot clear approvals");
}

static int
up_replica_prune(struct store *st, const char (*keep)[37], size_t n,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = exec(s,
		 "CREATE TEMP TABLE IF NOT EXISTS replica_keep (id TEXT "
		 "PRIMARY KEY); DELETE FROM replica_keep",
		 err, "cannot prune groups")) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if ((rc = sqlite_prep(s,
			 "INSERT OR IGNORE INTO replica_keep VALUES (?1)", &q,
			 err)) < 0)
			return rc;
		sqlite3_bind_text(q, 1, keep[i], -1, SQLITE_TRANSIENT);
		if ((rc = sq_run(s, q, err, "cannot prune groups")) < 0)
			return rc;
	}
	/* Children of dropped groups go first (the tree is shallow), then
	 * computers left in no group join Unassigned Computers. */
	for (int depth = 0; depth < 64; depth++) {
		if ((rc = exec(s,
			 "DELETE FROM target_group WHERE builtin = 0 AND "
			 "group_id NOT IN (SELECT id FROM replica_keep) AND "
			 "NOT EXISTS (SELECT 1 FROM target_group c WHERE "
			 "c.parent_pk = target_group.group_pk)",
			 err, "cannot prune groups")) < 0)
			return rc;
		if (sqlite3_changes(s->db) == 0)
			break;
	}
	return exec(s,
	    "INSERT OR IGNORE INTO computer_group_member (computer_pk, "
	    "group_pk) SELECT c.computer_pk, g.group_pk FROM computer c, "
	    "target_group g WHERE g.group_id = '" UNASSIGNED "' AND NOT "
	    "EXISTS (SELECT 1 FROM computer_group_member m WHERE "
	    "m.computer_pk = c.computer_pk)",
	    err, "cannot prune groups");
}

const struct store_upstream_ops store_sqlite_upstream_ops = {
	.get = up_get,
	.set = up_set,
	.anchor_set = up_anchor_set,
	.stage_add = up_stage_add,
	.stage_pending = up_stage_pending,
	.stage_put = up_stage_put,
	.stage_drop = up_stage_drop,
	.stage_each = up_stage_each,
	.stage_count = up_stage_count,
	.stage_clear = up_stage_clear,
	.stage_clear_pass = up_stage_clear_pass,
	.replica_group = up_replica_group,
	.replica_clear = up_replica_clear,
	.replica_prune = up_replica_prune,
	.have_revision = up_have_revision,
	.sync_begin = up_sync_begin,
	.sync_progress = up_sync_progress,
	.sync_end = up_sync_end,
	.sync_history = up_sync_history,
};
