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
 * Driver pass: no drivers are served yet, so Truncated=false, NewCookie
 * and DriverSyncNotNeeded=true, as WSUS answered (WUSP.md 4.1 item 3).
 *
 * Not done: ChangedUpdates (item 8) is never sent, so an approval change
 * on a revision the client already caches (Install -> Uninstall, a new
 * deadline) reaches it only after its cache is dropped; unapproved
 * bundle parents (PreDeploymentCheck) are not offered; FilterCategoryIds
 * and DeployedOutOfScopeRevisionIds are ignored.
 */
#include "wusp/wusp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/log.h"

/* Updates per page: what WS2025 sent at most (WUSP.md 4.2 item 13). */
#define SYNC_PAGE_MAX 30
/* Core XML per page: a page may exceed it by its first fragment only. */
#define SYNC_PAGE_XML_BYTES (1024 * 1024)
/* WS2025 refuses 401 (WUSP.md 4.2 item 14). */
#define SYNC_MAX_INSTALLED 400
/* OtherCachedUpdateIDs: WS2025 took 4,937; a 1 MiB body holds < 90,000. */
#define SYNC_MAX_OTHER_CACHED 100000

/* Client protocol versions (major << 16 | minor) that change the answer. */
#define PROTO_1_7 0x00010007u
#define PROTO_1_8 0x00010008u

/* Pseudo deployment ids of Evaluate and Bundle deployments: above any
 * approval row id we expect, stable per revision. */
#define DEPLOY_EVALUATE_BASE 0x40000000
#define DEPLOY_BUNDLE_BASE   0x60000000
#define DEPLOY_PSEUDO_MASK   0x1fffffff

enum role { R_NONE, R_EVALUATE, R_BUNDLE, R_DEPLOYED };

/* An UpdateID index entry: qsort has no context argument, so each entry
 * carries its key. */
struct uid_ix {
	const char *ui_uid;
	size_t ui_idx;
};

struct sync_state {
	struct wusp_ctx *ss_c;
	const struct store_sync_scope *ss_sc;
	struct uid_ix *ss_by_uid; /* ss_sc->revs sorted by UpdateID */
	enum role *ss_role;
	bool *ss_inst;      /* reported installed (non-leaf) */
	bool *ss_needed;    /* in N */
	int32_t *ss_cached; /* installed + other cached, sorted, unique */
	size_t ss_n_cached;
	uint32_t ss_protocol;
};

static int
cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

static int
cmp_uid(const void *a, const void *b)
{
	return strcmp(((const struct uid_ix *)a)->ui_uid,
	    ((const struct uid_ix *)b)->ui_uid);
}

/* Index of the revision of UID in scope, or SIZE_MAX. */
static size_t
by_uid(const struct sync_state *s, const char *uid)
{
	size_t lo = 0, hi = s->ss_sc->n_revs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->ss_by_uid[mid].ui_uid, uid);

		if (c == 0)
			return s->ss_by_uid[mid].ui_idx;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

/* Index of revision RID in scope (ordered by revision id), or SIZE_MAX. */
static size_t
by_rid(const struct store_sync_scope *sc, int64_t rid)
{
	size_t lo = 0, hi = sc->n_revs;

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

static bool
is_cached(const struct sync_state *s, int64_t rid)
{
	int32_t k;

	if (rid < 0 || rid > INT32_MAX)
		return false;
	k = (int32_t)rid;
	return bsearch(&k, s->ss_cached, s->ss_n_cached, sizeof(k), cmp_i32) !=
	    NULL;
}

/* D, then its closure over prerequisites and bundle members. */
static void
closure(struct sync_state *s, size_t *queue)
{
	const struct store_sync_scope *sc = s->ss_sc;
	size_t head = 0, tail = 0;

	for (size_t i = 0; i < sc->n_revs; i++)
		if (sc->revs[i].approval_id != 0) {
			s->ss_role[i] = R_DEPLOYED;
			queue[tail++] = i;
		}
	/* Each revision enters the queue once: tail <= n_revs. */
	while (head < tail) {
		const struct store_sync_rev *r = &sc->revs[queue[head++]];

		for (size_t k = 0; k < r->n_pre; k++) {
			size_t j =
			    by_uid(s, sc->pre[r->pre_first + k].update_id);

			if (j != SIZE_MAX && s->ss_role[j] == R_NONE) {
				s->ss_role[j] = R_EVALUATE;
				queue[tail++] = j;
			}
		}
		for (size_t k = 0; k < r->n_bun; k++) {
			size_t j =
			    by_uid(s, sc->bun[r->bun_first + k].update_id);

			if (j == SIZE_MAX || s->ss_role[j] >= R_BUNDLE)
				continue;
			if (s->ss_role[j] == R_NONE)
				queue[tail++] = j;
			s->ss_role[j] = R_BUNDLE;
		}
	}
}

/* Every prerequisite clause has a member the client reported installed. */
static bool
satisfied(const struct sync_state *s, const struct store_sync_rev *r)
{
	const struct store_sync_ref *p;
	size_t k = 0;

	/* No prerequisites (pre may then be NULL: no pointer arithmetic). */
	if (r->n_pre == 0)
		return true;
	p = &s->ss_sc->pre[r->pre_first];
	while (k < r->n_pre) {
		unsigned clause = p[k].clause;
		bool any = false;

		for (; k < r->n_pre && p[k].clause == clause; k++) {
			size_t j = by_uid(s, p[k].update_id);

			any |= j != SIZE_MAX && s->ss_inst[j];
		}
		if (!any)
			return false;
	}
	return true;
}

/* One UpdateInfo, written from the core fragment of its revision. */
struct page {
	struct sync_state *pg_s;
	const struct store_sync_rev *pg_rev;
	enum role pg_role;
	size_t pg_xml_bytes;
	size_t pg_count;
	bool pg_full; /* the fragment did not fit in this page */
	bool pg_written;
	bool pg_failed;
};

static int
emit_deployment(struct soap_writer *w, const struct page *pg)
{
	const struct store_sync_rev *r = pg->pg_rev;
	const char *action;
	int64_t id;

	switch (pg->pg_role) {
	case R_DEPLOYED:
		id = r->approval_id;
		action = r->action;
		break;
	case R_BUNDLE:
		id = DEPLOY_BUNDLE_BASE + (r->revision_id & DEPLOY_PSEUDO_MASK);
		action = "Bundle";
		break;
	default:
		id = DEPLOY_EVALUATE_BASE +
		    (r->revision_id & DEPLOY_PSEUDO_MASK);
		action = "Evaluate";
		break;
	}
	if (soap_emit_open(w, "Deployment") < 0 ||
	    soap_emit_i64(w, "ID", id) < 0 ||
	    soap_emit_str(w, "Action", action) < 0 ||
	    (pg->pg_role == R_DEPLOYED && r->deadline[0] != '\0' &&
		soap_emit_str(w, "Deadline", r->deadline) < 0) ||
	    soap_emit_bool(w, "IsAssigned", true) < 0 ||
	    soap_emit_str(w, "LastChangeTime", r->changed) < 0)
		return -1;
	/* MUST NOT go to clients below 1.8, MUST be 0 (WUSP.md 4.3). */
	if (pg->pg_s->ss_protocol >= PROTO_1_8 &&
	    (soap_emit_str(w, "AutoSelect", "0") < 0 ||
		soap_emit_str(w, "AutoDownload", "0") < 0 ||
		soap_emit_str(w, "SupersedenceBehavior", "0") < 0))
		return -1;
	return soap_emit_close(w, "Deployment");
}

static int
emit_info(void *arg, const struct store_revision_out *o)
{
	struct page *pg = arg;
	struct soap_writer *w = &pg->pg_s->ss_c->wc_w;
	const struct store_sync_rev *r = pg->pg_rev;

	/* The revision became older since the scope was read: skip it. */
	if (o->revision_id != r->revision_id)
		return 1;
	if (pg->pg_count > 0 &&
	    pg->pg_xml_bytes + o->rv.xml_core_len > SYNC_PAGE_XML_BYTES) {
		pg->pg_full = true;
		return 1;
	}
	if (soap_emit_open(w, "UpdateInfo") < 0 ||
	    soap_emit_i64(w, "ID", r->revision_id) < 0 ||
	    emit_deployment(w, pg) < 0 ||
	    soap_emit_bool(w, "IsLeaf", r->is_leaf) < 0 ||
	    soap_emit_strn(w, "Xml", o->rv.xml_core, o->rv.xml_core_len) < 0 ||
	    soap_emit_close(w, "UpdateInfo") < 0) {
		pg->pg_failed = true;
		return 1;
	}
	pg->pg_xml_bytes += o->rv.xml_core_len;
	pg->pg_written = true;
	return 1;
}

/* NewUpdates, at most one page; *TRUNCATED when more were deliverable. */
static enum soap_errc
emit_new(struct sync_state *s, bool *truncated)
{
	const struct store_sync_scope *sc = s->ss_sc;
	struct soap_writer *w = &s->ss_c->wc_w;
	struct page pg;
	struct wsd_err err;
	bool open = false;

	memset(&pg, 0, sizeof(pg));
	pg.pg_s = s;
	*truncated = false;
	for (size_t i = 0; i < sc->n_revs; i++) {
		int rc;

		if (!s->ss_needed[i] || is_cached(s, sc->revs[i].revision_id))
			continue;
		if (pg.pg_count == SYNC_PAGE_MAX || pg.pg_full) {
			*truncated = true;
			break;
		}
		if (!open && soap_emit_open(w, "NewUpdates") < 0)
			return SOAP_ERRC_INTERNAL_SERVER_ERROR;
		open = true;
		pg.pg_rev = &sc->revs[i];
		pg.pg_role = s->ss_role[i];
		pg.pg_written = false;
		rc = store_revision_latest(s->ss_c->wc_store,
		    sc->revs[i].update_id, emit_info, &pg, &err);
		if (pg.pg_failed || (rc < 0 && rc != WSD_ENOTFOUND))
			return SOAP_ERRC_INTERNAL_SERVER_ERROR;
		if (pg.pg_full) {
			*truncated = true;
			break;
		}
		if (pg.pg_written)
			pg.pg_count++;
	}
	if (open && soap_emit_close(w, "NewUpdates") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}

/* Cached revisions that are not needed (absent when there are none). */
static int
emit_out_of_scope(struct sync_state *s)
{
	struct soap_writer *w = &s->ss_c->wc_w;
	bool open = false;

	for (size_t k = 0; k < s->ss_n_cached; k++) {
		size_t j = by_rid(s->ss_sc, s->ss_cached[k]);

		if (j != SIZE_MAX && s->ss_needed[j])
			continue;
		if (!open && soap_emit_open(w, "OutOfScopeRevisionIDs") < 0)
			return -1;
		open = true;
		if (soap_emit_i32(w, "int", s->ss_cached[k]) < 0)
			return -1;
	}
	return open ? soap_emit_close(w, "OutOfScopeRevisionIDs") : 0;
}

static enum soap_errc
software_pass(struct sync_state *s, const int32_t *inst, size_t n_inst)
{
	const struct store_sync_scope *sc = s->ss_sc;
	size_t n = sc->n_revs, *queue;
	enum soap_errc ec = SOAP_ERRC_SERVER_BUSY;
	bool truncated;

	s->ss_by_uid = calloc(n ? n : 1, sizeof(*s->ss_by_uid));
	s->ss_role = calloc(n ? n : 1, sizeof(*s->ss_role));
	s->ss_inst = calloc(n ? n : 1, sizeof(*s->ss_inst));
	s->ss_needed = calloc(n ? n : 1, sizeof(*s->ss_needed));
	queue = calloc(n ? n : 1, sizeof(*queue));
	if (s->ss_by_uid == NULL || s->ss_role == NULL || s->ss_inst == NULL ||
	    s->ss_needed == NULL || queue == NULL)
		goto done;
	for (size_t i = 0; i < n; i++) {
		s->ss_by_uid[i].ui_uid = sc->revs[i].update_id;
		s->ss_by_uid[i].ui_idx = i;
	}
	qsort(s->ss_by_uid, n, sizeof(*s->ss_by_uid), cmp_uid);
	/* Only the latest revision of an update satisfies a prerequisite
	 * (WUSP.md 4.2 item 4); ids of older ones are out of scope. */
	for (size_t k = 0; k < n_inst; k++) {
		size_t j = by_rid(sc, inst[k]);

		if (j != SIZE_MAX)
			s->ss_inst[j] = true;
	}
	closure(s, queue);
	for (size_t i = 0; i < n; i++)
		s->ss_needed[i] =
		    s->ss_role[i] != R_NONE && satisfied(s, &sc->revs[i]);
	if ((ec = emit_new(s, &truncated)) != SOAP_ERRC_NONE)
		goto done;
	ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if (emit_out_of_scope(s) < 0 ||
	    soap_emit_bool(&s->ss_c->wc_w, "Truncated", truncated) < 0)
		goto done;
	ec = SOAP_ERRC_NONE;
done:
	free(queue);
	free(s->ss_needed);
	free(s->ss_inst);
	free(s->ss_role);
	free(s->ss_by_uid);
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

static enum soap_errc
sync(struct wusp_ctx *c, const struct cookie *ck,
    const struct soap_elem *params, bool skip_software, int32_t *ids)
{
	struct store_sync_scope sc;
	struct sync_state s;
	struct wsd_err err;
	size_t n_inst = 0, n_other = 0;
	enum soap_errc ec;
	char guid[37];
	int rc;

	if ((ec = read_ids(c, params, "InstalledNonLeafUpdateIDs",
		 "parameters.InstalledNonLeafUpdateIDs", ids,
		 SYNC_MAX_INSTALLED, &n_inst)) != SOAP_ERRC_NONE)
		return ec;
	if (!skip_software &&
	    (ec = read_ids(c, params, "OtherCachedUpdateIDs",
		 "parameters.OtherCachedUpdateIDs", ids + n_inst,
		 SYNC_MAX_OTHER_CACHED, &n_other)) != SOAP_ERRC_NONE)
		return ec;
	guid_format(ck->co_computer, guid);
	if ((rc = store_sync_scope(c->wc_store, guid, &sc, &err)) < 0) {
		if (rc == WSD_ENOTFOUND)
			return SOAP_ERRC_REGISTRATION_REQUIRED;
		log_warnx("SyncUpdates %s: %s", guid, err.what);
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	/* Last contact, as WSUS's computer list shows it. */
	if (store_computer_touch(c->wc_store, guid, &err) < 0)
		log_warnx("SyncUpdates %s: %s", guid, err.what);
	memset(&s, 0, sizeof(s));
	s.ss_c = c;
	s.ss_sc = &sc;
	s.ss_protocol = ck->co_protocol;
	s.ss_cached = calloc(n_inst + n_other + 1, sizeof(*s.ss_cached));
	if (s.ss_cached == NULL) {
		store_sync_scope_release(&sc);
		return SOAP_ERRC_SERVER_BUSY;
	}
	memcpy(s.ss_cached, ids, (n_inst + n_other) * sizeof(*ids));
	qsort(s.ss_cached, n_inst + n_other, sizeof(*s.ss_cached), cmp_i32);
	for (size_t k = 0; k < n_inst + n_other; k++)
		if (s.ss_n_cached == 0 ||
		    s.ss_cached[s.ss_n_cached - 1] != s.ss_cached[k])
			s.ss_cached[s.ss_n_cached++] = s.ss_cached[k];

	ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if (soap_emit_open_ns(&c->wc_w, "SyncUpdatesResponse", SOAP_NS_CLIENT) <
		0 ||
	    soap_emit_open(&c->wc_w, "SyncUpdatesResult") < 0)
		goto done;
	if (skip_software) {
		/* No drivers are served (yet): nothing is in scope. */
		if (soap_emit_bool(&c->wc_w, "Truncated", false) < 0)
			goto done;
	} else if ((ec = software_pass(&s, ids, n_inst)) != SOAP_ERRC_NONE) {
		goto done;
	}
	ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if (emit_cookie(c, ck) < 0)
		goto done;
	/* "false" in the software pages and "true" in the driver pass, as
	 * WS2025 answered the unfiltered scan (WUSP.md 4.2 item 12). */
	if (ck->co_protocol >= PROTO_1_7 &&
	    soap_emit_str(&c->wc_w, "DriverSyncNotNeeded",
		skip_software ? "true" : "false") < 0)
		goto done;
	if (soap_emit_close(&c->wc_w, "SyncUpdatesResult") < 0 ||
	    soap_emit_close(&c->wc_w, "SyncUpdatesResponse") < 0)
		goto done;
	ec = SOAP_ERRC_NONE;
done:
	free(s.ss_cached);
	store_sync_scope_release(&sc);
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
	ids = calloc(SYNC_MAX_INSTALLED + SYNC_MAX_OTHER_CACHED, sizeof(*ids));
	if (ids == NULL)
		return SOAP_ERRC_SERVER_BUSY;
	ec = sync(c, &ck, params, skip, ids);
	free(ids);
	return ec;
}
