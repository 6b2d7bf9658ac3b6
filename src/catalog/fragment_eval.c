/*
 * ApplicabilityRules evaluation over a core fragment (fragment.h,
 * fragment_eval_applicability): the XML is read by the same safe reader
 * as every other fragment; the agent decides the rule elements.
 */
#include "catalog/fragment.h"

#include <string.h>

#include "catalog/fragment_int.h"

#define EVAL_MAX_ATTRS WSD_MAX_FRAGMENT_ATTRS

struct eval {
	bool (*rule)(void *, const struct fragment_rule *);
	void *arg;
};

static bool eval_expr(const struct eval *ev, const xmlNode *n);

static bool
eval_children(const struct eval *ev, const xmlNode *n, bool is_and)
{
	for (const xmlNode *c = n->children; c != NULL; c = c->next) {
		bool v;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		v = eval_expr(ev, c);
		if (is_and && !v)
			return false;
		if (!is_and && v)
			return true;
	}
	return is_and;
}

static const xmlNode *
first_elem(const xmlNode *n)
{
	for (const xmlNode *c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

static bool
eval_expr(const struct eval *ev, const xmlNode *n)
{
	const char *attrs[2 * EVAL_MAX_ATTRS];
	struct fragment_rule r = { (const char *)n->name, 0, attrs };
	const xmlNode *c;

	if (frag_is_name(n, "True"))
		return true;
	if (frag_is_name(n, "False"))
		return false;
	if (frag_is_name(n, "And"))
		return eval_children(ev, n, true);
	if (frag_is_name(n, "Or"))
		return eval_children(ev, n, false);
	if (frag_is_name(n, "Not"))
		return (c = first_elem(n)) != NULL && !eval_expr(ev, c);
	for (const xmlAttr *a = n->properties;
	     a != NULL && r.n_attrs < EVAL_MAX_ATTRS; a = a->next) {
		attrs[2 * r.n_attrs] = (const char *)a->name;
		attrs[2 * r.n_attrs + 1] = a->children != NULL ?
		    (const char *)a->children->content :
		    "";
		r.n_attrs++;
	}
	return ev->rule(ev->arg, &r);
}

/*
 * The Linux marker exactly as `wsusutil publish` writes it for `linux`
 * (or `not windows >= 0` / `>= 0.0`): Not(b.WindowsVersion
 * Comparison="GreaterThanOrEqualTo" MajorVersion="0" [MinorVersion="0"]),
 * nothing else. A negated Windows rule with other attributes ("not a
 * server", "older than Windows 10") is a Windows update's rule, true on
 * Linux only because every Windows rule is false there.
 */
static bool
is_marker(const xmlNode *n)
{
	const xmlNode *e;
	unsigned n_attrs = 0;
	bool cmp = false, major = false;

	if (!frag_is_name(n, "Not") || (e = first_elem(n)) == NULL ||
	    e->next != NULL || !frag_is_name(e, "b.WindowsVersion"))
		return false;
	for (const xmlNode *c = e->next; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return false;
	for (const xmlAttr *a = e->properties; a != NULL; a = a->next) {
		const char *v = a->children != NULL ?
		    (const char *)a->children->content :
		    "";

		n_attrs++;
		if (strcmp((const char *)a->name, "Comparison") == 0)
			cmp = strcmp(v, "GreaterThanOrEqualTo") == 0;
		else if (strcmp((const char *)a->name, "MajorVersion") == 0)
			major = strcmp(v, "0") == 0;
		else if (strcmp((const char *)a->name, "MinorVersion") != 0 ||
		    strcmp(v, "0") != 0)
			return false;
	}
	return cmp && major && n_attrs <= 3;
}

/* IsInstallable's expression E is the marker, or an And holding it as a
 * direct child: the publisher said "not for Windows" for the whole rule. */
static bool
has_not_windows(const xmlNode *e)
{
	if (e == NULL)
		return false;
	if (is_marker(e))
		return true;
	if (!frag_is_name(e, "And"))
		return false;
	for (const xmlNode *c = e->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && is_marker(c))
			return true;
	return false;
}

int
fragment_eval_applicability(const char *xml, size_t len,
    bool (*rule)(void *, const struct fragment_rule *), void *arg,
    struct fragment_applicability *out, struct wsd_err *err)
{
	struct eval ev = { rule, arg };
	const xmlNode *rules = NULL;
	xmlDoc *doc;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = frag_read(xml, len, WSD_MAX_FRAGMENT_DEPTH, false, &doc,
		 err)) < 0)
		return rc;
	for (const xmlNode *c = xmlDocGetRootElement(doc)->children; c;
	     c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    frag_is_name(c, "ApplicabilityRules"))
			rules = c;
	for (const xmlNode *c = rules != NULL ? rules->children : NULL; c;
	     c = c->next) {
		const xmlNode *e;

		if (c->type != XML_ELEMENT_NODE ||
		    (e = first_elem(c)) == NULL)
			continue;
		if (frag_is_name(c, "IsInstalled")) {
			out->has_is_installed = true;
			out->is_installed = eval_expr(&ev, e);
		} else if (frag_is_name(c, "IsInstallable")) {
			out->has_is_installable = true;
			out->is_installable = eval_expr(&ev, e);
			out->not_windows = has_not_windows(e);
		}
	}
	xmlFreeDoc(doc);
	return 0;
}
