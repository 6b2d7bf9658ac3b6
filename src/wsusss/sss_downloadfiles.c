/*
 * DownloadFiles (ServerSync, WSUSSS.md 5.9): a DSS whose /Content/
 * request failed asks us to fetch files from our own upstream. wsusd
 * keeps the content of its catalog (GetConfigData says LazySync false)
 * or is fetching it with its own sync, so there is nothing to start:
 * digests the catalog knows get the empty answer, and if any is unknown
 * the call faults FileDigestsMissing with the unknown ones, canonical
 * base64 joined by '|', as the DSS restarts its sync on that.
 */
#include "wsusss/wsusss_int.h"

#include "common/encode.h"
#include "common/log.h"
#include "store/store_sss.h"

enum soap_errc
sss_download_files(struct sss_ctx *c)
{
	const struct soap_doc *d = c->sc_doc;
	const struct soap_elem *arr, *item;
	struct soap_writer *w = &c->sc_w;
	unsigned char sha1[20];
	char b64[29];
	struct soap_iter it;
	struct wsd_err err;
	enum soap_errc ec;
	size_t n, len, missing = 0;
	bool known;

	if ((ec = sss_check_cookie(c)) != SOAP_ERRC_NONE)
		return ec;
	arr = soap_child(d, d->sd_op, "fileDigestList");
	c->sc_message = "fileDigestList";
	if (arr == NULL || soap_is_nil(arr) ||
	    soap_array_begin(d, arr, "base64Binary", SSS_MAX_PER_REQUEST, &it,
		&n, &err) < 0 ||
	    n == 0)
		return SOAP_ERRC_INVALID_PARAMETERS;
	/* All well-formed SHA-1 digests first; then look them up. */
	while ((item = soap_iter_next(&it)) != NULL)
		if (soap_get_b64(item, sha1, sizeof(sha1), &len, &err) < 0 ||
		    len != sizeof(sha1))
			return SOAP_ERRC_INVALID_PARAMETERS;
	c->sc_message = NULL;
	if (soap_array_begin(d, arr, "base64Binary", SSS_MAX_PER_REQUEST, &it,
		&n, &err) < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	while ((item = soap_iter_next(&it)) != NULL) {
		if (soap_get_b64(item, sha1, sizeof(sha1), &len, &err) < 0)
			return SOAP_ERRC_INTERNAL_SERVER_ERROR;
		if (store_sss_file_known(c->sc_store, sha1, &known, &err) < 0) {
			log_warnx("DownloadFiles: %s", err.what);
			return SOAP_ERRC_INTERNAL_SERVER_ERROR;
		}
		if (known)
			continue;
		b64_encode(sha1, sizeof(sha1), b64);
		if ((missing++ > 0 && sbuf_adds(&c->sc_msg, "|") < 0) ||
		    sbuf_adds(&c->sc_msg, b64) < 0)
			return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	if (missing > 0) {
		c->sc_message = sbuf_str(&c->sc_msg);
		return SOAP_ERRC_FILE_DIGESTS_MISSING;
	}
	if (soap_emit_empty_ns(w, "DownloadFilesResponse", WSUSSS_NS) < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}
