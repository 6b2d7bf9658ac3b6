#include "soap/soap_parse.h"

#include <limits.h>
#include <string.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "common/encode.h"

/*
 * libxml2 options. Never XML_PARSE_NOENT (entity substitution),
 * XML_PARSE_DTDLOAD, XML_PARSE_DTDATTR, XML_PARSE_DTDVALID,
 * XML_PARSE_XINCLUDE, XML_PARSE_HUGE or XML_PARSE_RECOVER. See
 * soap_parse.h for NOCDATA and IGNORE_ENC; COMPACT keeps short text
 * inside its node (the tree is read-only); NOERROR/NOWARNING because
 * errors come back through our own handler, never on stderr.
 */
#define PARSE_OPTIONS                                                          \
	(XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_IGNORE_ENC |          \
	    XML_PARSE_COMPACT | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

/* Attributes plus namespace declarations one start tag may carry. */
#define MAX_TAG_EQUALS (WSD_MAX_XML_ATTRS + WSD_MAX_XML_NSDECLS)

static const xmlNode *
node_of(const struct soap_elem *e)
{
	return (const void *)e;
}

static const struct soap_elem *
elem_of(const xmlNode *n)
{
	return (const void *)n;
}

void
soap_global_init(void)
{
	xmlInitParser();
}

void
soap_doc_init(struct soap_doc *d)
{
	d->sd_xml = NULL;
	d->sd_op = NULL;
	d->sd_op_name = NULL;
	d->sd_op_ns = NULL;
	d->sd_fault = SOAP_ERRC_NONE;
	d->sd_nodes = 0;
}

void
soap_doc_release(struct soap_doc *d)
{
	if (d == NULL)
		return;
	if (d->sd_xml != NULL)
		xmlFreeDoc(d->sd_xml);
	soap_doc_init(d);
}

/* ------------------------------------------------------------------ */
/* Before libxml2: one pass over the raw bytes */

static bool
is_xml_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
starts(const char *p, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	return n >= k && memcmp(p, lit, k) == 0;
}

static bool
starts_ci(const char *p, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	if (n < k)
		return false;
	for (size_t i = 0; i < k; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 32);
		if (c != (unsigned char)lit[i])
			return false;
	}
	return true;
}

enum lex_state {
	LX_TEXT,    /* character data */
	LX_TAG,     /* inside a start tag, outside quotes */
	LX_VALUE,   /* inside a quoted attribute value */
	LX_ENDTAG,  /* inside </...> */
	LX_COMMENT, /* inside <!-- ... --> */
	LX_CDATA,   /* inside <![CDATA[ ... ]]> */
	LX_PI,      /* inside <? ... ?> */
};

/*
 * Refuses, before any parsing: NUL bytes (also every UTF-16/32 body),
 * invalid UTF-8, "<!DOCTYPE" in any case anywhere (comments and CDATA
 * included), any other "<!" markup than a comment or CDATA section (DTD
 * declarations), a start tag with more '=' than attributes and namespace
 * declarations together may have, an attribute value or text run longer
 * than its limit as written (entities only shorten text, so this is
 * stricter than the SAX check on decoded values).
 *
 * The tag check exists for libxml2 2.9, whose start-tag parser compares
 * every attribute with every earlier one: 100,000 attributes would cost
 * 5*10^9 comparisons before any callback could stop it. For a
 * well-formed document this tokenizer is exact; for a malformed one it
 * may be wrong in either direction, and libxml2 then rejects the body.
 */
static int
prescan(const char *p, size_t n, struct wsd_err *err)
{
	enum lex_state st = LX_TEXT;
	size_t i = 0, equals = 0, vlen = 0, text = 0;
	char quote = 0;

	while (i < n) {
		unsigned char c = (unsigned char)p[i];
		size_t len = 1;

		if (c == 0)
			return wsd_fail(err, WSD_EINVAL, "NUL byte in body");
		if (c >= 0x80 &&
		    (len = soap_utf8_char((const unsigned char *)p + i,
			 n - i)) == 0)
			return wsd_fail(err, WSD_EINVAL, "body is not UTF-8");
		if (c == '<' && i + 1 < n && p[i + 1] == '!' &&
		    starts_ci(p + i + 2, n - i - 2, "DOCTYPE"))
			return wsd_fail(err, WSD_EINVAL, "DOCTYPE refused");
		switch (st) {
		case LX_TEXT:
			if (c != '<') {
				if ((text += len) > WSD_MAX_XML_TEXT)
					return wsd_fail(err, WSD_ETOOBIG,
					    "text too long");
				break;
			}
			if (starts(p + i, n - i, "<!--")) {
				st = LX_COMMENT;
				len = 4;
			} else if (starts(p + i, n - i, "<![CDATA[")) {
				st = LX_CDATA;
				len = 9;
			} else if (starts(p + i, n - i, "<!")) {
				return wsd_fail(err, WSD_EINVAL,
				    "DTD markup refused");
			} else if (starts(p + i, n - i, "<?")) {
				st = LX_PI;
				len = 2;
			} else if (starts(p + i, n - i, "</")) {
				st = LX_ENDTAG;
				text = 0;
			} else {
				st = LX_TAG;
				equals = 0;
				text = 0;
			}
			break;
		case LX_TAG:
			if (c == '"' || c == '\'') {
				st = LX_VALUE;
				quote = (char)c;
				vlen = 0;
			} else if (c == '=') {
				if (++equals > MAX_TAG_EQUALS)
					return wsd_fail(err, WSD_ETOOBIG,
					    "too many attributes");
			} else if (c == '>')
				st = LX_TEXT;
			break;
		case LX_VALUE:
			if (c == (unsigned char)quote)
				st = LX_TAG;
			else if ((vlen += len) > WSD_MAX_XML_ATTR_LEN)
				return wsd_fail(err, WSD_ETOOBIG,
				    "attribute value too long");
			break;
		case LX_ENDTAG:
			if (c == '>')
				st = LX_TEXT;
			break;
		case LX_COMMENT:
			if (starts(p + i, n - i, "-->")) {
				st = LX_TEXT;
				len = 3;
			}
			break;
		case LX_CDATA:
			if (starts(p + i, n - i, "]]>")) {
				st = LX_TEXT;
				len = 3;
			} else if ((text += len) > WSD_MAX_XML_TEXT)
				return wsd_fail(err, WSD_ETOOBIG,
				    "text too long");
			break;
		case LX_PI:
			if (starts(p + i, n - i, "?>")) {
				st = LX_TEXT;
				len = 2;
			}
			break;
		}
		i += len;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* During libxml2: SAX hooks that enforce the limits as the tree grows */

struct pstate {
	unsigned ps_depth;   /* open elements */
	uint32_t ps_nodes;   /* elements + text runs */
	size_t ps_text;      /* bytes of the current text run; 0: none */
	int ps_rc;           /* first failure, 0 if none */
	const char *ps_what; /* its reason */
};

static struct pstate *
pstate(void *ctx)
{
	return ((xmlParserCtxtPtr)ctx)->_private;
}

static void
stop(void *ctx, int rc, const char *what)
{
	struct pstate *ps = pstate(ctx);

	if (ps->ps_rc == 0) {
		ps->ps_rc = rc;
		ps->ps_what = what;
	}
	xmlStopParser(ctx);
}

static void
sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
    int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	struct pstate *ps = pstate(ctx);
	const char *why = NULL;

	if (ps->ps_rc != 0)
		return;
	if (++ps->ps_depth > WSD_MAX_XML_DEPTH)
		why = "elements nested too deep";
	else if (++ps->ps_nodes > WSD_MAX_XML_NODES)
		why = "too many elements";
	else if (nb_attributes > WSD_MAX_XML_ATTRS)
		why = "too many attributes";
	else if (nb_namespaces > WSD_MAX_XML_NSDECLS)
		why = "too many namespace declarations";
	for (int i = 0; why == NULL && i < nb_attributes; i++) {
		/* Five pointers each: localname, prefix, URI, value, end. */
		const xmlChar *v = attributes[5 * i + 3];
		const xmlChar *end = attributes[5 * i + 4];

		if ((size_t)(end - v) > WSD_MAX_XML_ATTR_LEN)
			why = "attribute value too long";
	}
	if (why != NULL) {
		stop(ctx, WSD_ETOOBIG, why);
		return;
	}
	ps->ps_text = 0;
	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces,
	    namespaces, nb_attributes, nb_defaulted, attributes);
}

static void
sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct pstate *ps = pstate(ctx);

	if (ps->ps_rc != 0)
		return;
	ps->ps_depth--;
	ps->ps_text = 0;
	xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

/*
 * Character data, CDATA included (XML_PARSE_NOCDATA). libxml2 appends
 * consecutive calls to one text node, and comments no longer split runs
 * (sax_ignore), so a run here is exactly one text node of the tree.
 */
static void
sax_chars(void *ctx, const xmlChar *ch, int len)
{
	struct pstate *ps = pstate(ctx);

	if (ps->ps_rc != 0 || len <= 0)
		return;
	if (ps->ps_text == 0 && ++ps->ps_nodes > WSD_MAX_XML_NODES) {
		stop(ctx, WSD_ETOOBIG, "too many text nodes");
		return;
	}
	if ((size_t)len > WSD_MAX_XML_TEXT - ps->ps_text) {
		stop(ctx, WSD_ETOOBIG, "text too long");
		return;
	}
	ps->ps_text += (size_t)len;
	xmlSAX2Characters(ctx, ch, len);
}

/* Comments and processing instructions leave no node. */
static void
sax_comment(void *ctx, const xmlChar *value)
{
	(void)ctx;
	(void)value;
}

static void
sax_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	(void)ctx;
	(void)target;
	(void)data;
}

/*
 * DTDs and entities. prescan already refused every body that could reach
 * these; they stay as a second wall in case libxml2 finds a way we did
 * not think of.
 */
static void
sax_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
    const xmlChar *system_id)
{
	(void)name;
	(void)external_id;
	(void)system_id;
	stop(ctx, WSD_EINVAL, "DOCTYPE refused");
}

static void
sax_entity_decl(void *ctx, const xmlChar *name, int type,
    const xmlChar *public_id, const xmlChar *system_id, xmlChar *content)
{
	(void)name;
	(void)type;
	(void)public_id;
	(void)system_id;
	(void)content;
	stop(ctx, WSD_EINVAL, "entity declaration refused");
}

static void
sax_reference(void *ctx, const xmlChar *name)
{
	(void)name;
	stop(ctx, WSD_EINVAL, "entity reference refused");
}

static xmlParserInputPtr
sax_resolve(void *ctx, const xmlChar *public_id, const xmlChar *system_id)
{
	(void)public_id;
	(void)system_id;
	stop(ctx, WSD_EINVAL, "external entity refused");
	return NULL;
}

/* libxml2's errors: the parse fails through wellFormed; nothing printed. */
static void
sax_error(void *ctx, xmlErrorPtr error)
{
	(void)ctx;
	(void)error;
}

static void
hook(xmlSAXHandler *sax)
{
	sax->startElementNs = sax_start;
	sax->endElementNs = sax_end;
	sax->characters = sax_chars;
	sax->ignorableWhitespace = sax_chars;
	sax->cdataBlock = NULL; /* CDATA arrives as characters */
	sax->comment = sax_comment;
	sax->processingInstruction = sax_pi;
	sax->internalSubset = sax_subset;
	sax->externalSubset = sax_subset;
	sax->entityDecl = sax_entity_decl;
	sax->reference = sax_reference;
	sax->resolveEntity = sax_resolve;
	sax->serror = sax_error;
	sax->error = NULL;
	sax->warning = NULL;
	sax->fatalError = NULL;
}

/* ------------------------------------------------------------------ */
/* After libxml2: the envelope's shape */

static bool
elem_is(const xmlNode *n, const char *name, const char *ns)
{
	if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name))
		return false;
	if (ns == NULL)
		return n->ns == NULL || n->ns->href == NULL ||
		    n->ns->href[0] == '\0';
	return n->ns != NULL && n->ns->href != NULL &&
	    strcmp((const char *)n->ns->href, ns) == 0;
}

static const char *
node_ns(const xmlNode *n)
{
	return n->ns != NULL && n->ns->href != NULL ? (const char *)n->ns->href
						    : "";
}

/* The value of an attribute as one text node, or NULL. */
static const char *
attr_value(const xmlAttr *a)
{
	const xmlNode *t = a->children;

	if (t == NULL)
		return "";
	if (t->type != XML_TEXT_NODE || t->next != NULL || t->content == NULL)
		return NULL;
	return (const char *)t->content;
}

static const char *
attr_ns(const xmlNode *n, const char *name, const char *ns)
{
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
		if (a->ns != NULL && a->ns->href != NULL &&
		    strcmp((const char *)a->name, name) == 0 &&
		    strcmp((const char *)a->ns->href, ns) == 0)
			return attr_value(a);
	}
	return NULL;
}

static bool
all_space(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (!is_xml_space((unsigned char)*s))
			return false;
	return true;
}

/* Whitespace text between elements is allowed; anything else is not. */
static bool
stray(const xmlNode *n)
{
	if (n->type == XML_ELEMENT_NODE)
		return false;
	return n->type != XML_TEXT_NODE || !all_space((const char *)n->content);
}

/* xs:boolean true, trimmed. */
static bool
xs_true(const char *s)
{
	struct sv v = { s, strlen(s) };
	bool b;

	return soap_xs_bool(v, &b, NULL) == 0 && b;
}

/*
 * SOAP 1.1 4.2.3: a header entry with mustUnderstand="1" for us (no
 * actor, or actor .../actor/next) that we do not process is a fault. We
 * process no header at all.
 */
static int
check_header(struct soap_doc *d, const xmlNode *h, struct wsd_err *err)
{
	for (const xmlNode *c = h->children; c != NULL; c = c->next) {
		const char *mu, *actor;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		mu = attr_ns(c, "mustUnderstand", SOAP_NS_ENVELOPE);
		actor = attr_ns(c, "actor", SOAP_NS_ENVELOPE);
		if (mu == NULL || !xs_true(mu))
			continue;
		if (actor != NULL &&
		    strcmp(actor, "http://schemas.xmlsoap.org/soap/actor/next"))
			continue;
		d->sd_fault = SOAP_ERRC_MUST_UNDERSTAND;
		return wsd_fail(err, WSD_EINVAL,
		    "mandatory SOAP header not understood");
	}
	return 0;
}

static int
check_envelope(struct soap_doc *d, struct wsd_err *err)
{
	const xmlNode *env = xmlDocGetRootElement(d->sd_xml);
	const xmlNode *body = NULL, *op = NULL;
	bool header = false;
	int rc;

	if (env == NULL || env->type != XML_ELEMENT_NODE ||
	    strcmp((const char *)env->name, "Envelope"))
		return wsd_fail(err, WSD_EINVAL, "root is not a SOAP Envelope");
	if (!elem_is(env, "Envelope", SOAP_NS_ENVELOPE)) {
		d->sd_fault = SOAP_ERRC_VERSION_MISMATCH;
		return wsd_fail(err, WSD_EINVAL,
		    strcmp(node_ns(env), SOAP_NS_ENVELOPE12) == 0
			? "SOAP 1.2 envelope"
			: "Envelope not in the SOAP 1.1 namespace");
	}
	for (const xmlNode *c = env->children; c != NULL; c = c->next) {
		if (stray(c))
			return wsd_fail(err, WSD_EINVAL, "text in Envelope");
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (body != NULL)
			return wsd_fail(err, WSD_EINVAL, "content after Body");
		if (!header && elem_is(c, "Header", SOAP_NS_ENVELOPE)) {
			header = true;
			if ((rc = check_header(d, c, err)) < 0)
				return rc;
		} else if (elem_is(c, "Body", SOAP_NS_ENVELOPE))
			body = c;
		else
			return wsd_fail(err, WSD_EINVAL,
			    "unexpected element in Envelope");
	}
	if (body == NULL)
		return wsd_fail(err, WSD_EINVAL, "no SOAP Body");
	for (const xmlNode *c = body->children; c != NULL; c = c->next) {
		if (stray(c))
			return wsd_fail(err, WSD_EINVAL, "text in Body");
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (op != NULL)
			return wsd_fail(err, WSD_EINVAL,
			    "more than one element in Body");
		op = c;
	}
	if (op == NULL)
		return wsd_fail(err, WSD_EINVAL, "empty SOAP Body");
	d->sd_op = elem_of(op);
	d->sd_op_name = (const char *)op->name;
	d->sd_op_ns = node_ns(op);
	return 0;
}

int
soap_parse(const char *body, size_t len, struct soap_doc *out,
    struct wsd_err *err)
{
	struct pstate ps = { 0, 0, 0, 0, NULL };
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;
	int rc;

	soap_doc_init(out);
	out->sd_fault = SOAP_ERRC_CLIENT_MALFORMED;
	if (len > WSD_MAX_BODY_CEILING || len > INT_MAX)
		return wsd_fail(err, WSD_ETOOBIG, "body too large");
	if (body == NULL || len == 0)
		return wsd_fail(err, WSD_EINVAL, "empty body");
	if ((rc = prescan(body, len, err)) < 0)
		return rc;

	xmlInitParser();
	if ((ctxt = xmlCreateMemoryParserCtxt(body, (int)len)) == NULL) {
		out->sd_fault = SOAP_ERRC_INTERNAL_SERVER_ERROR;
		return wsd_fail(err, WSD_ENOMEM, "no memory for XML parser");
	}
	/* Options first: xmlCtxtUseOptions rewrites some SAX slots. */
	if (xmlCtxtUseOptions(ctxt, PARSE_OPTIONS) != 0 || ctxt->sax == NULL) {
		xmlFreeParserCtxt(ctxt);
		out->sd_fault = SOAP_ERRC_INTERNAL_SERVER_ERROR;
		return wsd_fail(err, WSD_EINTERNAL, "libxml2 refused options");
	}
	hook(ctxt->sax);
	ctxt->_private = &ps;
	/* The outcome is judged below from ps, wellFormed and myDoc. */
	(void)xmlParseDocument(ctxt);
	doc = ctxt->myDoc;
	ctxt->myDoc = NULL;
	if (ps.ps_rc == 0) {
		if (!ctxt->wellFormed || doc == NULL) {
			ps.ps_rc = ctxt->errNo == XML_ERR_NO_MEMORY
			    ? WSD_ENOMEM
			    : WSD_EINVAL;
			ps.ps_what = "body is not well-formed XML";
		} else if (!ctxt->nsWellFormed) {
			ps.ps_rc = WSD_EINVAL;
			ps.ps_what = "XML namespace error";
		}
	}
	xmlFreeParserCtxt(ctxt);
	if (ps.ps_rc != 0) {
		if (doc != NULL)
			xmlFreeDoc(doc);
		if (ps.ps_rc == WSD_ENOMEM)
			out->sd_fault = SOAP_ERRC_INTERNAL_SERVER_ERROR;
		return wsd_fail(err, ps.ps_rc, ps.ps_what);
	}
	out->sd_xml = doc;
	out->sd_nodes = ps.ps_nodes;
	if ((rc = check_envelope(out, err)) < 0) {
		enum soap_errc fault = out->sd_fault;

		soap_doc_release(out);
		out->sd_fault = fault;
		return rc;
	}
	out->sd_fault = SOAP_ERRC_NONE;
	return 0;
}

/* ------------------------------------------------------------------ */
/* SOAPAction */

bool
soap_action_matches(const char *hv, size_t n, const char *ns, const char *op)
{
	size_t nl, ol;

	if (hv == NULL)
		return true;
	while (n > 0 && (hv[0] == ' ' || hv[0] == '\t')) {
		hv++;
		n--;
	}
	while (n > 0 && (hv[n - 1] == ' ' || hv[n - 1] == '\t'))
		n--;
	if (n > 0 && hv[0] == '"') {
		hv++;
		n--;
	}
	if (n > 0 && hv[n - 1] == '"')
		n--;
	if (n == 0)
		return true;
	nl = strlen(ns);
	ol = strlen(op);
	return n == nl + 1 + ol && memcmp(hv, ns, nl) == 0 && hv[nl] == '/' &&
	    memcmp(hv + nl + 1, op, ol) == 0;
}

/* ------------------------------------------------------------------ */
/* Navigation */

const struct soap_elem *
soap_op(const struct soap_doc *d)
{
	return d != NULL ? d->sd_op : NULL;
}

const char *
soap_elem_name(const struct soap_elem *e)
{
	return e != NULL ? (const char *)node_of(e)->name : NULL;
}

const char *
soap_elem_ns(const struct soap_elem *e)
{
	return e != NULL ? node_ns(node_of(e)) : NULL;
}

static const xmlNode *
next_elem(const xmlNode *n)
{
	while (n != NULL && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

const struct soap_elem *
soap_elem_first(const struct soap_elem *e)
{
	return e != NULL ? elem_of(next_elem(node_of(e)->children)) : NULL;
}

const struct soap_elem *
soap_elem_next(const struct soap_elem *e)
{
	return e != NULL ? elem_of(next_elem(node_of(e)->next)) : NULL;
}

/* First element at or after N named NAME in namespace NS ("" = none). */
static const xmlNode *
find_from(const xmlNode *n, const char *name, const char *ns)
{
	for (; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)n->name, name) == 0 &&
		    strcmp(node_ns(n), ns) == 0)
			return n;
	return NULL;
}

const struct soap_elem *
soap_child(const struct soap_doc *d, const struct soap_elem *parent,
    const char *name)
{
	if (d == NULL || parent == NULL || d->sd_op_ns == NULL)
		return NULL;
	return elem_of(find_from(node_of(parent)->children, name, d->sd_op_ns));
}

const struct soap_elem *
soap_child_unq(const struct soap_elem *parent, const char *name)
{
	if (parent == NULL)
		return NULL;
	return elem_of(find_from(node_of(parent)->children, name, ""));
}

void
soap_seq_init(struct soap_seq *q, const struct soap_doc *d,
    const struct soap_elem *parent)
{
	q->sq_doc = d;
	q->sq_next = soap_elem_first(parent);
}

const struct soap_elem *
soap_seq_take(struct soap_seq *q, const char *name)
{
	const xmlNode *n;

	if (q->sq_doc == NULL || q->sq_next == NULL ||
	    q->sq_doc->sd_op_ns == NULL)
		return NULL;
	n = find_from(node_of(q->sq_next), name, q->sq_doc->sd_op_ns);
	if (n == NULL)
		return NULL;
	q->sq_next = elem_of(next_elem(n->next));
	return elem_of(n);
}

bool
soap_is_nil(const struct soap_elem *e)
{
	const char *v;

	if (e == NULL)
		return false;
	v = attr_ns(node_of(e), "nil", SOAP_NS_XSI);
	return v != NULL && xs_true(v);
}

/* ------------------------------------------------------------------ */
/* Typed values */

static struct sv
trim(struct sv s)
{
	while (s.n > 0 && is_xml_space((unsigned char)s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && is_xml_space((unsigned char)s.p[s.n - 1]))
		s.n--;
	return s;
}

int
soap_get_str(const struct soap_elem *e, size_t max, struct sv *out,
    struct wsd_err *err)
{
	const xmlNode *text = NULL;

	if (e == NULL)
		return wsd_fail(err, WSD_ENOTFOUND, "element missing");
	for (const xmlNode *c = node_of(e)->children; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE)
			return wsd_fail(err, WSD_EINVAL,
			    "element has child elements");
		/* Only text nodes remain (see sax_comment); one at most. */
		if (c->type != XML_TEXT_NODE || text != NULL)
			return wsd_fail(err, WSD_EINTERNAL,
			    "unexpected node in parsed tree");
		text = c;
	}
	out->p = "";
	out->n = 0;
	if (text != NULL && text->content != NULL) {
		out->p = (const char *)text->content;
		out->n = strlen(out->p);
	}
	if (out->n > max)
		return wsd_fail(err, WSD_ETOOBIG, "value too long");
	return 0;
}

/* Longest xs:int/xs:long text we look at; longer is not a number we take. */
#define NUM_MAX 64

static int
xs_integer(struct sv s, int64_t min, int64_t max, int64_t *out,
    struct wsd_err *err)
{
	uint64_t v = 0, lim;
	bool neg = false;

	s = trim(s);
	if (s.n > 0 && (s.p[0] == '-' || s.p[0] == '+')) {
		neg = s.p[0] == '-';
		s.p++;
		s.n--;
	}
	if (s.n == 0)
		return wsd_fail(err, WSD_EINVAL, "not an integer");
	/* |min| = max + 1 for the two's complement types we read. */
	lim = neg ? (uint64_t)max + 1 : (uint64_t)max;
	for (size_t i = 0; i < s.n; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';

		if (d > 9)
			return wsd_fail(err, WSD_EINVAL, "not an integer");
		if (v > (lim - d) / 10)
			return wsd_fail(err, WSD_EINVAL,
			    "integer out of range");
		v = v * 10 + d;
	}
	if (neg)
		*out = v == (uint64_t)max + 1 ? min : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

int
soap_xs_i32(struct sv s, int32_t *out, struct wsd_err *err)
{
	int64_t v;
	int rc;

	if ((rc = xs_integer(s, INT32_MIN, INT32_MAX, &v, err)) < 0)
		return rc;
	*out = (int32_t)v;
	return 0;
}

int
soap_xs_i64(struct sv s, int64_t *out, struct wsd_err *err)
{
	return xs_integer(s, INT64_MIN, INT64_MAX, out, err);
}

int
soap_xs_bool(struct sv s, bool *out, struct wsd_err *err)
{
	s = trim(s);
	if (sv_eq(s, SV_LIT("true")) || sv_eq(s, SV_LIT("1")))
		*out = true;
	else if (sv_eq(s, SV_LIT("false")) || sv_eq(s, SV_LIT("0")))
		*out = false;
	else
		return wsd_fail(err, WSD_EINVAL, "not a boolean");
	return 0;
}

int
soap_xs_guid(struct sv s, char out[37], struct wsd_err *err)
{
	char buf[37];

	s = trim(s);
	if (s.n != 36)
		return wsd_fail(err, WSD_EINVAL, "not a GUID");
	memcpy(buf, s.p, 36);
	buf[36] = '\0';
	if (guid_normalize(buf, out) < 0)
		return wsd_fail(err, WSD_EINVAL, "not a GUID");
	return 0;
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
soap_b64_decode(struct sv s, unsigned char *buf, size_t max, size_t *outlen,
    struct wsd_err *err)
{
	size_t chars = 0, pad = 0, need, w = 0;
	uint32_t acc = 0;
	unsigned k = 0;

	/* First pass: count and check, so nothing is written on error. */
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (is_xml_space(c))
			continue;
		if (c == '=') {
			pad++;
			chars++;
			continue;
		}
		if (pad > 0 || b64_value(c) < 0)
			return wsd_fail(err, WSD_EINVAL, "not base64");
		chars++;
	}
	if (chars % 4 != 0 || pad > 2)
		return wsd_fail(err, WSD_EINVAL, "not base64");
	need = chars / 4 * 3 - pad;
	if (need > max)
		return wsd_fail(err, WSD_ETOOBIG, "base64 value too long");
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (is_xml_space(c) || c == '=')
			continue;
		acc = acc << 6 | (uint32_t)b64_value(c);
		if (++k == 4) {
			buf[w++] = (unsigned char)(acc >> 16);
			buf[w++] = (unsigned char)(acc >> 8);
			buf[w++] = (unsigned char)acc;
			acc = 0;
			k = 0;
		}
	}
	/* k is 4 - pad here: 2 or 3 characters left over. */
	if (k == 2)
		buf[w++] = (unsigned char)(acc >> 4);
	else if (k == 3) {
		buf[w++] = (unsigned char)(acc >> 10);
		buf[w++] = (unsigned char)(acc >> 2);
	}
	*outlen = w;
	return 0;
}

/* ------------------------------------------------------------------ */
/* xs:dateTime */

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool
leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* N digits at *P into *V; advances. */
static bool
digits(struct sv *s, size_t n, unsigned *v)
{
	unsigned x = 0;

	if (s->n < n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)s->p[i] - '0';

		if (d > 9)
			return false;
		x = x * 10 + d;
	}
	s->p += n;
	s->n -= n;
	*v = x;
	return true;
}

static bool
lit(struct sv *s, char c)
{
	if (s->n == 0 || s->p[0] != c)
		return false;
	s->p++;
	s->n--;
	return true;
}

int
soap_datetime_parse(struct sv s, struct soap_datetime *out, struct wsd_err *err)
{
	static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
		31, 30, 31 };
	unsigned y, mo, d, h, mi, sec, frac = 0, nd = 0, oh = 0, om = 0;
	int64_t t;
	int sign = 0;

	s = trim(s);
	if (!digits(&s, 4, &y) || !lit(&s, '-') || !digits(&s, 2, &mo) ||
	    !lit(&s, '-') || !digits(&s, 2, &d) || !lit(&s, 'T') ||
	    !digits(&s, 2, &h) || !lit(&s, ':') || !digits(&s, 2, &mi) ||
	    !lit(&s, ':') || !digits(&s, 2, &sec))
		return wsd_fail(err, WSD_EINVAL, "not an xs:dateTime");
	if (lit(&s, '.')) {
		while (s.n > 0 && s.p[0] >= '0' && s.p[0] <= '9') {
			if (++nd > 7)
				return wsd_fail(err, WSD_EINVAL,
				    "more than 7 fraction digits");
			frac = frac * 10 + (unsigned)(s.p[0] - '0');
			s.p++;
			s.n--;
		}
		if (nd == 0)
			return wsd_fail(err, WSD_EINVAL, "not an xs:dateTime");
		for (unsigned i = nd; i < 7; i++)
			frac *= 10;
	}
	if (!lit(&s, 'Z') && s.n > 0 && (s.p[0] == '+' || s.p[0] == '-')) {
		sign = s.p[0] == '+' ? 1 : -1;
		s.p++;
		s.n--;
		if (!digits(&s, 2, &oh) || !lit(&s, ':') ||
		    !digits(&s, 2, &om) || oh > 14 || om > 59 ||
		    (oh == 14 && om != 0))
			return wsd_fail(err, WSD_EINVAL, "bad time zone");
	}
	if (s.n != 0)
		return wsd_fail(err, WSD_EINVAL, "not an xs:dateTime");
	if (y < 1 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59 ||
	    sec > 59)
		return wsd_fail(err, WSD_EINVAL, "date out of range");
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (int64_t)(oh * 3600 + om * 60);
	/* 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, as .NET's DateTime. */
	if (t < -62135596800LL || t > 253402300799LL)
		return wsd_fail(err, WSD_EINVAL, "date out of range");
	out->dt_sec = t;
	out->dt_frac = frac;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Getters */

static int
get_num_text(const struct soap_elem *e, struct sv *v, struct wsd_err *err)
{
	int rc = soap_get_str(e, NUM_MAX, v, err);

	if (rc == WSD_ETOOBIG)
		return wsd_fail(err, WSD_EINVAL, "value too long for its type");
	return rc;
}

int
soap_get_i32(const struct soap_elem *e, int32_t *out, struct wsd_err *err)
{
	struct sv v;
	int rc;

	if ((rc = get_num_text(e, &v, err)) < 0)
		return rc;
	return soap_xs_i32(v, out, err);
}

int
soap_get_i64(const struct soap_elem *e, int64_t *out, struct wsd_err *err)
{
	struct sv v;
	int rc;

	if ((rc = get_num_text(e, &v, err)) < 0)
		return rc;
	return soap_xs_i64(v, out, err);
}

int
soap_get_bool(const struct soap_elem *e, bool *out, struct wsd_err *err)
{
	struct sv v;
	int rc;

	if ((rc = get_num_text(e, &v, err)) < 0)
		return rc;
	return soap_xs_bool(v, out, err);
}

int
soap_get_datetime(const struct soap_elem *e, struct soap_datetime *out,
    struct wsd_err *err)
{
	struct sv v;
	int rc;

	if ((rc = get_num_text(e, &v, err)) < 0)
		return rc;
	return soap_datetime_parse(v, out, err);
}

int
soap_get_guid(const struct soap_elem *e, char out[37], struct wsd_err *err)
{
	struct sv v;
	int rc;

	if ((rc = get_num_text(e, &v, err)) < 0)
		return rc;
	return soap_xs_guid(v, out, err);
}

int
soap_get_b64(const struct soap_elem *e, unsigned char *buf, size_t max,
    size_t *outlen, struct wsd_err *err)
{
	struct sv v;
	int rc;

	if ((rc = soap_get_str(e, WSD_MAX_XML_TEXT, &v, err)) < 0)
		return rc;
	return soap_b64_decode(v, buf, max, outlen, err);
}

/* ------------------------------------------------------------------ */
/* Arrays */

int
soap_array_begin(const struct soap_doc *d, const struct soap_elem *arr,
    const char *item, size_t max, struct soap_iter *it, size_t *count,
    struct wsd_err *err)
{
	const xmlNode *first = NULL;
	size_t n = 0;

	it->it_doc = d;
	it->it_item = item;
	it->it_next = NULL;
	*count = 0;
	if (arr == NULL || d == NULL || d->sd_op_ns == NULL)
		return 0;
	for (const xmlNode *c =
		 find_from(node_of(arr)->children, item, d->sd_op_ns);
	     c != NULL; c = find_from(c->next, item, d->sd_op_ns)) {
		if (first == NULL)
			first = c;
		if (++n > max)
			return wsd_fail(err, WSD_ETOOBIG,
			    "array has too many items");
	}
	it->it_next = elem_of(first);
	*count = n;
	return 0;
}

const struct soap_elem *
soap_iter_next(struct soap_iter *it)
{
	const xmlNode *n;

	if (it->it_next == NULL)
		return NULL;
	n = node_of(it->it_next);
	it->it_next =
	    elem_of(find_from(n->next, it->it_item, it->it_doc->sd_op_ns));
	return elem_of(n);
}

int
soap_array_i32(const struct soap_doc *d, const struct soap_elem *arr,
    const char *item, int32_t *out, size_t max, size_t *n, struct wsd_err *err)
{
	const struct soap_elem *e;
	struct soap_iter it;
	size_t count, i = 0;
	int rc;

	*n = 0;
	if ((rc = soap_array_begin(d, arr, item, max, &it, &count, err)) < 0)
		return rc;
	while ((e = soap_iter_next(&it)) != NULL) {
		if (i >= count)
			return wsd_fail(err, WSD_EINTERNAL, "array grew");
		if ((rc = soap_get_i32(e, &out[i], err)) < 0)
			return rc;
		i++;
	}
	*n = i;
	return 0;
}

int
soap_get_attr(const struct soap_elem *e, const char *name, size_t max,
    struct sv *out)
{
	const xmlNode *n = (const xmlNode *)(const void *)e;

	if (n == NULL)
		return WSD_ENOTFOUND;
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
		const xmlNode *t = a->children;

		if (a->ns != NULL || strcmp((const char *)a->name, name) != 0)
			continue;
		out->p = "";
		out->n = 0;
		if (t != NULL) {
			if (t->type != XML_TEXT_NODE || t->next != NULL ||
			    t->content == NULL)
				return WSD_EINVAL;
			out->p = (const char *)t->content;
			out->n = strlen(out->p);
		}
		return out->n > max ? WSD_ETOOBIG : 0;
	}
	return WSD_ENOTFOUND;
}
