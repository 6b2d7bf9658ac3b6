/*
 * GetAuthorizationCookie (SimpleAuthWebService, WUSP.md 3.2): clientId
 * and dnsName must be there; the answer is an authorization cookie
 * sealed for this computer, which only GetCookie accepts.
 */
#include "wusp/wusp_int.h"

#include <string.h>

#include "common/encode.h"

enum soap_errc
wusp_get_auth_cookie(struct wusp_ctx *c)
{
	const struct soap_elem *op = c->wc_doc->sd_op, *id, *dns;
	struct soap_writer *w = &c->wc_w;
	char guid[37], b64[COOKIE_B64_BUFSZ], hex[33];
	struct cookie ck;
	struct wsd_err err;
	struct sv s;
	size_t h = 0;

	id = soap_child(c->wc_doc, op, "clientId");
	dns = soap_child(c->wc_doc, op, "dnsName");
	if (id == NULL || soap_get_guid(id, guid, &err) < 0) {
		c->wc_message = "clientId";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	if (dns == NULL || soap_get_str(dns, 255, &s, &err) < 0 || s.n == 0) {
		c->wc_message = "dnsName";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	for (const char *p = guid; *p; p++)
		if (*p != '-')
			hex[h++] = *p;
	memset(&ck, 0, sizeof(ck));
	ck.co_kind = COOKIE_AUTHORIZATION;
	if (hex_decode(hex, h, ck.co_computer, 16) < 0)
		return SOAP_ERRC_INVALID_PARAMETERS;
	ck.co_issued = (int64_t)c->wc_now;
	ck.co_expires = (int64_t)c->wc_now + WUSP_AUTH_COOKIE_SECS;
	ck.co_instance = c->wc_instance;
	if (cookie_seal(c->wc_keys, &ck, b64, sizeof(b64), &err) < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if (soap_emit_open_ns(w, "GetAuthorizationCookieResponse",
		SOAP_NS_SIMPLEAUTH) < 0 ||
	    soap_emit_open(w, "GetAuthorizationCookieResult") < 0 ||
	    soap_emit_str(w, "PlugInId", "SimpleTargeting") < 0 ||
	    soap_emit_str(w, "CookieData", b64) < 0 ||
	    soap_emit_close(w, "GetAuthorizationCookieResult") < 0 ||
	    soap_emit_close(w, "GetAuthorizationCookieResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}
