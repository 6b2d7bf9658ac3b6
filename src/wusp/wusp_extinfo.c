/*
 * GetExtendedUpdateInfo (WUSP.md 3.8) and GetFileLocations (3.10).
 *
 * Fragments go out byte-exact from the store, one Update per (revision,
 * fragment type), each requested type in turn over the revisions in
 * ascending order, as flow/000015 shows. FileLocations name every file of
 * the requested revisions even when FileUrl was not asked for, on the
 * HTTP content port with the configured server name. A revision this
 * server does not have, or of a declined update, is reported in
 * OutOfScopeRevisionIDs. (Scope is not yet narrowed to what is approved
 * for the computer: categories and detectoids must be readable anyway,
 * and metadata carries no payload.)
 */
#include "wusp/wusp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/encode.h"
#include "config/config.h"
#include "content/content_store.h"

#define EXT_MAX_REVISIONS WUSP_EXT_MAX_REVISIONS
#define EXT_MAX_TYPES 8
#define EXT_MAX_LOCALES 16
#define EXT_MAX_FILES 4096
#define EXT_MAX_DIGESTS 1000

struct file_loc {
	unsigned char sha1[20];
	char name[256];
};

struct ext_pass {
	struct wusp_ctx *c;
	const char *type;
	struct sv locales[EXT_MAX_LOCALES];
	size_t n_locales;
	struct file_loc *files;
	size_t n_files;
	bool failed;
	bool found;
};

static int
emit_update(struct soap_writer *w, int64_t id, const char *xml, size_t n)
{
	if (soap_emit_open(w, "Update") < 0 ||
	    soap_emit_i64(w, "ID", id) < 0 ||
	    soap_emit_strn(w, "Xml", xml, n) < 0 ||
	    soap_emit_close(w, "Update") < 0)
		return -1;
	return 0;
}

static bool
locale_wanted(const struct ext_pass *p, const char *lang)
{
	struct sv l = sv_from_cstr(lang);

	/* The spec: always the "en" fragment. */
	if (sv_eq_cstr_ci(l, "en"))
		return true;
	for (size_t i = 0; i < p->n_locales; i++)
		if (sv_eq_ci(l, p->locales[i]))
			return true;
	return false;
}

static void
add_file(struct ext_pass *p, const struct store_file *f)
{
	for (size_t i = 0; i < p->n_files; i++)
		if (memcmp(p->files[i].sha1, f->sha1, 20) == 0)
			return;
	if (p->n_files == EXT_MAX_FILES)
		return;
	memcpy(p->files[p->n_files].sha1, f->sha1, 20);
	snprintf(p->files[p->n_files].name, sizeof(p->files[0].name), "%s",
	    f->file_name ? f->file_name : "");
	p->n_files++;
}

static int
per_revision(void *arg, const struct store_revision_out *o)
{
	struct ext_pass *p = arg;
	struct soap_writer *w = &p->c->wc_w;
	const struct store_revision_in *rv = &o->rv;

	p->found = !o->declined;
	if (o->declined || p->failed)
		return 0;
	if (p->type == NULL) {
		for (unsigned i = 0; i < rv->n_files; i++)
			add_file(p, &rv->files[i]);
	} else if (strcmp(p->type, "Extended") == 0) {
		if (rv->xml_extended != NULL &&
		    emit_update(w, o->revision_id, rv->xml_extended,
			rv->xml_extended_len) < 0)
			p->failed = true;
	} else if (strcmp(p->type, "Core") == 0) {
		if (emit_update(w, o->revision_id, rv->xml_core,
			rv->xml_core_len) < 0)
			p->failed = true;
	} else if (strcmp(p->type, "LocalizedProperties") == 0) {
		for (unsigned i = 0; i < rv->n_localized; i++)
			if (locale_wanted(p, rv->localized[i].language) &&
			    emit_update(w, o->revision_id, rv->localized[i].xml,
				rv->localized[i].xml_len) < 0)
				p->failed = true;
	}
	return 0;
}

static int
cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return x < y ? -1 : x > y;
}

static int
emit_locations(struct wusp_ctx *c, struct ext_pass *p)
{
	struct soap_writer *w = &c->wc_w;

	if (p->n_files == 0)
		return 0;
	if (soap_emit_open(w, "FileLocations") < 0)
		return -1;
	for (size_t i = 0; i < p->n_files; i++) {
		struct content_expect ce;
		char rel[CONTENT_REL_PATH_MAX], url[512];

		memset(&ce, 0, sizeof(ce));
		memcpy(ce.sha1, p->files[i].sha1, 20);
		ce.filename = p->files[i].name;
		if (content_rel_path(&ce, rel, sizeof(rel)) < 0)
			return -1;
		snprintf(url, sizeof(url), "http://%s:%u/Content/%s",
		    c->wc_cf->cf_server_name, c->wc_cf->cf_http_port, rel);
		if (soap_emit_open(w, "FileLocation") < 0 ||
		    soap_emit_b64(w, "FileDigest", ce.sha1, 20) < 0 ||
		    soap_emit_str(w, "Url", url) < 0 ||
		    soap_emit_close(w, "FileLocation") < 0)
			return -1;
	}
	return soap_emit_close(w, "FileLocations");
}

/* After the cookie and the revisions: the rest, shared by ...2. */
static enum soap_errc
ext_info(struct wusp_ctx *c, struct ext_pass *p, int32_t *ids, size_t n_ids,
    bool v2)
{
	const struct soap_doc *d = c->wc_doc;
	const struct soap_elem *op = d->sd_op, *arr, *e;
	struct soap_writer *w = &c->wc_w;
	const char *resp = v2 ? "GetExtendedUpdateInfo2Response" :
				"GetExtendedUpdateInfoResponse";
	const char *result = v2 ? "GetExtendedUpdateInfo2Result" :
				  "GetExtendedUpdateInfoResult";
	int32_t out[EXT_MAX_REVISIONS];
	struct sv types[EXT_MAX_TYPES];
	size_t n_types = 0, n_out = 0, count;
	bool want_loc = false, any = false;
	struct soap_iter it;
	struct wsd_err err;

	if (n_ids > EXT_MAX_REVISIONS)
		return SOAP_ERRC_INVALID_PARAMETERS;
	if ((arr = soap_child(d, op, "infoTypes")) == NULL ||
	    soap_array_begin(d, arr, "XmlUpdateFragmentType", EXT_MAX_TYPES,
		&it, &count, &err) < 0 || count == 0) {
		c->wc_message = "infoTypes";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	while ((e = soap_iter_next(&it)) != NULL) {
		if (soap_get_str(e, 64, &types[n_types], &err) < 0) {
			c->wc_message = "infoTypes";
			return SOAP_ERRC_INVALID_PARAMETERS;
		}
		want_loc |= sv_eq(types[n_types], SV_LIT("LocalizedProperties")) ||
		    sv_eq(types[n_types], SV_LIT("Eula"));
		n_types++;
	}
	if ((arr = soap_child(d, op, "locales")) != NULL &&
	    soap_array_begin(d, arr, "string", EXT_MAX_LOCALES, &it, &count,
		&err) == 0) {
		while ((e = soap_iter_next(&it)) != NULL)
			if (soap_get_str(e, 32, &p->locales[p->n_locales],
				&err) == 0)
				p->n_locales++;
	} else if (want_loc) {
		c->wc_message = "locales";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	qsort(ids, n_ids, sizeof(ids[0]), cmp_i32);

	if (soap_emit_open_ns(w, resp, SOAP_NS_CLIENT) < 0 ||
	    soap_emit_open(w, result) < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	/* Which revisions exist (and files, for FileLocations). */
	p->type = NULL;
	for (size_t i = 0; i < n_ids; i++) {
		if (i > 0 && ids[i] == ids[i - 1])
			continue;
		p->found = false;
		if (store_revision_by_id(c->wc_store, ids[i], per_revision, p,
			&err) < 0 && err.code != WSD_ENOTFOUND)
			return SOAP_ERRC_INTERNAL_SERVER_ERROR;
		if (!p->found)
			out[n_out++] = ids[i];
		else
			any = true;
	}
	if (any) {
		if (soap_emit_open(w, "Updates") < 0)
			return SOAP_ERRC_INTERNAL_SERVER_ERROR;
		for (size_t t = 0; t < n_types; t++) {
			char type[64];

			snprintf(type, sizeof(type), "%.*s", (int)types[t].n,
			    types[t].p);
			p->type = type;
			for (size_t i = 0; i < n_ids; i++) {
				if (i > 0 && ids[i] == ids[i - 1])
					continue;
				if (store_revision_by_id(c->wc_store, ids[i],
					per_revision, p, &err) < 0 &&
				    err.code != WSD_ENOTFOUND)
					return SOAP_ERRC_INTERNAL_SERVER_ERROR;
			}
		}
		if (p->failed || soap_emit_close(w, "Updates") < 0)
			return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	if (emit_locations(c, p) < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	/* ExtendedUpdateInfo2 has no OutOfScopeRevisionIDs. */
	if (n_out > 0 && !v2) {
		if (soap_emit_open(w, "OutOfScopeRevisionIDs") < 0)
			return SOAP_ERRC_INTERNAL_SERVER_ERROR;
		for (size_t i = 0; i < n_out; i++)
			if (soap_emit_i32(w, "int", out[i]) < 0)
				return SOAP_ERRC_INTERNAL_SERVER_ERROR;
		if (soap_emit_close(w, "OutOfScopeRevisionIDs") < 0)
			return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	if (soap_emit_close(w, result) < 0 || soap_emit_close(w, resp) < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}

enum soap_errc
wusp_ext_info_emit(struct wusp_ctx *c, int32_t *ids, size_t n_ids, bool v2)
{
	struct ext_pass p;
	enum soap_errc ec;

	memset(&p, 0, sizeof(p));
	p.c = c;
	if ((p.files = calloc(EXT_MAX_FILES, sizeof(*p.files))) == NULL)
		return SOAP_ERRC_SERVER_BUSY;
	ec = ext_info(c, &p, ids, n_ids, v2);
	free(p.files);
	return ec;
}

enum soap_errc
wusp_get_extended_update_info(struct wusp_ctx *c)
{
	const struct soap_doc *d = c->wc_doc;
	const struct soap_elem *arr;
	int32_t ids[EXT_MAX_REVISIONS + 1];
	struct wsd_err err;
	struct cookie ck;
	enum soap_errc ec;
	size_t n_ids = 0;

	if ((ec = wusp_open_client_cookie(c, soap_child(d, d->sd_op, "cookie"),
		 &ck)) != SOAP_ERRC_NONE)
		return ec;
	if ((arr = soap_child(d, d->sd_op, "revisionIDs")) == NULL ||
	    soap_array_i32(d, arr, "int", ids, EXT_MAX_REVISIONS, &n_ids,
		&err) < 0) {
		c->wc_message = "revisionIDs";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	return wusp_ext_info_emit(c, ids, n_ids, false);
}

/* The requested digests, sorted, with what the store knows of them. */
struct digest_set {
	struct file_loc *v; /* sha1 filled; name "" until found */
	size_t n;
};

static int
cmp_sha1(const void *a, const void *b)
{
	return memcmp(a, b, 20);
}

/* One pass over the file table for all requested digests. */
static int
file_cb(void *arg, const struct store_file_row *r)
{
	struct digest_set *ds = arg;
	struct file_loc *f = bsearch(r->sha1, ds->v, ds->n, sizeof(*ds->v),
	    cmp_sha1);

	if (f != NULL)
		snprintf(f->name, sizeof(f->name), "%s",
		    r->file_name[0] ? r->file_name : "?");
	return 0;
}

enum soap_errc
wusp_get_file_locations(struct wusp_ctx *c)
{
	const struct soap_doc *d = c->wc_doc;
	const struct soap_elem *op = d->sd_op, *arr, *e;
	struct soap_writer *w = &c->wc_w;
	char b64[COOKIE_B64_BUFSZ];
	struct ext_pass p;
	struct soap_iter it;
	struct wsd_err err;
	struct cookie ck;
	enum soap_errc ec;
	size_t count;

	if ((ec = wusp_open_client_cookie(c, soap_child(d, op, "cookie"),
		 &ck)) != SOAP_ERRC_NONE)
		return ec;
	if ((arr = soap_child(d, op, "fileDigests")) == NULL ||
	    soap_array_begin(d, arr, "base64Binary", EXT_MAX_DIGESTS, &it,
		&count, &err) < 0) {
		c->wc_message = "fileDigests";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	memset(&p, 0, sizeof(p));
	p.c = c;
	if ((p.files = calloc(EXT_MAX_FILES, sizeof(*p.files))) == NULL)
		return SOAP_ERRC_SERVER_BUSY;
	{
		struct digest_set ds = { calloc(count ? count : 1,
						 sizeof(*ds.v)),
			0 };

		if (ds.v == NULL) {
			free(p.files);
			return SOAP_ERRC_SERVER_BUSY;
		}
		while ((e = soap_iter_next(&it)) != NULL && ds.n < count) {
			size_t n = 0;

			if (soap_get_b64(e, ds.v[ds.n].sha1, 20, &n, &err) < 0 ||
			    n != 20) {
				free(ds.v);
				free(p.files);
				c->wc_message = "fileDigests";
				return SOAP_ERRC_INVALID_PARAMETERS;
			}
			ds.n++;
		}
		qsort(ds.v, ds.n, sizeof(*ds.v), cmp_sha1);
		/* A location for every known digest, on disk or not
		 * (OBSERVED 40, 42). */
		if (store_files_list(c->wc_store, file_cb, &ds, &err) == 0)
			for (size_t i = 0; i < ds.n && p.n_files < EXT_MAX_FILES;
			     i++) {
				if (ds.v[i].name[0] == '\0' ||
				    (i > 0 && memcmp(ds.v[i].sha1,
						  ds.v[i - 1].sha1, 20) == 0))
					continue;
				p.files[p.n_files++] = ds.v[i];
			}
		free(ds.v);
	}
	ck.co_issued = (int64_t)c->wc_now;
	if (cookie_seal(c->wc_keys, &ck, b64, sizeof(b64), &err) < 0) {
		free(p.files);
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	{
		struct soap_datetime exp = soap_datetime_from_unix(
		    ck.co_expires, 0);

		if (soap_emit_open_ns(w, "GetFileLocationsResponse",
			SOAP_NS_CLIENT) < 0 ||
		    soap_emit_open(w, "GetFileLocationsResult") < 0 ||
		    emit_locations(c, &p) < 0 ||
		    soap_emit_open(w, "NewCookie") < 0 ||
		    soap_emit_datetime(w, "Expiration", &exp) < 0 ||
		    soap_emit_str(w, "EncryptedData", b64) < 0 ||
		    soap_emit_close(w, "NewCookie") < 0 ||
		    soap_emit_close(w, "GetFileLocationsResult") < 0 ||
		    soap_emit_close(w, "GetFileLocationsResponse") < 0)
			ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	free(p.files);
	return ec;
}
