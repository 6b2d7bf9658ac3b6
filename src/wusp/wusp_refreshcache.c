/*
 * RefreshCache (WUSP.md 3.7) and the UpdateIdentity lookups it shares
 * with GetExtendedUpdateInfo2.
 *
 * After ServerChanged the client sends its whole cache by global identity
 * (UpdateID, RevisionNumber); the answer maps each one this server has to
 * its local RevisionID, with IsLeaf as SyncUpdates computes it (false when
 * some latest revision lists the UpdateID as a prerequisite). Unknown
 * identities, and revisions of declined updates, are omitted. An older
 * revision still in the database is mapped too: its id is as good as the
 * latest's for the client's cache.
 *
 * Deployment [0..1] is always omitted (the schema allows it): the
 * client runs SyncUpdates after refreshing its cache and gets every
 * deployment there, and computing approvals here would duplicate
 * SyncUpdates' scope logic. Registration is not required (the client
 * refreshes right after GetCookie, before it learns the server lost its
 * registration). OBSERVED 42 saw WSUS leave out revisions whose action is
 * Bundle; without Deployment there is no action here to filter on.
 */
#include "wusp/wusp_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* Identities in one RefreshCache: a client's whole cache. The spec gives
 * no bound and WUA sends a few hundred per call [WUSP.md 3.7]; with the
 * default 1 MiB client body cap (~8,500 identities) the body cap bites
 * first, this one bounds the work when the body cap is raised. */
#define REFRESH_MAX_IDENTITIES 10000

static int
cmp_identity(const void *a, const void *b)
{
	const struct wusp_identity *x = a, *y = b;
	int c = strcmp(x->update_id, y->update_id);

	if (c != 0)
		return c;
	return x->revision_number < y->revision_number ? -1 :
	    x->revision_number > y->revision_number;
}

enum soap_errc
wusp_identities_read(struct wusp_ctx *c, const struct soap_elem *arr,
    size_t max, const char *what, struct wusp_identity **out, size_t *n)
{
	const struct soap_doc *d = c->wc_doc;
	const struct soap_elem *e;
	struct wusp_identity *v;
	struct soap_iter it;
	struct wsd_err err;
	size_t count = 0, k = 0;

	*out = NULL;
	*n = 0;
	c->wc_message = what;
	if (soap_array_begin(d, arr, "UpdateIdentity", max, &it, &count,
		&err) < 0) {
		if (err.code == WSD_ETOOBIG)
			c->wc_message = "too many UpdateIdentity items";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	if ((v = calloc(count + 1, sizeof(*v))) == NULL)
		return SOAP_ERRC_SERVER_BUSY;
	while ((e = soap_iter_next(&it)) != NULL && k < count) {
		if (soap_get_guid(soap_child(d, e, "UpdateID"),
			v[k].update_id, &err) < 0 ||
		    soap_get_i32(soap_child(d, e, "RevisionNumber"),
			&v[k].revision_number, &err) < 0) {
			free(v);
			return SOAP_ERRC_INVALID_PARAMETERS;
		}
		v[k].is_leaf = true;
		k++;
	}
	qsort(v, k, sizeof(*v), cmp_identity);
	for (size_t i = 0; i < k; i++)
		if (*n == 0 || cmp_identity(&v[*n - 1], &v[i]) != 0)
			v[(*n)++] = v[i];
	*out = v;
	c->wc_message = "";
	return SOAP_ERRC_NONE;
}

/* The first identity of UPDATE_ID (lower case) in V, or N. */
static size_t
first_of(const struct wusp_identity *v, size_t n, const char *update_id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(v[mid].update_id, update_id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && strcmp(v[lo].update_id, update_id) == 0 ? lo : n;
}

static void
lower_guid(const char *in, char out[37])
{
	size_t i;

	for (i = 0; i < 36 && in[i] != '\0'; i++)
		out[i] = in[i] >= 'A' && in[i] <= 'Z' ? (char)(in[i] + 32) :
							 in[i];
	out[i] = '\0';
}

struct resolve {
	struct wusp_identity *v;
	size_t n;
	bool leaf; /* also mark prerequisites */
	bool latest; /* a latest-only walk */
	bool missing; /* a known update with another revision asked for */
};

static int
resolve_cb(void *arg, const struct store_revision_out *o)
{
	struct resolve *r = arg;
	size_t i;

	for (unsigned k = 0; r->leaf && k < o->rv.n_prereqs; k++) {
		char id[37];

		/* Imported metadata may spell GUIDs in upper case. */
		lower_guid(o->rv.prereqs[k].update_id, id);
		for (i = first_of(r->v, r->n, id);
		     i < r->n && strcmp(r->v[i].update_id, id) == 0; i++)
			r->v[i].is_leaf = false;
	}
	for (i = first_of(r->v, r->n, o->rv.update_id);
	     i < r->n && strcmp(r->v[i].update_id, o->rv.update_id) == 0; i++) {
		if (r->v[i].revision_number == o->rv.revision_number)
			r->v[i].revision_id = o->declined ? 0 : o->revision_id;
		else if (r->latest && r->v[i].revision_id == 0 && !o->declined)
			r->missing = true;
	}
	return 0;
}

int
wusp_identities_resolve(struct wusp_ctx *c, struct wusp_identity *v,
    size_t n, bool want_leaf, struct wsd_err *err)
{
	struct resolve r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.v = v;
	r.n = n;
	r.leaf = want_leaf;
	r.latest = true;
	if (n == 0)
		return 0;
	if (want_leaf) {
		/* Prerequisites are in every latest revision: walk them. */
		if ((rc = store_revisions_each(c->wc_store, true, resolve_cb, &r,
			 err)) < 0)
			return rc;
	} else {
		for (size_t i = 0; i < n; i++) {
			if (i > 0 && strcmp(v[i].update_id, v[i - 1].update_id) ==
			    0)
				continue;
			/* resolve_cb covers every identity of the update. */
			rc = store_revision_latest(c->wc_store, v[i].update_id,
			    resolve_cb, &r, err);
			if (rc < 0 && rc != WSD_ENOTFOUND)
				return rc;
		}
	}
	if (!r.missing)
		return 0;
	/* Older revisions asked for: one walk over all of them. */
	r.leaf = false;
	r.latest = false;
	return store_revisions_each(c->wc_store, false, resolve_cb, &r, err);
}

static enum soap_errc
emit(struct wusp_ctx *c, const struct wusp_identity *v, size_t n)
{
	struct soap_writer *w = &c->wc_w;
	bool open = false;

	if (soap_emit_open_ns(w, "RefreshCacheResponse", SOAP_NS_CLIENT) < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	for (size_t i = 0; i < n; i++) {
		if (v[i].revision_id == 0)
			continue;
		if (!open && soap_emit_open(w, "RefreshCacheResult") < 0)
			return SOAP_ERRC_INTERNAL_SERVER_ERROR;
		open = true;
		if (soap_emit_open(w, "RefreshCacheResult") < 0 ||
		    soap_emit_i64(w, "RevisionID", v[i].revision_id) < 0 ||
		    soap_emit_open(w, "GlobalID") < 0 ||
		    soap_emit_str(w, "UpdateID", v[i].update_id) < 0 ||
		    soap_emit_i32(w, "RevisionNumber", v[i].revision_number) <
			0 ||
		    soap_emit_close(w, "GlobalID") < 0 ||
		    soap_emit_bool(w, "IsLeaf", v[i].is_leaf) < 0 ||
		    soap_emit_close(w, "RefreshCacheResult") < 0)
			return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	/* Nothing known: an empty array, not an absent one, so the client
	 * sees "refreshed, nothing left" rather than a null result. */
	if (!open && soap_emit_empty(w, "RefreshCacheResult") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if ((open && soap_emit_close(w, "RefreshCacheResult") < 0) ||
	    soap_emit_close(w, "RefreshCacheResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}

enum soap_errc
wusp_refresh_cache(struct wusp_ctx *c)
{
	const struct soap_doc *d = c->wc_doc;
	struct wusp_identity *v;
	struct wsd_err err;
	struct cookie ck;
	enum soap_errc ec;
	size_t n;

	if ((ec = wusp_open_client_cookie(c, soap_child(d, d->sd_op, "cookie"),
		 &ck)) != SOAP_ERRC_NONE)
		return ec;
	if ((ec = wusp_identities_read(c, soap_child(d, d->sd_op, "globalIDs"),
		 REFRESH_MAX_IDENTITIES, "globalIDs", &v, &n)) !=
	    SOAP_ERRC_NONE)
		return ec;
	if (wusp_identities_resolve(c, v, n, true, &err) < 0) {
		log_warnx("RefreshCache: %s", err.what);
		free(v);
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	ec = emit(c, v, n);
	free(v);
	return ec;
}
