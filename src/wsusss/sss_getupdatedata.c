/*
 * GetUpdateData (ServerSync, WSUSSS.md 5.6): the metadata documents of
 * 1..SSS_MAX_PER_REQUEST revisions (0 or more is InvalidParameters
 * "updateIds"), each as ServerSyncUpdateData{Id, XmlUpdateBlob,
 * FileDigestList, XmlUpdateBlobCompressed} (schema order; one of the two
 * blobs), then fileUrls with one ServerSyncUrlData{FileDigest}
 * per distinct file of the returned revisions. MUUrl is omitted (wsusd
 * serves its own content; a DSS fetches it from our /Content/) and so
 * are UssUrl (unused) and DecryptionKey (no encrypted files).
 *
 * - The document is update_doc_build's. Like Windows (<36>), one over
 *   SSS_COMPRESS_OVER bytes goes as XmlUpdateBlobCompressed, the base64
 *   of a cabinet holding it in UTF-16LE (cab_blob_pack: MSZIP, as no
 *   LZX compressor exists for us; Windows itself writes LZX:21). Smaller
 *   ones go as XmlUpdateBlob text. A DSS must accept both (WSUSSS.md 5.6).
 * - Revisions we do not have are left out, not faulted: the DSS diffs
 *   requested against returned ids.
 * - Like Windows (<37>) the answer stays within 2,000,000 bytes: an
 *   update that would cross it is left out with all after it, for the
 *   DSS to ask again. The first one is always sent, however large, or a
 *   DSS could never get it.
 */
#include "wsusss/wsusss_int.h"

#include <stdlib.h>
#include <string.h>

#include "catalog/cab_blob.h"
#include "catalog/update_doc.h"
#include "common/encode.h"
#include "common/log.h"
#include "store/store.h"
#include "store/store_sss.h"

/* Windows' limit on one GetUpdateData response (<37>, OBSERVED.md #59). */
#define SSS_UPDATE_DATA_BUDGET 2000000
/* A fileUrls item: <ServerSyncUrlData><FileDigest> + 28 base64 + closing
 * tags is 92 bytes. */
#define SSS_URL_ITEM_BYTES 100
/* What follows the last update: the closing tags of updates, fileUrls,
 * the result, response, Body and Envelope. */
#define SSS_TAIL_BYTES 256
/*
 * Documents longer than this are sent compressed, as Windows does for
 * "more than 5,120 bytes" (<36>). The unit Windows counts in is not
 * documented (UTF-16 bytes or characters); ours is the UTF-8 bytes of
 * the document, so some documents Windows would compress (5,120 UTF-8
 * bytes are 10,240 UTF-16 ones) go uncompressed: both forms are valid.
 */
#define SSS_COMPRESS_OVER 5120

struct upd_state {
	struct sss_ctx *c;
	unsigned char (*digests)[20]; /* distinct, of the updates written */
	size_t n_digests;
	size_t n_updates;
	bool full;   /* the budget stopped the walk */
	bool failed; /* InternalServerError */
	struct sbuf doc;
	struct sbuf cab; /* doc as a cabinet, when compressed */
};

static bool
have_digest(const struct upd_state *s, const unsigned char *sha1)
{
	for (size_t i = 0; i < s->n_digests; i++)
		if (memcmp(s->digests[i], sha1, 20) == 0)
			return true;
	return false;
}

static int
emit_update(void *arg, const struct store_revision_out *o)
{
	struct upd_state *s = arg;
	struct soap_writer *w = &s->c->sc_w;
	const struct store_revision_in *rv = &o->rv;
	size_t mark = w->sw_sb->sb_len, before = s->n_digests;
	struct wsd_err err;
	void *p;

	sbuf_reset(&s->doc);
	if (update_doc_build(&s->doc, rv, &err) < 0) {
		log_warnx("GetUpdateData: cannot rebuild %s revision %d: %s",
		    rv->update_id, rv->revision_number, err.what);
		s->failed = true;
		return 1;
	}
	sbuf_reset(&s->cab);
	if (s->doc.sb_len > SSS_COMPRESS_OVER &&
	    cab_blob_pack(s->doc.sb_buf, s->doc.sb_len, &s->cab, &err) < 0) {
		log_warnx("GetUpdateData: cannot compress %s revision %d: %s",
		    rv->update_id, rv->revision_number, err.what);
		s->failed = true;
		return 1;
	}
	if (rv->n_files > 0) {
		p = realloc(s->digests,
		    (s->n_digests + rv->n_files) * sizeof(*s->digests));
		if (p == NULL) {
			s->failed = true;
			return 1;
		}
		s->digests = p;
	}
	if (soap_emit_open(w, "ServerSyncUpdateData") < 0 ||
	    soap_emit_open(w, "Id") < 0 ||
	    soap_emit_str(w, "UpdateID", rv->update_id) < 0 ||
	    soap_emit_i32(w, "RevisionNumber", rv->revision_number) < 0 ||
	    soap_emit_close(w, "Id") < 0 ||
	    (s->cab.sb_len == 0 &&
		soap_emit_strn(w, "XmlUpdateBlob", s->doc.sb_buf,
		    s->doc.sb_len) < 0))
		goto fail;
	if (rv->n_files > 0) {
		if (soap_emit_open(w, "FileDigestList") < 0)
			goto fail;
		for (unsigned i = 0; i < rv->n_files; i++) {
			if (soap_emit_b64(w, "base64Binary", rv->files[i].sha1,
				20) < 0)
				goto fail;
			if (!have_digest(s, rv->files[i].sha1))
				memcpy(s->digests[s->n_digests++],
				    rv->files[i].sha1, 20);
		}
		if (soap_emit_close(w, "FileDigestList") < 0)
			goto fail;
	}
	/* The budget check below measures what was written, so it counts
	 * the base64 of the cabinet, not the document. */
	if (s->cab.sb_len > 0 &&
	    soap_emit_b64(w, "XmlUpdateBlobCompressed",
		(const unsigned char *)s->cab.sb_buf, s->cab.sb_len) < 0)
		goto fail;
	if (soap_emit_close(w, "ServerSyncUpdateData") < 0)
		goto fail;
	if (s->n_updates > 0 &&
	    w->sw_sb->sb_len + s->n_digests * SSS_URL_ITEM_BYTES +
		    SSS_TAIL_BYTES >
		SSS_UPDATE_DATA_BUDGET) {
		sss_truncate(s->c, mark);
		s->n_digests = before;
		s->full = true;
		return 1;
	}
	s->n_updates++;
	return 0;
fail:
	s->failed = true;
	return 1;
}

enum soap_errc
sss_get_update_data(struct sss_ctx *c)
{
	const struct soap_doc *d = c->sc_doc;
	struct soap_writer *w = &c->sc_w;
	struct sss_update_id ids[SSS_MAX_PER_REQUEST];
	struct upd_state s;
	struct wsd_err err;
	enum soap_errc ec;
	size_t n, mark;
	char b64[29];
	int rc;

	if ((ec = sss_check_cookie(c)) != SOAP_ERRC_NONE ||
	    (ec = sss_read_update_ids(c, soap_child(d, d->sd_op, "updateIds"),
		 "updateIds", ids, &n)) != SOAP_ERRC_NONE)
		return ec;
	memset(&s, 0, sizeof(s));
	s.c = c;
	sbuf_init(&s.doc, UPDATE_DOC_MAX_BYTES);
	/* MSZIP never grows a 32 KiB block by more than a few bytes. */
	sbuf_init(&s.cab, 2 * UPDATE_DOC_MAX_BYTES + 1024 * 1024);
	ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if (soap_emit_open_ns(w, "GetUpdateDataResponse", WSUSSS_NS) < 0 ||
	    soap_emit_open(w, "GetUpdateDataResult") < 0)
		goto out;
	mark = w->sw_sb->sb_len;
	if (soap_emit_open(w, "updates") < 0)
		goto out;
	for (size_t i = 0; i < n && !s.full; i++) {
		rc = store_sss_revision_get(c->sc_store, ids[i].id,
		    ids[i].revision, emit_update, &s, &err);
		if (rc == WSD_ENOTFOUND)
			continue;
		if (rc < 0) {
			log_warnx("GetUpdateData: %s", err.what);
			goto out;
		}
		if (s.failed)
			goto out;
	}
	if (s.n_updates == 0) {
		sss_truncate(c, mark);
		if (soap_emit_empty(w, "updates") < 0 ||
		    soap_emit_empty(w, "fileUrls") < 0)
			goto out;
	} else {
		if (soap_emit_close(w, "updates") < 0)
			goto out;
		if (s.n_digests == 0) {
			if (soap_emit_empty(w, "fileUrls") < 0)
				goto out;
		} else {
			if (soap_emit_open(w, "fileUrls") < 0)
				goto out;
			for (size_t i = 0; i < s.n_digests; i++) {
				b64_encode(s.digests[i], 20, b64);
				if (soap_emit_open(w, "ServerSyncUrlData") < 0 ||
				    soap_emit_str(w, "FileDigest", b64) < 0 ||
				    soap_emit_close(w, "ServerSyncUrlData") < 0)
					goto out;
			}
			if (soap_emit_close(w, "fileUrls") < 0)
				goto out;
		}
	}
	if (soap_emit_close(w, "GetUpdateDataResult") < 0 ||
	    soap_emit_close(w, "GetUpdateDataResponse") < 0)
		goto out;
	ec = SOAP_ERRC_NONE;
out:
	sbuf_release(&s.doc);
	sbuf_release(&s.cab);
	free(s.digests);
	return ec;
}
