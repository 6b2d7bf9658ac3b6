#include "wusp/wusp.h"

#include <stdio.h>
#include <string.h>

#include "common/encode.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "common/strparse.h"
#include "common/xpress.h"
#include "wusp/wusp_int.h"

/* The largest answer before SyncUpdates pages: GetConfig is ~1 KiB. */
#define WUSP_MAX_RESPONSE (8 * 1024 * 1024)

static const struct wusp_op {
	enum vroot vroot;
	const char *ns;
	const char *name;
	wusp_op_fn fn;
	enum soap_style style;
	/* A server-server roll-up operation: behind the ServerSync gate
	 * (handler_rollup_action), never reached around it. */
	bool rollup;
} ops[] = {
	{ VROOT_CLIENT, SOAP_NS_CLIENT, "GetConfig", wusp_get_config,
	    SOAP_STYLE_WCF, false },
	{ VROOT_CLIENT, SOAP_NS_CLIENT, "GetCookie", wusp_get_cookie,
	    SOAP_STYLE_WCF, false },
	{ VROOT_CLIENT, SOAP_NS_CLIENT, "RegisterComputer",
	    wusp_register_computer, SOAP_STYLE_WCF, false },
	{ VROOT_CLIENT, SOAP_NS_CLIENT, "StartCategoryScan",
	    wusp_start_category_scan, SOAP_STYLE_WCF, false },
	{ VROOT_CLIENT, SOAP_NS_CLIENT, "GetExtendedUpdateInfo",
	    wusp_get_extended_update_info, SOAP_STYLE_WCF, false },
	{ VROOT_CLIENT, SOAP_NS_CLIENT, "GetFileLocations",
	    wusp_get_file_locations, SOAP_STYLE_WCF, false },
	{ VROOT_CLIENT, SOAP_NS_CLIENT, "SyncUpdates", wusp_sync_updates,
	    SOAP_STYLE_WCF, false },
	{ VROOT_SIMPLEAUTH, SOAP_NS_SIMPLEAUTH, "GetAuthorizationCookie",
	    wusp_get_auth_cookie, SOAP_STYLE_ASMX, false },
	{ VROOT_REPORTING, SOAP_NS_REPORTING, "ReportEventBatch",
	    wusp_report_event_batch, SOAP_STYLE_ASMX, false },
	{ VROOT_CLIENT, SOAP_NS_CLIENT, "RefreshCache", wusp_refresh_cache,
	    SOAP_STYLE_WCF, false },
	{ VROOT_CLIENT, SOAP_NS_CLIENT, "GetExtendedUpdateInfo2",
	    wusp_get_extended_update_info2, SOAP_STYLE_WCF, false },
	{ VROOT_CLIENT, SOAP_NS_CLIENT, "SyncPrinterCatalog",
	    wusp_sync_printer_catalog, SOAP_STYLE_WCF, false },
	{ VROOT_REPORTING, SOAP_NS_REPORTING, "ReportEventBatch2",
	    wusp_report_event_batch2, SOAP_STYLE_ASMX, false },
	{ VROOT_REPORTING, SOAP_NS_REPORTING, "GetRequiredInventoryType",
	    wusp_get_required_inventory_type, SOAP_STYLE_ASMX, false },
	{ VROOT_REPORTING, SOAP_NS_REPORTING, "ReportInventory",
	    wusp_report_inventory, SOAP_STYLE_ASMX, false },
	/* Server-server rollup (MS-WSUSSS, WSUSSS.md 9; wusp_rollup.c). */
	{ VROOT_REPORTING, SOAP_NS_REPORTING, "GetRollupConfiguration",
	    wusp_get_rollup_configuration, SOAP_STYLE_ASMX, true },
	{ VROOT_REPORTING, SOAP_NS_REPORTING, "RollupDownstreamServers",
	    wusp_rollup_downstream_servers, SOAP_STYLE_ASMX, true },
	{ VROOT_REPORTING, SOAP_NS_REPORTING, "RollupComputers",
	    wusp_rollup_computers, SOAP_STYLE_ASMX, true },
	{ VROOT_REPORTING, SOAP_NS_REPORTING, "GetOutOfSyncComputers",
	    wusp_get_out_of_sync_computers, SOAP_STYLE_ASMX, true },
	{ VROOT_REPORTING, SOAP_NS_REPORTING, "RollupComputerStatus",
	    wusp_rollup_computer_status, SOAP_STYLE_ASMX, true },
};

/* MS-WUSP operations this version does not serve yet: a fault the client
 * retries later, never a fake success. None left; kept for the next. */
static const char *const pending[] = { NULL };

static enum soap_style
style_of(enum vroot v)
{
	return v == VROOT_CLIENT ? SOAP_STYLE_WCF : SOAP_STYLE_ASMX;
}

/* The next SEP-separated element of *S, OWS-trimmed; *S moves past it
 * and its separator. */
static struct sv
next_element(struct sv *s, char sep)
{
	struct sv el = { s->p, 0 };

	while (el.n < s->n && s->p[el.n] != sep)
		el.n++;
	s->p += el.n;
	s->n -= el.n;
	if (s->n > 0) { /* the separator */
		s->p++;
		s->n--;
	}
	return sv_trim_ows(el);
}

/*
 * RFC 9110 12.4.2 qvalue: ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3"0" ] ).
 * True when above zero; a malformed weight counts as zero ("not
 * acceptable"), so a garbled header never gets us to compress.
 */
static bool
qvalue_nonzero(struct sv v)
{
	bool nonzero;

	if (v.n == 0 || (v.p[0] != '0' && v.p[0] != '1'))
		return false;
	nonzero = v.p[0] == '1';
	if (v.n == 1)
		return nonzero;
	if (v.p[1] != '.' || v.n > 5)
		return false;
	for (size_t i = 2; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9' ||
		    (v.p[0] == '1' && v.p[i] != '0'))
			return false;
		nonzero |= v.p[i] != '0';
	}
	return nonzero;
}

/*
 * Whether the request's Accept-Encoding fields (all of them, RFC 9110
 * 5.3) list the xpress coding with a weight above zero and never with
 * q=0. Only the explicit token counts: "*" does not, because a client
 * that sends it has not said it can decode Xpress.
 */
static bool
accepts_xpress(const struct http_req *rq)
{
	bool yes = false, no = false;

	for (unsigned i = 0; i < rq->rq_nheaders; i++) {
		struct sv list = rq->rq_headers[i].value;

		if (!sv_eq_cstr_ci(rq->rq_headers[i].name, "Accept-Encoding"))
			continue;
		while (list.n > 0) {
			struct sv el = next_element(&list, ',');
			bool ok = true;

			if (!sv_eq_cstr_ci(next_element(&el, ';'), "xpress"))
				continue;
			while (el.n > 0) {
				struct sv param = next_element(&el, ';');

				/* Lenient on "q = 0": still a weight of 0. */
				if (sv_eq_cstr_ci(next_element(&param, '='),
					"q"))
					ok = qvalue_nonzero(sv_trim_ows(param));
			}
			yes |= ok;
			no |= !ok;
		}
	}
	return yes && !no;
}

/*
 * Sends BODY as the SOAP answer, Xpress-compressed (MS-WUSP 2.1.1) when
 * the client accepts it, identity otherwise or if compression fails.
 * Faults too: WUA sends Accept-Encoding: xpress on every request and
 * decodes whatever comes back with Content-Encoding: xpress.
 */
static int
reply(const struct handler_ctx *hx, struct http_resp *rs, int status,
    enum soap_style style, struct sbuf *body)
{
	const struct sbuf *out = body;
	struct wsd_err err;
	struct sbuf z;
	int rc;

	sbuf_init(&z, xpress_bound(body->sb_len));
	if (accepts_xpress(hx->hx_req)) {
		if (xpress_encode((const unsigned char *)sbuf_str(body),
			body->sb_len, &z, &err) == 0)
			out = &z;
		else
			log_warnx("%s: %s; answering uncompressed", hx->hx_peer,
			    err.what);
	}
	if ((rc = http_resp_start(rs, status, hx->hx_date)) < 0 ||
	    (rc = http_resp_header(rs, "Cache-Control: %s",
		 style == SOAP_STYLE_WCF ? "private" : "private, max-age=0")) <
		0 ||
	    (rc = http_resp_header(rs,
		 "Content-Type: text/xml; charset=utf-8")) < 0 ||
	    (out == &z &&
		(rc = http_resp_header(rs, "Content-Encoding: xpress")) < 0) ||
	    (rc = http_resp_header(rs, "Vary: Accept-Encoding")) < 0 ||
	    (rc = http_resp_end_head(rs, out->sb_len)) < 0 ||
	    (rc = http_resp_add_mem(rs, out->sb_buf, out->sb_len)) < 0) {
		sbuf_release(&z);
		return rc;
	}
	sbuf_release(&z);
	return 0;
}

static int
fault(const struct handler_ctx *hx, struct http_resp *rs,
    enum soap_style style, enum soap_errc code, const char *message,
    const char *action)
{
	struct sbuf sb;
	int rc;

	sbuf_init(&sb, 64 * 1024);
	if ((rc = soap_fault_build(&sb, style, code, message, action, NULL)) <
	    0)
		return rc;
	rc = reply(hx, rs, soap_errc_http_status(code), style, &sb);
	sbuf_release(&sb);
	return rc;
}

int
wusp_handle(const struct handler_ctx *hx, struct http_resp *rs)
{
	enum vroot v = hx->hx_route->rt_vroot;
	const struct http_header *sa;
	const struct wusp_op *op = NULL;
	struct soap_doc doc;
	struct wusp_ctx c;
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
		ec = doc.sd_fault != SOAP_ERRC_NONE ? doc.sd_fault :
						      SOAP_ERRC_CLIENT_MALFORMED;
		log_debug("%s: SOAP request refused: %s", hx->hx_peer, err.what);
		soap_doc_release(&doc);
		return fault(hx, rs, style_of(v), ec, err.what, action);
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].vroot == v && strcmp(ops[i].name, doc.sd_op_name) ==
			0 && strcmp(ops[i].ns, doc.sd_op_ns) == 0)
			op = &ops[i];
	if (op == NULL) {
		bool later = false;

		for (size_t i = 0; i < sizeof(pending) / sizeof(pending[0]);
		     i++)
			later |= pending[i] != NULL &&
			    strcmp(pending[i], doc.sd_op_name) == 0;
		soap_doc_release(&doc);
		if (later)
			return fault(hx, rs, style_of(v),
			    SOAP_ERRC_INTERNAL_SERVER_ERROR,
			    "operation not implemented in this wsusd version",
			    action);
		return fault(hx, rs, style_of(v), SOAP_ERRC_UNKNOWN_OPERATION,
		    action[0] ? action : "(none)", action);
	}
	/* A roll-up body behind another SOAPAction (or none) did not go
	 * through the gate: refused, unread. */
	if (op->rollup && (hx->hx_gated == NULL || !*hx->hx_gated)) {
		log_warnx("%s: ReportingWebService: %s without its SOAPAction "
			  "refused",
		    hx->hx_peer, op->name);
		soap_doc_release(&doc);
		return fault(hx, rs, style_of(v), SOAP_ERRC_INVALID_PARAMETERS,
		    "SOAPAction must name the roll-up operation", action);
	}

	memset(&c, 0, sizeof(c));
	c.wc_hx = hx;
	c.wc_cf = hx->hx_rt->rt_cf;
	c.wc_keys = &hx->hx_rt->rt_cookies;
	c.wc_doc = &doc;
	c.wc_now = time(NULL);
	if (*hx->hx_store == NULL &&
	    store_open(hx->hx_store, c.wc_cf->cf_datadir, &err) < 0) {
		log_warnx("cannot open the database: %s", err.what);
		soap_doc_release(&doc);
		return fault(hx, rs, op->style, SOAP_ERRC_INTERNAL_SERVER_ERROR,
		    "database unavailable", action);
	}
	c.wc_store = *hx->hx_store;
	{
		/* The database's identity does not change under an open
		 * connection: look it up once per worker's connection, not
		 * once per request. */
		static _Thread_local const struct store *cached_for;
		static _Thread_local uint64_t cached;

		if (cached_for != c.wc_store) {
			cached = store_instance_id(c.wc_store);
			cached_for = c.wc_store;
		}
		c.wc_instance = cached;
	}
	sbuf_init(&sb, WUSP_MAX_RESPONSE);
	if (soap_emit_begin(&c.wc_w, &sb, op->style) < 0) {
		soap_doc_release(&doc);
		return WSD_ENOMEM;
	}
	ec = op->fn(&c);
	if (ec == SOAP_ERRC_NONE && soap_emit_end(&c.wc_w) < 0)
		ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
	soap_doc_release(&doc);
	if (ec != SOAP_ERRC_NONE) {
		sbuf_release(&sb);
		return fault(hx, rs, op->style, ec,
		    c.wc_message ? c.wc_message : "", action);
	}
	rc = reply(hx, rs, 200, op->style, &sb);
	sbuf_release(&sb);
	return rc;
}

int
wusp_last_change(struct wusp_ctx *c, struct soap_datetime *out)
{
	struct wsd_err err;
	struct sbuf v;
	struct tm tm;
	int rc;

	sbuf_init(&v, 64);
	memset(&tm, 0, sizeof(tm));
	rc = store_meta_get(c->wc_store, "created", &v, &err);
	if (rc == 0 && strptime(sbuf_str(&v), "%Y-%m-%dT%H:%M:%SZ", &tm) ==
	    NULL)
		rc = WSD_EINVAL;
	sbuf_release(&v);
	if (rc < 0)
		return rc;
	*out = soap_datetime_from_unix((int64_t)timegm(&tm), 0);
	return 0;
}

uint32_t
wusp_protocol(struct sv v)
{
	uint64_t maj, min;

	if (strparse_u64(&v, 0xffff, &maj) < 0 || strparse_char(&v, '.') < 0 ||
	    strparse_u64(&v, 0xffff, &min) < 0 || v.n != 0)
		return 0;
	return (uint32_t)(maj << 16 | min);
}

enum soap_errc
wusp_open_client_cookie(struct wusp_ctx *c, const struct soap_elem *cookie,
    struct cookie *out)
{
	enum soap_errc ec = wusp_open_client_cookie_any(c, cookie, out);

	return ec != SOAP_ERRC_NONE ? ec : wusp_cookie_revoked(c, out);
}

enum soap_errc
wusp_open_client_cookie_any(struct wusp_ctx *c,
    const struct soap_elem *cookie, struct cookie *out)
{
	const struct soap_elem *ed;
	struct wsd_err err;
	struct sv s;
	int rc;

	c->wc_message = "";
	if (cookie == NULL ||
	    (ed = soap_child(c->wc_doc, cookie, "EncryptedData")) == NULL ||
	    soap_get_str(ed, COOKIE_MAX_INPUT, &s, &err) < 0)
		return SOAP_ERRC_INVALID_COOKIE;
	rc = cookie_open(c->wc_keys, s.p, s.n, COOKIE_CLIENT, c->wc_now, out,
	    &err);
	if (rc == COOKIE_EEXPIRED)
		return SOAP_ERRC_COOKIE_EXPIRED;
	if (rc < 0)
		return SOAP_ERRC_INVALID_COOKIE;
	/* Sealed by this install but for another database: the client must
	 * start again and refresh its cache (WUSP.md 5.1). */
	if (out->co_instance != c->wc_instance)
		return SOAP_ERRC_SERVER_CHANGED;
	return SOAP_ERRC_NONE;
}

enum soap_errc
wusp_cookie_revoked(struct wusp_ctx *c, const struct cookie *ck)
{
	struct wsd_err err;
	char guid[37];
	int rc;

	guid_format(ck->co_computer, guid);
	rc = store_cookie_revoked(c->wc_store, guid, ck->co_issued, &err);
	if (rc < 0) {
		log_warnx("cookie of %s: %s", guid, err.what);
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	/* The same fault as any other invalid cookie (S9): a deleted
	 * computer authenticates and registers again. */
	return rc > 0 ? SOAP_ERRC_INVALID_COOKIE : SOAP_ERRC_NONE;
}
