/* The store_rollup_* wrappers over the backend's rollup table. */
#include "store/store_rollup.h"

#include "store/store_int.h"

/* A backend without the rollup area refuses instead of crashing. */
#define RU(st) ((st)->st_ops->rollup)
#define NEED(st, err)                                                          \
	do {                                                                   \
		if (RU(st) == NULL)                                            \
			return wsd_fail((err), WSD_EINTERNAL,                  \
			    "store backend has no rollup tables");             \
	} while (0)

int
store_rollup_server_put(struct store *st, const struct store_rollup_server *s,
    struct wsd_err *err)
{
	NEED(st, err);
	return RU(st)->server_put(st, s, err);
}

int
store_rollup_servers_each(struct store *st,
    int (*cb)(void *, const struct store_rollup_server *), void *arg,
    struct wsd_err *err)
{
	NEED(st, err);
	return RU(st)->servers_each(st, cb, arg, err);
}

int
store_rollup_computer_put(struct store *st,
    const struct store_rollup_computer *c, bool *need_details,
    struct wsd_err *err)
{
	NEED(st, err);
	return RU(st)->computer_put(st, c, need_details, err);
}

int
store_rollup_computer_rollup_number(struct store *st, const char *computer_id,
    int32_t *number, char parent[37], struct wsd_err *err)
{
	NEED(st, err);
	return RU(st)->computer_rollup_number(st, computer_id, number, parent,
	    err);
}

int
store_rollup_status_put(struct store *st, const char *computer_id,
    int32_t number, bool full, const char *detection_time,
    const struct store_rollup_status *v, size_t n, struct wsd_err *err)
{
	NEED(st, err);
	return RU(st)->status_put(st, computer_id, number, full,
	    detection_time, v, n, err);
}

int
store_rollup_computers_each(struct store *st,
    int (*cb)(void *, const struct store_rollup_computer_row *), void *arg,
    struct wsd_err *err)
{
	NEED(st, err);
	return RU(st)->computers_each(st, cb, arg, err);
}

int
store_rollup_status_each(struct store *st, const char *computer_id,
    int (*cb)(void *, const struct store_rollup_status *), void *arg,
    struct wsd_err *err)
{
	NEED(st, err);
	return RU(st)->status_each(st, computer_id, cb, arg, err);
}

int
store_rollup_upstream_get(struct store *st, char uss_id[37],
    char reset_guid[37], struct wsd_err *err)
{
	NEED(st, err);
	return RU(st)->upstream_get(st, uss_id, reset_guid, err);
}

int
store_rollup_upstream_set(struct store *st, const char *uss_id,
    const char *reset_guid, struct wsd_err *err)
{
	NEED(st, err);
	return RU(st)->upstream_set(st, uss_id, reset_guid, err);
}

int
store_rollup_sent_get(struct store *st, const char *computer_id,
    int32_t *number, char details[STORE_ROLLUP_DIGEST],
    char status[STORE_ROLLUP_DIGEST], struct wsd_err *err)
{
	NEED(st, err);
	return RU(st)->sent_get(st, computer_id, number, details, status, err);
}

int
store_rollup_sent_set(struct store *st, const char *computer_id,
    int32_t number, const char *details, const char *status,
    struct wsd_err *err)
{
	NEED(st, err);
	return RU(st)->sent_set(st, computer_id, number, details, status, err);
}

int
store_rollup_sent_clear(struct store *st, struct wsd_err *err)
{
	NEED(st, err);
	return RU(st)->sent_clear(st, err);
}

int
store_rollup_local_computers_each(struct store *st,
    int (*cb)(void *, const struct store_rollup_local *), void *arg,
    struct wsd_err *err)
{
	NEED(st, err);
	return RU(st)->local_computers_each(st, cb, arg, err);
}
