/*
 * SQLite backend: DATADIR/wsusd.db in WAL mode with foreign keys on.
 * Migrations run at open, each in its own transaction, tracked by
 * PRAGMA user_version. Every statement binds its parameters (S22), and a
 * progress handler bounds how long one statement may run.
 */
#include "store/store.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "common/log.h"
#include "common/sbuf.h"
#include "store/store_int.h"
#include "store/store_schema.h"
#include "store/store_sqlite_int.h"
#include "store/store_upstream.h"
#include "store/store_rollup.h"
#include "store/store_sss.h"

/* Longest one statement may run (S22); checked every 10k VM steps. */
#define STORE_STATEMENT_MS 30000
#define STORE_BUSY_MS 5000

static int
progress(void *arg)
{
	struct store_sqlite *s = arg;
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - s->stmt_start.tv_sec) * 1000LL +
	    (now.tv_nsec - s->stmt_start.tv_nsec) / 1000000;
	return ms > s->stmt_limit_ms;
}

void
stmt_clock(struct store_sqlite *s)
{
	clock_gettime(CLOCK_MONOTONIC, &s->stmt_start);
}

int
db_fail(struct store_sqlite *s, struct wsd_err *err, const char *what)
{
	log_warnx("sqlite: %s: %s", what, sqlite3_errmsg(s->db));
	return wsd_fail(err, WSD_EIO, what);
}

int
sqlite_prep(struct store_sqlite *s, const char *sql, sqlite3_stmt **q,
    struct wsd_err *err)
{
	stmt_clock(s);
	if (sqlite3_prepare_v2(s->db, sql, -1, q, NULL) != SQLITE_OK)
		return db_fail(s, err, "cannot prepare statement");
	return 0;
}

int
sqlite_prep_cached(struct store_sqlite *s, const char *sql, sqlite3_stmt **q,
    struct wsd_err *err)
{
	size_t i;

	stmt_clock(s);
	for (i = 0; i < SQLITE_CACHED_STMTS && s->cached_sql[i] != NULL; i++)
		if (s->cached_sql[i] == sql) {
			*q = s->cached[i];
			return 0;
		}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, q,
		NULL) != SQLITE_OK)
		return db_fail(s, err, "cannot prepare statement");
	if (i < SQLITE_CACHED_STMTS) {
		s->cached_sql[i] = sql;
		s->cached[i] = *q;
	} else {
		/* Full (a programming error): work, but uncached. */
		log_warnx("statement cache full");
		sqlite3_finalize(s->cached[0]);
		s->cached[0] = *q;
		s->cached_sql[0] = sql;
	}
	return 0;
}

void
sqlite_unprep(sqlite3_stmt *q)
{
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

int
exec(struct store_sqlite *s, const char *sql, struct wsd_err *err,
    const char *what)
{
	stmt_clock(s);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(s, err, what);
	return 0;
}

static int
user_version(struct store_sqlite *s, int *v, struct wsd_err *err)
{
	sqlite3_stmt *st;

	stmt_clock(s);
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_fail(s, err, "cannot read schema version");
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_fail(s, err, "cannot read schema version");
	}
	*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int
migrate(struct store_sqlite *s, struct wsd_err *err)
{
	char sql[64];
	int v = 0, rc;

	if ((rc = user_version(s, &v, err)) < 0)
		return rc;
	if (v > (int)store_nmigrations) {
		log_warnx("wsusd.db has schema version %d; this wsusd knows "
			  "up to %u",
		    v, store_nmigrations);
		return wsd_fail(err, WSD_EINVAL,
		    "database is newer than this wsusd");
	}
	for (; v < (int)store_nmigrations; v++) {
		if ((rc = exec(s, "BEGIN IMMEDIATE", err, "migration")) < 0)
			return rc;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if ((rc = exec(s, store_migrations[v], err, "migration")) < 0 ||
		    (rc = exec(s, sql, err, "migration")) < 0) {
			(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
		if ((rc = exec(s, "COMMIT", err, "migration")) < 0)
			return rc;
		log_info("database migrated to schema version %d", v + 1);
	}
	return 0;
}

static void
sq_close(struct store *st)
{
	struct store_sqlite *s = (struct store_sqlite *)st;

	for (size_t i = 0; i < SQLITE_CACHED_STMTS; i++)
		sqlite3_finalize(s->cached[i]);
	sqlite3_close(s->db);
	free(s);
}

static int
sq_open(struct store **out, const char *datadir, struct wsd_err *err)
{
	struct store_sqlite *s;
	char path[PATH_MAX];
	int rc;

	if (snprintf(path, sizeof(path), "%s/wsusd.db", datadir) >=
	    (int)sizeof(path))
		return wsd_fail(err, WSD_EINVAL, "data directory path too long");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	s->base.st_ops = &store_sqlite_ops;
	{
		/* The database is created 0600: it is wsusd's alone. */
		mode_t old = umask(077);

		rc = sqlite3_open_v2(path, &s->db,
		    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX,
		    NULL);
		umask(old);
	}
	if (rc != SQLITE_OK) {
		log_warnx("%s: %s", path,
		    s->db ? sqlite3_errmsg(s->db) : "cannot open");
		sqlite3_close(s->db);
		free(s);
		return wsd_fail(err, WSD_EIO, "cannot open wsusd.db");
	}
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	/* SECURITY.md S22: no statement runs away with a worker. */
	s->stmt_limit_ms = STORE_STATEMENT_MS;
	sqlite3_progress_handler(s->db, 10000, progress, s);
	sqlite3_extended_result_codes(s->db, 1);
	/* No ATTACH of other files from SQL, no extension loading. */
	sqlite3_limit(s->db, SQLITE_LIMIT_ATTACHED, 0);
	if ((rc = exec(s, "PRAGMA journal_mode = WAL", err,
		 "cannot enable WAL")) < 0 ||
	    (rc = exec(s, "PRAGMA foreign_keys = ON", err,
		 "cannot enable foreign keys")) < 0 ||
	    (rc = exec(s, "PRAGMA synchronous = NORMAL", err,
		 "cannot set synchronous")) < 0 ||
	    (rc = migrate(s, err)) < 0) {
		sq_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}

static int
sq_schema_version(struct store *st, int *v, struct wsd_err *err)
{
	return user_version((struct store_sqlite *)st, v, err);
}

static int
sq_integrity_check(struct store *st, struct sbuf *out, struct wsd_err *err)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *q;
	int rc, rows = 0;

	stmt_clock(s);
	if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check(20)", -1, &q,
		NULL) != SQLITE_OK)
		return db_fail(s, err, "integrity check failed to run");
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(q, 0);

		if ((rows++ && sbuf_adds(out, "\n") < 0) ||
		    sbuf_adds(out, t ? t : "?") < 0) {
			sqlite3_finalize(q);
			return wsd_fail(err, WSD_ETOOBIG, "report too long");
		}
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "integrity check failed to run");
	return 0;
}

static int
sq_meta_get(struct store *st, const char *key, struct sbuf *out,
    struct wsd_err *err)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *q;
	int rc;

	stmt_clock(s);
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?1",
		-1, &q, NULL) != SQLITE_OK)
		return db_fail(s, err, "cannot read meta");
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(q);
		return wsd_fail(err, WSD_ENOTFOUND, "no such key");
	}
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(q);
		return db_fail(s, err, "cannot read meta");
	}
	rc = sbuf_add(out, sqlite3_column_text(q, 0),
	    (size_t)sqlite3_column_bytes(q, 0));
	sqlite3_finalize(q);
	return rc < 0 ? wsd_fail(err, rc, "value too long") : 0;
}

static int
sq_meta_set(struct store *st, const char *key, const char *value,
    struct wsd_err *err)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *q;
	int rc;

	stmt_clock(s);
	if (sqlite3_prepare_v2(s->db,
		"INSERT INTO meta (key, value) VALUES (?1, ?2) "
		"ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		-1, &q, NULL) != SQLITE_OK)
		return db_fail(s, err, "cannot write meta");
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "cannot write meta");
	return 0;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.schema_version = sq_schema_version,
	.integrity_check = sq_integrity_check,
	.meta_get = sq_meta_get,
	.meta_set = sq_meta_set,
	.catalog = &store_sqlite_catalog_ops,
	.sss = &store_sqlite_sss_ops,
	.upstream = &store_sqlite_upstream_ops,
	.rollup = &store_sqlite_rollup_ops,
};
