/*
 * StartCategoryScan (WUSP.md 3.5, spec 3.1.5.6): no cookie. Groups of
 * requested categories by IndexOfAndGroup; a group with an unknown id is
 * dropped and the id reported in requestedCategoryIdsInError; of each
 * remaining group a lone Product, or a Product with an
 * UpdateClassification, yields the Product in preferredCategoryIds; any
 * other group shape empties preferredCategoryIds and stops processing.
 */
#include "wusp/wusp_int.h"

#include <stdlib.h>
#include <string.h>

/* Far more than a client asks for (one in the captures). */
#define SCAN_MAX_CATEGORIES 1000

enum mark { M_OPEN, M_PREFERRED, M_ERROR, M_DROPPED, M_DONE };

struct req_cat {
	int32_t group;
	char id[37];
	char type[24]; /* "" when unknown */
	enum mark mark;
};

static void
type_of(struct wusp_ctx *c, struct req_cat *r)
{
	static const char *const types[] = { "Product", "UpdateClassification",
		"ProductFamily", "Company" };
	struct wsd_err err;
	char found[37];

	r->type[0] = '\0';
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (store_category_find(c->wc_store, types[i], r->id, found,
			&err) == 0 &&
		    strcmp(found, r->id) == 0) {
			strcpy(r->type, types[i]);
			return;
		}
}

static int
emit_ids(struct soap_writer *w, const char *name, struct req_cat *v,
    size_t n, bool (*pick)(const struct req_cat *))
{
	bool any = false;

	for (size_t i = 0; i < n; i++)
		any |= pick(&v[i]);
	if (!any)
		return 0; /* absent, not empty (WUSP.md 9 #3) */
	if (soap_emit_open(w, name) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (pick(&v[i]) && soap_emit_str(w, "guid", v[i].id) < 0)
			return -1;
	return soap_emit_close(w, name);
}

static bool
is_preferred(const struct req_cat *r)
{
	return r->mark == M_PREFERRED;
}

static bool
is_error(const struct req_cat *r)
{
	return r->mark == M_ERROR;
}

static enum soap_errc
scan(struct wusp_ctx *c, const struct soap_elem *arr, struct req_cat *req,
    size_t cap)
{
	const struct soap_doc *d = c->wc_doc;
	const struct soap_elem *it_e, *e;
	struct soap_writer *w = &c->wc_w;
	struct soap_iter it;
	struct wsd_err err;
	size_t n = 0, count;
	bool stop = false;

	if (soap_array_begin(d, arr, "CategoryRelationship", cap, &it, &count,
		&err) < 0) {
		c->wc_message = "requestedCategories";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	while ((it_e = soap_iter_next(&it)) != NULL && n < cap) {
		struct req_cat *r = &req[n];

		if ((e = soap_child(d, it_e, "IndexOfAndGroup")) == NULL ||
		    soap_get_i32(e, &r->group, &err) < 0 ||
		    (e = soap_child(d, it_e, "CategoryId")) == NULL ||
		    soap_get_guid(e, r->id, &err) < 0) {
			c->wc_message = "requestedCategories";
			return SOAP_ERRC_INVALID_PARAMETERS;
		}
		type_of(c, r);
		r->mark = M_OPEN;
		n++;
	}
	/* An unknown id drops its whole group; the unknown ids are reported. */
	for (size_t i = 0; i < n; i++) {
		if (req[i].type[0] != '\0')
			continue;
		for (size_t j = 0; j < n; j++)
			if (req[j].group == req[i].group &&
			    req[j].mark == M_OPEN)
				req[j].mark = req[j].type[0] ? M_DROPPED :
							       M_ERROR;
		req[i].mark = M_ERROR;
	}
	for (size_t i = 0; i < n && !stop; i++) {
		size_t products = 0, classes = 0, others = 0, first = n;

		if (req[i].mark != M_OPEN)
			continue;
		for (size_t j = i; j < n; j++) {
			if (req[j].group != req[i].group)
				continue;
			if (strcmp(req[j].type, "Product") == 0) {
				products++;
				first = j;
			} else if (strcmp(req[j].type,
				       "UpdateClassification") == 0) {
				classes++;
			} else {
				others++;
			}
			req[j].mark = M_DONE;
		}
		if (products == 1 && classes <= 1 && others == 0) {
			req[first].mark = M_PREFERRED;
			continue;
		}
		/* Any other shape: nothing preferred, stop here. */
		for (size_t j = 0; j < n; j++)
			if (req[j].mark == M_PREFERRED)
				req[j].mark = M_DONE;
		stop = true;
	}
	if (soap_emit_open_ns(w, "StartCategoryScanResponse", SOAP_NS_CLIENT) <
		0 ||
	    emit_ids(w, "preferredCategoryIds", req, n, is_preferred) < 0 ||
	    emit_ids(w, "requestedCategoryIdsInError", req, n, is_error) < 0 ||
	    soap_emit_close(w, "StartCategoryScanResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}

enum soap_errc
wusp_start_category_scan(struct wusp_ctx *c)
{
	const struct soap_elem *arr;
	struct req_cat *req;
	enum soap_errc ec;

	if ((arr = soap_child(c->wc_doc, c->wc_doc->sd_op,
		 "requestedCategories")) == NULL) {
		c->wc_message = "requestedCategories";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	if ((req = calloc(SCAN_MAX_CATEGORIES, sizeof(*req))) == NULL)
		return SOAP_ERRC_SERVER_BUSY;
	ec = scan(c, arr, req, SCAN_MAX_CATEGORIES);
	free(req);
	return ec;
}
