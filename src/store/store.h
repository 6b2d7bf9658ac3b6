/*
 * The storage interface: the only way any module reaches the database.
 * No SQL outside store_*.c. One implementation per backend exports a
 * const struct store_ops (SQLite now; PostgreSQL later), and callers use
 * the store_* wrappers below, so adding a backend touches no caller.
 *
 * A struct store is used by one thread at a time; each thread that needs
 * the database opens its own.
 */
#ifndef WSUSD_STORE_STORE_H
#define WSUSD_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/wsd_err.h"

struct store;
struct sbuf;

struct store_ops {
	const char *name;
	int (*open)(struct store **, const char *datadir, struct wsd_err *);
	void (*close)(struct store *);
	int (*schema_version)(struct store *, int *, struct wsd_err *);
	/* "ok", or the first problems found, one per line, into OUT. */
	int (*integrity_check)(struct store *, struct sbuf *out,
	    struct wsd_err *);
	int (*meta_get)(struct store *, const char *key, struct sbuf *out,
	    struct wsd_err *);
	int (*meta_set)(struct store *, const char *key, const char *value,
	    struct wsd_err *);
};

extern const struct store_ops store_sqlite_ops;

/* Opens DATADIR/wsusd.db (created if missing) and applies migrations. */
int store_open(struct store **out, const char *datadir, struct wsd_err *err)
    WSD_MUST_CHECK;
void store_close(struct store *st);
int store_schema_version(struct store *st, int *version,
    struct wsd_err *err) WSD_MUST_CHECK;
/* *OK true when the database passes PRAGMA integrity_check. */
int store_integrity_check(struct store *st, bool *ok, struct sbuf *detail,
    struct wsd_err *err) WSD_MUST_CHECK;
/* WSD_ENOTFOUND when KEY has no value. */
int store_meta_get(struct store *st, const char *key, struct sbuf *out,
    struct wsd_err *err) WSD_MUST_CHECK;
int store_meta_set(struct store *st, const char *key, const char *value,
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
