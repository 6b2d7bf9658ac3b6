#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

#include "catalog/fragment.h"
#include "catalog/update_doc.h"
#include "common/encode.h"
#include "common/sbuf.h"
#include "store/store.h"

/* The shared protocol directory sits beside the repository (../shared). */
#define VECTORS                                                                \
	TEST_SRCDIR "/../shared/protocol/vectors/native-capture-wsus-rs/"

#define CAP    (4 * 1024 * 1024)
#define NS_UPD "http://schemas.microsoft.com/msus/2002/12/Update"
#define DOC_OPEN                                                               \
	"<upd:Update xmlns:upd=\"" NS_UPD "\" xmlns:bar=\"http://schemas."     \
	"microsoft.com/msus/2002/12/BaseApplicabilityRules\" xmlns:xsi=\""     \
	"http://www.w3.org/2001/XMLSchema-instance\">"
#define ID_A                                                                   \
	"<upd:UpdateIdentity "                                                 \
	"UpdateID=\"a0a0a0a0-0000-0000-0000-0000000000a1\" "                   \
	"RevisionNumber=\"3\" />"
#define PROPS_A "<upd:Properties UpdateType=\"Software\" />"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static char *
slurp(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		fail_msg("capture not found: %s (the shared protocol dir must "
			 "sit beside the repository as ../shared)",
		    path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0 && n < 16 * 1024 * 1024);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	if (lenp != NULL)
		*lenp = (size_t)n;
	return buf;
}

/* The revision of one update: its stored fragments. */
struct rev {
	const char *core;
	const char *ext; /* NULL: none */
	unsigned n_loc;
	const char *loc[4];
	const char *lang[4];
};

static void
rev_in(const struct rev *r, struct store_revision_in *in,
    struct store_localized *sl)
{
	memset(in, 0, sizeof(*in));
	in->xml_core = r->core;
	in->xml_core_len = strlen(r->core);
	in->xml_extended = r->ext;
	in->xml_extended_len = r->ext != NULL ? strlen(r->ext) : 0;
	for (unsigned i = 0; i < r->n_loc; i++)
		sl[i] = (struct store_localized){ r->lang[i], "t", r->loc[i],
			strlen(r->loc[i]) };
	in->n_localized = r->n_loc;
	in->localized = sl;
}

/* The built document: one line, namespace well-formed, upd:Update. */
static void
assert_document(const struct sbuf *sb)
{
	xmlParserCtxt *ctxt;
	xmlDoc *doc;
	xmlNode *root;

	assert_null(memchr(sb->sb_buf, '\n', sb->sb_len));
	assert_int_equal(strncmp(sb->sb_buf, "<upd:Update ", 12), 0);
	ctxt = xmlNewParserCtxt();
	assert_non_null(ctxt);
	doc = xmlCtxtReadMemory(ctxt, sb->sb_buf, (int)sb->sb_len, NULL,
	    "UTF-8", XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	assert_non_null(doc);
	assert_int_equal(ctxt->wellFormed, 1);
	assert_int_equal(ctxt->nsWellFormed, 1);
	xmlFreeParserCtxt(ctxt);
	root = xmlDocGetRootElement(doc);
	assert_string_equal((const char *)root->name, "Update");
	assert_non_null(root->ns);
	assert_string_equal((const char *)root->ns->href, NS_UPD);
	xmlFreeDoc(doc);
}

/*
 * build, then split: the same fragments byte for byte. *DOC (if not
 * NULL) gets the document, *P (if not NULL) the parts.
 */
static void
round_trip(const struct rev *r, char **doc, struct update_doc_parts *pp)
{
	struct store_localized sl[4];
	struct store_revision_in in;
	struct update_doc_parts p;
	struct wsd_err e = { WSD_OK, NULL };
	struct sbuf sb;
	int rc;

	rev_in(r, &in, sl);
	sbuf_init(&sb, 2 * UPDATE_DOC_MAX_BYTES);
	rc = update_doc_build(&sb, &in, &e);
	if (rc != 0)
		fail_msg("build: %s", e.what);
	assert_document(&sb);
	rc = update_doc_split(sb.sb_buf, sb.sb_len, &p, &e);
	if (rc != 0)
		fail_msg("split: %s\n%s", e.what, sb.sb_buf);
	assert_string_equal(p.core, r->core);
	assert_int_equal(p.core_len, strlen(r->core));
	if (r->ext == NULL) {
		assert_null(p.extended);
	} else {
		assert_non_null(p.extended);
		assert_string_equal(p.extended, r->ext);
		assert_int_equal(p.extended_len, strlen(r->ext));
	}
	assert_int_equal(p.n_localized, r->n_loc);
	for (unsigned i = 0; i < r->n_loc; i++) {
		assert_string_equal(p.localized[i].xml, r->loc[i]);
		assert_int_equal(p.localized[i].xml_len, strlen(r->loc[i]));
		assert_string_equal(p.localized[i].language, r->lang[i]);
	}
	if (pp != NULL)
		*pp = p;
	else
		update_doc_parts_release(&p);
	if (doc != NULL)
		*doc = sbuf_detach(&sb, NULL);
	sbuf_release(&sb);
}

static char *
take(struct sbuf *sb)
{
	char *s = sbuf_detach(sb, NULL);

	assert_non_null(s);
	return s;
}

static void
digest(const char *alg, const char *s, unsigned char *out)
{
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(s, strlen(s), out, &n,
			     EVP_get_digestbyname(alg), NULL),
	    1);
}

/* ------------------------------------------------------------------ */
/* A published software update: files, prerequisites, bundle,          */
/* supersedes, custom rules, a command line, two languages             */

static const struct fragment_prereq sw_cat[] = {
	{ "0fa1201d-4330-4fa8-8ae9-b877473b6441", true },
	{ "cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83", true },
};
static const struct fragment_prereq sw_prod[] = {
	{ "a0a0a0a0-0000-0000-0000-00000000c0de", true },
};
static const struct fragment_prereq sw_det[] = {
	{ "a0a0a0a0-0000-0000-0000-000000000001", false },
};
static const struct fragment_prereq sw_or[] = {
	{ "a0a0a0a0-0000-0000-0000-000000000002", false },
	{ "a0a0a0a0-0000-0000-0000-000000000003", false },
};
static const struct fragment_clause sw_clauses[] = {
	{ sw_cat, 2 },
	{ sw_prod, 1 },
	{ sw_det, 1 },
	{ sw_or, 2 },
};
static const char *const sw_sup[] = {
	"a0a0a0a0-0000-0000-0000-000000000009",
	"a0a0a0a0-0000-0000-0000-00000000000a",
};
static const struct fragment_bundled sw_bundle[] = {
	{ "b0b0b0b0-0000-0000-0000-000000000001", 100, 0 },
	{ "b0b0b0b0-0000-0000-0000-000000000002", 101, 0 },
	{ "b0b0b0b0-0000-0000-0000-000000000003", 7, 1 },
};
static const struct fragment_return_code sw_codes[] = {
	{ 0, FRAGMENT_RESULT_SUCCEEDED, FRAGMENT_UNSET },
	{ 3010, FRAGMENT_RESULT_SUCCEEDED, FRAGMENT_TRUE },
};
static const struct fragment_cmdline sw_cmd = {
	.program = "tool.exe",
	.arguments = "/q \"C:\\a b\" & <x>",
	.reboot_by_default = FRAGMENT_FALSE,
	.default_result = FRAGMENT_RESULT_FAILED,
	.codes = sw_codes,
	.n_codes = 2,
};

#define SW_ID "A0A0A0A0-0000-0000-0000-000000000042"

static void
software(struct rev *r, const char *is_installable)
{
	static struct fragment_file f[2];
	struct fragment_update u;
	struct fragment_localized l;
	struct wsd_err e;
	struct sbuf sb;

	memset(f, 0, sizeof(f));
	f[0].name = "tool.exe";
	f[0].size = 3;
	f[0].modified = 1790000000;
	digest("SHA1", "abc", f[0].sha1);
	digest("SHA256", "abc", f[0].sha256);
	f[1].name = "tool-x64 (1).msu";
	f[1].size = 123456789;
	f[1].modified = 0;
	f[1].patching_type = "SelfContained";
	digest("SHA1", "def", f[1].sha1);
	digest("SHA256", "def", f[1].sha256);

	memset(&u, 0, sizeof(u));
	u.update_id = SW_ID;
	u.revision_number = 204;
	u.type = FRAGMENT_TYPE_SOFTWARE;
	u.explicitly_deployable = true;
	u.auto_select_on_web_sites = true;
	u.supersedes = sw_sup;
	u.n_supersedes = 2;
	u.prereqs = sw_clauses;
	u.n_prereqs = 4;
	u.bundled = sw_bundle;
	u.n_bundled = 3;
	u.rules = FRAGMENT_RULES_CUSTOM;
	u.is_installed = "<b.RegDword Key=\"HKEY_LOCAL_MACHINE\" "
			 "Subkey=\"SOFTWARE\\Tool\" Value=\"Ver\" "
			 "Comparison=\"EqualTo\" Data=\"1\" />";
	u.is_installable = is_installable;
	u.default_language = "de";
	u.handler = FRAGMENT_HANDLER_CMDLINE;
	u.has_download_sizes = true;
	u.max_download_size = 123456792;
	u.min_download_size = 3;
	u.msrc_severity = FRAGMENT_SEVERITY_CRITICAL;
	u.reboot_behavior = FRAGMENT_REBOOT_CAN_REQUEST;
	u.impact = FRAGMENT_IMPACT_MINOR;
	u.support_url = "https://example.test/kb?a=1&b=2";
	u.security_bulletin_id = "MS26-001";
	u.kb_article_id = "5012345";
	u.files = f;
	u.n_files = 2;
	u.cmdline = &sw_cmd;

	memset(r, 0, sizeof(*r));
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_core(&sb, &u, &e), 0);
	r->core = take(&sb);
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_extended(&sb, &u, &e), 0);
	r->ext = take(&sb);
	l = (struct fragment_localized){ .language = "en",
		.title = "Tool \"1.0\" <x64> & more",
		.description = "Line one.\nLine two.\ttabbed\r\n",
		.uninstall_notes = "Remove it.",
		.more_info_url = "https://example.test/?q=1&r=2",
		.support_url = "https://example.test/support" };
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_localized(&sb, &l, &e), 0);
	r->loc[0] = take(&sb);
	r->lang[0] = "en";
	l = (struct fragment_localized){ .language = "de",
		.title = "Werkzeug \xc3\xbc\xe2\x82\xac \xf0\x9f\x98\x80",
		.description = " " };
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_localized(&sb, &l, &e), 0);
	r->loc[1] = take(&sb);
	r->lang[1] = "de";
	r->n_loc = 2;
}

/* Frees what the struct rev keeps as const. */
static void
cfree(const char *p)
{
	free((void *)(uintptr_t)p);
}

static void
rev_free(struct rev *r)
{
	cfree(r->core);
	cfree(r->ext);
	for (unsigned i = 0; i < r->n_loc; i++)
		cfree(r->loc[i]);
}

static void
test_software(void **state)
{
	struct update_doc_parts p;
	struct store_revision_in rv;
	struct update_doc_hold *h;
	struct wsd_err e;
	struct rev r;
	char *doc;

	(void)state;
	software(&r,
	    "<And><b.WindowsVersion Comparison=\"GreaterThanOrEqualTo\" "
	    "MajorVersion=\"10\" /><Not><m.MsiProductInstalled "
	    "ProductCode=\"{11111111-2222-3333-4444-555555555555}\" />"
	    "</Not><Or><False /><CbsPackageInstalled Name=\"x\" /></Or>"
	    "</And>");
	round_trip(&r, &doc, &p);

	/* The document has the element order and namespaces chosen. */
	{
		const char *order[] = { "<upd:UpdateIdentity ",
			"<upd:Properties UpdateType=\"Software\" "
			"ExplicitlyDeployable=\"true\" "
			"AutoSelectOnWebSites=\"true\" "
			"DefaultPropertiesLanguage=\"de\" ",
			"<upd:InstallationBehavior ", "</upd:Properties>",
			"<upd:LocalizedPropertiesCollection>"
			"<upd:LocalizedProperties><upd:Language>en",
			"<upd:Relationships>", "<upd:ApplicabilityRules>",
			"<bar:RegDword ", "<lar:And>", "<bar:WindowsVersion ",
			"<mar:MsiProductInstalled ",
			"<upd:CbsPackageInstalled ", "<upd:Files>",
			"<upd:HandlerSpecificData "
			"xsi:type=\"cmd:CommandLineInstallation\">"
			"<cmd:InstallCommand ",
			"</upd:Update>" };
		const char *at = doc;

		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			const char *n = strstr(at, order[i]);

			if (n == NULL)
				fail_msg("missing or out of order: %s",
				    order[i]);
			at = n;
		}
	}
	free(doc);

	/* What the store gets. */
	assert_int_equal(update_doc_revision(&p, "upstream", &rv, &h, &e), 0);
	assert_string_equal(rv.update_id,
	    "a0a0a0a0-0000-0000-0000-000000000042");
	assert_int_equal(rv.revision_number, 204);
	assert_string_equal(rv.update_type, "Software");
	assert_null(rv.category_type);
	assert_string_equal(rv.origin, "upstream");
	assert_true(rv.explicitly_deployable);
	assert_true(rv.is_leaf);
	assert_true(rv.is_bundle);
	assert_string_equal(rv.kb_article, "5012345");
	assert_string_equal(rv.msrc_severity, "Critical");
	assert_null(rv.eula_id);
	/* DefaultPropertiesLanguage is de. */
	assert_string_equal(rv.title,
	    "Werkzeug \xc3\xbc\xe2\x82\xac \xf0\x9f\x98\x80");
	assert_ptr_equal(rv.xml_core, p.core);
	assert_ptr_equal(rv.xml_extended, p.extended);
	assert_int_equal(rv.n_localized, 2);
	assert_string_equal(rv.localized[0].language, "en");
	assert_string_equal(rv.localized[0].title, "Tool \"1.0\" <x64> & more");
	assert_ptr_equal(rv.localized[1].xml, p.localized[1].xml);
	assert_int_equal(rv.n_files, 2);
	assert_string_equal(rv.files[0].file_name, "tool.exe");
	assert_int_equal(rv.files[0].size, 3);
	assert_string_equal(rv.files[0].modified, "2026-09-21T14:13:20Z");
	assert_null(rv.files[0].patching_type);
	assert_true(rv.files[0].has_sha256);
	{
		unsigned char d[32];

		digest("SHA1", "abc", d);
		assert_memory_equal(rv.files[0].sha1, d, 20);
		digest("SHA256", "def", d);
		assert_memory_equal(rv.files[1].sha256, d, 32);
	}
	assert_string_equal(rv.files[1].file_name, "tool-x64 (1).msu");
	assert_int_equal(rv.files[1].size, 123456789);
	assert_string_equal(rv.files[1].modified, "1970-01-01T00:00:00Z");
	assert_string_equal(rv.files[1].patching_type, "SelfContained");
	/* Categories: the category prerequisites, in order. */
	assert_int_equal(rv.n_categories, 3);
	assert_string_equal(rv.categories[0],
	    "0fa1201d-4330-4fa8-8ae9-b877473b6441");
	assert_string_equal(rv.categories[2],
	    "a0a0a0a0-0000-0000-0000-00000000c0de");
	assert_int_equal(rv.n_prereqs, 6);
	assert_false(rv.prereqs[0].is_category); /* direct members first */
	assert_string_equal(rv.prereqs[0].update_id,
	    "a0a0a0a0-0000-0000-0000-000000000001");
	assert_true(rv.prereqs[1].is_category);
	assert_int_equal(rv.prereqs[1].clause, rv.prereqs[2].clause);
	assert_int_equal(rv.n_bundle, 3);
	assert_int_equal(rv.bundle[1].revision_number, 101);
	assert_int_equal(rv.bundle[1].clause, 0);
	assert_int_equal(rv.bundle[2].clause, 1);
	assert_int_equal(rv.n_supersedes, 2);
	assert_string_equal(rv.supersedes[1],
	    "a0a0a0a0-0000-0000-0000-00000000000a");
	update_doc_revision_release(h);
	update_doc_parts_release(&p);
	assert_null(p.core);
	update_doc_parts_release(&p); /* twice: NULL-safe, empty */
	rev_free(&r);

	/* The default rules; no extended fragment; no languages. */
	software(&r, NULL);
	cfree(r.ext);
	r.ext = NULL;
	round_trip(&r, NULL, NULL);
	r.n_loc = 0;
	round_trip(&r, NULL, NULL);
	r.n_loc = 2;
	rev_free(&r);
}

/* EulaID in the core Properties; OSUpgrade too. */
static void
test_eula(void **state)
{
	static const char core[] =
	    "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-0000000000e1\""
	    " RevisionNumber=\"1\" /><Properties UpdateType=\"Software\" "
	    "EulaID=\"C0C0C0C0-0000-0000-0000-000000000001\" "
	    "OSUpgrade=\"Upgrade\" />";
	static const char ext[] =
	    "<ExtendedProperties DefaultPropertiesLanguage=\"fr\" "
	    "PackageRank=\"5\"><EulaFile Language=\"en\" FileDigest=\"x\" />"
	    "</ExtendedProperties>";
	static const char loc_de[] =
	    "<LocalizedProperties><Language>de</Language><Title>Deutsch"
	    "</Title></LocalizedProperties>";
	static const char loc_en[] =
	    "<LocalizedProperties><Language>en</Language><Title>English"
	    "</Title></LocalizedProperties>";
	struct rev r = { core, ext, 2, { loc_de, loc_en }, { "de", "en" } };
	struct update_doc_parts p;
	struct store_revision_in rv;
	struct update_doc_hold *h;
	struct wsd_err e;

	(void)state;
	round_trip(&r, NULL, &p);
	assert_int_equal(update_doc_revision(&p, "upstream", &rv, &h, &e), 0);
	assert_string_equal(rv.eula_id, "c0c0c0c0-0000-0000-0000-000000000001");
	/* No "fr": "en", not the first. */
	assert_string_equal(rv.title, "English");
	assert_false(rv.is_bundle);
	assert_null(rv.kb_article);
	assert_null(rv.msrc_severity);
	assert_int_equal(rv.n_files, 0);
	update_doc_revision_release(h);
	update_doc_parts_release(&p);

	/* Neither: the first. */
	r.n_loc = 1;
	round_trip(&r, NULL, &p);
	assert_int_equal(update_doc_revision(&p, "import", &rv, &h, &e), 0);
	assert_string_equal(rv.title, "Deutsch");
	update_doc_revision_release(h);
	update_doc_parts_release(&p);
}

/* ------------------------------------------------------------------ */
/* A driver, a detectoid, categories                                   */

static void
test_driver(void **state)
{
	static char hwid[] = "USB\\VID_8087&PID_0A2B";
	static char cls[] = "Bluetooth", co[] = "Intel <Corp> & \"Co\"";
	static char empty[] = "";
	static struct fragment_guid chids[] = {
		{ "3962b55f-f768-58cb-9ca2-b5d61a1fdbae" },
		{ "11111111-f768-58cb-9ca2-b5d61a1fdbae" },
	};
	static struct fragment_driver_score sc[] = { { "amd64.10.0", 0xff },
		{ "x86.10.0", 0x1 } };
	struct fragment_driver d[2];
	struct fragment_update u;
	struct fragment_localized l = { .language = "en", .title = "Drv" };
	struct update_doc_parts p;
	struct store_revision_in rv;
	struct update_doc_hold *h;
	struct fragment_driver *pd;
	size_t n;
	struct wsd_err e;
	struct sbuf sb;
	struct rev r;
	char *doc;

	(void)state;
	memset(d, 0, sizeof(d));
	for (int i = 0; i < 2; i++) {
		d[i].hardware_id = hwid;
		d[i].date = 20220530 + i;
		d[i].version = UINT64_C(0x0016009600000006) + (uint64_t)i;
		d[i].whql_id = 77;
		d[i].driver_class = cls;
		d[i].company = co;
		d[i].provider = co;
		d[i].manufacturer = co;
		d[i].model = empty;
	}
	d[0].target_chids = chids;
	d[0].n_target_chids = 2;
	d[0].dist_chids = chids + 1;
	d[0].n_dist_chids = 1;
	d[0].scores = sc;
	d[0].n_scores = 2;
	memset(&u, 0, sizeof(u));
	u.update_id = "d0d0d0d0-0000-0000-0000-000000000001";
	u.revision_number = 200;
	u.type = FRAGMENT_TYPE_DRIVER;
	u.explicitly_deployable = true;
	u.drivers = d;
	u.n_drivers = 2;
	u.prereqs = sw_clauses;
	u.n_prereqs = 1;
	u.handler = FRAGMENT_HANDLER_DRIVER;
	memset(&r, 0, sizeof(r));
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_core(&sb, &u, &e), 0);
	r.core = take(&sb);
	assert_non_null(strstr(r.core, "<d.WindowsDriverMetaData "));
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_extended(&sb, &u, &e), 0);
	r.ext = take(&sb);
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_localized(&sb, &l, &e), 0);
	r.loc[0] = take(&sb);
	r.lang[0] = "en";
	r.n_loc = 1;
	round_trip(&r, &doc, &p);
	assert_non_null(
	    strstr(doc, "<upd:Metadata><drv:WindowsDriverMetaData "));
	assert_non_null(strstr(doc, "<drv:FeatureScore "));
	assert_null(strstr(doc, "d.")); /* no dotted name in the document */
	free(doc);
	assert_int_equal(fragment_parse_drivers(p.core, p.core_len, &pd, &n,
			     &e),
	    0);
	assert_int_equal(n, 2);
	assert_string_equal(pd[0].company, co);
	fragment_drivers_release(pd, n);
	assert_int_equal(update_doc_revision(&p, "upstream", &rv, &h, &e), 0);
	assert_string_equal(rv.update_type, "Driver");
	assert_true(rv.is_leaf);
	assert_int_equal(rv.n_categories, 2);
	update_doc_revision_release(h);
	update_doc_parts_release(&p);
	rev_free(&r);
}

static void
test_detectoid(void **state)
{
	struct fragment_update u;
	struct fragment_localized l = { .language = "en",
		.title = "Windows 11 x64" };
	struct update_doc_parts p;
	struct store_revision_in rv;
	struct update_doc_hold *h;
	struct wsd_err e;
	struct sbuf sb;
	struct rev r;

	(void)state;
	memset(&u, 0, sizeof(u));
	u.update_id = "de7ec701-0000-0000-0000-000000000001";
	u.revision_number = 1;
	u.type = FRAGMENT_TYPE_DETECTOID;
	u.rules = FRAGMENT_RULES_CUSTOM;
	u.is_installed = "<And>\n  <b.WindowsVersion MajorVersion='10' "
			 "BuildNumber=\"22000\" Comparison=\"GreaterThan"
			 "OrEqualTo\"/>\n  <b.Processor Architecture=\"9\" />"
			 "\n</And>";
	memset(&r, 0, sizeof(r));
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_core(&sb, &u, &e), 0);
	r.core = take(&sb);
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_extended(&sb, &u, &e), 0);
	r.ext = take(&sb);
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_localized(&sb, &l, &e), 0);
	r.loc[0] = take(&sb);
	r.lang[0] = "en";
	r.n_loc = 1;
	round_trip(&r, NULL, &p);
	assert_int_equal(update_doc_revision(&p, "upstream", &rv, &h, &e), 0);
	assert_string_equal(rv.update_type, "Detectoid");
	assert_false(rv.explicitly_deployable);
	assert_int_equal(rv.n_prereqs, 0);
	assert_null(rv.prereqs);
	assert_string_equal(rv.title, "Windows 11 x64");
	update_doc_revision_release(h);
	update_doc_parts_release(&p);
	rev_free(&r);
}

static void
test_categories(void **state)
{
	static const enum fragment_category_type types[] = {
		FRAGMENT_CAT_COMPANY, FRAGMENT_CAT_PRODUCT_FAMILY,
		FRAGMENT_CAT_PRODUCT, FRAGMENT_CAT_CLASSIFICATION
	};
	static const char *const ids[] = {
		"ca700000-0000-0000-0000-000000000001",
		"ca700000-0000-0000-0000-000000000002",
		"ca700000-0000-0000-0000-000000000003",
		"ca700000-0000-0000-0000-000000000004",
	};

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		struct fragment_category c = { .update_id = ids[i],
			.revision_number = 10 + (uint32_t)i,
			.type = types[i],
			.parent_id = i == 0 || i == 3 ? NULL : ids[i - 1],
			.prohibits_subcategories =
			    i == 2 ? FRAGMENT_TRUE : FRAGMENT_FALSE,
			.prohibits_updates =
			    i == 2 ? FRAGMENT_UNSET : FRAGMENT_TRUE,
			.excluded_by_default =
			    i == 3 ? FRAGMENT_TRUE : FRAGMENT_UNSET,
			.has_display_order = i < 2,
			.display_order = (uint32_t)i + 1,
			.is_installed = i == 1 ? "<b.WindowsVersion "
						 "MajorVersion=\"6\" />"
					       : NULL };
		struct update_doc_parts p;
		struct store_revision_in rv;
		struct update_doc_hold *h;
		struct wsd_err e;
		struct sbuf sb;
		struct rev r;
		char *doc;

		memset(&r, 0, sizeof(r));
		sbuf_init(&sb, CAP);
		assert_int_equal(fragment_build_category_core(&sb, &c, &e), 0);
		r.core = take(&sb);
		sbuf_init(&sb, CAP);
		assert_int_equal(fragment_build_category_extended(&sb, &c, &e),
		    0);
		r.ext = take(&sb);
		sbuf_init(&sb, CAP);
		assert_int_equal(fragment_build_category_localized(&sb, "en",
				     "Cat & Co", "A <category>", &e),
		    0);
		r.loc[0] = take(&sb);
		r.lang[0] = "en";
		r.n_loc = 1;
		round_trip(&r, &doc, &p);
		assert_non_null(strstr(doc,
		    "<upd:HandlerSpecificData xsi:type=\"cat:Category\">"
		    "<cat:CategoryInformation CategoryType=\""));
		free(doc);
		assert_int_equal(update_doc_revision(&p, "upstream", &rv, &h,
				     &e),
		    0);
		assert_string_equal(rv.update_type, "Category");
		assert_string_equal(rv.category_type,
		    fragment_category_type_name(types[i]));
		assert_false(rv.is_leaf);
		assert_string_equal(rv.title, "Cat & Co");
		if (c.parent_id == NULL) {
			assert_int_equal(rv.n_categories, 0);
		} else {
			assert_int_equal(rv.n_categories, 1);
			assert_string_equal(rv.categories[0], c.parent_id);
			assert_int_equal(rv.n_prereqs, 1);
			assert_true(rv.prereqs[0].is_category);
		}
		update_doc_revision_release(h);
		update_doc_parts_release(&p);
		rev_free(&r);
	}
}

/* ------------------------------------------------------------------ */
/* The captured fragments                                              */

struct capfrag {
	char id[16];
	char *xml;
};

struct caplist {
	struct capfrag f[128];
	size_t n;
};

/* Every (ID, Xml) pair of a SOAP response body, Xml unescaped. */
static void
capture_all(const char *rel, struct caplist *cl)
{
	char path[1024];
	xmlDoc *doc;
	xmlNode *stack[64];
	int sp = 0;
	char *body;
	size_t len;

	snprintf(path, sizeof(path), "%s%s/response.body", VECTORS, rel);
	body = slurp(path, &len);
	doc = xmlReadMemory(body, (int)len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	free(body);
	assert_non_null(doc);
	stack[sp++] = xmlDocGetRootElement(doc);
	while (sp > 0) {
		xmlNode *n = stack[--sp], *idn = NULL, *xmln = NULL;

		for (xmlNode *c = n->children; c != NULL; c = c->next) {
			if (c->type != XML_ELEMENT_NODE)
				continue;
			if (strcmp((const char *)c->name, "ID") == 0)
				idn = c;
			else if (strcmp((const char *)c->name, "Xml") == 0)
				xmln = c;
			else if (sp < 64)
				stack[sp++] = c;
		}
		if (idn != NULL && xmln != NULL) {
			xmlChar *i = xmlNodeGetContent(idn);
			xmlChar *x = xmlNodeGetContent(xmln);

			assert_true(cl->n < 128);
			assert_true(strlen((const char *)i) < 16);
			strcpy(cl->f[cl->n].id, (const char *)i);
			cl->f[cl->n].xml = strdup((const char *)x);
			assert_non_null(cl->f[cl->n].xml);
			cl->n++;
			xmlFree(i);
			xmlFree(x);
		}
	}
	xmlFreeDoc(doc);
}

static void
test_captures(void **state)
{
	static const char *const core_caps[] = { "scan/000006", "scan/000007",
		"scan/000008", "flow/000001", "flow/000012", "flow/000003",
		"flow/000013" };
	static const char *const ext_caps[] = { "scan/000010", "flow/000015" };
	static const char filler[] =
	    "<UpdateIdentity UpdateID=\"f1f1f1f1-0000-0000-0000-000000000001\""
	    " RevisionNumber=\"1\" /><Properties UpdateType=\"Software\" />";
	struct caplist *cores, *exts;
	size_t used_ext = 0, n_core = 0, paired = 0;
	bool *used;

	(void)state;
	cores = calloc(1, sizeof(*cores));
	exts = calloc(1, sizeof(*exts));
	assert_non_null(cores);
	assert_non_null(exts);
	for (size_t i = 0; i < sizeof(core_caps) / sizeof(core_caps[0]); i++)
		capture_all(core_caps[i], cores);
	for (size_t i = 0; i < sizeof(ext_caps) / sizeof(ext_caps[0]); i++)
		capture_all(ext_caps[i], exts);
	assert_true(cores->n >= 70);
	assert_true(exts->n >= 40);
	used = calloc(exts->n, sizeof(*used));
	assert_non_null(used);

	/* Each core with the extended and localized fragments of its ID. */
	for (size_t i = 0; i < cores->n; i++) {
		struct rev r = { cores->f[i].xml, NULL, 0, { NULL }, { NULL } };
		struct update_doc_parts p;
		struct store_revision_in rv;
		struct update_doc_hold *h;
		struct wsd_err e;

		assert_int_equal(strncmp(r.core, "<UpdateIdentity", 15), 0);
		for (size_t k = 0; k < exts->n; k++) {
			if (strcmp(exts->f[k].id, cores->f[i].id) != 0)
				continue;
			if (strncmp(exts->f[k].xml, "<Ext", 4) == 0) {
				r.ext = exts->f[k].xml;
			} else if (r.n_loc < 4) {
				r.loc[r.n_loc] = exts->f[k].xml;
				r.lang[r.n_loc++] = "en";
			}
			used[k] = true;
		}
		if (r.ext != NULL)
			paired++;
		round_trip(&r, NULL, &p);
		if (update_doc_revision(&p, "upstream", &rv, &h, &e) != 0)
			fail_msg("revision of capture %s: %s", cores->f[i].id,
			    e.what);
		assert_int_equal(rv.n_localized, r.n_loc);
		update_doc_revision_release(h);
		update_doc_parts_release(&p);
		n_core++;
	}
	/* The rest with a filler core, so every captured fragment comes
	 * back. */
	for (size_t k = 0; k < exts->n; k++) {
		struct rev r = { filler, NULL, 0, { NULL }, { NULL } };

		if (used[k])
			continue;
		if (strncmp(exts->f[k].xml, "<Ext", 4) == 0) {
			r.ext = exts->f[k].xml;
		} else {
			r.loc[0] = exts->f[k].xml;
			r.lang[0] = "en";
			r.n_loc = 1;
		}
		round_trip(&r, NULL, NULL);
		used_ext++;
	}
	assert_true(paired >= 4); /* the Defender updates of flow/000012 */
	assert_true(n_core >= 70);
	assert_true(used_ext > 0);
	for (size_t i = 0; i < cores->n; i++)
		free(cores->f[i].xml);
	for (size_t i = 0; i < exts->n; i++)
		free(exts->f[i].xml);
	free(used);
	free(cores);
	free(exts);
}

/* ------------------------------------------------------------------ */
/* Foreign documents: canonical fragments                              */

static void
split_ok(const char *doc, const char *core, const char *ext)
{
	struct update_doc_parts p;
	struct wsd_err e;

	if (update_doc_split(doc, strlen(doc), &p, &e) != 0)
		fail_msg("split: %s", e.what);
	assert_string_equal(p.core, core);
	if (ext == NULL)
		assert_null(p.extended);
	else
		assert_string_equal(p.extended, ext);
	update_doc_parts_release(&p);
}

static void
test_split_foreign(void **state)
{
	(void)state;
	/* Any prefix for the three dotted namespaces; others stripped;
	 * pretty-printed, single quotes, CDATA, empty pairs; the Properties
	 * split (PublicationState etc. dropped); xsi:type is type; an
	 * unknown top-level element skipped; an XML declaration. */
	split_ok("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		 "<u:Update xmlns:u='" NS_UPD "'\n"
		 "  xmlns:x='http://schemas.microsoft.com/msus/2002/12/"
		 "BaseApplicabilityRules'\n"
		 "  xmlns:m2='http://schemas.microsoft.com/msus/2002/12/"
		 "MsiApplicabilityRules'\n"
		 "  xmlns:cbs='urn:example:cbs'\n"
		 "  xmlns:i='http://www.w3.org/2001/XMLSchema-instance'\n"
		 "  xmlns:c='http://schemas.microsoft.com/msus/2002/12/"
		 "UpdateHandlers/CommandLineInstallation'>\n"
		 "  <u:UpdateIdentity UpdateID='A0A0A0A0-0000-0000-0000-"
		 "0000000000A1' RevisionNumber='3'/>\n"
		 "  <u:Properties CreationDate='2026-01-01T00:00:00Z' "
		 "UpdateType='Software' PublicationState='Published' "
		 "DefaultPropertiesLanguage='en' IsPublic='false' "
		 "ExplicitlyDeployable='true' "
		 "Handler='http://schemas.microsoft.com/msus/2002/12/"
		 "UpdateHandlers/CommandLineInstallation'>\n"
		 "    <u:KBArticleID><![CDATA[12&3]]></u:KBArticleID>\n"
		 "    <u:SupportUrl>a &amp; b &lt; &#x41;&#10;</u:SupportUrl>\n"
		 "  </u:Properties>\n"
		 "  <u:PublisherSignature>skipped</u:PublisherSignature>\n"
		 "  <u:ApplicabilityRules>\n"
		 "    <u:IsInstalled><l:And xmlns:l='urn:logical'>"
		 "<x:RegDword Key='HKLM'></x:RegDword>"
		 "<m2:MsiPatchInstalled/><cbs:CbsPackageInstalled "
		 "cbs:Name='p'/></l:And></u:IsInstalled>\n"
		 "  </u:ApplicabilityRules>\n"
		 "  <u:HandlerSpecificData i:type='c:CommandLineInstallation'>"
		 "<c:InstallCommand Program='a.exe'/></u:HandlerSpecificData>\n"
		 "</u:Update>\n",
	    "<UpdateIdentity UpdateID=\"A0A0A0A0-0000-0000-0000-0000000000A1\""
	    " RevisionNumber=\"3\" /><Properties UpdateType=\"Software\" "
	    "ExplicitlyDeployable=\"true\" /><ApplicabilityRules>"
	    "<IsInstalled><And><b.RegDword Key=\"HKLM\" />"
	    "<m.MsiPatchInstalled /><CbsPackageInstalled Name=\"p\" /></And>"
	    "</IsInstalled></ApplicabilityRules>",
	    "<ExtendedProperties DefaultPropertiesLanguage=\"en\" "
	    "Handler=\"http://schemas.microsoft.com/msus/2002/12/"
	    "UpdateHandlers/CommandLineInstallation\"><KBArticleID>12&amp;3"
	    "</KBArticleID><SupportUrl>a &amp; b &lt; A&#10;</SupportUrl>"
	    "</ExtendedProperties><HandlerSpecificData "
	    "type=\"c:CommandLineInstallation\"><InstallCommand "
	    "Program=\"a.exe\" /></HandlerSpecificData>");
	/* A default namespace; nothing for the extended fragment. */
	split_ok("<Update xmlns='" NS_UPD "'><UpdateIdentity UpdateID="
		 "'a0a0a0a0-0000-0000-0000-0000000000a1' RevisionNumber='3'/>"
		 "<Properties UpdateType='Detectoid' LegacyName='x'/></Update>",
	    "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-0000000000a1\""
	    " RevisionNumber=\"3\" /><Properties UpdateType=\"Detectoid\" />",
	    NULL);
}

/* ------------------------------------------------------------------ */
/* Refusals                                                            */

static void
split_refused(const char *doc, size_t len, int code)
{
	struct update_doc_parts p;
	struct wsd_err e = { WSD_OK, NULL };

	memset(&p, 0x5a, sizeof(p));
	assert_int_equal(update_doc_split(doc, len, &p, &e), code);
	assert_int_equal(e.code, code);
	assert_non_null(e.what);
	assert_null(p.core);
	assert_null(p.extended);
	assert_null(p.localized);
	assert_int_equal(p.n_localized, 0);
}

#define REFUSED(doc, code) split_refused(doc, strlen(doc), code)

static void
test_split_refused(void **state)
{
	struct sbuf sb;

	(void)state;
	/* The control: accepted. */
	split_ok(DOC_OPEN ID_A PROPS_A "</upd:Update>",
	    "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-0000000000a1\""
	    " RevisionNumber=\"3\" /><Properties UpdateType=\"Software\" />",
	    NULL);
	REFUSED("<!DOCTYPE upd:Update>" DOC_OPEN ID_A PROPS_A "</upd:Update>",
	    WSD_EINVAL);
	REFUSED("<!DOCTYPE x [<!ENTITY e \"boom\">]>" DOC_OPEN ID_A PROPS_A
		"</upd:Update>",
	    WSD_EINVAL);
	REFUSED(DOC_OPEN ID_A "<upd:Properties UpdateType=\"&e;\" />"
			      "</upd:Update>",
	    WSD_EINVAL);
	REFUSED(DOC_OPEN "<?pi x?>" ID_A PROPS_A "</upd:Update>", WSD_EINVAL);
	REFUSED("<?pi x?>" DOC_OPEN ID_A PROPS_A "</upd:Update>", WSD_EINVAL);
	REFUSED(DOC_OPEN "<!-- c -->" ID_A PROPS_A "</upd:Update>", WSD_EINVAL);
	/* Wrong root, wrong or no namespace. */
	REFUSED("<upd:Revision xmlns:upd=\"" NS_UPD "\">" ID_A PROPS_A
		"</upd:Revision>",
	    WSD_EINVAL);
	REFUSED("<upd:Update xmlns:upd=\"urn:other\">" ID_A PROPS_A
		"</upd:Update>",
	    WSD_EINVAL);
	REFUSED("<Update><UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-"
		"0000000000a1\" RevisionNumber=\"3\" /></Update>",
	    WSD_EINVAL);
	REFUSED("<upd:Update>" ID_A PROPS_A "</upd:Update>", WSD_EINVAL);
	/* Missing UpdateIdentity, missing Properties, two Properties. */
	REFUSED(DOC_OPEN PROPS_A "</upd:Update>", WSD_EINVAL);
	REFUSED(DOC_OPEN ID_A "</upd:Update>", WSD_EINVAL);
	REFUSED(DOC_OPEN ID_A PROPS_A PROPS_A "</upd:Update>", WSD_EINVAL);
	/* Garbage, truncation, empty, NUL. */
	REFUSED("garbage", WSD_EINVAL);
	REFUSED("", WSD_EINVAL);
	REFUSED(DOC_OPEN ID_A PROPS_A, WSD_EINVAL);
	split_refused(DOC_OPEN ID_A PROPS_A "</upd:Update>\0",
	    sizeof(DOC_OPEN ID_A PROPS_A "</upd:Update>"), WSD_EINVAL);
	/* Undeclared prefix; two attributes that strip to one name. */
	REFUSED(DOC_OPEN ID_A PROPS_A
	    "<upd:ApplicabilityRules><upd:IsInstalled>"
	    "<q:True /></upd:IsInstalled>"
	    "</upd:ApplicabilityRules></upd:Update>",
	    WSD_EINVAL);
	REFUSED(DOC_OPEN ID_A "<upd:Properties UpdateType=\"Software\" "
			      "DefaultPropertiesLanguage=\"en\" "
			      "xsi:DefaultPropertiesLanguage=\"de\" />"
			      "</upd:Update>",
	    WSD_EINVAL);
	/* A control character the fragments cannot carry (C1 NEL). */
	REFUSED(DOC_OPEN ID_A "<upd:Properties UpdateType=\"Software\" "
			      "Handler=\"a\xc2\x85\" /></upd:Update>",
	    WSD_EINVAL);
	/* Fragment contents the parsers refuse: a bad GUID. */
	REFUSED(DOC_OPEN "<upd:UpdateIdentity UpdateID=\"nope\" "
			 "RevisionNumber=\"1\" />" PROPS_A "</upd:Update>",
	    WSD_EINVAL);

	/* Too deep: 100 levels of And. */
	sbuf_init(&sb, CAP);
	assert_int_equal(sbuf_adds(&sb,
			     DOC_OPEN ID_A PROPS_A
			     "<upd:ApplicabilityRules><upd:IsInstalled>"),
	    0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(sbuf_adds(&sb, "<upd:And>"), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(sbuf_adds(&sb, "</upd:And>"), 0);
	assert_int_equal(sbuf_adds(&sb,
			     "</upd:IsInstalled>"
			     "</upd:ApplicabilityRules>"
			     "</upd:Update>"),
	    0);
	split_refused(sb.sb_buf, sb.sb_len, WSD_ETOOBIG);
	/* 1000 levels: libxml2 stops first; still "too deep". */
	sbuf_reset(&sb);
	assert_int_equal(sbuf_adds(&sb, DOC_OPEN), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(sbuf_adds(&sb, "<upd:X>"), 0);
	split_refused(sb.sb_buf, sb.sb_len, WSD_ETOOBIG);

	/* Too big: over UPDATE_DOC_MAX_BYTES of Description. */
	sbuf_release(&sb);
	sbuf_init(&sb, 2 * UPDATE_DOC_MAX_BYTES);
	assert_int_equal(sbuf_adds(&sb,
			     DOC_OPEN ID_A PROPS_A
			     "<upd:LocalizedPropertiesCollection>"
			     "<upd:LocalizedProperties><upd:Language>en"
			     "</upd:Language><upd:Title>t</upd:Title>"
			     "<upd:Description>"),
	    0);
	while (sb.sb_len <= UPDATE_DOC_MAX_BYTES)
		assert_int_equal(sbuf_adds(&sb,
				     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
		    0);
	assert_int_equal(sbuf_adds(&sb,
			     "</upd:Description>"
			     "</upd:LocalizedProperties>"
			     "</upd:LocalizedPropertiesCollection>"
			     "</upd:Update>"),
	    0);
	split_refused(sb.sb_buf, sb.sb_len, WSD_ETOOBIG);
	/* Under the document cap, over a fragment's 1 MiB. */
	sb.sb_len = 2 * 1024 * 1024;
	sb.sb_buf[sb.sb_len] = '\0';
	assert_int_equal(sbuf_adds(&sb,
			     "</upd:Description>"
			     "</upd:LocalizedProperties>"
			     "</upd:LocalizedPropertiesCollection>"
			     "</upd:Update>"),
	    0);
	split_refused(sb.sb_buf, sb.sb_len, WSD_ETOOBIG);

	/* Languages: two of one, more than UPDATE_DOC_MAX_LANGUAGES. */
	sbuf_reset(&sb);
	assert_int_equal(sbuf_adds(&sb,
			     DOC_OPEN ID_A PROPS_A
			     "<upd:LocalizedPropertiesCollection>"),
	    0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(sbuf_adds(&sb,
				     "<upd:LocalizedProperties>"
				     "<upd:Language>en"
				     "</upd:Language><upd:Title>t"
				     "</upd:Title>"
				     "</upd:LocalizedProperties>"),
		    0);
	assert_int_equal(sbuf_adds(&sb,
			     "</upd:LocalizedPropertiesCollection>"
			     "</upd:Update>"),
	    0);
	split_refused(sb.sb_buf, sb.sb_len, WSD_EINVAL);
	sbuf_reset(&sb);
	assert_int_equal(sbuf_adds(&sb,
			     DOC_OPEN ID_A PROPS_A
			     "<upd:LocalizedPropertiesCollection>"),
	    0);
	for (int i = 0; i < UPDATE_DOC_MAX_LANGUAGES + 1; i++)
		assert_int_equal(sbuf_addf(&sb,
				     "<upd:LocalizedProperties>"
				     "<upd:Language>x%d</upd:Language>"
				     "<upd:Title>t</upd:Title>"
				     "</upd:LocalizedProperties>",
				     i),
		    0);
	assert_int_equal(sbuf_adds(&sb,
			     "</upd:LocalizedPropertiesCollection>"
			     "</upd:Update>"),
	    0);
	split_refused(sb.sb_buf, sb.sb_len, WSD_ETOOBIG);
	sbuf_release(&sb);
}

/* Stored fragments build cannot give back byte for byte. */
static void
test_build_refused(void **state)
{
	static const char core[] =
	    "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-0000000000a1\""
	    " RevisionNumber=\"3\" /><Properties UpdateType=\"Software\" />";
	static const struct {
		const char *core, *ext;
	} bad[] = {
		/* attribute outside the core set */
		{ "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-"
		  "0000000000a1\" RevisionNumber=\"3\" /><Properties "
		  "UpdateType=\"Software\" Handler=\"x\" />",
		    NULL },
		/* core Properties with content */
		{ "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-"
		  "0000000000a1\" RevisionNumber=\"3\" /><Properties "
		  "UpdateType=\"Software\">x</Properties>",
		    NULL },
		/* out of order, missing Properties, namespaces, garbage */
		{ "<Properties UpdateType=\"Software\" /><UpdateIdentity "
		  "UpdateID=\"a0a0a0a0-0000-0000-0000-0000000000a1\" "
		  "RevisionNumber=\"3\" />",
		    NULL },
		{ "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-"
		  "0000000000a1\" RevisionNumber=\"3\" />",
		    NULL },
		{ "<UpdateIdentity xmlns=\"urn:x\" UpdateID=\"a\" "
		  "/><Properties "
		  "/>",
		    NULL },
		{ "<UpdateIdentity", NULL },
		{ core, "<ExtendedProperties />" },
		{ core, "<ExtendedProperties UpdateType=\"Software\" />" },
		{ core, "<ExtendedProperties CreationDate=\"x\" />" },
		{ core, "<Files /><ExtendedProperties A=\"1\" />" },
		{ core, "<ExtendedProperties A=\"1\" /><!DOCTYPE x>" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rev r = { bad[i].core, bad[i].ext, 0, { NULL },
			{ NULL } };
		struct store_localized sl[4];
		struct store_revision_in in;
		struct wsd_err e = { WSD_OK, NULL };
		struct sbuf sb;

		rev_in(&r, &in, sl);
		sbuf_init(&sb, CAP);
		assert_int_equal(sbuf_adds(&sb, "keep"), 0);
		if (update_doc_build(&sb, &in, &e) != WSD_EINVAL)
			fail_msg("built bad revision %zu", i);
		assert_non_null(e.what);
		assert_string_equal(sb.sb_buf, "keep"); /* cut back */
		sbuf_release(&sb);
	}
	/* A localized fragment that is not one LocalizedProperties. */
	{
		struct rev r = { core, NULL, 1, { "<Language>en</Language>" },
			{ "en" } };
		struct store_localized sl[4];
		struct store_revision_in in;
		struct wsd_err e;
		struct sbuf sb;

		rev_in(&r, &in, sl);
		sbuf_init(&sb, CAP);
		assert_int_equal(update_doc_build(&sb, &in, &e), WSD_EINVAL);
		sbuf_release(&sb);
	}
}

/* A foreign handler prefix is declared with the Handler URI. */
static void
test_handler_prefix(void **state)
{
	static const char core[] =
	    "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-0000000000a1\""
	    " RevisionNumber=\"3\" /><Properties UpdateType=\"Software\" />";
	static const char ext1[] =
	    "<ExtendedProperties DefaultPropertiesLanguage=\"en\" "
	    "Handler=\"http://schemas.microsoft.com/msus/2002/12/"
	    "UpdateHandlers/CbsInstallation\" /><HandlerSpecificData "
	    "type=\"cbs:Cbs\"><InstallCommand Name=\"x\" /><d.Odd />"
	    "</HandlerSpecificData>";
	static const char ext2[] =
	    "<ExtendedProperties DefaultPropertiesLanguage=\"en\" />"
	    "<HandlerSpecificData type=\"p:T\" Extra=\"1\"><A>text</A>"
	    "</HandlerSpecificData>";
	static const char ext3[] =
	    "<ExtendedProperties DefaultPropertiesLanguage=\"en\" />"
	    "<HandlerSpecificData type=\"drv:WindowsDriver\"><A /><b.1x />"
	    "</HandlerSpecificData>";
	struct rev r = { core, ext1, 0, { NULL }, { NULL } };
	char *doc;

	(void)state;
	round_trip(&r, &doc, NULL);
	assert_non_null(strstr(doc,
	    "<upd:HandlerSpecificData xmlns:cbs=\"http://schemas.microsoft."
	    "com/msus/2002/12/UpdateHandlers/CbsInstallation\" "
	    "xsi:type=\"cbs:Cbs\"><cbs:InstallCommand Name=\"x\" />"
	    "<drv:Odd />"));
	free(doc);
	r.ext = ext2;
	round_trip(&r, &doc, NULL);
	assert_non_null(strstr(doc,
	    "xmlns:p=\"" NS_UPD "\" xsi:type=\"p:T\" "
	    "Extra=\"1\"><p:A>text</p:A>"));
	free(doc);
	r.ext = ext3;
	round_trip(&r, &doc, NULL);
	assert_non_null(strstr(doc, "<upd:A /><upd:b.1x />"));
	free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_software),
		cmocka_unit_test(test_eula),
		cmocka_unit_test(test_driver),
		cmocka_unit_test(test_detectoid),
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_captures),
		cmocka_unit_test(test_split_foreign),
		cmocka_unit_test(test_split_refused),
		cmocka_unit_test(test_build_refused),
		cmocka_unit_test(test_handler_prefix),
	};

	xmlInitParser();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
