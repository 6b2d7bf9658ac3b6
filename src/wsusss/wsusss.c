#include "wsusss/wsusss.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/sbuf.h"
#include "common/vroot.h"
#include "http/http_req.h"
#include "wsusss/wsusss_int.h"

/*
 * Response caps. Small: the fixed-size answers (GetConfigData ~1.5 KiB).
 * List: GetRevisionIdList is not paged (WSUSSS.md 5.5; a real WSUS sent
 * 3.1 MB) and an UpdateIdentity is ~120 bytes, so 64 MiB holds ~500,000
 * revisions, more than Microsoft Update's whole catalog; GetDeployments'
 * lists are of the same order. Data: GetUpdateData stops adding updates
 * at 2,000,000 bytes itself (sss_getupdatedata.c); the cap only has to
 * hold the first document when it alone is larger (UPDATE_DOC_MAX_BYTES,
 * escaped).
 */
#define WSUSSS_MAX_RESPONSE (64 * 1024)
#define WSUSSS_MAX_LIST     (64 * 1024 * 1024)
#define WSUSSS_MAX_DATA     (64 * 1024 * 1024)

static const struct sss_op {
	enum vroot vroot;
	const char *ns;
	const char *name;
	sss_op_fn fn;
	size_t cap;
} ops[] = {
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetAuthConfig", sss_get_auth_config,
	    WSUSSS_MAX_RESPONSE },
	{ VROOT_DSSAUTH, WSUSSS_NS_DSSAUTH, "GetAuthorizationCookie",
	    sss_get_authorization_cookie, WSUSSS_MAX_RESPONSE },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetCookie", sss_get_cookie,
	    WSUSSS_MAX_RESPONSE },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetConfigData", sss_get_config_data,
	    WSUSSS_MAX_RESPONSE },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetRevisionIdList",
	    sss_get_revision_id_list, WSUSSS_MAX_LIST },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetUpdateData", sss_get_update_data,
	    WSUSSS_MAX_DATA },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetUpdateDecryptionData",
	    sss_get_update_decryption_data, WSUSSS_MAX_RESPONSE },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetRelatedRevisionsForUpdates",
	    sss_get_related_revisions, WSUSSS_MAX_RESPONSE },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "DownloadFiles", sss_download_files,
	    WSUSSS_MAX_RESPONSE },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetDriverIdList",
	    sss_get_driver_id_list, WSUSSS_MAX_RESPONSE },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetDriverSetData",
	    sss_get_driver_set_data, WSUSSS_MAX_RESPONSE },
	{ VROOT_SERVERSYNC, WSUSSS_NS, "GetDeployments", sss_get_deployments,
	    WSUSSS_MAX_LIST },
	{ VROOT_SERVERSYNC, WSUSSS_NS_MONITORABLE, "Ping", sss_ping,
	    WSUSSS_MAX_RESPONSE },
	{ VROOT_DSSAUTH, WSUSSS_NS_MONITORABLE, "Ping", sss_ping,
	    WSUSSS_MAX_RESPONSE },
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
	/* Every operation of the WSUSSS WSDLs is served: nothing is
	 * WSUSSS_NOT_SERVED any more, the rest is unknown. */
	if (op == NULL) {
		soap_doc_release(&doc);
		return fault(hx, rs, SOAP_ERRC_UNKNOWN_OPERATION,
		    action[0] ? action : "(none)", action);
	}

	memset(&c, 0, sizeof(c));
	sbuf_init(&c.sc_msg, 8 * 1024);
	c.sc_hx = hx;
	c.sc_keys = &hx->hx_rt->rt_cookies;
	c.sc_doc = &doc;
	c.sc_now = time(NULL);
	if (*hx->hx_store == NULL &&
	    store_open(hx->hx_store, hx->hx_rt->rt_cf->cf_datadir, &err) < 0) {
		log_warnx("cannot open the database: %s", err.what);
		soap_doc_release(&doc);
		sbuf_release(&c.sc_msg);
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
	sbuf_init(&sb, op->cap);
	if (soap_emit_begin(&c.sc_w, &sb, SOAP_STYLE_ASMX) < 0) {
		soap_doc_release(&doc);
		sbuf_release(&c.sc_msg);
		return WSD_ENOMEM;
	}
	ec = op->fn(&c);
	if (ec == SOAP_ERRC_NONE && soap_emit_end(&c.sc_w) < 0)
		ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
	soap_doc_release(&doc);
	if (ec != SOAP_ERRC_NONE) {
		sbuf_release(&sb);
		log_info("%s: %s: %s fault %s%s%s", hx->hx_peer, vroot_name(v),
		    op->name,
		    soap_errc_name(ec) ? soap_errc_name(ec) : "?",
		    c.sc_message ? ": " : "", c.sc_message ? c.sc_message : "");
		rc = fault(hx, rs, ec, c.sc_message ? c.sc_message : "",
		    action);
		sbuf_release(&c.sc_msg);
		return rc;
	}
	sbuf_release(&c.sc_msg);
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

enum soap_errc
sss_check_cookie(struct sss_ctx *c)
{
	struct cookie ck;

	return sss_open_dss_cookie(c,
	    soap_child(c->sc_doc, c->sc_doc->sd_op, "cookie"), &ck);
}

enum soap_errc
sss_read_anchor(struct sss_ctx *c, const struct soap_elem *e,
    const char *name, struct sss_anchor *out, bool *present)
{
	struct wsd_err err;
	struct sv s;

	*present = false;
	if (e == NULL || soap_is_nil(e))
		return SOAP_ERRC_NONE;
	if (soap_get_str(e, SSS_ANCHOR_MAX, &s, &err) < 0 ||
	    (s.n != 0 && sss_anchor_parse(s, out) < 0)) {
		c->sc_message = name;
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	*present = s.n != 0;
	return SOAP_ERRC_NONE;
}

int
sss_emit_anchor(struct sss_ctx *c, uint64_t gen)
{
	struct sss_anchor a;
	struct timespec ts;
	char buf[SSS_ANCHOR_MAX];

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return WSD_EIO;
	a.an_gen = gen;
	a.an_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (sss_anchor_format(&a, buf) < 0)
		return WSD_EINVAL;
	return soap_emit_str(&c->sc_w, "Anchor", buf);
}

enum soap_errc
sss_read_update_ids(struct sss_ctx *c, const struct soap_elem *arr,
    const char *name, struct sss_update_id *ids, size_t *n)
{
	const struct soap_doc *d = c->sc_doc;
	const struct soap_elem *item;
	struct soap_iter it;
	struct wsd_err err;
	size_t count = 0;

	*n = 0;
	c->sc_message = name;
	/* A missing array is null, not empty: both are refused (5.6). */
	if (arr == NULL || soap_is_nil(arr) ||
	    soap_array_begin(d, arr, "UpdateIdentity", SSS_MAX_PER_REQUEST,
		&it, &count, &err) < 0 ||
	    count == 0)
		return SOAP_ERRC_INVALID_PARAMETERS;
	while ((item = soap_iter_next(&it)) != NULL) {
		if (soap_is_nil(item) ||
		    soap_get_guid(soap_child(d, item, "UpdateID"), ids[*n].id,
			&err) < 0 ||
		    soap_get_i32(soap_child(d, item, "RevisionNumber"),
			&ids[*n].revision, &err) < 0)
			return SOAP_ERRC_INVALID_PARAMETERS;
		if (++*n == SSS_MAX_PER_REQUEST)
			break;
	}
	c->sc_message = NULL;
	return SOAP_ERRC_NONE;
}

void
sss_truncate(struct sss_ctx *c, size_t len)
{
	struct sbuf *sb = c->sc_w.sw_sb;

	assert(len <= sb->sb_len);
	if (len < sb->sb_len) {
		sb->sb_len = len;
		sb->sb_buf[len] = '\0';
	}
}
