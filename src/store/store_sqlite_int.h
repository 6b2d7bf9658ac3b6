/* Private to store_sqlite*.c: the SQLite handle and shared helpers. */
#ifndef WSUSD_STORE_STORE_SQLITE_INT_H
#define WSUSD_STORE_STORE_SQLITE_INT_H

#include <time.h>

#include <sqlite3.h>

#include "store/store_int.h"

struct store_sqlite {
	struct store base;
	sqlite3 *db;
	struct timespec stmt_start; /* for the statement time limit */
};

/* Starts the clock of the statement time limit. */
void stmt_clock(struct store_sqlite *s);
/* Logs SQLite's message with WHAT and fails with WSD_EIO. */
int db_fail(struct store_sqlite *s, struct wsd_err *err, const char *what);
int exec(struct store_sqlite *s, const char *sql, struct wsd_err *err,
    const char *what);

#endif
