#include "http/handler.h"

#include <stdio.h>

#include "http/static_file.h"
#include "wusp/wusp.h"

enum { M_GET = 1, M_HEAD = 2, M_POST = 4 };

static const struct {
	unsigned methods;
	const char *allow;
} policy[VROOT_COUNT] = {
	/* SOAP services: POST, and GET for "?wsdl" and probes. */
	[VROOT_SIMPLEAUTH] = { M_GET | M_HEAD | M_POST, "GET, HEAD, POST" },
	[VROOT_DSSAUTH] = { M_GET | M_HEAD | M_POST, "GET, HEAD, POST" },
	[VROOT_SERVERSYNC] = { M_GET | M_HEAD | M_POST, "GET, HEAD, POST" },
	[VROOT_APIREMOTING] = { M_GET | M_HEAD | M_POST, "GET, HEAD, POST" },
	[VROOT_CLIENT] = { M_GET | M_HEAD | M_POST, "GET, HEAD, POST" },
	[VROOT_INVENTORY] = { M_GET | M_HEAD | M_POST, "GET, HEAD, POST" },
	[VROOT_REPORTING] = { M_GET | M_HEAD | M_POST, "GET, HEAD, POST" },
	/* Static files only (Appendix E: no WebDAV, no TRACE). */
	[VROOT_CONTENT] = { M_GET | M_HEAD, "GET, HEAD" },
	[VROOT_SELFUPDATE] = { M_GET | M_HEAD, "GET, HEAD" },
};

static unsigned
method_bit(enum http_method m)
{
	switch (m) {
	case HTTP_GET:
		return M_GET;
	case HTTP_HEAD:
		return M_HEAD;
	case HTTP_POST:
		return M_POST;
	case HTTP_OTHER:
		break;
	}
	return 0;
}

int
handler_admit(const struct handler_ctx *hx, uint64_t *body_limit)
{
	enum vroot v = hx->hx_route->rt_vroot;

	if (v == VROOT_NONE)
		return 404;
	/* The guide's "Require SSL" (IIS 403.4), before anything else. */
	if (hx->hx_rt->rt_tls && vroot_requires_tls(v) && !hx->hx_tls)
		return 403;
	if ((policy[v].methods & method_bit(hx->hx_req->rq_method)) == 0)
		return 405;
	/* Clients never compress requests (WUSP.md 1.2): a coded body is
	 * refused unread rather than parsed as garbage. */
	for (unsigned i = 0; i < hx->hx_req->rq_nheaders; i++) {
		const struct http_header *h = &hx->hx_req->rq_headers[i];

		if (sv_eq_cstr_ci(h->name, "Content-Encoding") &&
		    !sv_eq_cstr_ci(h->value, "identity"))
			return 415;
	}
	*body_limit = hx->hx_rt->rt_cf->cf_max_body[v];
	return 0;
}

static const char ssl_required[] =
    "<!DOCTYPE html>\r\n<html><head><title>403.4 - SSL required</title>"
    "</head>\r\n<body><h1>403.4 - Forbidden: SSL is required to view this "
    "resource.</h1>\r\n<p>This virtual directory only answers over HTTPS. "
    "Use the https:// URL of this server.</p></body></html>\r\n";

int
handler_refusal(const struct handler_ctx *hx, int status,
    struct http_resp *rs)
{
	char extra[64];

	switch (status) {
	case 403:
		return http_resp_simple(rs, 403, hx->hx_date, NULL,
		    "text/html; charset=utf-8", ssl_required);
	case 405:
		snprintf(extra, sizeof(extra), "Allow: %s\r\n",
		    policy[hx->hx_route->rt_vroot].allow);
		return http_resp_simple(rs, 405, hx->hx_date, extra,
		    "text/plain", "405 Method Not Allowed\n");
	default:
		return http_resp_simple(rs, status, hx->hx_date, NULL,
		    "text/plain", status == 404 ? "404 Not Found\n" :
						  "Request refused\n");
	}
}

/* ASMX fault shape (MS-WUSP 2.2.2.4): detail/ErrorCode first. */
static int
not_implemented(const struct handler_ctx *hx, struct http_resp *rs)
{
	const char *name = vroot_name(hx->hx_route->rt_vroot);
	char body[1024];

	if (hx->hx_req->rq_method != HTTP_POST) {
		snprintf(body, sizeof(body),
		    "501 Not Implemented: wsusd does not serve %s yet\n", name);
		return http_resp_simple(rs, 501, hx->hx_date, NULL,
		    "text/plain", body);
	}
	snprintf(body, sizeof(body),
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
	    "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/"
	    "envelope/\"><soap:Body><soap:Fault>"
	    "<faultcode>soap:Server</faultcode>"
	    "<faultstring>%s is not implemented in this wsusd version"
	    "</faultstring><detail><ErrorCode>InternalServerError</ErrorCode>"
	    "<Message>not implemented</Message></detail></soap:Fault>"
	    "</soap:Body></soap:Envelope>",
	    name);
	return http_resp_simple(rs, 501, hx->hx_date, NULL,
	    "text/xml; charset=utf-8", body);
}

int
handler_run(const struct handler_ctx *hx, struct http_resp *rs)
{
	switch (hx->hx_route->rt_vroot) {
	case VROOT_CONTENT:
		return static_file_serve(hx->hx_rt->rt_content_fd,
		    hx->hx_route->rt_rest, hx->hx_req, hx->hx_date, rs);
	case VROOT_SELFUPDATE: {
		char rel[256];

		if (static_file_canon_selfupdate(hx->hx_route->rt_rest, rel,
			sizeof(rel)) < 0)
			rel[0] = '\0';
		return static_file_serve_rel(rel[0] ?
			hx->hx_rt->rt_selfupdate_fd : -1,
		    rel, hx->hx_req, hx->hx_date, rs);
	}
	case VROOT_CLIENT:
	case VROOT_SIMPLEAUTH:
	case VROOT_REPORTING:
		if (hx->hx_req->rq_method == HTTP_POST)
			return wusp_handle(hx, rs);
		return not_implemented(hx, rs);
	default:
		return not_implemented(hx, rs);
	}
}
