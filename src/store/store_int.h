/*
 * Private to store*.c: the common head of every backend's handle and the
 * catalog half of a backend's table (store.h wraps each entry).
 */
#ifndef WSUSD_STORE_STORE_INT_H
#define WSUSD_STORE_STORE_INT_H

#include "store/store.h"

struct store {
	const struct store_ops *st_ops;
};

struct store_catalog_ops {
	int (*begin)(struct store *, struct wsd_err *);
	int (*commit)(struct store *, struct wsd_err *);
	void (*rollback)(struct store *);
	int (*revision_put)(struct store *, const struct store_revision_in *,
	    int64_t *, bool *, struct wsd_err *);
	int (*updates_list)(struct store *, const struct store_update_filter *,
	    int (*)(void *, const struct store_update_row *), void *,
	    struct wsd_err *);
	int (*category_find)(struct store *, const char *, const char *,
	    char[37], struct wsd_err *);
	int (*update_decline)(struct store *, const char *, struct wsd_err *);
	int (*group_add)(struct store *, const char *, const char *, char[37],
	    struct wsd_err *);
	int (*group_remove)(struct store *, const char *, struct wsd_err *);
	int (*groups_list)(struct store *,
	    int (*)(void *, const struct store_group_row *), void *,
	    struct wsd_err *);
	int (*computer_upsert)(struct store *, const char *, const char *,
	    const char *, struct wsd_err *);
	int (*computer_move)(struct store *, const char *, const char *,
	    struct wsd_err *);
	int (*computer_delete)(struct store *, const char *, char[37],
	    struct wsd_err *);
	int (*cookie_revoked)(struct store *, const char *, int64_t,
	    struct wsd_err *);
	int (*computers_list)(struct store *,
	    int (*)(void *, const struct store_computer_row *), void *,
	    struct wsd_err *);
	int (*approval_set)(struct store *, const char *, const char *,
	    const char *, const char *, const char *, struct wsd_err *);
	int (*approval_effective)(struct store *, const char *, const char *,
	    char[16], char[40], struct wsd_err *);
	int (*approvals_list)(struct store *, const char *,
	    int (*)(void *, const struct store_approval_row *), void *,
	    struct wsd_err *);
	int (*event_add)(struct store *, const char *, const char *,
	    const char *, struct wsd_err *);
	int (*revisions_each)(struct store *, const char *, int64_t, bool,
	    int (*)(void *, const struct store_revision_out *), void *,
	    struct wsd_err *);
	int (*files_list)(struct store *,
	    int (*)(void *, const struct store_file_row *), void *,
	    struct wsd_err *);
	int (*file_set_state)(struct store *, const unsigned char *,
	    const char *, struct wsd_err *);
	int (*file_forget)(struct store *, const unsigned char *,
	    struct wsd_err *);
	int (*cleanup)(struct store *, bool, bool, bool, unsigned,
	    struct store_cleanup_counts *, struct wsd_err *);
	int (*sync_head)(struct store *, const char *,
	    struct store_sync_head *, struct wsd_err *);
	int (*sync_catalog)(struct store *, struct store_sync_catalog *,
	    struct wsd_err *);
	int (*sync_deployments)(struct store *, const int64_t *, size_t,
	    uint64_t *, struct store_sync_deploy **, size_t *,
	    struct wsd_err *);
	int (*revision_core)(struct store *, int64_t,
	    int (*)(void *, const char *, size_t), void *, struct wsd_err *);
	int (*client_events_add)(struct store *,
	    const struct store_client_event *, size_t, size_t *,
	    struct wsd_err *);
	int (*client_events_recent)(struct store *, const char *, unsigned,
	    int (*)(void *, const struct store_client_event_full *), void *,
	    struct wsd_err *);
	int (*client_events_each)(struct store *, const char *,
	    int (*)(void *, const struct store_client_event_row *), void *,
	    struct wsd_err *);
	int (*computer_touch)(struct store *, const char *, struct wsd_err *);
	int (*computer_set_groups)(struct store *, const char *, const char *,
	    unsigned *, struct wsd_err *);
	int (*computer_details_set)(struct store *, const char *,
	    const struct store_computer_details *, struct wsd_err *);
};

extern const struct store_catalog_ops store_sqlite_catalog_ops;

#endif
