/*
 * GetRelatedRevisionsForUpdates (ServerSync, WSUSSS.md 5.10): in the
 * WSDL but unused by Windows; answered with the empty list after the
 * cookie and a bounded, well-formed updateIDs.
 */
#include "wsusss/wsusss_int.h"

/* updateIDs read: the operation is unused, so only a sanity bound. */
#define SSS_MAX_RELATED_IDS 1000

enum soap_errc
sss_get_related_revisions(struct sss_ctx *c)
{
	const struct soap_doc *d = c->sc_doc;
	const struct soap_elem *item;
	struct soap_writer *w = &c->sc_w;
	struct soap_iter it;
	struct wsd_err err;
	enum soap_errc ec;
	char guid[37];
	size_t n;

	if ((ec = sss_check_cookie(c)) != SOAP_ERRC_NONE)
		return ec;
	c->sc_message = "updateIDs";
	if (soap_array_begin(d, soap_child(d, d->sd_op, "updateIDs"), "guid",
		SSS_MAX_RELATED_IDS, &it, &n, &err) < 0)
		return SOAP_ERRC_INVALID_PARAMETERS;
	while ((item = soap_iter_next(&it)) != NULL)
		if (soap_get_guid(item, guid, &err) < 0)
			return SOAP_ERRC_INVALID_PARAMETERS;
	c->sc_message = NULL;
	if (soap_emit_open_ns(w, "GetRelatedRevisionsForUpdatesResponse",
		WSUSSS_NS) < 0 ||
	    soap_emit_empty(w, "GetRelatedRevisionsForUpdatesResult") < 0 ||
	    soap_emit_close(w, "GetRelatedRevisionsForUpdatesResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}
