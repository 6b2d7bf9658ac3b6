/*
 * GetAuthorizationCookie (DssAuthWebService, WSUSSS.md 5.2): anonymous,
 * so anyone may ask; the answer only lets its holder ask GetCookie on
 * ServerSyncWebService, which is behind the authorization list. The DSS
 * names itself (accountName, its FQDN) and its ServerID (accountGuid);
 * both are self-asserted and only the GUID goes into the cookie.
 *
 * Each call records the DSS (store_sss_dss_seen: a downstream_server row
 * keyed by its GUID, with the name it gave and first/last seen). A
 * failure to record is logged and does not refuse the DSS: the row is
 * for the administrator's listing, not for access control.
 *
 * The response's AuthorizationCookie is DssAuth's own type, so PlugInId
 * and CookieData are in the DssAuth namespace (inherited from the
 * response element); the DSS re-namespaces them for GetCookie.
 */
#include "wsusss/wsusss_int.h"

#include <string.h>

#include "common/dnsname.h"
#include "common/encode.h"
#include "common/log.h"
#include "store/store_sss.h"

/* accountName bytes read: a DNS name is at most 253. */
#define ACCOUNT_NAME_MAX 255

enum soap_errc
sss_get_authorization_cookie(struct sss_ctx *c)
{
	const struct soap_doc *d = c->sc_doc;
	const struct soap_elem *op = d->sd_op, *e;
	struct soap_writer *w = &c->sc_w;
	char guid[37], b64[COOKIE_B64_BUFSZ];
	struct soap_iter it;
	struct wsd_err err;
	struct cookie ck;
	size_t n;
	struct sv name;

	/* Windows names the parameter machineName (<28>). */
	e = soap_child(d, op, "accountName");
	if (e == NULL || soap_is_nil(e) ||
	    soap_get_str(e, ACCOUNT_NAME_MAX, &name, &err) < 0 || name.n == 0 ||
	    !dnsname_valid(name.p)) {
		c->sc_message = "machineName";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	e = soap_child(d, op, "accountGuid");
	if (e == NULL || soap_get_guid(e, guid, &err) < 0) {
		c->sc_message = "accountGuid";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	/* Reserved; only bounded. Absent is an empty array. */
	if (soap_array_begin(d, soap_child(d, op, "programKeys"), "guid",
		WSUSSS_MAX_PROGRAM_KEYS, &it, &n, &err) < 0) {
		c->sc_message = "programKeys";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}

	memset(&ck, 0, sizeof(ck));
	ck.co_kind = COOKIE_DSS_AUTHORIZATION;
	if (guid_bytes(guid, ck.co_computer) < 0) {
		c->sc_message = "accountGuid";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	ck.co_issued = (int64_t)c->sc_now;
	ck.co_expires = (int64_t)c->sc_now + WSUSSS_AUTH_COOKIE_SECS;
	ck.co_instance = c->sc_instance;
	if (cookie_seal(c->sc_keys, &ck, b64, sizeof(b64), &err) < 0) {
		log_warnx("DssAuthWebService: cannot seal a cookie: %s",
		    err.what);
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	if (store_sss_dss_seen(c->sc_store, guid, name.p, &err) < 0)
		log_warnx("DssAuthWebService: cannot record %s: %s", guid,
		    err.what);
	/* The name passed dnsname_valid: LDH only, safe in the log. */
	log_info("%s: DssAuthWebService: authorization cookie for %s (%s)",
	    c->sc_hx->hx_peer, name.p, guid);
	/* Order: schema/ORDER.md, DssAuthWebService.GetAuthorizationCookie. */
	if (soap_emit_open_ns(w, "GetAuthorizationCookieResponse",
		WSUSSS_NS_DSSAUTH) < 0 ||
	    soap_emit_open(w, "GetAuthorizationCookieResult") < 0 ||
	    soap_emit_str(w, "PlugInId", WSUSSS_PLUGIN) < 0 ||
	    soap_emit_str(w, "CookieData", b64) < 0 ||
	    soap_emit_close(w, "GetAuthorizationCookieResult") < 0 ||
	    soap_emit_close(w, "GetAuthorizationCookieResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}
