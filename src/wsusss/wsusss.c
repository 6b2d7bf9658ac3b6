#include "wsusss/wsusss.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/sbuf.h"
#include "common/vroot.h"
#include "http/http_req.h"
#include "wsusss/wsusss_int.h"

/* The largest answer of the operations served: GetConfigData ~1.3 KiB. */
#define WSUSSS_MAX_RESPONSE (64 * 1024)

static const struct sss_op {
	enum vroot vroot;
	const char *ns;
	const char *name;
	sss_op_fn fn;
} ops[] = {
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetAuthConfig", sss_get_auth_config },
	{ VROOT_DSSAUTH, WSUSSS_NS_DSSAUTH, "GetAuthorizationCookie",
	    sss_get_authorization_cookie },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetCookie", sss_get_cookie },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetConfigData", sss_get_config_data },
	{ VROOT_SERVERSYNC, WSUSSS_NS_MONITORABLE, "Ping", sss_ping },
	{ VROOT_DSSAUTH, WSUSSS_NS_MONITORABLE, "Ping", sss_ping },
};

/*
 * Operations of the WSUSSS WSDLs (schema/ORDER.md, and the two driver
 * operations of MU's live WSDL) not served yet: handed back to the
 * caller's "not implemented" fault, which a DSS takes as "stop, retry
 * later", never a fake success.
 */
static const struct sss_pending {
	enum vroot vroot;
	const char *ns;
	const char *name;
} pending[] = {
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetRevisionIdList" },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetUpdateData" },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetUpdateDecryptionData" },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetDeployments" },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "DownloadFiles" },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetRelatedRevisionsForUpdates" },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetDriverIdList" },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetDriverSetData" },
};

/*
 * Sends BODY as the SOAP answer. Always identity: a Windows DSS lists
 * xpress in Accept-Encoding, but the USS only SHOULD compress
 * (WSUSSS.md 2), and these answers are under a kilobyte.
 */
static int
reply(const struct handler_ctx *hx, struct http_resp *rs, int status,
    const struct sbuf *body)
{
	int rc;

	if ((rc = http_resp_start(rs, status, hx->hx_date)) < 0 ||
	    (rc = http_resp_header(rs, "Cache-Control: private, max-age=0")) <
		0 ||
	    (rc = http_resp_header(rs,
		 "Content-Type: text/xml; charset=utf-8")) < 0 ||
	    (rc = http_resp_end_head(rs, body->sb_len)) < 0 ||
	    (rc = http_resp_add_mem(rs, body->sb_buf, body->sb_len)) < 0)
		return rc;
	return 0;
}

static int
fault(const struct handler_ctx *hx, struct http_resp *rs, enum soap_errc code,
    const char *message, const char *action)
{
	struct sbuf sb;
	int rc;

	sbuf_init(&sb, 64 * 1024);
	if ((rc = soap_fault_build(&sb, SOAP_STYLE_ASMX, code, message, action,
		 NULL)) < 0)
		return rc;
	rc = reply(hx, rs, soap_errc_http_status(code), &sb);
	sbuf_release(&sb);
	return rc;
}

static bool
is_pending(enum vroot v, const struct soap_doc *doc)
{
	for (size_t i = 0; i < sizeof(pending) / sizeof(pending[0]); i++)
		if (pending[i].vroot == v &&
		    strcmp(pending[i].name, doc->sd_op_name) == 0 &&
		    strcmp(pending[i].ns, doc->sd_op_ns) == 0)
			return true;
	return false;
}

int
wsusss_handle(const struct handler_ctx *hx, struct http_resp *rs)
{
	enum vroot v = hx->hx_route->rt_vroot;
	const struct http_header *sa;
	const struct sss_op *op = NULL;
	struct soap_doc doc;
	struct sss_ctx c;
	struct wsd_err err;
	struct sbuf sb;
	enum soap_errc ec;
	char action[512] = "";
	int rc;

	if ((sa = http_req_header(hx->hx_req, "SOAPAction")) != NULL &&
	    sa->value.n < sizeof(action))
		snprintf(action, sizeof(action), "%.*s", (int)sa->value.n,
		    sa->value.p);
	soap_doc_init(&doc);
	if (soap_parse(hx->hx_body ? hx->hx_body : "", hx->hx_body_len, &doc,
		&err) < 0) {
		ec = doc.sd_fault != SOAP_ERRC_NONE
		    ? doc.sd_fault
		    : SOAP_ERRC_CLIENT_MALFORMED;
		log_debug("%s: SOAP request refused: %s", hx->hx_peer,
		    err.what);
		soap_doc_release(&doc);
		return fault(hx, rs, ec, err.what, action);
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].vroot == v &&
		    strcmp(ops[i].name, doc.sd_op_name) == 0 &&
		    strcmp(ops[i].ns, doc.sd_op_ns) == 0)
			op = &ops[i];
	if (op == NULL) {
		bool later = is_pending(v, &doc);

		soap_doc_release(&doc);
		if (later)
			return WSUSSS_NOT_SERVED;
		return fault(hx, rs, SOAP_ERRC_UNKNOWN_OPERATION,
		    action[0] ? action : "(none)", action);
	}

	memset(&c, 0, sizeof(c));
	c.sc_hx = hx;
	c.sc_keys = &hx->hx_rt->rt_cookies;
	c.sc_doc = &doc;
	c.sc_now = time(NULL);
	if (*hx->hx_store == NULL &&
	    store_open(hx->hx_store, hx->hx_rt->rt_cf->cf_datadir, &err) < 0) {
		log_warnx("cannot open the database: %s", err.what);
		soap_doc_release(&doc);
		return fault(hx, rs, SOAP_ERRC_INTERNAL_SERVER_ERROR,
		    "database unavailable", action);
	}
	c.sc_store = *hx->hx_store;
	{
		/* Fixed for an open connection: once per worker's connection,
		 * not once per request (as wusp.c). */
		static _Thread_local const struct store *cached_for;
		static _Thread_local uint64_t cached;

		if (cached_for != c.sc_store) {
			cached = store_instance_id(c.sc_store);
			cached_for = c.sc_store;
		}
		c.sc_instance = cached;
	}
	sbuf_init(&sb, WSUSSS_MAX_RESPONSE);
	if (soap_emit_begin(&c.sc_w, &sb, SOAP_STYLE_ASMX) < 0) {
		soap_doc_release(&doc);
		return WSD_ENOMEM;
	}
	ec = op->fn(&c);
	if (ec == SOAP_ERRC_NONE && soap_emit_end(&c.sc_w) < 0)
		ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
	soap_doc_release(&doc);
	if (ec != SOAP_ERRC_NONE) {
		sbuf_release(&sb);
		log_info("%s: %s: %s fault %s%s%s", hx->hx_peer, vroot_name(v),
		    op->name, soap_errc_name(ec) ? soap_errc_name(ec) : "?",
		    c.sc_message ? ": " : "", c.sc_message ? c.sc_message : "");
		return fault(hx, rs, ec, c.sc_message ? c.sc_message : "",
		    action);
	}
	rc = reply(hx, rs, 200, &sb);
	sbuf_release(&sb);
	return rc;
}

int
sss_last_change(struct sss_ctx *c, struct soap_datetime *out)
{
	struct wsd_err err;
	struct sbuf v;
	struct tm tm;
	int rc;

	sbuf_init(&v, 64);
	memset(&tm, 0, sizeof(tm));
	rc = store_meta_get(c->sc_store, "created", &v, &err);
	if (rc == 0 &&
	    strptime(sbuf_str(&v), "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		rc = WSD_EINVAL;
	sbuf_release(&v);
	if (rc < 0)
		return rc;
	*out = soap_datetime_from_unix((int64_t)timegm(&tm), 0);
	return 0;
}
