/* The store_upstream.h wrappers: each calls the backend's table. */
#include "store/store_upstream.h"

#include "store/store_int.h"

#define UP(st) ((st)->st_ops->upstream)

int
store_upstream_get(struct store *st, struct store_upstream *out,
    struct wsd_err *err)
{
	return UP(st)->get(st, out, err);
}

int
store_upstream_set(struct store *st, const struct store_upstream *in,
    struct wsd_err *err)
{
	return UP(st)->set(st, in, err);
}

int
store_upstream_anchor_set(struct store *st, enum store_anchor which,
    const char *value, struct wsd_err *err)
{
	return UP(st)->anchor_set(st, which, value, err);
}

int
store_sync_stage_add(struct store *st, enum store_sync_pass pass,
    const char *update_id, int revision_number, struct wsd_err *err)
{
	return UP(st)->stage_add(st, pass, update_id, revision_number, err);
}

int
store_sync_stage_pending(struct store *st, enum store_sync_pass pass,
    size_t max, int (*cb)(void *, const char *, int), void *arg,
    struct wsd_err *err)
{
	return UP(st)->stage_pending(st, pass, max, cb, arg, err);
}

int
store_sync_stage_put(struct store *st, const char *update_id,
    int revision_number, const char *doc, size_t len, struct wsd_err *err)
{
	return UP(st)->stage_put(st, update_id, revision_number, doc, len, err);
}

int
store_sync_stage_drop(struct store *st, const char *update_id,
    int revision_number, struct wsd_err *err)
{
	return UP(st)->stage_drop(st, update_id, revision_number, err);
}

int
store_sync_stage_each(struct store *st, enum store_sync_pass pass,
    int (*cb)(void *, const char *, int, const char *, size_t), void *arg,
    struct wsd_err *err)
{
	return UP(st)->stage_each(st, pass, cb, arg, err);
}

int
store_sync_stage_count(struct store *st, int64_t *listed, int64_t *fetched,
    struct wsd_err *err)
{
	return UP(st)->stage_count(st, listed, fetched, err);
}

int
store_sync_stage_clear(struct store *st, struct wsd_err *err)
{
	return UP(st)->stage_clear(st, err);
}

int
store_upstream_have_revision(struct store *st, const char *update_id,
    int revision_number, bool *have, struct wsd_err *err)
{
	return UP(st)->have_revision(st, update_id, revision_number, have, err);
}

int
store_sync_begin(struct store *st, const char *trigger, int64_t *sync_id,
    struct wsd_err *err)
{
	return UP(st)->sync_begin(st, trigger, sync_id, err);
}

int
store_sync_progress(struct store *st, int64_t sync_id,
    const struct store_sync_progress *p, struct wsd_err *err)
{
	return UP(st)->sync_progress(st, sync_id, p, err);
}

int
store_sync_end(struct store *st, int64_t sync_id, const char *result,
    const char *message, struct wsd_err *err)
{
	return UP(st)->sync_end(st, sync_id, result, message, err);
}

int
store_sync_history(struct store *st, unsigned n,
    int (*cb)(void *, const struct store_sync_row *), void *arg,
    struct wsd_err *err)
{
	return UP(st)->sync_history(st, n, cb, arg, err);
}

int
store_sync_stage_clear_pass(struct store *st, enum store_sync_pass pass,
    struct wsd_err *err)
{
	return UP(st)->stage_clear_pass(st, pass, err);
}

int
store_upstream_replica_group(struct store *st, const char *group_id,
    const char *name, const char *parent_id, struct wsd_err *err)
{
	return UP(st)->replica_group(st, group_id, name, parent_id, err);
}

int
store_upstream_replica_clear(struct store *st, struct wsd_err *err)
{
	return UP(st)->replica_clear(st, err);
}

int
store_upstream_replica_prune(struct store *st, const char (*keep)[37],
    size_t n, struct wsd_err *err)
{
	return UP(st)->replica_prune(st, keep, n, err);
}
