/*
 * SyncPrinterCatalog (ClientWebService): wsusd serves no printer drivers,
 * so after the cookie check the answer is the smallest SyncInfo the
 * schema allows (schema/ORDER.md): no NewUpdates, OutOfScopeRevisionIDs
 * or ChangedUpdates (all [0..1]), Truncated = false (the one required
 * element: nothing more to page), and the cookie sealed afresh as
 * NewCookie, as SyncUpdates returns it, so a client that replaces its
 * cookie with NewCookie keeps a valid one. installedNonLeafUpdateIDs and
 * printerUpdateIDs are not read: nothing depends on them. DriverSyncNotNeeded
 * and DeployedOutOfScopeRevisionIds are left out (SyncUpdates-only
 * extensions).
 */
#include "wusp/wusp_int.h"

enum soap_errc
wusp_sync_printer_catalog(struct wusp_ctx *c)
{
	const struct soap_doc *d = c->wc_doc;
	struct soap_writer *w = &c->wc_w;
	char b64[COOKIE_B64_BUFSZ];
	struct soap_datetime exp;
	struct wsd_err err;
	struct cookie ck;
	enum soap_errc ec;

	if ((ec = wusp_open_client_cookie(c, soap_child(d, d->sd_op, "cookie"),
		 &ck)) != SOAP_ERRC_NONE)
		return ec;
	/* The same identity and Expiration: nothing was delivered. */
	if (cookie_seal(c->wc_keys, &ck, b64, sizeof(b64), &err) < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	exp = soap_datetime_from_unix(ck.co_expires, 0);
	if (soap_emit_open_ns(w, "SyncPrinterCatalogResponse",
		SOAP_NS_CLIENT) < 0 ||
	    soap_emit_open(w, "SyncPrinterCatalogResult") < 0 ||
	    soap_emit_bool(w, "Truncated", false) < 0 ||
	    soap_emit_open(w, "NewCookie") < 0 ||
	    soap_emit_datetime(w, "Expiration", &exp) < 0 ||
	    soap_emit_str(w, "EncryptedData", b64) < 0 ||
	    soap_emit_close(w, "NewCookie") < 0 ||
	    soap_emit_close(w, "SyncPrinterCatalogResult") < 0 ||
	    soap_emit_close(w, "SyncPrinterCatalogResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}
