/*
 * Reporting rollup, upstream side (MS-WSUSSS ReportingWebService,
 * WSUSSS.md 9): GetRollupConfiguration, RollupDownstreamServers,
 * RollupComputers, GetOutOfSyncComputers, RollupComputerStatus.
 *
 * The operations carry the dummy cookie (Expiration 9999-12-31..., empty
 * EncryptedData, WSUSSS.md 7.1): it is accepted and ignored, nothing in
 * it is trusted. Everything else is hostile input: the whole request is
 * read and checked (element order per schema/ORDER.md, GUIDs, counts
 * against the batch sizes GetRollupConfiguration announces, states
 * 0..6, string lengths) before anything is written, and the writes of
 * one request go in one transaction. A bad request gets InvalidParameters
 * naming the part (MS-WSUSSS defines no ErrorCode for these operations;
 * the downstream stops on any fault) and leaves the database unchanged.
 *
 * Timestamps: when the downstream's clientTime is more than a minute
 * from ours, every time in the request is shifted by the difference
 * (MS-WSUSSS 3.1.4.x). The null time 1753-01-01T00:00:00 (and anything
 * earlier, e.g. .NET's 0001-01-01) is stored as "".
 */
#include "wusp/wusp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "common/encode.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "store/store_rollup.h"

/* The batch sizes a Windows USS announces (WSUSSS.md 9); requests with
 * more items are refused. */
#define ROLLUP_MAX_SERVERS 5000
#define ROLLUP_MAX_COMPUTERS 1500
#define ROLLUP_MAX_OUT_OF_SYNC 20000
#define ROLLUP_MAX_STATUS_COMPUTERS 500
/* UpdateStatus items of one computer; the XML node cap (~7 nodes an
 * item) already keeps a whole request under ~36,000. */
#define ROLLUP_MAX_UPDATE_STATUS 50000
/* ActivitySummaries of one ClientSummary. */
#define ROLLUP_MAX_ACTIVITY 50000
/* Target groups of one computer's Details. */
#define ROLLUP_MAX_GROUPS 256
/* Names, descriptions, versions: DNS names are <= 255. */
#define ROLLUP_MAX_STR 256
/* SummarizationState: 0 unknown .. 6 installed pending reboot. */
#define ROLLUP_MAX_STATE 6
/* Beyond this |now - clientTime| the request's times are shifted. */
#define ROLLUP_SKEW_SECS 60
/* 1753-01-01T00:00:00Z, the rollup's null time (SQL datetime minimum). */
#define ROLLUP_NULL_TIME INT64_C(-6847804800)

#define NIL_GUID "00000000-0000-0000-0000-000000000000"

/* Every operation's state: the request, the shift, the fault message. */
struct rq {
	struct wusp_ctx *c;
	const struct soap_doc *d;
	int64_t shift; /* seconds added to every time of the request */
};

static enum soap_errc
bad(struct rq *r, const char *what)
{
	r->c->wc_message = what;
	return SOAP_ERRC_INVALID_PARAMETERS;
}

/* A time as stored: shifted, "" for the null time. */
static void
time_text(const struct rq *r, const struct soap_datetime *dt,
    char out[SOAP_DATETIME_MAX])
{
	struct soap_datetime t = *dt;

	out[0] = '\0';
	if (t.dt_sec <= ROLLUP_NULL_TIME)
		return;
	t.dt_sec += r->shift;
	if (soap_datetime_format(&t, out) < 0)
		out[0] = '\0';
}

/* Required xs:dateTime element NAME next in Q. */
static int
take_time(struct rq *r, struct soap_seq *q, const char *name,
    char out[SOAP_DATETIME_MAX])
{
	struct soap_datetime dt;
	struct wsd_err err;

	if (soap_get_datetime(soap_seq_take(q, name), &dt, &err) < 0)
		return -1;
	time_text(r, &dt, out);
	return 0;
}

static int
attr_time(struct rq *r, const struct soap_elem *e, const char *name,
    char out[SOAP_DATETIME_MAX])
{
	struct soap_datetime dt;
	struct wsd_err err;
	struct sv s;

	if (soap_get_attr(e, name, 64, &s) < 0 || soap_datetime_parse(s, &dt, &err) < 0)
		return -1;
	time_text(r, &dt, out);
	return 0;
}

static int
attr_i32(const struct soap_elem *e, const char *name, int32_t lo, int32_t hi,
    int32_t *out)
{
	struct wsd_err err;
	struct sv s;

	if (soap_get_attr(e, name, 64, &s) < 0 || soap_xs_i32(s, out, &err) < 0 ||
	    *out < lo || *out > hi)
		return -1;
	return 0;
}

/* Optional string attribute: "" when absent. */
static int
attr_str(const struct soap_elem *e, const char *name, const char **out)
{
	struct sv s;
	int rc = soap_get_attr(e, name, ROLLUP_MAX_STR, &s);

	*out = "";
	if (rc == WSD_ENOTFOUND)
		return 0;
	if (rc < 0)
		return -1;
	*out = s.p;
	return 0;
}

/* Optional string element NAME next in Q: "" when absent. */
static int
take_str(struct soap_seq *q, const char *name, const char **out)
{
	const struct soap_elem *e = soap_seq_take(q, name);
	struct wsd_err err;
	struct sv s;

	*out = "";
	if (e == NULL)
		return 0;
	if (soap_get_str(e, ROLLUP_MAX_STR, &s, &err) < 0)
		return -1;
	*out = s.p;
	return 0;
}

static int
take_i32(struct soap_seq *q, const char *name, int32_t lo, int32_t hi,
    int32_t *out)
{
	struct wsd_err err;

	if (soap_get_i32(soap_seq_take(q, name), out, &err) < 0 || *out < lo ||
	    *out > hi)
		return -1;
	return 0;
}

/*
 * Reads clientTime and sets the shift. The cookie before it is the
 * dummy one and is not looked at.
 */
static enum soap_errc
client_time(struct rq *r, struct soap_seq *q)
{
	struct soap_datetime dt;
	struct wsd_err err;
	int64_t d;

	(void)soap_seq_take(q, "cookie");
	if (soap_get_datetime(soap_seq_take(q, "clientTime"), &dt, &err) < 0)
		return bad(r, "clientTime");
	d = (int64_t)r->c->wc_now - dt.dt_sec;
	r->shift = d > ROLLUP_SKEW_SECS || d < -ROLLUP_SKEW_SECS ? d : 0;
	return SOAP_ERRC_NONE;
}

enum soap_errc
wusp_get_rollup_configuration(struct wusp_ctx *c)
{
	struct soap_writer *w = &c->wc_w;
	struct wsd_err err;
	char sid[37], rid[37];

	if (store_meta_guid(c->wc_store, "server_id", sid, &err) < 0 ||
	    store_meta_guid(c->wc_store, "rollup_reset_guid", rid, &err) < 0) {
		log_warnx("GetRollupConfiguration: %s", err.what);
		c->wc_message = "database unavailable";
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	if (soap_emit_open_ns(w, "GetRollupConfigurationResponse",
		SOAP_NS_REPORTING) < 0 ||
	    soap_emit_open(w, "GetRollupConfigurationResult") < 0 ||
	    soap_emit_bool(w, "DoDetailedRollup", true) < 0 ||
	    soap_emit_str(w, "RollupResetGuid", rid) < 0 ||
	    soap_emit_str(w, "ServerId", sid) < 0 ||
	    soap_emit_i32(w, "RollupDownstreamServersMaxBatchSize",
		ROLLUP_MAX_SERVERS) < 0 ||
	    soap_emit_i32(w, "RollupComputersMaxBatchSize",
		ROLLUP_MAX_COMPUTERS) < 0 ||
	    soap_emit_i32(w, "GetOutOfSyncComputersMaxBatchSize",
		ROLLUP_MAX_OUT_OF_SYNC) < 0 ||
	    soap_emit_i32(w, "RollupComputerStatusMaxBatchSize",
		ROLLUP_MAX_STATUS_COMPUTERS) < 0 ||
	    soap_emit_close(w, "GetRollupConfigurationResult") < 0 ||
	    soap_emit_close(w, "GetRollupConfigurationResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}

/* A guid element NAME next in Q into OUT (lower case). */
static int
take_guid(struct soap_seq *q, const char *name, char out[37])
{
	struct wsd_err err;

	return soap_get_guid(soap_seq_take(q, name), out, &err) < 0 ? -1 : 0;
}

/* Runs FN(ARG) in a transaction; InternalServerError when it fails. */
static enum soap_errc
in_tx(struct wusp_ctx *c, const char *op, int (*fn)(void *, struct wsd_err *),
    void *arg)
{
	struct wsd_err err;

	if (store_begin(c->wc_store, &err) < 0 || fn(arg, &err) < 0 ||
	    store_commit(c->wc_store, &err) < 0) {
		store_rollback(c->wc_store);
		log_warnx("%s: %s", op, err.what);
		c->wc_message = "database unavailable";
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	return SOAP_ERRC_NONE;
}

/* ------------------------------------------------ RollupDownstreamServers */

struct srv_buf {
	struct store_rollup_server s;
	char id[37], parent[37];
	char sync[SOAP_DATETIME_MAX], rollup[SOAP_DATETIME_MAX];
};

static const char *const summary_names[STORE_ROLLUP_SUMMARY_N] = {
	"UpdateCount",
	"DeclinedUpdateCount",
	"ApprovedUpdateCount",
	"NotApprovedUpdateCount",
	"UpdatesWithStaleUpdateApprovalsCount",
	"ExpiredUpdateCount",
	"CriticalOrSecurityUpdatesNotApprovedForInstallCount",
	"WsusInfrastructureUpdatesNotApprovedForInstallCount",
	"UpdatesWithClientErrorsCount",
	"UpdatesWithServerErrorsCount",
	"UpdatesNeedingFilesCount",
	"UpdatesNeededByComputersCount",
	"UpdatesUpToDateCount",
	"CustomComputerTargetGroupCount",
	"ComputerTargetCount",
	"ComputerTargetsNeedingUpdatesCount",
	"ComputerTargetsWithUpdateErrorsCount",
	"ComputersUpToDateCount",
};

/* One DownstreamServerRollupClientSummary: checked, then dropped (what
 * it counts per OS bucket is not shown by wsusd yet). */
static enum soap_errc
parse_client_summary(struct rq *r, const struct soap_elem *e)
{
	static const char *const ints[] = { "OSMajorVersion", "OSMinorVersion",
		"OSBuildNumber", "OSServicePackMajorNumber",
		"OSServicePackMinorNumber" };
	struct soap_seq q;
	struct soap_iter it;
	struct wsd_err err;
	const struct soap_elem *a;
	const char *s;
	size_t n;
	int32_t v;

	soap_seq_init(&q, r->d, e);
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (take_i32(&q, ints[i], INT32_MIN, INT32_MAX, &v) < 0)
			return bad(r, ints[i]);
	if (take_str(&q, "OSLocale", &s) < 0 ||
	    take_i32(&q, "SuiteMask", INT16_MIN, INT16_MAX, &v) < 0 ||
	    take_i32(&q, "OldProductType", 0, 255, &v) < 0 ||
	    take_i32(&q, "NewProductType", INT32_MIN, INT32_MAX, &v) < 0 ||
	    take_i32(&q, "SystemMetrics", INT32_MIN, INT32_MAX, &v) < 0 ||
	    take_str(&q, "ProcessorArchitecture", &s) < 0 ||
	    take_i32(&q, "Count", 0, INT32_MAX, &v) < 0)
		return bad(r, "DownstreamServerRollupClientSummary");
	if (soap_array_begin(r->d, soap_seq_take(&q, "ActivitySummaries"),
		"DownstreamServerRollupClientActivitySummary",
		ROLLUP_MAX_ACTIVITY, &it, &n, &err) < 0)
		return bad(r, "ActivitySummaries");
	while ((a = soap_iter_next(&it)) != NULL) {
		struct soap_seq aq;
		char id[37];

		if (soap_is_nil(a))
			continue;
		soap_seq_init(&aq, r->d, a);
		if (take_guid(&aq, "UpdateId", id) < 0 ||
		    take_i32(&aq, "RevisionNumber", INT32_MIN, INT32_MAX, &v) <
			0 ||
		    take_i32(&aq, "InstallSuccessCount", 0, INT32_MAX, &v) <
			0 ||
		    take_i32(&aq, "InstallFailureCount", 0, INT32_MAX, &v) < 0)
			return bad(r,
			    "DownstreamServerRollupClientActivitySummary");
	}
	return SOAP_ERRC_NONE;
}

static enum soap_errc
parse_server(struct rq *r, const struct soap_elem *e, const char *self,
    size_t *summaries, struct srv_buf *b)
{
	const struct soap_elem *sum, *cs, *x;
	struct soap_seq q;
	struct soap_iter it;
	struct wsd_err err;
	enum soap_errc ec;
	bool replica;
	size_t n;

	soap_seq_init(&q, r->d, e);
	if (take_guid(&q, "ServerId", b->id) < 0)
		return bad(r, "ServerId");
	/* A peer naming itself as us, or as nobody, is lying. */
	if (strcmp(b->id, self) == 0 || strcmp(b->id, NIL_GUID) == 0)
		return bad(r, "ServerId");
	if (take_str(&q, "FullDomainName", &b->s.full_domain_name) < 0)
		return bad(r, "FullDomainName");
	if (take_time(r, &q, "LastSyncTime", b->sync) < 0)
		return bad(r, "LastSyncTime");
	if (take_guid(&q, "ParentServerId", b->parent) < 0 ||
	    strcmp(b->parent, b->id) == 0)
		return bad(r, "ParentServerId");
	if (take_str(&q, "Version", &b->s.version) < 0)
		return bad(r, "Version");
	if (soap_get_bool(soap_seq_take(&q, "IsReplica"), &replica, &err) < 0)
		return bad(r, "IsReplica");
	if (take_time(r, &q, "LastRollupTime", b->rollup) < 0)
		return bad(r, "LastRollupTime");
	if ((sum = soap_seq_take(&q, "ServerSummary")) != NULL) {
		struct soap_seq sq;

		soap_seq_init(&sq, r->d, sum);
		for (size_t i = 0; i < STORE_ROLLUP_SUMMARY_N; i++)
			if (take_i32(&sq, summary_names[i], 0, INT32_MAX,
				&b->s.summary[i]) < 0)
				return bad(r, summary_names[i]);
		b->s.has_summary = true;
	}
	cs = soap_seq_take(&q, "ClientSummaries");
	if (soap_array_begin(r->d, cs, "DownstreamServerRollupClientSummary",
		ROLLUP_MAX_SERVERS, &it, &n, &err) < 0 ||
	    n > ROLLUP_MAX_SERVERS - *summaries)
		return bad(r, "ClientSummaries");
	*summaries += n;
	while ((x = soap_iter_next(&it)) != NULL)
		if (!soap_is_nil(x) &&
		    (ec = parse_client_summary(r, x)) != SOAP_ERRC_NONE)
			return ec;
	b->s.server_id = b->id;
	b->s.parent_server_id = b->parent;
	b->s.is_replica = replica;
	b->s.last_sync_time = b->sync;
	b->s.last_rollup_time = b->rollup;
	b->s.client_summaries = (unsigned)n;
	return SOAP_ERRC_NONE;
}

struct put_servers {
	struct wusp_ctx *c;
	const struct srv_buf *v;
	size_t n;
};

static int
put_servers(void *arg, struct wsd_err *err)
{
	const struct put_servers *p = arg;
	int rc;

	for (size_t i = 0; i < p->n; i++)
		if ((rc = store_rollup_server_put(p->c->wc_store, &p->v[i].s,
			 err)) < 0)
			return rc;
	return 0;
}

enum soap_errc
wusp_rollup_downstream_servers(struct wusp_ctx *c)
{
	struct rq r = { c, c->wc_doc, 0 };
	const struct soap_elem *x;
	struct srv_buf *v = NULL;
	struct soap_seq q;
	struct soap_iter it;
	struct wsd_err err;
	enum soap_errc ec;
	size_t n = 0, count, summaries = 0;
	char self[37];

	soap_seq_init(&q, r.d, r.d->sd_op);
	if ((ec = client_time(&r, &q)) != SOAP_ERRC_NONE)
		return ec;
	if (soap_array_begin(r.d, soap_seq_take(&q, "downstreamServers"),
		"DownstreamServerRollupInfo", ROLLUP_MAX_SERVERS, &it, &count,
		&err) < 0)
		return bad(&r, "downstreamServers");
	if (store_meta_guid(c->wc_store, "server_id", self, &err) < 0) {
		c->wc_message = "database unavailable";
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	if (count > 0 && (v = calloc(count, sizeof(*v))) == NULL)
		return SOAP_ERRC_SERVER_BUSY;
	while ((x = soap_iter_next(&it)) != NULL && n < count) {
		if (soap_is_nil(x))
			continue;
		if ((ec = parse_server(&r, x, self, &summaries, &v[n])) !=
		    SOAP_ERRC_NONE)
			goto out;
		n++;
	}
	{
		struct put_servers p = { c, v, n };

		if ((ec = in_tx(c, "RollupDownstreamServers", put_servers,
			 &p)) != SOAP_ERRC_NONE)
			goto out;
	}
	log_info("%s: RollupDownstreamServers: %zu servers",
	    c->wc_hx->hx_peer, n);
	ec = soap_emit_empty_ns(&c->wc_w, "RollupDownstreamServersResponse",
		 SOAP_NS_REPORTING) < 0 ?
	    SOAP_ERRC_INTERNAL_SERVER_ERROR :
	    SOAP_ERRC_NONE;
out:
	free(v);
	return ec;
}

/* -------------------------------------------------------- RollupComputers */

struct comp_buf {
	struct store_rollup_computer s;
	char id[37], parent[37];
	char sync[SOAP_DATETIME_MAX], status[SOAP_DATETIME_MAX];
	bool need_details;
};

static enum soap_errc
parse_details(struct rq *r, const struct soap_elem *d, struct comp_buf *b)
{
	struct soap_seq q;
	struct soap_iter it;
	struct wsd_err err;
	const struct soap_elem *g;
	const char *family, *make_, *bios_name;
	char when[SOAP_DATETIME_MAX];
	int32_t v;
	size_t n;

	if (attr_str(d, "IPAddress", &b->s.ip_address) < 0 ||
	    attr_str(d, "FullDomainName", &b->s.full_domain_name) < 0 ||
	    attr_i32(d, "OSMajorVersion", INT32_MIN, INT32_MAX,
		&b->s.os_major) < 0 ||
	    attr_i32(d, "OSMinorVersion", INT32_MIN, INT32_MAX,
		&b->s.os_minor) < 0 ||
	    attr_i32(d, "OSBuildNumber", INT32_MIN, INT32_MAX,
		&b->s.os_build) < 0 ||
	    attr_i32(d, "OSServicePackMajorNumber", INT32_MIN, INT32_MAX, &v) <
		0 ||
	    attr_i32(d, "OSServicePackMinorNumber", INT32_MIN, INT32_MAX, &v) <
		0 ||
	    attr_str(d, "OSLocale", &b->s.os_locale) < 0 ||
	    attr_str(d, "OSFamily", &family) < 0 ||
	    attr_str(d, "OSDescription", &b->s.os_description) < 0 ||
	    attr_str(d, "ComputerMake", &make_) < 0 ||
	    attr_str(d, "ComputerModel", &b->s.model) < 0 ||
	    attr_str(d, "BiosVersion", &b->s.bios_version) < 0 ||
	    attr_str(d, "BiosName", &bios_name) < 0 ||
	    attr_time(r, d, "BiosReleaseDate", when) < 0 ||
	    attr_str(d, "ProcessorArchitecture", &b->s.processor) < 0 ||
	    attr_i32(d, "SuiteMask", INT16_MIN, INT16_MAX, &v) < 0 ||
	    attr_i32(d, "OldProductType", 0, 255, &v) < 0 ||
	    attr_i32(d, "NewProductType", INT32_MIN, INT32_MAX, &v) < 0 ||
	    attr_i32(d, "SystemMetrics", INT32_MIN, INT32_MAX, &v) < 0 ||
	    attr_str(d, "ClientVersion", &b->s.client_version) < 0)
		return bad(r, "Details");
	b->s.manufacturer = make_;
	soap_seq_init(&q, r->d, d);
	if (soap_array_begin(r->d, soap_seq_take(&q, "TargetGroupIdList"),
		"guid", ROLLUP_MAX_GROUPS, &it, &n, &err) < 0)
		return bad(r, "TargetGroupIdList");
	while ((g = soap_iter_next(&it)) != NULL) {
		char id[37];

		if (soap_get_guid(g, id, &err) < 0)
			return bad(r, "TargetGroupIdList");
	}
	if (soap_array_begin(r->d, soap_seq_take(&q, "RequestedTargetGroupNames"),
		"string", ROLLUP_MAX_GROUPS, &it, &n, &err) < 0)
		return bad(r, "RequestedTargetGroupNames");
	while ((g = soap_iter_next(&it)) != NULL) {
		struct sv s;

		if (soap_get_str(g, ROLLUP_MAX_STR, &s, &err) < 0)
			return bad(r, "RequestedTargetGroupNames");
	}
	b->s.has_details = true;
	return SOAP_ERRC_NONE;
}

static enum soap_errc
parse_computer(struct rq *r, const struct soap_elem *e, struct comp_buf *b)
{
	char when[SOAP_DATETIME_MAX];
	const struct soap_elem *d;
	struct soap_seq q;
	struct wsd_err err;
	struct sv s;

	if (soap_get_attr(e, "ComputerId", 64, &s) < 0 ||
	    soap_xs_guid(s, b->id, &err) < 0)
		return bad(r, "ComputerId");
	if (soap_get_attr(e, "ParentServerId", 64, &s) < 0 ||
	    soap_xs_guid(s, b->parent, &err) < 0 ||
	    strcmp(b->parent, NIL_GUID) == 0)
		return bad(r, "ParentServerId");
	if (attr_time(r, e, "LastSyncTime", b->sync) < 0 ||
	    attr_i32(e, "LastSyncResult", INT32_MIN, INT32_MAX,
		&b->s.last_sync_result) < 0 ||
	    attr_time(r, e, "LastReportedRebootTime", when) < 0 ||
	    attr_time(r, e, "LastReportedStatusTime", b->status) < 0 ||
	    attr_time(r, e, "LastInventoryTime", when) < 0)
		return bad(r, "ComputerRollupInfo");
	b->s.computer_id = b->id;
	b->s.parent_server_id = b->parent;
	b->s.last_sync_time = b->sync;
	b->s.last_reported_status_time = b->status;
	soap_seq_init(&q, r->d, e);
	if ((d = soap_seq_take(&q, "Details")) != NULL && !soap_is_nil(d))
		return parse_details(r, d, b);
	return SOAP_ERRC_NONE;
}

struct put_computers {
	struct wusp_ctx *c;
	struct comp_buf *v;
	size_t n;
};

static int
put_computers(void *arg, struct wsd_err *err)
{
	const struct put_computers *p = arg;
	int rc;

	for (size_t i = 0; i < p->n; i++)
		if ((rc = store_rollup_computer_put(p->c->wc_store,
			 &p->v[i].s, &p->v[i].need_details, err)) < 0)
			return rc;
	return 0;
}

enum soap_errc
wusp_rollup_computers(struct wusp_ctx *c)
{
	struct rq r = { c, c->wc_doc, 0 };
	struct soap_writer *w = &c->wc_w;
	const struct soap_elem *x;
	struct comp_buf *v = NULL;
	struct soap_seq q;
	struct soap_iter it;
	struct wsd_err err;
	enum soap_errc ec;
	size_t n = 0, count, changed = 0;

	soap_seq_init(&q, r.d, r.d->sd_op);
	if ((ec = client_time(&r, &q)) != SOAP_ERRC_NONE)
		return ec;
	if (soap_array_begin(r.d, soap_seq_take(&q, "computers"),
		"ComputerRollupInfo", ROLLUP_MAX_COMPUTERS, &it, &count,
		&err) < 0)
		return bad(&r, "computers");
	if (count > 0 && (v = calloc(count, sizeof(*v))) == NULL)
		return SOAP_ERRC_SERVER_BUSY;
	while ((x = soap_iter_next(&it)) != NULL && n < count) {
		if (soap_is_nil(x))
			continue;
		if ((ec = parse_computer(&r, x, &v[n])) != SOAP_ERRC_NONE)
			goto out;
		n++;
	}
	{
		struct put_computers p = { c, v, n };

		if ((ec = in_tx(c, "RollupComputers", put_computers, &p)) !=
		    SOAP_ERRC_NONE)
			goto out;
	}
	ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if (soap_emit_open_ns(w, "RollupComputersResponse",
		SOAP_NS_REPORTING) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		changed += v[i].need_details;
	if (changed == 0) {
		if (soap_emit_empty(w, "RollupComputersResult") < 0)
			goto out;
	} else {
		if (soap_emit_open(w, "RollupComputersResult") < 0)
			goto out;
		/* The ids are normalised GUIDs: hex and '-', nothing to
		 * escape. */
		for (size_t i = 0; i < n; i++)
			if (v[i].need_details &&
			    (soap_emit_raw(w, "<ChangedComputer ComputerId=\"",
				 29) < 0 ||
				soap_emit_raw(w, v[i].id, 36) < 0 ||
				soap_emit_raw(w, "\" Change=\"NewParent\" />",
				    23) < 0))
				goto out;
		if (soap_emit_close(w, "RollupComputersResult") < 0)
			goto out;
	}
	if (soap_emit_close(w, "RollupComputersResponse") < 0)
		goto out;
	log_info("%s: RollupComputers: %zu computers, %zu without details",
	    c->wc_hx->hx_peer, n, changed);
	ec = SOAP_ERRC_NONE;
out:
	free(v);
	return ec;
}

/* -------------------------------------------------- GetOutOfSyncComputers */

enum soap_errc
wusp_get_out_of_sync_computers(struct wusp_ctx *c)
{
	struct rq r = { c, c->wc_doc, 0 };
	struct soap_writer *w = &c->wc_w;
	const struct soap_elem *x;
	struct soap_seq q;
	struct soap_iter it;
	struct wsd_err err;
	struct {
		char id[37];
		int32_t number;
	} *v = NULL;
	size_t n = 0, count, out_n = 0;
	enum soap_errc ec;
	char parent[37];
	bool *stale = NULL;

	soap_seq_init(&q, r.d, r.d->sd_op);
	(void)soap_seq_take(&q, "cookie"); /* the dummy cookie */
	if (take_guid(&q, "parentServerId", parent) < 0)
		return bad(&r, "parentServerId");
	if (soap_array_begin(r.d, soap_seq_take(&q, "lastRollupNumbers"),
		"ComputerLastRollupNumber", ROLLUP_MAX_OUT_OF_SYNC, &it, &count,
		&err) < 0)
		return bad(&r, "lastRollupNumbers");
	if (count > 0 && ((v = calloc(count, sizeof(*v))) == NULL ||
			     (stale = calloc(count, sizeof(*stale))) == NULL)) {
		free(v);
		return SOAP_ERRC_SERVER_BUSY;
	}
	while ((x = soap_iter_next(&it)) != NULL && n < count) {
		struct soap_seq iq;

		if (soap_is_nil(x))
			continue;
		soap_seq_init(&iq, r.d, x);
		if (take_guid(&iq, "ComputerId", v[n].id) < 0) {
			ec = bad(&r, "ComputerId");
			goto out;
		}
		if (take_i32(&iq, "RollupNumber", INT32_MIN, INT32_MAX,
			&v[n].number) < 0) {
			ec = bad(&r, "RollupNumber");
			goto out;
		}
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		char have_parent[37];
		int32_t have;
		int rc = store_rollup_computer_rollup_number(c->wc_store,
		    v[i].id, &have, have_parent, &err);

		if (rc < 0 && rc != WSD_ENOTFOUND) {
			log_warnx("GetOutOfSyncComputers: %s", err.what);
			c->wc_message = "database unavailable";
			ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
			goto out;
		}
		stale[i] = rc == WSD_ENOTFOUND || have != v[i].number ||
		    strcmp(have_parent, parent) != 0;
		out_n += stale[i];
	}
	ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if (soap_emit_open_ns(w, "GetOutOfSyncComputersResponse",
		SOAP_NS_REPORTING) < 0 ||
	    (out_n == 0 &&
		soap_emit_empty(w, "GetOutOfSyncComputersResult") < 0) ||
	    (out_n > 0 && soap_emit_open(w, "GetOutOfSyncComputersResult") < 0))
		goto out;
	for (size_t i = 0; i < n && out_n > 0; i++)
		if (stale[i] && soap_emit_str(w, "string", v[i].id) < 0)
			goto out;
	if ((out_n > 0 && soap_emit_close(w, "GetOutOfSyncComputersResult") <
		0) ||
	    soap_emit_close(w, "GetOutOfSyncComputersResponse") < 0)
		goto out;
	log_info("%s: GetOutOfSyncComputers: %zu of %zu out of sync",
	    c->wc_hx->hx_peer, out_n, n);
	ec = SOAP_ERRC_NONE;
out:
	free(v);
	free(stale);
	return ec;
}

/* --------------------------------------------------- RollupComputerStatus */

struct stat_buf {
	char id[37];
	char detected[SOAP_DATETIME_MAX];
	int32_t number;
	bool full;
	struct store_rollup_status *st; /* malloc'd */
	char (*ids)[37];                /* malloc'd */
	char (*times)[SOAP_DATETIME_MAX]; /* malloc'd */
	size_t n;
};

static enum soap_errc
parse_status(struct rq *r, const struct soap_elem *e, struct stat_buf *b)
{
	struct soap_seq q;
	struct soap_iter it;
	struct wsd_err err;
	const struct soap_elem *u;
	char inst[37];
	size_t count;

	soap_seq_init(&q, r->d, e);
	if (take_guid(&q, "InstanceId", inst) < 0)
		return bad(r, "InstanceId");
	if (take_guid(&q, "ComputerId", b->id) < 0)
		return bad(r, "ComputerId");
	if (take_time(r, &q, "EffectiveLastDetectionTime", b->detected) < 0)
		return bad(r, "EffectiveLastDetectionTime");
	if (take_i32(&q, "RollupNumber", INT32_MIN, INT32_MAX, &b->number) < 0)
		return bad(r, "RollupNumber");
	if (soap_get_bool(soap_seq_take(&q, "IsFullRollup"), &b->full, &err) <
	    0)
		return bad(r, "IsFullRollup");
	if (soap_array_begin(r->d, soap_seq_take(&q, "UpdateStatus"),
		"ComputerStatusRollupUpdateStatus", ROLLUP_MAX_UPDATE_STATUS,
		&it, &count, &err) < 0)
		return bad(r, "UpdateStatus");
	if (count == 0)
		return SOAP_ERRC_NONE;
	if ((b->st = calloc(count, sizeof(*b->st))) == NULL ||
	    (b->ids = calloc(count, sizeof(*b->ids))) == NULL ||
	    (b->times = calloc(count, sizeof(*b->times))) == NULL)
		return SOAP_ERRC_SERVER_BUSY;
	while ((u = soap_iter_next(&it)) != NULL && b->n < count) {
		struct soap_seq uq;
		size_t i = b->n;

		if (soap_is_nil(u))
			continue;
		soap_seq_init(&uq, r->d, u);
		if (take_guid(&uq, "UpdateId", b->ids[i]) < 0)
			return bad(r, "UpdateId");
		if (take_i32(&uq, "SummarizationState", 0, ROLLUP_MAX_STATE,
			&b->st[i].state) < 0)
			return bad(r, "SummarizationState");
		if (take_time(r, &uq, "LastChangeTime", b->times[i]) < 0)
			return bad(r, "LastChangeTime");
		b->st[i].update_id = b->ids[i];
		b->st[i].last_change = b->times[i];
		b->n++;
	}
	return SOAP_ERRC_NONE;
}

struct put_status {
	struct wusp_ctx *c;
	const struct stat_buf *v;
	size_t n, skipped;
};

static int
put_status(void *arg, struct wsd_err *err)
{
	struct put_status *p = arg;
	int rc;

	for (size_t i = 0; i < p->n; i++) {
		const struct stat_buf *b = &p->v[i];

		rc = store_rollup_status_put(p->c->wc_store, b->id, b->number,
		    b->full, b->detected, b->st, b->n, err);
		/* Not rolled up by RollupComputers (yet): its number stays
		 * unknown, so GetOutOfSyncComputers asks for it again. */
		if (rc == WSD_ENOTFOUND) {
			p->skipped++;
			continue;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

enum soap_errc
wusp_rollup_computer_status(struct wusp_ctx *c)
{
	struct rq r = { c, c->wc_doc, 0 };
	const struct soap_elem *x;
	struct stat_buf *v = NULL;
	struct soap_seq q;
	struct soap_iter it;
	struct wsd_err err;
	enum soap_errc ec;
	size_t n = 0, count, rows = 0;
	char parent[37];

	soap_seq_init(&q, r.d, r.d->sd_op);
	if ((ec = client_time(&r, &q)) != SOAP_ERRC_NONE)
		return ec;
	if (take_guid(&q, "parentServerId", parent) < 0)
		return bad(&r, "parentServerId");
	if (soap_array_begin(r.d, soap_seq_take(&q, "computers"),
		"ComputerStatusRollupInfo", ROLLUP_MAX_STATUS_COMPUTERS, &it,
		&count, &err) < 0)
		return bad(&r, "computers");
	if (count > 0 && (v = calloc(count, sizeof(*v))) == NULL)
		return SOAP_ERRC_SERVER_BUSY;
	while ((x = soap_iter_next(&it)) != NULL && n < count) {
		if (soap_is_nil(x))
			continue;
		ec = parse_status(&r, x, &v[n]);
		rows += v[n].n;
		n++; /* freed below even when it failed half-way */
		if (ec != SOAP_ERRC_NONE)
			goto out;
	}
	{
		struct put_status p = { c, v, n, 0 };

		if ((ec = in_tx(c, "RollupComputerStatus", put_status, &p)) !=
		    SOAP_ERRC_NONE)
			goto out;
		log_info("%s: RollupComputerStatus: %zu computers (%zu "
			 "unknown), %zu statuses",
		    c->wc_hx->hx_peer, n, p.skipped, rows);
	}
	ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if (soap_emit_open_ns(&c->wc_w, "RollupComputerStatusResponse",
		SOAP_NS_REPORTING) < 0 ||
	    soap_emit_bool(&c->wc_w, "RollupComputerStatusResult", true) < 0 ||
	    soap_emit_close(&c->wc_w, "RollupComputerStatusResponse") < 0)
		goto out;
	ec = SOAP_ERRC_NONE;
out:
	for (size_t i = 0; i < n; i++) {
		free(v[i].st);
		free(v[i].ids);
		free(v[i].times);
	}
	free(v);
	return ec;
}
