/* The downstream server's MS-WSUSSS messages: sync_proto.h. */
#include "sync/sync_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlreader.h>

#include "catalog/cab_blob.h"
#include "catalog/update_doc.h"
#include "common/encode.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "common/strparse.h"
#include "soap/soap_emit.h"
#include "wsusss/wsusss.h"

#define NS        WSUSSS_NS
#define NS_AUTH   WSUSSS_NS_DSSAUTH
#define ACT(op)   NS "/" op
#define REQ_MAX   (1024 * 1024)
/* Items of one GetRevisionIdList (MU's unfiltered list is ~10^6). */
#define MAX_LISTED 4000000L
#define MAX_XML_DEPTH 32

/* Sends the request in SB (an open envelope) and parses the answer. */
static int
exchange(struct sync_session *s, const char *path, const char *action,
    const char *op, struct soap_writer *w, struct sbuf *req,
    struct sbuf *answer, struct soap_doc *doc, struct wsd_err *err)
{
	int rc;

	if (soap_emit_end(w) < 0) {
		sbuf_release(req);
		return wsd_fail(err, WSD_ENOMEM, "request too large");
	}
	sbuf_init(answer, SYNC_MAX_ANSWER);
	rc = sync_client_call(s->client, path, action, req, answer, err);
	sbuf_release(req);
	if (rc < 0) {
		sbuf_release(answer);
		return rc;
	}
	if (doc != NULL &&
	    (rc = sync_parse_answer(answer, op, doc, err)) < 0) {
		sbuf_release(answer);
		return rc;
	}
	return 0;
}

static int
begin(struct soap_writer *w, struct sbuf *req, const char *op, const char *ns)
{
	sbuf_init(req, REQ_MAX);
	if (soap_emit_begin(w, req, SOAP_STYLE_ASMX) < 0 ||
	    soap_emit_open_ns(w, op, ns) < 0)
		return -1;
	return 0;
}

static int
emit_cookie(struct soap_writer *w, const struct sync_session *s,
    const char *name)
{
	if (soap_emit_open(w, name) < 0 ||
	    soap_emit_str(w, "Expiration", s->expiration) < 0 ||
	    soap_emit_str(w, "EncryptedData", s->encrypted) < 0 ||
	    soap_emit_close(w, name) < 0)
		return -1;
	return 0;
}

static int
copy_str(const struct soap_elem *e, char *out, size_t size, const char *what,
    struct wsd_err *err)
{
	struct sv v;

	if (e == NULL || soap_get_str(e, size - 1, &v, err) < 0)
		return wsd_fail(err, WSD_EINVAL, what);
	memcpy(out, v.p, v.n + 1);
	return 0;
}

int
sync_authorize(struct sync_session *s, const char *account_name,
    const char *account_guid, struct wsd_err *err)
{
	struct soap_writer w;
	struct soap_doc doc;
	struct sbuf req, ans;
	const struct soap_elem *r, *e;
	char plugin[64], data[SYNC_COOKIE_MAX], path[600];
	struct sv url;
	int rc;

	/* 1. Where the authorization service is (relative to the root). */
	soap_doc_init(&doc);
	if (begin(&w, &req, "GetAuthConfig", NS) < 0 ||
	    soap_emit_close(&w, "GetAuthConfig") < 0) {
		sbuf_release(&req);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	if ((rc = exchange(s, SYNC_SERVERSYNC_PATH, ACT("GetAuthConfig"),
		 "GetAuthConfig", &w, &req, &ans, &doc, err)) < 0)
		return rc;
	r = soap_child(&doc, soap_op(&doc), "GetAuthConfigResult");
	e = soap_child(&doc,
	    soap_child(&doc, soap_child(&doc, r, "AuthInfo"), "AuthPlugInInfo"),
	    "ServiceUrl");
	rc = 0;
	if (e == NULL || soap_get_str(e, 256, &url, err) < 0 || url.n == 0 ||
	    strstr(url.p, "://") != NULL || strstr(url.p, "..") != NULL)
		rc = wsd_fail(err, WSD_EINVAL,
		    "GetAuthConfig: no usable DssAuth ServiceUrl");
	else
		/* Relative to the root (WSUSSS.md 5.1); one '/' between. */
		snprintf(path, sizeof(path), "%s",
		    url.p + strspn(url.p, "/"));
	soap_doc_release(&doc);
	sbuf_release(&ans);
	if (rc < 0)
		return rc;

	/* 2. The authorization cookie, for this server's name and id. */
	if (begin(&w, &req, "GetAuthorizationCookie", NS_AUTH) < 0 ||
	    soap_emit_str(&w, "accountName", account_name) < 0 ||
	    soap_emit_str(&w, "accountGuid", account_guid) < 0 ||
	    soap_emit_close(&w, "GetAuthorizationCookie") < 0) {
		sbuf_release(&req);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	if ((rc = exchange(s, path,
		 WSUSSS_NS_DSSAUTH "/GetAuthorizationCookie",
		 "GetAuthorizationCookie", &w, &req, &ans, &doc, err)) < 0)
		return rc;
	r = soap_child(&doc, soap_op(&doc), "GetAuthorizationCookieResult");
	rc = copy_str(soap_child(&doc, r, "PlugInId"), plugin, sizeof(plugin),
	    "GetAuthorizationCookie: no PlugInId", err);
	if (rc == 0)
		rc = copy_str(soap_child(&doc, r, "CookieData"), data,
		    sizeof(data), "GetAuthorizationCookie: no CookieData", err);
	soap_doc_release(&doc);
	sbuf_release(&ans);
	if (rc < 0)
		return rc;

	/* 3. The Cookie every later call carries (copied verbatim, in the
	 * ServerSync namespace: WSUSSS.md 5.2). */
	if (begin(&w, &req, "GetCookie", NS) < 0 ||
	    soap_emit_open(&w, "authCookies") < 0 ||
	    soap_emit_open(&w, "AuthorizationCookie") < 0 ||
	    soap_emit_str(&w, "PlugInId", plugin) < 0 ||
	    soap_emit_str(&w, "CookieData", data) < 0 ||
	    soap_emit_close(&w, "AuthorizationCookie") < 0 ||
	    soap_emit_close(&w, "authCookies") < 0 ||
	    soap_emit_str(&w, "protocolVersion", SYNC_PROTOCOL_VERSION) < 0 ||
	    soap_emit_close(&w, "GetCookie") < 0) {
		sbuf_release(&req);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	if ((rc = exchange(s, SYNC_SERVERSYNC_PATH, ACT("GetCookie"),
		 "GetCookie", &w, &req, &ans, &doc, err)) < 0)
		return rc;
	r = soap_child(&doc, soap_op(&doc), "GetCookieResult");
	rc = copy_str(soap_child(&doc, r, "Expiration"), s->expiration,
	    sizeof(s->expiration), "GetCookie: no Expiration", err);
	if (rc == 0)
		rc = copy_str(soap_child(&doc, r, "EncryptedData"),
		    s->encrypted, sizeof(s->encrypted),
		    "GetCookie: no EncryptedData", err);
	soap_doc_release(&doc);
	sbuf_release(&ans);
	return rc;
}

/* An int of the answer, any position (WSUSSS.md 5.4: order varies). */
static int
get_int(const struct soap_doc *d, const struct soap_elem *r,
    const char *name, int32_t *out, struct wsd_err *err)
{
	const struct soap_elem *e = soap_child(d, r, name);

	if (e == NULL || soap_get_i32(e, out, err) < 0)
		return wsd_fail(err, WSD_EINVAL,
		    "GetConfigData: a required number is missing");
	return 0;
}

int
sync_get_config_data(struct sync_session *s, const char *anchor,
    struct sync_config_data *out, struct wsd_err *err)
{
	struct soap_writer w;
	struct soap_doc doc;
	struct sbuf req, ans;
	const struct soap_elem *r, *e;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	soap_doc_init(&doc);
	if (begin(&w, &req, "GetConfigData", NS) < 0 ||
	    emit_cookie(&w, s, "cookie") < 0 ||
	    (anchor != NULL && anchor[0] != '\0' &&
		soap_emit_str(&w, "configAnchor", anchor) < 0) ||
	    soap_emit_close(&w, "GetConfigData") < 0) {
		sbuf_release(&req);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	if ((rc = exchange(s, SYNC_SERVERSYNC_PATH, ACT("GetConfigData"),
		 "GetConfigData", &w, &req, &ans, &doc, err)) < 0)
		return rc;
	r = soap_child(&doc, soap_op(&doc), "GetConfigDataResult");
	if (soap_get_bool(soap_child(&doc, r, "CatalogOnlySync"),
		&out->catalog_only, err) < 0 ||
	    soap_get_bool(soap_child(&doc, r, "LazySync"), &out->lazy, err) <
		0)
		rc = wsd_fail(err, WSD_EINVAL,
		    "GetConfigData: CatalogOnlySync or LazySync missing");
	if (rc == 0)
		rc = get_int(&doc, r, "MaxNumberOfUpdatesPerRequest",
		    &out->max_updates, err);
	if (rc == 0 && (e = soap_child(&doc, r, "NewConfigAnchor")) != NULL)
		rc = copy_str(e, out->new_anchor, sizeof(out->new_anchor),
		    "GetConfigData: NewConfigAnchor too long", err);
	if (rc == 0 && (e = soap_child(&doc, r, "ProtocolVersion")) != NULL)
		rc = copy_str(e, out->protocol_version,
		    sizeof(out->protocol_version),
		    "GetConfigData: ProtocolVersion too long", err);
	/* At most Windows' 100 per GetUpdateData; fewer if asked. */
	if (rc == 0 && out->max_updates < 1)
		rc = wsd_fail(err, WSD_EINVAL,
		    "GetConfigData: MaxNumberOfUpdatesPerRequest < 1");
	if (out->max_updates > 100)
		out->max_updates = 100;
	soap_doc_release(&doc);
	sbuf_release(&ans);
	return rc;
}

static int
emit_ids(struct soap_writer *w, const char *name,
    const struct sync_filter_id *v, size_t n)
{
	if (n == 0)
		return 0;
	if (soap_emit_open(w, name) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (soap_emit_open(w, "IdAndDelta") < 0 ||
		    soap_emit_str(w, "Id", v[i].id) < 0 ||
		    soap_emit_bool(w, "Delta", v[i].delta) < 0 ||
		    soap_emit_close(w, "IdAndDelta") < 0)
			return -1;
	return soap_emit_close(w, name);
}

/* The text of the reader's current element, bounded. */
static int
reader_text(xmlTextReaderPtr r, char *out, size_t size)
{
	xmlChar *t = xmlTextReaderReadString(r);
	size_t n;

	if (t == NULL)
		return -1;
	n = strlen((const char *)t);
	if (n >= size) {
		xmlFree(t);
		return -1;
	}
	memcpy(out, t, n + 1);
	xmlFree(t);
	return 0;
}

/*
 * Walks a RevisionIdList answer without building a tree: Anchor, then
 * UpdateIdentity{UpdateID, RevisionNumber} items in the ServerSync
 * namespace. A DTD, an entity reference or nesting deeper than
 * MAX_XML_DEPTH refuses the answer (sync_proto.h).
 */
int
sync_parse_revision_ids(const struct sbuf *ans,
    int (*cb)(void *, const char *, int), void *arg,
    char anchor_out[STORE_ANCHOR_MAX], struct wsd_err *err)
{
	xmlTextReaderPtr r;
	char id[37] = "", text[64];
	bool have_id = false, have_anchor = false, in_result = false;
	long listed = 0;
	int rc = 0, st;

	anchor_out[0] = '\0';
	if (ans->sb_len > INT32_MAX)
		return wsd_fail(err, WSD_ETOOBIG, "answer too large");
	r = xmlReaderForMemory(ans->sb_buf, (int)ans->sb_len, NULL, "UTF-8",
	    XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	if (r == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	while (rc == 0 && (st = xmlTextReaderRead(r)) == 1) {
		int type = xmlTextReaderNodeType(r);
		const xmlChar *name, *ns;

		if (type == XML_READER_TYPE_DOCUMENT_TYPE ||
		    type == XML_READER_TYPE_ENTITY_REFERENCE ||
		    type == XML_READER_TYPE_ENTITY ||
		    xmlTextReaderDepth(r) > MAX_XML_DEPTH) {
			rc = wsd_fail(err, WSD_EINVAL,
			    "GetRevisionIdList: DTD, entity or nesting "
			    "refused");
			break;
		}
		if (type != XML_READER_TYPE_ELEMENT)
			continue;
		name = xmlTextReaderConstLocalName(r);
		ns = xmlTextReaderConstNamespaceUri(r);
		if (name == NULL)
			continue;
		if (strcmp((const char *)name, "GetRevisionIdListResult") ==
		    0) {
			in_result = true;
			continue;
		}
		if (!in_result || ns == NULL ||
		    strcmp((const char *)ns, NS) != 0)
			continue;
		if (!have_anchor && strcmp((const char *)name, "Anchor") == 0) {
			if (reader_text(r, anchor_out, STORE_ANCHOR_MAX) < 0)
				rc = wsd_fail(err, WSD_EINVAL,
				    "GetRevisionIdList: Anchor too long");
			have_anchor = true;
		} else if (strcmp((const char *)name, "UpdateID") == 0) {
			if (reader_text(r, text, sizeof(text)) < 0 ||
			    guid_normalize(text, id) < 0)
				rc = wsd_fail(err, WSD_EINVAL,
				    "GetRevisionIdList: bad UpdateID");
			have_id = true;
		} else if (strcmp((const char *)name, "RevisionNumber") == 0) {
			int32_t rev;

			if (!have_id || reader_text(r, text, sizeof(text)) < 0 ||
			    soap_xs_i32((struct sv){ text, strlen(text) }, &rev,
				err) < 0 ||
			    rev < 0)
				rc = wsd_fail(err, WSD_EINVAL,
				    "GetRevisionIdList: bad RevisionNumber");
			else if (++listed > MAX_LISTED)
				rc = wsd_fail(err, WSD_ETOOBIG,
				    "GetRevisionIdList: too many revisions");
			else
				rc = cb(arg, id, rev);
			have_id = false;
		}
	}
	if (rc == 0 && st != 0)
		rc = wsd_fail(err, WSD_EINVAL,
		    "GetRevisionIdList: the answer is not well-formed XML");
	if (rc == 0 && !in_result)
		rc = wsd_fail(err, WSD_EINVAL,
		    "GetRevisionIdList: no GetRevisionIdListResult");
	xmlFreeTextReader(r);
	return rc;
}

int
sync_get_revision_ids(struct sync_session *s, bool config,
    const char *anchor, const struct sync_filter_id *categories, size_t nc,
    const struct sync_filter_id *classifications, size_t ncl,
    int (*cb)(void *, const char *, int), void *arg,
    char anchor_out[STORE_ANCHOR_MAX], struct wsd_err *err)
{
	struct soap_writer w;
	struct sbuf req, ans;
	int rc;

	/* Order: ServerSyncFilter of schema/ORDER.md; DssProtocolVersion
	 * never sent (reserved), Languages not sent (all). */
	if (begin(&w, &req, "GetRevisionIdList", NS) < 0 ||
	    emit_cookie(&w, s, "cookie") < 0 ||
	    soap_emit_open(&w, "filter") < 0 ||
	    (anchor != NULL && anchor[0] != '\0' &&
		soap_emit_str(&w, "Anchor", anchor) < 0) ||
	    soap_emit_bool(&w, "GetConfig", config) < 0 ||
	    soap_emit_bool(&w, "Get63LanguageOnly", false) < 0 ||
	    (!config && emit_ids(&w, "Categories", categories, nc) < 0) ||
	    (!config &&
		emit_ids(&w, "Classifications", classifications, ncl) < 0) ||
	    soap_emit_close(&w, "filter") < 0 ||
	    soap_emit_close(&w, "GetRevisionIdList") < 0) {
		sbuf_release(&req);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	if ((rc = exchange(s, SYNC_SERVERSYNC_PATH, ACT("GetRevisionIdList"),
		 "GetRevisionIdList", &w, &req, &ans, NULL, err)) < 0)
		return rc;
	rc = sync_parse_revision_ids(&ans, cb, arg, anchor_out, err);
	sbuf_release(&ans);
	return rc;
}

/* The cabinet of one XmlUpdateBlobCompressed, decoded from base64. */
#define SYNC_CAB_MAX (16 * 1024 * 1024)

/*
 * XmlUpdateBlobCompressed (WSUSSS.md 5.6): base64 of a cabinet whose file
 * "blob" is the document in UTF-16LE. The UTF-16 form of a document may
 * be twice its UTF-8 size, so the cabinet's file is bounded by twice
 * UPDATE_DOC_MAX_BYTES and the UTF-8 result by UPDATE_DOC_MAX_BYTES, the
 * same bound an XmlUpdateBlob document meets in update_doc_split.
 */
static int
read_compressed_blob(const struct soap_elem *e, struct sbuf *doc,
    struct wsd_err *err)
{
	unsigned char *cab;
	struct sv t;
	size_t max, n;
	int rc;

	if (soap_get_str(e, WSD_MAX_XML_TEXT, &t, err) < 0)
		return wsd_fail(err, WSD_EINVAL,
		    "GetUpdateData: unreadable XmlUpdateBlobCompressed");
	max = t.n / 4 * 3 + 3;
	if (max > SYNC_CAB_MAX)
		max = SYNC_CAB_MAX;
	if ((cab = malloc(max)) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	if (soap_b64_decode(t, cab, max, &n, err) < 0) {
		free(cab);
		return wsd_fail(err, WSD_EINVAL,
		    "GetUpdateData: XmlUpdateBlobCompressed is not base64");
	}
	sbuf_reset(doc);
	rc = cab_blob_unpack(cab, n, 2 * (size_t)UPDATE_DOC_MAX_BYTES, doc,
	    err);
	free(cab);
	return rc;
}

int
sync_parse_update_data(const struct sbuf *ans,
    int (*cb)(void *, const char *, int, const char *, size_t), void *arg,
    struct wsd_err *err)
{
	struct soap_doc doc;
	struct sbuf unpacked;
	const struct soap_elem *u, *e;
	int rc = 0;

	soap_doc_init(&doc);
	if ((rc = sync_parse_answer(ans, "GetUpdateData", &doc, err)) < 0)
		return rc;
	sbuf_init(&unpacked, UPDATE_DOC_MAX_BYTES);
	u = soap_child(&doc,
	    soap_child(&doc, soap_op(&doc), "GetUpdateDataResult"), "updates");
	for (e = soap_elem_first(u); rc == 0 && e != NULL;
	     e = soap_elem_next(e)) {
		const struct soap_elem *id = soap_child(&doc, e, "Id");
		const struct soap_elem *blob =
		    soap_child(&doc, e, "XmlUpdateBlob");
		const struct soap_elem *zblob =
		    soap_child(&doc, e, "XmlUpdateBlobCompressed");
		char guid[37];
		int32_t rev;
		struct sv x;

		if (strcmp(soap_elem_name(e), "ServerSyncUpdateData") != 0)
			continue;
		if (soap_get_guid(soap_child(&doc, id, "UpdateID"), guid,
			err) < 0 ||
		    soap_get_i32(soap_child(&doc, id, "RevisionNumber"), &rev,
			err) < 0 ||
		    rev < 0) {
			rc = wsd_fail(err, WSD_EINVAL,
			    "GetUpdateData: a revision without a valid Id");
			break;
		}
		if (blob == NULL && zblob == NULL) {
			rc = wsd_fail(err, WSD_EINVAL,
			    "GetUpdateData: a revision without metadata");
			break;
		}
		if (blob != NULL && zblob != NULL) {
			/* "never both" (WSUSSS.md 5.6): which one is it? */
			rc = wsd_fail(err, WSD_EINVAL,
			    "GetUpdateData: both XmlUpdateBlob and "
			    "XmlUpdateBlobCompressed");
			break;
		}
		if (zblob != NULL) {
			if ((rc = read_compressed_blob(zblob, &unpacked,
				 err)) < 0) {
				log_warnx("GetUpdateData: %s revision %d: %s",
				    guid, rev, err->what);
				break;
			}
			rc = cb(arg, guid, rev, sbuf_str(&unpacked),
			    unpacked.sb_len);
			continue;
		}
		if (soap_get_str(blob, WSD_MAX_XML_TEXT, &x, err) < 0) {
			rc = wsd_fail(err, WSD_EINVAL,
			    "GetUpdateData: unreadable XmlUpdateBlob");
			break;
		}
		rc = cb(arg, guid, rev, x.p, x.n);
	}
	sbuf_release(&unpacked);
	soap_doc_release(&doc);
	return rc;
}

int
sync_get_update_data(struct sync_session *s, const struct sync_revision_id *ids,
    size_t n, int (*cb)(void *, const char *, int, const char *, size_t),
    void *arg, struct wsd_err *err)
{
	struct soap_writer w;
	struct sbuf req, ans;
	int rc;

	if (begin(&w, &req, "GetUpdateData", NS) < 0 ||
	    emit_cookie(&w, s, "cookie") < 0 ||
	    soap_emit_open(&w, "updateIds") < 0) {
		sbuf_release(&req);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		if (soap_emit_open(&w, "UpdateIdentity") < 0 ||
		    soap_emit_str(&w, "UpdateID", ids[i].update_id) < 0 ||
		    soap_emit_i32(&w, "RevisionNumber", ids[i].revision) < 0 ||
		    soap_emit_close(&w, "UpdateIdentity") < 0) {
			sbuf_release(&req);
			return wsd_fail(err, WSD_ENOMEM, "out of memory");
		}
	if (soap_emit_close(&w, "updateIds") < 0 ||
	    soap_emit_close(&w, "GetUpdateData") < 0) {
		sbuf_release(&req);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	if ((rc = exchange(s, SYNC_SERVERSYNC_PATH, ACT("GetUpdateData"),
		 "GetUpdateData", &w, &req, &ans, NULL, err)) < 0)
		return rc;
	rc = sync_parse_update_data(&ans, cb, arg, err);
	sbuf_release(&ans);
	return rc;
}

static int
read_group(const struct soap_doc *d, const struct soap_elem *g,
    struct sync_group *out, struct wsd_err *err)
{
	const struct soap_elem *p = soap_child(d, g, "ParentGroupId");
	struct sv name;

	memset(out, 0, sizeof(*out));
	if (soap_get_guid(soap_child(d, g, "TargetGroupID"), out->id, err) <
		0 ||
	    (p != NULL && soap_get_guid(p, out->parent, err) < 0) ||
	    soap_get_str(soap_child(d, g, "Name"), sizeof(out->name) - 1,
		&name, err) < 0 ||
	    soap_get_bool(soap_child(d, g, "IsBuiltin"), &out->builtin, err) <
		0)
		return wsd_fail(err, WSD_EINVAL,
		    "GetDeployments: a malformed ServerSyncTargetGroup");
	memcpy(out->name, name.p, name.n + 1);
	return 0;
}

static int
read_deployment(const struct soap_doc *d, const struct soap_elem *e,
    struct sync_deployment *out, struct wsd_err *err)
{
	const struct soap_elem *a = soap_child(d, e, "AdminName");
	struct sv dl, an;
	int32_t rev, act;

	memset(out, 0, sizeof(*out));
	if (soap_get_guid(soap_child(d, e, "UpdateId"), out->update_id, err) <
		0 ||
	    soap_get_i32(soap_child(d, e, "RevisionNumber"), &rev, err) < 0 ||
	    soap_get_i32(soap_child(d, e, "Action"), &act, err) < 0 ||
	    soap_get_str(soap_child(d, e, "Deadline"), sizeof(out->deadline) - 1,
		&dl, err) < 0 ||
	    soap_get_guid(soap_child(d, e, "DeploymentGuid"),
		out->deployment_id, err) < 0 ||
	    soap_get_guid(soap_child(d, e, "TargetGroupId"), out->group_id,
		err) < 0 ||
	    (a != NULL &&
		soap_get_str(a, sizeof(out->admin) - 1, &an, err) < 0) ||
	    rev < 0 || act < 0 || act > 3)
		return wsd_fail(err, WSD_EINVAL,
		    "GetDeployments: a malformed ServerSyncDeployment");
	out->revision = rev;
	out->action = act;
	/* 9999-12-31... is "no deadline" (WSUSSS.md 4). */
	if (strncmp(dl.p, "9999-", 5) != 0)
		memcpy(out->deadline, dl.p, dl.n + 1);
	if (a != NULL)
		memcpy(out->admin, an.p, an.n + 1);
	return 0;
}

int
sync_parse_deployments(const struct sbuf *ans,
    const struct sync_deployments_cb *cb, char anchor_out[STORE_ANCHOR_MAX],
    struct wsd_err *err)
{
	struct soap_doc doc;
	const struct soap_elem *r, *e;
	int rc = 0;

	anchor_out[0] = '\0';
	soap_doc_init(&doc);
	if ((rc = sync_parse_answer(ans, "GetDeployments", &doc, err)) < 0)
		return rc;
	r = soap_child(&doc, soap_op(&doc), "GetDeploymentsResult");
	if ((e = soap_child(&doc, r, "Anchor")) != NULL)
		rc = copy_str(e, anchor_out, STORE_ANCHOR_MAX,
		    "GetDeployments: Anchor too long", err);
	for (e = soap_elem_first(soap_child(&doc, r, "Groups"));
	     rc == 0 && e != NULL; e = soap_elem_next(e)) {
		struct sync_group g;

		if ((rc = read_group(&doc, e, &g, err)) == 0)
			rc = cb->group(cb->arg, &g);
	}
	for (e = soap_elem_first(soap_child(&doc, r, "Deployments"));
	     rc == 0 && e != NULL; e = soap_elem_next(e)) {
		struct sync_deployment dp;

		if ((rc = read_deployment(&doc, e, &dp, err)) == 0)
			rc = cb->deployment(cb->arg, &dp);
	}
	for (e = soap_elem_first(soap_child(&doc, r, "HiddenUpdates"));
	     rc == 0 && e != NULL; e = soap_elem_next(e)) {
		char id[37];

		if ((rc = soap_get_guid(e, id, err)) == 0)
			rc = cb->hidden(cb->arg, id);
	}
	soap_doc_release(&doc);
	return rc;
}

int
sync_get_deployments(struct sync_session *s, const char *sync_anchor,
    const struct sync_deployments_cb *cb, char anchor_out[STORE_ANCHOR_MAX],
    struct wsd_err *err)
{
	struct soap_writer w;
	struct sbuf req, ans;
	int rc;

	anchor_out[0] = '\0';
	/* No deploymentAnchor: the full list every time, so the local copy
	 * is replaced, never patched (see sync_engine.c). */
	if (begin(&w, &req, "GetDeployments", NS) < 0 ||
	    emit_cookie(&w, s, "cookie") < 0 ||
	    soap_emit_str(&w, "syncAnchor", sync_anchor) < 0 ||
	    soap_emit_close(&w, "GetDeployments") < 0) {
		sbuf_release(&req);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	if ((rc = exchange(s, SYNC_SERVERSYNC_PATH, ACT("GetDeployments"),
		 "GetDeployments", &w, &req, &ans, NULL, err)) < 0)
		return rc;
	rc = sync_parse_deployments(&ans, cb, anchor_out, err);
	sbuf_release(&ans);
	return rc;
}
