/* Private to store_sqlite*.c: the SQLite handle and shared helpers. */
#ifndef WSUSD_STORE_STORE_SQLITE_INT_H
#define WSUSD_STORE_STORE_SQLITE_INT_H

#include <time.h>

#include <sqlite3.h>

#include "store/store_int.h"

/* Statements of the per-request hot path, prepared once per handle. */
#define SQLITE_CACHED_STMTS 8

struct store_sqlite {
	struct store base;
	sqlite3 *db;
	struct timespec stmt_start; /* for the statement time limit */
	long long stmt_limit_ms;    /* STORE_STATEMENT_MS; tests lower it */
	const char *cached_sql[SQLITE_CACHED_STMTS];
	sqlite3_stmt *cached[SQLITE_CACHED_STMTS];
};

/* Starts the clock of the statement time limit. */
void stmt_clock(struct store_sqlite *s);
/* Logs SQLite's message with WHAT and fails with WSD_EIO. */
int db_fail(struct store_sqlite *s, struct wsd_err *err, const char *what);
int exec(struct store_sqlite *s, const char *sql, struct wsd_err *err,
    const char *what);
/* Prepares SQL into *Q with the statement clock started. */
int sqlite_prep(struct store_sqlite *s, const char *sql, sqlite3_stmt **q,
    struct wsd_err *err);
/* The same for a static SQL string used on every request: the statement
 * is kept (keyed by the string's address); release it with
 * sqlite_unprep, never sqlite3_finalize. */
int sqlite_prep_cached(struct store_sqlite *s, const char *sql,
    sqlite3_stmt **q, struct wsd_err *err);
void sqlite_unprep(sqlite3_stmt *q);

/* Small helpers every store_sqlite*.c file uses. */
static inline struct store_sqlite *
SQ(struct store *st)
{
	return (struct store_sqlite *)st;
}

/* Steps a statement that returns no rows, and finalizes it. */
static inline int
sq_run(struct store_sqlite *s, sqlite3_stmt *q, struct wsd_err *err,
    const char *what)
{
	int rc = sqlite3_step(q);

	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_fail(s, err, what);
	return 0;
}

/* A text column, "" for NULL. */
static inline const char *
sq_col(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);

	return t ? (const char *)t : "";
}

/* Binds V, or NULL when V is NULL. */
static inline void
sq_bind_text(sqlite3_stmt *q, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(q, i);
	else
		sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT);
}

/* Now, UTC, as the created/changed columns hold it. */
static inline void
sq_now_iso(char buf[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* store_sqlite_read.c, for the catalog ops table. */
int sqlite_revisions_each(struct store *st, const char *update_id,
    int64_t revision_id,
    bool latest_only, int (*cb)(void *, const struct store_revision_out *),
    void *arg, struct wsd_err *err);
int sqlite_files_list(struct store *st,
    int (*cb)(void *, const struct store_file_row *), void *arg,
    struct wsd_err *err);
int sqlite_file_set_state(struct store *st, const unsigned char *sha1,
    const char *state, struct wsd_err *err);
int sqlite_file_forget(struct store *st, const unsigned char *sha1,
    struct wsd_err *err);
/* A change that is whole or absent: savepoints nest inside a caller's
 * BEGIN and stand alone without one. sp_end rolls back when RC < 0 and
 * returns RC, else releases (store_sqlite_catalog.c). */
int sp_begin(struct store_sqlite *s, struct wsd_err *err);
int sp_end(struct store_sqlite *s, int rc, struct wsd_err *err);
/* store_sqlite_revoked.c */
int sqlite_computer_delete(struct store *st, const char *computer,
    char id_out[37], struct wsd_err *err);
int sqlite_cookie_revoked(struct store *st, const char *computer_id,
    int64_t issued, struct wsd_err *err);
/* Drops revocations older than any cookie lifetime (cleanup). */
int sqlite_revoked_prune(struct store_sqlite *s, struct wsd_err *err);
int sqlite_cleanup(struct store *st, bool superseded, bool expired,
    bool obsolete, unsigned inactive_days, struct store_cleanup_counts *out,
    struct wsd_err *err);

/* store_sqlite_sync.c, for store_sqlite_catalog_ops. */
int sqlite_sync_head(struct store *st, const char *computer_id,
    struct store_sync_head *out, struct wsd_err *err);
int sqlite_sync_catalog(struct store *st, struct store_sync_catalog *out,
    struct wsd_err *err);
int sqlite_sync_deployments(struct store *st, const int64_t *groups,
    size_t n_groups, uint64_t *generation, struct store_sync_deploy **out,
    size_t *n_out, struct wsd_err *err);
int sqlite_revision_core(struct store *st, int64_t revision_id,
    int (*fn)(void *, const char *, size_t), void *arg, struct wsd_err *err);

#endif
