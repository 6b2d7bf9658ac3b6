/*
 * MS-WUSP client session (agent_proto.h): agent_msg's messages over
 * agent_http, results into agent_state.
 */
#include "wuagent/agent_proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/fragment.h"
#include "common/encode.h"
#include "common/log.h"
#include "wuagent/agent_sysinfo.h"

#define NS_CLIENT SOAP_NS_CLIENT
#define NS_AUTH   SOAP_NS_SIMPLEAUTH
#define NS_REPORT SOAP_NS_REPORTING
/* GetConfig's MaxExtendedUpdatesPerRequest on WS2025 (scan/000001). */
#define EXT_BATCH 50
#define REPORT_BATCH 50
#define SYNC_MAX_IDS 20000

static int fail(struct agent_session *s, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct agent_session *s, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
	va_end(ap);
	return rc;
}

/* BASE (no trailing '/') + "/" + PATH into OUT. */
static void
join_url(char *out, size_t n, const char *base, const char *path)
{
	size_t bl = strlen(base);

	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	snprintf(out, n, "%.*s/%s", (int)bl, base, path);
}

int
agent_session_open(struct agent_session *s, const struct agent_config *cf,
    struct agent_state *st)
{
	struct agent_sysinfo si;
	struct wsd_err err;

	memset(s, 0, sizeof(*s));
	s->cf = cf;
	s->st = st;
	agent_sysinfo_read(&si);
	snprintf(s->dns_name, sizeof(s->dns_name), "%s", si.dns_name);
	join_url(s->client_url, sizeof(s->client_url), cf->wu_server,
	    "ClientWebService/client.asmx");
	join_url(s->auth_url, sizeof(s->auth_url), cf->wu_server,
	    "SimpleAuthWebService/SimpleAuth.asmx");
	join_url(s->report_url, sizeof(s->report_url), cf->wu_status_server,
	    "ReportingWebService/ReportingWebService.asmx");
	if (agent_state_identity(st, &s->id, &err) < 0)
		return fail(s, AGENT_ERR_LOCAL, "state: %s", err.what);
	/* A cache from another server means nothing here. */
	if (s->id.server[0] != '\0' &&
	    strcmp(s->id.server, cf->wu_server) != 0) {
		if (agent_state_forget_cache(st, &err) < 0)
			return fail(s, AGENT_ERR_LOCAL, "state: %s", err.what);
		agent_identity_release(&s->id);
		if (agent_state_identity(st, &s->id, &err) < 0)
			return fail(s, AGENT_ERR_LOCAL, "state: %s", err.what);
	}
	if (s->id.cookie_data != NULL &&
	    strlen(s->id.cookie_data) < sizeof(s->ck.data) &&
	    s->id.cookie_data[0] != '\0') {
		snprintf(s->ck.data, sizeof(s->ck.data), "%s",
		    s->id.cookie_data);
		snprintf(s->ck.expiration, sizeof(s->ck.expiration), "%s",
		    s->id.cookie_expiration);
		s->have_cookie = true;
	}
	if (agent_http_open(cf, &s->http, &err) < 0)
		return fail(s, AGENT_ERR_LOCAL, "%s", err.what);
	return AGENT_OK;
}

void
agent_session_close(struct agent_session *s)
{
	agent_http_close(s->http);
	s->http = NULL;
	agent_identity_release(&s->id);
}

/* ------------------------------------------------------------ calls */

/* POSTs REQ to URL as NS/OP and reads the answer into A. */
static int
call(struct agent_session *s, const char *url, const char *ns,
    const char *op, const struct sbuf *req, struct agent_answer *a)
{
	char action[256], msg[512];
	struct sbuf body;
	long status = 0;
	int rc;

	s->fault[0] = '\0';
	snprintf(action, sizeof(action), "%s/%s", ns, op);
	s->calls++;
	sbuf_init(&body, AGENT_HTTP_MAX_ANSWER);
	if (agent_http_soap(s->http, url, action, sbuf_str(req), req->sb_len,
		&status, &body, msg, sizeof(msg)) < 0) {
		sbuf_release(&body);
		return fail(s, AGENT_ERR_NET, "%s", msg);
	}
	rc = agent_msg_read(sbuf_str(&body), body.sb_len, status, op, ns, a,
	    s->msg, sizeof(s->msg));
	sbuf_release(&body);
	if (rc == AGENT_ERR_FAULT)
		snprintf(s->fault, sizeof(s->fault), "%s", a->fault);
	return rc;
}

/* Writes with WRITE_RC (a writer's result) and calls; one request. */
static int
send_msg(struct agent_session *s, int write_rc, struct sbuf *req,
    const char *url, const char *ns, const char *op, struct agent_answer *a)
{
	int rc;

	if (write_rc < 0) {
		sbuf_release(req);
		return fail(s, AGENT_ERR_LOCAL, "%s: cannot write the request",
		    op);
	}
	rc = call(s, url, ns, op, req, a);
	sbuf_release(req);
	return rc;
}

/* The cookie of an answer into the session and the state. */
static int
take_cookie(struct agent_session *s, const struct agent_answer *a,
    const struct soap_elem *c)
{
	struct wsd_err err;

	if (agent_msg_take_cookie(a, c, &s->ck) != AGENT_OK)
		return fail(s, AGENT_ERR_PROTO,
		    "answer without a usable cookie");
	s->have_cookie = true;
	if (agent_state_set_cookie(s->st, s->ck.expiration, s->ck.data,
		&err) < 0)
		return fail(s, AGENT_ERR_LOCAL, "state: %s", err.what);
	return AGENT_OK;
}

/* -------------------------------------------------------- the session */

static int
get_config(struct agent_session *s)
{
	struct agent_answer a;
	struct wsd_err err;
	struct sbuf req;
	int rc;

	agent_answer_init(&a);
	sbuf_init(&req, AGENT_REQUEST_MAX);
	rc = send_msg(s, agent_msg_get_config(&req), &req, s->client_url,
	    NS_CLIENT, "GetConfig", &a);
	if (rc == AGENT_OK) {
		if (agent_msg_str(&a, a.result, "LastChange",
			s->id.last_change, sizeof(s->id.last_change)) < 0)
			rc = fail(s, AGENT_ERR_PROTO,
			    "GetConfig: no LastChange");
		else if (agent_state_set_config(s->st, s->cf->wu_server,
			     s->id.last_change, &err) < 0)
			rc = fail(s, AGENT_ERR_LOCAL, "state: %s", err.what);
	}
	agent_answer_release(&a);
	return rc;
}

static int
get_auth_cookie(struct agent_session *s, char *auth, size_t auth_size)
{
	struct agent_answer a;
	struct sbuf req;
	int rc;

	agent_answer_init(&a);
	sbuf_init(&req, AGENT_REQUEST_MAX);
	rc = send_msg(s,
	    agent_msg_get_auth_cookie(&req, s->id.computer_id,
		s->cf->target_group_enabled ? s->cf->target_group : NULL,
		s->dns_name),
	    &req, s->auth_url, NS_AUTH, "GetAuthorizationCookie", &a);
	if (rc == AGENT_OK &&
	    agent_msg_str(&a, a.result, "CookieData", auth, auth_size) < 0)
		rc = fail(s, AGENT_ERR_PROTO,
		    "GetAuthorizationCookie: no CookieData");
	agent_answer_release(&a);
	return rc;
}

static int
get_cookie(struct agent_session *s, const char *auth)
{
	struct agent_answer a;
	struct sbuf req;
	int rc;

	agent_answer_init(&a);
	sbuf_init(&req, AGENT_REQUEST_MAX);
	rc = send_msg(s,
	    agent_msg_get_cookie(&req, auth, s->have_cookie ? &s->ck : NULL,
		s->id.last_change),
	    &req, s->client_url, NS_CLIENT, "GetCookie", &a);
	if (rc == AGENT_OK)
		rc = take_cookie(s, &a, a.result);
	agent_answer_release(&a);
	return rc;
}

static int
register_computer(struct agent_session *s)
{
	struct agent_sysinfo si;
	struct agent_answer a;
	struct wsd_err err;
	struct sbuf req;
	int rc;

	agent_sysinfo_read(&si);
	agent_answer_init(&a);
	sbuf_init(&req, AGENT_REQUEST_MAX);
	rc = send_msg(s, agent_msg_register(&req, &s->ck, s->dns_name, &si),
	    &req, s->client_url, NS_CLIENT, "RegisterComputer", &a);
	agent_answer_release(&a);
	if (rc == AGENT_OK) {
		s->id.registered = true;
		if (agent_state_set_registered(s->st, true, &err) < 0)
			rc = fail(s, AGENT_ERR_LOCAL, "state: %s", err.what);
	}
	return rc;
}

/* A fresh cookie: GetAuthorizationCookie then GetCookie, once more
 * after GetConfig when the server refuses the old cookie or says its
 * configuration changed. */
static int
new_cookie(struct agent_session *s)
{
	char auth[AGENT_COOKIE_MAX];
	int rc = AGENT_ERR_FAULT;

	for (int tries = 0; tries < 2; tries++) {
		if ((rc = get_auth_cookie(s, auth, sizeof(auth))) != AGENT_OK)
			return rc;
		rc = get_cookie(s, auth);
		if (rc == AGENT_ERR_FAULT &&
		    (strcmp(s->fault, "ConfigChanged") == 0 ||
			strcmp(s->fault, "InvalidCookie") == 0 ||
			strcmp(s->fault, "CookieExpired") == 0 ||
			strcmp(s->fault, "ServerChanged") == 0)) {
			s->have_cookie = false;
			if ((rc = get_config(s)) != AGENT_OK)
				return rc;
			continue;
		}
		return rc;
	}
	return rc;
}

/* The cookie's Expiration is still ahead (both are xs:dateTime in UTC
 * with a Z, so they compare as strings up to the seconds). */
static bool
cookie_fresh(const struct agent_session *s)
{
	char now[32];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S", &tm);
	return s->have_cookie && strlen(s->ck.expiration) >= 19 &&
	    strncmp(s->ck.expiration, now, 19) > 0;
}

int
agent_session_start(struct agent_session *s)
{
	int rc;

	/* As Windows does (flow/000001): a cookie that has not expired is
	 * used as it is; a fault on it starts over (recover()). */
	if (cookie_fresh(s) && s->id.registered &&
	    s->id.last_change[0] != '\0')
		return AGENT_OK;
	if ((rc = get_config(s)) != AGENT_OK ||
	    (rc = new_cookie(s)) != AGENT_OK)
		return rc;
	if (!s->id.registered && (rc = register_computer(s)) != AGENT_OK)
		return rc;
	return AGENT_OK;
}

/* After a cookie call failed with a fault: put things right so that a
 * retry can succeed (AGENT_OK), or give up. */
static int
recover(struct agent_session *s)
{
	struct wsd_err err;
	int rc;

	if (strcmp(s->fault, "InvalidCookie") == 0 ||
	    strcmp(s->fault, "CookieExpired") == 0)
		return new_cookie(s);
	if (strcmp(s->fault, "ConfigChanged") == 0) {
		if ((rc = get_config(s)) != AGENT_OK)
			return rc;
		return new_cookie(s);
	}
	if (strcmp(s->fault, "RegistrationRequired") == 0)
		return register_computer(s);
	if (strcmp(s->fault, "ServerChanged") == 0) {
		/* Another server, or its database was reset: nothing we
		 * cached is valid. */
		if (agent_state_forget_cache(s->st, &err) < 0)
			return fail(s, AGENT_ERR_LOCAL, "state: %s", err.what);
		s->have_cookie = false;
		s->id.registered = false;
		return agent_session_start(s);
	}
	return AGENT_ERR_FAULT;
}

/* Writes a request after the session's cookie. */
typedef int build_fn(struct agent_session *, struct soap_writer *, void *);

/* A cookie-bearing call, BUILD writing the body after the cookie;
 * retried after recovering from a cookie fault, at most twice (expired,
 * then the configuration changed). A holds the answer on AGENT_OK. */
static int
cookie_call(struct agent_session *s, const char *url, const char *ns,
    const char *op, build_fn *build, void *arg, struct agent_answer *a)
{
	int rc = AGENT_ERR_FAULT;

	for (int tries = 0; tries < 3; tries++) {
		struct soap_writer w;
		struct sbuf req;
		int wrc;

		sbuf_init(&req, AGENT_REQUEST_MAX);
		if ((wrc = agent_msg_begin(&w, &req, op, ns)) == 0 &&
		    (wrc = agent_msg_cookie(&w, "cookie", &s->ck)) == 0 &&
		    (wrc = build(s, &w, arg)) == 0)
			wrc = agent_msg_end(&w, op);
		rc = send_msg(s, wrc, &req, url, ns, op, a);
		if (rc != AGENT_ERR_FAULT || tries == 2)
			return rc;
		if ((rc = recover(s)) != AGENT_OK) {
			if (rc == AGENT_ERR_FAULT)
				snprintf(s->msg, sizeof(s->msg),
				    "%s: fault %s", op,
				    s->fault[0] ? s->fault :
						  "without ErrorCode");
			return rc;
		}
	}
	return rc;
}

/* ---------------------------------------------------------- SyncUpdates */

struct sync_req {
	int32_t *installed, *other;
	size_t n_installed, n_other;
};

static int
build_sync_params(struct agent_session *s, struct soap_writer *w, void *arg)
{
	const struct sync_req *q = arg;

	(void)s;
	return agent_msg_sync_params(w, q->installed, q->n_installed,
	    q->other, q->n_other);
}

static int
build_driver_params(struct agent_session *s, struct soap_writer *w,
    void *arg)
{
	const struct sync_req *q = arg;

	(void)s;
	return agent_msg_driver_params(w, q->installed, q->n_installed);
}

/* The one driver pass Windows makes after the software pass (WUSP.md
 * 4.1 item 3), so that the call order is the Windows agent's; with no
 * devices nothing can match, and what comes back only renews the
 * cookie. */
static int
driver_pass(struct agent_session *s, struct sync_req *q)
{
	struct agent_sync_visitor v = { NULL, NULL, NULL, NULL };
	struct agent_answer a;
	struct wsd_err err;
	bool truncated;
	int rc;

	agent_answer_init(&a);
	rc = cookie_call(s, s->client_url, NS_CLIENT, "SyncUpdates",
	    build_driver_params, q, &a);
	if (rc == AGENT_OK &&
	    (rc = agent_msg_sync_page(&a, &v, &truncated, &s->ck, s->msg,
		 sizeof(s->msg))) == AGENT_OK &&
	    agent_state_set_cookie(s->st, s->ck.expiration, s->ck.data,
		&err) < 0)
		rc = fail(s, AGENT_ERR_LOCAL, "state: %s", err.what);
	agent_answer_release(&a);
	return rc;
}

struct cache_walk {
	struct sync_req *q;
	bool (*installed_nonleaf)(void *, const struct agent_revision *);
	void *arg;
};

static int
collect(void *arg, const struct agent_revision *r)
{
	struct cache_walk *c = arg;
	struct sync_req *q = c->q;

	if (q->n_installed + q->n_other >= SYNC_MAX_IDS)
		return 1;
	/* WS2025 refuses more than 400 installed non-leaf ids (WUSP.md 4.2
	 * item 14); Windows never sends that many. */
	if (!r->is_leaf && q->n_installed < 400 &&
	    c->installed_nonleaf(c->arg, r))
		q->installed[q->n_installed++] = r->revision_id;
	else
		q->other[q->n_other++] = r->revision_id;
	return 0;
}

struct page_sink {
	struct agent_session *s;
	struct agent_sync_result res;
	struct wsd_err err;
};

static int
on_new(void *arg, const struct agent_update_info *u)
{
	struct page_sink *k = arg;
	struct fragment_core_info ci;
	struct agent_revision r;

	if (fragment_parse_core(u->xml, u->xml_len, &ci, &k->err) < 0)
		return fail(k->s, AGENT_ERR_PROTO,
		    "SyncUpdates: bad core fragment of %d: %s", u->revision_id,
		    k->err.what);
	memset(&r, 0, sizeof(r));
	r.revision_id = u->revision_id;
	memcpy(r.update_id, ci.update_id, sizeof(r.update_id));
	r.revision_number = (int32_t)ci.revision_number;
	snprintf(r.update_type, sizeof(r.update_type), "%s",
	    fragment_update_type_name(ci.type));
	fragment_core_info_release(&ci);
	r.is_leaf = u->is_leaf;
	snprintf(r.action, sizeof(r.action), "%s", u->action);
	r.deployment_id = u->deployment_id;
	snprintf(r.deadline, sizeof(r.deadline), "%s", u->deadline);
	r.xml_core = u->xml;
	r.xml_core_len = u->xml_len;
	if (agent_state_put_revision(k->s->st, &r, &k->err) < 0)
		return fail(k->s, AGENT_ERR_LOCAL, "state: %s", k->err.what);
	k->res.n_new++;
	if (!u->is_leaf)
		k->res.new_non_leaf = true;
	return 0;
}

static int
on_changed(void *arg, const struct agent_update_info *u)
{
	struct page_sink *k = arg;

	if (agent_state_set_deployment(k->s->st, u->revision_id, u->action,
		u->deployment_id, u->deadline, u->is_leaf, &k->err) < 0)
		return fail(k->s, AGENT_ERR_LOCAL, "state: %s", k->err.what);
	k->res.n_changed++;
	return 0;
}

static int
on_gone(void *arg, int32_t id)
{
	struct page_sink *k = arg;

	if (agent_state_drop_revision(k->s->st, id, &k->err) < 0)
		return fail(k->s, AGENT_ERR_LOCAL, "state: %s", k->err.what);
	k->res.n_out_of_scope++;
	return 0;
}

/* One answered page into the state, in one transaction. */
static int
take_page(struct agent_session *s, const struct agent_answer *a,
    struct agent_sync_result *res)
{
	struct page_sink k = { .s = s };
	struct agent_sync_visitor v = { on_new, on_changed, on_gone, &k };
	struct wsd_err err;
	int rc;

	if (agent_state_begin(s->st, &err) < 0)
		return fail(s, AGENT_ERR_LOCAL, "state: %s", err.what);
	rc = agent_msg_sync_page(a, &v, &k.res.truncated, &s->ck, s->msg,
	    sizeof(s->msg));
	if (rc == AGENT_OK &&
	    agent_state_set_cookie(s->st, s->ck.expiration, s->ck.data,
		&err) < 0)
		rc = fail(s, AGENT_ERR_LOCAL, "state: %s", err.what);
	if (rc != AGENT_OK) {
		agent_state_rollback(s->st);
		return rc;
	}
	if (agent_state_commit(s->st, &err) < 0)
		return fail(s, AGENT_ERR_LOCAL, "state: %s", err.what);
	*res = k.res;
	return AGENT_OK;
}

int
agent_sync_software(struct agent_session *s,
    bool (*installed_nonleaf)(void *, const struct agent_revision *),
    void *arg, unsigned max_pages, size_t *n_pages)
{
	struct sync_req q;
	struct wsd_err err;
	int rc = AGENT_OK;

	*n_pages = 0;
	memset(&q, 0, sizeof(q));
	q.installed = calloc(SYNC_MAX_IDS, sizeof(*q.installed));
	q.other = calloc(SYNC_MAX_IDS, sizeof(*q.other));
	if (q.installed == NULL || q.other == NULL) {
		free(q.installed);
		free(q.other);
		return fail(s, AGENT_ERR_LOCAL, "out of memory");
	}
	for (unsigned page = 0; page < max_pages; page++) {
		struct cache_walk c = { &q, installed_nonleaf, arg };
		struct agent_sync_result res = { 0 };
		struct agent_answer a;

		q.n_installed = q.n_other = 0;
		if (agent_state_revisions(s->st, collect, &c, &err) < 0) {
			rc = fail(s, AGENT_ERR_LOCAL, "state: %s", err.what);
			break;
		}
		agent_answer_init(&a);
		rc = cookie_call(s, s->client_url, NS_CLIENT, "SyncUpdates",
		    build_sync_params, &q, &a);
		if (rc == AGENT_OK)
			rc = take_page(s, &a, &res);
		agent_answer_release(&a);
		if (rc != AGENT_OK)
			break;
		(*n_pages)++;
		/* WUSP.md 4.2 item 9: go on while the server held some
		 * back or a new non-leaf revision may unlock more. */
		if (!res.truncated && !res.new_non_leaf) {
			q.n_installed = q.n_other = 0;
			if (agent_state_revisions(s->st, collect, &c, &err) <
			    0) {
				rc = fail(s, AGENT_ERR_LOCAL, "state: %s",
				    err.what);
				break;
			}
			if ((rc = driver_pass(s, &q)) == AGENT_OK)
				(*n_pages)++;
			break;
		}
		if (page + 1 == max_pages)
			rc = fail(s, AGENT_ERR_PROTO,
			    "SyncUpdates: no end after %u round trips",
			    max_pages);
	}
	free(q.installed);
	free(q.other);
	return rc;
}

/* ------------------------------------------------- extended metadata */

struct ext_req {
	const int32_t *ids;
	size_t n;
};

static int
build_ext(struct agent_session *s, struct soap_writer *w, void *arg)
{
	const struct ext_req *q = arg;
	int rc;

	(void)s;
	if ((rc = agent_msg_ids(w, "revisionIDs", q->ids, q->n)) < 0 ||
	    (rc = soap_emit_open(w, "infoTypes")) < 0 ||
	    (rc = soap_emit_str(w, "XmlUpdateFragmentType", "Extended")) < 0 ||
	    (rc = soap_emit_str(w, "XmlUpdateFragmentType",
		 "LocalizedProperties")) < 0 ||
	    (rc = soap_emit_close(w, "infoTypes")) < 0 ||
	    (rc = soap_emit_open(w, "locales")) < 0 ||
	    (rc = soap_emit_str(w, "string", "en-US")) < 0 ||
	    (rc = soap_emit_str(w, "string", "en")) < 0)
		return rc;
	return soap_emit_close(w, "locales");
}

/* FileLocations: FileDigest (base64 SHA-1) -> Url on every file. */
static int
take_locations(struct agent_session *s, const struct agent_answer *a,
    const struct soap_elem *list)
{
	struct wsd_err err;

	for (const struct soap_elem *e = soap_elem_first(list); e;
	     e = soap_elem_next(e)) {
		unsigned char sha1[20];
		char url[1024];
		size_t n;

		if (soap_get_b64(soap_child(&a->doc, e, "FileDigest"), sha1,
			sizeof(sha1), &n, &err) < 0 ||
		    n != 20 || agent_msg_str(a, e, "Url", url, sizeof(url)) < 0)
			return fail(s, AGENT_ERR_PROTO,
			    "malformed FileLocation");
		if (agent_state_set_file_url(s->st, sha1, url, &err) < 0)
			return fail(s, AGENT_ERR_LOCAL, "state: %s", err.what);
	}
	return AGENT_OK;
}

static int
take_extended(struct agent_session *s, int32_t id, const struct sv *xml)
{
	struct fragment_extended_info ei;
	struct wsd_err err;
	int rc = AGENT_OK;

	if (fragment_parse_extended(xml->p, xml->n, &ei, &err) < 0)
		return fail(s, AGENT_ERR_PROTO,
		    "GetExtendedUpdateInfo: bad extended fragment: %s",
		    err.what);
	if (agent_state_set_extended(s->st, id, xml->p, xml->n, NULL, &err) <
	    0)
		rc = fail(s, AGENT_ERR_LOCAL, "state: %s", err.what);
	for (size_t i = 0; rc == AGENT_OK && i < ei.n_files; i++) {
		struct agent_file_row f;

		memset(&f, 0, sizeof(f));
		f.revision_id = id;
		snprintf(f.name, sizeof(f.name), "%s", ei.files[i].name);
		f.size = ei.files[i].size;
		memcpy(f.sha1, ei.files[i].sha1, 20);
		memcpy(f.sha256, ei.files[i].sha256, 32);
		f.has_sha256 = ei.files[i].has_sha256;
		if (agent_state_put_file(s->st, &f, &err) < 0)
			rc = fail(s, AGENT_ERR_LOCAL, "state: %s", err.what);
	}
	fragment_extended_info_release(&ei);
	return rc;
}

static int
take_ext_page(struct agent_session *s, const struct agent_answer *a)
{
	const struct soap_doc *d = &a->doc;
	struct wsd_err err;
	int rc;

	for (const struct soap_elem *u = soap_elem_first(soap_child(d,
		 a->result, "Updates"));
	     u; u = soap_elem_next(u)) {
		int32_t id;
		struct sv xml;

		if (soap_get_i32(soap_child(d, u, "ID"), &id, &err) < 0 ||
		    soap_get_str(soap_child(d, u, "Xml"),
			WSD_MAX_FRAGMENT_BYTES, &xml, &err) < 0)
			return fail(s, AGENT_ERR_PROTO,
			    "GetExtendedUpdateInfo: malformed Update");
		if (xml.n >= 19 &&
		    memcmp(xml.p, "<ExtendedProperties", 19) == 0) {
			if ((rc = take_extended(s, id, &xml)) != AGENT_OK)
				return rc;
		} else if (xml.n >= 20 &&
		    memcmp(xml.p, "<LocalizedProperties", 20) == 0) {
			struct fragment_localized_info li;

			if (fragment_parse_localized(xml.p, xml.n, &li,
				&err) < 0)
				return fail(s, AGENT_ERR_PROTO,
				    "bad localized fragment: %s", err.what);
			rc = agent_state_set_extended(s->st, id, NULL, 0,
			    li.title, &err);
			fragment_localized_info_release(&li);
			if (rc < 0)
				return fail(s, AGENT_ERR_LOCAL, "state: %s",
				    err.what);
		}
	}
	return take_locations(s, a, soap_child(d, a->result,
					"FileLocations"));
}

int
agent_ext_info(struct agent_session *s, const int32_t *ids, size_t n)
{
	struct wsd_err err;
	int rc;

	for (size_t off = 0; off < n; off += EXT_BATCH) {
		struct ext_req q = { ids + off,
			n - off < EXT_BATCH ? n - off : EXT_BATCH };
		struct agent_answer a;

		agent_answer_init(&a);
		rc = cookie_call(s, s->client_url, NS_CLIENT,
		    "GetExtendedUpdateInfo", build_ext, &q, &a);
		if (rc == AGENT_OK) {
			if (agent_state_begin(s->st, &err) < 0)
				rc = fail(s, AGENT_ERR_LOCAL, "state: %s",
				    err.what);
			else if ((rc = take_ext_page(s, &a)) != AGENT_OK)
				agent_state_rollback(s->st);
			else if (agent_state_commit(s->st, &err) < 0)
				rc = fail(s, AGENT_ERR_LOCAL, "state: %s",
				    err.what);
		}
		agent_answer_release(&a);
		if (rc != AGENT_OK)
			return rc;
	}
	return AGENT_OK;
}

/* ------------------------------------------------------------ reports */

struct report_req {
	struct agent_session *s;
	struct agent_sysinfo si;
	struct sbuf events; /* the eventBatch children, ready */
	int64_t last;       /* queue rows up to here are sent or dropped */
	size_t n, dropped;
	bool broken;        /* events lost its memory: send nothing */
};

/* wsusd refuses a batch with an event whose strings pass 64 KiB
 * (SECURITY.md S2), and so would one poisoned event hold the queue up
 * for ever: such an event is dropped, with a warning. */
#define AGENT_EVENT_TEXT_MAX (60 * 1024)
/* One event's XML; a batch stops before it would pass the request cap. */
#define AGENT_EVENT_XML_MAX (256 * 1024)

static int
emit_lines(struct soap_writer *w, const char *name, const char *lines)
{
	int rc;

	if ((rc = soap_emit_open(w, name)) < 0)
		return rc;
	for (const char *p = lines; *p != '\0';) {
		const char *e = strchr(p, '\n');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);

		if ((rc = soap_emit_strn(w, "string", p, len)) < 0)
			return rc;
		p += len + (e != NULL);
	}
	return soap_emit_close(w, name);
}

/* One ReportingEvent as flow/000016 has them (WUSP.md 3.11). */
static int
write_event(struct report_req *q, struct sbuf *sb, const struct agent_event *e)
{
	struct agent_sysinfo *si = &q->si;
	struct soap_writer w = { .sw_sb = sb, .sw_style = SOAP_STYLE_CLIENT };

	if (soap_emit_open(&w, "ReportingEvent") < 0 ||
	    soap_emit_open(&w, "BasicData") < 0 ||
	    soap_emit_open(&w, "TargetID") < 0 ||
	    soap_emit_str(&w, "Sid", q->s->id.computer_id) < 0 ||
	    soap_emit_close(&w, "TargetID") < 0 ||
	    soap_emit_i32(&w, "SequenceNumber", 0) < 0 ||
	    soap_emit_str(&w, "TimeAtTarget", e->time) < 0 ||
	    soap_emit_str(&w, "EventInstanceID", e->instance_id) < 0 ||
	    soap_emit_i32(&w, "NamespaceID", 1) < 0 ||
	    soap_emit_i32(&w, "EventID", e->event_id) < 0 ||
	    soap_emit_i32(&w, "SourceID", 101) < 0 ||
	    soap_emit_open(&w, "UpdateID") < 0 ||
	    soap_emit_str(&w, "UpdateID", e->update_id) < 0 ||
	    soap_emit_i32(&w, "RevisionNumber", e->revision_number) < 0 ||
	    soap_emit_close(&w, "UpdateID") < 0 ||
	    soap_emit_i32(&w, "Win32HResult", e->hresult) < 0 ||
	    soap_emit_str(&w, "AppName", "wuagent") < 0 ||
	    soap_emit_close(&w, "BasicData") < 0 ||
	    soap_emit_open(&w, "ExtendedData") < 0 ||
	    emit_lines(&w, "ReplacementStrings", e->replacement) < 0 ||
	    emit_lines(&w, "MiscData", e->misc) < 0 ||
	    soap_emit_str(&w, "ComputerBrand", si->manufacturer) < 0 ||
	    soap_emit_str(&w, "ComputerModel", si->model) < 0 ||
	    soap_emit_str(&w, "BiosRevision", si->bios_version) < 0 ||
	    soap_emit_str(&w, "ProcessorArchitecture", si->report_arch) < 0 ||
	    soap_emit_open(&w, "OSVersion") < 0 ||
	    soap_emit_i32(&w, "Major", si->os_major) < 0 ||
	    soap_emit_i32(&w, "Minor", si->os_minor) < 0 ||
	    soap_emit_i32(&w, "Build", si->os_build) < 0 ||
	    soap_emit_i32(&w, "Revision", 0) < 0 ||
	    soap_emit_i32(&w, "ServicePackMajor", 0) < 0 ||
	    soap_emit_i32(&w, "ServicePackMinor", 0) < 0 ||
	    soap_emit_close(&w, "OSVersion") < 0 ||
	    soap_emit_i32(&w, "OSLocaleID", si->os_locale_id) < 0 ||
	    soap_emit_close(&w, "ExtendedData") < 0 ||
	    soap_emit_empty(&w, "PrivateData") < 0 ||
	    soap_emit_close(&w, "ReportingEvent") < 0)
		return -1;
	return 0;
}

/* Adds event E to the batch: written on its own first, so an event that
 * does not fit leaves the batch as it was (sbuf releases itself when
 * full). */
static int
emit_event(void *arg, const struct agent_event *e)
{
	struct report_req *q = arg;
	struct sbuf one;

	if (strlen(e->replacement) + strlen(e->misc) > AGENT_EVENT_TEXT_MAX) {
		log_warnx("event %d (%s) not reported: its strings pass %d "
			  "bytes",
		    e->event_id, e->instance_id, AGENT_EVENT_TEXT_MAX);
		q->last = e->id;
		q->dropped++;
		return 0;
	}
	sbuf_init(&one, AGENT_EVENT_XML_MAX);
	if (write_event(q, &one, e) < 0) {
		sbuf_release(&one);
		log_warnx("event %d (%s) not reported: cannot be written",
		    e->event_id, e->instance_id);
		q->last = e->id;
		q->dropped++;
		return 0;
	}
	if (q->events.sb_len + one.sb_len > AGENT_REQUEST_MAX - 64 * 1024) {
		/* The next batch takes it. */
		sbuf_release(&one);
		return 1;
	}
	if (sbuf_add(&q->events, sbuf_str(&one), one.sb_len) < 0) {
		sbuf_release(&one);
		q->broken = true;
		return 1;
	}
	sbuf_release(&one);
	q->last = e->id;
	q->n++;
	return 0;
}

static int
build_report(struct agent_session *s, struct soap_writer *w, void *arg)
{
	const struct report_req *q = arg;
	struct soap_datetime now;
	struct timespec ts;
	int rc;

	(void)s;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = soap_datetime_from_unix(ts.tv_sec,
	    (uint32_t)(ts.tv_nsec / 1000000) * 1000000);
	if ((rc = soap_emit_datetime(w, "clientTime", &now)) < 0 ||
	    (rc = soap_emit_open(w, "eventBatch")) < 0 ||
	    (rc = soap_emit_raw(w, sbuf_str(&q->events), q->events.sb_len)) <
		0)
		return rc;
	return soap_emit_close(w, "eventBatch");
}

int
agent_report_events(struct agent_session *s, size_t *sent)
{
	struct report_req q;
	struct wsd_err err;
	int rc = AGENT_OK;

	*sent = 0;
	memset(&q, 0, sizeof(q));
	q.s = s;
	agent_sysinfo_read(&q.si);
	for (;;) {
		struct agent_answer a;
		bool ok;

		sbuf_init(&q.events, AGENT_REQUEST_MAX);
		q.n = q.dropped = 0;
		q.broken = false;
		if (agent_state_events(s->st, REPORT_BATCH, emit_event, &q,
			&err) < 0 ||
		    q.broken) {
			if (q.broken)
				err.what = "out of memory";
			sbuf_release(&q.events);
			return fail(s, AGENT_ERR_LOCAL, "state: %s", err.what);
		}
		if (q.n == 0) {
			sbuf_release(&q.events);
			if (q.dropped == 0)
				return AGENT_OK;
			if (agent_state_events_done(s->st, q.last, &err) < 0)
				return fail(s, AGENT_ERR_LOCAL, "state: %s",
				    err.what);
			continue;
		}
		agent_answer_init(&a);
		rc = cookie_call(s, s->report_url, NS_REPORT,
		    "ReportEventBatch", build_report, &q, &a);
		sbuf_release(&q.events);
		if (rc == AGENT_OK &&
		    (soap_get_bool(a.result, &ok, &err) < 0 || !ok))
			rc = fail(s, AGENT_ERR_PROTO,
			    "ReportEventBatch: the server did not accept the "
			    "events");
		agent_answer_release(&a);
		if (rc != AGENT_OK)
			return rc;
		if (agent_state_events_done(s->st, q.last, &err) < 0)
			return fail(s, AGENT_ERR_LOCAL, "state: %s", err.what);
		*sent += q.n;
	}
}
