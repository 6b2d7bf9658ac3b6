/*
 * The chained-server authorization list: parsing web.config, evaluating
 * the rules, rendering decisions for the log, wsusutil's edits and the
 * atomic rewrite. See authz.h for the semantics and docs/CHAINING.md for
 * the administrator's view.
 */
#include "auth/authz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "common/fileio.h"
#include "common/log.h"
#include "common/sbuf.h"

#define X(s) ((const xmlChar *)(s))

#define AUTHZ_STR_(x) #x
#define AUTHZ_STR(x)  AUTHZ_STR_(x)

_Static_assert(WSD_MAX_AUTHZ_FILE == 1048576, "messages below say 1 MiB");

/*
 * libxml2 options. Never XML_PARSE_NOENT (entity substitution),
 * DTDLOAD, DTDATTR, DTDVALID, XINCLUDE, HUGE or RECOVER (STYLE.md,
 * SECURITY.md S10). BIG_LINES so that messages name lines past 65535.
 * Whitespace is kept (no NOBLANKS): a rewrite keeps the layout.
 */
#define AUTHZ_PARSE_OPTIONS                                                    \
	(XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |           \
	    XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES)

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* ASCII-only case folding: the same answer in every locale. */
static bool
eq_ci(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (lower((unsigned char)*a) != lower((unsigned char)*b))
			return false;
	return *a == *b;
}

static bool
eq_ci_n(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] == '\0' || b[i] == '\0')
			return a[i] == b[i];
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	}
	return true;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_name(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)n->name, name) == 0;
}

static unsigned long
line_of(const xmlNode *n)
{
	long l = xmlGetLineNo(n);

	return l > 0 ? (unsigned long)l : 0;
}

/* Logs "NAME:LINE: detail" and fails with the static WHAT. */
static int
fail_at(struct wsd_err *err, enum wsd_errc code, const char *what,
    unsigned long *errline, const char *name, unsigned long line,
    const char *detail)
{
	if (errline != NULL)
		*errline = line;
	if (line > 0)
		log_warnx("%s:%lu: %s", name, line,
		    detail != NULL ? detail : what);
	else
		log_warnx("%s: %s", name, detail != NULL ? detail : what);
	return wsd_fail(err, code, what);
}

/* Log lines show at most this many bytes of one name or attribute. */
#define AUTHZ_LOG_VALUE 256

/*
 * Appends at most MAX bytes of S (then "...") with bytes outside
 * printable ASCII as \xHH and, when XML, the three characters that would
 * end an attribute value escaped.
 */
static int
add_escaped(struct sbuf *out, const char *s, bool xml, size_t max)
{
	int rc = 0;
	size_t i;

	for (i = 0; s[i] != '\0' && i < max && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e)
			rc = sbuf_addf(out, "\\x%02x", c);
		else if (xml && c == '"')
			rc = sbuf_adds(out, "&quot;");
		else if (xml && c == '<')
			rc = sbuf_adds(out, "&lt;");
		else if (xml && c == '&')
			rc = sbuf_adds(out, "&amp;");
		else
			rc = sbuf_add(out, s + i, 1);
	}
	if (rc == 0 && s[i] != '\0')
		rc = sbuf_adds(out, "...");
	return rc;
}

/* ------------------------------------------------------------------ */
/* Names: one comma-separated attribute                                */

static void
names_release(struct authz_names *n)
{
	for (size_t i = 0; i < n->an_n; i++)
		free(n->an_v[i]);
	free(n->an_v);
	free(n->an_raw);
	memset(n, 0, sizeof(*n));
}

static void
rule_release(struct authz_rule *r)
{
	names_release(&r->ar_users);
	names_release(&r->ar_roles);
	names_release(&r->ar_verbs);
}

/*
 * Splits RAW (an attribute value, taken over by N) into trimmed entries.
 * On failure N still owns RAW; *WHY says what was wrong (for the log).
 */
static int
names_split(struct authz_names *n, char *raw, const char **why,
    struct wsd_err *err)
{
	const char *p = raw;

	n->an_present = true;
	n->an_raw = raw;
	while (*p != '\0') {
		const char *start, *end, *comma = strchr(p, ',');
		size_t len;
		char *v, **nv;

		end = comma != NULL ? comma : p + strlen(p);
		start = p;
		p = comma != NULL ? comma + 1 : end;
		while (start < end && is_space(*start))
			start++;
		while (end > start && is_space(end[-1]))
			end--;
		if ((len = (size_t)(end - start)) == 0)
			continue;
		if (len > WSD_MAX_AUTHZ_NAME) {
			*why = "an entry is longer than " AUTHZ_STR(
			    WSD_MAX_AUTHZ_NAME) " bytes";
			return wsd_fail(err, WSD_ETOOBIG, *why);
		}
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)start[i] < 0x20 ||
			    start[i] == 0x7f) {
				*why = "control character in an entry";
				return wsd_fail(err, WSD_EINVAL, *why);
			}
		if (n->an_n >= WSD_MAX_AUTHZ_NAMES) {
			*why = "more than " AUTHZ_STR(
			    WSD_MAX_AUTHZ_NAMES) " entries in one attribute";
			return wsd_fail(err, WSD_ETOOBIG, *why);
		}
		if ((v = strndup(start, len)) == NULL ||
		    (nv = realloc(n->an_v, (n->an_n + 1) * sizeof(*nv))) ==
			NULL) {
			free(v);
			*why = "out of memory";
			return wsd_fail(err, WSD_ENOMEM, *why);
		}
		n->an_v = nv;
		n->an_v[n->an_n++] = v;
	}
	return 0;
}

/* Rebuilds an_raw from the entries, joined by ",". */
static int
names_join(struct authz_names *n, struct wsd_err *err)
{
	struct sbuf sb;
	char *raw;

	sbuf_init(&sb, (WSD_MAX_AUTHZ_NAME + 1) * WSD_MAX_AUTHZ_NAMES + 1);
	for (size_t i = 0; i < n->an_n; i++)
		if ((i > 0 && sbuf_adds(&sb, ",") < 0) ||
		    sbuf_adds(&sb, n->an_v[i]) < 0)
			return wsd_fail(err, WSD_ENOMEM, "out of memory");
	raw = sbuf_detach(&sb, NULL);
	free(n->an_raw);
	n->an_raw = raw;
	n->an_present = true;
	return 0;
}

static bool
names_has(const struct authz_names *n, const char *name)
{
	for (size_t i = 0; i < n->an_n; i++)
		if (eq_ci(n->an_v[i], name))
			return true;
	return false;
}

static int
names_copy(struct authz_names *dst, const struct authz_names *src,
    struct wsd_err *err)
{
	memset(dst, 0, sizeof(*dst));
	dst->an_present = src->an_present;
	if (src->an_raw != NULL && (dst->an_raw = strdup(src->an_raw)) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	if (src->an_n == 0)
		return 0;
	if ((dst->an_v = calloc(src->an_n, sizeof(*dst->an_v))) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	for (; dst->an_n < src->an_n; dst->an_n++)
		if ((dst->an_v[dst->an_n] = strdup(src->an_v[dst->an_n])) ==
		    NULL)
			return wsd_fail(err, WSD_ENOMEM, "out of memory");
	return 0;
}

/* Removes every entry equal to NAME; *REMOVED says whether one was. */
static int
names_remove(struct authz_names *n, const char *name, bool *removed,
    struct wsd_err *err)
{
	size_t j = 0;

	*removed = false;
	for (size_t i = 0; i < n->an_n; i++) {
		if (eq_ci(n->an_v[i], name)) {
			free(n->an_v[i]);
			*removed = true;
		} else {
			n->an_v[j++] = n->an_v[i];
		}
	}
	n->an_n = j;
	return *removed ? names_join(n, err) : 0;
}

static int
names_add(struct authz_names *n, const char *name, struct wsd_err *err)
{
	char *v, **nv;

	if (n->an_n >= WSD_MAX_AUTHZ_NAMES)
		return wsd_fail(err, WSD_ETOOBIG,
		    "the rule already has " AUTHZ_STR(
			WSD_MAX_AUTHZ_NAMES) " entries");
	if ((v = strdup(name)) == NULL ||
	    (nv = realloc(n->an_v, (n->an_n + 1) * sizeof(*nv))) == NULL) {
		free(v);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	n->an_v = nv;
	n->an_v[n->an_n++] = v;
	return names_join(n, err);
}

static bool
names_equal(const struct authz_names *a, const struct authz_names *b)
{
	if (a->an_present != b->an_present || a->an_n != b->an_n)
		return false;
	for (size_t i = 0; i < a->an_n; i++)
		if (strcmp(a->an_v[i], b->an_v[i]) != 0)
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Lists                                                               */

int
authz_new(struct authz_list **out, struct wsd_err *err)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	(*out)->al_source = AUTHZ_NO_FILE;
	return 0;
}

void
authz_free(struct authz_list *list)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < list->al_nrules; i++)
		rule_release(&list->al_rules[i]);
	free(list->al_rules);
	free(list);
}

/* Makes room for one more rule. */
static int
list_reserve(struct authz_list *l, struct wsd_err *err)
{
	struct authz_rule *nr;
	size_t cap;

	if (l->al_nrules >= WSD_MAX_AUTHZ_RULES)
		return wsd_fail(err, WSD_ETOOBIG,
		    "more than " AUTHZ_STR(WSD_MAX_AUTHZ_RULES) " rules");
	if (l->al_nrules < l->al_cap)
		return 0;
	cap = l->al_cap == 0 ? 8 : l->al_cap * 2;
	if (cap > WSD_MAX_AUTHZ_RULES)
		cap = WSD_MAX_AUTHZ_RULES;
	if ((nr = realloc(l->al_rules, cap * sizeof(*nr))) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	l->al_rules = nr;
	l->al_cap = cap;
	return 0;
}

/* Inserts R (taken over; zeroed) before index AT. */
static int
list_insert(struct authz_list *l, size_t at, struct authz_rule *r,
    struct wsd_err *err)
{
	int rc;

	if ((rc = list_reserve(l, err)) < 0)
		return rc;
	memmove(&l->al_rules[at + 1], &l->al_rules[at],
	    (l->al_nrules - at) * sizeof(*r));
	l->al_rules[at] = *r;
	l->al_nrules++;
	memset(r, 0, sizeof(*r));
	return 0;
}

static void
list_drop(struct authz_list *l, size_t at)
{
	rule_release(&l->al_rules[at]);
	memmove(&l->al_rules[at], &l->al_rules[at + 1],
	    (l->al_nrules - at - 1) * sizeof(l->al_rules[0]));
	l->al_nrules--;
}

static int
list_clone(const struct authz_list *src, struct authz_list **out,
    struct wsd_err *err)
{
	struct authz_list *l;
	int rc;

	if ((rc = authz_new(&l, err)) < 0)
		return rc;
	l->al_source = src->al_source;
	for (size_t i = 0; i < src->al_nrules; i++) {
		const struct authz_rule *s = &src->al_rules[i];
		struct authz_rule *d;

		if ((rc = list_reserve(l, err)) < 0)
			goto fail;
		d = &l->al_rules[l->al_nrules++];
		memset(d, 0, sizeof(*d));
		d->ar_allow = s->ar_allow;
		d->ar_line = s->ar_line;
		if ((rc = names_copy(&d->ar_users, &s->ar_users, err)) < 0 ||
		    (rc = names_copy(&d->ar_roles, &s->ar_roles, err)) < 0 ||
		    (rc = names_copy(&d->ar_verbs, &s->ar_verbs, err)) < 0)
			goto fail;
	}
	*out = l;
	return 0;
fail:
	authz_free(l);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

/* Position of the first "<!DOCTYPE" or "<!ENTITY", any case, or NULL. */
static const char *
find_dtd(const char *p, size_t n, const char **what)
{
	for (size_t i = 0; i + 2 < n; i++) {
		if (p[i] != '<' || p[i + 1] != '!')
			continue;
		if (n - i - 2 >= 7 && eq_ci_n(p + i + 2, "DOCTYPE", 7)) {
			*what = "DOCTYPE refused (web.config needs none)";
			return p + i;
		}
		if (n - i - 2 >= 6 && eq_ci_n(p + i + 2, "ENTITY", 6)) {
			*what = "entity declaration refused";
			return p + i;
		}
	}
	return NULL;
}

static unsigned long
line_at(const char *buf, const char *at)
{
	unsigned long line = 1;

	for (const char *p = buf; p < at; p++)
		line += *p == '\n';
	return line;
}

/* The first error libxml2 reports: later ones ("Premature end of data")
 * tend to point at the end of the file rather than the mistake. */
struct first_error {
	int fe_code;
	unsigned long fe_line;
	char fe_msg[256];
};

static void
note_error(void *data, xmlError *xe)
{
	xmlParserCtxt *ctxt = data;
	struct first_error *fe = ctxt != NULL ? ctxt->_private : NULL;
	size_t n;

	if (fe == NULL || fe->fe_code != 0 || xe == NULL ||
	    xe->level == XML_ERR_WARNING)
		return;
	fe->fe_code = xe->code != 0 ? xe->code : -1;
	fe->fe_line = xe->line > 0 ? (unsigned long)xe->line : 0;
	if (xe->message == NULL)
		return;
	n = strlen(xe->message);
	while (n > 0 && is_space(xe->message[n - 1]))
		n--;
	if (n >= sizeof(fe->fe_msg))
		n = sizeof(fe->fe_msg) - 1;
	/* One log line: libxml2 puts a newline before its byte dump. */
	for (size_t i = 0; i < n; i++)
		fe->fe_msg[i] = (unsigned char)xe->message[i] < 0x20 ||
			(unsigned char)xe->message[i] > 0x7e
		    ? ' '
		    : xe->message[i];
	fe->fe_msg[n] = '\0';
}

/*
 * Parses LEN bytes into a tree with the safe options, refusing what
 * authz.h lists before and after libxml2 sees it. *DOCP owns the tree.
 */
static int
read_doc(const char *buf, size_t len, const char *name, xmlDoc **docp,
    unsigned long *errline, struct wsd_err *err)
{
	struct first_error fe;
	xmlParserCtxt *ctxt;
	const char *at, *what;
	xmlDoc *doc;
	int wellformed;

	*docp = NULL;
	if (len > WSD_MAX_AUTHZ_FILE)
		return fail_at(err, WSD_ETOOBIG,
		    "web.config larger than 1 MiB (WSD_MAX_AUTHZ_FILE)",
		    errline, name, 0, NULL);
	if ((at = memchr(buf, '\0', len)) != NULL)
		return fail_at(err, WSD_EINVAL,
		    "NUL byte in web.config (it must be UTF-8)", errline, name,
		    line_at(buf, at), NULL);
	if ((at = find_dtd(buf, len, &what)) != NULL)
		return fail_at(err, WSD_EINVAL, what, errline, name,
		    line_at(buf, at), NULL);
	if (len == 0)
		return fail_at(err, WSD_EINVAL, "web.config is empty", errline,
		    name, 0, NULL);

	xmlInitParser();
	if ((ctxt = xmlCreateMemoryParserCtxt(buf, (int)len)) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	/* Options first: xmlCtxtUseOptions rewrites some SAX slots.
	 * IGNORE_ENC: read as UTF-8 whatever the declaration says, so no
	 * encoding can hide bytes from the checks above. */
	if (xmlCtxtUseOptions(ctxt,
		AUTHZ_PARSE_OPTIONS | XML_PARSE_IGNORE_ENC) != 0 ||
	    ctxt->sax == NULL) {
		xmlFreeParserCtxt(ctxt);
		return wsd_fail(err, WSD_EINTERNAL, "libxml2 refused options");
	}
	memset(&fe, 0, sizeof(fe));
	ctxt->sax->serror = note_error;
	ctxt->_private = &fe;
	/* The outcome is judged from wellFormed and myDoc. */
	(void)xmlParseDocument(ctxt);
	doc = ctxt->myDoc;
	ctxt->myDoc = NULL;
	wellformed = ctxt->wellFormed;
	if (fe.fe_code == 0 && ctxt->errNo != 0)
		fe.fe_code = ctxt->errNo;
	xmlFreeParserCtxt(ctxt);
	if (doc == NULL || !wellformed) {
		char detail[320];

		xmlFreeDoc(doc);
		if (fe.fe_code == XML_ERR_NO_MEMORY)
			return wsd_fail(err, WSD_ENOMEM, "out of memory");
		if (fe.fe_code == XML_ERR_UNDECLARED_ENTITY ||
		    fe.fe_code == XML_WAR_UNDECLARED_ENTITY ||
		    fe.fe_code == XML_ERR_ENTITYREF_NO_NAME)
			return fail_at(err, WSD_EINVAL,
			    "entity reference refused (only &amp; &lt; &gt; "
			    "&quot; &apos; and character references)",
			    errline, name, fe.fe_line, NULL);
		snprintf(detail, sizeof(detail),
		    "web.config is not well-formed XML: %s",
		    fe.fe_msg[0] != '\0' ? fe.fe_msg : "parse error");
		return fail_at(err, WSD_EINVAL,
		    "web.config is not well-formed XML", errline, name,
		    fe.fe_line, detail);
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		xmlFreeDoc(doc);
		return fail_at(err, WSD_EINVAL,
		    "DOCTYPE refused (web.config needs none)", errline, name, 0,
		    NULL);
	}
	*docp = doc;
	return 0;
}

/* True when N has an element child NAME with an element child CHILD. */
static const xmlNode *
find_nested(const xmlNode *n, const char *name, const char *child)
{
	for (const xmlNode *c = n->children; c != NULL; c = c->next) {
		if (!is_name(c, name))
			continue;
		for (const xmlNode *g = c->children; g != NULL; g = g->next)
			if (is_name(g, child))
				return g;
	}
	return NULL;
}

/*
 * Finds the <authorization> element of DOC (NULL when none) and the
 * first <system.web> (NULL when none), refusing the shapes authz.h lists.
 */
static int
find_section(xmlDoc *doc, const char *name, xmlNode **sysweb, xmlNode **auth,
    unsigned long *errline, struct wsd_err *err)
{
	xmlNode *root = xmlDocGetRootElement(doc);

	*sysweb = NULL;
	*auth = NULL;
	if (root == NULL || !is_name(root, "configuration"))
		return fail_at(err, WSD_EINVAL,
		    "the root element is not <configuration>", errline, name,
		    root != NULL ? line_of(root) : 0, NULL);
	for (xmlNode *c = root->children; c != NULL; c = c->next) {
		const xmlNode *l;

		if (is_name(c, "location") &&
		    (l = find_nested(c, "system.web", "authorization")) != NULL)
			return fail_at(err, WSD_EINVAL,
			    "<authorization> inside <location> is not "
			    "supported: put it in configuration/system.web",
			    errline, name, line_of(l), NULL);
		if (!is_name(c, "system.web"))
			continue;
		if (*sysweb == NULL)
			*sysweb = c;
		for (xmlNode *g = c->children; g != NULL; g = g->next) {
			if (!is_name(g, "authorization"))
				continue;
			if (*auth != NULL)
				return fail_at(err, WSD_EINVAL,
				    "more than one <authorization> section",
				    errline, name, line_of(g), NULL);
			*auth = g;
		}
	}
	return 0;
}

/* Configuration-lock attributes any element may carry; they lock
 * settings for child configs, which wsusd does not have. */
static bool
is_lock_attr(const char *a)
{
	static const char *const locks[] = { "lockAttributes",
		"lockAllAttributesExcept", "lockElements",
		"lockAllElementsExcept", "lockItem" };

	for (size_t i = 0; i < sizeof(locks) / sizeof(locks[0]); i++)
		if (strcmp(a, locks[i]) == 0)
			return true;
	return false;
}

/* A comment, or text that is all whitespace. */
static bool
ignorable(const xmlNode *c)
{
	const char *t;

	if (c->type == XML_COMMENT_NODE)
		return true;
	if (c->type != XML_TEXT_NODE)
		return false;
	for (t = (const char *)c->content; t != NULL && *t != '\0'; t++)
		if (!is_space(*t))
			return false;
	return true;
}

static int
parse_rule(const xmlNode *n, const char *name, struct authz_list *list,
    unsigned long *errline, struct wsd_err *err)
{
	struct authz_rule r;
	char detail[200];
	int rc;

	memset(&r, 0, sizeof(r));
	r.ar_allow = is_name(n, "allow");
	r.ar_line = line_of(n);
	for (const xmlNode *c = n->children; c != NULL; c = c->next)
		if (!ignorable(c))
			return fail_at(err, WSD_EINVAL,
			    "unexpected content in an <allow> or <deny> rule",
			    errline, name,
			    c->type == XML_ELEMENT_NODE ? line_of(c)
							: r.ar_line,
			    "a rule must be empty: <allow users=\"...\"/>");
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
		const char *an = (const char *)a->name;
		struct authz_names *dst = NULL;
		const char *why = NULL;
		xmlChar *xv;
		char *v;

		if (a->ns == NULL && strcmp(an, "users") == 0)
			dst = &r.ar_users;
		else if (a->ns == NULL && strcmp(an, "roles") == 0)
			dst = &r.ar_roles;
		else if (a->ns == NULL && strcmp(an, "verbs") == 0)
			dst = &r.ar_verbs;
		else if (a->ns == NULL && is_lock_attr(an))
			continue;
		if (dst == NULL) {
			rule_release(&r);
			snprintf(detail, sizeof(detail),
			    "unknown attribute \"%.64s\" on <%s> (users, "
			    "roles and verbs are known)",
			    an, r.ar_allow ? "allow" : "deny");
			return fail_at(err, WSD_EINVAL,
			    "unknown attribute on an <allow> or <deny> rule",
			    errline, name, r.ar_line, detail);
		}
		if (dst->an_present) {
			/* libxml2 refuses duplicate attributes already. */
			rule_release(&r);
			return wsd_fail(err, WSD_EINTERNAL,
			    "duplicate attribute");
		}
		xv = xmlNodeGetContent((const xmlNode *)a);
		v = strdup(xv != NULL ? (const char *)xv : "");
		xmlFree(xv);
		if (v == NULL) {
			rule_release(&r);
			return wsd_fail(err, WSD_ENOMEM, "out of memory");
		}
		if ((rc = names_split(dst, v, &why, err)) < 0) {
			rule_release(&r);
			snprintf(detail, sizeof(detail), "%s: %s", an, why);
			return fail_at(err, (enum wsd_errc)rc, err->what,
			    errline, name, r.ar_line, detail);
		}
	}
	if (!r.ar_users.an_present && !r.ar_roles.an_present) {
		rule_release(&r);
		return fail_at(err, WSD_EINVAL,
		    "a rule has neither users nor roles", errline, name,
		    r.ar_line, NULL);
	}
	if ((rc = list_reserve(list, err)) < 0) {
		rule_release(&r);
		return fail_at(err, (enum wsd_errc)rc, err->what, errline, name,
		    r.ar_line, NULL);
	}
	list->al_rules[list->al_nrules++] = r;
	return 0;
}

/* The load-time warnings authz.h promises. */
static void
warn_rules(const struct authz_list *l, const char *name)
{
	for (size_t i = 0; i < l->al_nrules; i++) {
		const struct authz_rule *r = &l->al_rules[i];
		bool star = names_has(&r->ar_roles, "*");

		if (r->ar_roles.an_n > 0 && !star && r->ar_users.an_n == 0)
			log_warnx("%s:%lu: rule %zu names only roles, which "
				  "wsusd cannot resolve: it never matches%s",
			    name, r->ar_line, i + 1,
			    r->ar_allow ? ""
					: " (members of those groups are NOT "
					  "denied by it)");
		else if (r->ar_roles.an_n > 0 && !star)
			log_warnx("%s:%lu: rule %zu: roles are ignored (wsusd "
				  "cannot resolve groups); only its users "
				  "match",
			    name, r->ar_line, i + 1);
		else if (r->ar_users.an_n == 0 && r->ar_roles.an_n == 0)
			log_warnx("%s:%lu: rule %zu names nobody: it never "
				  "matches",
			    name, r->ar_line, i + 1);
	}
}

static int
parse_quiet(const char *buf, size_t len, const char *name,
    struct authz_list **out, unsigned long *errline, struct wsd_err *err)
{
	struct authz_list *l = NULL;
	xmlNode *sysweb, *auth;
	xmlDoc *doc;
	int rc;

	*out = NULL;
	if (errline != NULL)
		*errline = 0;
	if ((rc = read_doc(buf, len, name, &doc, errline, err)) < 0)
		return rc;
	if ((rc = find_section(doc, name, &sysweb, &auth, errline, err)) < 0)
		goto fail;
	if ((rc = authz_new(&l, err)) < 0)
		goto fail;
	l->al_source = auth != NULL ? AUTHZ_SECTION : AUTHZ_NO_SECTION;
	if (auth == NULL)
		goto done;
	for (const xmlAttr *a = auth->properties; a != NULL; a = a->next) {
		const char *an = (const char *)a->name;

		if (a->ns == NULL && is_lock_attr(an))
			continue;
		rc = fail_at(err, WSD_EINVAL,
		    strcmp(an, "configSource") == 0
			? "<authorization configSource> is not followed: "
			  "put the rules in web.config"
			: "unknown attribute on <authorization>",
		    errline, name, line_of(auth), NULL);
		goto fail;
	}
	for (const xmlNode *c = auth->children; c != NULL; c = c->next) {
		if (is_name(c, "allow") || is_name(c, "deny")) {
			if ((rc = parse_rule(c, name, l, errline, err)) < 0)
				goto fail;
		} else if (c->type == XML_ELEMENT_NODE) {
			char detail[160];

			snprintf(detail, sizeof(detail),
			    "unknown element <%.64s> in <authorization> "
			    "(only <allow> and <deny>)",
			    (const char *)c->name);
			rc = fail_at(err, WSD_EINVAL,
			    "unknown element in <authorization>", errline, name,
			    line_of(c), detail);
			goto fail;
		} else if (!ignorable(c)) {
			rc = fail_at(err, WSD_EINVAL,
			    "unexpected content in <authorization>", errline,
			    name, line_of(c),
			    "<authorization> may hold only <allow>, <deny>, "
			    "comments and whitespace");
			goto fail;
		}
	}
done:
	xmlFreeDoc(doc);
	*out = l;
	return 0;
fail:
	authz_free(l);
	xmlFreeDoc(doc);
	return rc;
}

int
authz_parse(const char *buf, size_t len, const char *name,
    struct authz_list **out, unsigned long *errline, struct wsd_err *err)
{
	int rc;

	if ((rc = parse_quiet(buf, len, name, out, errline, err)) < 0)
		return rc;
	warn_rules(*out, name);
	return 0;
}

int
authz_load_file(const char *path, struct authz_list **out,
    unsigned long *errline, struct wsd_err *err)
{
	struct stat st;
	size_t len;
	char *buf;
	int rc;

	*out = NULL;
	if (errline != NULL)
		*errline = 0;
	/* Absent is "no list"; anything else that stops the read (EACCES,
	 * a directory, a FIFO) is an error, so a list wsusd cannot read
	 * never silently becomes "admit everyone". */
	if (lstat(path, &st) < 0 && errno == ENOENT)
		return authz_new(out, err);
	if ((rc = fileio_read_small(path, WSD_MAX_AUTHZ_FILE, &buf, &len, NULL,
		 err)) < 0) {
		if (rc == WSD_ETOOBIG)
			return wsd_fail(err, rc,
			    "web.config larger than 1 MiB "
			    "(WSD_MAX_AUTHZ_FILE)");
		return rc;
	}
	rc = authz_parse(buf, len, path, out, errline, err);
	free(buf);
	return rc;
}

/* DATADIR/ServerSyncWebService[/web.config] into SB. */
static int
datadir_path(struct sbuf *sb, const char *datadir, const char *rel,
    struct wsd_err *err)
{
	sbuf_init(sb, 4096);
	if (sbuf_addf(sb, "%s/%s", datadir, rel) < 0)
		return wsd_fail(err, WSD_ETOOBIG,
		    "data directory path too long");
	return 0;
}

int
authz_load(const char *datadir, struct authz_list **out, unsigned long *errline,
    struct wsd_err *err)
{
	struct sbuf path;
	int rc;

	*out = NULL;
	if ((rc = datadir_path(&path, datadir, AUTHZ_WEBCONFIG, err)) < 0)
		return rc;
	rc = authz_load_file(sbuf_str(&path), out, errline, err);
	sbuf_release(&path);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Evaluation                                                          */

/*
 * One users entry against the caller (ID NULL: anonymous). The '$'
 * folding is deviation 1 in authz.h: caller "D\X$" also matches entry
 * "D\X"; caller "D\X" never matches entry "D\X$".
 */
static bool
user_matches(const char *entry, const char *id)
{
	size_t idlen, elen;

	if (strcmp(entry, "*") == 0)
		return true;
	if (strcmp(entry, "?") == 0)
		return id == NULL;
	if (id == NULL)
		return false;
	if (eq_ci(entry, id))
		return true;
	idlen = strlen(id);
	elen = strlen(entry);
	return idlen >= 2 && id[idlen - 1] == '$' && id[idlen - 2] != '\\' &&
	    elen == idlen - 1 && eq_ci_n(entry, id, elen);
}

static bool
rule_matches(const struct authz_rule *r, const char *id, const char *method)
{
	bool verb = r->ar_verbs.an_n == 0; /* absent or empty: every verb */

	for (size_t i = 0; !verb && i < r->ar_verbs.an_n; i++)
		verb = method != NULL && eq_ci(r->ar_verbs.an_v[i], method);
	if (!verb)
		return false;
	for (size_t i = 0; i < r->ar_users.an_n; i++)
		if (user_matches(r->ar_users.an_v[i], id))
			return true;
	/* Deviation 2: only "*" among roles can be decided. */
	return names_has(&r->ar_roles, "*");
}

enum authz_decision
authz_check(const struct authz_list *list, const char *identity,
    const char *method, size_t *rule)
{
	if (identity != NULL && identity[0] == '\0')
		identity = NULL;
	if (rule != NULL)
		*rule = AUTHZ_NO_RULE;
	if (list == NULL)
		return AUTHZ_ALLOW;
	for (size_t i = 0; i < list->al_nrules; i++) {
		if (!rule_matches(&list->al_rules[i], identity, method))
			continue;
		if (rule != NULL)
			*rule = i;
		return list->al_rules[i].ar_allow ? AUTHZ_ALLOW : AUTHZ_DENY;
	}
	return AUTHZ_ALLOW; /* the root web.config's <allow users="*"/> */
}

/* ------------------------------------------------------------------ */
/* Rendering                                                           */

static int
rule_xml(const struct authz_rule *r, struct sbuf *out, size_t max)
{
	const struct authz_names *attrs[] = { &r->ar_users, &r->ar_roles,
		&r->ar_verbs };
	static const char *const names[] = { "users", "roles", "verbs" };
	int rc;

	if ((rc = sbuf_adds(out, r->ar_allow ? "<allow" : "<deny")) < 0)
		return rc;
	for (size_t i = 0; i < 3; i++) {
		if (!attrs[i]->an_present)
			continue;
		if ((rc = sbuf_addf(out, " %s=\"", names[i])) < 0 ||
		    (rc = add_escaped(out,
			 attrs[i]->an_raw != NULL ? attrs[i]->an_raw : "", true,
			 max)) < 0 ||
		    (rc = sbuf_adds(out, "\"")) < 0)
			return rc;
	}
	return sbuf_adds(out, "/>");
}

int
authz_rule_xml(const struct authz_rule *r, struct sbuf *out)
{
	return rule_xml(r, out, SIZE_MAX);
}

int
authz_describe(const struct authz_list *list, const char *identity,
    enum authz_decision d, size_t rule, struct sbuf *out)
{
	const char *verdict = d == AUTHZ_ALLOW ? "allowed" : "denied";
	int rc;

	if (identity == NULL || identity[0] == '\0')
		rc = sbuf_adds(out, "(anonymous)");
	else
		rc = add_escaped(out, identity, false, AUTHZ_LOG_VALUE);
	if (rc < 0)
		return rc;
	if (list == NULL || list->al_source != AUTHZ_SECTION)
		return sbuf_addf(out, " %s: no authorization list", verdict);
	if (rule == AUTHZ_NO_RULE || rule >= list->al_nrules)
		return sbuf_addf(out, " %s: no rule matched", verdict);
	if ((rc = sbuf_addf(out, " %s: rule %zu ", verdict, rule + 1)) < 0 ||
	    (rc = rule_xml(&list->al_rules[rule], out, AUTHZ_LOG_VALUE)) < 0)
		return rc;
	if (list->al_rules[rule].ar_line > 0)
		return sbuf_addf(out, " (line %lu)",
		    list->al_rules[rule].ar_line);
	return 0;
}

int
authz_rule_text(const struct authz_rule *r, struct sbuf *out)
{
	const struct authz_names *attrs[] = { &r->ar_users, &r->ar_roles,
		&r->ar_verbs };
	static const char *const names[] = { "users", "roles", "verbs" };
	int rc;

	if ((rc = sbuf_adds(out, r->ar_allow ? "allow" : "deny")) < 0)
		return rc;
	for (size_t i = 0; i < 3; i++) {
		if (!attrs[i]->an_present)
			continue;
		if ((rc = sbuf_addf(out, " %s=", names[i])) < 0)
			return rc;
		for (size_t k = 0; k < attrs[i]->an_n; k++)
			if ((k > 0 && (rc = sbuf_adds(out, ",")) < 0) ||
			    (rc = add_escaped(out, attrs[i]->an_v[k], false,
				 SIZE_MAX)) < 0)
				return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Names wsusutil accepts                                              */

const char *
authz_name_invalid(const char *name)
{
	const char *bs, *p;
	size_t dlen, nlen;

	if (name == NULL || name[0] == '\0')
		return "empty name";
	if (strcmp(name, "*") == 0 || strcmp(name, "?") == 0)
		return NULL;
	if ((bs = strchr(name, '\\')) == NULL)
		return "expected DOMAIN\\computer (one backslash), or * or ?";
	if (strchr(bs + 1, '\\') != NULL)
		return "more than one backslash";
	dlen = (size_t)(bs - name);
	if (dlen == 0 || dlen > 15)
		return "the domain must have 1 to 15 characters";
	for (p = name; p < bs; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			(*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
			*p == '_'))
			return "the domain may hold only letters, digits, "
			       "'-', '.' and '_'";
	nlen = strlen(bs + 1);
	if (nlen == 0 || nlen > 64)
		return "the computer name must have 1 to 64 characters";
	for (p = bs + 1; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c > 0x7e)
			return "the computer name may hold only printable "
			       "ASCII";
		if (strchr(",\"<>&", c) != NULL)
			return "the computer name may not hold , \" < > or &";
	}
	if (bs[1] == ' ' || p[-1] == ' ')
		return "the computer name may not start or end with a space";
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Edits                                                               */

/* Users, no verbs, no roles: a rule an edit may extend. */
static bool
rule_plain(const struct authz_rule *r)
{
	return r->ar_users.an_present && r->ar_roles.an_n == 0 &&
	    r->ar_verbs.an_n == 0;
}

/*
 * Takes NAME out of every rule with ar_allow == ALLOW (both kinds when
 * BOTH), dropping a rule left with neither users nor roles entries.
 */
static int
strip_name(struct authz_list *l, const char *name, bool both, bool allow,
    bool *changed, struct wsd_err *err)
{
	size_t i = 0;
	int rc;

	while (i < l->al_nrules) {
		struct authz_rule *r = &l->al_rules[i];
		bool removed;

		if (!both && r->ar_allow != allow) {
			i++;
			continue;
		}
		if ((rc = names_remove(&r->ar_users, name, &removed, err)) < 0)
			return rc;
		*changed |= removed;
		if (removed && r->ar_users.an_n == 0 && r->ar_roles.an_n == 0)
			list_drop(l, i);
		else
			i++;
	}
	return 0;
}

/* A new rule "<allow|deny users="NAME"/>" inserted first. */
static int
insert_first(struct authz_list *l, bool allow, const char *name,
    struct wsd_err *err)
{
	struct authz_rule r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.ar_allow = allow;
	r.ar_users.an_present = true;
	if ((rc = names_add(&r.ar_users, name, err)) < 0 ||
	    (rc = list_insert(l, 0, &r, err)) < 0) {
		rule_release(&r);
		return rc;
	}
	return 0;
}

/* What the edit must have achieved for NAME, checked on every method. */
static bool
edit_holds(const struct authz_list *l, const char *name,
    enum authz_decision want)
{
	static const char *const methods[] = { "GET", "POST", "HEAD" };
	const char *ids[2] = { name, NULL };
	size_t nids = 1;

	if (strcmp(name, "?") == 0)
		ids[0] = NULL;
	else if (strcmp(name, "*") == 0) {
		ids[0] = "WSUSD-PROBE\\ANYONE$";
		nids = 2; /* and the anonymous caller */
	}
	for (size_t i = 0; i < nids; i++)
		for (size_t m = 0; m < 3; m++)
			if (authz_check(l, ids[i], methods[m], NULL) != want)
				return false;
	return true;
}

static void
list_swap(struct authz_list *a, struct authz_list *b)
{
	struct authz_list t = *a;

	*a = *b;
	*b = t;
}

static int
edit(struct authz_list *list, const char *name, int op, bool *changed,
    struct wsd_err *err)
{
	struct authz_list *l;
	const char *why;
	size_t target = AUTHZ_NO_RULE;
	int rc;

	*changed = false;
	if ((why = authz_name_invalid(name)) != NULL)
		return wsd_fail(err, WSD_EINVAL, why);
	/* Edit a copy: whatever fails, LIST stays as it was. */
	if ((rc = list_clone(list, &l, err)) < 0)
		return rc;
	switch (op) {
	case 'a':
		if ((rc = strip_name(l, name, false, false, changed, err)) < 0)
			goto fail;
		for (size_t i = 0; i < l->al_nrules; i++) {
			if (!l->al_rules[i].ar_allow)
				break; /* a deny comes first */
			if (rule_plain(&l->al_rules[i])) {
				target = i;
				break;
			}
		}
		break;
	case 'd':
		if ((rc = strip_name(l, name, false, true, changed, err)) < 0)
			goto fail;
		if (l->al_nrules > 0 && !l->al_rules[0].ar_allow &&
		    rule_plain(&l->al_rules[0]))
			target = 0;
		break;
	default:
		if ((rc = strip_name(l, name, true, false, changed, err)) < 0)
			goto fail;
		if (!*changed) {
			rc = wsd_fail(err, WSD_ENOTFOUND,
			    "the name is in no rule");
			goto fail;
		}
		goto done;
	}
	if (target == AUTHZ_NO_RULE) {
		if ((rc = insert_first(l, op == 'a', name, err)) < 0)
			goto fail;
		*changed = true;
	} else if (!names_has(&l->al_rules[target].ar_users, name)) {
		if ((rc = names_add(&l->al_rules[target].ar_users, name, err)) <
		    0)
			goto fail;
		*changed = true;
	}
	if (!edit_holds(l, name, op == 'a' ? AUTHZ_ALLOW : AUTHZ_DENY)) {
		/* NEVER: the placement rules above guarantee it. */
		rc = wsd_fail(err, WSD_EINTERNAL,
		    "the edited list does not decide as intended");
		goto fail;
	}
done:
	if (*changed)
		l->al_source = AUTHZ_SECTION;
	list_swap(list, l);
	authz_free(l);
	return 0;
fail:
	*changed = false;
	authz_free(l);
	return rc;
}

int
authz_allow_name(struct authz_list *list, const char *name, bool *changed,
    struct wsd_err *err)
{
	return edit(list, name, 'a', changed, err);
}

int
authz_deny_name(struct authz_list *list, const char *name, bool *changed,
    struct wsd_err *err)
{
	return edit(list, name, 'd', changed, err);
}

int
authz_remove_name(struct authz_list *list, const char *name, bool *changed,
    struct wsd_err *err)
{
	return edit(list, name, 'r', changed, err);
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */

/* The whitespace after the last newline before N, if it is all blanks. */
static void
indent_of(const xmlNode *n, char *out, size_t cap)
{
	const char *t, *nl;
	size_t len;

	out[0] = '\0';
	if (n == NULL || n->prev == NULL || n->prev->type != XML_TEXT_NODE ||
	    n->prev->content == NULL)
		return;
	t = (const char *)n->prev->content;
	if ((nl = strrchr(t, '\n')) == NULL)
		return;
	nl++;
	len = strspn(nl, " \t");
	if (nl[len] != '\0' || len >= cap)
		return;
	memcpy(out, nl, len);
	out[len] = '\0';
}

/* One indentation step under PARENT: its children's extra blanks, or
 * two spaces. */
static void
indent_unit(const char *parent, const char *child, char *out, size_t cap)
{
	size_t pl = strlen(parent), cl = strlen(child);

	if (cl > pl && strncmp(parent, child, pl) == 0 && cl - pl < cap) {
		memcpy(out, child + pl, cl - pl);
		out[cl - pl] = '\0';
	} else {
		snprintf(out, cap, "%s", strchr(parent, '\t') ? "\t" : "  ");
	}
}

/* Appends "\n" A B to PARENT. */
static xmlNode *
add_text(xmlNode *parent, const char *a, const char *b)
{
	char buf[256];
	xmlNode *t, *r;

	snprintf(buf, sizeof(buf), "\n%s%s", a, b);
	if ((t = xmlNewDocText(parent->doc, X(buf))) == NULL)
		return NULL;
	/* May merge T into a text node already last (and free it). */
	if ((r = xmlAddChild(parent, t)) == NULL)
		xmlFreeNode(t);
	return r;
}

/*
 * Appends a new element NAME as the last child of PARENT (whose own
 * indentation is PIND), laid out like its siblings. libxml2 merges
 * adjacent text nodes, so the whitespace before the end tag, when there
 * is some, becomes the indentation of the new element instead of getting
 * a sibling.
 */
static xmlNode *
add_element(xmlNode *parent, const char *pind, const char *name)
{
	char unit[64], cind[64] = "", buf[256];
	xmlNode *last = parent->last, *el;

	for (xmlNode *c = parent->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE) {
			indent_of(c, cind, sizeof(cind));
			break;
		}
	indent_unit(pind, cind, unit, sizeof(unit));
	if (last != NULL && last->type == XML_TEXT_NODE && ignorable(last)) {
		snprintf(buf, sizeof(buf), "\n%s%s", pind, unit);
		xmlNodeSetContent(last, X(buf));
	} else if (add_text(parent, pind, unit) == NULL) {
		return NULL;
	}
	if ((el = xmlNewDocNode(parent->doc, parent->ns, X(name), NULL)) ==
	    NULL)
		return NULL;
	if (xmlAddChild(parent, el) == NULL) {
		xmlFreeNode(el);
		return NULL;
	}
	if (add_text(parent, pind, "") == NULL)
		return NULL;
	return el;
}

/* Replaces AUTH's children with LIST's rules, one per line. */
static int
fill_section(xmlNode *auth, const struct authz_list *list, struct wsd_err *err)
{
	static const char *const names[] = { "users", "roles", "verbs" };
	char aind[64], cind[64] = "", pind[64] = "", unit[64];
	xmlNode *c;

	/* The step the old rules were indented by, else the one
	 * <authorization> is indented by under its parent. */
	indent_of(auth, aind, sizeof(aind));
	for (c = auth->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE) {
			indent_of(c, cind, sizeof(cind));
			break;
		}
	if (strlen(cind) > strlen(aind) &&
	    strncmp(cind, aind, strlen(aind)) == 0) {
		indent_unit(aind, cind, unit, sizeof(unit));
	} else {
		if (auth->parent != NULL &&
		    auth->parent->type == XML_ELEMENT_NODE)
			indent_of(auth->parent, pind, sizeof(pind));
		indent_unit(pind, aind, unit, sizeof(unit));
	}
	while ((c = auth->children) != NULL) {
		xmlUnlinkNode(c);
		xmlFreeNode(c);
	}
	for (size_t i = 0; i < list->al_nrules; i++) {
		const struct authz_rule *r = &list->al_rules[i];
		const struct authz_names *attrs[] = { &r->ar_users,
			&r->ar_roles, &r->ar_verbs };
		xmlNode *el;

		if (add_text(auth, aind, unit) == NULL ||
		    (el = xmlNewDocNode(auth->doc, auth->ns,
			 X(r->ar_allow ? "allow" : "deny"), NULL)) == NULL)
			return wsd_fail(err, WSD_ENOMEM, "out of memory");
		if (xmlAddChild(auth, el) == NULL) {
			xmlFreeNode(el);
			return wsd_fail(err, WSD_ENOMEM, "out of memory");
		}
		for (size_t k = 0; k < 3; k++)
			if (attrs[k]->an_present &&
			    xmlNewProp(el, X(names[k]),
				X(attrs[k]->an_raw != NULL ? attrs[k]->an_raw
							   : "")) == NULL)
				return wsd_fail(err, WSD_ENOMEM,
				    "out of memory");
	}
	if (list->al_nrules > 0 && add_text(auth, aind, "") == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	return 0;
}

/* The parent directory of PATH into SB ("." when none). */
static int
parent_of(const char *path, struct sbuf *sb, struct wsd_err *err)
{
	const char *slash = strrchr(path, '/');

	sbuf_init(sb, 4096);
	if (slash == NULL)
		return sbuf_adds(sb, ".") < 0
		    ? wsd_fail(err, WSD_ENOMEM, "out of memory")
		    : 0;
	if (sbuf_add(sb, path, slash == path ? 1 : (size_t)(slash - path)) < 0)
		return wsd_fail(err, WSD_ETOOBIG, "path too long");
	return 0;
}

/*
 * Creates PATH's directory (mode 0750) when missing and gives it to the
 * owner of the directory above it (best effort: only root may). *DIRST
 * gets its stat.
 */
static int
ensure_dir(const char *path, struct stat *dirst, struct wsd_err *err)
{
	struct sbuf dir, up;
	struct stat upst;
	int rc;

	if ((rc = parent_of(path, &dir, err)) < 0)
		return rc;
	if (stat(sbuf_str(&dir), dirst) == 0)
		goto done;
	if (errno != ENOENT) {
		log_warn("%s", sbuf_str(&dir));
		rc = wsd_fail(err, WSD_EIO, "cannot reach the directory");
		goto done;
	}
	if ((rc = fileio_ensure_parent(path, 0750, err)) < 0)
		goto done;
	if ((rc = parent_of(sbuf_str(&dir), &up, err)) < 0)
		goto done;
	if (stat(sbuf_str(&up), &upst) == 0 &&
	    chown(sbuf_str(&dir), upst.st_uid, upst.st_gid) < 0)
		log_debug("%s: keeps its owner: %s", sbuf_str(&dir),
		    strerror(errno));
	sbuf_release(&up);
	if (stat(sbuf_str(&dir), dirst) < 0) {
		log_warn("%s", sbuf_str(&dir));
		rc = wsd_fail(err, WSD_EIO, "cannot create the directory");
	}
done:
	sbuf_release(&dir);
	return rc;
}

static bool
lists_equal(const struct authz_list *a, const struct authz_list *b)
{
	if (a->al_nrules != b->al_nrules)
		return false;
	for (size_t i = 0; i < a->al_nrules; i++) {
		const struct authz_rule *x = &a->al_rules[i],
					*y = &b->al_rules[i];

		if (x->ar_allow != y->ar_allow ||
		    !names_equal(&x->ar_users, &y->ar_users) ||
		    !names_equal(&x->ar_roles, &y->ar_roles) ||
		    !names_equal(&x->ar_verbs, &y->ar_verbs))
			return false;
	}
	return true;
}

/* A new document: <configuration><system.web><authorization/>... */
static int
new_doc(xmlDoc **docp, xmlNode **auth, struct wsd_err *err)
{
	xmlNode *root, *sw;
	xmlDoc *doc;

	if ((doc = xmlNewDoc(X("1.0"))) == NULL ||
	    (root = xmlNewDocNode(doc, NULL, X("configuration"), NULL)) ==
		NULL) {
		xmlFreeDoc(doc);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	xmlDocSetRootElement(doc, root);
	if ((sw = add_element(root, "", "system.web")) == NULL ||
	    (*auth = add_element(sw, "  ", "authorization")) == NULL) {
		xmlFreeDoc(doc);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	*docp = doc;
	return 0;
}

int
authz_write(const char *path, const struct authz_list *list,
    struct wsd_err *err)
{
	struct fileio_owner owner = { .fo_best_effort = true };
	struct authz_list *back = NULL;
	xmlNode *sysweb, *auth;
	xmlDoc *doc = NULL;
	xmlChar *mem = NULL;
	struct stat st, dirst;
	bool exists;
	size_t len;
	char *buf;
	mode_t mode;
	int rc, n = 0;

	if (list->al_nrules > WSD_MAX_AUTHZ_RULES)
		return wsd_fail(err, WSD_ETOOBIG,
		    "more than " AUTHZ_STR(WSD_MAX_AUTHZ_RULES) " rules");
	exists = !(lstat(path, &st) < 0 && errno == ENOENT);
	if (exists) {
		if ((rc = fileio_read_small(path, WSD_MAX_AUTHZ_FILE, &buf,
			 &len, &st, err)) < 0)
			return rc;
		rc = read_doc(buf, len, path, &doc, NULL, err);
		free(buf);
		if (rc < 0)
			return rc;
		if ((rc = find_section(doc, path, &sysweb, &auth, NULL, err)) <
		    0)
			goto out;
		if (auth == NULL) {
			char rind[64];

			indent_of(xmlDocGetRootElement(doc), rind,
			    sizeof(rind));
			if (sysweb == NULL &&
			    (sysweb = add_element(xmlDocGetRootElement(doc),
				 rind, "system.web")) == NULL) {
				rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
				goto out;
			}
			indent_of(sysweb, rind, sizeof(rind));
			if ((auth = add_element(sysweb, rind,
				 "authorization")) == NULL) {
				rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
				goto out;
			}
		}
		owner.fo_uid = st.st_uid;
		owner.fo_gid = st.st_gid;
		mode = st.st_mode & 0640;
	} else {
		if ((rc = ensure_dir(path, &dirst, err)) < 0)
			return rc;
		if ((rc = new_doc(&doc, &auth, err)) < 0)
			return rc;
		owner.fo_uid = dirst.st_uid;
		owner.fo_gid = dirst.st_gid;
		mode = 0640;
	}
	if ((rc = fill_section(auth, list, err)) < 0)
		goto out;
	xmlDocDumpMemoryEnc(doc, &mem, &n, "UTF-8");
	if (mem == NULL || n <= 0) {
		rc = wsd_fail(err, WSD_ENOMEM, "cannot serialise web.config");
		goto out;
	}
	/* The whole result must read back as exactly LIST. */
	if ((rc = parse_quiet((const char *)mem, (size_t)n, path, &back, NULL,
		 err)) < 0)
		goto out;
	if (back->al_source != AUTHZ_SECTION || !lists_equal(list, back)) {
		rc = wsd_fail(err, WSD_EINTERNAL,
		    "the rewritten web.config does not read back as written");
		goto out;
	}
	rc = fileio_write_atomic(AT_FDCWD, path, mem, (size_t)n, mode, &owner,
	    0, err);
out:
	authz_free(back);
	xmlFree(mem);
	xmlFreeDoc(doc);
	return rc;
}

int
authz_lock(const char *datadir, int *fdp, struct wsd_err *err)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	struct stat dirst;
	struct sbuf path;
	int fd, rc;

	*fdp = -1;
	if ((rc = datadir_path(&path, datadir, AUTHZ_WEBCONFIG, err)) < 0)
		return rc;
	if ((rc = ensure_dir(sbuf_str(&path), &dirst, err)) < 0) {
		sbuf_release(&path);
		return rc;
	}
	sbuf_release(&path);
	if ((rc = datadir_path(&path, datadir, AUTHZ_DIR, err)) < 0)
		return rc;
	fd = open(sbuf_str(&path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		log_warn("%s", sbuf_str(&path));
		sbuf_release(&path);
		return wsd_fail(err, WSD_EIO, "cannot open the directory");
	}
	/* Bounded: 100 tries 50 ms apart. */
	for (int i = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; i++) {
		if ((errno != EWOULDBLOCK && errno != EINTR) || i >= 100) {
			log_warn("%s: lock", sbuf_str(&path));
			sbuf_release(&path);
			close(fd);
			return wsd_fail(err, WSD_EAGAIN,
			    "another wsusutil is editing the list");
		}
		nanosleep(&pause, NULL);
	}
	sbuf_release(&path);
	*fdp = fd;
	return 0;
}
