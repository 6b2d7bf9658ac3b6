/*
 * GetAuthConfig (ServerSync, WSUSSS.md 5.1): where the DSS gets its
 * authorization cookie. Exactly one plug-in, DssTargeting, at our
 * DssAuthWebService; no Parameter (3.1.4.1, <27>) and no AllowedEventIds
 * (<26>). The request is an empty element; anything in it is ignored.
 */
#include "wsusss/wsusss_int.h"

enum soap_errc
sss_get_auth_config(struct sss_ctx *c)
{
	struct soap_writer *w = &c->sc_w;
	struct soap_datetime lc;

	if (sss_last_change(c, &lc) < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	/* Order: schema/ORDER.md, ServerSyncWebService.GetAuthConfig. */
	if (soap_emit_open_ns(w, "GetAuthConfigResponse", WSUSSS_NS) < 0 ||
	    soap_emit_open(w, "GetAuthConfigResult") < 0 ||
	    soap_emit_datetime(w, "LastChange", &lc) < 0 ||
	    soap_emit_open(w, "AuthInfo") < 0 ||
	    soap_emit_open(w, "AuthPlugInInfo") < 0 ||
	    soap_emit_str(w, "PlugInID", WSUSSS_PLUGIN) < 0 ||
	    soap_emit_str(w, "ServiceUrl", WSUSSS_DSSAUTH_URL) < 0 ||
	    soap_emit_close(w, "AuthPlugInInfo") < 0 ||
	    soap_emit_close(w, "AuthInfo") < 0 ||
	    soap_emit_close(w, "GetAuthConfigResult") < 0 ||
	    soap_emit_close(w, "GetAuthConfigResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}
