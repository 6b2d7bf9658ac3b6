/*
 * The SyncUpdates cache (sync_cache.h): one catalog generation per
 * database instance, and up to SYNC_MAX_VIEWS group-set views on it.
 */
#include "wusp/sync_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "wusp/driver_match.h"

/* Distinct group sets kept per catalog; past it the views start over
 * (a site has a few dozen groups, and computers sit in one or two). */
#define SYNC_MAX_VIEWS 256
/* Largest revision id mapped directly (4 bytes each). */
#define SYNC_DENSE_RIDS (4L * 1024 * 1024)

struct sync_catalog {
	atomic_int sc_refs;
	uint64_t sc_instance;
	struct store_sync_catalog sc_cat;
	uint32_t *sc_by_uid; /* revision indexes, ordered by UpdateID */
	uint32_t *sc_pre_ix, *sc_bun_ix;
	uint32_t *sc_drv_ix; /* driver entries by hardware id */
	/* revision id -> index, UINT32_MAX for none; NULL when the ids are
	 * too sparse (binary search then) */
	uint32_t *sc_rid_ix;
	size_t sc_n_rid_ix;
	const struct sync_view *sc_views[SYNC_MAX_VIEWS];
	size_t sc_n_views;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sync_catalog *cache_current;

static void view_unref(const struct sync_view *cv);

static void
catalog_unref(struct sync_catalog *c)
{
	if (c == NULL || atomic_fetch_sub(&c->sc_refs, 1) != 1)
		return;
	for (size_t i = 0; i < c->sc_n_views; i++)
		view_unref(c->sc_views[i]);
	store_sync_catalog_release(&c->sc_cat);
	free(c->sc_by_uid);
	free(c->sc_pre_ix);
	free(c->sc_bun_ix);
	free(c->sc_drv_ix);
	free(c->sc_rid_ix);
	free(c);
}

static int
cmp_uid(const void *a, const void *b, void *arg)
{
	const struct store_sync_catalog *sc = arg;

	return strcmp(sc->revs[*(const uint32_t *)a].update_id,
	    sc->revs[*(const uint32_t *)b].update_id);
}

static size_t
find_uid(const struct store_sync_catalog *sc, const uint32_t *by_uid,
    const char *uid)
{
	size_t lo = 0, hi = sc->n_revs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(sc->revs[by_uid[mid]].update_id, uid);

		if (c == 0)
			return by_uid[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

static void
resolve(const struct store_sync_catalog *sc, const uint32_t *by_uid,
    const struct store_sync_ref *refs, size_t n, uint32_t *ix)
{
	for (size_t k = 0; k < n; k++) {
		size_t j = find_uid(sc, by_uid, refs[k].update_id);

		ix[k] = j == SIZE_MAX ? UINT32_MAX : (uint32_t)j;
	}
}

static int
catalog_build(struct store *st, uint64_t instance, struct sync_catalog **out,
    struct wsd_err *err)
{
	struct sync_catalog *c;
	struct store_sync_catalog *sc;
	int rc;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	atomic_init(&c->sc_refs, 1);
	c->sc_instance = instance;
	if ((rc = store_sync_catalog(st, &c->sc_cat, err)) < 0) {
		free(c);
		return rc;
	}
	sc = &c->sc_cat;
	if (sc->n_revs >= UINT32_MAX || sc->n_pre >= UINT32_MAX ||
	    sc->n_bun >= UINT32_MAX) {
		catalog_unref(c);
		return wsd_fail(err, WSD_ETOOBIG, "catalog too large");
	}
	c->sc_by_uid = calloc(sc->n_revs + 1, sizeof(*c->sc_by_uid));
	c->sc_pre_ix = calloc(sc->n_pre + 1, sizeof(*c->sc_pre_ix));
	c->sc_bun_ix = calloc(sc->n_bun + 1, sizeof(*c->sc_bun_ix));
	if (c->sc_by_uid == NULL || c->sc_pre_ix == NULL ||
	    c->sc_bun_ix == NULL) {
		catalog_unref(c);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < sc->n_revs; i++)
		c->sc_by_uid[i] = (uint32_t)i;
	qsort_r(c->sc_by_uid, sc->n_revs, sizeof(*c->sc_by_uid), cmp_uid, sc);
	if ((rc = driver_index_build(sc, &c->sc_drv_ix)) < 0) {
		catalog_unref(c);
		return wsd_fail(err, rc, "driver table too large");
	}
	resolve(sc, c->sc_by_uid, sc->pre, sc->n_pre, c->sc_pre_ix);
	resolve(sc, c->sc_by_uid, sc->bun, sc->n_bun, c->sc_bun_ix);
	/* Revision ids are allocated densely by the store: a direct map
	 * when it costs at most 16 MiB. */
	if (sc->n_revs > 0 && sc->revs[sc->n_revs - 1].revision_id > 0 &&
	    sc->revs[sc->n_revs - 1].revision_id < SYNC_DENSE_RIDS) {
		c->sc_n_rid_ix = (size_t)sc->revs[sc->n_revs - 1].revision_id + 1;
		c->sc_rid_ix = malloc(c->sc_n_rid_ix * sizeof(*c->sc_rid_ix));
		if (c->sc_rid_ix == NULL) {
			catalog_unref(c);
			return wsd_fail(err, WSD_ENOMEM, "out of memory");
		}
		memset(c->sc_rid_ix, 0xff,
		    c->sc_n_rid_ix * sizeof(*c->sc_rid_ix));
		for (size_t i = 0; i < sc->n_revs; i++)
			if (sc->revs[i].revision_id >= 0)
				c->sc_rid_ix[sc->revs[i].revision_id] =
				    (uint32_t)i;
	}
	/* IsLeaf false exactly when some revision requires this update. */
	for (size_t k = 0; k < sc->n_pre; k++)
		if (c->sc_pre_ix[k] != UINT32_MAX)
			sc->revs[c->sc_pre_ix[k]].is_leaf = false;
	*out = c;
	return 0;
}

size_t
sync_view_by_rid(const struct sync_view *v, int64_t rid)
{
	const struct sync_catalog *c = v->sv_cat;
	const struct store_sync_catalog *sc = v->sv_sc;
	size_t lo = 0, hi = sc->n_revs;

	if (c->sc_rid_ix != NULL) {
		if (rid < 0 || (uint64_t)rid >= c->sc_n_rid_ix ||
		    c->sc_rid_ix[rid] == UINT32_MAX)
			return SIZE_MAX;
		return c->sc_rid_ix[rid];
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sc->revs[mid].revision_id == rid)
			return mid;
		if (sc->revs[mid].revision_id < rid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

size_t
sync_view_by_uid(const struct sync_view *v, const char *uid)
{
	return find_uid(v->sv_sc, v->sv_cat->sc_by_uid, uid);
}

static void
raise_role(uint8_t *role, uint32_t *queue, size_t *tail, size_t j,
    enum sync_role r)
{
	if (role[j] == SYNC_NONE)
		queue[(*tail)++] = (uint32_t)j;
	if (role[j] < r)
		role[j] = (uint8_t)r;
}

/*
 * A deployed driver is offered in the driver pass only (MS-WUSP 3.1.5.7:
 * the software pass returns no Driver revision), but what it requires
 * (its product, classification, detectoids) reaches the client in the
 * software pass, so that its prerequisites can be met.
 */
static void
evaluate_prereqs(const struct sync_view *v, uint8_t *role, uint32_t *queue,
    size_t *tail, size_t i)
{
	const struct store_sync_rev *r = &v->sv_sc->revs[i];

	for (size_t k = 0; k < r->n_pre; k++) {
		uint32_t j = v->sv_pre_ix[r->pre_first + k];

		if (j != UINT32_MAX)
			raise_role(role, queue, tail, j, SYNC_EVALUATE);
	}
}

bool
sync_view_driver_deployed(const struct sync_view *v, size_t i)
{
	const struct store_sync_deploy *d;

	if (v->sv_sc->revs[i].type != STORE_SYNC_DRIVER ||
	    v->sv_dep_of[i] == UINT32_MAX)
		return false;
	d = &v->sv_deps[v->sv_dep_of[i]];
	return d->approval_id != 0 && strcmp(d->action, "Install") == 0;
}

void
sync_view_closure(const struct sync_view *v, const bool *in_scope,
    uint8_t *role, uint32_t *queue)
{
	const struct store_sync_catalog *sc = v->sv_sc;
	size_t head = 0, tail = 0;

	memset(role, SYNC_NONE, sc->n_revs);
	for (size_t i = 0; i < sc->n_revs; i++) {
		if (in_scope != NULL && !in_scope[i])
			continue;
		/* A category a filtered scan asks for is evaluated even
		 * when nothing in it is deployed, as WSUS answers the
		 * OOBE scan (vectors scan/000006-8). */
		if (in_scope != NULL &&
		    sc->revs[i].type == STORE_SYNC_CATEGORY)
			raise_role(role, queue, &tail, i, SYNC_EVALUATE);
		if (v->sv_dep_of[i] != UINT32_MAX &&
		    v->sv_deps[v->sv_dep_of[i]].approval_id != 0 &&
		    sc->revs[i].type == STORE_SYNC_DRIVER)
			evaluate_prereqs(v, role, queue, &tail, i);
		else if (v->sv_dep_of[i] != UINT32_MAX &&
		    v->sv_deps[v->sv_dep_of[i]].approval_id != 0)
			raise_role(role, queue, &tail, i, SYNC_DEPLOYED);
		else if (v->sv_detect_unapproved &&
		    sc->revs[i].type == STORE_SYNC_SOFTWARE)
			raise_role(role, queue, &tail, i, SYNC_PREDEPLOY);
	}
	/* Each revision enters the queue once (when its role leaves
	 * SYNC_NONE): tail <= n_revs. A later, stronger role needs no
	 * second visit, as what a revision pulls in does not depend on
	 * its own role. */
	while (head < tail) {
		const struct store_sync_rev *r = &sc->revs[queue[head++]];

		for (size_t k = 0; k < r->n_pre; k++) {
			uint32_t j = v->sv_pre_ix[r->pre_first + k];

			if (j != UINT32_MAX)
				raise_role(role, queue, &tail, j,
				    SYNC_EVALUATE);
		}
		for (size_t k = 0; k < r->n_bun; k++) {
			uint32_t j = v->sv_bun_ix[r->bun_first + k];

			if (j != UINT32_MAX)
				raise_role(role, queue, &tail, j, SYNC_BUNDLE);
		}
	}
}

static uint32_t
groups_hash(const int64_t *g, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		for (int b = 0; b < 64; b += 8) {
			h ^= (uint32_t)(((uint64_t)g[i] >> b) & 0xff);
			h *= 16777619u;
		}
	return h;
}

static void
view_free(struct sync_view *v)
{
	if (v == NULL)
		return;
	free(v->sv_deps);
	free(v->sv_dep_of);
	free(v->sv_role);
	free(v->sv_change_gen);
	free(v->sv_members);
	free(v);
}

static void
view_unref(const struct sync_view *cv)
{
	struct sync_view *v = (struct sync_view *)(uintptr_t)cv;

	if (v != NULL && atomic_fetch_sub(&v->sv_refs, 1) == 1)
		view_free(v);
}

/* A caller holds a reference on the view and one on its catalog (the
 * catalog's memory is what the view points into). */
void
sync_view_release(const struct sync_view *v)
{
	struct sync_catalog *c;

	if (v == NULL)
		return;
	c = v->sv_cat;
	view_unref(v);
	catalog_unref(c);
}

/* Deployments and closure of HEAD's groups on catalog C. */
static int
view_build(struct store *st, struct sync_catalog *c,
    const struct store_sync_head *head, bool detect_unapproved,
    struct sync_view **out, struct wsd_err *err)
{
	const struct store_sync_catalog *sc = &c->sc_cat;
	size_t n = sc->n_revs;
	struct sync_view *v;
	uint32_t *queue = NULL;
	uint64_t gen;
	int rc;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	atomic_init(&v->sv_refs, 1);
	v->sv_cat = c;
	v->sv_sc = sc;
	v->sv_generation = sc->generation;
	memcpy(v->sv_groups, head->groups, sizeof(v->sv_groups));
	v->sv_n_groups = head->n_groups;
	v->sv_groups_hash = groups_hash(head->groups, head->n_groups);
	v->sv_detect_unapproved = detect_unapproved;
	v->sv_pre_ix = c->sc_pre_ix;
	v->sv_bun_ix = c->sc_bun_ix;
	v->sv_drv_ix = c->sc_drv_ix;
	if ((rc = store_sync_deployments(st, head->groups, head->n_groups,
		 &gen, &v->sv_deps, &v->sv_n_deps, err)) < 0) {
		view_free(v);
		return rc;
	}
	/* Approvals newer than the catalog: the next request, seeing the
	 * newer generation, rebuilds both; this view keeps the catalog's
	 * generation, so what changed is reported again then. */
	v->sv_dep_of = malloc((n + 1) * sizeof(*v->sv_dep_of));
	v->sv_role = calloc(n + 1, sizeof(*v->sv_role));
	v->sv_change_gen = calloc(n + 1, sizeof(*v->sv_change_gen));
	queue = calloc(n + 1, sizeof(*queue));
	if (v->sv_dep_of == NULL || v->sv_role == NULL ||
	    v->sv_change_gen == NULL || queue == NULL) {
		free(queue);
		view_free(v);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	memset(v->sv_dep_of, 0xff, (n + 1) * sizeof(*v->sv_dep_of));
	for (size_t k = 0; k < v->sv_n_deps; k++) {
		size_t i = sync_view_by_rid(v, v->sv_deps[k].revision_id);

		if (i != SIZE_MAX)
			v->sv_dep_of[i] = (uint32_t)k;
	}
	sync_view_closure(v, NULL, v->sv_role, queue);
	/* Change marks: a revision's own approvals and IsLeaf, then its
	 * bundle's (a member's Bundle role follows from the parent's
	 * deployment). An Evaluate deployment never changes: prerequisites
	 * are not marked when what requires them is approved. */
	for (size_t i = 0; i < n; i++) {
		uint64_t g = sc->revs[i].leaf_gen;

		if (v->sv_dep_of[i] != UINT32_MAX &&
		    v->sv_deps[v->sv_dep_of[i]].changed_gen > g)
			g = v->sv_deps[v->sv_dep_of[i]].changed_gen;
		v->sv_change_gen[i] = g;
	}
	for (size_t i = 0; i < n; i++) {
		const struct store_sync_rev *r = &sc->revs[i];
		uint64_t g = v->sv_change_gen[i];

		if (v->sv_role[i] == SYNC_NONE || g == 0)
			continue;
		for (size_t k = 0; k < r->n_bun; k++) {
			uint32_t j = c->sc_bun_ix[r->bun_first + k];

			if (j != UINT32_MAX && v->sv_change_gen[j] < g)
				v->sv_change_gen[j] = g;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (v->sv_role[i] != SYNC_NONE)
			queue[v->sv_n_members++] = (uint32_t)i;
		if (sync_view_driver_deployed(v, i))
			v->sv_n_drivers++;
	}
	v->sv_members = queue; /* ascending: filled in index order */
	*out = v;
	return 0;
}

static bool
same_groups(const struct sync_view *v, const struct store_sync_head *h,
    bool detect_unapproved)
{
	return v->sv_n_groups == h->n_groups &&
	    v->sv_detect_unapproved == detect_unapproved &&
	    memcmp(v->sv_groups, h->groups,
		h->n_groups * sizeof(h->groups[0])) == 0;
}

int
sync_cache_view(struct store *st, uint64_t instance,
    const struct store_sync_head *head, bool detect_unapproved,
    const struct sync_view **out, struct wsd_err *err)
{
	struct sync_catalog *c;
	struct sync_view *v = NULL;
	int rc = 0;

	pthread_mutex_lock(&cache_lock);
	c = cache_current;
	if (c == NULL || c->sc_instance != instance ||
	    c->sc_cat.generation < head->generation) {
		struct sync_catalog *nc;

		if ((rc = catalog_build(st, instance, &nc, err)) < 0)
			goto done;
		if (c != NULL)
			log_debug("sync cache: catalog generation %llu -> %llu",
			    (unsigned long long)c->sc_cat.generation,
			    (unsigned long long)nc->sc_cat.generation);
		catalog_unref(c);
		cache_current = c = nc;
	}
	for (size_t i = 0; i < c->sc_n_views; i++)
		if (same_groups(c->sc_views[i], head, detect_unapproved)) {
			v = (struct sync_view *)(uintptr_t)c->sc_views[i];
			break;
		}
	if (v == NULL) {
		if ((rc = view_build(st, c, head, detect_unapproved, &v,
			 err)) < 0)
			goto done;
		if (c->sc_n_views == SYNC_MAX_VIEWS) {
			for (size_t i = 0; i < c->sc_n_views; i++)
				view_unref(c->sc_views[i]);
			c->sc_n_views = 0;
		}
		c->sc_views[c->sc_n_views++] = v;
	}
	/* The caller's references: the view, and through it the catalog. */
	atomic_fetch_add(&v->sv_refs, 1);
	atomic_fetch_add(&c->sc_refs, 1);
	*out = v;
done:
	pthread_mutex_unlock(&cache_lock);
	return rc;
}
