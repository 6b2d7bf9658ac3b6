/*
 * GetUpdateDecryptionData (ServerSync, WSUSSS.md 5.7): the keys of
 * encrypted files. wsusd stores no encrypted content and no keys, so
 * after validating the request (1..SSS_MAX_PER_REQUEST UpdateIdentity
 * items, as GetConfigData's MaxUpdatesPerRequestInGetUpdateDecryptionData
 * says) the answer is always the empty list.
 */
#include "wsusss/wsusss_int.h"

enum soap_errc
sss_get_update_decryption_data(struct sss_ctx *c)
{
	const struct soap_doc *d = c->sc_doc;
	struct soap_writer *w = &c->sc_w;
	struct sss_update_id ids[SSS_MAX_PER_REQUEST];
	enum soap_errc ec;
	size_t n;

	if ((ec = sss_check_cookie(c)) != SOAP_ERRC_NONE ||
	    (ec = sss_read_update_ids(c, soap_child(d, d->sd_op, "updateIds"),
		 "updateIds", ids, &n)) != SOAP_ERRC_NONE)
		return ec;
	if (soap_emit_open_ns(w, "GetUpdateDecryptionDataResponse",
		WSUSSS_NS) < 0 ||
	    soap_emit_open(w, "GetUpdateDecryptionDataResult") < 0 ||
	    soap_emit_empty(w, "UpdateFileDecryptionData") < 0 ||
	    soap_emit_close(w, "GetUpdateDecryptionDataResult") < 0 ||
	    soap_emit_close(w, "GetUpdateDecryptionDataResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}
