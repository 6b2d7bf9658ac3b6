/*
 * GetAuthorizationCookie (SimpleAuthWebService, WUSP.md 3.2): clientId
 * and dnsName must be there; the answer is an authorization cookie
 * sealed for this computer, which only GetCookie accepts.
 */
#include "wusp/wusp_int.h"

#include <stdio.h>
#include <string.h>

#include "common/encode.h"
#include "config/config.h"

enum soap_errc
wusp_get_auth_cookie(struct wusp_ctx *c)
{
	const struct soap_elem *op = c->wc_doc->sd_op, *id, *dns;
	struct soap_writer *w = &c->wc_w;
	char guid[37], b64[COOKIE_B64_BUFSZ];
	struct cookie ck;
	struct wsd_err err;
	struct sv s;

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
	/* Client-side targeting (wsusd.conf): the TargetGroup policy's
	 * names decide the computer's groups, as WSUS does in that mode. */
	if (c->wc_cf->cf_client_side_targeting) {
		const struct soap_elem *tg;
		struct sv t = { "", 0 };
		char names[1025], dnsz[256];
		unsigned matched;

		if ((tg = soap_child(c->wc_doc, op, "targetGroupName")) != NULL &&
		    soap_get_str(tg, sizeof(names) - 1, &t, &err) < 0) {
			c->wc_message = "targetGroupName";
			return SOAP_ERRC_INVALID_PARAMETERS;
		}
		snprintf(names, sizeof(names), "%.*s", (int)t.n, t.p);
		snprintf(dnsz, sizeof(dnsz), "%.*s", (int)s.n, s.p);
		if (store_computer_upsert(c->wc_store, guid, dnsz, NULL,
			&err) < 0 ||
		    store_computer_set_groups(c->wc_store, guid, names,
			&matched, &err) < 0)
			return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	memset(&ck, 0, sizeof(ck));
	ck.co_kind = COOKIE_AUTHORIZATION;
	if (guid_bytes(guid, ck.co_computer) < 0)
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
