/*
 * SyncUpdates (WUSP.md 3.6, 4.2, 4.3).
 *
 * Software pass: the deployed set D (approvals the computer gets through
 * any of its groups, inherited down the group tree), its closure over
 * prerequisites (categories and detectoids included) and bundle members,
 * of which the revisions whose every prerequisite clause has a member the
 * client reported in InstalledNonLeafUpdateIDs are needed (N). NewUpdates
 * is N minus what the client has cached, at most one page;
 * OutOfScopeRevisionIDs is the cache minus N.
 *
 * Who gets what is kept in memory (sync_cache.h): per request only the
 * computer's groups and the catalog generation are read, then arrays are
 * walked, and only the fragments of the page come from the store.
 *
 * ChangedUpdates: cached and needed revisions whose deployment changed
 * after the generation sealed in the client's cookie (its anchor, valid
 * for the group set it was sealed with); NewCookie carries the new one.
 * Unapproved software goes out as PreDeploymentCheck with
 * detect_unapproved = yes. A category-filtered scan (FilterCategoryIds)
 * seeds the closure with the deployments of those categories and the
 * categories themselves; with NeedTwoGroupOutOfScopeUpdates, cached
 * revisions still deployed outside the filter go to
 * DeployedOutOfScopeRevisionIds and only the others out of scope.
 *
 * Driver pass (SkipSoftwareSync, MS-WUSP 3.1.5.7): for each device of
 * SystemSpec the best driver its groups have an Install approval for,
 * whose prerequisites the client has, if better than the installed one
 * (driver_match.h). The software pass never returns a driver, only what
 * deployed drivers require. CachedDriverIDs play the part of the cache;
 * Deployment carries the matched HardwareIds for protocol >= 1.6.
 * DriverSyncNotNeeded says whether any driver is in scope: "true" when
 * the computer's groups have no driver approved (in a filtered scan: in
 * the filter), as WS2025 answered with none approved (WUSP.md 4.2 item
 * 12; its "false" in the unfiltered software pages follows no rule we
 * could derive, and a wrong "true" would hide approved drivers).
 */
#include "wusp/wusp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/log.h"
#include "wusp/driver_match.h"
#include "wusp/sync_cache.h"
#include "wusp/systemspec.h"

/* Updates per page: what WS2025 sent at most (WUSP.md 4.2 item 13). */
#define SYNC_PAGE_MAX 30
/* Core XML per page: a page may exceed it by its first fragment only. */
#define SYNC_PAGE_XML_BYTES (1024 * 1024)
/* WS2025 refuses 401 (WUSP.md 4.2 item 14). */
#define SYNC_MAX_INSTALLED 400
/* OtherCachedUpdateIDs: WS2025 took 4,937; a 1 MiB body holds < 90,000. */
#define SYNC_MAX_OTHER_CACHED 100000

/* Client protocol versions (major << 16 | minor) that change the answer. */
#define PROTO_1_6 0x00010006u
#define PROTO_1_7 0x00010007u
#define PROTO_1_8 0x00010008u

/* Pseudo deployment ids of Evaluate, Bundle and PreDeploymentCheck
 * deployments: above any approval row id we expect, stable per
 * revision. */
#define DEPLOY_EVALUATE_BASE  0x40000000
#define DEPLOY_BUNDLE_BASE    0x60000000
#define DEPLOY_PREDEPLOY_BASE 0x20000000
#define DEPLOY_PSEUDO_MASK    0x1fffffff

/* FilterCategoryIds: StartCategoryScan returns a handful. */
#define SYNC_MAX_FILTER 256

struct sync_state {
	struct wusp_ctx *ss_c;
	const struct sync_view *ss_v;
	const uint8_t *ss_role; /* the view's, or this filtered scan's */
	bool *ss_inst;          /* reported installed (non-leaf) */
	bool *ss_needed;        /* in N */
	bool *ss_needed_all;    /* in N of the unfiltered scan (or NULL) */
	bool *ss_in_cache;      /* per revision: the client caches it */
	int32_t *ss_cached;     /* installed + other cached, sorted, unique */
	size_t ss_n_cached;
	uint32_t ss_protocol;
	uint64_t ss_anchor; /* changes after this one are news */
	bool ss_drivers_in_scope;
	bool ss_anchor_moves; /* NewCookie may carry the new anchor */
	/* driver pass: per device the matched driver entry, or UINT32_MAX */
	const uint32_t *ss_best;
	size_t ss_n_best;
};

static int
cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

static int
cmp_guid(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Every prerequisite clause has a member the client reported installed. */
static bool
satisfied(const struct sync_state *s, const struct store_sync_rev *r)
{
	const struct store_sync_ref *p;
	const uint32_t *ix;
	size_t k = 0;

	/* No prerequisites (pre may then be NULL: no pointer arithmetic). */
	if (r->n_pre == 0)
		return true;
	p = &s->ss_v->sv_sc->pre[r->pre_first];
	ix = &s->ss_v->sv_pre_ix[r->pre_first];
	while (k < r->n_pre) {
		unsigned clause = p[k].clause;
		bool any = false;

		for (; k < r->n_pre && p[k].clause == clause; k++)
			any |= ix[k] != UINT32_MAX && s->ss_inst[ix[k]];
		if (!any)
			return false;
	}
	return true;
}

/* N: the revisions with a role whose prerequisites are met. The view's
 * roles come with the list of revisions that have one. */
static void
compute_needed(const struct sync_state *s, const uint8_t *role, bool *needed)
{
	const struct sync_view *v = s->ss_v;
	const struct store_sync_catalog *sc = v->sv_sc;

	if (role == v->sv_role) {
		for (size_t k = 0; k < v->sv_n_members; k++) {
			uint32_t i = v->sv_members[k];

			needed[i] = satisfied(s, &sc->revs[i]);
		}
		return;
	}
	for (size_t i = 0; i < sc->n_revs; i++)
		needed[i] = role[i] != SYNC_NONE && satisfied(s, &sc->revs[i]);
}

/* One UpdateInfo; WITH_XML: the core fragment (NewUpdates), else
 * the deployment only (ChangedUpdates). */
struct page {
	struct sync_state *pg_s;
	size_t pg_i; /* revision index */
	size_t pg_xml_bytes;
	size_t pg_count;
	bool pg_full; /* the fragment did not fit in this page */
	bool pg_failed;
};

/* HardwareIds: the driver-table HardwareIDs of revision I that won a
 * device (MS-WUSP 2.2.2.2.4), each once; clients from 1.6 on. */
static int
emit_hardware_ids(struct soap_writer *w, const struct sync_state *s, size_t i)
{
	const struct store_sync_catalog *sc = s->ss_v->sv_sc;
	bool open = false;

	if (s->ss_best == NULL || s->ss_protocol < PROTO_1_6)
		return 0;
	for (size_t k = 0; k < s->ss_n_best; k++) {
		uint32_t e = s->ss_best[k];
		bool seen = false;

		if (e == UINT32_MAX || sc->drv[e].rev != i)
			continue;
		for (size_t m = 0; m < k && !seen; m++)
			seen = s->ss_best[m] != UINT32_MAX &&
			    strcmp(sc->pool + sc->drv[s->ss_best[m]].hwid,
				sc->pool + sc->drv[e].hwid) == 0;
		if (seen)
			continue;
		if (!open && soap_emit_open(w, "HardwareIds") < 0)
			return -1;
		open = true;
		if (soap_emit_str(w, "string", sc->pool + sc->drv[e].hwid) < 0)
			return -1;
	}
	return open ? soap_emit_close(w, "HardwareIds") : 0;
}

static int
emit_deployment(struct soap_writer *w, const struct sync_state *s, size_t i)
{
	const struct sync_view *v = s->ss_v;
	const struct store_sync_rev *r = &v->sv_sc->revs[i];
	const struct store_sync_deploy *d = v->sv_dep_of[i] != UINT32_MAX ?
	    &v->sv_deps[v->sv_dep_of[i]] :
	    NULL;
	const char *action, *changed = r->created, *deadline = "";
	int64_t id, pseudo = r->revision_id & DEPLOY_PSEUDO_MASK;

	switch ((enum sync_role)s->ss_role[i]) {
	case SYNC_DEPLOYED:
		id = d->approval_id;
		action = d->action;
		changed = d->changed;
		deadline = d->deadline;
		break;
	case SYNC_BUNDLE:
		id = DEPLOY_BUNDLE_BASE + pseudo;
		action = "Bundle";
		break;
	case SYNC_PREDEPLOY:
		id = DEPLOY_PREDEPLOY_BASE + pseudo;
		action = "PreDeploymentCheck";
		break;
	default:
		id = DEPLOY_EVALUATE_BASE + pseudo;
		action = "Evaluate";
		break;
	}
	if (soap_emit_open(w, "Deployment") < 0 ||
	    soap_emit_i64(w, "ID", id) < 0 ||
	    soap_emit_str(w, "Action", action) < 0 ||
	    (deadline[0] != '\0' &&
		soap_emit_str(w, "Deadline", deadline) < 0) ||
	    soap_emit_bool(w, "IsAssigned", true) < 0 ||
	    soap_emit_str(w, "LastChangeTime", changed) < 0 ||
	    emit_hardware_ids(w, s, i) < 0)
		return -1;
	/* MUST NOT go to clients below 1.8, MUST be 0 (WUSP.md 4.3). */
	if (s->ss_protocol >= PROTO_1_8 &&
	    (soap_emit_str(w, "AutoSelect", "0") < 0 ||
		soap_emit_str(w, "AutoDownload", "0") < 0 ||
		soap_emit_str(w, "SupersedenceBehavior", "0") < 0))
		return -1;
	return soap_emit_close(w, "Deployment");
}

static int
emit_info(void *arg, const char *xml, size_t len)
{
	struct page *pg = arg;
	struct sync_state *s = pg->pg_s;
	struct soap_writer *w = &s->ss_c->wc_w;
	const struct store_sync_rev *r = &s->ss_v->sv_sc->revs[pg->pg_i];

	if (pg->pg_count > 0 &&
	    pg->pg_xml_bytes + len > SYNC_PAGE_XML_BYTES) {
		pg->pg_full = true;
		return 0;
	}
	if (soap_emit_open(w, "UpdateInfo") < 0 ||
	    soap_emit_i64(w, "ID", r->revision_id) < 0 ||
	    emit_deployment(w, s, pg->pg_i) < 0 ||
	    soap_emit_bool(w, "IsLeaf", r->is_leaf) < 0 ||
	    soap_emit_strn(w, "Xml", xml, len) < 0 ||
	    soap_emit_close(w, "UpdateInfo") < 0) {
		pg->pg_failed = true;
		return 0;
	}
	pg->pg_xml_bytes += len;
	pg->pg_count++;
	return 0;
}

/* NewUpdates, at most one page; *TRUNCATED when more were deliverable. */
static enum soap_errc
emit_new(struct sync_state *s, bool *truncated)
{
	const struct store_sync_catalog *sc = s->ss_v->sv_sc;
	struct soap_writer *w = &s->ss_c->wc_w;
	struct page pg;
	struct wsd_err err;
	bool open = false;

	memset(&pg, 0, sizeof(pg));
	pg.pg_s = s;
	*truncated = false;
	for (size_t i = 0; i < sc->n_revs; i++) {
		int rc;

		if (!s->ss_needed[i] || s->ss_in_cache[i])
			continue;
		if (pg.pg_count == SYNC_PAGE_MAX) {
			*truncated = true;
			break;
		}
		if (!open && soap_emit_open(w, "NewUpdates") < 0)
			return SOAP_ERRC_INTERNAL_SERVER_ERROR;
		open = true;
		pg.pg_i = i;
		rc = store_revision_core(s->ss_c->wc_store,
		    sc->revs[i].revision_id, emit_info, &pg, &err);
		if (pg.pg_failed || (rc < 0 && rc != WSD_ENOTFOUND))
			return SOAP_ERRC_INTERNAL_SERVER_ERROR;
		if (pg.pg_full) {
			*truncated = true;
			break;
		}
	}
	if (open && soap_emit_close(w, "NewUpdates") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}

/*
 * OutOfScopeRevisionIDs: cached revisions that are not needed (absent
 * when there are none). DEPLOYED_ONLY (a category-filtered scan that
 * asked for two groups): only those not needed by the unfiltered scan
 * either; DeployedOutOfScopeRevisionIds then lists the others.
 */
static int
emit_out_of_scope(struct sync_state *s, const char *name, int which)
{
	struct soap_writer *w = &s->ss_c->wc_w;
	bool open = false;

	for (size_t k = 0; k < s->ss_n_cached; k++) {
		size_t j = sync_view_by_rid(s->ss_v, s->ss_cached[k]);
		bool in_all;

		if (j != SIZE_MAX && s->ss_needed[j])
			continue;
		in_all = s->ss_needed_all != NULL && j != SIZE_MAX &&
		    s->ss_needed_all[j];
		/* which: 0 every one, 1 not deployed at all, 2 deployed */
		if ((which == 1 && in_all) || (which == 2 && !in_all))
			continue;
		if (!open && soap_emit_open(w, name) < 0)
			return -1;
		open = true;
		if (soap_emit_i32(w, "int", s->ss_cached[k]) < 0)
			return -1;
	}
	return open ? soap_emit_close(w, name) : 0;
}

/* ChangedUpdates: cached and still needed, with a deployment that
 * changed after the cookie's anchor (WUSP.md 4.2 item 8); no Xml, the
 * client has the fragment. */
static int
emit_changed(struct sync_state *s)
{
	struct soap_writer *w = &s->ss_c->wc_w;
	const struct sync_view *v = s->ss_v;
	bool open = false;

	for (size_t k = 0; k < s->ss_n_cached; k++) {
		size_t j = sync_view_by_rid(v, s->ss_cached[k]);

		if (j == SIZE_MAX || !s->ss_needed[j] ||
		    v->sv_change_gen[j] <= s->ss_anchor)
			continue;
		if (!open && soap_emit_open(w, "ChangedUpdates") < 0)
			return -1;
		open = true;
		if (soap_emit_open(w, "UpdateInfo") < 0 ||
		    soap_emit_i64(w, "ID", v->sv_sc->revs[j].revision_id) < 0 ||
		    emit_deployment(w, s, j) < 0 ||
		    soap_emit_bool(w, "IsLeaf", v->sv_sc->revs[j].is_leaf) < 0 ||
		    soap_emit_close(w, "UpdateInfo") < 0)
			return -1;
	}
	return open ? soap_emit_close(w, "ChangedUpdates") : 0;
}

/* The revisions a category-filtered scan covers: a category it names,
 * or an update in one of them. */
static void
filter_scope(const struct sync_view *v, const char (*f)[37], size_t nf,
    bool *in_scope)
{
	const struct store_sync_catalog *sc = v->sv_sc;

	for (size_t i = 0; i < sc->n_revs; i++) {
		const struct store_sync_rev *r = &sc->revs[i];
		bool in = bsearch(r->update_id, f, nf, sizeof(*f), cmp_guid) !=
		    NULL;

		for (size_t k = 0; !in && k < r->n_cat; k++)
			in = bsearch(sc->cat[r->cat_first + k].update_id, f, nf,
				 sizeof(*f), cmp_guid) != NULL;
		in_scope[i] = in;
	}
}

struct scan_req {
	const int32_t *inst;
	size_t n_inst;
	const char (*filter)[37]; /* sorted; NULL: unfiltered scan */
	size_t n_filter;
	bool two_groups; /* DeployedOutOfScopeRevisionIds wanted */
};

static enum soap_errc
software_pass(struct sync_state *s, const struct scan_req *q)
{
	const struct sync_view *v = s->ss_v;
	size_t n = v->sv_sc->n_revs;
	enum soap_errc ec = SOAP_ERRC_SERVER_BUSY;
	uint8_t *role = NULL;
	uint32_t *queue = NULL;
	bool *in_scope = NULL, truncated;

	s->ss_inst = calloc(n + 1, sizeof(*s->ss_inst));
	s->ss_needed = calloc(n + 1, sizeof(*s->ss_needed));
	s->ss_in_cache = calloc(n + 1, sizeof(*s->ss_in_cache));
	if (s->ss_inst == NULL || s->ss_needed == NULL ||
	    s->ss_in_cache == NULL)
		goto done;
	for (size_t k = 0; k < s->ss_n_cached; k++) {
		size_t j = sync_view_by_rid(v, s->ss_cached[k]);

		if (j != SIZE_MAX)
			s->ss_in_cache[j] = true;
	}
	/* Only the latest revision of an update satisfies a prerequisite
	 * (WUSP.md 4.2 item 4); ids of older ones are out of scope. */
	for (size_t k = 0; k < q->n_inst; k++) {
		size_t j = sync_view_by_rid(v, q->inst[k]);

		if (j != SIZE_MAX)
			s->ss_inst[j] = true;
	}
	s->ss_role = v->sv_role;
	s->ss_drivers_in_scope = v->sv_n_drivers > 0;
	if (q->filter != NULL) {
		s->ss_drivers_in_scope = false;
		role = malloc(n + 1);
		queue = calloc(n + 1, sizeof(*queue));
		in_scope = calloc(n + 1, sizeof(*in_scope));
		if (role == NULL || queue == NULL || in_scope == NULL)
			goto done;
		filter_scope(v, q->filter, q->n_filter, in_scope);
		sync_view_closure(v, in_scope, role, queue);
		for (size_t i = 0; i < n && !s->ss_drivers_in_scope; i++)
			s->ss_drivers_in_scope = in_scope[i] &&
			    sync_view_driver_deployed(v, i);
		if (q->two_groups) {
			if ((s->ss_needed_all = calloc(n + 1, 1)) == NULL)
				goto done;
			compute_needed(s, v->sv_role, s->ss_needed_all);
		}
		s->ss_role = role;
	}
	compute_needed(s, s->ss_role, s->ss_needed);
	/* The anchor says "every deployment you cache is known as of this
	 * generation" (WUSP.md 4.2 item 10: refreshed on every page). A
	 * filtered scan looked at part of the cache only: it may move the
	 * anchor unless a cached revision it did not look at changed
	 * since, which the next unfiltered pass must still report. */
	s->ss_anchor_moves = true;
	for (size_t k = 0; q->filter != NULL && k < s->ss_n_cached; k++) {
		size_t j = sync_view_by_rid(v, s->ss_cached[k]);

		if (j != SIZE_MAX && !s->ss_needed[j] &&
		    v->sv_change_gen[j] > s->ss_anchor)
			s->ss_anchor_moves = false;
	}
	if ((ec = emit_new(s, &truncated)) != SOAP_ERRC_NONE)
		goto done;
	ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if (emit_out_of_scope(s, "OutOfScopeRevisionIDs",
		s->ss_needed_all != NULL ? 1 : 0) < 0 ||
	    emit_changed(s) < 0 ||
	    soap_emit_bool(&s->ss_c->wc_w, "Truncated", truncated) < 0)
		goto done;
	ec = SOAP_ERRC_NONE;
done:
	free(in_scope);
	free(queue);
	free(role);
	return ec;
}

static bool
driver_eligible(void *arg, size_t i)
{
	const struct sync_state *s = arg;

	return sync_view_driver_deployed(s->ss_v, i) &&
	    satisfied(s, &s->ss_v->sv_sc->revs[i]);
}

/* The driver pass: NewUpdates, OutOfScopeRevisionIDs (cached drivers
 * no device needs), ChangedUpdates and Truncated. */
static enum soap_errc
driver_pass(struct sync_state *s, const struct scan_req *q,
    const struct system_spec *spec)
{
	const struct sync_view *v = s->ss_v;
	size_t n = v->sv_sc->n_revs;
	enum soap_errc ec = SOAP_ERRC_SERVER_BUSY;
	uint8_t *role = NULL;
	uint32_t *best = NULL;
	bool truncated = false;

	s->ss_inst = calloc(n + 1, sizeof(*s->ss_inst));
	s->ss_needed = calloc(n + 1, sizeof(*s->ss_needed));
	s->ss_in_cache = calloc(n + 1, sizeof(*s->ss_in_cache));
	role = calloc(n + 1, 1);
	best = calloc(spec->n_dev + 1, sizeof(*best));
	if (s->ss_inst == NULL || s->ss_needed == NULL ||
	    s->ss_in_cache == NULL || role == NULL || best == NULL)
		goto done;
	for (size_t k = 0; k < q->n_inst; k++) {
		size_t j = sync_view_by_rid(v, q->inst[k]);

		if (j != SIZE_MAX)
			s->ss_inst[j] = true;
	}
	for (size_t k = 0; k < s->ss_n_cached; k++) {
		size_t j = sync_view_by_rid(v, s->ss_cached[k]);

		if (j != SIZE_MAX)
			s->ss_in_cache[j] = true;
	}
	s->ss_drivers_in_scope = v->sv_n_drivers > 0;
	if (s->ss_drivers_in_scope)
		driver_match(v->sv_sc, v->sv_drv_ix, spec, driver_eligible, s,
		    best);
	else
		memset(best, 0xff, spec->n_dev * sizeof(*best));
	for (size_t k = 0; k < spec->n_dev; k++)
		if (best[k] != UINT32_MAX) {
			size_t i = v->sv_sc->drv[best[k]].rev;

			s->ss_needed[i] = true;
			role[i] = SYNC_DEPLOYED;
		}
	s->ss_role = role;
	s->ss_best = best;
	s->ss_n_best = spec->n_dev;
	if ((ec = emit_new(s, &truncated)) != SOAP_ERRC_NONE)
		goto done;
	ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if (emit_out_of_scope(s, "OutOfScopeRevisionIDs", 0) < 0 ||
	    emit_changed(s) < 0 ||
	    soap_emit_bool(&s->ss_c->wc_w, "Truncated", truncated) < 0)
		goto done;
	ec = SOAP_ERRC_NONE;
done:
	s->ss_role = NULL;
	s->ss_best = NULL;
	free(best);
	free(role);
	return ec;
}

/* NewCookie: the same identity and Expiration, sealed afresh. */
static int
emit_cookie(struct wusp_ctx *c, const struct cookie *ck)
{
	char b64[COOKIE_B64_BUFSZ];
	struct soap_datetime exp;
	struct wsd_err err;
	struct cookie nc = *ck;

	if (cookie_seal(c->wc_keys, &nc, b64, sizeof(b64), &err) < 0)
		return -1;
	exp = soap_datetime_from_unix(nc.co_expires, 0);
	if (soap_emit_open(&c->wc_w, "NewCookie") < 0 ||
	    soap_emit_datetime(&c->wc_w, "Expiration", &exp) < 0 ||
	    soap_emit_str(&c->wc_w, "EncryptedData", b64) < 0 ||
	    soap_emit_close(&c->wc_w, "NewCookie") < 0)
		return -1;
	return 0;
}

/* Reads ArrayOfInt NAME of PARAMS into OUT (room for MAX); *N its count. */
static enum soap_errc
read_ids(struct wusp_ctx *c, const struct soap_elem *params, const char *name,
    const char *message, int32_t *out, size_t max, size_t *n)
{
	struct wsd_err err;

	if (soap_array_i32(c->wc_doc, soap_child(c->wc_doc, params, name),
		"int", out, max, n, &err) < 0) {
		c->wc_message = message;
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	return SOAP_ERRC_NONE;
}

/* FilterCategoryIds into *F (sorted; free() it), *NF; absent: NULL. */
static enum soap_errc
read_filter(struct wusp_ctx *c, const struct soap_elem *params,
    char (**f)[37], size_t *nf)
{
	const struct soap_elem *arr, *item;
	struct soap_iter it;
	struct wsd_err err;
	size_t n;

	*f = NULL;
	*nf = 0;
	if ((arr = soap_child(c->wc_doc, params, "FilterCategoryIds")) ==
	    NULL)
		return SOAP_ERRC_NONE;
	c->wc_message = "parameters.FilterCategoryIds";
	if (soap_array_begin(c->wc_doc, arr, "CategoryIdentifier",
		SYNC_MAX_FILTER, &it, &n, &err) < 0)
		return SOAP_ERRC_INVALID_PARAMETERS;
	if ((*f = calloc(n + 1, sizeof(**f))) == NULL)
		return SOAP_ERRC_SERVER_BUSY;
	while ((item = soap_iter_next(&it)) != NULL)
		if (soap_get_guid(soap_child(c->wc_doc, item, "Id"),
			(*f)[(*nf)++], &err) < 0) {
			free(*f);
			*f = NULL;
			return SOAP_ERRC_INVALID_PARAMETERS;
		}
	qsort(*f, *nf, sizeof(**f), cmp_guid);
	c->wc_message = "";
	return SOAP_ERRC_NONE;
}

static enum soap_errc
sync(struct wusp_ctx *c, const struct cookie *ck,
    const struct soap_elem *params, bool skip_software, int32_t *ids,
    const struct system_spec *spec)
{
	const struct soap_doc *d = c->wc_doc;
	struct store_sync_head head;
	const struct sync_view *v = NULL;
	struct scan_req q;
	struct sync_state s;
	struct cookie nc = *ck;
	struct wsd_err err;
	size_t n_other = 0;
	char (*filter)[37] = NULL;
	enum soap_errc ec;
	char guid[37];
	bool two = false;
	int rc;

	memset(&q, 0, sizeof(q));
	memset(&s, 0, sizeof(s));
	if ((ec = read_ids(c, params, "InstalledNonLeafUpdateIDs",
		 "parameters.InstalledNonLeafUpdateIDs", ids,
		 SYNC_MAX_INSTALLED, &q.n_inst)) != SOAP_ERRC_NONE)
		return ec;
	/* The driver pass's cache is CachedDriverIDs (never sent by the
	 * captured client: absent is empty). */
	if ((ec = read_ids(c, params,
		 skip_software ? "CachedDriverIDs" : "OtherCachedUpdateIDs",
		 skip_software ? "parameters.CachedDriverIDs" :
				 "parameters.OtherCachedUpdateIDs",
		 ids + q.n_inst, SYNC_MAX_OTHER_CACHED, &n_other)) !=
	    SOAP_ERRC_NONE)
		return ec;
	q.inst = ids;
	/* Category-filtered scans exist from protocol 1.7 on (WUSP.md 3.6
	 * row 7); an older client's filter is ignored, as the spec says. */
	if (!skip_software && ck->co_protocol >= PROTO_1_7) {
		if ((ec = read_filter(c, params, &filter, &q.n_filter)) !=
		    SOAP_ERRC_NONE)
			return ec;
		q.filter = (const char(*)[37])filter;
		if (soap_get_bool(soap_child(d, params,
				      "NeedTwoGroupOutOfScopeUpdates"),
			&two, &err) < 0)
			two = false;
		q.two_groups = filter != NULL && two;
	}
	guid_format(ck->co_computer, guid);
	if ((rc = store_sync_head(c->wc_store, guid, &head, &err)) < 0) {
		free(filter);
		if (rc == WSD_ENOTFOUND)
			return SOAP_ERRC_REGISTRATION_REQUIRED;
		log_warnx("SyncUpdates %s: %s", guid, err.what);
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	/* Last contact, as WSUS's computer list shows it (to the minute:
	 * a rescan does not write). */
	if (head.contact_stale &&
	    store_computer_touch(c->wc_store, guid, &err) < 0)
		log_warnx("SyncUpdates %s: %s", guid, err.what);
	if ((rc = sync_cache_view(c->wc_store, c->wc_instance, &head,
		 c->wc_cf->cf_detect_unapproved, &v, &err)) < 0) {
		free(filter);
		log_warnx("SyncUpdates %s: %s", guid, err.what);
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	s.ss_c = c;
	s.ss_v = v;
	s.ss_protocol = ck->co_protocol;
	/* The anchor means something only for the groups it was sealed
	 * with; otherwise every cached deployment may have changed. */
	s.ss_anchor = ck->co_group_version == v->sv_groups_hash ?
	    ck->co_anchor :
	    0;
	ec = SOAP_ERRC_SERVER_BUSY;
	{
		/* The software pass's cache: installed + other cached;
		 * the driver pass's: the cached drivers. */
		const int32_t *from = skip_software ? ids + q.n_inst : ids;
		size_t ncached = skip_software ? n_other : q.n_inst + n_other;

		if ((s.ss_cached = calloc(ncached + 1,
			 sizeof(*s.ss_cached))) == NULL)
			goto done;
		memcpy(s.ss_cached, from, ncached * sizeof(*ids));
		qsort(s.ss_cached, ncached, sizeof(*s.ss_cached), cmp_i32);
		for (size_t k = 0; k < ncached; k++)
			if (s.ss_n_cached == 0 ||
			    s.ss_cached[s.ss_n_cached - 1] != s.ss_cached[k])
				s.ss_cached[s.ss_n_cached++] = s.ss_cached[k];
	}

	ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if (soap_emit_open_ns(&c->wc_w, "SyncUpdatesResponse", SOAP_NS_CLIENT) <
		0 ||
	    soap_emit_open(&c->wc_w, "SyncUpdatesResult") < 0)
		goto done;
	if (skip_software) {
		if ((ec = driver_pass(&s, &q, spec)) != SOAP_ERRC_NONE)
			goto done;
	} else {
		if ((ec = software_pass(&s, &q)) != SOAP_ERRC_NONE)
			goto done;
		/* Every change to what this client caches was sent: move
		 * its anchor. */
		if (s.ss_anchor_moves) {
			nc.co_anchor = v->sv_generation;
			nc.co_group_version = v->sv_groups_hash;
		}
	}
	ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if (emit_cookie(c, &nc) < 0)
		goto done;
	if (q.two_groups && s.ss_needed_all != NULL &&
	    emit_out_of_scope(&s, "DeployedOutOfScopeRevisionIds", 2) < 0)
		goto done;
	if (ck->co_protocol >= PROTO_1_7 &&
	    soap_emit_str(&c->wc_w, "DriverSyncNotNeeded",
		s.ss_drivers_in_scope ? "false" : "true") < 0)
		goto done;
	if (soap_emit_close(&c->wc_w, "SyncUpdatesResult") < 0 ||
	    soap_emit_close(&c->wc_w, "SyncUpdatesResponse") < 0)
		goto done;
	ec = SOAP_ERRC_NONE;
done:
	free(s.ss_needed_all);
	free(s.ss_in_cache);
	free(s.ss_needed);
	free(s.ss_inst);
	free(s.ss_cached);
	free(filter);
	sync_view_release(v);
	return ec;
}

enum soap_errc
wusp_sync_updates(struct wusp_ctx *c)
{
	const struct soap_doc *d = c->wc_doc;
	const struct soap_elem *op = d->sd_op, *params;
	struct wsd_err err;
	struct cookie ck;
	enum soap_errc ec;
	struct system_spec spec;
	const char *message;
	bool skip;
	int32_t *ids;

	if ((ec = wusp_open_client_cookie(c, soap_child(d, op, "cookie"),
		 &ck)) != SOAP_ERRC_NONE)
		return ec;
	if ((params = soap_child(d, op, "parameters")) == NULL) {
		c->wc_message = "parameters";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	if (soap_get_bool(soap_child(d, params, "SkipSoftwareSync"), &skip,
		&err) < 0) {
		c->wc_message = "parameters.SkipSoftwareSync";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	/* SystemSpec belongs to the driver pass only (WUSP.md 3.6). */
	if (!skip && soap_child(d, params, "SystemSpec") != NULL) {
		c->wc_message = "parameters.SystemSpec";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	memset(&spec, 0, sizeof(spec));
	if (skip && system_spec_parse(d, params, &spec, &message, &err) < 0) {
		c->wc_message = message;
		return err.code == WSD_ENOMEM ? SOAP_ERRC_SERVER_BUSY :
						SOAP_ERRC_INVALID_PARAMETERS;
	}
	ids = calloc(SYNC_MAX_INSTALLED + SYNC_MAX_OTHER_CACHED, sizeof(*ids));
	if (ids == NULL) {
		system_spec_release(&spec);
		return SOAP_ERRC_SERVER_BUSY;
	}
	ec = sync(c, &ck, params, skip, ids, &spec);
	free(ids);
	system_spec_release(&spec);
	return ec;
}
