/*
 * Fuzz target for the fragment parsers of catalog/fragment.h: the core,
 * extended and localized fragments a revision carries and the driver
 * metadata of a driver's core fragment, all read from imports and
 * upstream servers as hostile input.
 *
 * Input: one selector byte, then the fragment.
 *
 *	bits 0-1	0 fragment_parse_core, 1 fragment_parse_extended,
 *			2 fragment_parse_localized, 3 fragment_parse_drivers
 *	bits 2-7	ignored
 *
 * Every parser: the result is 0 or WSD_EINVAL, WSD_ETOOBIG, WSD_ENOMEM,
 * with err naming it on failure, and the output released (the struct
 * all zero; for drivers *out NULL and *n 0). A fragment the module
 * comment says is refused (DOCTYPE, entity declaration or reference,
 * XML declaration, processing instruction, comment, namespace
 * declaration, colon-prefixed name, more than WSD_MAX_FRAGMENT_ATTRS
 * attributes on an element, nesting deeper than WSD_MAX_FRAGMENT_DEPTH)
 * never parses; scan() finds these in the input bytes on its own. On
 * success every field keeps the bounds the header documents (GUIDs 36
 * characters, lower case; counts under their limits; prerequisite and
 * bundle clauses numbered 0, 1, ... in order; file names without
 * directories; dates real).
 *
 * Drivers also: the result agrees with fragment_parse_core's (what
 * that refuses is refused with the same code; what is accepted, that
 * accepts too), and a successful parse with entries survives a round
 * trip: fragment_build_core (FRAGMENT_TYPE_DRIVER, a fixed
 * UpdateID and revision) of the entries, parsed again, gives the same
 * entries field by field. The builder may refuse only a string holding
 * a character it never writes (DEL, a C1 control, U+FFFE/U+FFFF), which
 * XML 1.0 lets a parsed fragment carry.
 *
 * A broken promise traps. FRAGMENT_FUZZ_VERBOSE in the environment
 * prints each input's parser, result and error text on stderr.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/fragment.h"
#include "common/sbuf.h"
#include "common/strparse.h"

/* The round trip's UpdateIdentity. */
#define RT_UID "f4a9e000-0000-4000-8000-00000000d001"
#define RT_REV 7
/* The rebuilt fragment: escaping and the attributes the builder always
 * writes can make it several times the input. */
#define RT_CAP (8 * WSD_MAX_FRAGMENT_BYTES)

/* 1601-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, as fragment.c bounds
 * File Modified. */
#define TIME_MIN INT64_C(-11644473600)
#define TIME_MAX INT64_C(253402300799)

static const char *const names[4] = { "core", "extended", "localized",
	"drivers" };
static const char *last_what = ""; /* the failing parser's err.what */
static int verbose = -1;

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			__builtin_trap();                                      \
	} while (0)

/* ------------------------------------------------------------------ */
/* What the input must be refused for, read from its bytes             */

struct scan {
	bool refuse; /* something fragment.h says is refused */
	bool broken; /* not well-formed as far as scan() can tell */
	unsigned max_depth;
};

static bool
at(struct sv s, size_t i, const char *lit)
{
	size_t l = strlen(lit);

	return s.n - i >= l && memcmp(s.p + i, lit, l) == 0;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A reference at S[I] ('&'): refused unless a character reference or one
 * of the five predefined entities. Returns the index after it. */
static size_t
reference(struct sv s, size_t i, struct scan *sc)
{
	static const char *const predef[] = { "&lt;", "&gt;", "&amp;",
		"&quot;", "&apos;" };

	if (at(s, i, "&#"))
		return i + 2;
	for (size_t k = 0; k < sizeof(predef) / sizeof(predef[0]); k++)
		if (at(s, i, predef[k]))
			return i + strlen(predef[k]);
	sc->refuse = true;
	return i + 1;
}

/*
 * A start tag at S[I] ('<' then a name start): names, attribute count,
 * namespace declarations, references in values. Returns the index after
 * '>', setting *EMPTY for "/>"; on anything unexpected marks it broken.
 */
static size_t
start_tag(struct sv s, size_t i, bool *empty, struct scan *sc)
{
	unsigned nattr = 0;
	size_t j = i + 1;

	*empty = false;
	for (; j < s.n && !is_space(s.p[j]) && s.p[j] != '>' && s.p[j] != '/';
	     j++)
		if (s.p[j] == ':')
			sc->refuse = true;
	for (;;) {
		size_t name;
		char q;

		while (j < s.n && is_space(s.p[j]))
			j++;
		if (j >= s.n)
			break;
		if (s.p[j] == '>')
			return j + 1;
		if (at(s, j, "/>")) {
			*empty = true;
			return j + 2;
		}
		name = j;
		for (; j < s.n && s.p[j] != '=' && !is_space(s.p[j]) &&
		     s.p[j] != '>' && s.p[j] != '/';
		     j++)
			if (s.p[j] == ':')
				sc->refuse = true;
		if (j - name == 5 && memcmp(s.p + name, "xmlns", 5) == 0)
			sc->refuse = true;
		if (++nattr > WSD_MAX_FRAGMENT_ATTRS)
			sc->refuse = true;
		while (j < s.n && is_space(s.p[j]))
			j++;
		if (j >= s.n || s.p[j] != '=')
			break;
		j++;
		while (j < s.n && is_space(s.p[j]))
			j++;
		if (j >= s.n || (s.p[j] != '"' && s.p[j] != '\''))
			break;
		q = s.p[j++];
		while (j < s.n && s.p[j] != q)
			j = s.p[j] == '&' ? reference(s, j, sc) : j + 1;
		if (j >= s.n)
			break;
		j++;
	}
	sc->broken = true;
	return s.n;
}

/*
 * Markup outside CDATA sections: what frag_read refuses, the element
 * depth (top-level elements are depth 1). In a well-formed fragment '<'
 * outside a CDATA section always starts markup and never occurs inside
 * a tag, so this simple walk sees what libxml2 sees.
 */
static void
scan(struct sv s, struct scan *sc)
{
	unsigned depth = 0;
	size_t i = 0;

	memset(sc, 0, sizeof(*sc));
	/* Refused before parsing, wherever they are (frag_read). */
	if (memchr(s.p, '\0', s.n) != NULL ||
	    memmem(s.p, s.n, "<!DOCTYPE", 9) != NULL ||
	    memmem(s.p, s.n, "<!ENTITY", 8) != NULL ||
	    memmem(s.p, s.n, "<?xml", 5) != NULL)
		sc->refuse = true;
	while (i < s.n && !sc->broken) {
		const char *end;
		bool empty;

		if (at(s, i, "<![CDATA[")) {
			end = memmem(s.p + i + 9, s.n - i - 9, "]]>", 3);
			if (end == NULL)
				sc->broken = true;
			else
				i = (size_t)(end - s.p) + 3;
		} else if (at(s, i, "<?") || at(s, i, "<!")) {
			/* PI, comment, DOCTYPE, stray declaration */
			sc->refuse = true;
			i += 2;
		} else if (at(s, i, "</")) {
			end = memchr(s.p + i, '>', s.n - i);
			if (end == NULL || depth == 0) {
				sc->broken = true;
				break;
			}
			depth--;
			i = (size_t)(end - s.p) + 1;
		} else if (s.p[i] == '<') {
			depth++;
			if (depth > sc->max_depth)
				sc->max_depth = depth;
			i = start_tag(s, i, &empty, sc);
			if (empty)
				depth--;
		} else if (s.p[i] == '&') {
			i = reference(s, i, sc);
		} else {
			i++;
		}
	}
	if (sc->max_depth > WSD_MAX_FRAGMENT_DEPTH)
		sc->refuse = true;
}

/* ------------------------------------------------------------------ */
/* Field checks                                                        */

static bool
guid_ok(const char *g)
{
	for (int i = 0; i < 36; i++) {
		char c = g[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			return false;
		}
	}
	return g[36] == '\0';
}

static bool
str_ok(const char *s, size_t min, size_t max)
{
	size_t n;

	if (s == NULL)
		return false;
	n = strlen(s);
	return n >= min && n <= max;
}

static bool
date_ok(int32_t date)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int y = date / 10000, m = date / 100 % 100, d = date % 100, dim;

	if (date <= 0 || y < 1 || y > 9999 || m < 1 || m > 12)
		return false;
	dim = mdays[m - 1];
	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		dim = 29;
	return d >= 1 && d <= dim;
}

/* What fragment_build_* refuse to write (fragment.c add_escaped) in
 * otherwise valid UTF-8: DEL, C1 controls, U+FFFE, U+FFFF. */
static bool
unwritable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; s != NULL && *p != '\0'; p++)
		if (*p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) ||
		    (p[0] == 0xef && p[1] == 0xbf &&
			(p[2] == 0xbe || p[2] == 0xbf)))
			return true;
	return false;
}

static bool
zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static void
check_error(int rc, const struct wsd_err *e)
{
	CHECK(rc == WSD_EINVAL || rc == WSD_ETOOBIG || rc == WSD_ENOMEM);
	CHECK(e->code == (enum wsd_errc)rc && e->what != NULL);
	last_what = e->what;
}

/* ------------------------------------------------------------------ */
/* Core                                                                */

static void
check_core(const struct fragment_core_info *ci)
{
	uint32_t clause = 0;

	CHECK(guid_ok(ci->update_id));
	CHECK(ci->revision_number <= INT32_MAX);
	CHECK(ci->type >= FRAGMENT_TYPE_SOFTWARE &&
	    ci->type <= FRAGMENT_TYPE_CATEGORY);
	CHECK(ci->n_supersedes <= WSD_MAX_FRAGMENT_RELATIONSHIPS &&
	    ci->n_prereqs <= WSD_MAX_FRAGMENT_RELATIONSHIPS &&
	    ci->n_bundled <= WSD_MAX_FRAGMENT_RELATIONSHIPS &&
	    ci->n_supersedes + ci->n_prereqs + ci->n_bundled <=
		WSD_MAX_FRAGMENT_RELATIONSHIPS);
	CHECK(ci->n_supersedes == 0 || ci->supersedes != NULL);
	CHECK(ci->n_prereqs == 0 || ci->prereqs != NULL);
	CHECK(ci->n_bundled == 0 || ci->bundled != NULL);
	for (size_t i = 0; i < ci->n_supersedes; i++)
		CHECK(guid_ok(ci->supersedes[i].s));
	/* Clauses 0, 1, ... in order, members adjacent, one kind each. */
	for (size_t i = 0; i < ci->n_prereqs; i++) {
		const struct fragment_ref_info *r = &ci->prereqs[i];

		CHECK(guid_ok(r->guid));
		if (i == 0) {
			CHECK(r->clause == 0);
		} else {
			CHECK(r->clause == clause || r->clause == clause + 1);
			if (r->clause == clause)
				CHECK(r->is_category ==
				    ci->prereqs[i - 1].is_category);
		}
		clause = r->clause;
	}
	CHECK(ci->n_prereqs == 0 ? ci->n_prereq_clauses == 0 :
				   ci->n_prereq_clauses == clause + 1);
	for (size_t i = 0; i < ci->n_bundled; i++) {
		const struct fragment_bundled_info *b = &ci->bundled[i];

		CHECK(guid_ok(b->guid));
		CHECK(b->revision <= INT32_MAX);
		CHECK(i == 0 ? b->clause == 0 :
			       (b->clause == ci->bundled[i - 1].clause ||
				   b->clause == ci->bundled[i - 1].clause + 1));
	}
	CHECK(ci->has_applicability ||
	    (!ci->has_is_installed && !ci->has_is_installable));
}

static int
run_core(struct sv in)
{
	struct fragment_core_info ci;
	struct wsd_err e = { WSD_OK, NULL };
	int rc;

	memset(&ci, 0xa5, sizeof(ci)); /* the parser must set it all */
	rc = fragment_parse_core(in.p, in.n, &ci, &e);
	if (rc != 0) {
		check_error(rc, &e);
		CHECK(zero(&ci, sizeof(ci)));
		return rc;
	}
	check_core(&ci);
	fragment_core_info_release(&ci);
	CHECK(zero(&ci, sizeof(ci)));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Extended                                                            */

static bool
file_name_ok(const char *s)
{
	if (s == NULL || s[0] == '\0' || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
			return false;
	return true;
}

static void
check_extended(const struct fragment_extended_info *ei)
{
	CHECK(ei->max_download_size <= INT64_MAX &&
	    ei->min_download_size <= INT64_MAX);
	CHECK(ei->has_download_sizes || ei->max_download_size == 0);
	CHECK(ei->msrc_severity <= FRAGMENT_SEVERITY_LOW);
	CHECK(ei->reboot_behavior <= FRAGMENT_REBOOT_CAN_REQUEST);
	CHECK(ei->impact <= FRAGMENT_IMPACT_EXCLUSIVE);
	CHECK(ei->category_type <= FRAGMENT_CAT_CLASSIFICATION);
	/* A category type comes only from cat:Category handler data. */
	CHECK(ei->category_type == FRAGMENT_CAT_NONE ||
	    (ei->handler_data_type != NULL &&
		strcmp(ei->handler_data_type, "cat:Category") == 0));
	CHECK(ei->n_files <= WSD_MAX_FRAGMENT_FILES);
	CHECK(ei->n_files == 0 || ei->files != NULL);
	for (size_t i = 0; i < ei->n_files; i++) {
		const struct fragment_file_info *f = &ei->files[i];

		CHECK(file_name_ok(f->name));
		CHECK(f->size <= INT64_MAX);
		CHECK(f->modified >= TIME_MIN && f->modified <= TIME_MAX);
		CHECK(f->has_sha256 || zero(f->sha256, sizeof(f->sha256)));
	}
}

static int
run_extended(struct sv in)
{
	struct fragment_extended_info ei;
	struct wsd_err e = { WSD_OK, NULL };
	int rc;

	memset(&ei, 0xa5, sizeof(ei));
	rc = fragment_parse_extended(in.p, in.n, &ei, &e);
	if (rc != 0) {
		check_error(rc, &e);
		CHECK(zero(&ei, sizeof(ei)));
		return rc;
	}
	check_extended(&ei);
	fragment_extended_info_release(&ei);
	CHECK(zero(&ei, sizeof(ei)));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Localized                                                           */

static int
run_localized(struct sv in)
{
	struct fragment_localized_info li;
	struct wsd_err e = { WSD_OK, NULL };
	int rc;

	memset(&li, 0xa5, sizeof(li));
	rc = fragment_parse_localized(in.p, in.n, &li, &e);
	if (rc != 0) {
		check_error(rc, &e);
		CHECK(zero(&li, sizeof(li)));
		return rc;
	}
	/* Language: [A-Za-z0-9-], 1-35; a Title. */
	CHECK(str_ok(li.language, 1, 35));
	for (const char *p = li.language; *p; p++)
		CHECK((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-');
	CHECK(str_ok(li.title, 1, WSD_MAX_FRAGMENT_BYTES));
	fragment_localized_info_release(&li);
	CHECK(zero(&li, sizeof(li)));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Drivers                                                             */

static void
check_chids(const struct fragment_guid *g, size_t n)
{
	CHECK(n <= FRAGMENT_DRIVER_MAX_CHIDS);
	CHECK(n == 0 || g != NULL);
	for (size_t i = 0; i < n; i++)
		CHECK(guid_ok(g[i].s));
}

static void
check_driver(const struct fragment_driver *d)
{
	const char *const strs[] = { d->driver_class, d->company, d->provider,
		d->manufacturer, d->model };
	uint64_t v = 0;
	char buf[24];

	CHECK(str_ok(d->hardware_id, 1, FRAGMENT_DRIVER_ID_MAX));
	CHECK(date_ok(d->date));
	/* Four 16-bit parts: formats as a.b.c.d and parses back. */
	fragment_driver_version_format(d->version, buf, sizeof(buf));
	CHECK(fragment_driver_version_parse(buf, &v) == 0 && v == d->version);
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		CHECK(str_ok(strs[i], 0, FRAGMENT_DRIVER_STR_MAX));
	check_chids(d->target_chids, d->n_target_chids);
	check_chids(d->dist_chids, d->n_dist_chids);
	CHECK(d->n_scores <= FRAGMENT_DRIVER_MAX_SCORES);
	CHECK(d->n_scores == 0 || d->scores != NULL);
	for (size_t i = 0; i < d->n_scores; i++) {
		const char *os = d->scores[i].os;
		size_t n = strnlen(os, sizeof(d->scores[i].os));

		CHECK(n >= 1 && n <= FRAGMENT_DRIVER_OS_MAX);
		for (size_t k = 0; k < n; k++)
			CHECK(os[k] < 'A' || os[k] > 'Z'); /* lower case */
	}
}

static bool
driver_unwritable(const struct fragment_driver *d)
{
	if (unwritable(d->hardware_id) || unwritable(d->driver_class) ||
	    unwritable(d->company) || unwritable(d->provider) ||
	    unwritable(d->manufacturer) || unwritable(d->model))
		return true;
	for (size_t i = 0; i < d->n_scores; i++)
		if (unwritable(d->scores[i].os))
			return true;
	return false;
}

static void
same_chids(const struct fragment_guid *a, size_t na,
    const struct fragment_guid *b, size_t nb)
{
	CHECK(na == nb);
	for (size_t i = 0; i < na; i++)
		CHECK(strcmp(a[i].s, b[i].s) == 0);
}

static void
same_driver(const struct fragment_driver *a, const struct fragment_driver *b)
{
	CHECK(strcmp(a->hardware_id, b->hardware_id) == 0);
	CHECK(a->date == b->date && a->version == b->version &&
	    a->whql_id == b->whql_id);
	CHECK(strcmp(a->driver_class, b->driver_class) == 0 &&
	    strcmp(a->company, b->company) == 0 &&
	    strcmp(a->provider, b->provider) == 0 &&
	    strcmp(a->manufacturer, b->manufacturer) == 0 &&
	    strcmp(a->model, b->model) == 0);
	same_chids(a->target_chids, a->n_target_chids, b->target_chids,
	    b->n_target_chids);
	same_chids(a->dist_chids, a->n_dist_chids, b->dist_chids,
	    b->n_dist_chids);
	CHECK(a->n_scores == b->n_scores);
	for (size_t i = 0; i < a->n_scores; i++)
		CHECK(strcmp(a->scores[i].os, b->scores[i].os) == 0 &&
		    a->scores[i].score == b->scores[i].score);
}

/* Builds a driver core fragment of D[0 .. N) and parses it back. */
static void
round_trip(const struct fragment_driver *d, size_t n)
{
	struct fragment_update u;
	struct fragment_core_info ci;
	struct fragment_driver *d2 = NULL;
	struct wsd_err e = { WSD_OK, NULL };
	struct sbuf sb;
	bool refusable = false;
	size_t n2 = 0;
	int rc;

	memset(&u, 0, sizeof(u));
	u.update_id = RT_UID;
	u.revision_number = RT_REV;
	u.type = FRAGMENT_TYPE_DRIVER;
	u.rules = FRAGMENT_RULES_DEFAULT;
	u.drivers = d;
	u.n_drivers = n;
	for (size_t i = 0; i < n && !refusable; i++)
		refusable = driver_unwritable(&d[i]);
	sbuf_init(&sb, RT_CAP);
	rc = fragment_build_core(&sb, &u, &e);
	if (rc != 0) {
		CHECK(rc == WSD_EINVAL && refusable && e.what != NULL);
		CHECK(sb.sb_len == 0);
		sbuf_release(&sb);
		return;
	}
	/* A rebuilt fragment over the parsers' cap cannot come back. */
	if (sb.sb_len > WSD_MAX_FRAGMENT_BYTES) {
		sbuf_release(&sb);
		return;
	}

	rc = fragment_parse_core(sb.sb_buf, sb.sb_len, &ci, &e);
	CHECK(rc == 0);
	CHECK(ci.type == FRAGMENT_TYPE_DRIVER && ci.revision_number == RT_REV &&
	    strcmp(ci.update_id, RT_UID) == 0 && ci.has_is_installed &&
	    ci.has_is_installable);
	fragment_core_info_release(&ci);

	rc = fragment_parse_drivers(sb.sb_buf, sb.sb_len, &d2, &n2, &e);
	CHECK(rc == 0 && n2 == n && d2 != NULL);
	for (size_t i = 0; i < n; i++)
		same_driver(&d[i], &d2[i]);
	fragment_drivers_release(d2, n2);
	sbuf_release(&sb);
}

static int
run_drivers(struct sv in)
{
	static struct fragment_driver dummy;
	struct fragment_core_info ci;
	struct fragment_driver *d = &dummy; /* must be overwritten */
	struct wsd_err e = { WSD_OK, NULL }, ce = { WSD_OK, NULL };
	size_t n = 12345;
	int rc, crc;

	rc = fragment_parse_drivers(in.p, in.n, &d, &n, &e);
	/* The whole fragment gets fragment_parse_core's checks first. */
	crc = fragment_parse_core(in.p, in.n, &ci, &ce);
	if (crc == 0)
		fragment_core_info_release(&ci);
	if (rc != 0) {
		check_error(rc, &e);
		CHECK(d == NULL && n == 0);
		CHECK(crc == 0 || crc == rc);
		return rc;
	}
	CHECK(crc == 0);
	CHECK(n <= FRAGMENT_DRIVER_MAX_ENTRIES);
	CHECK((n == 0) == (d == NULL));
	for (size_t i = 0; i < n; i++)
		check_driver(&d[i]);
	if (n > 0)
		round_trip(d, n);
	fragment_drivers_release(d, n);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int (*const run[4])(struct sv) = { run_core, run_extended,
		run_localized, run_drivers };
	struct scan sc;
	struct sv in;
	int rc;

	if (verbose < 0)
		verbose = getenv("FRAGMENT_FUZZ_VERBOSE") != NULL;
	if (size < 1)
		return 0;
	in.p = (const char *)data + 1;
	in.n = size - 1;
	rc = run[data[0] & 3](in);
	if (verbose)
		fprintf(stderr, "fuzz_fragment: %s %d %s\n", names[data[0] & 3],
		    rc, rc == 0 ? "" : last_what);
	/* What fragment.h says is refused never parses. */
	scan(in, &sc);
	if (sc.refuse && !sc.broken && rc == 0)
		__builtin_trap();
	return 0;
}
