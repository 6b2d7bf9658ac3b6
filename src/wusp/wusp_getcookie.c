/*
 * GetCookie (WUSP.md 3.3): exactly one SimpleTargeting authorization
 * cookie; an oldCookie without EncryptedData is "none" (Windows 11 sends
 * that on first contact); lastChange must be our LastChange, else the
 * client re-reads GetConfig (ConfigChanged).
 */
#include "wusp/wusp_int.h"

#include <string.h>

enum soap_errc
wusp_get_cookie(struct wusp_ctx *c)
{
	const struct soap_doc *d = c->wc_doc;
	const struct soap_elem *op = d->sd_op, *arr, *item, *e;
	struct soap_writer *w = &c->wc_w;
	struct soap_datetime lc, theirs, exp;
	char b64[COOKIE_B64_BUFSZ];
	struct cookie auth, nc, old;
	struct soap_iter it;
	struct wsd_err err;
	enum soap_errc ec;
	bool have_old = false;
	size_t n = 0;
	struct sv s;
	int rc;

	if ((arr = soap_child(d, op, "authCookies")) == NULL ||
	    soap_array_begin(d, arr, "AuthorizationCookie", 1, &it, &n,
		&err) < 0 ||
	    n != 1 || (item = soap_iter_next(&it)) == NULL)
		return SOAP_ERRC_INVALID_AUTHORIZATION_COOKIE;
	if ((e = soap_child(d, item, "PlugInId")) == NULL ||
	    soap_get_str(e, 64, &s, &err) < 0 ||
	    !sv_eq(s, SV_LIT("SimpleTargeting")) ||
	    (e = soap_child(d, item, "CookieData")) == NULL ||
	    soap_get_str(e, COOKIE_MAX_INPUT, &s, &err) < 0)
		return SOAP_ERRC_INVALID_AUTHORIZATION_COOKIE;
	/* Expired or not ours alike: the client starts the handshake over. */
	if (cookie_open(c->wc_keys, s.p, s.n, COOKIE_AUTHORIZATION, c->wc_now,
		&auth, &err) < 0)
		return SOAP_ERRC_INVALID_AUTHORIZATION_COOKIE;
	if (auth.co_instance != c->wc_instance)
		return SOAP_ERRC_SERVER_CHANGED;
	/* Issued to a computer deleted since: authenticate again. */
	if ((ec = wusp_cookie_revoked(c, &auth)) != SOAP_ERRC_NONE)
		return ec == SOAP_ERRC_INVALID_COOKIE
		    ? SOAP_ERRC_INVALID_AUTHORIZATION_COOKIE
		    : ec;

	if ((e = soap_child(d, op, "oldCookie")) != NULL && !soap_is_nil(e) &&
	    soap_child(d, e, "EncryptedData") != NULL) {
		ec = wusp_open_client_cookie_any(c, e, &old);
		/* Renewing an expired cookie is what GetCookie is for. */
		if (ec != SOAP_ERRC_NONE && ec != SOAP_ERRC_COOKIE_EXPIRED)
			return ec;
		have_old = old.co_instance == c->wc_instance &&
		    memcmp(old.co_computer, auth.co_computer, 16) == 0;
		/* One of a deleted computer: the new cookie starts afresh
		 * (the authorization cookie, issued since, is valid). */
		if (have_old &&
		    (ec = wusp_cookie_revoked(c, &old)) != SOAP_ERRC_NONE) {
			if (ec != SOAP_ERRC_INVALID_COOKIE)
				return ec;
			have_old = false;
		}
	}
	if (wusp_last_change(c, &lc) < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if ((e = soap_child(d, op, "lastChange")) == NULL ||
	    soap_get_datetime(e, &theirs, &err) < 0) {
		c->wc_message = "lastChange";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	if (theirs.dt_sec != lc.dt_sec || theirs.dt_frac != lc.dt_frac)
		return SOAP_ERRC_CONFIG_CHANGED;

	memset(&nc, 0, sizeof(nc));
	nc.co_kind = COOKIE_CLIENT;
	memcpy(nc.co_computer, auth.co_computer, 16);
	if ((e = soap_child(d, op, "protocolVersion")) != NULL &&
	    soap_get_str(e, 16, &s, &err) == 0)
		nc.co_protocol = wusp_protocol(s);
	nc.co_issued = (int64_t)c->wc_now;
	nc.co_expires = (int64_t)c->wc_now + c->wc_cf->cf_cookie_lifetime;
	nc.co_instance = c->wc_instance;
	/* What the client was told already (ChangedUpdates, WUSP.md 4.2
	 * item 8) carries over a renewal by the same computer. */
	if (have_old) {
		nc.co_anchor = old.co_anchor;
		nc.co_group_version = old.co_group_version;
	}
	if ((rc = cookie_seal(c->wc_keys, &nc, b64, sizeof(b64), &err)) < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	/* Expiration is a clear copy of the sealed expiry (spec 2.2.3.5). */
	exp = soap_datetime_from_unix(nc.co_expires, 0);
	if (soap_emit_open_ns(w, "GetCookieResponse", SOAP_NS_CLIENT) < 0 ||
	    soap_emit_open(w, "GetCookieResult") < 0 ||
	    soap_emit_datetime(w, "Expiration", &exp) < 0 ||
	    soap_emit_str(w, "EncryptedData", b64) < 0 ||
	    soap_emit_close(w, "GetCookieResult") < 0 ||
	    soap_emit_close(w, "GetCookieResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}
