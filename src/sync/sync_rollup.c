/*
 * Reporting rollup, downstream side (sync_rollup.h, WSUSSS.md 9). The
 * sequence and the state it keeps are described in the header; request
 * shapes follow schema/ORDER.md (ReportingWebService-WSUSSS.*).
 */
#include "sync/sync_rollup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/tree.h>
#include <openssl/evp.h>

#include "catalog/status.h"
#include "common/encode.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "soap/soap_emit.h"
#include "soap/soap_parse.h"
#include "store/store.h"
#include "store/store_rollup.h"

#ifndef WSUSD_VERSION
#define WSUSD_VERSION "0"
#endif

/* Our own ceilings on the batch sizes an upstream announces: those of a
 * Windows USS, which wsusd's upstream side also enforces. */
#define RU_MAX_SERVERS 5000
#define RU_MAX_COMPUTERS 1500
#define RU_MAX_OUT_OF_SYNC 20000
#define RU_MAX_STATUS_COMPUTERS 500
/* UpdateStatus items per RollupComputerStatus request: ~7 XML nodes
 * each, well under the upstream's node cap (soap_parse.h). */
#define RU_MAX_STATUS_ROWS 20000
/* Requests and answers. An answer is at most 20,000 ids (~1 MiB). */
#define RU_MAX_REQUEST (32UL * 1024 * 1024)
#define RU_MAX_ANSWER (4UL * 1024 * 1024)
/* Computers rolled up in one run (what a large WSUS serves). */
#define RU_MAX_LOCAL 200000

#define RU_NS SOAP_NS_REPORTING
#define NIL_GUID "00000000-0000-0000-0000-000000000000"
#define NULL_TIME "1753-01-01T00:00:00"
#define DUMMY_EXPIRATION "9999-12-31T23:59:59.9999999"

struct ustate {
	char id[37];
	int32_t state; /* SummarizationState */
};

/* One of our computers and what was last rolled up for it. */
struct lcomp {
	char id[37];
	char dns[256], os[256], locale[64], make[128], model[128];
	char bios[128], proc[64], client[64];
	char last_sync[SOAP_DATETIME_MAX]; /* "" never */
	char groups[1024];
	int32_t os_build;
	/* status from its clients' reports */
	struct ustate *st;
	size_t n_st;
	char detected[SOAP_DATETIME_MAX]; /* last status report, "" never */
	bool needs, fails;
	/* rollup state */
	int32_t number;
	char sent_details[STORE_ROLLUP_DIGEST], sent_status[STORE_ROLLUP_DIGEST];
	char details[STORE_ROLLUP_DIGEST], status[STORE_ROLLUP_DIGEST];
	bool force_details, force_status, detailed_now;
};

struct ru {
	struct store *st;
	const struct sync_rollup_io *io;
	struct sync_rollup_stats *stats;
	char self[37];
	char uss[37], reset[37];
	bool detailed;
	int32_t b_servers, b_computers, b_oos, b_status;
	struct lcomp *c;
	size_t n, cap;
	unsigned n_updates, n_declined, n_groups;
};

/* Static messages: wsd_err.what never allocates (STYLE.md). */
struct opmsg {
	const char *op;
	const char *fault;
	const char *http;
	const char *bad;
};

static const struct opmsg opmsgs[] = {
	{ "GetRollupConfiguration",
	    "GetRollupConfiguration: the upstream answered a SOAP fault",
	    "GetRollupConfiguration: unexpected HTTP status",
	    "GetRollupConfiguration: malformed answer" },
	{ "RollupDownstreamServers",
	    "RollupDownstreamServers: the upstream answered a SOAP fault",
	    "RollupDownstreamServers: unexpected HTTP status",
	    "RollupDownstreamServers: malformed answer" },
	{ "RollupComputers",
	    "RollupComputers: the upstream answered a SOAP fault",
	    "RollupComputers: unexpected HTTP status",
	    "RollupComputers: malformed answer" },
	{ "GetOutOfSyncComputers",
	    "GetOutOfSyncComputers: the upstream answered a SOAP fault",
	    "GetOutOfSyncComputers: unexpected HTTP status",
	    "GetOutOfSyncComputers: malformed answer" },
	{ "RollupComputerStatus",
	    "RollupComputerStatus: the upstream answered a SOAP fault",
	    "RollupComputerStatus: unexpected HTTP status",
	    "RollupComputerStatus: malformed answer" },
};

enum { OP_CONFIG, OP_SERVERS, OP_COMPUTERS, OP_OOS, OP_STATUS };

static void
digest_hex(const struct sbuf *in, char out[STORE_ROLLUP_DIGEST])
{
	unsigned char md[32];
	unsigned int len = 0;

	if (EVP_Digest(in->sb_buf ? in->sb_buf : "", in->sb_len, md, &len,
		EVP_sha256(), NULL) != 1 ||
	    len != 32) {
		out[0] = '\0'; /* compares unequal to anything stored */
		return;
	}
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ---------------------------------------------------------- transport */

static int
req_begin(struct soap_writer *w, struct sbuf *sb, const char *op)
{
	sbuf_init(sb, RU_MAX_REQUEST);
	if (soap_emit_begin(w, sb, SOAP_STYLE_ASMX) < 0 ||
	    soap_emit_open_ns(w, op, RU_NS) < 0 ||
	    soap_emit_open(w, "cookie") < 0 ||
	    soap_emit_str(w, "Expiration", DUMMY_EXPIRATION) < 0 ||
	    soap_emit_empty(w, "EncryptedData") < 0 ||
	    soap_emit_close(w, "cookie") < 0)
		return WSD_ETOOBIG;
	return 0;
}

static int
now_text(char out[SOAP_DATETIME_MAX])
{
	struct timespec ts;
	struct soap_datetime dt;

	clock_gettime(CLOCK_REALTIME, &ts);
	dt = soap_datetime_from_unix((int64_t)ts.tv_sec, (uint32_t)ts.tv_nsec);
	return soap_datetime_format(&dt, out) < 0 ? -1 : 0;
}

static int
emit_client_time(struct soap_writer *w)
{
	char now[SOAP_DATETIME_MAX];

	if (now_text(now) < 0)
		return WSD_EINTERNAL;
	return soap_emit_str(w, "clientTime", now);
}

/* Logs the fault's ErrorCode and Message (bounded, as text). */
static void
log_fault(const struct soap_doc *d, const char *op)
{
	const struct soap_elem *det, *e;
	struct wsd_err err;
	struct sv code = { "", 0 }, msg = { "", 0 }, fs = { "", 0 };

	det = soap_child_unq(d->sd_op, "detail");
	if ((e = soap_child_unq(det, "ErrorCode")) != NULL)
		(void)!soap_get_str(e, 64, &code, &err);
	if ((e = soap_child_unq(det, "Message")) != NULL)
		(void)!soap_get_str(e, 512, &msg, &err);
	if ((e = soap_child_unq(d->sd_op, "faultstring")) != NULL)
		(void)!soap_get_str(e, 512, &fs, &err);
	log_warnx("rollup: %s: upstream fault %.*s: %.*s (%.*s)", op,
	    (int)code.n, code.p, (int)msg.n, msg.p, (int)fs.n, fs.p);
}

/*
 * Finishes the request in SB, sends it, and parses the answer into DOC
 * (soap_doc_release it), which must be OP's Response.
 */
static int
call(struct ru *r, int opi, struct soap_writer *w, struct sbuf *sb,
    struct soap_doc *doc, struct wsd_err *err)
{
	const struct opmsg *m = &opmsgs[opi];
	char action[128], resp[64];
	struct sbuf ans;
	long status = 0;
	int rc;

	soap_doc_init(doc);
	if (soap_emit_close(w, m->op) < 0 || soap_emit_end(w) < 0)
		return wsd_fail(err, WSD_ETOOBIG, "rollup request too large");
	snprintf(action, sizeof(action), "%s/%s", RU_NS, m->op);
	snprintf(resp, sizeof(resp), "%sResponse", m->op);
	sbuf_init(&ans, RU_MAX_ANSWER);
	r->stats->requests++;
	rc = r->io->call(r->io->arg, action, sbuf_str(sb), sb->sb_len, &status,
	    &ans, err);
	sbuf_release(sb);
	if (rc < 0 && ans.sb_len == 0) {
		log_warnx("rollup: %s: %s", m->op, err->what);
		sbuf_release(&ans);
		return rc;
	}
	if (soap_parse(sbuf_str(&ans), ans.sb_len, doc, err) < 0) {
		sbuf_release(&ans);
		return wsd_fail(err, WSD_EINVAL,
		    status == 200 ? m->bad : m->http);
	}
	sbuf_release(&ans); /* the tree holds copies */
	if (strcmp(doc->sd_op_name, "Fault") == 0 &&
	    strcmp(doc->sd_op_ns, SOAP_NS_ENVELOPE) == 0) {
		log_fault(doc, m->op);
		soap_doc_release(doc);
		return wsd_fail(err, WSD_EIO, m->fault);
	}
	if (rc < 0 || status != 200) {
		log_warnx("rollup: %s: HTTP status %ld", m->op, status);
		soap_doc_release(doc);
		return wsd_fail(err, WSD_EIO, m->http);
	}
	if (strcmp(doc->sd_op_name, resp) != 0 ||
	    strcmp(doc->sd_op_ns, RU_NS) != 0) {
		soap_doc_release(doc);
		return wsd_fail(err, WSD_EINVAL, m->bad);
	}
	return 0;
}

/* ------------------------------------------------------- local state */

static void
copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static int
local_cb(void *arg, const struct store_rollup_local *l)
{
	struct ru *r = arg;
	struct lcomp *c;
	char id[37];

	if (guid_normalize(l->computer_id, id) < 0)
		return 0; /* not a GUID: not something to roll up */
	if (r->n == RU_MAX_LOCAL)
		return 1;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct lcomp *v = realloc(r->c, cap * sizeof(*v));

		if (v == NULL)
			return 1;
		r->c = v;
		r->cap = cap;
	}
	c = &r->c[r->n++];
	memset(c, 0, sizeof(*c));
	memcpy(c->id, id, 37);
	copy(c->dns, sizeof(c->dns), l->dns_name);
	copy(c->os, sizeof(c->os), l->os_description);
	copy(c->locale, sizeof(c->locale), l->os_locale);
	copy(c->make, sizeof(c->make), l->manufacturer);
	copy(c->model, sizeof(c->model), l->model);
	copy(c->bios, sizeof(c->bios), l->bios_version);
	copy(c->proc, sizeof(c->proc), l->processor);
	copy(c->client, sizeof(c->client), l->client_version);
	copy(c->groups, sizeof(c->groups), l->group_ids);
	c->os_build = l->os_build;
	if (l->last_sync[0] != '\0') {
		struct soap_datetime dt;
		struct wsd_err err;
		struct sv s = { l->last_sync, strlen(l->last_sync) };

		if (soap_datetime_parse(s, &dt, &err) == 0 &&
		    soap_datetime_format(&dt, c->last_sync) < 0)
			c->last_sync[0] = '\0';
	}
	return 0;
}

struct feed {
	struct status_state s;
	struct soap_datetime last;
	bool have_last;
};

static int
feed_cb(void *arg, const struct store_client_event_row *row)
{
	struct feed *f = arg;

	if (row->event_id == 156) {
		struct sv s = { row->time_at_target, strlen(row->time_at_target) };
		struct soap_datetime dt;
		struct wsd_err err;

		if (soap_datetime_parse(s, &dt, &err) == 0) {
			f->last = dt;
			f->have_last = true;
		}
	}
	return status_feed(&f->s, row->event_id, row->update_id,
	    row->misc_data) < 0;
}

static int32_t
summarization_state(enum update_status s)
{
	switch (s) {
	case STATUS_UNKNOWN:
		return 0;
	case STATUS_NOT_APPLICABLE:
		return 1;
	case STATUS_NEEDED:
		return 2;
	case STATUS_DOWNLOADED:
		return 3;
	case STATUS_INSTALLED:
		return 4;
	case STATUS_FAILED:
		return 5;
	case STATUS_INSTALLED_PENDING_REBOOT:
		return 6;
	}
	return 0;
}

static int
collect_cb(void *arg, const char *update_id, enum update_status s)
{
	struct lcomp *c = arg;
	struct ustate *v;

	if (s == STATUS_UNKNOWN || s == STATUS_NOT_APPLICABLE)
		return 0;
	if (c->n_st == RU_MAX_STATUS_ROWS)
		return 0; /* bounded; the rest stays unreported upward */
	if ((v = realloc(c->st, (c->n_st + 1) * sizeof(*v))) == NULL)
		return -1;
	c->st = v;
	copy(v[c->n_st].id, sizeof(v[c->n_st].id), update_id);
	v[c->n_st].state = summarization_state(s);
	c->needs |= s == STATUS_NEEDED || s == STATUS_DOWNLOADED;
	c->fails |= s == STATUS_FAILED;
	c->n_st++;
	return 0;
}

static int
ustate_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ustate *)a)->id,
	    ((const struct ustate *)b)->id);
}

/* The computer's status, its details digest and its status digest. */
static int
load_computer(struct ru *r, struct lcomp *c, struct wsd_err *err)
{
	struct feed f;
	struct sbuf d;
	int rc;

	status_init(&f.s);
	f.have_last = false;
	rc = store_client_events_each(r->st, c->id, feed_cb, &f, err);
	if (rc == 0 && status_each(&f.s, collect_cb, c) != 0)
		rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
	if (rc == 0 && f.have_last &&
	    soap_datetime_format(&f.last, c->detected) < 0)
		c->detected[0] = '\0';
	status_release(&f.s);
	if (rc < 0)
		return rc;
	if (c->n_st > 1)
		qsort(c->st, c->n_st, sizeof(*c->st), ustate_cmp);
	sbuf_init(&d, RU_MAX_STATUS_ROWS * 48 + 256);
	if (sbuf_addf(&d, "%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%d\n%s\n",
		r->self, c->dns, c->os, c->locale, c->make, c->model, c->bios,
		c->proc, c->client, (int)c->os_build, c->groups) < 0)
		return wsd_fail(err, WSD_ETOOBIG, "computer details too long");
	digest_hex(&d, c->details);
	sbuf_reset(&d);
	if (sbuf_addf(&d, "%s\n", c->detected) < 0)
		return wsd_fail(err, WSD_ETOOBIG, "status too long");
	for (size_t i = 0; i < c->n_st; i++)
		if (sbuf_addf(&d, "%s=%d\n", c->st[i].id, (int)c->st[i].state) <
		    0)
			return wsd_fail(err, WSD_ETOOBIG, "status too long");
	digest_hex(&d, c->status);
	sbuf_release(&d);
	rc = store_rollup_sent_get(r->st, c->id, &c->number, c->sent_details,
	    c->sent_status, err);
	if (rc == WSD_ENOTFOUND) {
		c->number = 0;
		c->sent_details[0] = c->sent_status[0] = '\0';
		rc = 0;
	}
	return rc;
}

static int
upd_cb(void *arg, const struct store_update_row *row)
{
	struct ru *r = arg;

	r->n_updates++;
	r->n_declined += row->declined;
	return 0;
}

static int
group_cb(void *arg, const struct store_group_row *row)
{
	struct ru *r = arg;

	r->n_groups += !row->builtin;
	return 0;
}

static int
load(struct ru *r, struct wsd_err *err)
{
	struct store_update_filter f = { .include_declined = true };
	int rc;

	if ((rc = store_rollup_local_computers_each(r->st, local_cb, r,
		 err)) < 0)
		return rc;
	if (r->n == RU_MAX_LOCAL)
		log_warnx("rollup: only the first %d computers are rolled up",
		    RU_MAX_LOCAL);
	for (size_t i = 0; i < r->n; i++)
		if ((rc = load_computer(r, &r->c[i], err)) < 0)
			return rc;
	if ((rc = store_updates_list(r->st, &f, upd_cb, r, err)) < 0 ||
	    (rc = store_groups_list(r->st, group_cb, r, err)) < 0)
		return rc;
	return 0;
}

/* ------------------------------------------------ GetRollupConfiguration */

static int
get_i32(const struct soap_doc *d, const struct soap_elem *p, const char *name,
    int32_t ceiling, int32_t *out)
{
	struct wsd_err err;

	if (soap_get_i32(soap_child(d, p, name), out, &err) < 0 || *out <= 0)
		return -1;
	if (*out > ceiling)
		*out = ceiling;
	return 0;
}

static int
do_config(struct ru *r, struct wsd_err *err)
{
	const struct soap_elem *res;
	struct soap_writer w;
	struct soap_doc doc;
	struct sbuf sb;
	struct wsd_err e2;
	char uss[37], reset[37], old_uss[37], old_reset[37];
	int rc;

	if ((rc = req_begin(&w, &sb, "GetRollupConfiguration")) < 0)
		return wsd_fail(err, rc, "rollup request too large");
	if ((rc = call(r, OP_CONFIG, &w, &sb, &doc, err)) < 0)
		return rc;
	res = soap_child(&doc, doc.sd_op, "GetRollupConfigurationResult");
	if (res == NULL ||
	    soap_get_bool(soap_child(&doc, res, "DoDetailedRollup"),
		&r->detailed, &e2) < 0 ||
	    soap_get_guid(soap_child(&doc, res, "RollupResetGuid"), reset,
		&e2) < 0 ||
	    soap_get_guid(soap_child(&doc, res, "ServerId"), uss, &e2) < 0 ||
	    get_i32(&doc, res, "RollupDownstreamServersMaxBatchSize",
		RU_MAX_SERVERS, &r->b_servers) < 0 ||
	    get_i32(&doc, res, "RollupComputersMaxBatchSize", RU_MAX_COMPUTERS,
		&r->b_computers) < 0 ||
	    get_i32(&doc, res, "GetOutOfSyncComputersMaxBatchSize",
		RU_MAX_OUT_OF_SYNC, &r->b_oos) < 0 ||
	    get_i32(&doc, res, "RollupComputerStatusMaxBatchSize",
		RU_MAX_STATUS_COMPUTERS, &r->b_status) < 0) {
		soap_doc_release(&doc);
		return wsd_fail(err, WSD_EINVAL, opmsgs[OP_CONFIG].bad);
	}
	soap_doc_release(&doc);
	if (strcmp(uss, r->self) == 0)
		return wsd_fail(err, WSD_EINVAL,
		    "GetRollupConfiguration: the upstream has our own ServerId");
	r->stats->detailed = r->detailed;
	if ((rc = store_rollup_upstream_get(r->st, old_uss, old_reset, err)) <
	    0)
		return rc;
	if (strcmp(old_uss, uss) != 0 || strcmp(old_reset, reset) != 0) {
		/* Another upstream, or it reset its rollup data: start over. */
		r->stats->full = true;
		for (size_t i = 0; i < r->n; i++) {
			r->c[i].number = 0;
			r->c[i].sent_details[0] = r->c[i].sent_status[0] = '\0';
		}
		if ((rc = store_rollup_sent_clear(r->st, err)) < 0 ||
		    (rc = store_rollup_upstream_set(r->st, uss, reset, err)) <
			0)
			return rc;
	}
	memcpy(r->uss, uss, 37);
	memcpy(r->reset, reset, 37);
	return 0;
}

/* ----------------------------------------------- RollupDownstreamServers */

static int
emit_server(struct soap_writer *w, const struct store_rollup_server *s)
{
	if (soap_emit_open(w, "DownstreamServerRollupInfo") < 0 ||
	    soap_emit_str(w, "ServerId", s->server_id) < 0 ||
	    (s->full_domain_name[0] != '\0' &&
		soap_emit_str(w, "FullDomainName", s->full_domain_name) < 0) ||
	    soap_emit_str(w, "LastSyncTime",
		s->last_sync_time[0] ? s->last_sync_time : NULL_TIME) < 0 ||
	    soap_emit_str(w, "ParentServerId", s->parent_server_id) < 0 ||
	    (s->version[0] != '\0' &&
		soap_emit_str(w, "Version", s->version) < 0) ||
	    soap_emit_bool(w, "IsReplica", s->is_replica) < 0 ||
	    soap_emit_str(w, "LastRollupTime",
		s->last_rollup_time[0] ? s->last_rollup_time : NULL_TIME) < 0)
		return WSD_ETOOBIG;
	if (s->has_summary) {
		static const char *const names[STORE_ROLLUP_SUMMARY_N] = {
			"UpdateCount", "DeclinedUpdateCount",
			"ApprovedUpdateCount", "NotApprovedUpdateCount",
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

		if (soap_emit_open(w, "ServerSummary") < 0)
			return WSD_ETOOBIG;
		for (size_t i = 0; i < STORE_ROLLUP_SUMMARY_N; i++)
			if (soap_emit_i32(w, names[i], s->summary[i]) < 0)
				return WSD_ETOOBIG;
		if (soap_emit_close(w, "ServerSummary") < 0)
			return WSD_ETOOBIG;
	}
	return soap_emit_close(w, "DownstreamServerRollupInfo");
}

struct srv_list {
	struct store_rollup_server *v;
	char (*ids)[37], (*parents)[37];
	char (*names)[256], (*versions)[64];
	char (*sync)[SOAP_DATETIME_MAX], (*rollup)[SOAP_DATETIME_MAX];
	size_t n, cap;
	const char *self;
};

static int
srv_cb(void *arg, const struct store_rollup_server *s)
{
	struct srv_list *l = arg;
	size_t i = l->n;

	if (i == l->cap)
		return 1; /* bounded: RU_MAX_SERVERS - 1 descendants */
	l->v[i] = *s;
	copy(l->ids[i], 37, s->server_id);
	/* All zero in our table: it reports to us, i.e. to our ServerId
	 * one level up. */
	copy(l->parents[i], 37,
	    strcmp(s->parent_server_id, NIL_GUID) == 0 ? l->self :
							 s->parent_server_id);
	copy(l->names[i], 256, s->full_domain_name);
	copy(l->versions[i], 64, s->version);
	copy(l->sync[i], SOAP_DATETIME_MAX, s->last_sync_time);
	copy(l->rollup[i], SOAP_DATETIME_MAX, s->last_rollup_time);
	l->v[i].server_id = l->ids[i];
	l->v[i].parent_server_id = l->parents[i];
	l->v[i].full_domain_name = l->names[i];
	l->v[i].version = l->versions[i];
	l->v[i].last_sync_time = l->sync[i];
	l->v[i].last_rollup_time = l->rollup[i];
	l->n++;
	return 0;
}

static void
srv_list_free(struct srv_list *l)
{
	free(l->v);
	free(l->ids);
	free(l->parents);
	free(l->names);
	free(l->versions);
	free(l->sync);
	free(l->rollup);
}

static void
own_entry(struct ru *r, struct store_rollup_server *s, char host[256],
    char now[SOAP_DATETIME_MAX])
{
	unsigned need = 0, errs = 0, ok = 0;

	if (gethostname(host, 256) != 0)
		host[0] = '\0';
	host[255] = '\0';
	if (now_text(now) < 0)
		now[0] = '\0';
	for (size_t i = 0; i < r->n; i++) {
		need += r->c[i].needs;
		errs += r->c[i].fails;
		ok += r->c[i].detected[0] != '\0' && !r->c[i].needs &&
		    !r->c[i].fails;
	}
	memset(s, 0, sizeof(*s));
	s->server_id = r->self;
	s->parent_server_id = NIL_GUID;
	s->full_domain_name = host;
	s->version = "wsusd " WSUSD_VERSION;
	s->is_replica = true;
	s->last_sync_time = now;
	s->last_rollup_time = now;
	s->has_summary = true;
	s->summary[0] = (int32_t)r->n_updates;
	s->summary[1] = (int32_t)r->n_declined;
	s->summary[13] = (int32_t)r->n_groups;
	s->summary[14] = (int32_t)r->n;
	s->summary[15] = (int32_t)need;
	s->summary[16] = (int32_t)errs;
	s->summary[17] = (int32_t)ok;
}

static int
do_servers(struct ru *r, struct wsd_err *err)
{
	struct srv_list l = { .self = r->self };
	struct store_rollup_server own;
	char host[256], now[SOAP_DATETIME_MAX];
	size_t i = 0, total;
	int rc = 0;

	l.cap = RU_MAX_SERVERS - 1;
	if ((l.v = calloc(l.cap, sizeof(*l.v))) == NULL ||
	    (l.ids = calloc(l.cap, sizeof(*l.ids))) == NULL ||
	    (l.parents = calloc(l.cap, sizeof(*l.parents))) == NULL ||
	    (l.names = calloc(l.cap, sizeof(*l.names))) == NULL ||
	    (l.versions = calloc(l.cap, sizeof(*l.versions))) == NULL ||
	    (l.sync = calloc(l.cap, sizeof(*l.sync))) == NULL ||
	    (l.rollup = calloc(l.cap, sizeof(*l.rollup))) == NULL) {
		srv_list_free(&l);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	if ((rc = store_rollup_servers_each(r->st, srv_cb, &l, err)) < 0)
		goto out;
	own_entry(r, &own, host, now);
	total = l.n + 1; /* our own entry last (MS-WSUSSS 3.2.4.5) */
	while (i < total) {
		struct soap_writer w;
		struct soap_doc doc;
		struct sbuf sb;

		if (req_begin(&w, &sb, "RollupDownstreamServers") < 0 ||
		    emit_client_time(&w) < 0 ||
		    soap_emit_open(&w, "downstreamServers") < 0) {
			rc = wsd_fail(err, WSD_ETOOBIG, "rollup request too large");
			goto out;
		}
		for (int32_t k = 0; k < r->b_servers && i < total; k++, i++)
			if (emit_server(&w, i < l.n ? &l.v[i] : &own) < 0) {
				rc = wsd_fail(err, WSD_ETOOBIG,
				    "rollup request too large");
				goto out;
			}
		if (soap_emit_close(&w, "downstreamServers") < 0) {
			rc = wsd_fail(err, WSD_ETOOBIG, "rollup request too large");
			goto out;
		}
		if ((rc = call(r, OP_SERVERS, &w, &sb, &doc, err)) < 0)
			goto out;
		soap_doc_release(&doc);
	}
	r->stats->servers = (unsigned)total;
out:
	srv_list_free(&l);
	return rc;
}

/* ------------------------------------------------------ RollupComputers */

static int
add_attr(struct soap_writer *w, const char *name, const char *value)
{
	struct sbuf *sb = w->sw_sb;

	if (sbuf_addf(sb, " %s=\"", name) < 0 ||
	    soap_escape_attr(sb, value, strlen(value)) < 0 ||
	    sbuf_add(sb, "\"", 1) < 0)
		return WSD_ETOOBIG;
	return 0;
}

static int
add_attr_i(struct soap_writer *w, const char *name, long v)
{
	return sbuf_addf(w->sw_sb, " %s=\"%ld\"", name, v) < 0 ? WSD_ETOOBIG :
								 0;
}

static int
emit_computer(struct ru *r, struct soap_writer *w, const struct lcomp *c,
    bool details)
{
	/* What we know of Windows versions is the build number. */
	int major = c->os_build >= 10240 ? 10 : 0;

	if (soap_emit_raw(w, "<ComputerRollupInfo", 19) < 0 ||
	    add_attr(w, "ComputerId", c->id) < 0 ||
	    add_attr(w, "LastSyncTime",
		c->last_sync[0] ? c->last_sync : NULL_TIME) < 0 ||
	    add_attr_i(w, "LastSyncResult", 0) < 0 ||
	    add_attr(w, "LastReportedRebootTime", NULL_TIME) < 0 ||
	    add_attr(w, "LastReportedStatusTime",
		c->detected[0] ? c->detected : NULL_TIME) < 0 ||
	    add_attr(w, "LastInventoryTime", NULL_TIME) < 0 ||
	    add_attr(w, "ParentServerId", r->self) < 0)
		return WSD_ETOOBIG;
	if (!details)
		return soap_emit_raw(w, " />", 3);
	if (soap_emit_raw(w, "><Details", 9) < 0 ||
	    add_attr(w, "FullDomainName", c->dns) < 0 ||
	    add_attr_i(w, "OSMajorVersion", major) < 0 ||
	    add_attr_i(w, "OSMinorVersion", 0) < 0 ||
	    add_attr_i(w, "OSBuildNumber", c->os_build) < 0 ||
	    add_attr_i(w, "OSServicePackMajorNumber", 0) < 0 ||
	    add_attr_i(w, "OSServicePackMinorNumber", 0) < 0 ||
	    add_attr(w, "OSLocale", c->locale) < 0 ||
	    add_attr(w, "OSDescription", c->os) < 0 ||
	    add_attr(w, "ComputerMake", c->make) < 0 ||
	    add_attr(w, "ComputerModel", c->model) < 0 ||
	    add_attr(w, "BiosVersion", c->bios) < 0 ||
	    add_attr(w, "BiosReleaseDate", NULL_TIME) < 0 ||
	    add_attr(w, "ProcessorArchitecture", c->proc) < 0 ||
	    add_attr_i(w, "SuiteMask", 0) < 0 ||
	    add_attr_i(w, "OldProductType", 1) < 0 ||
	    add_attr_i(w, "NewProductType", 0) < 0 ||
	    add_attr_i(w, "SystemMetrics", 0) < 0 ||
	    add_attr(w, "ClientVersion", c->client) < 0 ||
	    soap_emit_raw(w, ">", 1) < 0)
		return WSD_ETOOBIG;
	if (c->groups[0] != '\0') {
		const char *p = c->groups;

		if (soap_emit_open(w, "TargetGroupIdList") < 0)
			return WSD_ETOOBIG;
		while (*p != '\0') {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);

			if (soap_emit_strn(w, "guid", p, len) < 0)
				return WSD_ETOOBIG;
			p += len;
			if (*p == ',')
				p++;
		}
		if (soap_emit_close(w, "TargetGroupIdList") < 0)
			return WSD_ETOOBIG;
	}
	return soap_emit_raw(w, "</Details></ComputerRollupInfo>", 31);
}

static struct lcomp *
find(struct ru *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->c[i].id, id) == 0)
			return &r->c[i];
	return NULL;
}

/* Reads the ChangedComputer answers of one batch. */
static int
changed(struct ru *r, const struct soap_doc *doc, struct wsd_err *err)
{
	const struct soap_elem *res, *e;
	struct soap_iter it;
	size_t count;

	res = soap_child(doc, doc->sd_op, "RollupComputersResult");
	if (soap_array_begin(doc, res, "ChangedComputer", RU_MAX_COMPUTERS,
		&it, &count, err) < 0)
		return wsd_fail(err, WSD_EINVAL, opmsgs[OP_COMPUTERS].bad);
	while ((e = soap_iter_next(&it)) != NULL) {
		struct wsd_err e2;
		struct lcomp *c;
		struct sv s, ch;
		char id[37];

		if (soap_get_attr(e, "ComputerId", 64, &s) < 0 ||
		    soap_xs_guid(s, id, &e2) < 0 ||
		    soap_get_attr(e, "Change", 16, &ch) < 0)
			return wsd_fail(err, WSD_EINVAL,
			    opmsgs[OP_COMPUTERS].bad);
		if ((c = find(r, id)) == NULL)
			continue; /* not ours: nothing to do */
		r->stats->new_parent++;
		/* NewParent: resend the details. Deleted: the upstream
		 * dropped it; we keep the computer (its clients still talk
		 * to us) and roll it up in full again. */
		c->force_details = true;
		if (strcmp(ch.p, "Deleted") == 0) {
			c->force_status = true;
			c->number = 0;
		}
	}
	return 0;
}

/* Sends every computer not yet sent (or, with ONLY_FORCED, those the
 * upstream asked details for), batch by batch. */
static int
do_computers(struct ru *r, bool only_forced, struct wsd_err *err)
{
	size_t i = 0;
	int rc;

	for (size_t k = 0; k < r->n; k++) {
		struct lcomp *c = &r->c[k];

		c->detailed_now = only_forced ?
		    c->force_details && !c->detailed_now :
		    c->force_details ||
			strcmp(c->details, c->sent_details) != 0;
		if (only_forced)
			c->force_details = false;
	}
	while (i < r->n) {
		struct soap_writer w;
		struct soap_doc doc;
		struct sbuf sb;
		size_t first = i, sent = 0;

		if (req_begin(&w, &sb, "RollupComputers") < 0 ||
		    emit_client_time(&w) < 0 ||
		    soap_emit_open(&w, "computers") < 0)
			return wsd_fail(err, WSD_ETOOBIG,
			    "rollup request too large");
		for (; i < r->n && sent < (size_t)r->b_computers; i++) {
			if (only_forced && !r->c[i].detailed_now)
				continue;
			if (emit_computer(r, &w, &r->c[i],
				r->c[i].detailed_now) < 0)
				return wsd_fail(err, WSD_ETOOBIG,
				    "rollup request too large");
			sent++;
		}
		if (soap_emit_close(&w, "computers") < 0)
			return wsd_fail(err, WSD_ETOOBIG,
			    "rollup request too large");
		if (sent == 0) {
			sbuf_release(&sb);
			break;
		}
		if ((rc = call(r, OP_COMPUTERS, &w, &sb, &doc, err)) < 0)
			return rc;
		rc = changed(r, &doc, err);
		soap_doc_release(&doc);
		if (rc < 0)
			return rc;
		for (size_t k = first; k < i; k++) {
			struct lcomp *c = &r->c[k];

			if (only_forced && !c->detailed_now)
				continue;
			r->stats->computers++;
			if (!c->detailed_now)
				continue;
			r->stats->details++;
			copy(c->sent_details, sizeof(c->sent_details),
			    c->details);
			if ((rc = store_rollup_sent_set(r->st, c->id, c->number,
				 c->sent_details, c->sent_status, err)) < 0)
				return rc;
		}
	}
	return 0;
}

/* ------------------------------------------------ GetOutOfSyncComputers */

static int
do_out_of_sync(struct ru *r, struct wsd_err *err)
{
	size_t i = 0;
	int rc;

	while (i < r->n) {
		const struct soap_elem *res, *e;
		struct soap_writer w;
		struct soap_doc doc;
		struct soap_iter it;
		struct sbuf sb;
		size_t count, sent = 0;

		if (req_begin(&w, &sb, "GetOutOfSyncComputers") < 0 ||
		    soap_emit_str(&w, "parentServerId", r->self) < 0 ||
		    soap_emit_open(&w, "lastRollupNumbers") < 0)
			return wsd_fail(err, WSD_ETOOBIG,
			    "rollup request too large");
		for (; i < r->n && sent < (size_t)r->b_oos; i++, sent++)
			if (soap_emit_open(&w, "ComputerLastRollupNumber") < 0 ||
			    soap_emit_str(&w, "ComputerId", r->c[i].id) < 0 ||
			    soap_emit_i32(&w, "RollupNumber", r->c[i].number) <
				0 ||
			    soap_emit_close(&w, "ComputerLastRollupNumber") < 0)
				return wsd_fail(err, WSD_ETOOBIG,
				    "rollup request too large");
		if (soap_emit_close(&w, "lastRollupNumbers") < 0)
			return wsd_fail(err, WSD_ETOOBIG,
			    "rollup request too large");
		if ((rc = call(r, OP_OOS, &w, &sb, &doc, err)) < 0)
			return rc;
		res = soap_child(&doc, doc.sd_op, "GetOutOfSyncComputersResult");
		if (soap_array_begin(&doc, res, "string", sent, &it, &count,
			err) < 0) {
			soap_doc_release(&doc);
			return wsd_fail(err, WSD_EINVAL, opmsgs[OP_OOS].bad);
		}
		while ((e = soap_iter_next(&it)) != NULL) {
			struct lcomp *c;
			char id[37];

			if (soap_get_guid(e, id, err) < 0) {
				soap_doc_release(&doc);
				return wsd_fail(err, WSD_EINVAL,
				    opmsgs[OP_OOS].bad);
			}
			if ((c = find(r, id)) != NULL && !c->force_status) {
				c->force_status = true;
				r->stats->out_of_sync++;
			}
		}
		soap_doc_release(&doc);
	}
	return 0;
}

/* ------------------------------------------------- RollupComputerStatus */

static int
emit_status(struct ru *r, struct soap_writer *w, const struct lcomp *c)
{
	const char *when = c->detected[0] ? c->detected : NULL_TIME;
	char inst[37];
	struct wsd_err err;

	(void)r;
	if (guid_generate(inst, &err) < 0)
		return err.code;
	if (soap_emit_open(w, "ComputerStatusRollupInfo") < 0 ||
	    soap_emit_str(w, "InstanceId", inst) < 0 ||
	    soap_emit_str(w, "ComputerId", c->id) < 0 ||
	    soap_emit_str(w, "EffectiveLastDetectionTime", when) < 0 ||
	    soap_emit_i32(w, "RollupNumber", c->number + 1) < 0 ||
	    soap_emit_bool(w, "IsFullRollup", true) < 0)
		return WSD_ETOOBIG;
	if (c->n_st > 0) {
		if (soap_emit_open(w, "UpdateStatus") < 0)
			return WSD_ETOOBIG;
		for (size_t k = 0; k < c->n_st; k++)
			if (soap_emit_open(w,
				"ComputerStatusRollupUpdateStatus") < 0 ||
			    soap_emit_str(w, "UpdateId", c->st[k].id) < 0 ||
			    soap_emit_i32(w, "SummarizationState",
				c->st[k].state) < 0 ||
			    soap_emit_str(w, "LastChangeTime", when) < 0 ||
			    soap_emit_close(w,
				"ComputerStatusRollupUpdateStatus") < 0)
				return WSD_ETOOBIG;
		if (soap_emit_close(w, "UpdateStatus") < 0)
			return WSD_ETOOBIG;
	}
	return soap_emit_close(w, "ComputerStatusRollupInfo");
}

static int
do_status(struct ru *r, struct wsd_err *err)
{
	size_t i = 0;
	int rc;

	for (size_t k = 0; k < r->n; k++)
		r->c[k].force_status |=
		    strcmp(r->c[k].status, r->c[k].sent_status) != 0;
	while (i < r->n) {
		struct soap_writer w;
		struct soap_doc doc;
		struct sbuf sb;
		struct wsd_err e2;
		size_t first = i, sent = 0, rows = 0;
		bool ok;

		if (req_begin(&w, &sb, "RollupComputerStatus") < 0 ||
		    emit_client_time(&w) < 0 ||
		    soap_emit_str(&w, "parentServerId", r->self) < 0 ||
		    soap_emit_open(&w, "computers") < 0)
			return wsd_fail(err, WSD_ETOOBIG,
			    "rollup request too large");
		for (; i < r->n && sent < (size_t)r->b_status; i++) {
			const struct lcomp *c = &r->c[i];

			if (!c->force_status)
				continue;
			/* A big computer goes alone; others fill up. */
			if (sent > 0 && rows + c->n_st > RU_MAX_STATUS_ROWS)
				break;
			if ((rc = emit_status(r, &w, c)) < 0) {
				sbuf_release(&sb); /* NULL-safe, idempotent */
				return wsd_fail(err, rc,
				    "rollup request too large");
			}
			sent++;
			rows += c->n_st;
		}
		if (soap_emit_close(&w, "computers") < 0)
			return wsd_fail(err, WSD_ETOOBIG,
			    "rollup request too large");
		if (sent == 0) {
			sbuf_release(&sb);
			break;
		}
		if ((rc = call(r, OP_STATUS, &w, &sb, &doc, err)) < 0)
			return rc;
		rc = soap_get_bool(soap_child(&doc, doc.sd_op,
				       "RollupComputerStatusResult"),
		    &ok, &e2);
		soap_doc_release(&doc);
		if (rc < 0)
			return wsd_fail(err, WSD_EINVAL, opmsgs[OP_STATUS].bad);
		if (!ok)
			return wsd_fail(err, WSD_EAGAIN,
			    "RollupComputerStatus: the upstream is busy");
		for (size_t k = first; k < i; k++) {
			struct lcomp *c = &r->c[k];

			if (!c->force_status)
				continue;
			c->number++;
			c->force_status = false;
			copy(c->sent_status, sizeof(c->sent_status), c->status);
			r->stats->status_computers++;
			r->stats->status_rows += (unsigned)c->n_st;
			if ((rc = store_rollup_sent_set(r->st, c->id, c->number,
				 c->sent_details, c->sent_status, err)) < 0)
				return rc;
		}
	}
	return 0;
}

int
sync_rollup_run(struct store *st, const struct sync_rollup_io *io,
    struct sync_rollup_stats *out, struct wsd_err *err)
{
	struct ru r;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	r.st = st;
	r.io = io;
	r.stats = out;
	if ((rc = store_meta_guid(st, "server_id", r.self, err)) < 0 ||
	    (rc = load(&r, err)) < 0 || (rc = do_config(&r, err)) < 0 || (rc = do_servers(&r, err)) < 0)
		goto out;
	if (!r.detailed)
		goto out;
	if ((rc = do_computers(&r, false, err)) < 0 ||
	    (rc = do_computers(&r, true, err)) < 0 ||
	    (rc = do_out_of_sync(&r, err)) < 0 ||
	    (rc = do_status(&r, err)) < 0)
		goto out;
	log_info("rollup: %u servers, %u computers (%u with details), %u "
		 "statuses of %u computers%s",
	    out->servers, out->computers, out->details, out->status_rows,
	    out->status_computers, out->full ? ", full" : "");
out:
	for (size_t i = 0; i < r.n; i++)
		free(r.c[i].st);
	free(r.c);
	return rc;
}
