/*
 * update_doc: the MS-WSUSSS update document <-> the WUSP fragments.
 *
 * Element order of the document. MS-WSUSSS section 4's GetUpdateData
 * example, the Microsoft Update metadata read by public tools (their
 * XPaths: upd:Update/upd:Properties, upd:Update/upd:LocalizedProperties-
 * Collection/upd:LocalizedProperties[upd:Language=...]) and the fragment
 * order of WUSP.md 6 agree on
 *
 *	UpdateIdentity, Properties, LocalizedPropertiesCollection,
 *	Relationships, ApplicabilityRules, Files, HandlerSpecificData
 *
 * which is what update_doc_build writes. update_doc_split does not depend
 * on the order: it picks the children of the root by local name (as the
 * spec's namespace-blind XPaths do), refuses a second one of a kind and
 * skips children it does not know (the fragments never carried them).
 * The fragments come out in their own fixed order (fragment.h) whatever
 * the document's.
 *
 * The mapping, both directions (WUSP.md 6):
 *
 *   document                                  fragment
 *   bar:X  (BaseApplicabilityRules)           b.X
 *   mar:X  (MsiApplicabilityRules)            m.X
 *   drv:X  (WindowsDriver handler)            d.X
 *   any other namespace or prefix             X (prefix stripped)
 *   upd:Properties, the attributes            Properties (core)
 *     UpdateType ExplicitlyDeployable
 *     AutoSelectOnWebSites OSUpgrade EulaID
 *   upd:Properties, PublicationState          (dropped, as WSUS does)
 *     PublisherID CreationDate IsPublic
 *     LegacyName DetectoidType
 *   upd:Properties, every other attribute     ExtendedProperties
 *     and all its children                      (same order)
 *   xsi:type                                  type (value as it was)
 *   upd:LocalizedProperties (each)            one localized fragment
 *
 * Building, names without a b./m./d. prefix need some namespace; any
 * non-dotted one gives the same fragment back, so the choice is for
 * readers: lar: (LogicalApplicabilityRules) for True, False, And, Or and
 * Not under ApplicabilityRules, the namespace of the xsi:type prefix for
 * the children of HandlerSpecificData (cmd:, cat: are declared on the
 * root; another prefix is declared on HandlerSpecificData itself, bound
 * to the Handler URI of the properties if that is a plain absolute URI,
 * else to the Update namespace), and
 * upd: for everything else. Values keep their bytes: "cmd:Command-
 * LineInstallation" stays as it is, so its prefix must be in scope.
 *
 * Canonical form (what split writes and build reads): one line,
 * attributes in source order and double quotes, text and values escaped
 * as fragment.c escapes them (xmlesc.h, & < > " TAB LF CR), an element
 * without content as "<X />". Whitespace-only text between elements is
 * dropped; an element holding only text keeps it as it is, blanks
 * included (a Title of one space stays one). Build refuses fragments it
 * could not give back byte for byte: core Properties with an attribute
 * outside the core set or with content, ExtendedProperties attributes of
 * the core or dropped sets, an extended fragment that is just an empty
 * <ExtendedProperties />, top-level elements out of fragment order.
 */
#include "catalog/update_doc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>

#include "catalog/fragment.h"
#include "common/encode.h"
#include "common/sbuf.h"
#include "common/xmlesc.h"
#include "store/store.h"

#define NS_UPD "http://schemas.microsoft.com/msus/2002/12/Update"
#define NS_BAR                                                                 \
	"http://schemas.microsoft.com/msus/2002/12/BaseApplicabilityRules"
#define NS_LAR                                                                 \
	"http://schemas.microsoft.com/msus/2002/12/LogicalApplicabilityRules"
#define NS_MAR "http://schemas.microsoft.com/msus/2002/12/MsiApplicabilityRules"
#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"

/* The dummy root a stored fragment is wrapped in to be parsed. */
#define UD_ROOT "wsd-update-doc"

/*
 * Document nesting: the root, then fragment depth + 1 (a LocalizedProperties
 * sits under the collection). The fragment parsers bound each fragment
 * again at WSD_MAX_FRAGMENT_DEPTH.
 */
#define UD_MAX_DEPTH (WSD_MAX_FRAGMENT_DEPTH + 2)
/* Properties carries the core and the extended attributes. */
#define UD_MAX_ATTRS (2 * WSD_MAX_FRAGMENT_ATTRS)
/* One fragment as split writes it, before the parsers bound it. */
#define UD_FRAG_CAP (2 * WSD_MAX_FRAGMENT_BYTES)

/* Prefixes declared on the root of a built document. */
static const struct {
	const char *prefix;
	const char *uri;
} root_ns[] = {
	{ "upd", NS_UPD },
	{ "bar", NS_BAR },
	{ "lar", NS_LAR },
	{ "mar", NS_MAR },
	{ "drv", FRAGMENT_HANDLER_DRIVER },
	{ "cmd", FRAGMENT_HANDLER_CMDLINE },
	{ "cat", FRAGMENT_HANDLER_CATEGORY },
	{ "xsi", NS_XSI },
};

/* The three namespaces whose elements keep a dotted prefix. */
static const struct {
	const char *dot;    /* in fragments */
	const char *prefix; /* in documents */
	const char *uri;
} dotted[] = {
	{ "b.", "bar", NS_BAR },
	{ "m.", "mar", NS_MAR },
	{ "d.", "drv", FRAGMENT_HANDLER_DRIVER },
};

#define N_OF(t) (sizeof(t) / sizeof((t)[0]))

static const char *const core_attrs[] = { "UpdateType", "ExplicitlyDeployable",
	"AutoSelectOnWebSites", "OSUpgrade", "EulaID", NULL };
static const char *const dropped_attrs[] = { "PublicationState", "PublisherID",
	"CreationDate", "IsPublic", "LegacyName", "DetectoidType", NULL };
static const char *const logical_rules[] = { "True", "False", "And", "Or",
	"Not", NULL };

static bool
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static bool
is_name(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)n->name, name) == 0;
}

static bool
is_blank(const xmlNode *n)
{
	if (n->type != XML_TEXT_NODE && n->type != XML_CDATA_SECTION_NODE)
		return false;
	for (const xmlChar *s = n->content; s != NULL && *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

static bool
has_elements(const xmlNode *n)
{
	for (const xmlNode *c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return true;
	return false;
}

/* An attribute's value: its text nodes (the reader checked there is
 * nothing else). */
static const char *
attr_value(const xmlAttr *a)
{
	if (a->children == NULL || a->children->content == NULL)
		return "";
	return (const char *)a->children->content;
}

static const char *
attr_get(const xmlNode *n, const char *name)
{
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
		if (a->ns == NULL && strcmp((const char *)a->name, name) == 0)
			return attr_value(a);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The safe reader                                                     */

/*
 * Only elements and text; attribute values one text node; bounded depth
 * and attribute counts; with FRAG also no namespaces at all (a stored
 * fragment), else names fully resolved (no undeclared prefix left).
 */
static int
check_tree(const xmlNode *n, unsigned depth, bool frag, struct wsd_err *err)
{
	int rc;

	for (; n != NULL; n = n->next) {
		unsigned nattr = 0;

		switch (n->type) {
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
			continue;
		case XML_ELEMENT_NODE:
			break;
		case XML_ENTITY_REF_NODE:
		case XML_ENTITY_NODE:
		case XML_ENTITY_DECL:
			return wsd_fail(err, WSD_EINVAL,
			    "entity reference in update document");
		case XML_COMMENT_NODE:
			return wsd_fail(err, WSD_EINVAL,
			    "comment in update document");
		case XML_PI_NODE:
			return wsd_fail(err, WSD_EINVAL,
			    "processing instruction in update document");
		case XML_DTD_NODE:
		case XML_DOCUMENT_TYPE_NODE:
			return wsd_fail(err, WSD_EINVAL,
			    "DOCTYPE in update document");
		default:
			return wsd_fail(err, WSD_EINVAL,
			    "unexpected node in update document");
		}
		if (depth > UD_MAX_DEPTH)
			return wsd_fail(err, WSD_ETOOBIG,
			    "update document nested too deep");
		if (strchr((const char *)n->name, ':') != NULL)
			return wsd_fail(err, WSD_EINVAL,
			    "undeclared prefix in update document");
		if (frag && (n->ns != NULL || n->nsDef != NULL))
			return wsd_fail(err, WSD_EINVAL,
			    "namespace in stored fragment");
		for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
			if (++nattr > UD_MAX_ATTRS)
				return wsd_fail(err, WSD_ETOOBIG,
				    "too many attributes on one element");
			if (strchr((const char *)a->name, ':') != NULL ||
			    (frag && a->ns != NULL))
				return wsd_fail(err, WSD_EINVAL,
				    "prefixed attribute name");
			if (a->children != NULL &&
			    (a->children->type != XML_TEXT_NODE ||
				a->children->next != NULL))
				return wsd_fail(err, WSD_EINVAL,
				    "entity reference in attribute value");
		}
		if ((rc = check_tree(n->children, depth + 1, frag, err)) < 0)
			return rc;
	}
	return 0;
}

/*
 * Parses XML: a whole document, or with FRAG a stored fragment wrapped
 * in a dummy root. XML_PARSE_NONET only (never NOENT, DTDLOAD, HUGE).
 */
static int
ud_read(const char *xml, size_t len, bool frag, xmlDoc **docp,
    struct wsd_err *err)
{
	xmlParserCtxt *ctxt;
	xmlDoc *doc;
	xmlNode *root;
	struct sbuf sb;
	const char *p = xml;
	size_t n = len;
	int rc, wellformed, nswellformed, depth, errno_xml;

	*docp = NULL;
	if (xml == NULL)
		return wsd_fail(err, WSD_EINVAL, "no update document");
	if (len > (frag ? (size_t)WSD_MAX_FRAGMENT_BYTES
			: (size_t)UPDATE_DOC_MAX_BYTES))
		return wsd_fail(err, WSD_ETOOBIG,
		    frag ? "stored fragment larger than 1 MiB"
			 : "update document larger than "
			   "UPDATE_DOC_MAX_BYTES");
	if (memchr(xml, '\0', len) != NULL)
		return wsd_fail(err, WSD_EINVAL, "NUL byte in update document");
	if (memmem(xml, len, "<!DOCTYPE", 9) != NULL)
		return wsd_fail(err, WSD_EINVAL, "DOCTYPE in update document");
	if (memmem(xml, len, "<!ENTITY", 8) != NULL)
		return wsd_fail(err, WSD_EINVAL,
		    "entity declaration in update document");
	sbuf_init(&sb, WSD_MAX_FRAGMENT_BYTES + 64);
	if (frag) {
		if (memmem(xml, len, "<?", 2) != NULL)
			return wsd_fail(err, WSD_EINVAL,
			    "processing instruction in stored fragment");
		if ((rc = sbuf_adds(&sb, "<" UD_ROOT ">")) < 0 ||
		    (rc = sbuf_add(&sb, xml, len)) < 0 ||
		    (rc = sbuf_adds(&sb, "</" UD_ROOT ">")) < 0)
			return wsd_fail(err, rc, "update document: no memory");
		p = sb.sb_buf;
		n = sb.sb_len;
	}
	xmlInitParser();
	if ((ctxt = xmlNewParserCtxt()) == NULL) {
		sbuf_release(&sb);
		return wsd_fail(err, WSD_ENOMEM, "update document: no memory");
	}
	doc = xmlCtxtReadMemory(ctxt, p, (int)n, NULL, "UTF-8",
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
		XML_PARSE_NOCDATA);
	wellformed = ctxt->wellFormed;
	nswellformed = ctxt->nsWellFormed;
	depth = ctxt->nameNr;
	errno_xml = ctxt->errNo;
	xmlFreeParserCtxt(ctxt);
	sbuf_release(&sb);
	if (doc == NULL || !wellformed || !nswellformed) {
		bool ns_only = doc != NULL && wellformed;

		xmlFreeDoc(doc);
		if (depth > UD_MAX_DEPTH)
			return wsd_fail(err, WSD_ETOOBIG,
			    "update document nested too deep");
		/* Without a DTD every entity but the predefined five is
		 * undeclared: say so rather than "not well-formed". */
		if (errno_xml == XML_ERR_UNDECLARED_ENTITY ||
		    errno_xml == XML_WAR_UNDECLARED_ENTITY ||
		    errno_xml == XML_ERR_ENTITYREF_NO_NAME)
			return wsd_fail(err, WSD_EINVAL,
			    "entity reference in update document");
		if (ns_only)
			return wsd_fail(err, WSD_EINVAL,
			    "undeclared namespace prefix in update document");
		return wsd_fail(err, WSD_EINVAL,
		    "update document is not well-formed XML");
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		xmlFreeDoc(doc);
		return wsd_fail(err, WSD_EINVAL, "DOCTYPE in update document");
	}
	root = xmlDocGetRootElement(doc);
	for (const xmlNode *c = doc->children; c != NULL; c = c->next)
		if (c != root) {
			xmlFreeDoc(doc);
			return wsd_fail(err, WSD_EINVAL,
			    "comment, PI or DOCTYPE beside the root");
		}
	if (root == NULL) {
		xmlFreeDoc(doc);
		return wsd_fail(err, WSD_EINVAL, "update document is empty");
	}
	if (frag &&
	    (!is_name(root, UD_ROOT) || root->properties != NULL ||
		root->ns != NULL || root->nsDef != NULL)) {
		xmlFreeDoc(doc);
		return wsd_fail(err, WSD_EINVAL, "fragment escapes its root");
	}
	/* The root is depth 1; a fragment's own elements are depth 2. */
	if ((rc = check_tree(root, 1, frag, err)) < 0) {
		xmlFreeDoc(doc);
		return rc;
	}
	*docp = doc;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The writer: sticky errors, fragment.c's escaping                    */

struct w {
	struct sbuf *sb;
	struct wsd_err *err;
	int rc;
};

static void
w_fail(struct w *w, int code, const char *what)
{
	if (w->rc == 0)
		w->rc = wsd_fail(w->err, code, what);
}

static void
w_raw(struct w *w, const char *s)
{
	int rc;

	if (w->rc == 0 && (rc = sbuf_adds(w->sb, s)) < 0)
		w_fail(w, rc, "update document output buffer full");
}

/* Text or a double-quoted value, escaped exactly as fragment.c does. */
static void
w_text(struct w *w, const char *s)
{
	enum xmlesc_bad bad;
	int rc;

	if (w->rc != 0)
		return;
	rc = xmlesc_add(w->sb, s, strlen(s),
	    XMLESC_QUOT | XMLESC_WS | XMLESC_NO_C1, &bad);
	if (rc == 0)
		return;
	if (bad == XMLESC_OK)
		w_fail(w, rc, "update document output buffer full");
	else
		w_fail(w, rc,
		    bad == XMLESC_BAD_UTF8 ? "invalid UTF-8 in update document"
					   : "character not allowed in "
					     "update metadata");
}

static void
w_attr(struct w *w, const char *prefix, const char *name, const char *value)
{
	w_raw(w, " ");
	if (prefix != NULL) {
		w_raw(w, prefix);
		w_raw(w, ":");
	}
	w_raw(w, name);
	w_raw(w, "=\"");
	w_text(w, value);
	w_raw(w, "\"");
}

/* The text of an element without element children (text nodes only). */
static int
leaf_text(const xmlNode *n, struct sbuf *sb, struct wsd_err *err)
{
	int rc;

	for (const xmlNode *c = n->children; c != NULL; c = c->next)
		if (c->content != NULL &&
		    (rc = sbuf_adds(sb, (const char *)c->content)) < 0)
			return wsd_fail(err, rc,
			    rc == WSD_ETOOBIG ? "text longer than 1 MiB"
					      : "update document: no memory");
	return 0;
}

/*
 * After an element's name and attributes: its content in the canonical
 * form, then its end tag (PREFIX:NAME, PREFIX may be NULL). CHILD writes
 * each element child.
 */
static void
w_content(struct w *w, const xmlNode *n, const char *prefix, const char *name,
    void (*child)(struct w *, const xmlNode *, void *), void *arg)
{
	if (w->rc != 0)
		return;
	if (!has_elements(n)) {
		struct sbuf t;

		sbuf_init(&t, WSD_MAX_FRAGMENT_BYTES);
		if ((w->rc = leaf_text(n, &t, w->err)) < 0)
			return;
		if (t.sb_len == 0) {
			w_raw(w, " />");
			sbuf_release(&t);
			return;
		}
		w_raw(w, ">");
		w_text(w, t.sb_buf);
		sbuf_release(&t);
	} else {
		w_raw(w, ">");
		for (const xmlNode *c = n->children; c != NULL && w->rc == 0;
		     c = c->next) {
			if (c->type == XML_ELEMENT_NODE)
				child(w, c, arg);
			else if (!is_blank(c))
				w_text(w, (const char *)c->content);
		}
	}
	w_raw(w, "</");
	if (prefix != NULL) {
		w_raw(w, prefix);
		w_raw(w, ":");
	}
	w_raw(w, name);
	w_raw(w, ">");
}

/* ------------------------------------------------------------------ */
/* Split: document -> fragments                                        */

/* A name character XML allows at the start of an NCName (ASCII part;
 * any byte >= 0x80 is accepted, libxml2 checked the real rules). */
static bool
ncname_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c >= 0x80;
}

/* The fragment name of an element: b./m./d. or nothing, then local. */
static void
split_name(struct w *w, const xmlNode *n)
{
	if (n->ns != NULL && n->ns->href != NULL)
		for (size_t i = 0; i < N_OF(dotted); i++)
			if (strcmp((const char *)n->ns->href, dotted[i].uri) ==
			    0) {
				w_raw(w, dotted[i].dot);
				break;
			}
	w_raw(w, (const char *)n->name);
}

/* Attributes with prefixes stripped (xsi:type is type); SKIP, if not
 * NULL, says which to leave out. Two attributes left with one name are
 * refused. */
static void
split_attrs(struct w *w, const xmlNode *n,
    bool (*skip)(const xmlAttr *, void *), void *arg)
{
	for (const xmlAttr *a = n->properties; a != NULL && w->rc == 0;
	     a = a->next) {
		if (skip != NULL && skip(a, arg))
			continue;
		for (const xmlAttr *b = n->properties; b != a; b = b->next)
			if ((skip == NULL || !skip(b, arg)) &&
			    strcmp((const char *)a->name,
				(const char *)b->name) == 0) {
				w_fail(w, WSD_EINVAL,
				    "two attributes of one name once "
				    "prefixes are stripped");
				return;
			}
		w_attr(w, NULL, (const char *)a->name, attr_value(a));
	}
}

static void split_elem(struct w *w, const xmlNode *n, void *arg);

static void
split_elem(struct w *w, const xmlNode *n, void *arg)
{
	struct sbuf name;
	int rc;

	(void)arg;
	w_raw(w, "<");
	split_name(w, n);
	split_attrs(w, n, NULL, NULL);
	if (w->rc != 0)
		return;
	/* The end tag repeats the name as written. */
	sbuf_init(&name, 1024);
	if (n->ns != NULL && n->ns->href != NULL)
		for (size_t i = 0; i < N_OF(dotted); i++)
			if (strcmp((const char *)n->ns->href, dotted[i].uri) ==
			    0) {
				if ((rc = sbuf_adds(&name, dotted[i].dot)) <
				    0) {
					w_fail(w, rc, "no memory");
					return;
				}
				break;
			}
	if ((rc = sbuf_adds(&name, (const char *)n->name)) < 0) {
		w_fail(w, rc, "element name too long");
		return;
	}
	w_content(w, n, NULL, name.sb_buf, split_elem, NULL);
	sbuf_release(&name);
}

static bool
skip_not_core(const xmlAttr *a, void *arg)
{
	(void)arg;
	return !in_list((const char *)a->name, core_attrs);
}

static bool
skip_not_ext(const xmlAttr *a, void *arg)
{
	(void)arg;
	return in_list((const char *)a->name, core_attrs) ||
	    in_list((const char *)a->name, dropped_attrs);
}

/* The top-level elements split reads; at most one of each. */
enum top {
	TOP_IDENTITY,
	TOP_PROPERTIES,
	TOP_LOCALIZED,
	TOP_RELATIONSHIPS,
	TOP_RULES,
	TOP_FILES,
	TOP_HANDLER,
	TOP_N
};

static const char *const top_names[TOP_N] = {
	[TOP_IDENTITY] = "UpdateIdentity",
	[TOP_PROPERTIES] = "Properties",
	[TOP_LOCALIZED] = "LocalizedPropertiesCollection",
	[TOP_RELATIONSHIPS] = "Relationships",
	[TOP_RULES] = "ApplicabilityRules",
	[TOP_FILES] = "Files",
	[TOP_HANDLER] = "HandlerSpecificData",
};

static int
take_sbuf(struct sbuf *sb, char **out, size_t *len, struct wsd_err *err)
{
	if (sb->sb_len > WSD_MAX_FRAGMENT_BYTES) {
		sbuf_release(sb);
		return wsd_fail(err, WSD_ETOOBIG,
		    "fragment larger than 1 MiB (WSD_MAX_FRAGMENT_BYTES)");
	}
	if ((*out = sbuf_detach(sb, len)) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "update document: no memory");
	return 0;
}

static int
split_core(const xmlNode *const top[TOP_N], struct update_doc_parts *out,
    struct wsd_err *err)
{
	struct sbuf sb;
	struct w w = { &sb, err, 0 };

	sbuf_init(&sb, UD_FRAG_CAP);
	split_elem(&w, top[TOP_IDENTITY], NULL);
	if (top[TOP_PROPERTIES] != NULL) {
		w_raw(&w, "<Properties");
		split_attrs(&w, top[TOP_PROPERTIES], skip_not_core, NULL);
		w_raw(&w, " />");
	}
	if (top[TOP_RELATIONSHIPS] != NULL)
		split_elem(&w, top[TOP_RELATIONSHIPS], NULL);
	if (top[TOP_RULES] != NULL)
		split_elem(&w, top[TOP_RULES], NULL);
	if (w.rc != 0) {
		sbuf_release(&sb);
		return w.rc;
	}
	return take_sbuf(&sb, &out->core, &out->core_len, err);
}

static int
split_extended(const xmlNode *const top[TOP_N], struct update_doc_parts *out,
    struct wsd_err *err)
{
	const xmlNode *props = top[TOP_PROPERTIES];
	struct sbuf sb;
	struct w w = { &sb, err, 0 };
	bool any = top[TOP_FILES] != NULL || top[TOP_HANDLER] != NULL;

	if (props != NULL) {
		for (const xmlAttr *a = props->properties; a != NULL;
		     a = a->next)
			if (!skip_not_ext(a, NULL))
				any = true;
		for (const xmlNode *c = props->children; c != NULL; c = c->next)
			if (c->type == XML_ELEMENT_NODE || !is_blank(c))
				any = true;
	}
	if (!any)
		return 0; /* out->extended stays NULL */
	sbuf_init(&sb, UD_FRAG_CAP);
	w_raw(&w, "<ExtendedProperties");
	if (props != NULL) {
		split_attrs(&w, props, skip_not_ext, NULL);
		w_content(&w, props, NULL, "ExtendedProperties", split_elem,
		    NULL);
	} else {
		w_raw(&w, " />");
	}
	if (top[TOP_FILES] != NULL)
		split_elem(&w, top[TOP_FILES], NULL);
	if (top[TOP_HANDLER] != NULL)
		split_elem(&w, top[TOP_HANDLER], NULL);
	if (w.rc != 0) {
		sbuf_release(&sb);
		return w.rc;
	}
	return take_sbuf(&sb, &out->extended, &out->extended_len, err);
}

static int
split_localized(const xmlNode *coll, struct update_doc_parts *out,
    struct wsd_err *err)
{
	size_t n = 0;
	int rc;

	for (const xmlNode *c = coll->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE) {
			if (!is_blank(c))
				return wsd_fail(err, WSD_EINVAL,
				    "text in LocalizedPropertiesCollection");
			continue;
		}
		if (!is_name(c, "LocalizedProperties"))
			return wsd_fail(err, WSD_EINVAL,
			    "unexpected element in "
			    "LocalizedPropertiesCollection");
		if (++n > UPDATE_DOC_MAX_LANGUAGES)
			return wsd_fail(err, WSD_ETOOBIG,
			    "more than UPDATE_DOC_MAX_LANGUAGES languages");
	}
	if (n == 0)
		return 0;
	if ((out->localized = calloc(n, sizeof(*out->localized))) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "update document: no memory");
	for (const xmlNode *c = coll->children; c != NULL; c = c->next) {
		struct update_doc_localized *l;
		struct fragment_localized_info li;
		struct sbuf sb;
		struct w w = { &sb, err, 0 };

		if (c->type != XML_ELEMENT_NODE)
			continue;
		l = &out->localized[out->n_localized++];
		sbuf_init(&sb, UD_FRAG_CAP);
		split_elem(&w, c, NULL);
		if (w.rc != 0) {
			sbuf_release(&sb);
			return w.rc;
		}
		if ((rc = take_sbuf(&sb, &l->xml, &l->xml_len, err)) < 0)
			return rc;
		if ((rc = fragment_parse_localized(l->xml, l->xml_len, &li,
			 err)) < 0)
			return rc;
		l->language = li.language;
		l->title = li.title;
		li.language = li.title = NULL;
		fragment_localized_info_release(&li);
		for (size_t k = 0; k + 1 < out->n_localized; k++)
			if (strcasecmp(out->localized[k].language,
				l->language) == 0)
				return wsd_fail(err, WSD_EINVAL,
				    "two LocalizedProperties of one language");
	}
	return 0;
}

int
update_doc_split(const char *xml, size_t len, struct update_doc_parts *out,
    struct wsd_err *err)
{
	const xmlNode *top[TOP_N] = { NULL };
	struct fragment_core_info ci;
	struct fragment_extended_info ei;
	const xmlNode *root;
	xmlDoc *doc;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = ud_read(xml, len, false, &doc, err)) < 0)
		return rc;
	root = xmlDocGetRootElement(doc);
	if (!is_name(root, "Update") || root->ns == NULL ||
	    root->ns->href == NULL ||
	    strcmp((const char *)root->ns->href, NS_UPD) != 0) {
		rc = wsd_fail(err, WSD_EINVAL,
		    "root is not Update in the Update namespace");
		goto fail;
	}
	for (const xmlNode *c = root->children; c != NULL; c = c->next) {
		size_t k;

		if (c->type != XML_ELEMENT_NODE) {
			if (!is_blank(c)) {
				rc = wsd_fail(err, WSD_EINVAL,
				    "text directly in Update");
				goto fail;
			}
			continue;
		}
		for (k = 0; k < TOP_N; k++)
			if (is_name(c, top_names[k]))
				break;
		if (k == TOP_N)
			continue; /* never part of a fragment */
		if (top[k] != NULL) {
			rc = wsd_fail(err, WSD_EINVAL,
			    "an element of Update appears twice");
			goto fail;
		}
		top[k] = c;
	}
	if (top[TOP_IDENTITY] == NULL) {
		rc = wsd_fail(err, WSD_EINVAL, "Update without UpdateIdentity");
		goto fail;
	}
	if ((rc = split_core(top, out, err)) < 0 ||
	    (rc = split_extended(top, out, err)) < 0 ||
	    (top[TOP_LOCALIZED] != NULL &&
		(rc = split_localized(top[TOP_LOCALIZED], out, err)) < 0))
		goto fail;
	xmlFreeDoc(doc);
	doc = NULL;
	/* What was written must be what the fragment parsers accept. */
	if ((rc = fragment_parse_core(out->core, out->core_len, &ci, err)) < 0)
		goto fail;
	fragment_core_info_release(&ci);
	if (out->extended != NULL) {
		if ((rc = fragment_parse_extended(out->extended,
			 out->extended_len, &ei, err)) < 0)
			goto fail;
		fragment_extended_info_release(&ei);
	}
	return 0;
fail:
	xmlFreeDoc(doc);
	update_doc_parts_release(out);
	return rc;
}

void
update_doc_parts_release(struct update_doc_parts *p)
{
	if (p == NULL)
		return;
	free(p->core);
	free(p->extended);
	for (size_t i = 0; i < p->n_localized; i++) {
		free(p->localized[i].language);
		free(p->localized[i].title);
		free(p->localized[i].xml);
	}
	free(p->localized);
	memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------------------ */
/* Build: fragments -> document                                        */

/* Where an element sits, for the namespace of an undotted name. */
enum where {
	IN_UPDATE,
	IN_RULES,   /* under ApplicabilityRules */
	IN_HANDLER, /* under HandlerSpecificData */
};

struct bctx {
	enum where where;
	const char *hprefix; /* IN_HANDLER: prefix for its children */
};

/* The document name of fragment name NAME: prefix into *PREFIX, local
 * part returned. */
static const char *
build_name(const char *name, const struct bctx *bc, const char **prefix)
{
	for (size_t i = 0; i < N_OF(dotted); i++) {
		size_t dl = strlen(dotted[i].dot);

		if (strncmp(name, dotted[i].dot, dl) == 0 &&
		    ncname_start((unsigned char)name[dl])) {
			*prefix = dotted[i].prefix;
			return name + dl;
		}
	}
	if (bc->where == IN_RULES && in_list(name, logical_rules))
		*prefix = "lar";
	else if (bc->where == IN_HANDLER)
		*prefix = bc->hprefix;
	else
		*prefix = "upd";
	return name;
}

static void build_elem(struct w *w, const xmlNode *n, void *arg);

static void
build_elem(struct w *w, const xmlNode *n, void *arg)
{
	const struct bctx *bc = arg;
	const char *prefix, *local;

	local = build_name((const char *)n->name, bc, &prefix);
	w_raw(w, "<");
	w_raw(w, prefix);
	w_raw(w, ":");
	w_raw(w, local);
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
		w_attr(w, NULL, (const char *)a->name, attr_value(a));
	w_content(w, n, prefix, local, build_elem, arg);
}

/* Parsed stored fragment: its top-level elements in order. */
struct sfrag {
	xmlDoc *doc;
	const xmlNode *el[8];
	size_t n;
};

static int
sfrag_read(const char *xml, size_t len, struct sfrag *f, struct wsd_err *err)
{
	int rc;

	memset(f, 0, sizeof(*f));
	if ((rc = ud_read(xml, len, true, &f->doc, err)) < 0)
		return rc;
	for (const xmlNode *c = xmlDocGetRootElement(f->doc)->children;
	     c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE) {
			if (!is_blank(c))
				return wsd_fail(err, WSD_EINVAL,
				    "text between fragment elements");
			continue;
		}
		if (f->n == N_OF(f->el))
			return wsd_fail(err, WSD_EINVAL,
			    "too many top-level elements in a fragment");
		f->el[f->n++] = c;
	}
	return 0;
}

/* F's elements must be NAMES (NULL-terminated) in order, each optional
 * unless REQUIRED counts it among the first ones. */
static int
sfrag_order(const struct sfrag *f, const char *const *names, size_t required,
    const xmlNode **slots, struct wsd_err *err)
{
	size_t k = 0;

	for (size_t i = 0; names[i] != NULL; i++) {
		slots[i] = NULL;
		if (k < f->n && is_name(f->el[k], names[i]))
			slots[i] = f->el[k++];
		else if (i < required)
			return wsd_fail(err, WSD_EINVAL,
			    "stored fragment lacks a required element");
	}
	if (k != f->n)
		return wsd_fail(err, WSD_EINVAL,
		    "stored fragment has elements out of order");
	return 0;
}

/* A namespace prefix this document may declare on HandlerSpecificData. */
static bool
prefix_declarable(const char *p, size_t n)
{
	if (n == 0 || n > 64 || !ncname_start((unsigned char)p[0]))
		return false;
	if (n >= 3 && strncasecmp(p, "xml", 3) == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!(ncname_start(c) || (c >= '0' && c <= '9') || c == '-' ||
			c == '.'))
			return false;
	}
	return true;
}

/*
 * A Handler URI fit to be a namespace name: absolute (a scheme), of
 * URI characters and without '%', and one libxml2's URI parser takes:
 * libxml2 refuses a namespace whose URI it cannot parse.
 */
static bool
uri_declarable(const char *u)
{
	xmlURI *uri;
	size_t i = 0;
	bool ok;

	if (!((u[0] >= 'a' && u[0] <= 'z') || (u[0] >= 'A' && u[0] <= 'Z')))
		return false;
	while ((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= 'A' && u[i] <= 'Z') ||
	    (u[i] >= '0' && u[i] <= '9') || u[i] == '+' || u[i] == '-' ||
	    u[i] == '.')
		i++;
	if (u[i] != ':')
		return false;
	for (; u[i] != '\0'; i++)
		if (!((u[i] >= 'a' && u[i] <= 'z') ||
			(u[i] >= 'A' && u[i] <= 'Z') ||
			(u[i] >= '0' && u[i] <= '9') ||
			strchr("-._~:/?#[]@!$&'()*+,;=", u[i]) != NULL))
			return false;
	if (i > 1024)
		return false;
	/* And what libxml2 itself checks a namespace name with. */
	if ((uri = xmlParseURI(u)) == NULL)
		return false;
	ok = uri->scheme != NULL;
	xmlFreeURI(uri);
	return ok;
}

static bool
uri_dotted(const char *uri)
{
	for (size_t i = 0; i < N_OF(dotted); i++)
		if (strcmp(uri, dotted[i].uri) == 0)
			return true;
	return false;
}

/*
 * <upd:HandlerSpecificData xsi:type="..."> with its children in the
 * namespace the type's prefix names (see the module comment).
 */
static void
build_handler(struct w *w, const xmlNode *h, const char *handler_uri)
{
	const char *type = attr_get(h, "type"), *colon;
	char pfx[65];
	struct bctx bc = { IN_HANDLER, "upd" };
	const char *declare = NULL;

	pfx[0] = '\0';
	if (type != NULL && (colon = strchr(type, ':')) != NULL &&
	    prefix_declarable(type, (size_t)(colon - type))) {
		size_t pl = (size_t)(colon - type);
		size_t i;

		memcpy(pfx, type, pl);
		pfx[pl] = '\0';
		for (i = 0; i < N_OF(root_ns); i++)
			if (strcmp(pfx, root_ns[i].prefix) == 0)
				break;
		if (i < N_OF(root_ns)) {
			if (!uri_dotted(root_ns[i].uri) &&
			    strcmp(root_ns[i].uri, NS_XSI) != 0)
				bc.hprefix = root_ns[i].prefix;
		} else {
			declare =
			    handler_uri != NULL && uri_declarable(handler_uri)
			    ? handler_uri
			    : NS_UPD;
			if (!uri_dotted(declare))
				bc.hprefix = pfx;
		}
	}
	w_raw(w, "<upd:HandlerSpecificData");
	if (declare != NULL) {
		w_raw(w, " xmlns:");
		w_raw(w, pfx);
		w_raw(w, "=\"");
		w_text(w, declare);
		w_raw(w, "\"");
	}
	for (const xmlAttr *a = h->properties; a != NULL; a = a->next)
		w_attr(w,
		    strcmp((const char *)a->name, "type") == 0 ? "xsi" : NULL,
		    (const char *)a->name, attr_value(a));
	w_content(w, h, "upd", "HandlerSpecificData", build_elem, &bc);
}

int
update_doc_build(struct sbuf *sb, const struct store_revision_in *rv,
    struct wsd_err *err)
{
	static const char *const core_order[] = { "UpdateIdentity",
		"Properties", "Relationships", "ApplicabilityRules", NULL };
	static const char *const ext_order[] = { "ExtendedProperties", "Files",
		"HandlerSpecificData", NULL };
	struct sfrag core, ext, *loc = NULL;
	const xmlNode *cs[4], *es[3] = { NULL, NULL, NULL };
	struct bctx upd = { IN_UPDATE, NULL }, rules = { IN_RULES, NULL };
	struct w w = { sb, err, 0 };
	size_t mark = sb->sb_len;
	const xmlNode *props;
	int rc;

	memset(&ext, 0, sizeof(ext));
	if ((rc = sfrag_read(rv->xml_core, rv->xml_core_len, &core, err)) < 0 ||
	    (rc = sfrag_order(&core, core_order, 2, cs, err)) < 0)
		goto out;
	props = cs[1];
	if (props->children != NULL) {
		rc = wsd_fail(err, WSD_EINVAL,
		    "core Properties with content cannot be rebuilt");
		goto out;
	}
	for (const xmlAttr *a = props->properties; a != NULL; a = a->next)
		if (!in_list((const char *)a->name, core_attrs)) {
			rc = wsd_fail(err, WSD_EINVAL,
			    "core Properties attribute outside the core "
			    "set");
			goto out;
		}
	if (rv->xml_extended != NULL) {
		if ((rc = sfrag_read(rv->xml_extended, rv->xml_extended_len,
			 &ext, err)) < 0 ||
		    (rc = sfrag_order(&ext, ext_order, 1, es, err)) < 0)
			goto out;
		for (const xmlAttr *a = es[0]->properties; a != NULL;
		     a = a->next)
			if (in_list((const char *)a->name, core_attrs) ||
			    in_list((const char *)a->name, dropped_attrs)) {
				rc = wsd_fail(err, WSD_EINVAL,
				    "ExtendedProperties attribute of the "
				    "core or dropped set");
				goto out;
			}
		if (es[0]->properties == NULL && es[0]->children == NULL &&
		    es[1] == NULL && es[2] == NULL) {
			rc = wsd_fail(err, WSD_EINVAL,
			    "an empty extended fragment cannot be rebuilt");
			goto out;
		}
	}
	if (rv->n_localized > UPDATE_DOC_MAX_LANGUAGES) {
		rc = wsd_fail(err, WSD_ETOOBIG,
		    "more than UPDATE_DOC_MAX_LANGUAGES languages");
		goto out;
	}
	if (rv->n_localized > 0) {
		if ((loc = calloc(rv->n_localized, sizeof(*loc))) == NULL) {
			rc = wsd_fail(err, WSD_ENOMEM,
			    "update document: no memory");
			goto out;
		}
		for (unsigned i = 0; i < rv->n_localized; i++) {
			if ((rc = sfrag_read(rv->localized[i].xml,
				 rv->localized[i].xml_len, &loc[i], err)) < 0)
				goto out;
			if (loc[i].n != 1 ||
			    !is_name(loc[i].el[0], "LocalizedProperties")) {
				rc = wsd_fail(err, WSD_EINVAL,
				    "localized fragment is not one "
				    "LocalizedProperties");
				goto out;
			}
		}
	}

	w_raw(&w, "<upd:Update");
	for (size_t i = 0; i < N_OF(root_ns); i++) {
		w_raw(&w, " xmlns:");
		w_raw(&w, root_ns[i].prefix);
		w_raw(&w, "=\"");
		w_raw(&w, root_ns[i].uri);
		w_raw(&w, "\"");
	}
	w_raw(&w, ">");
	build_elem(&w, cs[0], &upd);
	/* Properties: the core attributes, then the extended ones and the
	 * content of ExtendedProperties. */
	w_raw(&w, "<upd:Properties");
	for (const xmlAttr *a = props->properties; a != NULL; a = a->next)
		w_attr(&w, NULL, (const char *)a->name, attr_value(a));
	if (es[0] != NULL) {
		for (const xmlAttr *a = es[0]->properties; a != NULL;
		     a = a->next)
			w_attr(&w, NULL, (const char *)a->name, attr_value(a));
		w_content(&w, es[0], "upd", "Properties", build_elem, &upd);
	} else {
		w_raw(&w, " />");
	}
	if (rv->n_localized > 0) {
		w_raw(&w, "<upd:LocalizedPropertiesCollection>");
		for (unsigned i = 0; i < rv->n_localized; i++)
			build_elem(&w, loc[i].el[0], &upd);
		w_raw(&w, "</upd:LocalizedPropertiesCollection>");
	}
	if (cs[2] != NULL)
		build_elem(&w, cs[2], &upd);
	if (cs[3] != NULL)
		build_elem(&w, cs[3], &rules);
	if (es[1] != NULL)
		build_elem(&w, es[1], &upd);
	if (es[2] != NULL)
		build_handler(&w, es[2], attr_get(es[0], "Handler"));
	w_raw(&w, "</upd:Update>");
	if (w.rc == 0 && sb->sb_len - mark > UPDATE_DOC_MAX_BYTES)
		w_fail(&w, WSD_ETOOBIG,
		    "built update document larger than UPDATE_DOC_MAX_BYTES");
	rc = w.rc;
out:
	if (rc < 0 && sb->sb_buf != NULL && sb->sb_len >= mark) {
		sb->sb_len = mark;
		sb->sb_buf[mark] = '\0';
	}
	xmlFreeDoc(core.doc);
	xmlFreeDoc(ext.doc);
	for (unsigned i = 0; loc != NULL && i < rv->n_localized; i++)
		xmlFreeDoc(loc[i].doc);
	free(loc);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The revision to store                                               */

struct update_doc_hold {
	struct fragment_core_info ci;
	struct fragment_extended_info ei;
	struct store_localized *loc;
	struct store_file *files;
	char **modified;
	size_t n_modified;
	const char **categories;
	struct store_prereq *prereqs;
	struct store_bundle_member *bundle;
	const char **supersedes;
	char eula[37];
};

void
update_doc_revision_release(struct update_doc_hold *h)
{
	if (h == NULL)
		return;
	fragment_core_info_release(&h->ci);
	fragment_extended_info_release(&h->ei);
	free(h->loc);
	free(h->files);
	for (size_t i = 0; i < h->n_modified; i++)
		free(h->modified[i]);
	free(h->modified);
	free(h->categories);
	free(h->prereqs);
	free(h->bundle);
	free(h->supersedes);
	free(h);
}

static const char *
severity_text(enum fragment_severity s)
{
	switch (s) {
	case FRAGMENT_SEVERITY_CRITICAL:
		return "Critical";
	case FRAGMENT_SEVERITY_IMPORTANT:
		return "Important";
	case FRAGMENT_SEVERITY_MODERATE:
		return "Moderate";
	case FRAGMENT_SEVERITY_LOW:
		return "Low";
	default:
		return NULL;
	}
}

/* calloc of N (bounded by the fragment limits) elements; N 0 is NULL. */
static int
alloc_n(void *pp, size_t n, size_t size, struct wsd_err *err)
{
	void *p = NULL;

	if (n > 0 && (p = calloc(n, size)) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "update document: no memory");
	memcpy(pp, &p, sizeof(p));
	return 0;
}

/* EulaID of the core Properties (a GUID) and the Modified values of the
 * extended Files as written: fields fragment_parse_* do not keep. */
static int
raw_fields(const struct update_doc_parts *p, struct update_doc_hold *h,
    const char **eula, struct wsd_err *err)
{
	struct sfrag f;
	const char *v;
	int rc;

	*eula = NULL;
	if ((rc = sfrag_read(p->core, p->core_len, &f, err)) < 0)
		goto out;
	for (size_t i = 0; i < f.n; i++)
		if (is_name(f.el[i], "Properties") &&
		    (v = attr_get(f.el[i], "EulaID")) != NULL) {
			if (guid_normalize(v, h->eula) < 0) {
				rc = wsd_fail(err, WSD_EINVAL,
				    "EulaID is not a GUID");
				goto out;
			}
			*eula = h->eula;
		}
	xmlFreeDoc(f.doc);
	f.doc = NULL;
	if (p->extended == NULL || h->ei.n_files == 0)
		return 0;
	if ((rc = sfrag_read(p->extended, p->extended_len, &f, err)) < 0 ||
	    (rc = alloc_n(&h->modified, h->ei.n_files, sizeof(*h->modified),
		 err)) < 0)
		goto out;
	for (size_t i = 0; i < f.n; i++) {
		if (!is_name(f.el[i], "Files"))
			continue;
		for (const xmlNode *c = f.el[i]->children; c != NULL;
		     c = c->next) {
			if (!is_name(c, "File"))
				continue;
			if (h->n_modified == h->ei.n_files ||
			    (v = attr_get(c, "Modified")) == NULL) {
				rc = wsd_fail(err, WSD_EINTERNAL,
				    "Files differ between two reads");
				goto out;
			}
			if ((h->modified[h->n_modified] = strdup(v)) == NULL) {
				rc = wsd_fail(err, WSD_ENOMEM,
				    "update document: no memory");
				goto out;
			}
			h->n_modified++;
		}
	}
	if (h->n_modified != h->ei.n_files)
		rc = wsd_fail(err, WSD_EINTERNAL,
		    "Files differ between two reads");
out:
	xmlFreeDoc(f.doc);
	return rc;
}

int
update_doc_revision(const struct update_doc_parts *p, const char *origin,
    struct store_revision_in *rv, struct update_doc_hold **holdp,
    struct wsd_err *err)
{
	struct update_doc_hold *h;
	struct fragment_core_info *ci;
	struct fragment_extended_info *ei;
	const char *deflang, *eula;
	size_t ncat = 0, title_ix = SIZE_MAX;
	int rc;

	*holdp = NULL;
	memset(rv, 0, sizeof(*rv));
	if (p->core == NULL)
		return wsd_fail(err, WSD_EINVAL, "no core fragment");
	if (p->n_localized > UPDATE_DOC_MAX_LANGUAGES)
		return wsd_fail(err, WSD_ETOOBIG,
		    "more than UPDATE_DOC_MAX_LANGUAGES languages");
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "update document: no memory");
	ci = &h->ci;
	ei = &h->ei;
	if ((rc = fragment_parse_core(p->core, p->core_len, ci, err)) < 0)
		goto fail;
	if (p->extended != NULL &&
	    (rc = fragment_parse_extended(p->extended, p->extended_len, ei,
		 err)) < 0)
		goto fail;
	if ((rc = raw_fields(p, h, &eula, err)) < 0)
		goto fail;

	rv->update_id = ci->update_id;
	rv->revision_number = (int)ci->revision_number;
	rv->update_type = fragment_update_type_name(ci->type);
	if (ci->type == FRAGMENT_TYPE_CATEGORY &&
	    ei->category_type != FRAGMENT_CAT_NONE)
		rv->category_type =
		    fragment_category_type_name(ei->category_type);
	rv->origin = origin;
	rv->explicitly_deployable = ci->explicitly_deployable;
	/* As wsusutil publish and the package import store it: every
	 * update is a leaf when stored, categories are not; the catalog
	 * works out IsLeaf from the prerequisites for clients. */
	rv->is_leaf = ci->type != FRAGMENT_TYPE_CATEGORY;
	rv->is_bundle = ci->n_bundled > 0;
	rv->kb_article = ei->kb_article_id;
	rv->msrc_severity = severity_text(ei->msrc_severity);
	rv->eula_id = eula;
	rv->xml_core = p->core;
	rv->xml_core_len = p->core_len;
	rv->xml_extended = p->extended;
	rv->xml_extended_len = p->extended_len;

	/* Localized fragments; the title of the default language, else
	 * "en", else the first. */
	deflang = ei->default_language != NULL ? ei->default_language : "en";
	if ((rc = alloc_n(&h->loc, p->n_localized, sizeof(*h->loc), err)) < 0)
		goto fail;
	for (size_t i = 0; i < p->n_localized; i++) {
		const struct update_doc_localized *l = &p->localized[i];

		h->loc[i] = (struct store_localized){ l->language, l->title,
			l->xml, l->xml_len };
		if (strcasecmp(l->language, deflang) == 0)
			title_ix = i;
	}
	for (size_t i = 0; i < p->n_localized && title_ix == SIZE_MAX; i++)
		if (strcasecmp(p->localized[i].language, "en") == 0)
			title_ix = i;
	if (title_ix == SIZE_MAX && p->n_localized > 0)
		title_ix = 0;
	rv->title = title_ix != SIZE_MAX ? p->localized[title_ix].title : NULL;
	rv->n_localized = (unsigned)p->n_localized;
	rv->localized = h->loc;

	/* Files, as the extended fragment lists them. */
	if ((rc = alloc_n(&h->files, ei->n_files, sizeof(*h->files), err)) < 0)
		goto fail;
	for (size_t i = 0; i < ei->n_files; i++) {
		const struct fragment_file_info *f = &ei->files[i];
		struct store_file *s = &h->files[i];

		memcpy(s->sha1, f->sha1, sizeof(s->sha1));
		memcpy(s->sha256, f->sha256, sizeof(s->sha256));
		s->has_sha256 = f->has_sha256;
		s->size = f->size;
		s->file_name = f->name;
		s->modified = h->modified[i];
		s->patching_type = f->patching_type;
	}
	rv->n_files = (unsigned)ei->n_files;
	rv->files = h->files;

	/* Prerequisites; the category ones are also its categories (each
	 * once). */
	if ((rc = alloc_n(&h->prereqs, ci->n_prereqs, sizeof(*h->prereqs),
		 err)) < 0 ||
	    (rc = alloc_n(&h->categories, ci->n_prereqs, sizeof(*h->categories),
		 err)) < 0)
		goto fail;
	for (size_t i = 0; i < ci->n_prereqs; i++) {
		const struct fragment_ref_info *r = &ci->prereqs[i];
		size_t k;

		h->prereqs[i] =
		    (struct store_prereq){ r->clause, r->guid, r->is_category };
		if (!r->is_category)
			continue;
		for (k = 0; k < ncat; k++)
			if (strcmp(h->categories[k], r->guid) == 0)
				break;
		if (k == ncat)
			h->categories[ncat++] = r->guid;
	}
	rv->n_prereqs = (unsigned)ci->n_prereqs;
	rv->prereqs = h->prereqs;
	rv->n_categories = (unsigned)ncat;
	rv->categories = h->categories;

	if ((rc = alloc_n(&h->bundle, ci->n_bundled, sizeof(*h->bundle), err)) <
	    0)
		goto fail;
	for (size_t i = 0; i < ci->n_bundled; i++)
		h->bundle[i] =
		    (struct store_bundle_member){ ci->bundled[i].clause,
			    ci->bundled[i].guid, (int)ci->bundled[i].revision };
	rv->n_bundle = (unsigned)ci->n_bundled;
	rv->bundle = h->bundle;

	if ((rc = alloc_n(&h->supersedes, ci->n_supersedes,
		 sizeof(*h->supersedes), err)) < 0)
		goto fail;
	for (size_t i = 0; i < ci->n_supersedes; i++)
		h->supersedes[i] = ci->supersedes[i].s;
	rv->n_supersedes = (unsigned)ci->n_supersedes;
	rv->supersedes = h->supersedes;
	*holdp = h;
	return 0;
fail:
	update_doc_revision_release(h);
	memset(rv, 0, sizeof(*rv));
	return rc;
}
