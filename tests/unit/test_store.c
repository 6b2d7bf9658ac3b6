#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/sbuf.h"
#include "store/store.h"
#include "store/store_schema.h"
#include "store/store_sqlite_int.h"

static char dir[] = "/tmp/wsusd-test-store-XXXXXX";

static char *
db_path(void)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/wsusd.db", dir);
	return p;
}

/* Reads one integer with the sqlite3 library directly, not the store. */
static int
raw_int(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int v = -1;

	assert_int_equal(sqlite3_open(db_path(), &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void
test_open_migrates(void **state)
{
	struct store *st;
	struct wsd_err e;
	struct stat sb;
	int v = 0;

	(void)state;
	assert_int_equal(store_open(&st, dir, &e), 0);
	assert_int_equal(store_schema_version(st, &v, &e), 0);
	assert_int_equal(v, (int)store_nmigrations);
	store_close(st);
	/* Reopening does not migrate again and keeps the version. */
	assert_int_equal(store_open(&st, dir, &e), 0);
	assert_int_equal(store_schema_version(st, &v, &e), 0);
	assert_int_equal(v, (int)store_nmigrations);
	store_close(st);
	assert_int_equal(raw_int("PRAGMA user_version"), (int)store_nmigrations);
	assert_int_equal(stat(db_path(), &sb), 0);
	assert_int_equal(sb.st_mode & 077, 0); /* wsusd's alone */
}

static void
test_wal_persisted(void **state)
{
	struct store *st;
	struct wsd_err e;
	sqlite3 *db;
	sqlite3_stmt *q;

	(void)state;
	assert_int_equal(store_open(&st, dir, &e), 0);
	store_close(st);
	/* journal_mode is persistent in the file. */
	assert_int_equal(sqlite3_open(db_path(), &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q,
			     NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	sqlite3_close(db);
}

static void
test_meta_roundtrip_and_injection(void **state)
{
	static const char *const hostile[] = {
		"x'); DROP TABLE meta;--",
		"\"; ATTACH DATABASE 'p.db' AS p;--",
		"",
	};
	struct store *st;
	struct wsd_err e;
	struct sbuf sb;
	char pdb[300];

	(void)state;
	assert_int_equal(store_open(&st, dir, &e), 0);
	sbuf_init(&sb, 4096);
	assert_int_equal(store_meta_get(st, "server_id", &sb, &e), 0);
	assert_int_equal((int)sb.sb_len, 36); /* a GUID */
	sbuf_reset(&sb);
	assert_int_equal(store_meta_get(st, "no-such-key", &sb, &e),
	    WSD_ENOTFOUND);
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		assert_int_equal(store_meta_set(st, hostile[i], hostile[i], &e),
		    0);
		sbuf_reset(&sb);
		assert_int_equal(store_meta_get(st, hostile[i], &sb, &e), 0);
		assert_string_equal(sbuf_str(&sb), hostile[i]);
	}
	/* Overwrite keeps one row. */
	assert_int_equal(store_meta_set(st, "k", "1", &e), 0);
	assert_int_equal(store_meta_set(st, "k", "2", &e), 0);
	sbuf_reset(&sb);
	assert_int_equal(store_meta_get(st, "k", &sb, &e), 0);
	assert_string_equal(sbuf_str(&sb), "2");
	sbuf_release(&sb);
	store_close(st);
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE "
				 "name = 'meta'"), 1);
	snprintf(pdb, sizeof(pdb), "%s/p.db", dir);
	assert_int_equal(access(pdb, F_OK), -1);
}

/*
 * SECURITY.md S22: a statement that runs past the limit is interrupted
 * (the progress handler), the handle stays usable, and a statement
 * within it completes. The limit is lowered from 30 s to 300 ms here.
 */
static void
test_statement_time_limit(void **state)
{
	struct store *st = NULL;
	struct store_sqlite *s;
	struct wsd_err e;
	struct timespec t0, t1;
	sqlite3_stmt *q;
	long long ms;
	int step;

	(void)state;
	assert_int_equal(store_open(&st, dir, &e), 0);
	s = (struct store_sqlite *)st;
	assert_int_equal(s->stmt_limit_ms, 30000);
	s->stmt_limit_ms = 300;
	assert_int_equal(sqlite_prep(s,
			     "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
			     "SELECT x + 1 FROM c) SELECT count(*) FROM c",
			     &q, &e),
	    0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	step = sqlite3_step(q);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sqlite3_finalize(q);
	ms = (t1.tv_sec - t0.tv_sec) * 1000LL +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_int_equal(step, SQLITE_INTERRUPT);
	assert_true(ms >= 250 && ms < 10000);
	assert_int_equal(sqlite_prep(s,
			     "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
			     "SELECT x + 1 FROM c WHERE x < 1000) SELECT "
			     "count(*) FROM c",
			     &q, &e),
	    0);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 1000);
	sqlite3_finalize(q);
	store_close(st);
}

static void
test_integrity(void **state)
{
	struct store *st;
	struct wsd_err e;
	struct sbuf sb;
	bool ok = false;

	(void)state;
	assert_int_equal(store_open(&st, dir, &e), 0);
	sbuf_init(&sb, 4096);
	assert_int_equal(store_integrity_check(st, &ok, &sb, &e), 0);
	assert_true(ok);
	assert_string_equal(sbuf_str(&sb), "ok");
	sbuf_release(&sb);
	store_close(st);
}

static void
test_newer_schema_refused(void **state)
{
	struct store *st;
	struct wsd_err e;
	sqlite3 *db;
	char sql[64];

	(void)state;
	assert_int_equal(sqlite3_open(db_path(), &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %u",
	    store_nmigrations + 1);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(&st, dir, &e), WSD_EINVAL);
	assert_non_null(strstr(e.what, "newer"));
	/* Nothing was changed by the refusal. */
	assert_int_equal(raw_int("PRAGMA user_version"),
	    (int)store_nmigrations + 1);
}

static void
test_not_a_database(void **state)
{
	char other[] = "/tmp/wsusd-test-store-bad-XXXXXX", path[300];
	struct store *st;
	struct wsd_err e;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(other));
	snprintf(path, sizeof(path), "%s/wsusd.db", other);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("this is not an SQLite database, just text padding it out\n", fp);
	fclose(fp);
	assert_int_not_equal(store_open(&st, other, &e), 0);
	fp = fopen(path, "r");
	assert_non_null(fp);
	{
		char buf[64] = { 0 };

		assert_non_null(fgets(buf, sizeof(buf), fp));
		assert_non_null(strstr(buf, "not an SQLite")); /* untouched */
	}
	fclose(fp);
	unlink(path);
	rmdir(other);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_migrates),
		cmocka_unit_test(test_wal_persisted),
		cmocka_unit_test(test_meta_roundtrip_and_injection),
		cmocka_unit_test(test_statement_time_limit),
		cmocka_unit_test(test_integrity),
		cmocka_unit_test(test_not_a_database),
		cmocka_unit_test(test_newer_schema_refused), /* last: breaks db */
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
