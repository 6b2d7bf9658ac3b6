/*
 * ReportEventBatch2 (ReportingWebService): ReportEventBatch with a
 * computerId string in place of the cookie (schema/ORDER.md). Nothing in
 * the request authenticates the computer it names, so storing its events
 * would let anyone write any computer's history (SECURITY.md S9) and read
 * a batch before any authentication (S2). The batch is therefore only
 * bounded (the same event cap as ReportEventBatch) and discarded; the
 * answer is true, as for ReportEventBatch, so a sender does not keep
 * resending. Clients report through ReportEventBatch, with a cookie.
 */
#include "wusp/wusp_int.h"

#include "common/log.h"

/* As ReportEventBatch's REPORT_MAX_EVENTS. */
#define REPORT2_MAX_EVENTS 1000

enum soap_errc
wusp_report_event_batch2(struct wusp_ctx *c)
{
	const struct soap_doc *d = c->wc_doc;
	struct soap_writer *w = &c->wc_w;
	struct soap_datetime t;
	struct soap_iter it;
	struct wsd_err err;
	size_t count = 0;

	if (soap_get_datetime(soap_child(d, d->sd_op, "clientTime"), &t,
		&err) < 0) {
		c->wc_message = "clientTime";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	if (soap_array_begin(d, soap_child(d, d->sd_op, "eventBatch"),
		"ReportingEvent", REPORT2_MAX_EVENTS, &it, &count, &err) < 0) {
		c->wc_message = "eventBatch";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	log_debug("ReportEventBatch2: %zu unauthenticated events discarded",
	    count);
	if (soap_emit_open_ns(w, "ReportEventBatch2Response",
		SOAP_NS_REPORTING) < 0 ||
	    soap_emit_bool(w, "ReportEventBatch2Result", true) < 0 ||
	    soap_emit_close(w, "ReportEventBatch2Response") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}
