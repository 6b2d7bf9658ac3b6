/* GetConfig (WUSP.md 3.1): the answer scan/000001 shows, field by field. */
#include "wusp/wusp_int.h"

#include <stdio.h>

#include "config/config.h"

static int
property(struct soap_writer *w, const char *name, const char *value)
{
	int rc;

	if ((rc = soap_emit_open(w, "ConfigurationProperty")) < 0 ||
	    (rc = soap_emit_str(w, "Name", name)) < 0 ||
	    (rc = soap_emit_str(w, "Value", value)) < 0 ||
	    (rc = soap_emit_close(w, "ConfigurationProperty")) < 0)
		return rc;
	return 0;
}

enum soap_errc
wusp_get_config(struct wusp_ctx *c)
{
	struct soap_writer *w = &c->wc_w;
	struct soap_datetime lc;
	char share[300];

	if (wusp_last_change(c, &lc) < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	snprintf(share, sizeof(share), "\\\\%s\\UpdateServicesPackages",
	    c->wc_cf->cf_server_name);
	/* Order: LastChange, IsRegistrationRequired, AuthInfo, Properties
	 * (AllowedEventIds absent, as WSUS sends it). */
	if (soap_emit_open_ns(w, "GetConfigResponse", SOAP_NS_CLIENT) < 0 ||
	    soap_emit_open(w, "GetConfigResult") < 0 ||
	    soap_emit_datetime(w, "LastChange", &lc) < 0 ||
	    soap_emit_bool(w, "IsRegistrationRequired", true) < 0 ||
	    soap_emit_open(w, "AuthInfo") < 0 ||
	    soap_emit_open(w, "AuthPlugInInfo") < 0 ||
	    soap_emit_str(w, "PlugInID", "SimpleTargeting") < 0 ||
	    soap_emit_str(w, "ServiceUrl",
		"SimpleAuthWebService/SimpleAuth.asmx") < 0 ||
	    soap_emit_empty(w, "Parameter") < 0 ||
	    soap_emit_close(w, "AuthPlugInInfo") < 0 ||
	    soap_emit_close(w, "AuthInfo") < 0 ||
	    soap_emit_open(w, "Properties") < 0 ||
	    property(w, "MaxExtendedUpdatesPerRequest", "50") < 0 ||
	    property(w, "PackageServerShare", share) < 0 ||
	    property(w, "ProtocolVersion", "3.2") < 0 ||
	    property(w, "IsInventoryRequired", "0") < 0 ||
	    property(w, "ClientReportingLevel", "2") < 0 ||
	    soap_emit_close(w, "Properties") < 0 ||
	    soap_emit_close(w, "GetConfigResult") < 0 ||
	    soap_emit_close(w, "GetConfigResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}
