#include "http/handler.h"

#include <stdio.h>

#include "auth/authz.h"
#include "auth/certid.h"
#include "auth/negotiate.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "http/handler_admin.h"
#include "http/http_server.h"
#include "http/static_file.h"
#include "net/tls.h"
#include "soap/soap_parse.h"
#include "soap/soap_emit.h"
#include "http/http_req.h"
#include "wsusss/wsusss.h"
#include "wusp/wusp.h"

_Static_assert(HANDLER_IDENTITY_MAX >= NEGOTIATE_MAX_IDENTITY,
    "handler identity buffer smaller than an identity");

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

/* "Negotiate <token>" of an Authorization header: the token, or an empty
 * slice when the header is absent (ABSENT) or another scheme. */
static struct sv
negotiate_token(const struct http_req *rq, bool *absent)
{
	*absent = true;
	for (unsigned i = 0; i < rq->rq_nheaders; i++) {
		const struct http_header *h = &rq->rq_headers[i];
		struct sv v = h->value;

		if (!sv_eq_cstr_ci(h->name, "Authorization"))
			continue;
		*absent = false;
		if (v.n > 10 && sv_eq_ci((struct sv){ v.p, 9 },
					SV_LIT("Negotiate")) &&
		    v.p[9] == ' ')
			return sv_trim_ows((struct sv){ v.p + 10, v.n - 10 });
	}
	return (struct sv){ "", 0 };
}

/*
 * The identity of the connection's client certificate into IDENT
 * (NEGOTIATE_MAX_IDENTITY bytes): 1, or 0 when there is none to use
 * (no certificate, none asked for, or one that does not verify or map:
 * logged, and the request goes on as anonymous).
 */
static int
cert_identity(const struct handler_ctx *hx, char *ident)
{
	const char *root = vroot_name(hx->hx_route->rt_vroot);
	const struct srv_runtime *rt = hx->hx_rt;
	char subj[CERTID_MAX_DN], iss[CERTID_MAX_DN];
	const char *why;
	struct wsd_err err;
	X509 *leaf;

	/* Administrators' certificates from their own CAs when those are
	 * configured: then a downstream server's certificate administers
	 * nothing, and an administrator's does not sync. */
	enum tls_peer tp =
	    hx->hx_route->rt_vroot == VROOT_APIREMOTING && rt->rt_admin_ca ?
	    tls_peer_verified_store(hx->hx_ssl, rt->rt_admin_ca, &leaf, &why) :
	    tls_peer_verified(hx->hx_ssl, rt->rt_ssl, &leaf, &why);

	switch (tp) {
	case TLS_PEER_NONE:
		return 0;
	case TLS_PEER_REFUSED:
		certid_dn_text(X509_get_subject_name(leaf), subj);
		certid_dn_text(X509_get_issuer_name(leaf), iss);
		log_warnx("%s: %s: client certificate %s issued by %s not "
			  "accepted: %s",
		    hx->hx_peer, root, subj, iss, why);
		return 0;
	case TLS_PEER_VERIFIED:
		break;
	}
	certid_dn_text(X509_get_subject_name(leaf), subj);
	certid_dn_text(X509_get_issuer_name(leaf), iss);
	if (certid_identity(leaf, &rt->rt_realm_map, ident, &err) < 0) {
		log_warnx("%s: %s: client certificate %s issued by %s: no "
			  "identity: %s",
		    hx->hx_peer, root, subj, iss, err.what);
		return 0;
	}
	log_info("%s: %s: identity %s from client certificate %s issued by "
		 "%s",
	    hx->hx_peer, root, ident, subj, iss);
	return 1;
}

/*
 * The identity of the Kerberos ticket in TOK (an Authorization:
 * Negotiate token) into IDENT (NEGOTIATE_MAX_IDENTITY bytes), with the
 * mutual-authentication reply put in the answer's headers: 0, or -1
 * when there is no keytab, the ticket is refused or its principal maps
 * to no DOMAIN\name (logged with the root's name).
 */
static int
negotiate_identity(const struct handler_ctx *hx, struct sv tok, char *ident)
{
	const char *root = vroot_name(hx->hx_route->rt_vroot);
	const struct srv_runtime *rt = hx->hx_rt;
	struct negotiate_result nr;
	struct wsd_err err;

	if (rt->rt_negotiate == NULL) {
		log_warnx("%s: %s: Negotiate refused: no Kerberos keytab",
		    hx->hx_peer, root);
		return -1;
	}
	if (negotiate_accept(rt->rt_negotiate, tok.p, tok.n, &nr, &err) < 0) {
		log_warnx("%s: %s: Negotiate refused: %s", hx->hx_peer, root,
		    err.what);
		return -1;
	}
	if (negotiate_map_principal(nr.nr_principal, &rt->rt_realm_map, ident,
		&err) < 0) {
		log_warnx("%s: %s: %s: no identity: %s", hx->hx_peer, root,
		    nr.nr_principal, err.what);
		return -1;
	}
	if (nr.nr_reply[0] != '\0' && hx->hx_auth_hdr != NULL)
		snprintf(hx->hx_auth_hdr, HANDLER_AUTH_MAX,
		    "WWW-Authenticate: Negotiate %s\r\n", nr.nr_reply);
	return 0;
}

/*
 * The Secure WSUS guide's gate on ServerSyncWebService (issue #7;
 * docs/CHAINING.md): anonymous access off unless configured, a Kerberos
 * identity through Negotiate mapped to DOMAIN\name, or else one from a
 * verified TLS client certificate (serversync_client_ca), then the
 * ordered authorization list. A Negotiate token, when sent, decides
 * alone: a refused ticket is not rescued by a certificate. Every
 * decision is logged with the identity and the rule that matched. Runs
 * on the head, before any body is read.
 */
static int
serversync_gate(const struct handler_ctx *hx)
{
	const struct srv_runtime *rt = hx->hx_rt;
	const char *method = hx->hx_req->rq_method == HTTP_POST ? "POST" :
	    hx->hx_req->rq_method == HTTP_HEAD			   ? "HEAD" :
									     "GET";
	char ident[NEGOTIATE_MAX_IDENTITY];
	const char *who = NULL;
	enum authz_decision d;
	struct sbuf line;
	bool absent;
	struct sv tok = negotiate_token(hx->hx_req, &absent);
	size_t rule;

	if (tok.n > 0) {
		/* A ticket and the metadata it unlocks travel in TLS only
		 * (SECURITY.md S5); with TLS configured the plain port is
		 * refused earlier (403.4), this is allow_insecure_http. */
		if (!hx->hx_tls) {
			log_warnx("%s: ServerSyncWebService: Negotiate over "
				  "plain HTTP refused",
			    hx->hx_peer);
			return HANDLER_NEEDS_TLS_AUTH;
		}
		if (negotiate_identity(hx, tok, ident) < 0)
			return HANDLER_AUTH_REQUIRED;
		who = ident;
	} else if (hx->hx_tls && cert_identity(hx, ident) == 1) {
		who = ident;
	} else if (!rt->rt_cf->cf_serversync_anonymous && !hx->hx_tls) {
		/* No challenge on the plain port (SECURITY.md S5): a client
		 * answering it would send a ticket, or an NTLM relay victim
		 * its credentials, in clear. Only allow_insecure_http gets
		 * here (with TLS the port is refused as 403.4 earlier). */
		log_warnx("%s: ServerSyncWebService: refused on the plain "
			  "HTTP port: authentication needs TLS",
		    hx->hx_peer);
		return HANDLER_NEEDS_TLS_AUTH;
	} else if (!rt->rt_cf->cf_serversync_anonymous) {
		/* Anonymous access is off (the guide's IIS setting): a
		 * challenge, as IIS answers with Windows authentication. */
		if (!absent)
			log_warnx("%s: ServerSyncWebService: Authorization "
				  "other than Negotiate refused",
			    hx->hx_peer);
		return HANDLER_AUTH_REQUIRED;
	}
	if (who != NULL && hx->hx_identity != NULL)
		snprintf(hx->hx_identity, HANDLER_IDENTITY_MAX, "%s", who);
	d = authz_check(rt->rt_authz, who, method, &rule);
	sbuf_init(&line, 8192);
	if (authz_describe(rt->rt_authz, who, d, rule, &line) == 0)
		log_info("%s: ServerSyncWebService: %s", hx->hx_peer,
		    sbuf_str(&line));
	sbuf_release(&line);
	return d == AUTHZ_ALLOW ? 0 : HANDLER_NOT_AUTHORIZED;
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
	/* Administration (SECURITY.md S6): over TLS, from a verified client
	 * certificate only; the role is checked once the command is read. */
	if (v == VROOT_APIREMOTING) {
		char ident[NEGOTIATE_MAX_IDENTITY];
		bool absent;
		struct sv tok = negotiate_token(hx->hx_req, &absent);
		const char *kind = "cert";

		if (!hx->hx_tls)
			return 403;
		if (hx->hx_identity == NULL)
			return 500;
		/* As for servers: a Negotiate token decides alone, and any
		 * other scheme is refused rather than ignored. */
		if (tok.n > 0) {
			if (negotiate_identity(hx, tok, ident) < 0)
				return HANDLER_ADMIN_AUTH_REQUIRED;
			kind = "kerberos";
		} else if (!absent) {
			log_warnx("%s: ApiRemoting30: Authorization other "
				  "than Negotiate refused",
			    hx->hx_peer);
			return HANDLER_ADMIN_AUTH_REQUIRED;
		} else if (cert_identity(hx, ident) != 1) {
			log_warnx("%s: ApiRemoting30: refused: no Kerberos "
				  "ticket and no verified client certificate",
			    hx->hx_peer);
			return HANDLER_ADMIN_AUTH_REQUIRED;
		}
		/* The principal as DIR/admins names it. */
		snprintf(hx->hx_identity, HANDLER_IDENTITY_MAX, "%s:%s", kind,
		    ident);
	}
	if (v == VROOT_SERVERSYNC ||
	    (v == VROOT_REPORTING && handler_rollup_action(hx->hx_req))) {
		int st = serversync_gate(hx);

		if (st != 0)
			return st;
		if (hx->hx_gated != NULL)
			*hx->hx_gated = true;
	}
	*body_limit = hx->hx_rt->rt_cf->cf_max_body[v];
	return 0;
}

bool
handler_rollup_action(const struct http_req *rq)
{
	static const char *const ops[] = { "GetRollupConfiguration",
		"RollupDownstreamServers", "RollupComputers",
		"GetOutOfSyncComputers", "RollupComputerStatus" };
	const struct http_header *sa = http_req_header(rq, "SOAPAction");

	if (sa == NULL || sa->value.n == 0)
		return false;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (soap_action_matches(sa->value.p, sa->value.n,
			SOAP_NS_REPORTING, ops[i]))
			return true;
	return false;
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
	case HANDLER_AUTH_REQUIRED:
		return http_resp_simple(rs, 401, hx->hx_date,
		    "WWW-Authenticate: Negotiate\r\n", "text/plain",
		    "401 Unauthorized: Windows (Negotiate) authentication "
		    "required\n");
	case HANDLER_ADMIN_AUTH_REQUIRED:
		/* No standard scheme names a TLS client certificate; the
		 * challenge says what is wanted (RFC 9110 requires one).
		 * Negotiate too when a keytab can accept tickets. */
		return http_resp_simple(rs, 401, hx->hx_date,
		    hx->hx_rt->rt_negotiate ?
			"WWW-Authenticate: Negotiate\r\n"
			"WWW-Authenticate: ClientCertificate realm=\"wsusd "
			"administration\"\r\n" :
			"WWW-Authenticate: ClientCertificate realm=\"wsusd "
			"administration\"\r\n",
		    "text/plain",
		    "401 Unauthorized: an administrator's Kerberos ticket "
		    "(Negotiate) or TLS client certificate is required\n");
	case HANDLER_NEEDS_TLS_AUTH:
		return http_resp_simple(rs, 403, hx->hx_date, NULL,
		    "text/plain",
		    "403 Forbidden: ServerSyncWebService authenticates "
		    "servers over HTTPS only; configure TLS "
		    "(wsusutil configuressl)\n");
	case HANDLER_NOT_AUTHORIZED:
		return http_resp_simple(rs, 403, hx->hx_date, NULL,
		    "text/plain",
		    "403 Forbidden: this server is not on the authorization "
		    "list\n");
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
	case VROOT_DSSAUTH:
	case VROOT_SERVERSYNC:
		if (hx->hx_req->rq_method == HTTP_POST) {
			int rc = wsusss_handle(hx, rs);

			if (rc != WSUSSS_NOT_SERVED)
				return rc;
		}
		return not_implemented(hx, rs);
	case VROOT_APIREMOTING:
		if (hx->hx_req->rq_method == HTTP_POST)
			return admin_http_handle(hx, rs);
		return not_implemented(hx, rs);
	default:
		return not_implemented(hx, rs);
	}
}
