/* ApiRemoting30: remote administration (handler_admin.h). */
#include "http/handler_admin.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin_exec.h"
#include "auth/admin_roles.h"
#include "common/admin_proto.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "http/http_server.h"

static atomic_int calls;

struct answer {
	struct sbuf body;
	bool full;
};

static int
collect(void *arg, char chan, const void *p, size_t n)
{
	struct answer *a = arg;

	if (a->full || a->body.sb_len + n + 64 > ADMIN_HTTP_MAX_ANSWER) {
		a->full = true;
		return -1;
	}
	return admin_frame_add(&a->body, chan, p, n);
}

static int
reply(const struct handler_ctx *hx, struct http_resp *rs, int status,
    const struct sbuf *body)
{
	int rc;

	if ((rc = http_resp_start(rs, status, hx->hx_date)) < 0 ||
	    (rc = http_resp_header(rs, "Cache-Control: no-store")) < 0 ||
	    (rc = http_resp_header(rs,
		 "Content-Type: application/x-wsusd-admin")) < 0 ||
	    (rc = http_resp_end_head(rs, body->sb_len)) < 0 ||
	    (rc = http_resp_add_mem(rs, body->sb_buf, body->sb_len)) < 0)
		return rc;
	return 0;
}

int
admin_http_handle(const struct handler_ctx *hx, struct http_resp *rs)
{
	const struct config *cf = hx->hx_rt->rt_cf;
	struct admin_roles *roles = NULL;
	struct admin_request rq;
	struct admin_caller caller;
	struct admin_site site;
	struct answer a;
	struct wsd_err err;
	unsigned long line = 0;
	char principal[HANDLER_IDENTITY_MAX + 8];
	int status = 70, rc;
	bool denied = false;

	if (hx->hx_route->rt_path.n != strlen(ADMIN_HTTP_PATH) ||
	    strncasecmp(hx->hx_route->rt_path.p, ADMIN_HTTP_PATH,
		hx->hx_route->rt_path.n) != 0)
		return http_resp_simple(rs, 404, hx->hx_date, NULL,
		    "text/plain", "404 Not Found\n");
	if (admin_request_decode(hx->hx_body, hx->hx_body_len, &rq, &err) <
	    0) {
		admin_request_release(&rq);
		return http_resp_simple(rs, 400, hx->hx_date, NULL,
		    "text/plain", "400 Bad Request: not an administration "
				  "request\n");
	}
	if (atomic_fetch_add(&calls, 1) >= ADMIN_HTTP_MAX_CALLS) {
		atomic_fetch_sub(&calls, 1);
		admin_request_release(&rq);
		return http_resp_simple(rs, 503, hx->hx_date,
		    "Retry-After: 10\r\n", "text/plain",
		    "503 Service Unavailable: administrative commands "
		    "running\n");
	}
	/* "cert:DOMAIN\name" or "kerberos:DOMAIN\name", from the gate. */
	snprintf(principal, sizeof(principal), "%s", hx->hx_identity);
	caller.principal = principal;
	caller.via = "remote";
	caller.peer = hx->hx_peer;
	if (admin_roles_load(cf->cf_datadir, &roles, &line, &err) < 0) {
		log_warnx("admin: %s/%s line %lu: %s: no remote "
			  "administration until it is fixed",
		    cf->cf_datadir, ADMIN_ROLES_FILE, line, err.what);
		caller.role = ROLE_NONE;
	} else {
		caller.role = admin_role_for_remote(roles, hx->hx_identity);
		admin_roles_free(roles);
	}
	site.datadir = cf->cf_datadir;
	site.audit_log = cf->cf_audit_log;
	site.https_port = cf->cf_https_port;
	sbuf_init(&a.body, ADMIN_HTTP_MAX_ANSWER);
	a.full = false;
	(void)admin_exec(&site, &caller, rq.argc, rq.argv, collect, &a,
	    &status, &denied);
	admin_request_release(&rq);
	atomic_fetch_sub(&calls, 1);
	if (a.full)
		(void)!admin_frame_add(&a.body, 'e',
		    "wsusutil: output cut: over 16 MiB\n", 35);
	if (admin_frame_exit(&a.body, status) < 0) {
		sbuf_release(&a.body);
		return http_resp_simple(rs, 500, hx->hx_date, NULL,
		    "text/plain", "500 Internal Server Error\n");
	}
	rc = reply(hx, rs, denied ? 403 : 200, &a.body);
	sbuf_release(&a.body);
	return rc;
}
