/*
 * GetExtendedUpdateInfo2 (WUSP.md 3.9): GetExtendedUpdateInfo keyed by
 * global identity. Each (UpdateID, RevisionNumber) this server has is
 * mapped to its RevisionID and answered as GetExtendedUpdateInfo answers
 * (same fragments, same FileLocations). ExtendedUpdateInfo2 has no
 * OutOfScopeRevisionIDs, so identities this server does not have, or of
 * declined updates, are simply left out. FileDecryptionData,
 * FileDecryptionData2 and UpdateEncryptionDetails are omitted: wsusd
 * serves no encrypted content.
 */
#include "wusp/wusp_int.h"

#include <stdlib.h>

#include "common/log.h"

enum soap_errc
wusp_get_extended_update_info2(struct wusp_ctx *c)
{
	const struct soap_doc *d = c->wc_doc;
	int32_t ids[WUSP_EXT_MAX_REVISIONS];
	struct wusp_identity *v;
	struct wsd_err err;
	struct cookie ck;
	enum soap_errc ec;
	size_t n, n_ids = 0;

	if ((ec = wusp_open_client_cookie(c, soap_child(d, d->sd_op, "cookie"),
		 &ck)) != SOAP_ERRC_NONE)
		return ec;
	/* The same cap as revisionIDs (MaxExtendedUpdatesPerRequest). */
	if ((ec = wusp_identities_read(c, soap_child(d, d->sd_op, "updateIDs"),
		 WUSP_EXT_MAX_REVISIONS, "updateIDs", &v, &n)) !=
	    SOAP_ERRC_NONE)
		return ec;
	if (wusp_identities_resolve(c, v, n, false, &err) < 0) {
		log_warnx("GetExtendedUpdateInfo2: %s", err.what);
		free(v);
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	for (size_t i = 0; i < n && n_ids < WUSP_EXT_MAX_REVISIONS; i++)
		if (v[i].revision_id > 0 && v[i].revision_id <= INT32_MAX)
			ids[n_ids++] = (int32_t)v[i].revision_id;
	free(v);
	return wusp_ext_info_emit(c, ids, n_ids, true);
}
