/*
 * What SyncUpdates keeps in memory (issue #5 item 7): the catalog as of a
 * generation, shared by every worker, and per set of target groups the
 * deployments those groups get and their closure over prerequisites and
 * bundle members (WUSP.md 4.2 items 2, 3, 6). A rescan then costs one
 * indexed read (the computer's groups and the current generation) plus
 * work on arrays; the catalog is read again only after something a scan
 * reads has changed (store schema 0005 bumps the generation).
 *
 * Threads: sync_cache_view may run on every worker at once (one mutex
 * guards the cache; building happens under it, so a burst of clients
 * after a change builds once). A view is immutable and reference
 * counted: it stays valid after the cache moves on, until released.
 */
#ifndef WSUSD_WUSP_SYNC_CACHE_H
#define WSUSD_WUSP_SYNC_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* What a revision is to a computer, weakest first: a revision pulled in
 * with several roles gets the strongest (WUSP.md 4.2 item 6, 4.3). */
enum sync_role {
	SYNC_NONE,
	SYNC_EVALUATE,  /* prerequisite: category, detectoid, ... */
	SYNC_PREDEPLOY, /* software nobody approved: detect and report only */
	SYNC_BUNDLE,    /* member of a bundle */
	SYNC_DEPLOYED,  /* approved for one of the groups */
};

struct sync_catalog;

struct sync_view {
	atomic_int sv_refs;
	struct sync_catalog *sv_cat;
	const struct store_sync_catalog *sv_sc; /* revisions, refs */
	uint64_t sv_generation;                 /* of the catalog */
	int64_t sv_groups[STORE_SYNC_MAX_GROUPS];
	size_t sv_n_groups;
	uint32_t sv_groups_hash; /* sealed in cookies as the group version */
	bool sv_detect_unapproved;
	/* per revision of sv_sc */
	struct store_sync_deploy *sv_deps; /* deployments, by revision_id */
	size_t sv_n_deps;
	uint32_t *sv_dep_of;      /* index into sv_deps, or UINT32_MAX */
	uint8_t *sv_role;         /* enum sync_role, unfiltered scan */
	uint64_t *sv_change_gen;  /* last change of its deployment */
	uint32_t *sv_members;     /* revisions with a role, ascending */
	size_t sv_n_members;
	size_t sv_n_drivers;      /* drivers with an Install approval */
	/* catalog indexes, shared: per ref of sv_sc->pre/bun the index of
	 * the revision it names, or UINT32_MAX when not in the catalog */
	const uint32_t *sv_pre_ix, *sv_bun_ix;
	/* the catalog's driver entries ordered by hardware id */
	const uint32_t *sv_drv_ix;
};

/*
 * The view for computer HEAD (from store_sync_head) on database
 * INSTANCE, at least as new as HEAD's generation. DETECT_UNAPPROVED:
 * unapproved software is offered as PreDeploymentCheck (wsusd.conf).
 */
int sync_cache_view(struct store *st, uint64_t instance,
    const struct store_sync_head *head, bool detect_unapproved,
    const struct sync_view **out, struct wsd_err *err) WSD_MUST_CHECK;
void sync_view_release(const struct sync_view *v);

/* Index of revision RID in the view's catalog, or SIZE_MAX. */
size_t sync_view_by_rid(const struct sync_view *v, int64_t rid);
/* Index of the revision of UpdateID UID, or SIZE_MAX. */
size_t sync_view_by_uid(const struct sync_view *v, const char *uid);

/* Revision I is a driver these groups have an Install approval for:
 * the driver pass may offer it. */
bool sync_view_driver_deployed(const struct sync_view *v, size_t i);

/*
 * Roles for a category-filtered scan: only deployments (and unapproved
 * software) for which IN_SCOPE is true seed the closure. ROLE and QUEUE
 * have room for every revision of the catalog.
 */
void sync_view_closure(const struct sync_view *v, const bool *in_scope,
    uint8_t *role, uint32_t *queue);

#endif
