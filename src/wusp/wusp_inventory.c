/*
 * GetRequiredInventoryType and ReportInventory (ReportingWebService, the
 * WSUS 3 inventory feature). wsusd requires no inventory: GetConfig says
 * IsInventoryRequired = 0 (WUSP.md 3.1), as WSUS does. A client that asks
 * anyway is told 0, no inventory type required (the WSDL types the result
 * as a bare int; 0 as "none" is our reading, no capture shows it), and an
 * inventory sent anyway is accepted and discarded with true, so the
 * client does not resend it. Both check the cookie first.
 */
#include "wusp/wusp_int.h"

#include "common/log.h"

/* GetRequiredInventoryTypeResult: no inventory required. */
#define INVENTORY_TYPE_NONE 0

enum soap_errc
wusp_get_required_inventory_type(struct wusp_ctx *c)
{
	const struct soap_doc *d = c->wc_doc;
	struct soap_writer *w = &c->wc_w;
	struct wsd_err err;
	struct cookie ck;
	enum soap_errc ec;
	char rules[37];

	if ((ec = wusp_open_client_cookie(c, soap_child(d, d->sd_op, "cookie"),
		 &ck)) != SOAP_ERRC_NONE)
		return ec;
	/* rulesId is required ([1..1]). */
	if (soap_get_guid(soap_child(d, d->sd_op, "rulesId"), rules, &err) <
	    0) {
		c->wc_message = "rulesId";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	if (soap_emit_open_ns(w, "GetRequiredInventoryTypeResponse",
		SOAP_NS_REPORTING) < 0 ||
	    soap_emit_i32(w, "GetRequiredInventoryTypeResult",
		INVENTORY_TYPE_NONE) < 0 ||
	    soap_emit_close(w, "GetRequiredInventoryTypeResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}

enum soap_errc
wusp_report_inventory(struct wusp_ctx *c)
{
	const struct soap_doc *d = c->wc_doc;
	struct soap_writer *w = &c->wc_w;
	struct cookie ck;
	enum soap_errc ec;

	if ((ec = wusp_open_client_cookie(c, soap_child(d, d->sd_op, "cookie"),
		 &ck)) != SOAP_ERRC_NONE)
		return ec;
	/* Not read: neither RawXml nor CompressedXml is ever parsed. */
	log_debug("ReportInventory: inventory discarded");
	if (soap_emit_open_ns(w, "ReportInventoryResponse",
		SOAP_NS_REPORTING) < 0 ||
	    soap_emit_bool(w, "ReportInventoryResult", true) < 0 ||
	    soap_emit_close(w, "ReportInventoryResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}
