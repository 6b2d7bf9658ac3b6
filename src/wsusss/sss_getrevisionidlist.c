/*
 * GetRevisionIdList (ServerSync, WSUSSS.md 5.5): the update revisions a
 * DSS should fetch. Anchor semantics (sss_anchor.h, store_sss.h):
 *
 * - The answer's Anchor is "g,<UTC now>", g the catalog generation read
 *   before the rows.
 * - A request Anchor "n,..." selects the revisions marked after n: new
 *   revisions, revisions that became the latest again, updates
 *   un-declined. An absent, nil or empty Anchor selects all; one that
 *   does not parse is InvalidParameters "Anchor"; one with n above the
 *   current generation (another database's) selects all too, since
 *   trusting it could hide revisions for good.
 * - GetConfig true: categories (Company, ProductFamily, Product,
 *   UpdateClassification) and detectoids; false: Software and Driver
 *   updates, restricted by Categories and Classifications when listed
 *   (an item with Delta false selects its updates whatever the anchor),
 *   plus what the selected ones bundle or require. Only the latest
 *   revision of each update. Declined updates are not offered (a replica
 *   DSS learns of them from GetDeployments' HiddenUpdates).
 *
 * Languages and Get63LanguageOnly are validated and ignored: wsusd
 * stores every language of an update in one revision.
 */
#include "wsusss/wsusss_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/testhook.h"
#include "store/store_sss.h"

/* IdAndDelta items one filter list may carry: a WSUS selection is tens
 * of products; a thousand is far beyond any. */
#define SSS_MAX_FILTER_ITEMS 1000
/* LanguageAndDelta items: Windows knows ~511 languages (protocol 1.2). */
#define SSS_MAX_LANGUAGES 1024

struct emit_ids {
	struct sss_ctx *c;
	size_t n;
	bool failed;
};

static int
emit_id(void *arg, const char *update_id, int32_t revision)
{
	struct emit_ids *e = arg;
	struct soap_writer *w = &e->c->sc_w;

	if (soap_emit_open(w, "UpdateIdentity") < 0 ||
	    soap_emit_str(w, "UpdateID", update_id) < 0 ||
	    soap_emit_i32(w, "RevisionNumber", revision) < 0 ||
	    soap_emit_close(w, "UpdateIdentity") < 0) {
		e->failed = true;
		return 1;
	}
	e->n++;
	return 0;
}

/* An ArrayOfIdAndDelta into *OUT (malloc'd, may be NULL when empty). */
static enum soap_errc
read_idd(struct sss_ctx *c, const struct soap_elem *arr, const char *name,
    struct store_sss_idd **out, size_t *n)
{
	const struct soap_doc *d = c->sc_doc;
	const struct soap_elem *item;
	struct soap_iter it;
	struct wsd_err err;
	size_t count = 0;

	*out = NULL;
	*n = 0;
	if (soap_array_begin(d, arr, "IdAndDelta", SSS_MAX_FILTER_ITEMS, &it,
		&count, &err) < 0) {
		c->sc_message = name;
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	if (count == 0)
		return SOAP_ERRC_NONE;
	if ((*out = calloc(count, sizeof(**out))) == NULL)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	while ((item = soap_iter_next(&it)) != NULL && *n < count) {
		if (soap_is_nil(item))
			continue;
		if (soap_get_guid(soap_child(d, item, "Id"), (*out)[*n].id,
			&err) < 0 ||
		    soap_get_bool(soap_child(d, item, "Delta"),
			&(*out)[*n].delta, &err) < 0) {
			free(*out);
			*out = NULL;
			*n = 0;
			c->sc_message = name;
			return SOAP_ERRC_INVALID_PARAMETERS;
		}
		++*n;
	}
	return SOAP_ERRC_NONE;
}

static enum soap_errc
check_languages(struct sss_ctx *c, const struct soap_elem *arr)
{
	const struct soap_doc *d = c->sc_doc;
	const struct soap_elem *item;
	struct soap_iter it;
	struct wsd_err err;
	size_t count;
	int32_t id;
	bool delta;

	c->sc_message = "Languages";
	if (soap_array_begin(d, arr, "LanguageAndDelta", SSS_MAX_LANGUAGES,
		&it, &count, &err) < 0)
		return SOAP_ERRC_INVALID_PARAMETERS;
	while ((item = soap_iter_next(&it)) != NULL)
		if (!soap_is_nil(item) &&
		    (soap_get_i32(soap_child(d, item, "Id"), &id, &err) < 0 ||
			soap_get_bool(soap_child(d, item, "Delta"), &delta,
			    &err) < 0))
			return SOAP_ERRC_INVALID_PARAMETERS;
	c->sc_message = NULL;
	return SOAP_ERRC_NONE;
}

enum soap_errc
sss_get_revision_id_list(struct sss_ctx *c)
{
	const struct soap_doc *d = c->sc_doc;
	const struct soap_elem *flt, *e;
	struct soap_writer *w = &c->sc_w;
	struct store_sss_filter f;
	struct store_sss_idd *cats = NULL, *classes = NULL;
	struct emit_ids em = { c, 0, false };
	struct sss_anchor an;
	struct wsd_err err;
	enum soap_errc ec;
	uint64_t gen;
	size_t mark;
	bool has_anchor, b;

	if ((ec = sss_check_cookie(c)) != SOAP_ERRC_NONE)
		return ec;
	/* Tests: what a downstream does when its upstream was replaced. */
	if (testhook_fault("sss-server-changed")) {
		c->sc_message = "the upstream server changed";
		return SOAP_ERRC_SERVER_CHANGED;
	}
	memset(&f, 0, sizeof(f));
	flt = soap_child(d, d->sd_op, "filter");
	if (flt == NULL || soap_is_nil(flt)) {
		c->sc_message = "filter";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	if (soap_get_bool(soap_child(d, flt, "GetConfig"), &f.config,
		&err) < 0) {
		c->sc_message = "GetConfig";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	/* minOccurs=1 in the WSDL, but 1.1 DSSs omit it (5.5 item 4). */
	if ((e = soap_child(d, flt, "Get63LanguageOnly")) != NULL &&
	    soap_get_bool(e, &b, &err) < 0) {
		c->sc_message = "Get63LanguageOnly";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	if ((ec = sss_read_anchor(c, soap_child(d, flt, "Anchor"), "Anchor",
		 &an, &has_anchor)) != SOAP_ERRC_NONE ||
	    (ec = check_languages(c, soap_child(d, flt, "Languages"))) !=
		SOAP_ERRC_NONE)
		return ec;
	/* Ignored in the config pass, but still bounded and well-formed. */
	if ((ec = read_idd(c, soap_child(d, flt, "Categories"), "Categories",
		 &cats, &f.n_categories)) != SOAP_ERRC_NONE)
		return ec;
	if ((ec = read_idd(c, soap_child(d, flt, "Classifications"),
		 "Classifications", &classes, &f.n_classifications)) !=
	    SOAP_ERRC_NONE)
		goto out;
	f.categories = cats;
	f.classifications = classes;
	if (f.config)
		f.n_categories = f.n_classifications = 0;

	/* The generation first: a change committed while the rows are read
	 * is then sent again next time rather than never (store_sss.h). */
	if (store_sss_generation(c->sc_store, &gen, &err) < 0) {
		log_warnx("GetRevisionIdList: %s", err.what);
		ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
		goto out;
	}
	f.after = has_anchor && an.an_gen <= gen ? (int64_t)an.an_gen : -1;

	ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if (soap_emit_open_ns(w, "GetRevisionIdListResponse", WSUSSS_NS) < 0 ||
	    soap_emit_open(w, "GetRevisionIdListResult") < 0 ||
	    sss_emit_anchor(c, gen) < 0)
		goto out;
	mark = w->sw_sb->sb_len;
	if (soap_emit_open(w, "NewRevisions") < 0)
		goto out;
	if (store_sss_revisions(c->sc_store, &f, emit_id, &em, &err) < 0) {
		log_warnx("GetRevisionIdList: %s", err.what);
		goto out;
	}
	if (em.failed)
		goto out;
	/* Tests: a revision listed that GetUpdateData will not have, as
	 * when one expires upstream between the two (WSUSSS.md 8). */
	if (!f.config && testhook_fault("sss-phantom-revision") &&
	    emit_id(&em, "0badf00d-0000-4000-8000-00000000dead", 1) != 0)
		goto out;
	if (em.n == 0) {
		/* Present and empty (WSUSSS.md 4): <NewRevisions />. */
		sss_truncate(c, mark);
		if (soap_emit_empty(w, "NewRevisions") < 0)
			goto out;
	} else if (soap_emit_close(w, "NewRevisions") < 0)
		goto out;
	if (soap_emit_close(w, "GetRevisionIdListResult") < 0 ||
	    soap_emit_close(w, "GetRevisionIdListResponse") < 0)
		goto out;
	ec = SOAP_ERRC_NONE;
out:
	free(cats);
	free(classes);
	return ec;
}
