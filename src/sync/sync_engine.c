/* One synchronization from the upstream: sync_engine.h. */
#include "sync/sync_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <zlib.h>

#include "catalog/update_doc.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "common/testhook.h"
#include "config/config.h"
#include "content/content_store.h"
#include "store/store.h"
#include "sync/sync_proto.h"
#include "sync/sync_rollup.h"

/* Metadata staged per transaction when the upstream allows more. */
#define DEFAULT_BATCH 100
/* Bisecting a batch the upstream faults on as a whole (WSUSSS.md 5.6). */
#define MAX_BATCH_FAULTS 1000
/* Re-authorizations in one synchronization (each after a refused
 * Cookie), so a server refusing every Cookie cannot loop us. */
#define MAX_REAUTHS 20
/* Filter ids of an updates pass (products and classifications). */
#define MAX_FILTER_IDS 20000

struct eng {
	const char *datadir;
	struct store *st;
	struct config *cf;
	struct store_upstream up;
	struct sync_session ss;
	struct store_sync_progress pr;
	const struct sync_opts *opts;
	int64_t sync_id;
	char *msg;
	size_t msg_size;
	/* a pass's listing */
	enum store_sync_pass pass;
	int64_t listed, already;
	/* a batch */
	struct sync_revision_id batch[DEFAULT_BATCH];
	size_t nbatch;
	size_t got;
	/* filters */
	struct sync_filter_id *products, *classes;
	size_t nproducts, nclasses;
	bool rollup_failed;
	/* what authorization sends, kept for re-authorizing */
	char account[256];
	char server_id[64];
	unsigned reauths;
	bool server_changed;
};

static int say(struct eng *e, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
say(struct eng *e, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, e->msg_size, fmt, ap);
	va_end(ap);
	return rc < 0 ? rc : WSD_EINVAL;
}

static void
progress(struct eng *e, const char *phase)
{
	struct wsd_err err;

	e->pr.phase = phase;
	e->pr.metadata_bytes = (int64_t)sync_client_bytes(e->ss.client) -
	    e->pr.content_bytes;
	if (store_sync_progress(e->st, e->sync_id, &e->pr, &err) < 0)
		log_warnx("sync: cannot record progress: %s", err.what);
	if (e->opts->progress != NULL)
		e->opts->progress(e->opts->arg, &e->pr);
}

/* ------------------------------------------------------------ listing */

static int
listed_cb(void *arg, const char *update_id, int rev)
{
	struct eng *e = arg;
	struct wsd_err err;
	bool have;

	if (store_upstream_have_revision(e->st, update_id, rev, &have, &err) <
	    0)
		return say(e, err.code, "cannot read the catalog: %s",
		    err.what);
	if (have) {
		e->already++;
		return 0;
	}
	if (store_sync_stage_add(e->st, e->pass, update_id, rev, &err) < 0)
		return say(e, err.code, "cannot stage: %s", err.what);
	e->listed++;
	return 0;
}

/* Products and classifications the catalog knows: the updates filter. */
static int
filter_cb(void *arg, const struct store_update_row *r)
{
	struct eng *e = arg;
	struct sync_filter_id **v;
	size_t *n;

	if (strcmp(r->category_type, "Product") == 0) {
		v = &e->products;
		n = &e->nproducts;
	} else if (strcmp(r->category_type, "UpdateClassification") == 0) {
		v = &e->classes;
		n = &e->nclasses;
	} else
		return 0;
	if (*n >= MAX_FILTER_IDS)
		return 0;
	if (*n % 64 == 0) {
		struct sync_filter_id *nv =
		    realloc(*v, (*n + 64) * sizeof(**v));

		if (nv == NULL)
			return -1;
		*v = nv;
	}
	snprintf((*v)[*n].id, sizeof((*v)[*n].id), "%s", r->update_id);
	/* Delta only against an anchor; a new selection is sent whole. */
	(*v)[*n].delta = e->up.anchor_updates[0] != '\0';
	(*n)++;
	return 0;
}

static int
list_pass(struct eng *e, enum store_sync_pass pass)
{
	bool config = pass == STORE_PASS_CONFIG;
	const char *anchor = config ? e->up.anchor_config : e->up.anchor_updates;
	char *staged = config ? e->up.stage_anchor_config :
				e->up.stage_anchor_updates;
	char anchor_out[STORE_ANCHOR_MAX];
	struct wsd_err err;
	int rc;

	if (staged[0] != '\0')
		return 0; /* resuming: the list is already staged */
	e->pass = pass;
	e->listed = e->already = 0;
	if (!config) {
		struct store_update_filter f = { .update_type = "Category" };

		free(e->products);
		free(e->classes);
		e->products = e->classes = NULL;
		e->nproducts = e->nclasses = 0;
		if (store_updates_list(e->st, &f, filter_cb, e, &err) < 0)
			return say(e, err.code, "cannot read categories: %s",
			    err.what);
		/* A Windows USS returns updates only when both are sent;
		 * a USS without any product has nothing to send yet. */
		if (e->nproducts == 0 || e->nclasses == 0) {
			e->nproducts = e->nclasses = 0;
		}
	}
	if ((rc = store_begin(e->st, &err)) < 0)
		return say(e, rc, "cannot begin: %s", err.what);
	rc = sync_get_revision_ids(&e->ss, config, anchor, e->products,
	    e->nproducts, e->classes, e->nclasses, listed_cb, e, anchor_out,
	    &err);
	if (rc < 0) {
		store_rollback(e->st);
		if (e->msg[0] == '\0')
			say(e, rc, "GetRevisionIdList: %s", err.what);
		return rc;
	}
	/* An empty anchor would mean "all" next time: keep a marker. */
	if (anchor_out[0] == '\0')
		snprintf(anchor_out, sizeof(anchor_out), "%s",
		    anchor[0] ? anchor : "-");
	if ((rc = store_upstream_anchor_set(e->st,
		 config ? STORE_ANCHOR_STAGE_CONFIG : STORE_ANCHOR_STAGE_UPDATES,
		 anchor_out, &err)) < 0 ||
	    (rc = store_commit(e->st, &err)) < 0) {
		store_rollback(e->st);
		return say(e, rc, "cannot stage the list: %s", err.what);
	}
	snprintf(staged, STORE_ANCHOR_MAX, "%s", anchor_out);
	log_info("sync: %s pass: %lld new revisions listed, %lld already here",
	    config ? "config" : "updates", (long long)e->listed,
	    (long long)e->already);
	return 0;
}

/* ----------------------------------------------------------- fetching */

static int
pending_cb(void *arg, const char *update_id, int rev)
{
	struct eng *e = arg;
	struct sync_revision_id *r = &e->batch[e->nbatch++];

	snprintf(r->update_id, sizeof(r->update_id), "%s", update_id);
	r->revision = rev;
	return 0;
}

/*
 * Staged documents are kept deflated (zlib), behind their length as 4
 * bytes little-endian: a large synchronization stages hundreds of MB of
 * metadata XML, which compresses ~10:1, and the database file keeps the
 * pages the staging used after it is emptied.
 */
static int
stage_pack(const char *doc, size_t len, unsigned char **out, size_t *outlen)
{
	uLongf n = compressBound((uLong)len);
	unsigned char *p;

	*out = NULL;
	if (len > UPDATE_DOC_MAX_BYTES)
		return WSD_ETOOBIG;
	if ((p = malloc(4 + (size_t)n)) == NULL)
		return WSD_ENOMEM;
	p[0] = (unsigned char)len;
	p[1] = (unsigned char)(len >> 8);
	p[2] = (unsigned char)(len >> 16);
	p[3] = (unsigned char)(len >> 24);
	if (compress2(p + 4, &n, (const Bytef *)doc, (uLong)len, 6) != Z_OK) {
		free(p);
		return WSD_ENOMEM;
	}
	*out = p;
	*outlen = 4 + (size_t)n;
	return 0;
}

/* The document, NUL-terminated, in *OUT (caller frees). */
static int
stage_unpack(const char *blob, size_t len, char **out, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)blob;
	uLongf n;
	size_t want;
	char *d;

	*out = NULL;
	if (len < 4)
		return WSD_EINVAL;
	want = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 |
	    (size_t)p[3] << 24;
	if (want > UPDATE_DOC_MAX_BYTES)
		return WSD_EINVAL;
	if ((d = malloc(want + 1)) == NULL)
		return WSD_ENOMEM;
	n = (uLongf)want;
	if (uncompress((Bytef *)d, &n, p + 4, (uLong)(len - 4)) != Z_OK ||
	    n != want) {
		free(d);
		return WSD_EINVAL;
	}
	d[want] = '\0';
	*out = d;
	*outlen = want;
	return 0;
}

static int
doc_cb(void *arg, const char *update_id, int rev, const char *doc, size_t len)
{
	struct eng *e = arg;
	struct wsd_err err;
	size_t i;

	for (i = 0; i < e->nbatch; i++)
		if (strcmp(e->batch[i].update_id, update_id) == 0 &&
		    e->batch[i].revision == rev)
			break;
	if (i == e->nbatch)
		return say(e, WSD_EINVAL,
		    "GetUpdateData returned %s revision %d, which was not "
		    "asked for",
		    update_id, rev);
	{
		unsigned char *z;
		size_t zlen;
		int rc = stage_pack(doc, len, &z, &zlen);

		if (rc < 0)
			return say(e, rc, "%s revision %d: metadata of %zu bytes "
			    "not staged",
			    update_id, rev, len);
		rc = store_sync_stage_put(e->st, update_id, rev,
		    (const char *)z, zlen, &err);
		free(z);
		if (rc < 0)
			return say(e, err.code, "cannot stage: %s", err.what);
	}
	e->got++;
	return 0;
}

/* GetUpdateData for batch[lo, hi), one transaction. */
static int
fetch_some(struct eng *e, size_t lo, size_t hi, struct wsd_err *err)
{
	int rc;

	if ((rc = store_begin(e->st, err)) < 0)
		return rc;
	rc = sync_get_update_data(&e->ss, e->batch + lo, hi - lo, doc_cb, e,
	    err);
	if (rc < 0) {
		store_rollback(e->st);
		return rc;
	}
	return store_commit(e->st, err);
}

/*
 * A batch the upstream faults on as a whole: one unknown or expired
 * revision makes a Windows USS fail everything (WSUSSS.md 5.6). Asked
 * one by one; a revision that still faults is dropped from the list.
 */
static int
fetch_singly(struct eng *e, struct wsd_err *err)
{
	for (size_t i = 0; i < e->nbatch; i++) {
		int rc = fetch_some(e, i, i + 1, err);

		if (rc == SYNC_EFAULT &&
		    strcmp(sync_client_fault(e->ss.client),
			"InternalServerError") == 0) {
			log_warnx("sync: upstream cannot give %s revision %d: "
				  "dropped",
			    e->batch[i].update_id, e->batch[i].revision);
			if ((rc = store_sync_stage_drop(e->st,
				 e->batch[i].update_id, e->batch[i].revision,
				 err)) < 0)
				return rc;
			e->pr.revisions_vanished++;
		} else if (rc < 0)
			return rc;
	}
	return 0;
}

static bool
expired_cookie(const struct eng *e)
{
	const char *f = sync_client_fault(e->ss.client);

	return strcmp(f, "InvalidCookie") == 0 ||
	    strcmp(f, "InvalidAuthorizationCookie") == 0;
}

static int
fetch_pass(struct eng *e, enum store_sync_pass pass, int32_t max)
{
	struct wsd_err err;
	int64_t listed, fetched;
	unsigned stalls = 0;
	int rc;

	if (max < 1 || max > DEFAULT_BATCH)
		max = DEFAULT_BATCH;
	for (;;) {
		e->nbatch = 0;
		e->got = 0;
		if ((rc = store_sync_stage_pending(e->st, pass, (size_t)max,
			 pending_cb, e, &err)) < 0)
			return say(e, rc, "cannot read the staging: %s",
			    err.what);
		if (e->nbatch == 0)
			return 0;
		rc = fetch_some(e, 0, e->nbatch, &err);
		if (rc == SYNC_EFAULT &&
		    strcmp(sync_client_fault(e->ss.client),
			"InternalServerError") == 0 &&
		    stalls++ < MAX_BATCH_FAULTS)
			rc = fetch_singly(e, &err);
		if (rc < 0) {
			if (e->msg[0] == '\0')
				say(e, rc, "GetUpdateData: %s", err.what);
			return rc;
		}
		/* Fewer than asked is the 2 MB cap (ask again); none at
		 * all for a batch means the upstream does not have them. */
		if (e->got == 0 && rc == 0) {
			for (size_t i = 0; i < e->nbatch; i++)
				if (store_sync_stage_drop(e->st,
					e->batch[i].update_id,
					e->batch[i].revision, &err) < 0)
					return say(e, err.code, "%s",
					    err.what);
			log_warnx("sync: upstream returned none of %zu "
				  "revisions asked for: dropped",
			    e->nbatch);
			e->pr.revisions_vanished += (int64_t)e->nbatch;
		}
		if (store_sync_stage_count(e->st, &listed, &fetched, &err) ==
		    0) {
			e->pr.items_total = listed;
			e->pr.items_done = fetched;
		}
		progress(e, pass == STORE_PASS_CONFIG ? "categories" :
							"updates");
		testhook_pause("sync-batch");
		/* Tests: the upstream forgetting our Cookie mid-pass. */
		if (testhook_fault("sync-cookie"))
			memset(e->ss.encrypted, 'A', strlen(e->ss.encrypted));
	}
}

/* ----------------------------------------------------------- applying */

static int
apply_cb(void *arg, const char *update_id, int rev, const char *blob,
    size_t blen)
{
	struct eng *e = arg;
	struct update_doc_parts parts = { 0 };
	struct update_doc_hold *hold = NULL;
	struct store_revision_in rv;
	struct wsd_err err;
	char *doc;
	size_t len;
	int64_t rid;
	bool existed;
	int rc;

	if ((rc = stage_unpack(blob, blen, &doc, &len)) < 0)
		return say(e, rc, "staged metadata of %s revision %d is "
		    "damaged",
		    update_id, rev);
	rc = update_doc_split(doc, len, &parts, &err);
	free(doc);
	if (rc < 0)
		return say(e, rc, "metadata of %s revision %d refused: %s",
		    update_id, rev, err.what);
	if ((rc = update_doc_revision(&parts, "upstream", &rv, &hold, &err)) <
	    0) {
		update_doc_parts_release(&parts);
		return say(e, rc, "metadata of %s revision %d refused: %s",
		    update_id, rev, err.what);
	}
	if (strcmp(rv.update_id, update_id) != 0 ||
	    rv.revision_number != rev)
		rc = say(e, WSD_EINVAL,
		    "metadata of %s revision %d names another revision", update_id,
		    rev);
	else if ((rc = store_revision_put(e->st, &rv, &rid, &existed, &err)) <
	    0)
		say(e, rc, "cannot store %s revision %d: %s", update_id, rev,
		    err.what);
	else if (!existed)
		e->pr.new_revisions++;
	update_doc_revision_release(hold);
	update_doc_parts_release(&parts);
	return rc;
}

/* Moves a pass's staged documents into the catalog, with its anchor. */
static int
apply_pass(struct eng *e, enum store_sync_pass pass)
{
	bool config = pass == STORE_PASS_CONFIG;
	const char *staged =
	    config ? e->up.stage_anchor_config : e->up.stage_anchor_updates;
	struct wsd_err err;
	int rc;

	if ((rc = store_begin(e->st, &err)) < 0)
		return say(e, rc, "cannot begin: %s", err.what);
	if ((rc = store_sync_stage_each(e->st, pass, apply_cb, e, &err)) < 0) {
		store_rollback(e->st);
		if (e->msg[0] == '\0')
			say(e, rc, "cannot apply: %s", err.what);
		return rc;
	}
	if ((rc = store_upstream_anchor_set(e->st,
		 config ? STORE_ANCHOR_CONFIG_PASS : STORE_ANCHOR_UPDATES_PASS,
		 staged, &err)) < 0 ||
	    (rc = store_upstream_anchor_set(e->st,
		 config ? STORE_ANCHOR_STAGE_CONFIG : STORE_ANCHOR_STAGE_UPDATES,
		 NULL, &err)) < 0 ||
	    (rc = store_sync_stage_clear_pass(e->st, pass, &err)) < 0 ||
	    (rc = store_commit(e->st, &err)) < 0) {
		store_rollback(e->st);
		return say(e, rc, "cannot apply: %s", err.what);
	}
	snprintf(config ? e->up.anchor_config : e->up.anchor_updates,
	    STORE_ANCHOR_MAX, "%s", staged);
	return 0;
}

/* ------------------------------------------------------------ replica */

struct replica {
	struct eng *e;
	char (*keep)[37];
	size_t nkeep;
	unsigned approvals, skipped, hidden;
};

static int
group_cb(void *arg, const struct sync_group *g)
{
	struct replica *r = arg;
	struct wsd_err err;

	if (r->nkeep % 64 == 0) {
		void *nv = realloc(r->keep, (r->nkeep + 64) * sizeof(*r->keep));

		if (nv == NULL)
			return say(r->e, WSD_ENOMEM, "out of memory");
		r->keep = nv;
	}
	snprintf(r->keep[r->nkeep++], 37, "%s", g->id);
	if (g->builtin)
		return 0;
	if (store_upstream_replica_group(r->e->st, g->id, g->name, g->parent,
		&err) < 0)
		return say(r->e, err.code, "replica group %s: %s", g->name,
		    err.what);
	return 0;
}

static int
deployment_cb(void *arg, const struct sync_deployment *d)
{
	static const char *const actions[] = { "Install", "Uninstall" };
	struct replica *r = arg;
	struct wsd_err err;
	int rc;

	/* Detect-only and block have no counterpart here: no approval. */
	if (d->action > 1) {
		r->skipped++;
		return 0;
	}
	rc = store_approval_set(r->e->st, d->update_id, d->group_id,
	    actions[d->action], d->deadline[0] ? d->deadline : NULL,
	    d->admin[0] ? d->admin : "upstream", &err);
	if (rc == WSD_ENOTFOUND) {
		/* An update or group this server has not got (filtered). */
		r->skipped++;
		return 0;
	}
	if (rc < 0)
		return say(r->e, rc, "replica approval of %s: %s",
		    d->update_id, err.what);
	r->approvals++;
	return 0;
}

static int
hidden_cb(void *arg, const char *update_id)
{
	struct replica *r = arg;
	struct wsd_err err;
	int rc = store_update_decline(r->e->st, update_id, &err);

	if (rc < 0 && rc != WSD_ENOTFOUND)
		return say(r->e, rc, "replica decline of %s: %s", update_id,
		    err.what);
	r->hidden++;
	return 0;
}

/*
 * Replica mode: the upstream's groups, approvals and declines replace
 * this server's (WSUSSS.md 5.8), in one transaction.
 */
static int
replica(struct eng *e)
{
	struct replica r = { .e = e };
	struct sync_deployments_cb cb = { group_cb, deployment_cb, hidden_cb,
		&r };
	char anchor[STORE_ANCHOR_MAX];
	struct wsd_err err;
	int rc;

	if ((rc = store_begin(e->st, &err)) < 0)
		return say(e, rc, "cannot begin: %s", err.what);
	if ((rc = store_upstream_replica_clear(e->st, &err)) < 0) {
		store_rollback(e->st);
		return say(e, rc, "cannot clear approvals: %s", err.what);
	}
	rc = sync_get_deployments(&e->ss,
	    e->up.anchor_updates[0] ? e->up.anchor_updates : "-", &cb, anchor,
	    &err);
	if (rc == 0 &&
	    (rc = store_upstream_replica_prune(e->st,
		 (const char(*)[37])r.keep, r.nkeep, &err)) < 0)
		say(e, rc, "replica groups: %s", err.what);
	if (rc == 0 &&
	    (rc = store_upstream_anchor_set(e->st, STORE_ANCHOR_DEPLOYMENTS,
		 anchor, &err)) == 0)
		rc = store_commit(e->st, &err);
	free(r.keep);
	if (rc < 0) {
		store_rollback(e->st);
		if (e->msg[0] == '\0')
			say(e, rc, "GetDeployments: %s", err.what);
		return rc;
	}
	log_info("sync: replica: %u approvals, %u declined, %u skipped",
	    r.approvals, r.hidden, r.skipped);
	return 0;
}

/* ------------------------------------------------------------- rollup */

/* sync_rollup's transport: the upstream's ReportingWebService. */
static int
rollup_call(void *arg, const char *action, const char *body, size_t len,
    long *http_status, struct sbuf *answer, struct wsd_err *err)
{
	struct eng *e = arg;
	struct sbuf req;
	int rc;

	sbuf_init(&req, len + 1);
	if (sbuf_add(&req, body, len) < 0)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	rc = sync_client_call(e->ss.client, SYNC_REPORTING_PATH, action, &req,
	    answer, err);
	sbuf_release(&req);
	if (rc == 0)
		*http_status = 200;
	else if (rc == SYNC_EFAULT)
		*http_status = 500;
	else
		return rc;
	return 0;
}

/*
 * Replica mode: this server's computers and their status go up
 * (WSUSSS.md 9), so the upstream's reports show them. A failed roll-up
 * does not undo the synchronization; it is reported and retried next
 * time.
 */
static void
rollup(struct eng *e)
{
	struct sync_rollup_io io = { rollup_call, e };
	struct sync_rollup_stats rs;
	struct wsd_err err;

	progress(e, "rollup");
	if (sync_rollup_run(e->st, &io, &rs, &err) < 0) {
		log_warnx("sync: reporting roll-up failed: %s", err.what);
		e->rollup_failed = true;
		return;
	}
	log_info("sync: reporting roll-up: %u computers, %u status rows in "
		 "%u requests",
	    rs.computers, rs.status_rows, rs.requests);
}

/* ------------------------------------------------------------ content */

struct todo {
	unsigned char sha1[20], sha256[32];
	bool has_sha256;
	uint64_t size;
	char name[256];
};

struct content {
	struct todo *v;
	size_t n, cap;
};

static int
file_cb(void *arg, const struct store_file_row *f)
{
	struct content *c = arg;
	struct todo *t;

	if (strcmp(f->state, "missing") != 0 || f->needed == 0)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct todo *nv = realloc(c->v, cap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		c->v = nv;
		c->cap = cap;
	}
	t = &c->v[c->n++];
	memcpy(t->sha1, f->sha1, 20);
	if ((t->has_sha256 = f->sha256 != NULL))
		memcpy(t->sha256, f->sha256, 32);
	t->size = f->size;
	snprintf(t->name, sizeof(t->name), "%s", f->file_name);
	return 0;
}

/* The upstream's content root: http://host:N-1/Content (WSUSSS.md 2). */
static int
content_root(struct eng *e, char *out, size_t size)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;
	long p;
	int rc = -1;

	if (u == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, e->up.url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
		CURLUE_OK) {
		p = strtol(port, NULL, 10);
		if (e->up.use_tls)
			p = config_http_port_for((uint16_t)p);
		if (p > 0 &&
		    (size_t)snprintf(out, size, "http://%s:%ld/Content", host,
			p) < size)
			rc = 0;
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

static int
fetch_file(struct eng *e, const char *root, const struct todo *f)
{
	struct content_expect ce = { .size = f->size, .has_size = true,
		.filename = f->name };
	struct content_added added;
	char rel[CONTENT_REL_PATH_MAX], url[512];
	struct wsd_err err;
	uint64_t got = 0;
	int fd, rc;

	memcpy(ce.sha1, f->sha1, 20);
	if (f->has_sha256) {
		memcpy(ce.sha256, f->sha256, 32);
		ce.has_sha256 = true;
	}
	if (content_rel_path(&ce, rel, sizeof(rel)) < 0 ||
	    (size_t)snprintf(url, sizeof(url), "%s/%s", root, rel) >=
		sizeof(url))
		return WSD_EINVAL;
	if ((fd = open(e->datadir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) <
	    0) {
		log_warn("sync: cannot make a temporary file in %s",
		    e->datadir);
		return WSD_EIO;
	}
	/* One byte over the size is enough to refuse it. */
	rc = sync_client_fetch(e->ss.client, url, fd, f->size + 1, &got, &err);
	e->pr.content_bytes += (int64_t)got;
	if (rc < 0) {
		log_warnx("sync: %s", err.what);
		close(fd);
		return rc;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return WSD_EIO;
	}
	rc = content_store_add_fd(e->datadir, fd, &ce, &added, &err);
	close(fd);
	if (rc == WSD_EINVAL) {
		/* The bytes do not match the signed metadata: quarantined
		 * by the content store, never served (S14). */
		log_warnx("sync: %s: %s: quarantined as %s", url, err.what,
		    added.quarantine_path[0] ? added.quarantine_path :
					       "(deleted)");
		if (store_file_set_state(e->st, f->sha1, "quarantined", &err) <
		    0)
			log_warnx("sync: %s", err.what);
		e->pr.files_quarantined++;
		return WSD_EINVAL;
	}
	if (rc < 0) {
		log_warnx("sync: cannot store %s: %s", url, err.what);
		return rc;
	}
	if ((rc = store_file_set_state(e->st, f->sha1, "present", &err)) < 0)
		log_warnx("sync: %s", err.what);
	return rc;
}

static int
content(struct eng *e)
{
	struct content c = { 0 };
	struct wsd_err err;
	char root[400];
	unsigned failed = 0;
	int rc = 0;

	if (content_root(e, root, sizeof(root)) < 0)
		return say(e, WSD_EINVAL, "cannot make the content URL of %s",
		    e->up.url);
	if (store_files_list(e->st, file_cb, &c, &err) < 0) {
		rc = say(e, err.code, "cannot list files: %s", err.what);
		goto out;
	}
	e->pr.files_total = (int64_t)c.n;
	progress(e, "content");
	for (size_t i = 0; i < c.n; i++) {
		if (fetch_file(e, root, &c.v[i]) < 0)
			failed++;
		else
			e->pr.files_done++;
		progress(e, "content");
	}
	if (failed > 0)
		rc = say(e, WSD_EAGAIN,
		    "%u of %zu files were not stored (%lld quarantined); "
		    "the next synchronization tries again",
		    failed, c.n, (long long)e->pr.files_quarantined);
out:
	free(c.v);
	return rc;
}

/* --------------------------------------------------------------- run */

static int
lock_sync(const char *datadir, int *fd)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/sync.lock", datadir) >=
	    sizeof(path))
		return WSD_EINVAL;
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		 0600)) < 0)
		return WSD_EIO;
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		close(*fd);
		*fd = -1;
		return WSD_EAGAIN;
	}
	return 0;
}

static int
account_name(struct eng *e, char *out, size_t size)
{
	if (e->cf->cf_sync_account_name != NULL &&
	    e->cf->cf_sync_account_name[0] != '\0')
		snprintf(out, size, "%s", e->cf->cf_sync_account_name);
	else if (e->cf->cf_server_name != NULL &&
	    e->cf->cf_server_name[0] != '\0')
		snprintf(out, size, "%s", e->cf->cf_server_name);
	else if (gethostname(out, size) < 0)
		snprintf(out, size, "localhost");
	out[size - 1] = '\0';
	return 0;
}

/* ServerChanged: every anchor and the staging forgotten, in one go. */
static int
reset_anchors(struct eng *e)
{
	static const enum store_anchor all[] = { STORE_ANCHOR_CONFIG_DATA,
		STORE_ANCHOR_CONFIG_PASS, STORE_ANCHOR_UPDATES_PASS,
		STORE_ANCHOR_DEPLOYMENTS };
	struct wsd_err err;
	int rc;

	if ((rc = store_begin(e->st, &err)) < 0)
		return say(e, rc, "cannot begin: %s", err.what);
	for (size_t i = 0; rc == 0 && i < sizeof(all) / sizeof(all[0]); i++)
		rc = store_upstream_anchor_set(e->st, all[i], NULL, &err);
	if (rc == 0)
		rc = store_sync_stage_clear(e->st, &err);
	if (rc == 0)
		rc = store_commit(e->st, &err);
	if (rc < 0) {
		store_rollback(e->st);
		return say(e, rc, "cannot reset the anchors: %s", err.what);
	}
	e->up.config_anchor[0] = e->up.anchor_config[0] = '\0';
	e->up.anchor_updates[0] = e->up.deployment_anchor[0] = '\0';
	e->up.stage_anchor_config[0] = e->up.stage_anchor_updates[0] = '\0';
	return 0;
}

/* Categories, classifications and detectoids first: the updates
 * filter is made of them. */
static int
metadata(struct eng *e, int32_t max)
{
	int rc;

	if ((rc = list_pass(e, STORE_PASS_CONFIG)) < 0 ||
	    (rc = fetch_pass(e, STORE_PASS_CONFIG, max)) < 0 ||
	    (rc = apply_pass(e, STORE_PASS_CONFIG)) < 0 ||
	    (rc = list_pass(e, STORE_PASS_UPDATES)) < 0 ||
	    (rc = fetch_pass(e, STORE_PASS_UPDATES, max)) < 0 ||
	    (rc = apply_pass(e, STORE_PASS_UPDATES)) < 0)
		return rc;
	return 0;
}

static int
run(struct eng *e)
{
	struct sync_config_data cd;
	struct sync_client_cfg cc;
	char trust[4096], name[256];
	struct sbuf sid;
	struct wsd_err err;
	int rc;

	if ((size_t)snprintf(trust, sizeof(trust), "%s/tls/trust",
		e->datadir) >= sizeof(trust))
		return say(e, WSD_EINVAL, "data directory path too long");
	cc = (struct sync_client_cfg){ .url = e->up.url,
		.use_tls = e->up.use_tls,
		.trust_dir = trust,
		.client_cert = e->up.client_cert,
		.client_key = e->up.client_key,
		.proxy = e->cf->cf_sync_proxy };
	if ((rc = sync_client_open(&cc, &e->ss.client, &err)) < 0)
		return say(e, rc, "%s", err.what);
	progress(e, "authorizing");
	sbuf_init(&sid, 256);
	if ((rc = store_meta_get(e->st, "server_id", &sid, &err)) < 0 ||
	    sbuf_add(&sid, "", 1) < 0) {
		sbuf_release(&sid);
		return say(e, rc < 0 ? rc : WSD_ENOMEM, "no server id");
	}
	account_name(e, name, sizeof(name));
	snprintf(e->account, sizeof(e->account), "%s", name);
	snprintf(e->server_id, sizeof(e->server_id), "%s", sid.sb_buf);
	rc = sync_authorize(&e->ss, name, sid.sb_buf, &err);
	sbuf_release(&sid);
	if (rc < 0)
		return say(e, rc, "authorization failed: %s", err.what);
	if ((rc = sync_get_config_data(&e->ss, e->up.config_anchor, &cd,
		 &err)) < 0)
		return say(e, rc, "GetConfigData: %s", err.what);

	/*
	 * The Cookie lasts ~4 hours (WSUSSS.md 5.3) and an upstream may
	 * forget it sooner (a key rotation, a restart): the passes are
	 * resumable, so on InvalidCookie authorize again and go on where
	 * they stopped.
	 */
	while ((rc = metadata(e, cd.max_updates)) == SYNC_EFAULT) {
		if (strcmp(sync_client_fault(e->ss.client), "ServerChanged") ==
			0 &&
		    !e->server_changed) {
			/* WSUSSS.md 3: forget every anchor, sync it all. */
			e->server_changed = true;
			log_warnx("sync: the upstream says it changed "
				  "(ServerChanged): anchors reset, full "
				  "synchronization");
			e->msg[0] = '\0';
			if ((rc = reset_anchors(e)) < 0)
				return rc;
			continue;
		}
		if (!expired_cookie(e) || e->reauths >= MAX_REAUTHS)
			break;
		e->reauths++;
		log_info("sync: cookie refused (%s): authorizing again",
		    sync_client_fault(e->ss.client));
		e->msg[0] = '\0';
		if ((rc = sync_authorize(&e->ss, e->account, e->server_id,
			 &err)) < 0)
			return say(e, rc, "authorization failed: %s",
			    err.what);
	}
	if (rc < 0)
		return rc;
	if (cd.new_anchor[0] != '\0' &&
	    store_upstream_anchor_set(e->st, STORE_ANCHOR_CONFIG_DATA,
		cd.new_anchor, &err) < 0)
		return say(e, err.code, "%s", err.what);
	progress(e, "metadata");
	if (e->up.replica) {
		if ((rc = replica(e)) < 0)
			return rc;
		rollup(e);
	}
	if (e->opts->metadata_only) {
		log_info("sync: metadata only: no content fetched");
		return 0;
	}
	if (cd.catalog_only) {
		log_info("sync: the upstream keeps no content (catalog only)");
		return 0;
	}
	return content(e);
}

int
sync_run(const char *datadir, const struct sync_opts *opts, char *msg,
    size_t msg_size)
{
	struct eng e = { .datadir = datadir, .opts = opts, .msg = msg,
		.msg_size = msg_size };
	struct config_overrides ov = { 0 };
	struct wsd_err err;
	int lockfd = -1, rc;

	msg[0] = '\0';
	if ((rc = lock_sync(datadir, &lockfd)) < 0)
		return say(&e, rc,
		    rc == WSD_EAGAIN ? "a synchronization is already running" :
				       "cannot lock %s/sync.lock",
		    datadir);
	if ((rc = config_load(datadir, &ov, &e.cf, &err)) < 0) {
		say(&e, rc, "cannot read wsusd.conf: %s", err.what);
		goto out;
	}
	if ((rc = store_open(&e.st, datadir, &err)) < 0) {
		say(&e, rc, "cannot open the database: %s", err.what);
		goto out;
	}
	if ((rc = store_upstream_get(e.st, &e.up, &err)) < 0) {
		say(&e, rc, "%s", err.what);
		goto out;
	}
	if ((rc = store_sync_begin(e.st, opts->trigger, &e.sync_id, &err)) <
	    0) {
		say(&e, rc, "%s", err.what);
		goto out;
	}
	log_info("sync: from %s (%s)", e.up.url,
	    e.up.replica ? "replica" : "autonomous");
	rc = run(&e);
	if (rc == 0) {
		char vanished[160] = "";

		/* S8: what the upstream listed and then would not give is
		 * said in the result and the event log, not only logged. */
		if (e.pr.revisions_vanished > 0) {
			snprintf(vanished, sizeof(vanished),
			    "%lld listed revisions were not delivered "
			    "(expired or removed upstream?): dropped",
			    (long long)e.pr.revisions_vanished);
			log_warnx("sync: %s", vanished);
			(void)!store_event_add(e.st, "sync-revisions-vanished",
			    e.up.url, vanished, &err);
		}
		snprintf(msg, msg_size,
		    "%lld new revisions, %lld files (%lld bytes) from %s%s%s%s",
		    (long long)e.pr.new_revisions, (long long)e.pr.files_done,
		    (long long)e.pr.content_bytes, e.up.url,
		    vanished[0] ? "; " : "", vanished,
		    e.rollup_failed ? "; the reporting roll-up failed (see "
				      "the log), it is retried next time" :
				      "");
	}
	if (e.ss.client != NULL)
		progress(&e, rc == 0 ? "done" : "stopped");
	if (store_sync_end(e.st, e.sync_id, rc == 0 ? "succeeded" : "failed",
		msg, &err) < 0)
		log_warnx("sync: cannot record the result: %s", err.what);
	if (rc == 0)
		log_info("sync: succeeded: %s", msg);
	else
		log_warnx("sync: failed: %s", msg);
out:
	sync_client_close(e.ss.client);
	free(e.products);
	free(e.classes);
	store_close(e.st);
	config_free(e.cf);
	if (lockfd >= 0)
		close(lockfd);
	return rc;
}
