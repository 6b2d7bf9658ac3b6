/*
 * SQLite backend, upstream-server area (store_sss.h): the reads behind
 * ServerSyncWebService and the downstream_server table (schema 0007).
 * Every statement binds its parameters; filter lists travel as one JSON
 * array bound to json_each, built here from validated GUIDs only.
 */
#include "store/store_sss.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/sbuf.h"
#include "store/store_sqlite_int.h"

/* Most IdAndDelta items one filter list may carry (the caller bounds its
 * request arrays lower). */
#define SSS_MAX_FILTER_JSON (64 * 1024)

/* Steps Q, calling ROW for each row until it returns non-zero; finalizes. */
static int
walk(struct store_sqlite *s, sqlite3_stmt *q, int (*row)(sqlite3_stmt *,
    void *), void *arg, struct wsd_err *err, const char *what)
{
	int step;

	while ((step = sqlite3_step(q)) == SQLITE_ROW)
		if (row(q, arg) != 0) {
			step = SQLITE_DONE;
			break;
		}
	if (step != SQLITE_DONE) {
		int rc = db_fail(s, err, what);

		sqlite3_finalize(q);
		return rc;
	}
	sqlite3_finalize(q);
	return 0;
}

static int
sss_generation(struct store *st, uint64_t *gen, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s, "SELECT generation FROM catalog_generation "
			      "WHERE id = 1", &q, err)) < 0)
		return rc;
	if (sqlite3_step(q) != SQLITE_ROW) {
		rc = db_fail(s, err, "cannot read the catalog generation");
		sqlite3_finalize(q);
		return rc;
	}
	*gen = (uint64_t)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return 0;
}

/* [["guid",1],...] of N items into SB (GUIDs were validated: no escaping
 * needed). */
static int
idd_json(struct sbuf *sb, const struct store_sss_idd *v, size_t n)
{
	int rc;

	if ((rc = sbuf_adds(sb, "[")) < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = sbuf_addf(sb, "%s[\"%s\",%d]", i ? "," : "", v[i].id,
			 v[i].delta ? 1 : 0)) < 0)
			return rc;
	return sbuf_adds(sb, "]");
}

struct rev_walk {
	int (*cb)(void *, const char *, int32_t);
	void *arg;
};

static int
rev_row(sqlite3_stmt *q, void *arg)
{
	struct rev_walk *w = arg;

	return w->cb(w->arg, sq_col(q, 0), sqlite3_column_int(q, 1));
}

static const char sql_config[] =
    "SELECT u.update_id, r.revision_number FROM revision r JOIN update_ u "
    "ON u.update_pk = r.update_pk WHERE r.is_latest = 1 AND u.declined = 0 "
    "AND u.update_type IN ('Category', 'Detectoid') AND r.sss_gen > ?1 "
    "ORDER BY CASE u.category_type WHEN 'Company' THEN 0 WHEN "
    "'ProductFamily' THEN 1 WHEN 'Product' THEN 2 WHEN "
    "'UpdateClassification' THEN 3 ELSE 4 END, u.update_id";

/*
 * The update pass. memb: every (latest revision, category) it is in,
 * directly (revision_category, category prerequisites) or through a
 * category's own parents; UNION keeps the recursion finite on cycles.
 * hit: the selected updates; need: hit plus what they bundle or require.
 */
static const char sql_updates[] =
    "WITH RECURSIVE "
    "cat(id, delta) AS (SELECT json_extract(value, '$[0]'), "
    " json_extract(value, '$[1]') FROM json_each(?2)), "
    "cls(id, delta) AS (SELECT json_extract(value, '$[0]'), "
    " json_extract(value, '$[1]') FROM json_each(?3)), "
    "latest(revision_id, update_pk, stamp) AS (SELECT r.revision_id, "
    " r.update_pk, r.sss_gen FROM revision r JOIN update_ u ON u.update_pk "
    " = r.update_pk WHERE r.is_latest = 1 AND u.declined = 0 AND "
    " u.update_type IN ('Software', 'Driver')), "
    "memb(revision_id, category_id) AS ("
    " SELECT rc.revision_id, rc.category_id FROM revision_category rc "
    "  JOIN latest l ON l.revision_id = rc.revision_id "
    " UNION SELECT p.revision_id, p.update_id FROM prerequisite p "
    "  JOIN latest l ON l.revision_id = p.revision_id WHERE p.is_category "
    " UNION SELECT m.revision_id, rc.category_id FROM memb m "
    "  JOIN update_ cu ON cu.update_id = m.category_id "
    "  JOIN revision cr ON cr.update_pk = cu.update_pk AND cr.is_latest = 1 "
    "  JOIN revision_category rc ON rc.revision_id = cr.revision_id), "
    "hit(update_pk) AS (SELECT l.update_pk FROM latest l WHERE "
    " (?4 = 0 OR EXISTS (SELECT 1 FROM memb m JOIN cat c ON c.id = "
    "  m.category_id WHERE m.revision_id = l.revision_id)) AND "
    " (?5 = 0 OR EXISTS (SELECT 1 FROM memb m JOIN cls c ON c.id = "
    "  m.category_id WHERE m.revision_id = l.revision_id)) AND "
    " (l.stamp > ?1 OR EXISTS (SELECT 1 FROM memb m JOIN cat c ON c.id = "
    "  m.category_id WHERE m.revision_id = l.revision_id AND c.delta = 0) "
    "  OR EXISTS (SELECT 1 FROM memb m JOIN cls c ON c.id = m.category_id "
    "  WHERE m.revision_id = l.revision_id AND c.delta = 0))), "
    "rel(revision_id, update_id) AS (SELECT revision_id, update_id FROM "
    " prerequisite WHERE is_category = 0 UNION ALL SELECT revision_id, "
    " update_id FROM bundle_member), "
    "need(update_pk) AS (SELECT update_pk FROM hit "
    " UNION SELECT du.update_pk FROM need n "
    "  JOIN revision r ON r.update_pk = n.update_pk AND r.is_latest = 1 "
    "  JOIN rel x ON x.revision_id = r.revision_id "
    "  JOIN update_ du ON du.update_id = x.update_id "
    "  WHERE du.update_type IN ('Software', 'Driver')) "
    "SELECT u.update_id, r.revision_number FROM need n "
    " JOIN update_ u ON u.update_pk = n.update_pk "
    " JOIN revision r ON r.update_pk = n.update_pk AND r.is_latest = 1 "
    "ORDER BY u.update_id";

static int
sss_revisions(struct store *st, const struct store_sss_filter *f,
    int (*cb)(void *, const char *, int32_t), void *arg, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	struct rev_walk w = { cb, arg };
	struct sbuf cj, kj;
	sqlite3_stmt *q;
	int rc;

	if (f->config) {
		if ((rc = sqlite_prep(s, sql_config, &q, err)) < 0)
			return rc;
		sqlite3_bind_int64(q, 1, f->after);
		return walk(s, q, rev_row, &w, err, "cannot list revisions");
	}
	sbuf_init(&cj, SSS_MAX_FILTER_JSON);
	sbuf_init(&kj, SSS_MAX_FILTER_JSON);
	if (idd_json(&cj, f->categories, f->n_categories) < 0 ||
	    idd_json(&kj, f->classifications, f->n_classifications) < 0) {
		sbuf_release(&cj);
		sbuf_release(&kj);
		return wsd_fail(err, WSD_ETOOBIG, "filter too large");
	}
	if ((rc = sqlite_prep(s, sql_updates, &q, err)) < 0) {
		sbuf_release(&cj);
		sbuf_release(&kj);
		return rc;
	}
	sqlite3_bind_int64(q, 1, f->after);
	sqlite3_bind_text(q, 2, sbuf_str(&cj), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 3, sbuf_str(&kj), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 4, f->n_categories > 0);
	sqlite3_bind_int(q, 5, f->n_classifications > 0);
	sbuf_release(&cj);
	sbuf_release(&kj);
	return walk(s, q, rev_row, &w, err, "cannot list revisions");
}

struct one_rev {
	int32_t number;
	int (*cb)(void *, const struct store_revision_out *);
	void *arg;
	bool found;
};

static int
one_rev_cb(void *arg, const struct store_revision_out *o)
{
	struct one_rev *r = arg;

	if (o->rv.revision_number != r->number)
		return 0;
	r->found = true;
	/* One row at most: stop whatever the callback says. */
	(void)r->cb(r->arg, o);
	return 1;
}

static int
sss_revision_get(struct store *st, const char *update_id, int32_t number,
    int (*cb)(void *, const struct store_revision_out *), void *arg,
    struct wsd_err *err)
{
	struct one_rev r = { number, cb, arg, false };
	int rc;

	/* All revisions of one update: a handful. */
	rc = sqlite_revisions_each(st, update_id, 0, false, one_rev_cb, &r,
	    err);
	if (rc == WSD_ENOTFOUND || (rc == 0 && !r.found))
		return wsd_fail(err, WSD_ENOTFOUND, "no such revision");
	return rc;
}

static int
sss_file_known(struct store *st, const unsigned char *sha1, bool *known,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc, step;

	if ((rc = sqlite_prep(s, "SELECT 1 FROM file WHERE sha1 = ?1", &q,
		 err)) < 0)
		return rc;
	sqlite3_bind_blob(q, 1, sha1, 20, SQLITE_TRANSIENT);
	step = sqlite3_step(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		rc = db_fail(s, err, "cannot look up a file");
		sqlite3_finalize(q);
		return rc;
	}
	*known = step == SQLITE_ROW;
	sqlite3_finalize(q);
	return 0;
}

struct group_walk {
	int (*cb)(void *, const struct store_sss_group *);
	void *arg;
};

static int
group_row(sqlite3_stmt *q, void *arg)
{
	struct group_walk *w = arg;
	struct store_sss_group g = {
		.group_id = sq_col(q, 0),
		.parent_id = sq_col(q, 1),
		.name = sq_col(q, 2),
		.builtin = sqlite3_column_int(q, 3) != 0,
	};

	return w->cb(w->arg, &g);
}

static int
sss_groups(struct store *st, int (*cb)(void *, const struct store_sss_group *),
    void *arg, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	struct group_walk w = { cb, arg };
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "WITH RECURSIVE tree(pk, depth) AS (SELECT group_pk, 0 FROM "
		 "target_group WHERE parent_pk IS NULL UNION SELECT "
		 "g.group_pk, t.depth + 1 FROM target_group g JOIN tree t ON "
		 "g.parent_pk = t.pk WHERE t.depth < 64) "
		 "SELECT g.group_id, coalesce(p.group_id, ''), g.name, "
		 "g.builtin FROM target_group g JOIN (SELECT pk, min(depth) "
		 "AS depth FROM tree GROUP BY pk) t ON t.pk = g.group_pk "
		 "LEFT JOIN target_group p ON p.group_pk = g.parent_pk "
		 "ORDER BY t.depth, g.group_pk",
		 &q, err)) < 0)
		return rc;
	return walk(s, q, group_row, &w, err, "cannot list groups");
}

struct dep_walk {
	int (*cb)(void *, const struct store_sss_deployment *);
	void *arg;
};

static int
dep_row(sqlite3_stmt *q, void *arg)
{
	struct dep_walk *w = arg;
	struct store_sss_deployment d = {
		.update_id = sq_col(q, 0),
		.revision_number = sqlite3_column_int(q, 1),
		.action = sq_col(q, 2),
		.admin = sq_col(q, 3),
		.deadline = sq_col(q, 4),
		.created = sq_col(q, 5),
		.deployment_guid = sq_col(q, 6),
		.group_id = sq_col(q, 7),
		.group_is_root = sqlite3_column_int(q, 8) != 0,
	};

	return w->cb(w->arg, &d);
}

static int
sss_deployments(struct store *st, int64_t after, int64_t upto,
    int (*cb)(void *, const struct store_sss_deployment *), void *arg,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	struct dep_walk w = { cb, arg };
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "SELECT u.update_id, r.revision_number, a.action, a.admin, "
		 "coalesce(a.deadline, ''), a.created, a.deployment_guid, "
		 "g.group_id, g.parent_pk IS NULL FROM approval a "
		 "JOIN update_ u ON u.update_pk = a.update_pk "
		 "JOIN revision r ON r.update_pk = a.update_pk AND "
		 "r.is_latest = 1 "
		 "JOIN target_group g ON g.group_pk = a.group_pk "
		 "WHERE a.changed_gen > ?1 AND a.changed_gen <= ?2 AND "
		 "a.deployment_guid IS NOT NULL "
		 "ORDER BY a.changed_gen, u.update_id, g.group_id",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int64(q, 1, after);
	sqlite3_bind_int64(q, 2, upto);
	return walk(s, q, dep_row, &w, err, "cannot list approvals");
}

struct str_walk {
	int (*cb)(void *, const char *);
	void *arg;
};

static int
str_row(sqlite3_stmt *q, void *arg)
{
	struct str_walk *w = arg;

	return w->cb(w->arg, sq_col(q, 0));
}

static int
sss_dead_deployments(struct store *st, int64_t after, int64_t upto,
    int (*cb)(void *, const char *), void *arg, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	struct str_walk w = { cb, arg };
	sqlite3_stmt *q;
	int rc;

	/* A GUID that died and is no longer any live approval's. */
	if ((rc = sqlite_prep(s,
		 "SELECT d.deployment_guid FROM dead_deployment d WHERE "
		 "d.dead_gen > ?1 AND d.dead_gen <= ?2 ORDER BY d.dead_gen, "
		 "d.deployment_guid",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int64(q, 1, after);
	sqlite3_bind_int64(q, 2, upto);
	return walk(s, q, str_row, &w, err, "cannot list dead deployments");
}

static int
sss_declined(struct store *st, int (*cb)(void *, const char *), void *arg,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	struct str_walk w = { cb, arg };
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "SELECT update_id FROM update_ WHERE declined = 1 AND "
		 "update_type IN ('Software', 'Driver') ORDER BY update_id",
		 &q, err)) < 0)
		return rc;
	return walk(s, q, str_row, &w, err, "cannot list declined updates");
}

static int
sss_dss_seen(struct store *st, const char *server_id, const char *fqdn,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	char now[32];
	struct tm tm;
	time_t t = time(NULL);
	sqlite3_stmt *q;
	int rc;

	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((rc = sqlite_prep(s,
		 "INSERT INTO downstream_server (server_id, fqdn, first_seen, "
		 "last_seen) VALUES (lower(?1), ?2, ?3, ?3) ON CONFLICT "
		 "(server_id) DO UPDATE SET fqdn = excluded.fqdn, last_seen = "
		 "excluded.last_seen",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_text(q, 1, server_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, fqdn, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 3, now, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "cannot record the downstream server");
	return 0;
}

struct dss_walk {
	int (*cb)(void *, const struct store_sss_dss_row *);
	void *arg;
};

static int
dss_row(sqlite3_stmt *q, void *arg)
{
	struct dss_walk *w = arg;
	struct store_sss_dss_row r = {
		.server_id = sq_col(q, 0),
		.fqdn = sq_col(q, 1),
		.first_seen = sq_col(q, 2),
		.last_seen = sq_col(q, 3),
	};

	return w->cb(w->arg, &r);
}

static int
sss_dss_list(struct store *st,
    int (*cb)(void *, const struct store_sss_dss_row *), void *arg,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	struct dss_walk w = { cb, arg };
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "SELECT server_id, fqdn, first_seen, last_seen FROM "
		 "downstream_server ORDER BY server_id",
		 &q, err)) < 0)
		return rc;
	return walk(s, q, dss_row, &w, err, "cannot list downstream servers");
}

const struct store_sss_ops store_sqlite_sss_ops = {
	.generation = sss_generation,
	.revisions = sss_revisions,
	.revision_get = sss_revision_get,
	.file_known = sss_file_known,
	.groups = sss_groups,
	.deployments = sss_deployments,
	.dead_deployments = sss_dead_deployments,
	.declined = sss_declined,
	.dss_seen = sss_dss_seen,
	.dss_list = sss_dss_list,
};
