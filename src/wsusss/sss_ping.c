/*
 * Ping (IMonitorable, on ServerSync and DssAuth; WSUSSS.md 5.10): a
 * health probe a DSS never calls. The answer carries only the required
 * elements of MonitoredServicesResponse (schema/ORDER.md); the optional
 * strings (machine name, config path, database) are omitted rather than
 * told to whoever asks. wsusd has no IIS-style config file that expires:
 * its "config file" time is the database's creation time, and it never
 * expires (.NET's DateTime.MaxValue, modulo 0).
 */
#include "wsusss/wsusss_int.h"

/* 9999-12-31T23:59:59.9999999, "no deadline" (WSUSSS.md 4). */
#define SSS_DATETIME_MAX_SEC  253402300799LL
#define SSS_DATETIME_MAX_FRAC 9999999u

enum soap_errc
sss_ping(struct sss_ctx *c)
{
	const struct soap_doc *d = c->sc_doc;
	const struct soap_elem *e;
	struct soap_writer *w = &c->sc_w;
	struct soap_datetime now, lc, never;
	struct wsd_err err;
	int32_t level;

	/* Any level is answered alike; it must still be an xs:int. */
	if ((e = soap_child(d, d->sd_op, "pingLevel")) == NULL ||
	    soap_get_i32(e, &level, &err) < 0) {
		c->sc_message = "pingLevel";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	if (sss_last_change(c, &lc) < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	now = soap_datetime_from_unix((int64_t)c->sc_now, 0);
	never.dt_sec = SSS_DATETIME_MAX_SEC;
	never.dt_frac = SSS_DATETIME_MAX_FRAC;
	if (soap_emit_open_ns(w, "PingResponse", WSUSSS_NS_MONITORABLE) < 0 ||
	    soap_emit_open(w, "PingResult") < 0 ||
	    soap_emit_bool(w, "SuccessFlag", true) < 0 ||
	    soap_emit_datetime(w, "ServicesTime", &now) < 0 ||
	    soap_emit_bool(w, "IsHttps", c->sc_hx->hx_tls) < 0 ||
	    soap_emit_datetime(w, "ConfigFileLastModifiedTime", &lc) < 0 ||
	    soap_emit_datetime(w, "ConfigFileNextExpirationTime", &never) < 0 ||
	    soap_emit_i32(w, "ConfigFileExpirationModuloInMinutes", 0) < 0 ||
	    soap_emit_close(w, "PingResult") < 0 ||
	    soap_emit_close(w, "PingResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}
