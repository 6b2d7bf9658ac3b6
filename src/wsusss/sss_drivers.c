/*
 * GetDriverIdList and GetDriverSetData (ServerSync on Microsoft Update,
 * WSUSSS.md 5.11; not in the appendix WSDL, shapes from MU's live
 * WSDL). wsusd has no driver sets: its driver updates travel as Driver
 * revisions of GetRevisionIdList's update pass. So GetDriverIdList
 * answers an Anchor (the catalog generation, as GetRevisionIdList's) and
 * three empty lists, and GetDriverSetData the empty list, after checking
 * the cookie and that what was asked for is bounded and well-formed.
 */
#include "wsusss/wsusss_int.h"

#include "common/log.h"
#include "store/store_sss.h"

/* Items read per filter list; GetConfigData announces 100 for computer
 * and hardware ids, and categories are tens. */
#define SSS_MAX_DRIVER_ITEMS 1000

/* ITEM children of the optional array ARR, at most MAX; GUID_ITEMS:
 * each must be a GUID. */
static enum soap_errc
check_array(struct sss_ctx *c, const struct soap_elem *arr, const char *item,
    size_t max, const char *name, bool guid_items)
{
	const struct soap_doc *d = c->sc_doc;
	const struct soap_elem *e;
	struct soap_iter it;
	struct wsd_err err;
	char guid[37];
	size_t n;

	c->sc_message = name;
	if (soap_array_begin(d, arr, item, max, &it, &n, &err) < 0)
		return SOAP_ERRC_INVALID_PARAMETERS;
	while (guid_items && (e = soap_iter_next(&it)) != NULL)
		if (soap_get_guid(e, guid, &err) < 0)
			return SOAP_ERRC_INVALID_PARAMETERS;
	c->sc_message = NULL;
	return SOAP_ERRC_NONE;
}

enum soap_errc
sss_get_driver_id_list(struct sss_ctx *c)
{
	const struct soap_doc *d = c->sc_doc;
	const struct soap_elem *f;
	struct soap_writer *w = &c->sc_w;
	struct sss_anchor an;
	struct wsd_err err;
	enum soap_errc ec;
	uint64_t gen;
	bool has;

	if ((ec = sss_check_cookie(c)) != SOAP_ERRC_NONE)
		return ec;
	f = soap_child(d, d->sd_op, "filter");
	if ((ec = sss_read_anchor(c, soap_child(d, f, "Anchor"), "Anchor", &an,
		 &has)) != SOAP_ERRC_NONE ||
	    (ec = check_array(c, soap_child(d, f, "Categories"), "IdAndDelta",
		 SSS_MAX_DRIVER_ITEMS, "Categories", false)) != SOAP_ERRC_NONE ||
	    (ec = check_array(c, soap_child(d, f, "ComputerIds"),
		 "IdAndDelta", SSS_MAX_PER_REQUEST, "ComputerIds", false)) !=
		SOAP_ERRC_NONE ||
	    (ec = check_array(c, soap_child(d, f, "PnpHardwareIds"),
		 "HardwareIdAndDelta", SSS_MAX_PER_REQUEST, "PnpHardwareIds",
		 false)) != SOAP_ERRC_NONE)
		return ec;
	if (store_sss_generation(c->sc_store, &gen, &err) < 0) {
		log_warnx("GetDriverIdList: %s", err.what);
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	if (soap_emit_open_ns(w, "GetDriverIdListResponse", WSUSSS_NS) < 0 ||
	    soap_emit_open(w, "GetDriverIdListResult") < 0 ||
	    sss_emit_anchor(c, gen) < 0 ||
	    soap_emit_empty(w, "NewRevisions") < 0 ||
	    soap_emit_empty(w, "NewDriverSets") < 0 ||
	    soap_emit_empty(w, "RemovedDriverSets") < 0 ||
	    soap_emit_close(w, "GetDriverIdListResult") < 0 ||
	    soap_emit_close(w, "GetDriverIdListResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}

enum soap_errc
sss_get_driver_set_data(struct sss_ctx *c)
{
	const struct soap_doc *d = c->sc_doc;
	struct soap_writer *w = &c->sc_w;
	enum soap_errc ec;

	if ((ec = sss_check_cookie(c)) != SOAP_ERRC_NONE ||
	    (ec = check_array(c, soap_child(d, d->sd_op, "driverSets"), "guid",
		 SSS_MAX_PER_REQUEST, "driverSets", true)) != SOAP_ERRC_NONE)
		return ec;
	if (soap_emit_open_ns(w, "GetDriverSetDataResponse", WSUSSS_NS) < 0 ||
	    soap_emit_open(w, "GetDriverSetDataResult") < 0 ||
	    soap_emit_empty(w, "DriverSets") < 0 ||
	    soap_emit_close(w, "GetDriverSetDataResult") < 0 ||
	    soap_emit_close(w, "GetDriverSetDataResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}
