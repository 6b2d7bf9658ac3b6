/*
 * Deleting a computer, and the cookies that die with it (SECURITY.md S9,
 * schema 0011): the computer_revoke trigger records every deletion,
 * whichever statement made it, so cleanup's inactive computers are
 * revoked like the ones an administrator names.
 */
#include <stdio.h>

#include "common/encode.h"
#include "common/wsd_limits.h"
#include "store/store_sqlite_int.h"

int
sqlite_computer_delete(struct store *st, const char *computer,
    char id_out[37], struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	char id[37];
	sqlite3_stmt *q;
	int64_t pk = 0;
	int rc, n = 0;

	if ((rc = sp_begin(s, err)) < 0)
		return rc;
	/* A DNS name may be shared: a reinstalled machine registers again
	 * under a new ID while its old row waits for cleanup. Deleting
	 * "the first" of them would be a guess. */
	if ((rc = sqlite_prep(s, "SELECT computer_pk, computer_id FROM "
			  "computer WHERE computer_id = ?1 OR dns_name = ?2 "
			  "COLLATE NOCASE ORDER BY computer_pk",
		 &q, err)) < 0)
		goto out;
	sq_bind_text(q, 1, guid_normalize(computer, id) == 0 ? id : "");
	sq_bind_text(q, 2, computer);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n++ == 0) {
			pk = sqlite3_column_int64(q, 0);
			snprintf(id_out, 37, "%s", sq_col(q, 1));
		}
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		rc = db_fail(s, err, "cannot read computers");
		goto out;
	}
	if (n == 0) {
		rc = wsd_fail(err, WSD_ENOTFOUND, "unknown computer");
		goto out;
	}
	if (n > 1) {
		rc = wsd_fail(err, WSD_EINVAL,
		    "several computers have that name: give the computer ID "
		    "(wsusutil computers list)");
		goto out;
	}
	if ((rc = sqlite_prep(s, "DELETE FROM computer WHERE computer_pk = ?1",
		 &q, err)) < 0)
		goto out;
	sqlite3_bind_int64(q, 1, pk);
	rc = sq_run(s, q, err, "cannot delete the computer");
out:
	return sp_end(s, rc, err);
}

static const char revoked_sql[] =
    "SELECT 1 FROM computer_revoked WHERE computer_id = ?1 AND deleted >= ?2";

int
sqlite_cookie_revoked(struct store *st, const char *computer_id,
    int64_t issued, struct wsd_err *err)
{
	struct store_sqlite *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	/* On every request that carries a cookie: a kept statement. */
	if ((rc = sqlite_prep_cached(s, revoked_sql, &q, err)) < 0)
		return rc;
	sqlite3_bind_text(q, 1, computer_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, issued);
	rc = sqlite3_step(q);
	sqlite_unprep(q);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "cannot read revoked computers");
	return 0;
}

int
sqlite_revoked_prune(struct store_sqlite *s, struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	/* Older than any cookie can live: nothing left to refuse. */
	if ((rc = sqlite_prep(s, "DELETE FROM computer_revoked WHERE deleted < "
			  "CAST(strftime('%s', 'now') AS INTEGER) - ?1",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int64(q, 1, (int64_t)WSD_MAX_COOKIE_LIFETIME);
	return sq_run(s, q, err, "cannot prune revoked computers");
}
