/*
 * GetDeployments (ServerSync, WSUSSS.md 5.8): what a replica DSS copies
 * of our administration. Anchors as GetRevisionIdList's (sss_anchor.h):
 *
 * - syncAnchor is required (absent, nil or empty -> InvalidParameters
 *   "syncAnchor"): the Anchor of the DSS's last updates pass, so only
 *   approvals the DSS can have the revisions of are sent, those whose
 *   mark is <= its n (n above the current generation counts as the
 *   current generation).
 * - deploymentAnchor (optional; from our last GetDeployments answer)
 *   sends only the approvals changed, and the deployments that died,
 *   after its n; without it every approval up to syncAnchor is sent and
 *   no dead one (a new DSS has none). An n above the current generation
 *   is another database's and counts as absent.
 * - The answer's Anchor carries the upper bound used (never below the
 *   deploymentAnchor's n), so approvals made after the updates pass come
 *   with the next sync.
 *
 * A deployment is one approval row while its action stays the same
 * (DeploymentGuid, schema 0007): Install is Action 0, Uninstall 1, and
 * NotApproved on a child group 3 (Block: it stops the parent's
 * approval being inherited). NotApproved on All Computers is no
 * deployment. A changed action or a removed approval (un-approve,
 * decline, group deleted) sends the old GUID in DeadDeployments.
 * Groups, HiddenUpdates (declined updates) are full lists every time;
 * wsusd records no EULA acceptance, so AcceptedEulas is empty.
 */
#include "wsusss/wsusss_int.h"

#include <string.h>

#include "common/log.h"
#include "common/strparse.h"
#include "store/store_sss.h"

#define SSS_ZERO_GUID "00000000-0000-0000-0000-000000000000"
/* "No deadline" as .NET writes DateTime.MaxValue: unzoned, so no
 * conversion to local time can overflow it (WSUSSS.md 4). */
#define SSS_NO_DEADLINE "9999-12-31T23:59:59.9999999"

struct dep_emit {
	struct sss_ctx *c;
	int64_t after, upto; /* the window: marks in (after, upto] */
	size_t n;
	bool failed;
};

static int
emit_group(void *arg, const struct store_sss_group *g)
{
	struct dep_emit *e = arg;
	struct soap_writer *w = &e->c->sc_w;

	if (soap_emit_open(w, "ServerSyncTargetGroup") < 0 ||
	    soap_emit_str(w, "TargetGroupID", g->group_id) < 0 ||
	    soap_emit_str(w, "ParentGroupId",
		g->parent_id[0] ? g->parent_id : SSS_ZERO_GUID) < 0 ||
	    soap_emit_str(w, "Name", g->name) < 0 ||
	    soap_emit_bool(w, "IsBuiltin", g->builtin) < 0 ||
	    soap_emit_close(w, "ServerSyncTargetGroup") < 0) {
		e->failed = true;
		return 1;
	}
	e->n++;
	return 0;
}

/* An ISO-8601 UTC time the catalog wrote; -1 if it does not parse. */
static int
iso_time(const char *s, struct soap_datetime *out)
{
	struct wsd_err err;

	return soap_datetime_parse(sv_from_cstr(s), out, &err) < 0 ? -1 : 0;
}

static int
emit_deployment(void *arg, const struct store_sss_deployment *dp)
{
	struct dep_emit *e = arg;
	struct soap_writer *w = &e->c->sc_w;
	struct soap_datetime dl, golive;
	int32_t action;

	if (strcmp(dp->action, "Install") == 0)
		action = 0;
	else if (strcmp(dp->action, "Uninstall") == 0)
		action = 1;
	else if (strcmp(dp->action, "NotApproved") == 0 && !dp->group_is_root)
		action = 3;
	else
		return 0;
	if (iso_time(dp->created, &golive) < 0 ||
	    (dp->deadline[0] != '\0' && iso_time(dp->deadline, &dl) < 0)) {
		log_warnx("GetDeployments: approval of %s has a bad time",
		    dp->update_id);
		e->failed = true;
		return 1;
	}
	if (soap_emit_open(w, "ServerSyncDeployment") < 0 ||
	    soap_emit_str(w, "UpdateId", dp->update_id) < 0 ||
	    soap_emit_i32(w, "RevisionNumber", dp->revision_number) < 0 ||
	    soap_emit_i32(w, "Action", action) < 0 ||
	    soap_emit_str(w, "AdminName", dp->admin) < 0 ||
	    (dp->deadline[0] != '\0'
		    ? soap_emit_datetime(w, "Deadline", &dl)
		    : soap_emit_str(w, "Deadline", SSS_NO_DEADLINE)) < 0 ||
	    soap_emit_bool(w, "IsAssigned", true) < 0 ||
	    soap_emit_datetime(w, "GoLiveTime", &golive) < 0 ||
	    soap_emit_str(w, "DeploymentGuid", dp->deployment_guid) < 0 ||
	    soap_emit_str(w, "TargetGroupId", dp->group_id) < 0 ||
	    /* 1..3, 1 the lowest: wsusd has no priorities. */
	    soap_emit_i32(w, "DownloadPriority", 1) < 0 ||
	    soap_emit_close(w, "ServerSyncDeployment") < 0) {
		e->failed = true;
		return 1;
	}
	e->n++;
	return 0;
}

static int
emit_guid(void *arg, const char *guid)
{
	struct dep_emit *e = arg;

	if (soap_emit_str(&e->c->sc_w, "guid", guid) < 0) {
		e->failed = true;
		return 1;
	}
	e->n++;
	return 0;
}

/*
 * One list element NAME filled by FILL; written as <NAME /> when FILL
 * adds nothing. Returns -1 on any failure.
 */
static int
emit_list(struct sss_ctx *c, const char *name,
    int (*fill)(struct sss_ctx *, struct dep_emit *, struct wsd_err *),
    const int64_t win[2], struct wsd_err *err)
{
	struct dep_emit e = { c, win[0], win[1], 0, false };
	size_t mark = c->sc_w.sw_sb->sb_len;

	if (soap_emit_open(&c->sc_w, name) < 0)
		return -1;
	if (fill != NULL && fill(c, &e, err) < 0) {
		log_warnx("GetDeployments: %s", err->what);
		return -1;
	}
	if (e.failed)
		return -1;
	if (e.n == 0) {
		sss_truncate(c, mark);
		return soap_emit_empty(&c->sc_w, name) < 0 ? -1 : 0;
	}
	return soap_emit_close(&c->sc_w, name) < 0 ? -1 : 0;
}

static int
fill_groups(struct sss_ctx *c, struct dep_emit *e, struct wsd_err *err)
{
	return store_sss_groups(c->sc_store, emit_group, e, err);
}

static int
fill_deployments(struct sss_ctx *c, struct dep_emit *e, struct wsd_err *err)
{
	return store_sss_deployments(c->sc_store, e->after, e->upto,
	    emit_deployment, e, err);
}

static int
fill_dead(struct sss_ctx *c, struct dep_emit *e, struct wsd_err *err)
{
	if (e->after < 0)
		return 0;
	return store_sss_dead_deployments(c->sc_store, e->after, e->upto,
	    emit_guid, e, err);
}

static int
fill_hidden(struct sss_ctx *c, struct dep_emit *e, struct wsd_err *err)
{
	return store_sss_declined(c->sc_store, emit_guid, e, err);
}

enum soap_errc
sss_get_deployments(struct sss_ctx *c)
{
	const struct soap_doc *d = c->sc_doc;
	struct soap_writer *w = &c->sc_w;
	struct sss_anchor dep, sync;
	struct wsd_err err;
	enum soap_errc ec;
	bool has_dep, has_sync;
	uint64_t gen, upto;
	int64_t win[2];

	if ((ec = sss_check_cookie(c)) != SOAP_ERRC_NONE ||
	    (ec = sss_read_anchor(c, soap_child(d, d->sd_op, "deploymentAnchor"),
		 "deploymentAnchor", &dep, &has_dep)) != SOAP_ERRC_NONE ||
	    (ec = sss_read_anchor(c, soap_child(d, d->sd_op, "syncAnchor"),
		 "syncAnchor", &sync, &has_sync)) != SOAP_ERRC_NONE)
		return ec;
	if (!has_sync) {
		c->sc_message = "syncAnchor";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	if (store_sss_generation(c->sc_store, &gen, &err) < 0) {
		log_warnx("GetDeployments: %s", err.what);
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	upto = sync.an_gen < gen ? sync.an_gen : gen;
	win[0] = has_dep && dep.an_gen <= gen ? (int64_t)dep.an_gen : -1;
	win[1] = (int64_t)upto;
	if (win[0] > win[1])
		upto = (uint64_t)win[0]; /* never move the anchor back */

	if (soap_emit_open_ns(w, "GetDeploymentsResponse", WSUSSS_NS) < 0 ||
	    soap_emit_open(w, "GetDeploymentsResult") < 0 ||
	    sss_emit_anchor(c, upto) < 0 ||
	    emit_list(c, "Groups", fill_groups, win, &err) < 0 ||
	    emit_list(c, "Deployments", fill_deployments, win, &err) < 0 ||
	    emit_list(c, "DeadDeployments", fill_dead, win, &err) < 0 ||
	    emit_list(c, "HiddenUpdates", fill_hidden, win, &err) < 0 ||
	    emit_list(c, "AcceptedEulas", NULL, win, &err) < 0 ||
	    soap_emit_close(w, "GetDeploymentsResult") < 0 ||
	    soap_emit_close(w, "GetDeploymentsResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}
