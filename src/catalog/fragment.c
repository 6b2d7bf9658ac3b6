#include "catalog/fragment.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "catalog/fragment_int.h"
#include "common/encode.h"
#include "common/sbuf.h"
#include "common/strparse.h"
#include "common/xmlesc.h"

#define FRAG_STR_(x) #x
#define FRAG_STR(x)  FRAG_STR_(x)

/* The dummy root a fragment is wrapped in to be parsed. A fragment that
 * closes it early leaves "extra content" behind, which libxml2 refuses. */
#define FRAG_ROOT "wsd-fragment"

_Static_assert(WSD_MAX_FRAGMENT_BYTES == 1048576,
    "error texts below say 1 MiB");

/* Error texts for the limits name the limit. */
#define MSG_DEPTH                                                              \
	"fragment nested deeper than " FRAG_STR(                               \
	    WSD_MAX_FRAGMENT_DEPTH) " elements"
#define MSG_RELS                                                               \
	"more than " FRAG_STR(                                                 \
	    WSD_MAX_FRAGMENT_RELATIONSHIPS) " relationship entries"
#define MSG_FILES "more than " FRAG_STR(WSD_MAX_FRAGMENT_FILES) " files"
#define MSG_ATTRS                                                              \
	"more than " FRAG_STR(                                                 \
	    WSD_MAX_FRAGMENT_ATTRS) " attributes on one element"

/* Expressions sit at depth 3 (ApplicabilityRules/IsInstalled/expr). */
#define FRAG_EXPR_MAX_DEPTH (WSD_MAX_FRAGMENT_DEPTH - 2)

/* ------------------------------------------------------------------ */
/* Names                                                               */

static const char *const type_names[] = {
	[FRAGMENT_TYPE_SOFTWARE] = "Software",
	[FRAGMENT_TYPE_DRIVER] = "Driver",
	[FRAGMENT_TYPE_DETECTOID] = "Detectoid",
	[FRAGMENT_TYPE_CATEGORY] = "Category",
};

static const char *const cat_names[] = {
	[FRAGMENT_CAT_COMPANY] = "Company",
	[FRAGMENT_CAT_PRODUCT_FAMILY] = "ProductFamily",
	[FRAGMENT_CAT_PRODUCT] = "Product",
	[FRAGMENT_CAT_CLASSIFICATION] = "UpdateClassification",
};

static const char *const severity_names[] = {
	[FRAGMENT_SEVERITY_CRITICAL] = "Critical",
	[FRAGMENT_SEVERITY_IMPORTANT] = "Important",
	[FRAGMENT_SEVERITY_MODERATE] = "Moderate",
	[FRAGMENT_SEVERITY_LOW] = "Low",
};

static const char *const reboot_names[] = {
	[FRAGMENT_REBOOT_NEVER] = "NeverReboots",
	[FRAGMENT_REBOOT_ALWAYS] = "AlwaysRequiresReboot",
	[FRAGMENT_REBOOT_CAN_REQUEST] = "CanRequestReboot",
};

static const char *const impact_names[] = {
	[FRAGMENT_IMPACT_NORMAL] = "Normal",
	[FRAGMENT_IMPACT_MINOR] = "Minor",
	[FRAGMENT_IMPACT_EXCLUSIVE] = "RequiresExclusiveHandling",
};

static const char *const result_names[] = {
	[FRAGMENT_RESULT_SUCCEEDED] = "Succeeded",
	[FRAGMENT_RESULT_FAILED] = "Failed",
	[FRAGMENT_RESULT_CANCELLED] = "Cancelled",
};

#define NAMES_N(t) (sizeof(t) / sizeof((t)[0]))

/* Name of value v in table t (index 0 unused), or NULL. */
static const char *
name_of(const char *const *t, size_t n, int v)
{
	if (v <= 0 || (size_t)v >= n)
		return NULL;
	return t[v];
}

/* Index of s in table t, or 0 when absent. */
static int
name_find(const char *const *t, size_t n, const char *s)
{
	for (size_t i = 1; i < n; i++)
		if (t[i] != NULL && strcmp(t[i], s) == 0)
			return (int)i;
	return 0;
}

const char *
fragment_update_type_name(enum fragment_update_type t)
{
	const char *s = name_of(type_names, NAMES_N(type_names), (int)t);

	return s != NULL ? s : "?";
}

const char *
fragment_category_type_name(enum fragment_category_type t)
{
	const char *s = name_of(cat_names, NAMES_N(cat_names), (int)t);

	return s != NULL ? s : "?";
}

/* ------------------------------------------------------------------ */
/* Text checks and escaping                                            */

/*
 * Appends s escaped for text or a double-quoted attribute value. Tab, LF
 * and CR become character references: they survive attribute-value
 * normalisation and keep the fragment on one line.
 */
static int
add_escaped(struct sbuf *sb, const char *s, struct wsd_err *err)
{
	enum xmlesc_bad bad;
	int rc;

	rc = xmlesc_add(sb, s, strlen(s),
	    XMLESC_QUOT | XMLESC_WS | XMLESC_NO_C1, &bad);
	if (rc == 0)
		return 0;
	if (bad == XMLESC_OK)
		return wsd_fail(err, rc, "fragment output buffer full");
	return wsd_fail(err, rc,
	    bad == XMLESC_BAD_UTF8 ? "invalid UTF-8 in text"
				   : "control character in text");
}

static bool
language_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 35)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

/* A FileName is used by clients as a local file name: no directories. */
static bool
file_name_ok(const char *s)
{
	if (s[0] == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
			return false;
	return true;
}

/* PatchingType is a schema token (e.g. SelfContained). */
static bool
token_ok(const char *s)
{
	if (s[0] == '\0' || strlen(s) > 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9')))
			return false;
	return true;
}

static bool
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* ------------------------------------------------------------------ */
/* Dates: xs:dateTime in UTC                                           */

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* 1601-01-01T00:00:00Z (the FILETIME epoch) .. 9999-12-31T23:59:59Z */
#define FRAG_TIME_MIN INT64_C(-11644473600)
#define FRAG_TIME_MAX INT64_C(253402300799)

static int
format_time(int64_t t, char out[21])
{
	struct tm tm;
	time_t tt;

	if (t < FRAG_TIME_MIN || t > FRAG_TIME_MAX)
		return -1;
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
		return -1;
	return 0;
}

static bool
digits(const char **p, int n, unsigned *v)
{
	unsigned x = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		x = x * 10 + (unsigned)(c - '0');
	}
	*p += n;
	*v = x;
	return true;
}

/*
 * YYYY-MM-DDTHH:MM:SS, then up to 7 fraction digits (dropped) and an
 * optional Z: WUSP.md gotcha 13 (servers write 0-7 digits, some writers
 * leave out the Z). No other offsets.
 */
static int
parse_time(const char *s, int64_t *out)
{
	static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
		31, 30, 31 };
	unsigned y, mo, d, h, mi, sec, dim;
	const char *p = s;

	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) ||
	    *p++ != '-' || !digits(&p, 2, &d) || *p++ != 'T' ||
	    !digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) ||
	    *p++ != ':' || !digits(&p, 2, &sec))
		return -1;
	if (*p == '.') {
		int nd = 0;

		for (p++; *p >= '0' && *p <= '9'; p++)
			nd++;
		if (nd < 1 || nd > 7)
			return -1;
	}
	if (*p == 'Z')
		p++;
	if (*p != '\0')
		return -1;
	if (y < 1601 || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59)
		return -1;
	dim = mdays[mo - 1];
	if (mo == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		dim = 29;
	if (d < 1 || d > dim)
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

/* ------------------------------------------------------------------ */
/* libxml2: parse one fragment wrapped in a dummy root                 */

static bool
is_blank_text(const xmlChar *s)
{
	if (s == NULL)
		return true;
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

static bool
is_blank_node(const xmlNode *n)
{
	return (n->type == XML_TEXT_NODE ||
		   n->type == XML_CDATA_SECTION_NODE) &&
	    is_blank_text(n->content);
}

bool
frag_is_name(const xmlNode *n, const char *name)
{
	return strcmp((const char *)n->name, name) == 0;
}

/*
 * Every node below the root: only elements and text; element and
 * attribute names without prefixes or namespaces; no namespace
 * declarations; attribute values plain text; bounded depth and
 * attribute count. Recursion stops at max_depth + 1.
 */
static int
check_nodes(const xmlNode *n, unsigned depth, unsigned max_depth,
    struct wsd_err *err)
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
			    "entity reference in fragment");
		case XML_COMMENT_NODE:
			return wsd_fail(err, WSD_EINVAL, "comment in fragment");
		case XML_PI_NODE:
			return wsd_fail(err, WSD_EINVAL,
			    "processing instruction in fragment");
		case XML_DTD_NODE:
		case XML_DOCUMENT_TYPE_NODE:
			return wsd_fail(err, WSD_EINVAL, "DOCTYPE in fragment");
		default:
			return wsd_fail(err, WSD_EINVAL,
			    "unexpected node type in fragment");
		}
		if (depth > max_depth)
			return wsd_fail(err, WSD_ETOOBIG, MSG_DEPTH);
		if (n->nsDef != NULL)
			return wsd_fail(err, WSD_EINVAL,
			    "namespace declaration in fragment");
		if (n->ns != NULL || strchr((const char *)n->name, ':') != NULL)
			return wsd_fail(err, WSD_EINVAL,
			    "colon-prefixed element name in fragment");
		for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
			if (++nattr > WSD_MAX_FRAGMENT_ATTRS)
				return wsd_fail(err, WSD_ETOOBIG, MSG_ATTRS);
			if (a->ns != NULL ||
			    strchr((const char *)a->name, ':') != NULL)
				return wsd_fail(err, WSD_EINVAL,
				    "colon-prefixed attribute name in "
				    "fragment");
			if (a->children != NULL &&
			    (a->children->type != XML_TEXT_NODE ||
				a->children->next != NULL))
				return wsd_fail(err, WSD_EINVAL,
				    "entity reference in attribute value");
		}
		if ((rc = check_nodes(n->children, depth + 1, max_depth, err)) <
		    0)
			return rc;
	}
	return 0;
}

/*
 * Parses XML (LEN bytes, a sequence of elements) inside a dummy root and
 * checks it as above. STRICT (caller-provided expressions) also refuses
 * any "<!" (CDATA, comments) and "<?" outright. On success *docp owns the
 * tree; the caller frees it with xmlFreeDoc.
 */
int
frag_read(const char *xml, size_t len, unsigned max_depth, bool strict,
    xmlDoc **docp, struct wsd_err *err)
{
	xmlParserCtxt *ctxt;
	xmlDoc *doc;
	xmlNode *root;
	struct sbuf sb;
	int rc, wellformed, stuck_depth, errno_xml;

	*docp = NULL;
	if (xml == NULL)
		return wsd_fail(err, WSD_EINVAL, "no fragment");
	if (len > WSD_MAX_FRAGMENT_BYTES)
		return wsd_fail(err, WSD_ETOOBIG,
		    "fragment larger than 1 MiB (WSD_MAX_FRAGMENT_BYTES)");
	if (memchr(xml, '\0', len) != NULL)
		return wsd_fail(err, WSD_EINVAL, "NUL byte in fragment");
	if (memmem(xml, len, "<!DOCTYPE", 9) != NULL)
		return wsd_fail(err, WSD_EINVAL, "DOCTYPE in fragment");
	if (memmem(xml, len, "<!ENTITY", 8) != NULL)
		return wsd_fail(err, WSD_EINVAL,
		    "entity declaration in fragment");
	if (memmem(xml, len, "<?xml", 5) != NULL)
		return wsd_fail(err, WSD_EINVAL, "XML declaration in fragment");
	if (strict && memmem(xml, len, "<!", 2) != NULL)
		return wsd_fail(err, WSD_EINVAL,
		    "CDATA or comment in applicability rule");
	if (strict && memmem(xml, len, "<?", 2) != NULL)
		return wsd_fail(err, WSD_EINVAL,
		    "processing instruction in applicability rule");

	sbuf_init(&sb, WSD_MAX_FRAGMENT_BYTES + 64);
	if ((rc = sbuf_adds(&sb, "<" FRAG_ROOT ">")) < 0 ||
	    (rc = sbuf_add(&sb, xml, len)) < 0 ||
	    (rc = sbuf_adds(&sb, "</" FRAG_ROOT ">")) < 0)
		return wsd_fail(err, rc, "fragment: out of memory");

	xmlInitParser();
	if ((ctxt = xmlNewParserCtxt()) == NULL) {
		sbuf_release(&sb);
		return wsd_fail(err, WSD_ENOMEM, "fragment: out of memory");
	}
	/* Never XML_PARSE_NOENT, DTDLOAD, DTDATTR or HUGE (STYLE.md). */
	doc = xmlCtxtReadMemory(ctxt, sb.sb_buf, (int)sb.sb_len, NULL, "UTF-8",
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
		XML_PARSE_NOCDATA);
	wellformed = ctxt->wellFormed;
	errno_xml = ctxt->errNo;
	/* Element stack when parsing stopped; the root counts one. */
	stuck_depth = ctxt->nameNr - 1;
	xmlFreeParserCtxt(ctxt);
	sbuf_release(&sb);
	if (doc == NULL || !wellformed) {
		xmlFreeDoc(doc);
		/* libxml2 stops at 256 levels; say which limit that was. */
		if (stuck_depth > (int)max_depth)
			return wsd_fail(err, WSD_ETOOBIG, MSG_DEPTH);
		/* Without a DTD every entity but the five predefined ones
		 * is undeclared: name that rather than "not well-formed". */
		if (errno_xml == XML_ERR_UNDECLARED_ENTITY ||
		    errno_xml == XML_WAR_UNDECLARED_ENTITY ||
		    errno_xml == XML_ERR_ENTITYREF_NO_NAME)
			return wsd_fail(err, WSD_EINVAL,
			    "entity reference in fragment");
		return wsd_fail(err, WSD_EINVAL,
		    "fragment is not well-formed XML");
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		xmlFreeDoc(doc);
		return wsd_fail(err, WSD_EINVAL, "DOCTYPE in fragment");
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !frag_is_name(root, FRAG_ROOT) || root->ns != NULL ||
	    root->properties != NULL || root->nsDef != NULL) {
		xmlFreeDoc(doc);
		return wsd_fail(err, WSD_EINVAL, "fragment escapes its root");
	}
	if ((rc = check_nodes(root->children, 1, max_depth, err)) < 0) {
		xmlFreeDoc(doc);
		return rc;
	}
	*docp = doc;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Builders                                                            */

/* struct emit, the sticky-error writer, is in fragment_int.h. */

static void
e_init(struct emit *e, struct sbuf *sb, struct wsd_err *err)
{
	e->sb = sb;
	e->err = err;
	e->mark = sb->sb_len;
	e->rc = 0;
}

void
frag_e_fail(struct emit *e, int code, const char *what)
{
	if (e->rc == 0)
		e->rc = wsd_fail(e->err, code, what);
}

void
frag_e_raw(struct emit *e, const char *s)
{
	int rc;

	if (e->rc == 0 && (rc = sbuf_adds(e->sb, s)) < 0)
		frag_e_fail(e, rc, "fragment output buffer full");
}

static void
e_text(struct emit *e, const char *s)
{
	if (e->rc == 0)
		e->rc = add_escaped(e->sb, s, e->err);
}

/* ` name="value"` */
void
frag_e_attr(struct emit *e, const char *name, const char *value)
{
	frag_e_raw(e, " ");
	frag_e_raw(e, name);
	frag_e_raw(e, "=\"");
	e_text(e, value);
	frag_e_raw(e, "\"");
}

static void
e_attr_u64(struct emit *e, const char *name, uint64_t v)
{
	int rc;

	if (e->rc == 0 &&
	    (rc = sbuf_addf(e->sb, " %s=\"%" PRIu64 "\"", name, v)) < 0)
		frag_e_fail(e, rc, "fragment output buffer full");
}

static void
e_attr_bool(struct emit *e, const char *name, enum fragment_tristate v)
{
	switch (v) {
	case FRAGMENT_UNSET:
		break;
	case FRAGMENT_FALSE:
		frag_e_attr(e, name, "false");
		break;
	case FRAGMENT_TRUE:
		frag_e_attr(e, name, "true");
		break;
	default:
		frag_e_fail(e, WSD_EINVAL, "bad boolean value");
		break;
	}
}

/* Attribute from an enum table; UNSET (0) writes nothing. */
static void
e_attr_enum(struct emit *e, const char *name, const char *const *t, size_t n,
    int v, const char *what)
{
	const char *s;

	if (v == 0)
		return;
	if ((s = name_of(t, n, v)) == NULL) {
		frag_e_fail(e, WSD_EINVAL, what);
		return;
	}
	frag_e_attr(e, name, s);
}

/* <name>text</name>, nothing for NULL or "". */
static void
e_elem_text(struct emit *e, const char *name, const char *text)
{
	if (!nonempty(text))
		return;
	frag_e_raw(e, "<");
	frag_e_raw(e, name);
	frag_e_raw(e, ">");
	e_text(e, text);
	frag_e_raw(e, "</");
	frag_e_raw(e, name);
	frag_e_raw(e, ">");
}

static void
e_guid_attr(struct emit *e, const char *name, const char *guid,
    const char *what)
{
	char g[37];

	if (e->rc != 0)
		return;
	if (guid == NULL || guid_normalize(guid, g) < 0) {
		frag_e_fail(e, WSD_EINVAL, what);
		return;
	}
	frag_e_attr(e, name, g);
}

/* <UpdateIdentity UpdateID="..." [RevisionNumber="..."] /> */
static void
e_identity(struct emit *e, const char *guid, bool with_rev, uint32_t rev,
    const char *what)
{
	frag_e_raw(e, "<UpdateIdentity");
	e_guid_attr(e, "UpdateID", guid, what);
	if (with_rev) {
		if (rev > INT32_MAX)
			frag_e_fail(e, WSD_EINVAL,
			    "RevisionNumber above 2147483647");
		e_attr_u64(e, "RevisionNumber", rev);
	}
	frag_e_raw(e, " />");
}

static void
e_language(struct emit *e, const char *lang)
{
	if (lang == NULL)
		lang = "en";
	if (!language_ok(lang))
		frag_e_fail(e, WSD_EINVAL, "bad language tag");
	frag_e_attr(e, "DefaultPropertiesLanguage", lang);
}

/*
 * Re-writes a checked expression tree in the WSUS form. Depth was bounded
 * by check_nodes, so the recursion is too.
 */
static void
e_expr_node(struct emit *e, const xmlNode *n)
{
	bool content = false;

	for (const xmlNode *c = n->children; c != NULL; c = c->next)
		if (!is_blank_node(c))
			content = true;
	frag_e_raw(e, "<");
	frag_e_raw(e, (const char *)n->name);
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
		frag_e_attr(e, (const char *)a->name,
		    a->children != NULL ? (const char *)a->children->content
					: "");
	if (!content) {
		frag_e_raw(e, " />");
		return;
	}
	frag_e_raw(e, ">");
	for (const xmlNode *c = n->children; c != NULL && e->rc == 0;
	     c = c->next) {
		if (c->type == XML_ELEMENT_NODE)
			e_expr_node(e, c);
		else if (!is_blank_node(c))
			e_text(e, (const char *)c->content);
	}
	frag_e_raw(e, "</");
	frag_e_raw(e, (const char *)n->name);
	frag_e_raw(e, ">");
}

/* Parses and checks one expression; *topp is its only element. */
static int
expr_read(const char *xml, size_t len, xmlDoc **docp, const xmlNode **topp,
    struct wsd_err *err)
{
	const xmlNode *top = NULL;
	int rc;

	if ((rc = frag_read(xml, len, FRAG_EXPR_MAX_DEPTH, true, docp, err)) <
	    0)
		return rc;
	for (const xmlNode *c = xmlDocGetRootElement(*docp)->children;
	     c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE) {
			if (is_blank_node(c))
				continue;
			rc = wsd_fail(err, WSD_EINVAL,
			    "text outside the applicability expression");
			goto fail;
		}
		if (top != NULL) {
			rc = wsd_fail(err, WSD_EINVAL,
			    "applicability rule has more than one top-level "
			    "element (combine them with <And> or <Or>)");
			goto fail;
		}
		top = c;
	}
	if (top == NULL) {
		rc = wsd_fail(err, WSD_EINVAL, "empty applicability rule");
		goto fail;
	}
	*topp = top;
	return 0;
fail:
	xmlFreeDoc(*docp);
	*docp = NULL;
	return rc;
}

int
fragment_check_expression(const char *xml, size_t len, struct wsd_err *err)
{
	const xmlNode *top;
	xmlDoc *doc;
	int rc;

	if ((rc = expr_read(xml, len, &doc, &top, err)) < 0)
		return rc;
	xmlFreeDoc(doc);
	return 0;
}

static void
e_expr(struct emit *e, const char *xml)
{
	const xmlNode *top;
	xmlDoc *doc;

	if (e->rc != 0)
		return;
	if (xml == NULL) {
		frag_e_fail(e, WSD_EINVAL, "no applicability rule");
		return;
	}
	if ((e->rc = expr_read(xml, strlen(xml), &doc, &top, e->err)) < 0)
		return;
	e_expr_node(e, top);
	xmlFreeDoc(doc);
}

/* Ends a builder: cut back on failure, bound what was written. */
static int
e_finish(struct emit *e)
{
	if (e->rc == 0 && e->sb->sb_len - e->mark > WSD_MAX_FRAGMENT_BYTES)
		frag_e_fail(e, WSD_ETOOBIG,
		    "built fragment larger than 1 MiB "
		    "(WSD_MAX_FRAGMENT_BYTES)");
	if (e->rc < 0 && e->sb->sb_buf != NULL && e->sb->sb_len >= e->mark) {
		e->sb->sb_len = e->mark;
		e->sb->sb_buf[e->mark] = '\0';
	}
	return e->rc;
}

static void
e_prereqs(struct emit *e, const struct fragment_clause *cl, size_t n)
{
	frag_e_raw(e, "<Prerequisites>");
	/* Pass 0: direct members (one non-category member); pass 1: the
	 * AtLeastOne groups. WSUS writes them in that order. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n && e->rc == 0; i++) {
			const struct fragment_clause *c = &cl[i];
			bool cat, direct;

			if (c->n_members == 0 || c->members == NULL) {
				frag_e_fail(e, WSD_EINVAL,
				    "empty prerequisite clause");
				return;
			}
			cat = c->members[0].is_category;
			for (size_t j = 1; j < c->n_members; j++)
				if (c->members[j].is_category != cat)
					frag_e_fail(e, WSD_EINVAL,
					    "prerequisite clause mixes "
					    "categories and updates");
			direct = c->n_members == 1 && !cat;
			if (direct != (pass == 0))
				continue;
			if (direct) {
				e_identity(e, c->members[0].guid, false, 0,
				    "bad prerequisite GUID");
				continue;
			}
			frag_e_raw(e,
			    cat ? "<AtLeastOne IsCategory=\"true\">"
				: "<AtLeastOne>");
			for (size_t j = 0; j < c->n_members; j++)
				e_identity(e, c->members[j].guid, false, 0,
				    "bad prerequisite GUID");
			frag_e_raw(e, "</AtLeastOne>");
		}
	}
	frag_e_raw(e, "</Prerequisites>");
}

int
fragment_build_core(struct sbuf *sb, const struct fragment_update *u,
    struct wsd_err *err)
{
	struct emit e;
	size_t nrel;

	e_init(&e, sb, err);
	if (u->type != FRAGMENT_TYPE_SOFTWARE &&
	    u->type != FRAGMENT_TYPE_DRIVER &&
	    u->type != FRAGMENT_TYPE_DETECTOID)
		return wsd_fail(err, WSD_EINVAL,
		    "core fragment: type must be Software, Driver or "
		    "Detectoid");
	if (u->type == FRAGMENT_TYPE_DRIVER &&
	    (u->n_drivers == 0 || u->rules != FRAGMENT_RULES_DEFAULT))
		return wsd_fail(err, WSD_EINVAL,
		    "core fragment: a Driver needs driver metadata and the "
		    "default rules");
	if (u->type != FRAGMENT_TYPE_DRIVER && u->n_drivers > 0)
		return wsd_fail(err, WSD_EINVAL,
		    "core fragment: driver metadata on a non-Driver update");
	if ((u->n_supersedes > 0 && u->supersedes == NULL) ||
	    (u->n_prereqs > 0 && u->prereqs == NULL) ||
	    (u->n_bundled > 0 && u->bundled == NULL))
		return wsd_fail(err, WSD_EINVAL,
		    "relationship count without array");
	/* Each term is bounded before it is added: no overflow. */
	nrel = 0;
	if (u->n_supersedes <= WSD_MAX_FRAGMENT_RELATIONSHIPS)
		nrel += u->n_supersedes;
	else
		nrel = SIZE_MAX;
	if (nrel <= WSD_MAX_FRAGMENT_RELATIONSHIPS &&
	    u->n_bundled <= WSD_MAX_FRAGMENT_RELATIONSHIPS)
		nrel += u->n_bundled;
	else
		nrel = SIZE_MAX;
	for (size_t i = 0; i < u->n_prereqs; i++) {
		if (nrel > WSD_MAX_FRAGMENT_RELATIONSHIPS ||
		    u->prereqs[i].n_members > WSD_MAX_FRAGMENT_RELATIONSHIPS) {
			nrel = SIZE_MAX;
			break;
		}
		nrel += u->prereqs[i].n_members;
	}
	if (nrel > WSD_MAX_FRAGMENT_RELATIONSHIPS)
		return wsd_fail(err, WSD_ETOOBIG, MSG_RELS);

	e_identity(&e, u->update_id, true, u->revision_number, "bad UpdateID");
	frag_e_raw(&e, "<Properties");
	frag_e_attr(&e, "UpdateType", fragment_update_type_name(u->type));
	if (u->explicitly_deployable)
		frag_e_raw(&e, " ExplicitlyDeployable=\"true\"");
	if (u->auto_select_on_web_sites)
		frag_e_raw(&e, " AutoSelectOnWebSites=\"true\"");
	frag_e_raw(&e, " />");

	if (u->n_supersedes + u->n_prereqs + u->n_bundled > 0) {
		frag_e_raw(&e, "<Relationships>");
		if (u->n_supersedes > 0) {
			frag_e_raw(&e, "<SupersededUpdates>");
			for (size_t i = 0; i < u->n_supersedes; i++)
				e_identity(&e, u->supersedes[i], false, 0,
				    "bad superseded GUID");
			frag_e_raw(&e, "</SupersededUpdates>");
		}
		if (u->n_prereqs > 0)
			e_prereqs(&e, u->prereqs, u->n_prereqs);
		if (u->n_bundled > 0) {
			frag_e_raw(&e, "<BundledUpdates>");
			for (size_t i = 0; i < u->n_bundled; i++) {
				if (i == 0 ||
				    u->bundled[i].clause !=
					u->bundled[i - 1].clause)
					frag_e_raw(&e,
					    i == 0 ? "<AtLeastOne>"
						   : "</AtLeastOne>"
						     "<AtLeastOne>");
				e_identity(&e, u->bundled[i].guid, true,
				    u->bundled[i].revision, "bad bundled GUID");
			}
			frag_e_raw(&e, "</AtLeastOne></BundledUpdates>");
		}
		frag_e_raw(&e, "</Relationships>");
	}

	if (u->type == FRAGMENT_TYPE_DRIVER) {
		frag_emit_driver_rules(&e, u->drivers, u->n_drivers);
		return e_finish(&e);
	}
	switch (u->rules) {
	case FRAGMENT_RULES_DEFAULT:
		frag_e_raw(&e,
		    "<ApplicabilityRules><IsInstalled><False />"
		    "</IsInstalled><IsInstallable><True />"
		    "</IsInstallable></ApplicabilityRules>");
		break;
	case FRAGMENT_RULES_CUSTOM:
		if (u->is_installed == NULL && u->is_installable == NULL) {
			frag_e_fail(&e, WSD_EINVAL,
			    "custom applicability without rules");
			break;
		}
		frag_e_raw(&e, "<ApplicabilityRules>");
		if (u->is_installed != NULL) {
			frag_e_raw(&e, "<IsInstalled>");
			e_expr(&e, u->is_installed);
			frag_e_raw(&e, "</IsInstalled>");
		}
		if (u->is_installable != NULL) {
			frag_e_raw(&e, "<IsInstallable>");
			e_expr(&e, u->is_installable);
			frag_e_raw(&e, "</IsInstallable>");
		}
		frag_e_raw(&e, "</ApplicabilityRules>");
		break;
	case FRAGMENT_RULES_NONE:
		break;
	default:
		frag_e_fail(&e, WSD_EINVAL, "bad applicability kind");
		break;
	}
	return e_finish(&e);
}

static void
e_file(struct emit *e, const struct fragment_file *f)
{
	char b64[45], when[21];

	if (f->name == NULL || !file_name_ok(f->name)) {
		frag_e_fail(e, WSD_EINVAL, "unsafe or empty FileName");
		return;
	}
	if (f->size > INT64_MAX) {
		frag_e_fail(e, WSD_EINVAL, "file Size above 2^63-1");
		return;
	}
	if (format_time(f->modified, when) < 0) {
		frag_e_fail(e, WSD_EINVAL, "file Modified outside 1601..9999");
		return;
	}
	if (f->patching_type != NULL && !token_ok(f->patching_type)) {
		frag_e_fail(e, WSD_EINVAL, "bad PatchingType");
		return;
	}
	b64_encode(f->sha1, sizeof(f->sha1), b64);
	frag_e_raw(e, "<File");
	frag_e_attr(e, "Digest", b64);
	frag_e_raw(e, " DigestAlgorithm=\"SHA1\"");
	frag_e_attr(e, "FileName", f->name);
	e_attr_u64(e, "Size", f->size);
	frag_e_attr(e, "Modified", when);
	if (f->patching_type != NULL)
		frag_e_attr(e, "PatchingType", f->patching_type);
	b64_encode(f->sha256, sizeof(f->sha256), b64);
	frag_e_raw(e, "><AdditionalDigest Algorithm=\"SHA256\">");
	frag_e_raw(e, b64);
	frag_e_raw(e, "</AdditionalDigest></File>");
}

static void
e_cmdline(struct emit *e, const struct fragment_cmdline *c)
{
	if (!nonempty(c->program)) {
		frag_e_fail(e, WSD_EINVAL, "InstallCommand without Program");
		return;
	}
	if (c->n_codes > 0 && c->codes == NULL) {
		frag_e_fail(e, WSD_EINVAL, "return code count without array");
		return;
	}
	frag_e_raw(e,
	    "<HandlerSpecificData type=\"cmd:CommandLineInstallation\">"
	    "<InstallCommand");
	frag_e_attr(e, "Program", c->program);
	if (c->arguments != NULL)
		frag_e_attr(e, "Arguments", c->arguments);
	e_attr_bool(e, "RebootByDefault", c->reboot_by_default);
	e_attr_enum(e, "DefaultResult", result_names, NAMES_N(result_names),
	    (int)c->default_result, "bad DefaultResult");
	if (c->n_codes == 0) {
		frag_e_raw(e, " />");
	} else {
		frag_e_raw(e, ">");
		for (size_t i = 0; i < c->n_codes && e->rc == 0; i++) {
			const struct fragment_return_code *rcd = &c->codes[i];
			int rc;

			if (rcd->result == FRAGMENT_RESULT_UNSET) {
				frag_e_fail(e, WSD_EINVAL,
				    "ReturnCode without Result");
				return;
			}
			if ((rc = sbuf_addf(e->sb,
				 "<ReturnCode Code=\"%" PRId32 "\"",
				 rcd->code)) < 0) {
				frag_e_fail(e, rc, "fragment output buffer full");
				return;
			}
			e_attr_enum(e, "Result", result_names,
			    NAMES_N(result_names), (int)rcd->result,
			    "bad ReturnCode Result");
			e_attr_bool(e, "Reboot", rcd->reboot);
			frag_e_raw(e, " />");
		}
		frag_e_raw(e, "</InstallCommand>");
	}
	frag_e_raw(e, "</HandlerSpecificData>");
}

int
fragment_build_extended(struct sbuf *sb, const struct fragment_update *u,
    struct wsd_err *err)
{
	struct emit e;
	bool behavior, children;

	e_init(&e, sb, err);
	if (u->n_files > WSD_MAX_FRAGMENT_FILES)
		return wsd_fail(err, WSD_ETOOBIG, MSG_FILES);
	if (u->n_files > 0 && u->files == NULL)
		return wsd_fail(err, WSD_EINVAL, "file count without array");
	if (u->cmdline != NULL &&
	    (u->handler == NULL ||
		strcmp(u->handler, FRAGMENT_HANDLER_CMDLINE) != 0))
		return wsd_fail(err, WSD_EINVAL,
		    "command line data needs the CommandLineInstallation "
		    "handler");
	if (u->has_download_sizes &&
	    (u->max_download_size > INT64_MAX ||
		u->min_download_size > u->max_download_size))
		return wsd_fail(err, WSD_EINVAL, "bad download sizes");

	frag_e_raw(&e, "<ExtendedProperties");
	e_language(&e, u->default_language);
	if (u->handler != NULL)
		frag_e_attr(&e, "Handler", u->handler);
	if (u->has_download_sizes) {
		e_attr_u64(&e, "MaxDownloadSize", u->max_download_size);
		e_attr_u64(&e, "MinDownloadSize", u->min_download_size);
	}
	e_attr_enum(&e, "MsrcSeverity", severity_names, NAMES_N(severity_names),
	    (int)u->msrc_severity, "bad MsrcSeverity");
	behavior = u->handler != NULL ||
	    u->reboot_behavior != FRAGMENT_REBOOT_UNSET ||
	    u->impact != FRAGMENT_IMPACT_UNSET;
	children = behavior || nonempty(u->support_url) ||
	    nonempty(u->security_bulletin_id) || nonempty(u->kb_article_id);
	if (!children) {
		frag_e_raw(&e, " />");
	} else {
		frag_e_raw(&e, ">");
		if (behavior) {
			frag_e_raw(&e, "<InstallationBehavior");
			e_attr_enum(&e, "RebootBehavior", reboot_names,
			    NAMES_N(reboot_names), (int)u->reboot_behavior,
			    "bad RebootBehavior");
			e_attr_enum(&e, "Impact", impact_names,
			    NAMES_N(impact_names), (int)u->impact,
			    "bad Impact");
			frag_e_raw(&e, " />");
		}
		e_elem_text(&e, "SupportUrl", u->support_url);
		e_elem_text(&e, "SecurityBulletinID", u->security_bulletin_id);
		e_elem_text(&e, "KBArticleID", u->kb_article_id);
		frag_e_raw(&e, "</ExtendedProperties>");
	}
	if (u->n_files > 0) {
		frag_e_raw(&e, "<Files>");
		for (size_t i = 0; i < u->n_files; i++)
			e_file(&e, &u->files[i]);
		frag_e_raw(&e, "</Files>");
	}
	if (u->cmdline != NULL)
		e_cmdline(&e, u->cmdline);
	return e_finish(&e);
}

int
fragment_build_localized(struct sbuf *sb, const struct fragment_localized *l,
    struct wsd_err *err)
{
	struct emit e;

	e_init(&e, sb, err);
	if (l->language == NULL || !language_ok(l->language))
		return wsd_fail(err, WSD_EINVAL, "bad language tag");
	if (!nonempty(l->title))
		return wsd_fail(err, WSD_EINVAL,
		    "localized properties need "
		    "a Title");
	frag_e_raw(&e, "<LocalizedProperties>");
	e_elem_text(&e, "Language", l->language);
	e_elem_text(&e, "Title", l->title);
	e_elem_text(&e, "Description", l->description);
	e_elem_text(&e, "UninstallNotes", l->uninstall_notes);
	e_elem_text(&e, "MoreInfoUrl", l->more_info_url);
	e_elem_text(&e, "SupportUrl", l->support_url);
	frag_e_raw(&e, "</LocalizedProperties>");
	return e_finish(&e);
}

static int
category_check(const struct fragment_category *c, struct wsd_err *err)
{
	if (name_of(cat_names, NAMES_N(cat_names), (int)c->type) == NULL)
		return wsd_fail(err, WSD_EINVAL, "bad CategoryType");
	return 0;
}

int
fragment_build_category_core(struct sbuf *sb, const struct fragment_category *c,
    struct wsd_err *err)
{
	struct emit e;
	int rc;

	if ((rc = category_check(c, err)) < 0)
		return rc;
	e_init(&e, sb, err);
	e_identity(&e, c->update_id, true, c->revision_number, "bad UpdateID");
	frag_e_raw(&e, "<Properties UpdateType=\"Category\" />");
	if (c->parent_id != NULL) {
		frag_e_raw(&e,
		    "<Relationships><Prerequisites>"
		    "<AtLeastOne IsCategory=\"true\">");
		e_identity(&e, c->parent_id, false, 0, "bad parent GUID");
		frag_e_raw(&e, "</AtLeastOne></Prerequisites></Relationships>");
	}
	frag_e_raw(&e, "<ApplicabilityRules><IsInstalled>");
	if (c->is_installed == NULL)
		frag_e_raw(&e, "<True />");
	else
		e_expr(&e, c->is_installed);
	frag_e_raw(&e, "</IsInstalled></ApplicabilityRules>");
	return e_finish(&e);
}

int
fragment_build_category_extended(struct sbuf *sb,
    const struct fragment_category *c, struct wsd_err *err)
{
	struct emit e;
	int rc;

	if ((rc = category_check(c, err)) < 0)
		return rc;
	e_init(&e, sb, err);
	frag_e_raw(&e, "<ExtendedProperties");
	e_language(&e, c->default_language);
	frag_e_attr(&e, "Handler", FRAGMENT_HANDLER_CATEGORY);
	frag_e_raw(&e,
	    " /><HandlerSpecificData type=\"cat:Category\">"
	    "<CategoryInformation");
	frag_e_attr(&e, "CategoryType", fragment_category_type_name(c->type));
	e_attr_bool(&e, "ProhibitsSubcategories", c->prohibits_subcategories);
	e_attr_bool(&e, "ProhibitsUpdates", c->prohibits_updates);
	e_attr_bool(&e, "ExcludedByDefault", c->excluded_by_default);
	if (c->has_display_order)
		e_attr_u64(&e, "DisplayOrder", c->display_order);
	frag_e_raw(&e, " /></HandlerSpecificData>");
	return e_finish(&e);
}

int
fragment_build_category_localized(struct sbuf *sb, const char *language,
    const char *title, const char *description, struct wsd_err *err)
{
	struct fragment_localized l = {
		.language = language,
		.title = title,
		.description = description,
	};

	return fragment_build_localized(sb, &l, err);
}

/* ------------------------------------------------------------------ */
/* Parsers                                                             */

/* Value of attribute NAME (checked to be one text node), or NULL. */
const char *
frag_attr_get(const xmlNode *n, const char *name)
{
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
		if (strcmp((const char *)a->name, name) == 0)
			return a->children != NULL
			    ? (const char *)a->children->content
			    : "";
	return NULL;
}

/* Advances *np to the next element, over whitespace-only text. */
static int
skip_to_elem(const xmlNode **np, struct wsd_err *err)
{
	const xmlNode *n = *np;

	while (n != NULL && n->type != XML_ELEMENT_NODE) {
		if (!is_blank_node(n))
			return wsd_fail(err, WSD_EINVAL,
			    "text where an element was expected");
		n = n->next;
	}
	*np = n;
	return 0;
}

static int
parse_bool(const char *v, bool *out, const char *what, struct wsd_err *err)
{
	if (v == NULL)
		return 0; /* absent: leave the default */
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else
		return wsd_fail(err, WSD_EINVAL, what);
	return 0;
}

static int
parse_u64(const char *v, uint64_t max, uint64_t *out, const char *what,
    struct wsd_err *err)
{
	if (v == NULL || strparse_u64_all(v, 0, max, out) < 0)
		return wsd_fail(err, WSD_EINVAL, what);
	return 0;
}

static int
dup_str(const char *s, char **out, struct wsd_err *err)
{
	if ((*out = strdup(s)) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "fragment: out of memory");
	return 0;
}

/* Text content of a simple element (no child elements) into *out,
 * which must still be NULL (else the element was a duplicate). */
int
frag_text_dup(const xmlNode *n, char **out, const char *dup_what,
    struct wsd_err *err)
{
	struct sbuf sb;
	int rc;

	if (*out != NULL)
		return wsd_fail(err, WSD_EINVAL, dup_what);
	sbuf_init(&sb, WSD_MAX_FRAGMENT_BYTES);
	for (const xmlNode *c = n->children; c != NULL; c = c->next) {
		if (c->type != XML_TEXT_NODE &&
		    c->type != XML_CDATA_SECTION_NODE) {
			sbuf_release(&sb);
			return wsd_fail(err, WSD_EINVAL,
			    "element inside a text field");
		}
		if (c->content != NULL &&
		    (rc = sbuf_adds(&sb, (const char *)c->content)) < 0)
			return wsd_fail(err, rc, "fragment: out of memory");
	}
	if ((*out = sbuf_detach(&sb, NULL)) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "fragment: out of memory");
	return 0;
}

/*
 * Makes room for NEED elements of ELEM bytes in ARR (capacity *cap);
 * *outp receives the possibly moved array. Callers bound NEED by a
 * WSD_MAX_FRAGMENT_* limit first, so the products cannot overflow.
 */
static int
grow(void *arr, size_t *cap, size_t need, size_t elem, void **outp,
    struct wsd_err *err)
{
	size_t ncap;
	void *p;

	*outp = arr;
	if (need <= *cap)
		return 0;
	ncap = *cap > 0 ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	if ((p = realloc(arr, ncap * elem)) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "fragment: out of memory");
	*outp = p;
	*cap = ncap;
	return 0;
}

static int
parse_guid(const char *v, char out[37], const char *what, struct wsd_err *err)
{
	if (v == NULL || guid_normalize(v, out) < 0)
		return wsd_fail(err, WSD_EINVAL, what);
	return 0;
}

/* UpdateIdentity: UpdateID, and RevisionNumber when WANT_REV. */
static int
parse_identity(const xmlNode *n, char guid[37], bool want_rev, uint32_t *rev,
    struct wsd_err *err)
{
	uint64_t r;
	int rc;

	if (!frag_is_name(n, "UpdateIdentity"))
		return wsd_fail(err, WSD_EINVAL, "expected UpdateIdentity");
	if ((rc = parse_guid(frag_attr_get(n, "UpdateID"), guid,
		 "UpdateIdentity without a valid UpdateID", err)) < 0)
		return rc;
	if (!want_rev)
		return 0;
	if ((rc = parse_u64(frag_attr_get(n, "RevisionNumber"), INT32_MAX, &r,
		 "UpdateIdentity without a valid RevisionNumber", err)) < 0)
		return rc;
	*rev = (uint32_t)r;
	return 0;
}

struct core_state {
	struct fragment_core_info *ci;
	size_t cap_sup, cap_pre, cap_bun;
	size_t n_rel;
};

static int
count_rel(struct core_state *st, struct wsd_err *err)
{
	if (++st->n_rel > WSD_MAX_FRAGMENT_RELATIONSHIPS)
		return wsd_fail(err, WSD_ETOOBIG, MSG_RELS);
	return 0;
}

static int
parse_superseded(struct core_state *st, const xmlNode *list,
    struct wsd_err *err)
{
	struct fragment_core_info *ci = st->ci;
	void *p;
	int rc;

	for (const xmlNode *n = list->children;; n = n->next) {
		if ((rc = skip_to_elem(&n, err)) < 0)
			return rc;
		if (n == NULL)
			return 0;
		if ((rc = count_rel(st, err)) < 0 ||
		    (rc = grow(ci->supersedes, &st->cap_sup,
			 ci->n_supersedes + 1, sizeof(*ci->supersedes), &p,
			 err)) < 0)
			return rc;
		ci->supersedes = p;
		if ((rc = parse_identity(n, ci->supersedes[ci->n_supersedes].s,
			 false, NULL, err)) < 0)
			return rc;
		ci->n_supersedes++;
	}
}

static int
add_prereq(struct core_state *st, const xmlNode *n, uint32_t clause, bool cat,
    struct wsd_err *err)
{
	struct fragment_core_info *ci = st->ci;
	struct fragment_ref_info *r;
	void *p;
	int rc;

	if ((rc = count_rel(st, err)) < 0 ||
	    (rc = grow(ci->prereqs, &st->cap_pre, ci->n_prereqs + 1,
		 sizeof(*ci->prereqs), &p, err)) < 0)
		return rc;
	ci->prereqs = p;
	r = &ci->prereqs[ci->n_prereqs];
	if ((rc = parse_identity(n, r->guid, false, NULL, err)) < 0)
		return rc;
	r->clause = clause;
	r->is_category = cat;
	ci->n_prereqs++;
	return 0;
}

static int
parse_prereqs(struct core_state *st, const xmlNode *list, struct wsd_err *err)
{
	struct fragment_core_info *ci = st->ci;
	int rc;

	for (const xmlNode *n = list->children;; n = n->next) {
		const xmlNode *m;
		bool cat = false;
		size_t before;

		if ((rc = skip_to_elem(&n, err)) < 0)
			return rc;
		if (n == NULL)
			return 0;
		if (frag_is_name(n, "UpdateIdentity")) {
			if ((rc = add_prereq(st, n, ci->n_prereq_clauses, false,
				 err)) < 0)
				return rc;
			ci->n_prereq_clauses++;
			continue;
		}
		if (!frag_is_name(n, "AtLeastOne"))
			return wsd_fail(err, WSD_EINVAL,
			    "unexpected element in Prerequisites");
		if ((rc = parse_bool(frag_attr_get(n, "IsCategory"), &cat,
			 "bad IsCategory", err)) < 0)
			return rc;
		before = ci->n_prereqs;
		for (m = n->children;; m = m->next) {
			if ((rc = skip_to_elem(&m, err)) < 0)
				return rc;
			if (m == NULL)
				break;
			if ((rc = add_prereq(st, m, ci->n_prereq_clauses, cat,
				 err)) < 0)
				return rc;
		}
		if (ci->n_prereqs == before)
			return wsd_fail(err, WSD_EINVAL, "empty AtLeastOne");
		ci->n_prereq_clauses++;
	}
}

static int
add_bundled(struct core_state *st, const xmlNode *n, uint32_t clause,
    struct wsd_err *err)
{
	struct fragment_core_info *ci = st->ci;
	struct fragment_bundled_info *b;
	void *p;
	int rc;

	if ((rc = count_rel(st, err)) < 0 ||
	    (rc = grow(ci->bundled, &st->cap_bun, ci->n_bundled + 1,
		 sizeof(*ci->bundled), &p, err)) < 0)
		return rc;
	ci->bundled = p;
	b = &ci->bundled[ci->n_bundled];
	if ((rc = parse_identity(n, b->guid, true, &b->revision, err)) < 0)
		return rc;
	b->clause = clause;
	ci->n_bundled++;
	return 0;
}

/* BundledUpdates: AtLeastOne groups (WSUS); a direct member (pywsus,
 * accepted by WUA) counts as a group of one. */
static int
parse_bundled(struct core_state *st, const xmlNode *list, struct wsd_err *err)
{
	uint32_t clause = 0;
	int rc;

	for (const xmlNode *n = list->children;; n = n->next) {
		if ((rc = skip_to_elem(&n, err)) < 0)
			return rc;
		if (n == NULL)
			return 0;
		if (frag_is_name(n, "UpdateIdentity")) {
			if ((rc = add_bundled(st, n, clause++, err)) < 0)
				return rc;
			continue;
		}
		if (!frag_is_name(n, "AtLeastOne"))
			return wsd_fail(err, WSD_EINVAL,
			    "unexpected element in BundledUpdates");
		size_t before = st->ci->n_bundled;

		for (const xmlNode *m = n->children;; m = m->next) {
			if ((rc = skip_to_elem(&m, err)) < 0)
				return rc;
			if (m == NULL)
				break;
			if ((rc = add_bundled(st, m, clause, err)) < 0)
				return rc;
		}
		if (st->ci->n_bundled == before)
			return wsd_fail(err, WSD_EINVAL, "empty AtLeastOne");
		clause++;
	}
}

static int
parse_relationships(struct core_state *st, const xmlNode *rel,
    struct wsd_err *err)
{
	static const char *const order[] = { "SupersededUpdates",
		"Prerequisites", "BundledUpdates" };
	size_t next = 0;
	int rc;

	for (const xmlNode *n = rel->children;; n = n->next) {
		size_t k;

		if ((rc = skip_to_elem(&n, err)) < 0)
			return rc;
		if (n == NULL)
			return 0;
		for (k = 0; k < 3 && !frag_is_name(n, order[k]); k++)
			;
		if (k == 3)
			return wsd_fail(err, WSD_EINVAL,
			    "unexpected element in Relationships");
		if (k < next)
			return wsd_fail(err, WSD_EINVAL,
			    "Relationships children out of order or repeated");
		next = k + 1;
		if (k == 0)
			rc = parse_superseded(st, n, err);
		else if (k == 1)
			rc = parse_prereqs(st, n, err);
		else
			rc = parse_bundled(st, n, err);
		if (rc < 0)
			return rc;
	}
}

void
fragment_core_info_release(struct fragment_core_info *ci)
{
	if (ci == NULL)
		return;
	free(ci->supersedes);
	free(ci->prereqs);
	free(ci->bundled);
	memset(ci, 0, sizeof(*ci));
}

int
fragment_parse_core(const char *xml, size_t len, struct fragment_core_info *out,
    struct wsd_err *err)
{
	struct core_state st = { .ci = out };
	const xmlNode *n;
	xmlDoc *doc;
	uint64_t r;
	int rc, t;

	memset(out, 0, sizeof(*out));
	if ((rc = frag_read(xml, len, WSD_MAX_FRAGMENT_DEPTH, false, &doc,
		 err)) < 0)
		return rc;
	n = xmlDocGetRootElement(doc)->children;

	if ((rc = skip_to_elem(&n, err)) < 0)
		goto fail;
	if (n == NULL || !frag_is_name(n, "UpdateIdentity")) {
		rc = wsd_fail(err, WSD_EINVAL,
		    "core fragment does not start with UpdateIdentity");
		goto fail;
	}
	if ((rc = parse_guid(frag_attr_get(n, "UpdateID"), out->update_id,
		 "UpdateIdentity without a valid UpdateID", err)) < 0 ||
	    (rc = parse_u64(frag_attr_get(n, "RevisionNumber"), INT32_MAX, &r,
		 "UpdateIdentity without a valid RevisionNumber", err)) < 0)
		goto fail;
	out->revision_number = (uint32_t)r;

	n = n->next;
	if ((rc = skip_to_elem(&n, err)) < 0)
		goto fail;
	if (n == NULL || !frag_is_name(n, "Properties")) {
		rc = wsd_fail(err, WSD_EINVAL,
		    "core fragment without Properties after UpdateIdentity");
		goto fail;
	}
	if (frag_attr_get(n, "UpdateType") == NULL ||
	    (t = name_find(type_names, NAMES_N(type_names),
		 frag_attr_get(n, "UpdateType"))) == 0) {
		rc = wsd_fail(err, WSD_EINVAL, "missing or unknown UpdateType");
		goto fail;
	}
	out->type = (enum fragment_update_type)t;
	if ((rc = parse_bool(frag_attr_get(n, "ExplicitlyDeployable"),
		 &out->explicitly_deployable, "bad ExplicitlyDeployable",
		 err)) < 0 ||
	    (rc = parse_bool(frag_attr_get(n, "AutoSelectOnWebSites"),
		 &out->auto_select_on_web_sites, "bad AutoSelectOnWebSites",
		 err)) < 0)
		goto fail;

	n = n->next;
	if ((rc = skip_to_elem(&n, err)) < 0)
		goto fail;
	if (n != NULL && frag_is_name(n, "Relationships")) {
		if ((rc = parse_relationships(&st, n, err)) < 0)
			goto fail;
		n = n->next;
		if ((rc = skip_to_elem(&n, err)) < 0)
			goto fail;
	}
	if (n != NULL && frag_is_name(n, "ApplicabilityRules")) {
		out->has_applicability = true;
		for (const xmlNode *c = n->children; c != NULL; c = c->next) {
			if (c->type != XML_ELEMENT_NODE)
				continue;
			if (frag_is_name(c, "IsInstalled"))
				out->has_is_installed = true;
			else if (frag_is_name(c, "IsInstallable"))
				out->has_is_installable = true;
		}
		n = n->next;
		if ((rc = skip_to_elem(&n, err)) < 0)
			goto fail;
	}
	if (n != NULL) {
		rc = wsd_fail(err, WSD_EINVAL,
		    "unexpected element in core fragment");
		goto fail;
	}
	xmlFreeDoc(doc);
	return 0;
fail:
	xmlFreeDoc(doc);
	fragment_core_info_release(out);
	return rc;
}

static void
file_info_release(struct fragment_file_info *f)
{
	free(f->name);
	free(f->patching_type);
}

void
fragment_extended_info_release(struct fragment_extended_info *ei)
{
	if (ei == NULL)
		return;
	free(ei->default_language);
	free(ei->handler);
	free(ei->support_url);
	free(ei->security_bulletin_id);
	free(ei->kb_article_id);
	free(ei->handler_data_type);
	for (size_t i = 0; i < ei->n_files; i++)
		file_info_release(&ei->files[i]);
	free(ei->files);
	memset(ei, 0, sizeof(*ei));
}

/* Maps an attribute value through an enum table; absent leaves 0. */
static int
parse_enum(const char *v, const char *const *t, size_t n, int *out,
    const char *what, struct wsd_err *err)
{
	if (v == NULL)
		return 0;
	if ((*out = name_find(t, n, v)) == 0)
		return wsd_fail(err, WSD_EINVAL, what);
	return 0;
}

static int
parse_severity(const char *v, enum fragment_severity *out, struct wsd_err *err)
{
	int s = 0, rc;

	/* "Unspecified" is what the WSUS API calls "none given". */
	if (v == NULL || strcmp(v, "Unspecified") == 0 || v[0] == '\0')
		return 0;
	if ((rc = parse_enum(v, severity_names, NAMES_N(severity_names), &s,
		 "unknown MsrcSeverity", err)) < 0)
		return rc;
	*out = (enum fragment_severity)s;
	return 0;
}

static int
parse_ext_props(const xmlNode *n, struct fragment_extended_info *ei,
    struct wsd_err *err)
{
	const char *v;
	char *sev = NULL;
	int rc, x;

	if ((v = frag_attr_get(n, "DefaultPropertiesLanguage")) != NULL &&
	    (rc = dup_str(v, &ei->default_language, err)) < 0)
		return rc;
	if ((v = frag_attr_get(n, "Handler")) != NULL &&
	    (rc = dup_str(v, &ei->handler, err)) < 0)
		return rc;
	if ((v = frag_attr_get(n, "MaxDownloadSize")) != NULL) {
		if ((rc = parse_u64(v, INT64_MAX, &ei->max_download_size,
			 "bad MaxDownloadSize", err)) < 0)
			return rc;
		ei->has_download_sizes = true;
	}
	if ((v = frag_attr_get(n, "MinDownloadSize")) != NULL &&
	    (rc = parse_u64(v, INT64_MAX, &ei->min_download_size,
		 "bad MinDownloadSize", err)) < 0)
		return rc;
	if ((rc = parse_severity(frag_attr_get(n, "MsrcSeverity"),
		 &ei->msrc_severity, err)) < 0)
		return rc;

	for (const xmlNode *c = n->children;; c = c->next) {
		if ((rc = skip_to_elem(&c, err)) < 0)
			return rc;
		if (c == NULL)
			return 0;
		/* Unknown children (UninstallationBehavior, ReleaseNotes,
		 * ...) are skipped. */
		if (frag_is_name(c, "InstallationBehavior")) {
			x = 0;
			if ((rc = parse_enum(frag_attr_get(c, "RebootBehavior"),
				 reboot_names, NAMES_N(reboot_names), &x,
				 "unknown RebootBehavior", err)) < 0)
				return rc;
			ei->reboot_behavior = (enum fragment_reboot)x;
			x = 0;
			if ((rc = parse_enum(frag_attr_get(c, "Impact"),
				 impact_names, NAMES_N(impact_names), &x,
				 "unknown Impact", err)) < 0)
				return rc;
			ei->impact = (enum fragment_impact)x;
		} else if (frag_is_name(c, "SupportUrl")) {
			rc = frag_text_dup(c, &ei->support_url,
			    "duplicate SupportUrl", err);
		} else if (frag_is_name(c, "SecurityBulletinID")) {
			rc = frag_text_dup(c, &ei->security_bulletin_id,
			    "duplicate SecurityBulletinID", err);
		} else if (frag_is_name(c, "KBArticleID")) {
			rc = frag_text_dup(c, &ei->kb_article_id,
			    "duplicate KBArticleID", err);
		} else if (frag_is_name(c, "MsrcSeverity")) {
			/* Some writers use an element; WSUS an attribute. */
			if ((rc = frag_text_dup(c, &sev, "duplicate MsrcSeverity",
				 err)) == 0)
				rc = parse_severity(sev, &ei->msrc_severity,
				    err);
			free(sev);
			sev = NULL;
		}
		if (rc < 0)
			return rc;
	}
}

static int
parse_file(const xmlNode *n, struct fragment_file_info *f, struct wsd_err *err)
{
	const char *v;
	int rc;

	v = frag_attr_get(n, "Digest");
	if (v == NULL || b64_decode_exact(v, strlen(v), f->sha1, 20) < 0)
		return wsd_fail(err, WSD_EINVAL,
		    "File without a valid SHA-1 Digest");
	v = frag_attr_get(n, "DigestAlgorithm");
	if (v == NULL || strcmp(v, "SHA1") != 0)
		return wsd_fail(err, WSD_EINVAL,
		    "File DigestAlgorithm is not SHA1");
	v = frag_attr_get(n, "FileName");
	if (v == NULL || !file_name_ok(v))
		return wsd_fail(err, WSD_EINVAL,
		    "File without a safe FileName");
	if ((rc = dup_str(v, &f->name, err)) < 0 ||
	    (rc = parse_u64(frag_attr_get(n, "Size"), INT64_MAX, &f->size,
		 "File without a valid Size", err)) < 0)
		return rc;
	v = frag_attr_get(n, "Modified");
	if (v == NULL || parse_time(v, &f->modified) < 0)
		return wsd_fail(err, WSD_EINVAL,
		    "File without a valid Modified time");
	if ((v = frag_attr_get(n, "PatchingType")) != NULL &&
	    (rc = dup_str(v, &f->patching_type, err)) < 0)
		return rc;

	for (const xmlNode *c = n->children;; c = c->next) {
		char *d = NULL;

		if ((rc = skip_to_elem(&c, err)) < 0)
			return rc;
		if (c == NULL)
			return 0;
		if (!frag_is_name(c, "AdditionalDigest") ||
		    (v = frag_attr_get(c, "Algorithm")) == NULL ||
		    strcmp(v, "SHA256") != 0)
			continue; /* other digests: not ours to check */
		if (f->has_sha256)
			return wsd_fail(err, WSD_EINVAL,
			    "File with two SHA256 digests");
		if ((rc = frag_text_dup(c, &d, "", err)) < 0)
			return rc;
		rc = b64_decode_exact(d, strlen(d), f->sha256, 32);
		free(d);
		if (rc < 0)
			return wsd_fail(err, WSD_EINVAL,
			    "File with a bad SHA256 AdditionalDigest");
		f->has_sha256 = true;
	}
}

static int
parse_files(const xmlNode *list, struct fragment_extended_info *ei,
    struct wsd_err *err)
{
	size_t cap = 0;
	void *p;
	int rc;

	for (const xmlNode *n = list->children;; n = n->next) {
		struct fragment_file_info *f;

		if ((rc = skip_to_elem(&n, err)) < 0)
			return rc;
		if (n == NULL)
			return 0;
		if (!frag_is_name(n, "File"))
			return wsd_fail(err, WSD_EINVAL,
			    "unexpected element in Files");
		if (ei->n_files >= WSD_MAX_FRAGMENT_FILES)
			return wsd_fail(err, WSD_ETOOBIG, MSG_FILES);
		if ((rc = grow(ei->files, &cap, ei->n_files + 1,
			 sizeof(*ei->files), &p, err)) < 0)
			return rc;
		ei->files = p;
		f = &ei->files[ei->n_files++];
		memset(f, 0, sizeof(*f));
		if ((rc = parse_file(n, f, err)) < 0)
			return rc;
	}
}

static int
parse_handler_data(const xmlNode *n, struct fragment_extended_info *ei,
    struct wsd_err *err)
{
	const char *v = frag_attr_get(n, "type");
	int rc, x = 0;

	if (v == NULL)
		return 0;
	if ((rc = dup_str(v, &ei->handler_data_type, err)) < 0)
		return rc;
	if (strcmp(v, "cat:Category") != 0)
		return 0;
	for (const xmlNode *c = n->children;; c = c->next) {
		if ((rc = skip_to_elem(&c, err)) < 0)
			return rc;
		if (c == NULL)
			return wsd_fail(err, WSD_EINVAL,
			    "category without CategoryInformation");
		if (!frag_is_name(c, "CategoryInformation"))
			continue;
		if ((rc = parse_enum(frag_attr_get(c, "CategoryType"), cat_names,
			 NAMES_N(cat_names), &x, "unknown CategoryType", err)) <
		    0)
			return rc;
		if (x == 0)
			return wsd_fail(err, WSD_EINVAL,
			    "CategoryInformation without CategoryType");
		ei->category_type = (enum fragment_category_type)x;
		return 0;
	}
}

int
fragment_parse_extended(const char *xml, size_t len,
    struct fragment_extended_info *out, struct wsd_err *err)
{
	const xmlNode *n;
	xmlDoc *doc;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = frag_read(xml, len, WSD_MAX_FRAGMENT_DEPTH, false, &doc,
		 err)) < 0)
		return rc;
	n = xmlDocGetRootElement(doc)->children;
	if ((rc = skip_to_elem(&n, err)) < 0)
		goto fail;
	if (n == NULL || !frag_is_name(n, "ExtendedProperties")) {
		rc = wsd_fail(err, WSD_EINVAL,
		    "extended fragment does not start with "
		    "ExtendedProperties");
		goto fail;
	}
	if ((rc = parse_ext_props(n, out, err)) < 0)
		goto fail;
	n = n->next;
	if ((rc = skip_to_elem(&n, err)) < 0)
		goto fail;
	if (n != NULL && frag_is_name(n, "Files")) {
		if ((rc = parse_files(n, out, err)) < 0)
			goto fail;
		n = n->next;
		if ((rc = skip_to_elem(&n, err)) < 0)
			goto fail;
	}
	if (n != NULL && frag_is_name(n, "HandlerSpecificData")) {
		if ((rc = parse_handler_data(n, out, err)) < 0)
			goto fail;
		n = n->next;
		if ((rc = skip_to_elem(&n, err)) < 0)
			goto fail;
	}
	if (n != NULL) {
		rc = wsd_fail(err, WSD_EINVAL,
		    "unexpected element in extended fragment");
		goto fail;
	}
	xmlFreeDoc(doc);
	return 0;
fail:
	xmlFreeDoc(doc);
	fragment_extended_info_release(out);
	return rc;
}

void
fragment_localized_info_release(struct fragment_localized_info *li)
{
	if (li == NULL)
		return;
	free(li->language);
	free(li->title);
	free(li->description);
	free(li->uninstall_notes);
	free(li->more_info_url);
	free(li->support_url);
	memset(li, 0, sizeof(*li));
}

int
fragment_parse_localized(const char *xml, size_t len,
    struct fragment_localized_info *out, struct wsd_err *err)
{
	const xmlNode *n, *c;
	xmlDoc *doc;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = frag_read(xml, len, WSD_MAX_FRAGMENT_DEPTH, false, &doc,
		 err)) < 0)
		return rc;
	n = xmlDocGetRootElement(doc)->children;
	if ((rc = skip_to_elem(&n, err)) < 0)
		goto fail;
	if (n == NULL || !frag_is_name(n, "LocalizedProperties")) {
		rc = wsd_fail(err, WSD_EINVAL,
		    "localized fragment without LocalizedProperties");
		goto fail;
	}
	for (c = n->children;; c = c->next) {
		if ((rc = skip_to_elem(&c, err)) < 0)
			goto fail;
		if (c == NULL)
			break;
		rc = 0; /* unknown children are skipped */
		if (frag_is_name(c, "Language"))
			rc = frag_text_dup(c, &out->language, "duplicate Language",
			    err);
		else if (frag_is_name(c, "Title"))
			rc = frag_text_dup(c, &out->title, "duplicate Title", err);
		else if (frag_is_name(c, "Description"))
			rc = frag_text_dup(c, &out->description,
			    "duplicate Description", err);
		else if (frag_is_name(c, "UninstallNotes"))
			rc = frag_text_dup(c, &out->uninstall_notes,
			    "duplicate UninstallNotes", err);
		else if (frag_is_name(c, "MoreInfoUrl"))
			rc = frag_text_dup(c, &out->more_info_url,
			    "duplicate MoreInfoUrl", err);
		else if (frag_is_name(c, "SupportUrl"))
			rc = frag_text_dup(c, &out->support_url,
			    "duplicate SupportUrl", err);
		if (rc < 0)
			goto fail;
	}
	n = n->next;
	if ((rc = skip_to_elem(&n, err)) < 0)
		goto fail;
	if (n != NULL) {
		rc = wsd_fail(err, WSD_EINVAL,
		    "more than one element in a localized fragment");
		goto fail;
	}
	if (out->language == NULL || !language_ok(out->language)) {
		rc = wsd_fail(err, WSD_EINVAL,
		    "localized fragment without a valid Language");
		goto fail;
	}
	if (!nonempty(out->title)) {
		rc = wsd_fail(err, WSD_EINVAL,
		    "localized fragment without a Title");
		goto fail;
	}
	xmlFreeDoc(doc);
	return 0;
fail:
	xmlFreeDoc(doc);
	fragment_localized_info_release(out);
	return rc;
}
