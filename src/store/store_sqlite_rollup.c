/*
 * SQLite half of store_rollup.h (schema 0009). Every value is bound,
 * never spliced into SQL; multi-row changes run in a savepoint, so they
 * nest in a caller's transaction and are atomic without one.
 */
#include "store/store_rollup.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "common/log.h"
#include "common/sbuf.h"
#include "store/store_sqlite_int.h"

#define SQ(st) ((struct store_sqlite *)(st))

static void
bind_str(sqlite3_stmt *q, int i, const char *v)
{
	sqlite3_bind_text(q, i, v != NULL ? v : "", -1, SQLITE_TRANSIENT);
}

/* ------------------------------------------------------ upstream side */

static int
ru_server_put(struct store *st, const struct store_rollup_server *sv,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	struct sbuf sum;
	sqlite3_stmt *q;
	char now[32];
	int rc;

	sbuf_init(&sum, 18 * 12 + 1);
	for (size_t i = 0; sv->has_summary && i < STORE_ROLLUP_SUMMARY_N; i++)
		if (sbuf_addf(&sum, "%s%ld", i ? "," : "",
			(long)sv->summary[i]) < 0)
			return wsd_fail(err, WSD_ETOOBIG, "summary too long");
	sq_now_iso(now);
	if ((rc = sqlite_prep(s,
		 "INSERT INTO rollup_server (server_id, parent_server_id, "
		 "full_domain_name, version, is_replica, last_sync_time, "
		 "last_rollup_time, summary, client_summaries, received) "
		 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
		 "ON CONFLICT (server_id) DO UPDATE SET "
		 "parent_server_id = excluded.parent_server_id, "
		 "full_domain_name = excluded.full_domain_name, "
		 "version = excluded.version, is_replica = excluded.is_replica, "
		 "last_sync_time = excluded.last_sync_time, "
		 "last_rollup_time = excluded.last_rollup_time, "
		 "summary = CASE WHEN excluded.summary = '' THEN summary "
		 "ELSE excluded.summary END, "
		 "client_summaries = excluded.client_summaries, "
		 "received = excluded.received",
		 &q, err)) < 0) {
		sbuf_release(&sum);
		return rc;
	}
	bind_str(q, 1, sv->server_id);
	bind_str(q, 2, sv->parent_server_id);
	bind_str(q, 3, sv->full_domain_name);
	bind_str(q, 4, sv->version);
	sqlite3_bind_int(q, 5, sv->is_replica);
	bind_str(q, 6, sv->last_sync_time);
	bind_str(q, 7, sv->last_rollup_time);
	bind_str(q, 8, sbuf_str(&sum));
	sqlite3_bind_int64(q, 9, sv->client_summaries);
	bind_str(q, 10, now);
	rc = sq_run(s, q, err, "cannot store a downstream server");
	sbuf_release(&sum);
	return rc;
}

static int
ru_servers_each(struct store *st,
    int (*cb)(void *, const struct store_rollup_server *), void *arg,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	/* Depth below the roots (parents we do not know), bounded so a
	 * cycle a peer made up cannot recurse for ever. */
	if ((rc = sqlite_prep(s,
		 "WITH RECURSIVE t (server_id, depth) AS ("
		 " SELECT server_id, 0 FROM rollup_server WHERE "
		 " parent_server_id NOT IN (SELECT server_id FROM rollup_server)"
		 " UNION ALL SELECT r.server_id, t.depth + 1 FROM rollup_server "
		 " r JOIN t ON r.parent_server_id = t.server_id "
		 " WHERE t.depth < 32) "
		 "SELECT r.server_id, r.parent_server_id, r.full_domain_name, "
		 "r.version, r.is_replica, r.last_sync_time, "
		 "r.last_rollup_time, r.summary, r.client_summaries "
		 "FROM rollup_server r LEFT JOIN (SELECT server_id, "
		 "min(depth) AS d FROM t GROUP BY server_id) x "
		 "ON x.server_id = r.server_id "
		 "ORDER BY coalesce(x.d, 33), r.server_id",
		 &q, err)) < 0)
		return rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_rollup_server sv = {
			.server_id = sq_col(q, 0),
			.parent_server_id = sq_col(q, 1),
			.full_domain_name = sq_col(q, 2),
			.version = sq_col(q, 3),
			.is_replica = sqlite3_column_int(q, 4) != 0,
			.last_sync_time = sq_col(q, 5),
			.last_rollup_time = sq_col(q, 6),
			.client_summaries = (unsigned)sqlite3_column_int(q, 8),
		};
		const char *p = sq_col(q, 7);

		sv.has_summary = *p != '\0';
		for (size_t i = 0; sv.has_summary && i < STORE_ROLLUP_SUMMARY_N;
		     i++) {
			long v = 0;
			int used = 0;

			if (sscanf(p, "%ld%n", &v, &used) != 1)
				break;
			sv.summary[i] = (int32_t)v;
			p += used;
			if (*p == ',')
				p++;
		}
		if (cb(arg, &sv) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "cannot list downstream servers");
	return 0;
}

static int
ru_computer_put(struct store *st, const struct store_rollup_computer *c,
    bool *need_details, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	bool known = false, had = false, moved = false;
	char now[32];
	int rc;

	if ((rc = sqlite_prep(s,
		 "SELECT parent_server_id, has_details FROM rollup_computer "
		 "WHERE computer_id = ?1",
		 &q, err)) < 0)
		return rc;
	bind_str(q, 1, c->computer_id);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		known = true;
		moved = strcmp(sq_col(q, 0), c->parent_server_id) != 0;
		had = sqlite3_column_int(q, 1) != 0;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "cannot read a rolled-up computer");
	*need_details = !c->has_details && (!known || !had || moved);
	sq_now_iso(now);
	if (c->has_details)
		rc = sqlite_prep(s,
		    "INSERT INTO rollup_computer (computer_id, parent_server_id, "
		    "last_sync_time, last_sync_result, "
		    "last_reported_status_time, received, has_details, "
		    "full_domain_name, ip_address, os_major, os_minor, os_build, "
		    "os_locale, os_description, manufacturer, model, "
		    "bios_version, processor, client_version) VALUES (?1, ?2, "
		    "?3, ?4, ?5, ?6, 1, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
		    "?16, ?17, ?18) ON CONFLICT (computer_id) DO UPDATE SET "
		    "parent_server_id = excluded.parent_server_id, "
		    "last_sync_time = excluded.last_sync_time, "
		    "last_sync_result = excluded.last_sync_result, "
		    "last_reported_status_time = "
		    "excluded.last_reported_status_time, "
		    "received = excluded.received, has_details = 1, "
		    "full_domain_name = excluded.full_domain_name, "
		    "ip_address = excluded.ip_address, "
		    "os_major = excluded.os_major, os_minor = excluded.os_minor, "
		    "os_build = excluded.os_build, "
		    "os_locale = excluded.os_locale, "
		    "os_description = excluded.os_description, "
		    "manufacturer = excluded.manufacturer, "
		    "model = excluded.model, "
		    "bios_version = excluded.bios_version, "
		    "processor = excluded.processor, "
		    "client_version = excluded.client_version",
		    &q, err);
	else
		rc = sqlite_prep(s,
		    "INSERT INTO rollup_computer (computer_id, parent_server_id, "
		    "last_sync_time, last_sync_result, "
		    "last_reported_status_time, received) VALUES (?1, ?2, ?3, "
		    "?4, ?5, ?6) ON CONFLICT (computer_id) DO UPDATE SET "
		    "parent_server_id = excluded.parent_server_id, "
		    "last_sync_time = excluded.last_sync_time, "
		    "last_sync_result = excluded.last_sync_result, "
		    "last_reported_status_time = "
		    "excluded.last_reported_status_time, "
		    "received = excluded.received",
		    &q, err);
	if (rc < 0)
		return rc;
	bind_str(q, 1, c->computer_id);
	bind_str(q, 2, c->parent_server_id);
	bind_str(q, 3, c->last_sync_time);
	sqlite3_bind_int(q, 4, c->last_sync_result);
	bind_str(q, 5, c->last_reported_status_time);
	bind_str(q, 6, now);
	if (c->has_details) {
		bind_str(q, 7, c->full_domain_name);
		bind_str(q, 8, c->ip_address);
		sqlite3_bind_int(q, 9, c->os_major);
		sqlite3_bind_int(q, 10, c->os_minor);
		sqlite3_bind_int(q, 11, c->os_build);
		bind_str(q, 12, c->os_locale);
		bind_str(q, 13, c->os_description);
		bind_str(q, 14, c->manufacturer);
		bind_str(q, 15, c->model);
		bind_str(q, 16, c->bios_version);
		bind_str(q, 17, c->processor);
		bind_str(q, 18, c->client_version);
	}
	return sq_run(s, q, err, "cannot store a rolled-up computer");
}

static int
ru_computer_rollup_number(struct store *st, const char *computer_id,
    int32_t *number, char parent[37], struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "SELECT rollup_number, parent_server_id FROM rollup_computer "
		 "WHERE computer_id = ?1",
		 &q, err)) < 0)
		return rc;
	bind_str(q, 1, computer_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*number = sqlite3_column_int(q, 0);
		snprintf(parent, 37, "%s", sq_col(q, 1));
		sqlite3_finalize(q);
		return 0;
	}
	sqlite3_finalize(q);
	if (rc == SQLITE_DONE)
		return wsd_fail(err, WSD_ENOTFOUND, "no such computer");
	return db_fail(s, err, "cannot read a rolled-up computer");
}

static int
status_put_rows(struct store_sqlite *s, const char *computer_id,
    int32_t number, bool full, const char *detection_time,
    const struct store_rollup_status *v, size_t n, struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "UPDATE rollup_computer SET rollup_number = ?2, "
		 "last_detection_time = ?3 WHERE computer_id = ?1",
		 &q, err)) < 0)
		return rc;
	bind_str(q, 1, computer_id);
	sqlite3_bind_int(q, 2, number);
	bind_str(q, 3, detection_time);
	if ((rc = sq_run(s, q, err, "cannot store a status rollup")) < 0)
		return rc;
	if (sqlite3_changes(s->db) == 0)
		return wsd_fail(err, WSD_ENOTFOUND, "no such computer");
	if (full) {
		if ((rc = sqlite_prep(s,
			 "DELETE FROM rollup_status WHERE computer_id = ?1", &q,
			 err)) < 0)
			return rc;
		bind_str(q, 1, computer_id);
		if ((rc = sq_run(s, q, err, "cannot store a status rollup")) < 0)
			return rc;
	}
	if ((rc = sqlite_prep(s,
		 "INSERT INTO rollup_status (computer_id, update_id, state, "
		 "last_change) VALUES (?1, ?2, ?3, ?4) ON CONFLICT "
		 "(computer_id, update_id) DO UPDATE SET state = excluded.state, "
		 "last_change = excluded.last_change",
		 &q, err)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		bind_str(q, 1, computer_id);
		bind_str(q, 2, v[i].update_id);
		sqlite3_bind_int(q, 3, v[i].state);
		bind_str(q, 4, v[i].last_change);
		if (sqlite3_step(q) != SQLITE_DONE) {
			rc = db_fail(s, err, "cannot store a status rollup");
			sqlite3_finalize(q);
			return rc;
		}
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
	return 0;
}

static int
ru_status_put(struct store *st, const char *computer_id, int32_t number,
    bool full, const char *detection_time, const struct store_rollup_status *v,
    size_t n, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	int rc;

	if ((rc = sp_begin(s, err)) < 0)
		return rc;
	rc = status_put_rows(s, computer_id, number, full, detection_time, v, n,
	    err);
	return sp_end(s, rc, err);
}

static int
ru_computers_each(struct store *st,
    int (*cb)(void *, const struct store_rollup_computer_row *), void *arg,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "SELECT c.computer_id, c.parent_server_id, c.last_sync_time, "
		 "c.last_sync_result, c.last_reported_status_time, "
		 "c.has_details, c.full_domain_name, c.ip_address, c.os_major, "
		 "c.os_minor, c.os_build, c.os_locale, c.os_description, "
		 "c.manufacturer, c.model, c.bios_version, c.processor, "
		 "c.client_version, coalesce(r.full_domain_name, ''), "
		 "c.rollup_number, c.last_detection_time, "
		 "(SELECT count(*) FROM rollup_status x WHERE x.computer_id = "
		 "c.computer_id) FROM rollup_computer c LEFT JOIN rollup_server "
		 "r ON r.server_id = c.parent_server_id "
		 "ORDER BY c.full_domain_name COLLATE NOCASE, c.computer_id",
		 &q, err)) < 0)
		return rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_rollup_computer_row row = {
			.c = {
				.computer_id = sq_col(q, 0),
				.parent_server_id = sq_col(q, 1),
				.last_sync_time = sq_col(q, 2),
				.last_sync_result = sqlite3_column_int(q, 3),
				.last_reported_status_time = sq_col(q, 4),
				.has_details = sqlite3_column_int(q, 5) != 0,
				.full_domain_name = sq_col(q, 6),
				.ip_address = sq_col(q, 7),
				.os_major = sqlite3_column_int(q, 8),
				.os_minor = sqlite3_column_int(q, 9),
				.os_build = sqlite3_column_int(q, 10),
				.os_locale = sq_col(q, 11),
				.os_description = sq_col(q, 12),
				.manufacturer = sq_col(q, 13),
				.model = sq_col(q, 14),
				.bios_version = sq_col(q, 15),
				.processor = sq_col(q, 16),
				.client_version = sq_col(q, 17),
			},
			.via_name = sq_col(q, 18),
			.rollup_number = sqlite3_column_int(q, 19),
			.last_detection_time = sq_col(q, 20),
			.n_status = (unsigned)sqlite3_column_int(q, 21),
		};

		if (cb(arg, &row) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "cannot list rolled-up computers");
	return 0;
}

static int
ru_status_each(struct store *st, const char *computer_id,
    int (*cb)(void *, const struct store_rollup_status *), void *arg,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "SELECT update_id, state, last_change FROM rollup_status "
		 "WHERE computer_id = ?1 ORDER BY update_id",
		 &q, err)) < 0)
		return rc;
	bind_str(q, 1, computer_id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_rollup_status r = {
			.update_id = sq_col(q, 0),
			.state = sqlite3_column_int(q, 1),
			.last_change = sq_col(q, 2),
		};

		if (cb(arg, &r) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "cannot list rolled-up status");
	return 0;
}

/* ---------------------------------------------------- downstream side */

static int
ru_upstream_get(struct store *st, char uss_id[37], char reset_guid[37],
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	uss_id[0] = reset_guid[0] = '\0';
	if ((rc = sqlite_prep(s,
		 "SELECT uss_server_id, rollup_reset_guid FROM rollup_upstream "
		 "WHERE id = 1",
		 &q, err)) < 0)
		return rc;
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		snprintf(uss_id, 37, "%s", sq_col(q, 0));
		snprintf(reset_guid, 37, "%s", sq_col(q, 1));
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "cannot read rollup state");
	return 0;
}

static int
ru_upstream_set(struct store *st, const char *uss_id, const char *reset_guid,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	char now[32];
	int rc;

	sq_now_iso(now);
	if ((rc = sqlite_prep(s,
		 "INSERT INTO rollup_upstream (id, uss_server_id, "
		 "rollup_reset_guid, last_rollup) VALUES (1, ?1, ?2, ?3) "
		 "ON CONFLICT (id) DO UPDATE SET uss_server_id = "
		 "excluded.uss_server_id, rollup_reset_guid = "
		 "excluded.rollup_reset_guid, last_rollup = excluded.last_rollup",
		 &q, err)) < 0)
		return rc;
	bind_str(q, 1, uss_id);
	bind_str(q, 2, reset_guid);
	bind_str(q, 3, now);
	return sq_run(s, q, err, "cannot store rollup state");
}

static int
ru_sent_get(struct store *st, const char *computer_id, int32_t *number,
    char details[STORE_ROLLUP_DIGEST], char status[STORE_ROLLUP_DIGEST],
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "SELECT rollup_number, details_digest, status_digest FROM "
		 "rollup_sent WHERE computer_id = ?1",
		 &q, err)) < 0)
		return rc;
	bind_str(q, 1, computer_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*number = sqlite3_column_int(q, 0);
		snprintf(details, STORE_ROLLUP_DIGEST, "%s", sq_col(q, 1));
		snprintf(status, STORE_ROLLUP_DIGEST, "%s", sq_col(q, 2));
		sqlite3_finalize(q);
		return 0;
	}
	sqlite3_finalize(q);
	if (rc == SQLITE_DONE)
		return wsd_fail(err, WSD_ENOTFOUND, "nothing sent yet");
	return db_fail(s, err, "cannot read rollup state");
}

static int
ru_sent_set(struct store *st, const char *computer_id, int32_t number,
    const char *details, const char *status, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "INSERT INTO rollup_sent (computer_id, rollup_number, "
		 "details_digest, status_digest) VALUES (?1, ?2, ?3, ?4) "
		 "ON CONFLICT (computer_id) DO UPDATE SET rollup_number = "
		 "excluded.rollup_number, details_digest = "
		 "excluded.details_digest, status_digest = excluded.status_digest",
		 &q, err)) < 0)
		return rc;
	bind_str(q, 1, computer_id);
	sqlite3_bind_int(q, 2, number);
	bind_str(q, 3, details);
	bind_str(q, 4, status);
	return sq_run(s, q, err, "cannot store rollup state");
}

static int
ru_sent_clear(struct store *st, struct wsd_err *err)
{
	return exec(SQ(st), "DELETE FROM rollup_sent", err,
	    "cannot reset rollup state");
}

static int
ru_local_computers_each(struct store *st,
    int (*cb)(void *, const struct store_rollup_local *), void *arg,
    struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite_prep(s,
		 "SELECT c.computer_id, c.dns_name, c.os_description, "
		 "c.os_build, c.os_locale, c.manufacturer, c.model, "
		 "c.bios_version, c.processor, c.client_version, "
		 "coalesce(c.last_sync, ''), coalesce((SELECT "
		 "group_concat(group_id, ',') FROM (SELECT g.group_id FROM "
		 "computer_group_member m JOIN target_group g ON g.group_pk = "
		 "m.group_pk WHERE m.computer_pk = c.computer_pk ORDER BY "
		 "g.group_id)), '') FROM computer c ORDER BY c.computer_id",
		 &q, err)) < 0)
		return rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_rollup_local r = {
			.computer_id = sq_col(q, 0),
			.dns_name = sq_col(q, 1),
			.os_description = sq_col(q, 2),
			.os_build = sqlite3_column_int(q, 3),
			.os_locale = sq_col(q, 4),
			.manufacturer = sq_col(q, 5),
			.model = sq_col(q, 6),
			.bios_version = sq_col(q, 7),
			.processor = sq_col(q, 8),
			.client_version = sq_col(q, 9),
			.last_sync = sq_col(q, 10),
			.group_ids = sq_col(q, 11),
		};

		if (cb(arg, &r) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "cannot list computers");
	return 0;
}

const struct store_rollup_ops store_sqlite_rollup_ops = {
	.server_put = ru_server_put,
	.servers_each = ru_servers_each,
	.computer_put = ru_computer_put,
	.computer_rollup_number = ru_computer_rollup_number,
	.status_put = ru_status_put,
	.computers_each = ru_computers_each,
	.status_each = ru_status_each,
	.upstream_get = ru_upstream_get,
	.upstream_set = ru_upstream_set,
	.sent_get = ru_sent_get,
	.sent_set = ru_sent_set,
	.sent_clear = ru_sent_clear,
	.local_computers_each = ru_local_computers_each,
};
