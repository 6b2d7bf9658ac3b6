#include "store/store.h"

#include <string.h>

#include "common/sbuf.h"
#include "store/store_int.h"

int
store_open(struct store **out, const char *datadir, struct wsd_err *err)
{
	/* The only backend so far; a "database =" key will choose later. */
	return store_sqlite_ops.open(out, datadir, err);
}

void
store_close(struct store *st)
{
	if (st != NULL)
		st->st_ops->close(st);
}

int
store_schema_version(struct store *st, int *version, struct wsd_err *err)
{
	return st->st_ops->schema_version(st, version, err);
}

int
store_integrity_check(struct store *st, bool *ok, struct sbuf *detail,
    struct wsd_err *err)
{
	int rc = st->st_ops->integrity_check(st, detail, err);

	if (rc < 0)
		return rc;
	*ok = strcmp(sbuf_str(detail), "ok") == 0;
	return 0;
}

int
store_meta_get(struct store *st, const char *key, struct sbuf *out,
    struct wsd_err *err)
{
	return st->st_ops->meta_get(st, key, out, err);
}

int
store_meta_set(struct store *st, const char *key, const char *value,
    struct wsd_err *err)
{
	return st->st_ops->meta_set(st, key, value, err);
}
