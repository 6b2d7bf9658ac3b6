#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

#include "catalog/fragment.h"
#include "common/encode.h"
#include "common/sbuf.h"

/*
 * The shared protocol directory sits beside the repository clone
 * (../shared), here and in CI.
 */
#define VECTORS                                                                \
	TEST_SRCDIR "/../shared/protocol/vectors/native-capture-wsus-rs/"

#define CAP (4 * 1024 * 1024)

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

static char *
node_text(const xmlNode *n)
{
	xmlChar *c = xmlNodeGetContent(n);
	char *s;

	assert_non_null(c);
	s = strdup((const char *)c);
	xmlFree(c);
	assert_non_null(s);
	return s;
}

/*
 * The unescaped text of the <Xml> element of the UpdateInfo/Update whose
 * <ID> is ID and whose fragment starts with PREFIX, from the SOAP
 * response body of capture REL (e.g. "scan/000008").
 */
static char *
capture_xml(const char *rel, const char *id, const char *prefix)
{
	char path[1024];
	xmlDoc *doc;
	xmlNode *stack[64];
	int sp = 0;
	char *body, *found = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s%s/response.body", VECTORS, rel);
	body = slurp(path, &len);
	doc = xmlReadMemory(body, (int)len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	free(body);
	assert_non_null(doc);
	stack[sp++] = xmlDocGetRootElement(doc);
	while (sp > 0 && found == NULL) {
		xmlNode *n = stack[--sp];
		xmlNode *idn = NULL, *xmln = NULL;

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
			char *i = node_text(idn), *x = node_text(xmln);

			if (strcmp(i, id) == 0 &&
			    strncmp(x, prefix, strlen(prefix)) == 0)
				found = x;
			else
				free(x);
			free(i);
		}
	}
	xmlFreeDoc(doc);
	if (found == NULL)
		fail_msg("no fragment with ID %s starting %s in %s", id, prefix,
		    path);
	return found;
}

/* Inner text between the first OPEN and the next CLOSE in S. */
static char *
slice_between(const char *s, const char *open, const char *close)
{
	const char *a = strstr(s, open), *b;
	char *out;

	assert_non_null(a);
	a += strlen(open);
	b = strstr(a, close);
	assert_non_null(b);
	out = strndup(a, (size_t)(b - a));
	assert_non_null(out);
	return out;
}

static void
digest(const char *md, const void *data, size_t n, unsigned char *out)
{
	unsigned int len = 0;

	assert_int_equal(EVP_Digest(data, n, out, &len,
			     EVP_get_digestbyname(md), NULL),
	    1);
}

/* libxml2, namespace-aware, on FRAG wrapped in a root: must be well
 * formed and namespace well formed; returns the top-level names joined
 * by ','. */
static void
assert_wellformed(const char *frag, const char *top_names)
{
	struct sbuf sb, names;
	xmlParserCtxt *ctxt;
	xmlDoc *doc;

	sbuf_init(&sb, CAP);
	assert_int_equal(sbuf_adds(&sb, "<root>"), 0);
	assert_int_equal(sbuf_adds(&sb, frag), 0);
	assert_int_equal(sbuf_adds(&sb, "</root>"), 0);
	ctxt = xmlNewParserCtxt();
	assert_non_null(ctxt);
	doc = xmlCtxtReadMemory(ctxt, sb.sb_buf, (int)sb.sb_len, NULL, "UTF-8",
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	assert_non_null(doc);
	assert_int_equal(ctxt->wellFormed, 1);
	assert_int_equal(ctxt->nsWellFormed, 1);
	xmlFreeParserCtxt(ctxt);
	sbuf_init(&names, 4096);
	for (xmlNode *c = xmlDocGetRootElement(doc)->children; c != NULL;
	     c = c->next) {
		assert_int_equal(c->type, XML_ELEMENT_NODE); /* no text */
		if (names.sb_len > 0)
			assert_int_equal(sbuf_adds(&names, ","), 0);
		assert_int_equal(sbuf_adds(&names, (const char *)c->name), 0);
	}
	assert_string_equal(sbuf_str(&names), top_names);
	assert_null(strchr(frag, '\n'));
	sbuf_release(&names);
	xmlFreeDoc(doc);
	sbuf_release(&sb);
}

/* ------------------------------------------------------------------ */
/* A small published update, expected bytes written by hand            */

static const struct fragment_prereq small_p0[] = {
	{ "0fa1201d-4330-4fa8-8ae9-b877473b6441", true },
};
static const struct fragment_prereq small_p1[] = {
	{ "A0A0A0A0-0000-0000-0000-000000000001", false },
};
static const struct fragment_prereq small_p2[] = {
	{ "a0a0a0a0-0000-0000-0000-000000000002", false },
	{ "a0a0a0a0-0000-0000-0000-000000000003", false },
};
static const struct fragment_clause small_clauses[] = {
	{ small_p0, 1 },
	{ small_p1, 1 },
	{ small_p2, 2 },
};
static const char *const small_sup[] = {
	"a0a0a0a0-0000-0000-0000-000000000009",
};
static const struct fragment_return_code small_codes[] = {
	{ 0, FRAGMENT_RESULT_SUCCEEDED, FRAGMENT_UNSET },
	{ 3010, FRAGMENT_RESULT_SUCCEEDED, FRAGMENT_TRUE },
	{ -1, FRAGMENT_RESULT_FAILED, FRAGMENT_FALSE },
};
static const struct fragment_cmdline small_cmd = {
	.program = "tool.exe",
	.arguments = "/quiet /norestart",
	.reboot_by_default = FRAGMENT_FALSE,
	.default_result = FRAGMENT_RESULT_FAILED,
	.codes = small_codes,
	.n_codes = 3,
};

static void
small_update(struct fragment_update *u, struct fragment_file *f)
{
	memset(f, 0, sizeof(*f));
	f->name = "tool.exe";
	f->size = 3;
	f->modified = 1790000000;
	digest("SHA1", "abc", 3, f->sha1);
	digest("SHA256", "abc", 3, f->sha256);

	memset(u, 0, sizeof(*u));
	u->update_id = "A0A0A0A0-0000-0000-0000-000000000042";
	u->revision_number = 1;
	u->type = FRAGMENT_TYPE_SOFTWARE;
	u->explicitly_deployable = true;
	u->auto_select_on_web_sites = true;
	u->supersedes = small_sup;
	u->n_supersedes = 1;
	u->prereqs = small_clauses;
	u->n_prereqs = 3;
	u->rules = FRAGMENT_RULES_DEFAULT;
	u->handler = FRAGMENT_HANDLER_CMDLINE;
	u->has_download_sizes = true;
	u->max_download_size = 3;
	u->min_download_size = 0;
	u->msrc_severity = FRAGMENT_SEVERITY_IMPORTANT;
	u->reboot_behavior = FRAGMENT_REBOOT_NEVER;
	u->support_url = "https://example.test/kb?a=1&b=2";
	u->kb_article_id = "123456";
	u->files = f;
	u->n_files = 1;
	u->cmdline = &small_cmd;
}

static void
test_build_small_exact(void **state)
{
	static const char core[] =
	    "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-000000000042\""
	    " RevisionNumber=\"1\" />"
	    "<Properties UpdateType=\"Software\" ExplicitlyDeployable=\"true\""
	    " AutoSelectOnWebSites=\"true\" />"
	    "<Relationships><SupersededUpdates>"
	    "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-000000000009\" "
	    "/>"
	    "</SupersededUpdates><Prerequisites>"
	    "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-000000000001\" "
	    "/>"
	    "<AtLeastOne IsCategory=\"true\">"
	    "<UpdateIdentity UpdateID=\"0fa1201d-4330-4fa8-8ae9-b877473b6441\" "
	    "/>"
	    "</AtLeastOne><AtLeastOne>"
	    "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-000000000002\" "
	    "/>"
	    "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-000000000003\" "
	    "/>"
	    "</AtLeastOne></Prerequisites></Relationships>"
	    "<ApplicabilityRules><IsInstalled><False /></IsInstalled>"
	    "<IsInstallable><True /></IsInstallable></ApplicabilityRules>";
	static const char ext[] =
	    "<ExtendedProperties DefaultPropertiesLanguage=\"en\" "
	    "Handler=\"http://schemas.microsoft.com/msus/2002/12/"
	    "UpdateHandlers/CommandLineInstallation\" MaxDownloadSize=\"3\" "
	    "MinDownloadSize=\"0\" MsrcSeverity=\"Important\">"
	    "<InstallationBehavior RebootBehavior=\"NeverReboots\" />"
	    "<SupportUrl>https://example.test/kb?a=1&amp;b=2</SupportUrl>"
	    "<KBArticleID>123456</KBArticleID></ExtendedProperties>"
	    "<Files><File Digest=\"qZk+NkcGgWq6PiVxeFDCbJzQ2J0=\" "
	    "DigestAlgorithm=\"SHA1\" FileName=\"tool.exe\" Size=\"3\" "
	    "Modified=\"2026-09-21T14:13:20Z\"><AdditionalDigest "
	    "Algorithm=\"SHA256\">ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
	    "</AdditionalDigest></File></Files>"
	    "<HandlerSpecificData type=\"cmd:CommandLineInstallation\">"
	    "<InstallCommand Program=\"tool.exe\" Arguments=\"/quiet "
	    "/norestart\" RebootByDefault=\"false\" DefaultResult=\"Failed\">"
	    "<ReturnCode Code=\"0\" Result=\"Succeeded\" />"
	    "<ReturnCode Code=\"3010\" Result=\"Succeeded\" Reboot=\"true\" />"
	    "<ReturnCode Code=\"-1\" Result=\"Failed\" Reboot=\"false\" />"
	    "</InstallCommand></HandlerSpecificData>";
	static const char loc[] =
	    "<LocalizedProperties><Language>en</Language><Title>Tool 1.0"
	    "</Title><Description>Installs tool.</Description>"
	    "</LocalizedProperties>";
	struct fragment_localized l = { .language = "en",
		.title = "Tool 1.0",
		.description = "Installs tool.",
		.uninstall_notes = "" };
	struct fragment_update u;
	struct fragment_file f;
	struct wsd_err e;
	struct sbuf sb;

	(void)state;
	small_update(&u, &f);
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_core(&sb, &u, &e), 0);
	assert_string_equal(sbuf_str(&sb), core);
	sbuf_reset(&sb);
	assert_int_equal(fragment_build_extended(&sb, &u, &e), 0);
	assert_string_equal(sbuf_str(&sb), ext);
	sbuf_reset(&sb);
	assert_int_equal(fragment_build_localized(&sb, &l, &e), 0);
	assert_string_equal(sbuf_str(&sb), loc);
	sbuf_release(&sb);
}

/* ------------------------------------------------------------------ */
/* Round trip: build, parse back, compare every field                  */

static const struct fragment_prereq rt_p0[] = {
	{ "be4048db-157c-4532-9582-7f05099590c9", false },
};
static const struct fragment_prereq rt_p1[] = {
	{ "E0789628-CE08-4437-BE74-2495B842F43B", true },
	{ "cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83", true },
};
static const struct fragment_prereq rt_p2[] = {
	{ "0aac58ee-82a0-4452-a7fa-19f68398f1fa", false },
};
static const struct fragment_clause rt_clauses[] = {
	{ rt_p0, 1 },
	{ rt_p1, 2 },
	{ rt_p2, 1 },
};
static const char *const rt_sup[] = {
	"484d9f03-1fd7-47f1-9b02-9abbca640025",
	"C9626592-BB0E-4B3E-9E85-B0C33F0C22B3",
	"04cfbf35-4bc4-47d1-83e4-6d8609e2e9f6",
};
static const struct fragment_bundled rt_bun[] = {
	{ "90f961a9-1756-4493-aade-644c37589961", 200, 0 },
	{ "b41f24ed-5293-4c1c-81c8-9d4b8af8eb7e", 201, 0 },
	{ "940d319c-760b-429c-9bc8-e059163457fb", 7, 5 },
};

static void
test_round_trip(void **state)
{
	struct fragment_file files[2];
	struct fragment_update u;
	struct fragment_localized l = {
		.language = "de-DE",
		.title = "Werkzeug <1.0> & \"Grüße\"",
		.description = "Zeile 1\nZeile 2\tEnde",
		.uninstall_notes = "Nicht entfernbar.",
		.more_info_url = "https://example.test/?a=1&b=2",
		.support_url = "https://example.test/support",
	};
	struct fragment_core_info ci;
	struct fragment_extended_info ei;
	struct fragment_localized_info li;
	struct wsd_err e;
	struct sbuf core, ext, loc;

	(void)state;
	memset(files, 0, sizeof(files));
	files[0].name = "a&b\"c.cab";
	files[0].size = UINT64_C(9223372036854775807);
	files[0].modified = -11644473600; /* 1601-01-01, the floor */
	digest("SHA1", "x", 1, files[0].sha1);
	digest("SHA256", "x", 1, files[0].sha256);
	files[0].patching_type = "SelfContained";
	files[1].name = "tool.exe";
	files[1].size = 0;
	files[1].modified = 253402300799; /* 9999-12-31T23:59:59Z */
	digest("SHA1", "y", 1, files[1].sha1);
	digest("SHA256", "y", 1, files[1].sha256);

	memset(&u, 0, sizeof(u));
	u.update_id = "74E87997-E3B3-45D2-A527-A8877A5162EC";
	u.revision_number = 2147483647;
	u.type = FRAGMENT_TYPE_SOFTWARE;
	u.explicitly_deployable = true;
	u.auto_select_on_web_sites = false;
	u.supersedes = rt_sup;
	u.n_supersedes = 3;
	u.prereqs = rt_clauses;
	u.n_prereqs = 3;
	u.bundled = rt_bun;
	u.n_bundled = 3;
	u.rules = FRAGMENT_RULES_CUSTOM;
	u.is_installed = "<b.FileVersion Path=\"tool.exe\" "
			 "Comparison=\"GreaterThanOrEqualTo\" Version=\"1.0\" "
			 "Csidl=\"38\" />";
	u.is_installable = "<And><b.WindowsVersion "
			   "Comparison=\"GreaterThanOrEqualTo\" "
			   "MajorVersion=\"10\" /><Not><b.RegKeyExists "
			   "Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"SOFTWARE\\x\" "
			   "/></Not></And>";
	u.default_language = "de";
	u.handler = FRAGMENT_HANDLER_CMDLINE;
	u.has_download_sizes = true;
	u.max_download_size = 123456789;
	u.min_download_size = 17;
	u.msrc_severity = FRAGMENT_SEVERITY_CRITICAL;
	u.reboot_behavior = FRAGMENT_REBOOT_CAN_REQUEST;
	u.impact = FRAGMENT_IMPACT_EXCLUSIVE;
	u.support_url = "https://example.test/s";
	u.security_bulletin_id = "MS26-001";
	u.kb_article_id = "5000001";
	u.files = files;
	u.n_files = 2;
	u.cmdline = &small_cmd;

	sbuf_init(&core, CAP);
	sbuf_init(&ext, CAP);
	sbuf_init(&loc, CAP);
	assert_int_equal(fragment_build_core(&core, &u, &e), 0);
	assert_int_equal(fragment_build_extended(&ext, &u, &e), 0);
	assert_int_equal(fragment_build_localized(&loc, &l, &e), 0);

	/* (c) well-formed for a namespace-aware libxml2, one line */
	assert_wellformed(sbuf_str(&core),
	    "UpdateIdentity,Properties,Relationships,ApplicabilityRules");
	assert_wellformed(sbuf_str(&ext),
	    "ExtendedProperties,Files,HandlerSpecificData");
	assert_wellformed(sbuf_str(&loc), "LocalizedProperties");

	/* (b) parse back */
	assert_int_equal(fragment_parse_core(core.sb_buf, core.sb_len, &ci, &e),
	    0);
	assert_string_equal(ci.update_id,
	    "74e87997-e3b3-45d2-a527-a8877a5162ec");
	assert_int_equal(ci.revision_number, 2147483647);
	assert_int_equal(ci.type, FRAGMENT_TYPE_SOFTWARE);
	assert_true(ci.explicitly_deployable);
	assert_false(ci.auto_select_on_web_sites);
	assert_int_equal(ci.n_supersedes, 3);
	assert_string_equal(ci.supersedes[0].s,
	    "484d9f03-1fd7-47f1-9b02-9abbca640025");
	assert_string_equal(ci.supersedes[1].s,
	    "c9626592-bb0e-4b3e-9e85-b0c33f0c22b3");
	assert_string_equal(ci.supersedes[2].s,
	    "04cfbf35-4bc4-47d1-83e4-6d8609e2e9f6");
	/* direct members first, then the category group */
	assert_int_equal(ci.n_prereqs, 4);
	assert_int_equal(ci.n_prereq_clauses, 3);
	assert_string_equal(ci.prereqs[0].guid,
	    "be4048db-157c-4532-9582-7f05099590c9");
	assert_int_equal(ci.prereqs[0].clause, 0);
	assert_false(ci.prereqs[0].is_category);
	assert_string_equal(ci.prereqs[1].guid,
	    "0aac58ee-82a0-4452-a7fa-19f68398f1fa");
	assert_int_equal(ci.prereqs[1].clause, 1);
	assert_false(ci.prereqs[1].is_category);
	assert_string_equal(ci.prereqs[2].guid,
	    "e0789628-ce08-4437-be74-2495b842f43b");
	assert_int_equal(ci.prereqs[2].clause, 2);
	assert_true(ci.prereqs[2].is_category);
	assert_string_equal(ci.prereqs[3].guid,
	    "cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83");
	assert_int_equal(ci.prereqs[3].clause, 2);
	assert_true(ci.prereqs[3].is_category);
	assert_int_equal(ci.n_bundled, 3);
	assert_string_equal(ci.bundled[0].guid, rt_bun[0].guid);
	assert_int_equal(ci.bundled[0].revision, 200);
	assert_int_equal(ci.bundled[0].clause, 0);
	assert_string_equal(ci.bundled[1].guid, rt_bun[1].guid);
	assert_int_equal(ci.bundled[1].revision, 201);
	assert_int_equal(ci.bundled[1].clause, 0);
	assert_string_equal(ci.bundled[2].guid, rt_bun[2].guid);
	assert_int_equal(ci.bundled[2].revision, 7);
	assert_int_equal(ci.bundled[2].clause, 1);
	assert_true(ci.has_applicability);
	assert_true(ci.has_is_installed);
	assert_true(ci.has_is_installable);
	assert_non_null(strstr(core.sb_buf,
	    "<IsInstallable><And><b.WindowsVersion Comparison="
	    "\"GreaterThanOrEqualTo\" MajorVersion=\"10\" /><Not>"
	    "<b.RegKeyExists Key=\"HKEY_LOCAL_MACHINE\" "
	    "Subkey=\"SOFTWARE\\x\" /></Not></And></IsInstallable>"));
	fragment_core_info_release(&ci);
	assert_null(ci.supersedes);
	fragment_core_info_release(&ci); /* idempotent */

	assert_int_equal(fragment_parse_extended(ext.sb_buf, ext.sb_len, &ei,
			     &e),
	    0);
	assert_string_equal(ei.default_language, "de");
	assert_string_equal(ei.handler, FRAGMENT_HANDLER_CMDLINE);
	assert_true(ei.has_download_sizes);
	assert_int_equal(ei.max_download_size, 123456789);
	assert_int_equal(ei.min_download_size, 17);
	assert_int_equal(ei.msrc_severity, FRAGMENT_SEVERITY_CRITICAL);
	assert_int_equal(ei.reboot_behavior, FRAGMENT_REBOOT_CAN_REQUEST);
	assert_int_equal(ei.impact, FRAGMENT_IMPACT_EXCLUSIVE);
	assert_string_equal(ei.support_url, "https://example.test/s");
	assert_string_equal(ei.security_bulletin_id, "MS26-001");
	assert_string_equal(ei.kb_article_id, "5000001");
	assert_string_equal(ei.handler_data_type,
	    "cmd:CommandLineInstallation");
	assert_int_equal(ei.category_type, FRAGMENT_CAT_NONE);
	assert_int_equal(ei.n_files, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(ei.files[i].name, files[i].name);
		assert_int_equal(ei.files[i].size, files[i].size);
		assert_int_equal(ei.files[i].modified, files[i].modified);
		assert_memory_equal(ei.files[i].sha1, files[i].sha1, 20);
		assert_true(ei.files[i].has_sha256);
		assert_memory_equal(ei.files[i].sha256, files[i].sha256, 32);
	}
	assert_string_equal(ei.files[0].patching_type, "SelfContained");
	assert_null(ei.files[1].patching_type);
	fragment_extended_info_release(&ei);
	assert_null(ei.files);

	assert_int_equal(fragment_parse_localized(loc.sb_buf, loc.sb_len, &li,
			     &e),
	    0);
	assert_string_equal(li.language, l.language);
	assert_string_equal(li.title, l.title);
	assert_string_equal(li.description, l.description);
	assert_string_equal(li.uninstall_notes, l.uninstall_notes);
	assert_string_equal(li.more_info_url, l.more_info_url);
	assert_string_equal(li.support_url, l.support_url);
	fragment_localized_info_release(&li);

	sbuf_release(&core);
	sbuf_release(&ext);
	sbuf_release(&loc);
}

/* ------------------------------------------------------------------ */
/* Real fragments from the native capture                              */

static void
test_capture_core_categories(void **state)
{
	struct fragment_core_info ci;
	struct wsd_err e;
	char *x;

	(void)state;
	/* scan/000006: the Microsoft company, UpdateID in UPPER case */
	x = capture_xml("scan/000006", "108226", "<UpdateIdentity");
	assert_non_null(strstr(x, "56309036-4C77-4DD9-951A-99EE9C246A94"));
	assert_int_equal(fragment_parse_core(x, strlen(x), &ci, &e), 0);
	assert_string_equal(ci.update_id,
	    "56309036-4c77-4dd9-951a-99ee9c246a94");
	assert_int_equal(ci.revision_number, 101);
	assert_int_equal(ci.type, FRAGMENT_TYPE_CATEGORY);
	assert_int_equal(ci.n_prereqs, 0);
	assert_true(ci.has_is_installed);
	assert_false(ci.has_is_installable);
	fragment_core_info_release(&ci);
	free(x);

	/* scan/000007: Windows product family under it */
	x = capture_xml("scan/000007", "108231", "<UpdateIdentity");
	assert_int_equal(fragment_parse_core(x, strlen(x), &ci, &e), 0);
	assert_string_equal(ci.update_id,
	    "6964aab4-c5b5-43bd-a17d-ffb4346a8e1d");
	assert_int_equal(ci.revision_number, 100);
	assert_int_equal(ci.n_prereqs, 1);
	assert_string_equal(ci.prereqs[0].guid,
	    "56309036-4c77-4dd9-951a-99ee9c246a94");
	assert_true(ci.prereqs[0].is_category);
	fragment_core_info_release(&ci);
	free(x);

	/* scan/000008: OOBE ZDP product, b.WindowsVersion rule */
	x = capture_xml("scan/000008", "72571", "<UpdateIdentity");
	assert_int_equal(fragment_parse_core(x, strlen(x), &ci, &e), 0);
	assert_string_equal(ci.update_id,
	    "dd78b8a1-0b20-45c1-add6-4da72e9364cf");
	assert_int_equal(ci.revision_number, 202);
	assert_int_equal(ci.type, FRAGMENT_TYPE_CATEGORY);
	assert_false(ci.explicitly_deployable);
	assert_int_equal(ci.n_prereqs, 1);
	assert_int_equal(ci.n_prereq_clauses, 1);
	assert_string_equal(ci.prereqs[0].guid,
	    "6964aab4-c5b5-43bd-a17d-ffb4346a8e1d");
	assert_true(ci.prereqs[0].is_category);
	assert_true(ci.has_is_installed);
	fragment_core_info_release(&ci);
	free(x);
}

static void
test_capture_core_bundle(void **state)
{
	static const unsigned groups[] = { 7, 7, 7, 103 };
	struct fragment_core_info ci;
	struct wsd_err e;
	unsigned count[4] = { 0 };
	char *x;

	(void)state;
	/* flow/000012: KB2267602 bundle parent, approved */
	x = capture_xml("flow/000012", "200957", "<UpdateIdentity");
	assert_int_equal(fragment_parse_core(x, strlen(x), &ci, &e), 0);
	assert_string_equal(ci.update_id,
	    "74e87997-e3b3-45d2-a527-a8877a5162ec");
	assert_int_equal(ci.revision_number, 200);
	assert_int_equal(ci.type, FRAGMENT_TYPE_SOFTWARE);
	assert_true(ci.explicitly_deployable);
	assert_true(ci.auto_select_on_web_sites);
	assert_int_equal(ci.n_supersedes, 10);
	assert_string_equal(ci.supersedes[0].s,
	    "484d9f03-1fd7-47f1-9b02-9abbca640025");
	assert_string_equal(ci.supersedes[9].s,
	    "fafb5ac2-14f2-4b79-9c1f-a2aa1ef11701");
	assert_int_equal(ci.n_prereqs, 4);
	assert_int_equal(ci.n_prereq_clauses, 4);
	assert_string_equal(ci.prereqs[0].guid,
	    "be4048db-157c-4532-9582-7f05099590c9");
	assert_false(ci.prereqs[0].is_category);
	assert_string_equal(ci.prereqs[1].guid,
	    "0aac58ee-82a0-4452-a7fa-19f68398f1fa");
	assert_string_equal(ci.prereqs[2].guid,
	    "e0789628-ce08-4437-be74-2495b842f43b"); /* Definition Updates */
	assert_true(ci.prereqs[2].is_category);
	assert_string_equal(ci.prereqs[3].guid,
	    "8c3fcc84-7410-4a95-8b89-a166a0190486");
	assert_true(ci.prereqs[3].is_category);
	assert_int_equal(ci.n_bundled, 124);
	assert_string_equal(ci.bundled[0].guid,
	    "90f961a9-1756-4493-aade-644c37589961");
	assert_string_equal(ci.bundled[123].guid,
	    "3baa1bb8-21ec-4c3a-8bc7-f613ff818fd2");
	for (size_t i = 0; i < ci.n_bundled; i++) {
		assert_int_equal(ci.bundled[i].revision, 200);
		assert_true(ci.bundled[i].clause < 4);
		count[ci.bundled[i].clause]++;
	}
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(count[i], groups[i]);
	assert_false(ci.has_applicability);

	/* Feed the parsed model to the builder: the same bytes come out. */
	{
		struct fragment_prereq pm[4];
		struct fragment_clause pc[4];
		const char *sup[10];
		struct fragment_bundled *bun;
		struct fragment_update u;
		struct sbuf sb;

		bun = calloc(ci.n_bundled, sizeof(*bun));
		assert_non_null(bun);
		for (size_t i = 0; i < 10; i++)
			sup[i] = ci.supersedes[i].s;
		for (size_t i = 0; i < 4; i++) {
			pm[i].guid = ci.prereqs[i].guid;
			pm[i].is_category = ci.prereqs[i].is_category;
			pc[i].members = &pm[i];
			pc[i].n_members = 1;
		}
		for (size_t i = 0; i < ci.n_bundled; i++) {
			bun[i].guid = ci.bundled[i].guid;
			bun[i].revision = ci.bundled[i].revision;
			bun[i].clause = ci.bundled[i].clause;
		}
		memset(&u, 0, sizeof(u));
		u.update_id = ci.update_id;
		u.revision_number = ci.revision_number;
		u.type = ci.type;
		u.explicitly_deployable = ci.explicitly_deployable;
		u.auto_select_on_web_sites = ci.auto_select_on_web_sites;
		u.supersedes = sup;
		u.n_supersedes = 10;
		u.prereqs = pc;
		u.n_prereqs = 4;
		u.bundled = bun;
		u.n_bundled = ci.n_bundled;
		u.rules = FRAGMENT_RULES_NONE;
		sbuf_init(&sb, CAP);
		assert_int_equal(fragment_build_core(&sb, &u, &e), 0);
		assert_string_equal(sbuf_str(&sb), x);
		sbuf_release(&sb);
		free(bun);
	}
	fragment_core_info_release(&ci);
	free(x);

	/* flow/000012 191466: a bundled child with long b. rule trees and a
	 * non-category AtLeastOne of one member */
	x = capture_xml("flow/000012", "191466", "<UpdateIdentity");
	assert_int_equal(fragment_parse_core(x, strlen(x), &ci, &e), 0);
	assert_string_equal(ci.update_id,
	    "0e095619-0e73-4b2d-8cef-597af42cc726");
	assert_int_equal(ci.revision_number, 200);
	assert_false(ci.explicitly_deployable);
	assert_int_equal(ci.n_supersedes, 0);
	assert_int_equal(ci.n_prereqs, 4);
	assert_int_equal(ci.n_prereq_clauses, 4);
	assert_string_equal(ci.prereqs[1].guid,
	    "59653007-e2e9-4f71-8525-2ff588527978");
	assert_string_equal(ci.prereqs[3].guid,
	    "8c3fcc84-7410-4a95-8b89-a166a0190486");
	assert_false(ci.prereqs[3].is_category);
	assert_int_equal(ci.n_bundled, 0);
	assert_true(ci.has_is_installed);
	assert_true(ci.has_is_installable);
	fragment_core_info_release(&ci);
	free(x);
}

/* flow/000001 107200: a detectoid whose rule tree we re-write byte-exact */
static void
test_capture_detectoid_rebuild(void **state)
{
	struct fragment_prereq pm = { "8c3fcc84-7410-4a95-8b89-a166a0190486",
		false };
	struct fragment_clause pc = { &pm, 1 };
	struct fragment_core_info ci;
	struct fragment_update u;
	struct wsd_err e;
	struct sbuf sb;
	char *x, *rule;

	(void)state;
	x = capture_xml("flow/000001", "107200", "<UpdateIdentity");
	assert_int_equal(fragment_parse_core(x, strlen(x), &ci, &e), 0);
	assert_string_equal(ci.update_id,
	    "0aac58ee-82a0-4452-a7fa-19f68398f1fa");
	assert_int_equal(ci.type, FRAGMENT_TYPE_DETECTOID);
	assert_int_equal(ci.revision_number, 200);
	rule = slice_between(x, "<IsInstalled>", "</IsInstalled>");
	assert_int_equal(fragment_check_expression(rule, strlen(rule), &e), 0);
	memset(&u, 0, sizeof(u));
	u.update_id = ci.update_id;
	u.revision_number = ci.revision_number;
	u.type = FRAGMENT_TYPE_DETECTOID;
	u.prereqs = &pc;
	u.n_prereqs = 1;
	u.rules = FRAGMENT_RULES_CUSTOM;
	u.is_installed = rule;
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_core(&sb, &u, &e), 0);
	assert_string_equal(sbuf_str(&sb), x);
	sbuf_release(&sb);
	fragment_core_info_release(&ci);
	free(rule);
	free(x);
}

static void
test_capture_extended(void **state)
{
	static const struct fragment_return_code rc0[] = {
		{ 0, FRAGMENT_RESULT_SUCCEEDED, FRAGMENT_UNSET },
	};
	struct fragment_extended_info ei;
	struct fragment_cmdline cmd;
	struct fragment_update u;
	struct fragment_file f;
	struct tm tm;
	struct wsd_err e;
	struct sbuf sb;
	char b64[45];
	char *x;

	(void)state;
	/* flow/000015 199594: Defender AM_Base.exe */
	x = capture_xml("flow/000015", "199594", "<ExtendedProperties");
	assert_int_equal(fragment_parse_extended(x, strlen(x), &ei, &e), 0);
	assert_string_equal(ei.default_language, "en");
	assert_string_equal(ei.handler, FRAGMENT_HANDLER_CMDLINE);
	assert_true(ei.has_download_sizes);
	assert_int_equal(ei.max_download_size, 204745168);
	assert_int_equal(ei.min_download_size, 0);
	assert_int_equal(ei.impact, FRAGMENT_IMPACT_MINOR);
	assert_int_equal(ei.reboot_behavior, FRAGMENT_REBOOT_UNSET);
	assert_null(ei.kb_article_id);
	assert_string_equal(ei.handler_data_type,
	    "cmd:CommandLineInstallation");
	assert_int_equal(ei.n_files, 1);
	assert_string_equal(ei.files[0].name, "AM_Base.exe");
	assert_int_equal(ei.files[0].size, 204745168);
	b64_encode(ei.files[0].sha1, 20, b64);
	assert_string_equal(b64, "L4jfQtpIqpgPt0jRO6ot5JzRVKs=");
	assert_true(ei.files[0].has_sha256);
	b64_encode(ei.files[0].sha256, 32, b64);
	assert_string_equal(b64,
	    "MKzz0PJzOS9ogyRCzjZ9jgNc6i3IReNqV4BPz5/1TjA=");
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 2026 - 1900;
	tm.tm_mon = 8;
	tm.tm_mday = 2;
	tm.tm_hour = 8;
	tm.tm_min = 22;
	tm.tm_sec = 29; /* Modified="2026-09-02T08:22:29Z" */
	assert_int_equal(ei.files[0].modified, (int64_t)timegm(&tm));

	/* Build it from the parsed fields: the captured bytes again. */
	memset(&f, 0, sizeof(f));
	f.name = ei.files[0].name;
	f.size = ei.files[0].size;
	f.modified = ei.files[0].modified;
	memcpy(f.sha1, ei.files[0].sha1, 20);
	memcpy(f.sha256, ei.files[0].sha256, 32);
	memset(&cmd, 0, sizeof(cmd));
	cmd.program = "AM_Base.exe";
	cmd.codes = rc0;
	cmd.n_codes = 1;
	memset(&u, 0, sizeof(u));
	u.default_language = "en";
	u.handler = FRAGMENT_HANDLER_CMDLINE;
	u.has_download_sizes = true;
	u.max_download_size = ei.max_download_size;
	u.impact = FRAGMENT_IMPACT_MINOR;
	u.files = &f;
	u.n_files = 1;
	u.cmdline = &cmd;
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_extended(&sb, &u, &e), 0);
	assert_string_equal(sbuf_str(&sb), x);
	fragment_extended_info_release(&ei);
	free(x);

	/* flow/000015 200957: the bundle's KB article */
	x = capture_xml("flow/000015", "200957", "<ExtendedProperties");
	assert_int_equal(fragment_parse_extended(x, strlen(x), &ei, &e), 0);
	assert_string_equal(ei.kb_article_id, "2267602");
	assert_string_equal(ei.support_url,
	    "https://go.microsoft.com/fwlink/?LinkId=52661");
	assert_null(ei.handler);
	assert_true(ei.has_download_sizes);
	assert_int_equal(ei.max_download_size, 0);
	assert_int_equal(ei.n_files, 0);
	assert_null(ei.handler_data_type);
	memset(&u, 0, sizeof(u));
	u.has_download_sizes = true;
	u.support_url = ei.support_url;
	u.kb_article_id = ei.kb_article_id;
	sbuf_reset(&sb);
	assert_int_equal(fragment_build_extended(&sb, &u, &e), 0);
	assert_string_equal(sbuf_str(&sb), x);
	fragment_extended_info_release(&ei);
	free(x);

	/* flow/000015 200712: a member with only the language */
	x = capture_xml("flow/000015", "200712", "<ExtendedProperties");
	assert_int_equal(fragment_parse_extended(x, strlen(x), &ei, &e), 0);
	assert_false(ei.has_download_sizes);
	memset(&u, 0, sizeof(u));
	sbuf_reset(&sb);
	assert_int_equal(fragment_build_extended(&sb, &u, &e), 0);
	assert_string_equal(sbuf_str(&sb), x);
	fragment_extended_info_release(&ei);
	free(x);
	sbuf_release(&sb);
}

static void
test_capture_categories_rebuild(void **state)
{
	struct fragment_extended_info ei;
	struct fragment_localized_info li;
	struct fragment_category c;
	struct wsd_err e;
	struct sbuf sb;
	char *x;

	(void)state;
	sbuf_init(&sb, CAP);

	/* scan/000010 72571: OOBE ZDP, a Product */
	x = capture_xml("scan/000010", "72571", "<ExtendedProperties");
	assert_int_equal(fragment_parse_extended(x, strlen(x), &ei, &e), 0);
	assert_int_equal(ei.category_type, FRAGMENT_CAT_PRODUCT);
	assert_string_equal(ei.handler, FRAGMENT_HANDLER_CATEGORY);
	assert_string_equal(ei.handler_data_type, "cat:Category");
	fragment_extended_info_release(&ei);
	memset(&c, 0, sizeof(c));
	c.update_id = "dd78b8a1-0b20-45c1-add6-4da72e9364cf";
	c.revision_number = 202;
	c.type = FRAGMENT_CAT_PRODUCT;
	c.parent_id = "6964AAB4-C5B5-43BD-A17D-FFB4346A8E1D";
	c.is_installed = "<b.WindowsVersion Comparison=\"GreaterThanOrEqualTo\""
			 " MajorVersion=\"6\" MinorVersion=\"3\" "
			 "ProductType=\"1\" />";
	c.prohibits_subcategories = FRAGMENT_TRUE;
	c.excluded_by_default = FRAGMENT_TRUE;
	assert_int_equal(fragment_build_category_extended(&sb, &c, &e), 0);
	assert_string_equal(sbuf_str(&sb), x);
	free(x);
	x = capture_xml("scan/000008", "72571", "<UpdateIdentity");
	sbuf_reset(&sb);
	assert_int_equal(fragment_build_category_core(&sb, &c, &e), 0);
	assert_string_equal(sbuf_str(&sb), x);
	free(x);
	x = capture_xml("scan/000010", "72571", "<LocalizedProperties");
	assert_int_equal(fragment_parse_localized(x, strlen(x), &li, &e), 0);
	assert_string_equal(li.language, "en");
	assert_string_equal(li.title, "OOBE ZDP");
	sbuf_reset(&sb);
	assert_int_equal(fragment_build_category_localized(&sb, li.language,
			     li.title, li.description, &e),
	    0);
	assert_string_equal(sbuf_str(&sb), x);
	fragment_localized_info_release(&li);
	free(x);

	/* 108226: Microsoft, the Company at the top */
	x = capture_xml("scan/000010", "108226", "<ExtendedProperties");
	assert_int_equal(fragment_parse_extended(x, strlen(x), &ei, &e), 0);
	assert_int_equal(ei.category_type, FRAGMENT_CAT_COMPANY);
	fragment_extended_info_release(&ei);
	memset(&c, 0, sizeof(c));
	c.update_id = "56309036-4C77-4DD9-951A-99EE9C246A94";
	c.revision_number = 101;
	c.type = FRAGMENT_CAT_COMPANY;
	c.prohibits_subcategories = FRAGMENT_FALSE;
	c.prohibits_updates = FRAGMENT_TRUE;
	c.has_display_order = true;
	c.display_order = 1;
	sbuf_reset(&sb);
	assert_int_equal(fragment_build_category_extended(&sb, &c, &e), 0);
	assert_string_equal(sbuf_str(&sb), x);
	free(x);
	/* WSUS sent this id upper case; we write lower case. */
	x = capture_xml("scan/000006", "108226", "<UpdateIdentity");
	sbuf_reset(&sb);
	assert_int_equal(fragment_build_category_core(&sb, &c, &e), 0);
	assert_string_not_equal(sbuf_str(&sb), x);
	assert_int_equal(strcasecmp(sbuf_str(&sb), x), 0);
	assert_non_null(
	    strstr(sbuf_str(&sb), "56309036-4c77-4dd9-951a-99ee9c246a94"));
	free(x);
	x = capture_xml("scan/000010", "108226", "<LocalizedProperties");
	assert_int_equal(fragment_parse_localized(x, strlen(x), &li, &e), 0);
	assert_string_equal(li.title, "Microsoft");
	assert_string_equal(li.description, "Microsoft");
	fragment_localized_info_release(&li);
	free(x);

	/* 108231: Windows, a ProductFamily */
	x = capture_xml("scan/000010", "108231", "<ExtendedProperties");
	assert_int_equal(fragment_parse_extended(x, strlen(x), &ei, &e), 0);
	assert_int_equal(ei.category_type, FRAGMENT_CAT_PRODUCT_FAMILY);
	fragment_extended_info_release(&ei);
	c.type = FRAGMENT_CAT_PRODUCT_FAMILY;
	c.display_order = 2;
	sbuf_reset(&sb);
	assert_int_equal(fragment_build_category_extended(&sb, &c, &e), 0);
	assert_string_equal(sbuf_str(&sb), x);
	free(x);
	sbuf_release(&sb);
}

static void
test_capture_localized(void **state)
{
	struct fragment_localized_info li;
	struct fragment_localized l;
	struct wsd_err e;
	struct sbuf sb;
	char *x;

	(void)state;
	x = capture_xml("flow/000015", "200965", "<LocalizedProperties");
	assert_int_equal(fragment_parse_localized(x, strlen(x), &li, &e), 0);
	assert_string_equal(li.language, "en");
	assert_string_equal(li.title,
	    "Security Intelligence Update for Microsoft Defender Antivirus - "
	    "KB2267602 (Version 1.459.546.0) - Current Channel (Broad)");
	assert_non_null(li.description);
	assert_true(
	    strncmp(li.description, "Install this update to revise", 29) == 0);
	assert_null(li.uninstall_notes);
	assert_string_equal(li.more_info_url,
	    "https://go.microsoft.com/fwlink/?linkid=2007160");
	assert_string_equal(li.support_url,
	    "https://go.microsoft.com/fwlink/?LinkId=REDACTED");
	memset(&l, 0, sizeof(l));
	l.language = li.language;
	l.title = li.title;
	l.description = li.description;
	l.more_info_url = li.more_info_url;
	l.support_url = li.support_url;
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_localized(&sb, &l, &e), 0);
	assert_string_equal(sbuf_str(&sb), x);
	sbuf_release(&sb);
	fragment_localized_info_release(&li);
	free(x);

	x = capture_xml("flow/000015", "199594", "<LocalizedProperties");
	assert_int_equal(fragment_parse_localized(x, strlen(x), &li, &e), 0);
	assert_string_equal(li.title,
	    "Bases 1.459.0.0 for Defender amd64fre Broad Full");
	assert_null(li.description);
	fragment_localized_info_release(&li);
	free(x);
}

/* ------------------------------------------------------------------ */
/* Escaping and refusals                                               */

static void
test_escaping_hostile(void **state)
{
	static const char *const bad[] = {
		"a\x01z",             /* C0 control */
		"a\x7fz",             /* DEL */
		"a\xc2\x85z",         /* C1 control (NEL) */
		"a\xc3\x28z",         /* broken UTF-8 */
		"a\xc0\xafz",         /* overlong '/' */
		"a\xed\xa0\x80z",     /* surrogate */
		"a\xef\xbf\xbez",     /* U+FFFE */
		"a\xf4\x90\x80\x80z", /* above U+10FFFF */
	};
	const char *title = "<script>alert(\"x\")</script> & ]]> 'q' Grüße ✓";
	struct fragment_localized l = { .language = "en", .title = title };
	struct fragment_localized_info li;
	struct fragment_update u;
	struct fragment_file f;
	struct fragment_extended_info ei;
	struct wsd_err e;
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_localized(&sb, &l, &e), 0);
	assert_string_equal(sbuf_str(&sb),
	    "<LocalizedProperties><Language>en</Language><Title>"
	    "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; ]]&gt; "
	    "'q' Grüße ✓</Title></LocalizedProperties>");
	assert_int_equal(fragment_parse_localized(sb.sb_buf, sb.sb_len, &li,
			     &e),
	    0);
	assert_string_equal(li.title, title);
	fragment_localized_info_release(&li);

	/* Tab, LF and CR survive as character references, on one line. */
	sbuf_reset(&sb);
	l.title = "t";
	l.description = "one\ntwo\tthree\r";
	assert_int_equal(fragment_build_localized(&sb, &l, &e), 0);
	assert_non_null(strstr(sbuf_str(&sb),
	    "<Description>one&#10;two&#9;three&#13;</Description>"));
	assert_int_equal(fragment_parse_localized(sb.sb_buf, sb.sb_len, &li,
			     &e),
	    0);
	assert_string_equal(li.description, l.description);
	fragment_localized_info_release(&li);
	l.description = NULL;

	/* Refusals leave what was in the buffer before. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sbuf_reset(&sb);
		assert_int_equal(sbuf_adds(&sb, "KEEP"), 0);
		l.title = bad[i];
		assert_int_equal(fragment_build_localized(&sb, &l, &e),
		    WSD_EINVAL);
		assert_string_equal(sbuf_str(&sb), "KEEP");
	}

	/* Attribute values: quotes and ampersands in a file name. */
	small_update(&u, &f);
	f.name = "a\"b&<c>.exe";
	sbuf_reset(&sb);
	assert_int_equal(fragment_build_extended(&sb, &u, &e), 0);
	assert_non_null(
	    strstr(sbuf_str(&sb), "FileName=\"a&quot;b&amp;&lt;c&gt;.exe\""));
	assert_int_equal(fragment_parse_extended(sb.sb_buf, sb.sb_len, &ei, &e),
	    0);
	assert_string_equal(ei.files[0].name, f.name);
	fragment_extended_info_release(&ei);
	sbuf_release(&sb);
}

static void
test_expression_refusals(void **state)
{
	static const struct {
		const char *xml;
		int rc;
		const char *why; /* in the error text, when not NULL */
	} cases[] = {
		{ "<!DOCTYPE x [<!ENTITY e \"x\">]><b.RegDword />", WSD_EINVAL,
		    "DOCTYPE" },
		{ "<!ENTITY e \"x\"><True />", WSD_EINVAL, "entity" },
		{ "<b.RegDword Key=\"&e;\" />", WSD_EINVAL, "entity" },
		{ "<And>&e;</And>", WSD_EINVAL, "entity" },
		{ "<bar:RegDword Key=\"x\" />", WSD_EINVAL, "colon" },
		{ "<bar:RegDword xmlns:bar=\"urn:x\" Key=\"x\" />", WSD_EINVAL,
		    "namespace" },
		{ "<b.RegDword xmlns=\"urn:x\" />", WSD_EINVAL, "namespace" },
		{ "<And xml:lang=\"en\"><True /></And>", WSD_EINVAL, "colon" },
		{ "<And b:x=\"1\"><True /></And>", WSD_EINVAL, "colon" },
		{ "<True /><False />", WSD_EINVAL, "more than one" },
		{ "text", WSD_EINVAL, NULL },
		{ "x<True />", WSD_EINVAL, NULL },
		{ "", WSD_EINVAL, NULL },
		{ "   ", WSD_EINVAL, NULL },
		{ "<And>", WSD_EINVAL, NULL },
		{ "<And></Or>", WSD_EINVAL, NULL },
		{ "<!-- c --><True />", WSD_EINVAL, NULL },
		{ "<?pi x?><True />", WSD_EINVAL, NULL },
		{ "<?xml version=\"1.0\"?><True />", WSD_EINVAL, NULL },
		{ "<And><![CDATA[x]]></And>", WSD_EINVAL, NULL },
		{ "<True /></wsd-fragment><wsd-fragment>", WSD_EINVAL, NULL },
		{ "<True a=\"1\" a=\"2\" />", WSD_EINVAL, NULL },
	};
	static const char pretty[] =
	    "\n<And>\n  <b.WindowsVersion Comparison='EqualTo' "
	    "MajorVersion=\"10\"/>\n  <b.RegDword Key=\"HKEY_LOCAL_MACHINE\" "
	    "Subkey=\"SOFTWARE\\x&amp;y\" Value=\"v\"\n Comparison=\"EqualTo\" "
	    "Data=\"1\"></b.RegDword>\n</And>\n";
	struct fragment_update u;
	struct fragment_file f;
	struct wsd_err e;
	struct sbuf sb;
	char *deep;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e.what = NULL;
		if (fragment_check_expression(cases[i].xml,
			strlen(cases[i].xml), &e) != cases[i].rc)
			fail_msg("case %zu (%s) not refused", i, cases[i].xml);
		assert_non_null(e.what);
		if (cases[i].why != NULL &&
		    strstr(e.what, cases[i].why) == NULL)
			fail_msg("case %zu: \"%s\" does not say %s", i, e.what,
			    cases[i].why);
	}
	assert_int_equal(fragment_check_expression("<True />", 8, &e), 0);

	/* Through the builder: refused, buffer untouched. */
	small_update(&u, &f);
	u.rules = FRAGMENT_RULES_CUSTOM;
	sbuf_init(&sb, CAP);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sbuf_reset(&sb);
		assert_int_equal(sbuf_adds(&sb, "KEEP"), 0);
		u.is_installed = cases[i].xml;
		assert_int_equal(fragment_build_core(&sb, &u, &e), cases[i].rc);
		assert_string_equal(sbuf_str(&sb), "KEEP");
	}

	/* A pretty-printed rule comes out in the WSUS form. */
	u.is_installed = pretty;
	u.is_installable = NULL;
	u.n_supersedes = u.n_prereqs = 0;
	sbuf_reset(&sb);
	assert_int_equal(fragment_build_core(&sb, &u, &e), 0);
	assert_string_equal(sbuf_str(&sb),
	    "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-000000000042\""
	    " RevisionNumber=\"1\" /><Properties UpdateType=\"Software\" "
	    "ExplicitlyDeployable=\"true\" AutoSelectOnWebSites=\"true\" />"
	    "<ApplicabilityRules><IsInstalled><And><b.WindowsVersion "
	    "Comparison=\"EqualTo\" MajorVersion=\"10\" /><b.RegDword "
	    "Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"SOFTWARE\\x&amp;y\" "
	    "Value=\"v\" Comparison=\"EqualTo\" Data=\"1\" /></And>"
	    "</IsInstalled></ApplicabilityRules>");

	/* Depth: 62 levels fit under ApplicabilityRules/IsInstalled. */
	for (int levels = 62; levels <= 63; levels++) {
		struct sbuf d;

		sbuf_init(&d, CAP);
		for (int i = 0; i < levels - 1; i++)
			assert_int_equal(sbuf_adds(&d, "<Not>"), 0);
		assert_int_equal(sbuf_adds(&d, "<True />"), 0);
		for (int i = 0; i < levels - 1; i++)
			assert_int_equal(sbuf_adds(&d, "</Not>"), 0);
		deep = sbuf_detach(&d, NULL);
		assert_int_equal(fragment_check_expression(deep, strlen(deep),
				     &e),
		    levels == 62 ? 0 : WSD_ETOOBIG);
		if (levels == 63)
			assert_non_null(strstr(e.what, "64"));
		u.is_installed = deep;
		sbuf_reset(&sb);
		assert_int_equal(fragment_build_core(&sb, &u, &e),
		    levels == 62 ? 0 : WSD_ETOOBIG);
		free(deep);
	}

	/* Custom rules with no rule at all. */
	u.is_installed = NULL;
	assert_int_equal(fragment_build_core(&sb, &u, &e), WSD_EINVAL);
	sbuf_release(&sb);
}

#define ID_HDR                                                                 \
	"<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-000000000042\" "   \
	"RevisionNumber=\"1\" />"
#define PROPS   "<Properties UpdateType=\"Software\" />"
#define EXT_HDR "<ExtendedProperties DefaultPropertiesLanguage=\"en\" />"
#define GOOD_FILE_ATTRS                                                        \
	"DigestAlgorithm=\"SHA1\" FileName=\"x.cab\" Size=\"3\" "              \
	"Modified=\"2026-10-01T10:00:00Z\""
#define SHA1_ABC "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="

static void
test_parse_refusals(void **state)
{
	static const struct {
		char kind; /* c, e, l */
		const char *xml;
		int rc;
		const char *why; /* in the error text, when not NULL */
	} cases[] = {
		{ 'c', "", WSD_EINVAL, NULL },
		{ 'c', "<!DOCTYPE r [<!ENTITY x \"y\">]>" ID_HDR PROPS,
		    WSD_EINVAL, "DOCTYPE" },
		{ 'c', "<!DOCTYPE r SYSTEM \"http://127.0.0.1:9/x\">" ID_HDR,
		    WSD_EINVAL, "DOCTYPE" },
		{ 'c',
		    "<UpdateIdentity UpdateID=\"&x;\" RevisionNumber=\"1\" "
		    "/>" PROPS,
		    WSD_EINVAL, "entity" },
		{ 'c', ID_HDR PROPS "<Relationships>&x;</Relationships>",
		    WSD_EINVAL, "entity" },
		{ 'c',
		    ID_HDR PROPS
		    "<ApplicabilityRules><IsInstalled>"
		    "<bar:RegDword /></IsInstalled></ApplicabilityRules>",
		    WSD_EINVAL, "colon" },
		{ 'c',
		    ID_HDR PROPS "<ApplicabilityRules xmlns:bar=\"urn:x\">"
				 "<IsInstalled><bar:RegDword /></IsInstalled>"
				 "</ApplicabilityRules>",
		    WSD_EINVAL, "namespace" },
		{ 'c',
		    "<UpdateIdentity xmlns=\"urn:x\" UpdateID=\"a0a0a0a0-0000-"
		    "0000-0000-000000000042\" RevisionNumber=\"1\" />" PROPS,
		    WSD_EINVAL, "namespace" },
		{ 'c', "<?xml version=\"1.0\"?>" ID_HDR PROPS, WSD_EINVAL,
		    "XML declaration" },
		{ 'c', ID_HDR PROPS "<!-- hi -->", WSD_EINVAL, NULL },
		{ 'c', ID_HDR PROPS "<?pi?>", WSD_EINVAL, NULL },
		{ 'c', ID_HDR PROPS "</wsd-fragment><wsd-fragment>", WSD_EINVAL,
		    NULL },
		{ 'c', "<UpdateIdentity", WSD_EINVAL, NULL },
		{ 'c', ID_HDR, WSD_EINVAL, NULL },       /* no Properties */
		{ 'c', PROPS ID_HDR, WSD_EINVAL, NULL }, /* order */
		{ 'c',
		    "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-"
		    "00000000004\" RevisionNumber=\"1\" />" PROPS,
		    WSD_EINVAL, NULL },
		{ 'c',
		    "<UpdateIdentity UpdateID=\"{a0a0a0a0-0000-0000-0000-"
		    "000000000042}\" RevisionNumber=\"1\" />" PROPS,
		    WSD_EINVAL, NULL },
		{ 'c',
		    "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-"
		    "000000000042\" RevisionNumber=\"2147483648\" />" PROPS,
		    WSD_EINVAL, NULL },
		{ 'c',
		    "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-"
		    "000000000042\" RevisionNumber=\"-1\" />" PROPS,
		    WSD_EINVAL, NULL },
		{ 'c',
		    "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-"
		    "000000000042\" />" PROPS,
		    WSD_EINVAL, NULL },
		{ 'c', ID_HDR "<Properties UpdateType=\"Bogus\" />", WSD_EINVAL,
		    NULL },
		{ 'c', ID_HDR "<Properties />", WSD_EINVAL, NULL },
		{ 'c',
		    ID_HDR "<Properties UpdateType=\"Software\" "
			   "ExplicitlyDeployable=\"yes\" />",
		    WSD_EINVAL, NULL },
		{ 'c', ID_HDR PROPS "<Files />", WSD_EINVAL, NULL },
		{ 'c', ID_HDR PROPS "junk", WSD_EINVAL, NULL },
		{ 'c',
		    ID_HDR PROPS "<Relationships><Prerequisites />"
				 "<SupersededUpdates /></Relationships>",
		    WSD_EINVAL, NULL },
		{ 'c',
		    ID_HDR PROPS "<Relationships><Prerequisites><AtLeastOne />"
				 "</Prerequisites></Relationships>",
		    WSD_EINVAL, NULL },
		{ 'c',
		    ID_HDR PROPS
		    "<Relationships><BundledUpdates><AtLeastOne>"
		    "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-"
		    "000000000001\" /></AtLeastOne></BundledUpdates>"
		    "</Relationships>",
		    WSD_EINVAL,
		    NULL }, /* bundled member without RevisionNumber */
		{ 'c',
		    ID_HDR PROPS "<ApplicabilityRules />"
				 "<Relationships />",
		    WSD_EINVAL, NULL },
		{ 'e', "", WSD_EINVAL, NULL },
		{ 'e', "<Files />", WSD_EINVAL, NULL },
		{ 'e', EXT_HDR "<Files><File " GOOD_FILE_ATTRS " /></Files>",
		    WSD_EINVAL, "SHA-1 Digest" },
		{ 'e',
		    EXT_HDR "<Files><File Digest=\"" SHA1_ABC
			    "x\" " GOOD_FILE_ATTRS " /></Files>",
		    WSD_EINVAL, NULL },
		{ 'e',
		    EXT_HDR "<Files><File Digest=\"ungWv48Bz+pBQUDeXa4iI7ADYa"
			    "OWF3qctBD/YfIAFa0=\" " GOOD_FILE_ATTRS
			    " /></Files>",
		    WSD_EINVAL, "SHA-1 Digest" }, /* a SHA-256 is no SHA-1 */
		{ 'e',
		    EXT_HDR
		    "<Files><File Digest=\"" SHA1_ABC "\" "
		    "DigestAlgorithm=\"MD5\" FileName=\"x.cab\" Size=\"3\" "
		    "Modified=\"2026-10-01T10:00:00Z\" /></Files>",
		    WSD_EINVAL, NULL },
		{ 'e',
		    EXT_HDR "<Files><File Digest=\"" SHA1_ABC
			    "\" " GOOD_FILE_ATTRS
			    "><AdditionalDigest Algorithm=\"SHA256\">" SHA1_ABC
			    "</AdditionalDigest></File></Files>",
		    WSD_EINVAL, NULL }, /* 20 bytes where 32 belong */
		{ 'e',
		    EXT_HDR
		    "<Files><File Digest=\"" SHA1_ABC "\" "
		    "DigestAlgorithm=\"SHA1\" FileName=\"../x.cab\" Size=\"3\" "
		    "Modified=\"2026-10-01T10:00:00Z\" /></Files>",
		    WSD_EINVAL, NULL },
		{ 'e',
		    EXT_HDR
		    "<Files><File Digest=\"" SHA1_ABC "\" "
		    "DigestAlgorithm=\"SHA1\" FileName=\"x.cab\" Size=\"3\" "
		    "Modified=\"yesterday\" /></Files>",
		    WSD_EINVAL, NULL },
		{ 'e',
		    EXT_HDR
		    "<Files><File Digest=\"" SHA1_ABC "\" "
		    "DigestAlgorithm=\"SHA1\" FileName=\"x.cab\" Size=\"3\" "
		    "Modified=\"2026-02-30T10:00:00Z\" /></Files>",
		    WSD_EINVAL, NULL },
		{ 'e',
		    EXT_HDR "<Files><File Digest=\"" SHA1_ABC "\" "
			    "DigestAlgorithm=\"SHA1\" FileName=\"x.cab\" "
			    "Modified=\"2026-10-01T10:00:00Z\" /></Files>",
		    WSD_EINVAL, NULL },
		{ 'e',
		    EXT_HDR "<HandlerSpecificData type=\"cat:Category\">"
			    "<CategoryInformation CategoryType=\"Galaxy\" />"
			    "</HandlerSpecificData>",
		    WSD_EINVAL, NULL },
		{ 'e', EXT_HDR "<HandlerSpecificData type=\"cat:Category\" />",
		    WSD_EINVAL, NULL },
		{ 'e', EXT_HDR "<Bogus />", WSD_EINVAL, NULL },
		{ 'e', "<ExtendedProperties MsrcSeverity=\"Apocalyptic\" />",
		    WSD_EINVAL, NULL },
		{ 'e',
		    "<ExtendedProperties><KBArticleID>1</KBArticleID>"
		    "<KBArticleID>2</KBArticleID></ExtendedProperties>",
		    WSD_EINVAL, NULL },
		{ 'l',
		    "<LocalizedProperties><Language>en</Language>"
		    "</LocalizedProperties>",
		    WSD_EINVAL, NULL },
		{ 'l',
		    "<LocalizedProperties><Language>e n</Language><Title>t"
		    "</Title></LocalizedProperties>",
		    WSD_EINVAL, NULL },
		{ 'l',
		    "<LocalizedProperties><Language>en</Language><Title>t"
		    "<b>x</b></Title></LocalizedProperties>",
		    WSD_EINVAL, NULL },
		{ 'l',
		    "<LocalizedProperties><Language>en</Language><Title>t"
		    "</Title></LocalizedProperties><LocalizedProperties />",
		    WSD_EINVAL, NULL },
		{ 'l',
		    "<LocalizedProperties><Language>en</Language><Title>t"
		    "</Title><Title>u</Title></LocalizedProperties>",
		    WSD_EINVAL, NULL },
		{ 'l',
		    "<LocalizedProperties><Language>en</"
		    "Language><Title>&lt;&#x1;"
		    "</Title></LocalizedProperties>",
		    WSD_EINVAL, NULL }, /* &#1; is not an XML 1.0 character */
	};
	struct fragment_core_info ci;
	struct fragment_extended_info ei;
	struct fragment_localized_info li;
	struct wsd_err e;
	static const char nul[] = ID_HDR "\0" PROPS;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *x = cases[i].xml;
		int rc;

		e.what = NULL;
		if (cases[i].kind == 'c')
			rc = fragment_parse_core(x, strlen(x), &ci, &e);
		else if (cases[i].kind == 'e')
			rc = fragment_parse_extended(x, strlen(x), &ei, &e);
		else
			rc = fragment_parse_localized(x, strlen(x), &li, &e);
		if (rc != cases[i].rc)
			fail_msg("case %zu: got %d for %s", i, rc, x);
		assert_non_null(e.what);
		if (cases[i].why != NULL &&
		    strstr(e.what, cases[i].why) == NULL)
			fail_msg("case %zu: \"%s\" does not say %s", i, e.what,
			    cases[i].why);
	}
	assert_int_equal(fragment_parse_core(nul, sizeof(nul) - 1, &ci, &e),
	    WSD_EINVAL);
	assert_non_null(strstr(e.what, "NUL"));
	assert_int_equal(fragment_parse_core(NULL, 0, &ci, &e), WSD_EINVAL);

	/* Tolerated: pretty-printed text, pywsus Modified without Z and
	 * with fractions, members directly under BundledUpdates. */
	{
		static const char pywsus[] =
		    "\n  " EXT_HDR "\n<Files>\n<File Digest=\"" SHA1_ABC "\" "
		    "DigestAlgorithm=\"SHA1\" FileName=\"x.cab\" Size=\"3\" "
		    "Modified=\"2010-11-25T15:26:20.723\">\n</File></Files>\n";
		static const char direct[] = ID_HDR PROPS
		    "<Relationships><BundledUpdates>"
		    "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-0000-0000-"
		    "000000000001\" RevisionNumber=\"5\" /><UpdateIdentity "
		    "UpdateID=\"a0a0a0a0-0000-0000-0000-000000000002\" "
		    "RevisionNumber=\"6\" /></BundledUpdates></Relationships>";

		assert_int_equal(fragment_parse_extended(pywsus,
				     sizeof(pywsus) - 1, &ei, &e),
		    0);
		assert_int_equal(ei.n_files, 1);
		assert_false(ei.files[0].has_sha256);
		assert_int_equal(ei.files[0].modified, 1290698780);
		fragment_extended_info_release(&ei);
		assert_int_equal(fragment_parse_core(direct, sizeof(direct) - 1,
				     &ci, &e),
		    0);
		assert_int_equal(ci.n_bundled, 2);
		assert_int_equal(ci.bundled[1].clause, 1);
		assert_int_equal(ci.bundled[1].revision, 6);
		fragment_core_info_release(&ci);
	}
}

/* ------------------------------------------------------------------ */
/* Limits                                                              */

static char *
make_superseded(size_t n)
{
	struct sbuf sb;

	sbuf_init(&sb, CAP);
	assert_int_equal(sbuf_adds(&sb,
			     ID_HDR PROPS "<Relationships>"
					  "<SupersededUpdates>"),
	    0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(sbuf_addf(&sb,
				     "<UpdateIdentity UpdateID=\"a0a0a0a0-0000-"
				     "0000-0000-%012zx\" />",
				     i),
		    0);
	assert_int_equal(sbuf_adds(&sb, "</SupersededUpdates></Relationships>"),
	    0);
	return sbuf_detach(&sb, NULL);
}

static char *
make_files(size_t n)
{
	struct sbuf sb;

	sbuf_init(&sb, CAP);
	assert_int_equal(sbuf_adds(&sb, EXT_HDR "<Files>"), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(
		    sbuf_addf(&sb,
			"<File Digest=\"" SHA1_ABC "\" "
			"DigestAlgorithm=\"SHA1\" FileName=\"f%zu.cab\" "
			"Size=\"%zu\" Modified=\"2026-10-01T10:00:00Z\" "
			"/>",
			i, i),
		    0);
	assert_int_equal(sbuf_adds(&sb, "</Files>"), 0);
	return sbuf_detach(&sb, NULL);
}

static char *
make_deep(int levels)
{
	struct sbuf sb;

	/* ApplicabilityRules (1), IsInstalled (2), LEVELS-2 more. */
	sbuf_init(&sb, CAP);
	assert_int_equal(sbuf_adds(&sb,
			     ID_HDR PROPS "<ApplicabilityRules><IsInstalled>"),
	    0);
	for (int i = 0; i < levels - 3; i++)
		assert_int_equal(sbuf_adds(&sb, "<Not>"), 0);
	assert_int_equal(sbuf_adds(&sb, "<True />"), 0);
	for (int i = 0; i < levels - 3; i++)
		assert_int_equal(sbuf_adds(&sb, "</Not>"), 0);
	assert_int_equal(sbuf_adds(&sb, "</IsInstalled></ApplicabilityRules>"),
	    0);
	return sbuf_detach(&sb, NULL);
}

static void
test_limits(void **state)
{
	static const char head[] = "<LocalizedProperties><Language>en"
				   "</Language><Title>t</Title><Description>";
	static const char tail[] = "</Description></LocalizedProperties>";
	struct fragment_core_info ci;
	struct fragment_extended_info ei;
	struct fragment_localized_info li;
	struct wsd_err e;
	struct sbuf sb;
	char *x;
	size_t len;

	(void)state;
	/* Bytes: exactly 1 MiB parses, one more byte does not. */
	for (size_t extra = 0; extra <= 1; extra++) {
		size_t fill = WSD_MAX_FRAGMENT_BYTES - (sizeof(head) - 1) -
		    (sizeof(tail) - 1) + extra;
		char chunk[4096];

		memset(chunk, 'a', sizeof(chunk));
		sbuf_init(&sb, CAP);
		assert_int_equal(sbuf_adds(&sb, head), 0);
		for (size_t done = 0; done < fill;) {
			size_t k = fill - done < sizeof(chunk) ? fill - done
							       : sizeof(chunk);

			assert_int_equal(sbuf_add(&sb, chunk, k), 0);
			done += k;
		}
		assert_int_equal(sbuf_adds(&sb, tail), 0);
		x = sbuf_detach(&sb, &len);
		assert_int_equal(len, WSD_MAX_FRAGMENT_BYTES + extra);
		if (extra == 0) {
			assert_int_equal(fragment_parse_localized(x, len, &li,
					     &e),
			    0);
			assert_int_equal(strlen(li.description), fill);
			fragment_localized_info_release(&li);
		} else {
			assert_int_equal(fragment_parse_localized(x, len, &li,
					     &e),
			    WSD_ETOOBIG);
			assert_non_null(strstr(e.what, "1 MiB"));
		}
		free(x);
	}

	/* Depth: 64 levels parse, 65 and 300 do not. */
	x = make_deep(64);
	assert_int_equal(fragment_parse_core(x, strlen(x), &ci, &e), 0);
	fragment_core_info_release(&ci);
	free(x);
	x = make_deep(65);
	assert_int_equal(fragment_parse_core(x, strlen(x), &ci, &e),
	    WSD_ETOOBIG);
	assert_non_null(strstr(e.what, "64"));
	free(x);
	x = make_deep(300); /* past libxml2's own 256 */
	assert_int_equal(fragment_parse_core(x, strlen(x), &ci, &e),
	    WSD_ETOOBIG);
	assert_non_null(strstr(e.what, "64"));
	free(x);

	/* Relationship entries: 10 000 parse, 10 001 do not. */
	x = make_superseded(10000);
	assert_int_equal(fragment_parse_core(x, strlen(x), &ci, &e), 0);
	assert_int_equal(ci.n_supersedes, 10000);
	assert_string_equal(ci.supersedes[9999].s,
	    "a0a0a0a0-0000-0000-0000-00000000270f");
	fragment_core_info_release(&ci);
	free(x);
	x = make_superseded(10001);
	assert_int_equal(fragment_parse_core(x, strlen(x), &ci, &e),
	    WSD_ETOOBIG);
	assert_non_null(strstr(e.what, "10000"));
	assert_null(ci.supersedes); /* released on failure */
	free(x);

	/* Files: 1 000 parse, 1 001 do not. */
	x = make_files(1000);
	assert_int_equal(fragment_parse_extended(x, strlen(x), &ei, &e), 0);
	assert_int_equal(ei.n_files, 1000);
	assert_string_equal(ei.files[999].name, "f999.cab");
	assert_int_equal(ei.files[999].size, 999);
	fragment_extended_info_release(&ei);
	free(x);
	x = make_files(1001);
	assert_int_equal(fragment_parse_extended(x, strlen(x), &ei, &e),
	    WSD_ETOOBIG);
	assert_non_null(strstr(e.what, "1000"));
	free(x);

	/* Attributes on one element: 64 fit, 65 do not. */
	for (int n = 64; n <= 65; n++) {
		sbuf_init(&sb, CAP);
		assert_int_equal(sbuf_adds(&sb, "<LocalizedProperties"), 0);
		for (int i = 0; i < n; i++)
			assert_int_equal(sbuf_addf(&sb, " a%d=\"1\"", i), 0);
		assert_int_equal(sbuf_adds(&sb,
				     "><Language>en</Language>"
				     "<Title>t</Title>"
				     "</LocalizedProperties>"),
		    0);
		assert_int_equal(fragment_parse_localized(sb.sb_buf, sb.sb_len,
				     &li, &e),
		    n == 64 ? 0 : WSD_ETOOBIG);
		fragment_localized_info_release(&li);
		sbuf_release(&sb);
	}

	/* Builders refuse the same bounds. */
	{
		struct fragment_update u;
		struct fragment_file f;
		const char **sup = calloc(10001, sizeof(*sup));
		struct fragment_bundled *bun = calloc(5001, sizeof(*bun));
		struct fragment_file *files = calloc(1001, sizeof(*files));

		assert_non_null(sup);
		assert_non_null(bun);
		assert_non_null(files);
		for (size_t i = 0; i < 10001; i++)
			sup[i] = "a0a0a0a0-0000-0000-0000-000000000001";
		for (size_t i = 0; i < 5001; i++) {
			bun[i].guid = "a0a0a0a0-0000-0000-0000-000000000002";
			bun[i].revision = 1;
		}
		small_update(&u, &f);
		for (size_t i = 0; i < 1001; i++)
			files[i] = f;
		sbuf_init(&sb, CAP);
		u.n_prereqs = 0;
		u.supersedes = sup;
		u.n_supersedes = 10000;
		assert_int_equal(fragment_build_core(&sb, &u, &e), 0);
		u.n_supersedes = 10001;
		assert_int_equal(fragment_build_core(&sb, &u, &e), WSD_ETOOBIG);
		u.n_supersedes = 5000;
		u.bundled = bun;
		u.n_bundled = 5001;
		assert_int_equal(fragment_build_core(&sb, &u, &e), WSD_ETOOBIG);
		u.files = files;
		u.n_files = 1000;
		sbuf_reset(&sb);
		assert_int_equal(fragment_build_extended(&sb, &u, &e), 0);
		u.n_files = 1001;
		assert_int_equal(fragment_build_extended(&sb, &u, &e),
		    WSD_ETOOBIG);
		sbuf_release(&sb);

		/* The output buffer's own cap: released, as sbuf says. */
		sbuf_init(&sb, 64);
		u.n_files = 1;
		assert_int_equal(fragment_build_extended(&sb, &u, &e),
		    WSD_ETOOBIG);
		assert_null(sb.sb_buf);
		free(sup);
		free(bun);
		free(files);
	}
}

static void
test_upper_case_guids(void **state)
{
	static const char up[] =
	    "<UpdateIdentity UpdateID=\"ABCDEF01-2345-6789-ABCD-EF0123456789\" "
	    "RevisionNumber=\"7\" /><Properties UpdateType=\"Detectoid\" />"
	    "<Relationships><SupersededUpdates><UpdateIdentity "
	    "UpdateID=\"FEDCBA98-7654-3210-FEDC-BA9876543210\" />"
	    "</SupersededUpdates><Prerequisites><UpdateIdentity "
	    "UpdateID=\"0FA1201D-4330-4FA8-8AE9-B877473B6441\" />"
	    "<AtLeastOne IsCategory=\"1\"><UpdateIdentity "
	    "UpdateID=\"E6CF1350-C01B-414D-A61F-263D14D133B4\" /></AtLeastOne>"
	    "</Prerequisites><BundledUpdates><AtLeastOne><UpdateIdentity "
	    "UpdateID=\"CD5FFD1E-E932-4E3A-BF74-18BF0B1BBD83\" "
	    "RevisionNumber=\"3\" /></AtLeastOne></BundledUpdates>"
	    "</Relationships>";
	struct fragment_core_info ci;
	struct fragment_update u;
	struct wsd_err e;
	struct sbuf sb;

	(void)state;
	assert_int_equal(fragment_parse_core(up, sizeof(up) - 1, &ci, &e), 0);
	assert_string_equal(ci.update_id,
	    "abcdef01-2345-6789-abcd-ef0123456789");
	assert_int_equal(ci.type, FRAGMENT_TYPE_DETECTOID);
	assert_string_equal(ci.supersedes[0].s,
	    "fedcba98-7654-3210-fedc-ba9876543210");
	assert_string_equal(ci.prereqs[0].guid,
	    "0fa1201d-4330-4fa8-8ae9-b877473b6441");
	assert_string_equal(ci.prereqs[1].guid,
	    "e6cf1350-c01b-414d-a61f-263d14d133b4");
	assert_true(ci.prereqs[1].is_category);
	assert_string_equal(ci.bundled[0].guid,
	    "cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83");
	assert_int_equal(ci.bundled[0].revision, 3);
	assert_false(ci.has_applicability);
	fragment_core_info_release(&ci);

	/* Built from upper case, written lower case. */
	memset(&u, 0, sizeof(u));
	u.update_id = "ABCDEF01-2345-6789-ABCD-EF0123456789";
	u.type = FRAGMENT_TYPE_SOFTWARE;
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_core(&sb, &u, &e), 0);
	assert_non_null(strstr(sbuf_str(&sb),
	    "UpdateID=\"abcdef01-2345-6789-abcd-ef0123456789\" "
	    "RevisionNumber=\"0\""));
	sbuf_release(&sb);
}

static void
test_build_refusals(void **state)
{
	static const struct fragment_prereq mixed_m[] = {
		{ "a0a0a0a0-0000-0000-0000-000000000001", false },
		{ "a0a0a0a0-0000-0000-0000-000000000002", true },
	};
	static const struct fragment_clause mixed[] = { { mixed_m, 2 } };
	static const struct fragment_clause empty[] = { { NULL, 0 } };
	static const char *const badsup[] = { "not-a-guid" };
	static const struct fragment_return_code nores[] = {
		{ 0, FRAGMENT_RESULT_UNSET, FRAGMENT_UNSET },
	};
	struct fragment_cmdline cmd = small_cmd;
	struct fragment_update u;
	struct fragment_file f;
	struct fragment_localized l = { .language = "en", .title = "t" };
	struct fragment_category c;
	struct wsd_err e;
	struct sbuf sb;
	int n = 0;

	(void)state;
	sbuf_init(&sb, CAP);
#define REFUSE(call)                                                           \
	do {                                                                   \
		sbuf_reset(&sb);                                               \
		assert_int_equal(sbuf_adds(&sb, "KEEP"), 0);                   \
		e.what = NULL;                                                 \
		assert_int_equal((call), WSD_EINVAL);                          \
		assert_non_null(e.what);                                       \
		assert_string_equal(sbuf_str(&sb), "KEEP");                    \
		n++;                                                           \
	} while (0)

	small_update(&u, &f);
	u.update_id = "a0a0a0a0-0000-0000-0000-00000000004";
	REFUSE(fragment_build_core(&sb, &u, &e));
	u.update_id = NULL;
	REFUSE(fragment_build_core(&sb, &u, &e));
	small_update(&u, &f);
	u.supersedes = badsup;
	REFUSE(fragment_build_core(&sb, &u, &e));
	small_update(&u, &f);
	u.prereqs = mixed;
	u.n_prereqs = 1;
	REFUSE(fragment_build_core(&sb, &u, &e));
	u.prereqs = empty;
	REFUSE(fragment_build_core(&sb, &u, &e));
	small_update(&u, &f);
	u.revision_number = UINT32_C(2147483648);
	REFUSE(fragment_build_core(&sb, &u, &e));
	small_update(&u, &f);
	u.type = FRAGMENT_TYPE_CATEGORY;
	REFUSE(fragment_build_core(&sb, &u, &e));
	small_update(&u, &f);
	u.rules = (enum fragment_rules)9;
	REFUSE(fragment_build_core(&sb, &u, &e));

	small_update(&u, &f);
	u.handler = NULL;
	REFUSE(fragment_build_extended(&sb, &u, &e));
	small_update(&u, &f);
	f.name = "dir/tool.exe";
	REFUSE(fragment_build_extended(&sb, &u, &e));
	f.name = "..";
	REFUSE(fragment_build_extended(&sb, &u, &e));
	small_update(&u, &f);
	f.modified = INT64_C(253402300800); /* year 10000 */
	REFUSE(fragment_build_extended(&sb, &u, &e));
	small_update(&u, &f);
	f.patching_type = "Self Contained";
	REFUSE(fragment_build_extended(&sb, &u, &e));
	small_update(&u, &f);
	u.default_language = "en us";
	REFUSE(fragment_build_extended(&sb, &u, &e));
	small_update(&u, &f);
	u.min_download_size = 4; /* above MaxDownloadSize */
	REFUSE(fragment_build_extended(&sb, &u, &e));
	small_update(&u, &f);
	u.msrc_severity = (enum fragment_severity)42;
	REFUSE(fragment_build_extended(&sb, &u, &e));
	small_update(&u, &f);
	cmd.codes = nores;
	cmd.n_codes = 1;
	u.cmdline = &cmd;
	REFUSE(fragment_build_extended(&sb, &u, &e));
	cmd = small_cmd;
	cmd.program = "";
	REFUSE(fragment_build_extended(&sb, &u, &e));
	small_update(&u, &f);
	u.kb_article_id = "12\x01";
	REFUSE(fragment_build_extended(&sb, &u, &e));

	l.title = "";
	REFUSE(fragment_build_localized(&sb, &l, &e));
	l.title = "t";
	l.language = "";
	REFUSE(fragment_build_localized(&sb, &l, &e));

	memset(&c, 0, sizeof(c));
	c.update_id = "56309036-4c77-4dd9-951a-99ee9c246a94";
	REFUSE(fragment_build_category_extended(&sb, &c, &e)); /* no type */
	c.type = FRAGMENT_CAT_PRODUCT;
	c.parent_id = "nope";
	REFUSE(fragment_build_category_core(&sb, &c, &e));
	c.parent_id = NULL;
	c.is_installed = "<a:b />";
	REFUSE(fragment_build_category_core(&sb, &c, &e));
	REFUSE(fragment_build_category_localized(&sb, "en", NULL, NULL, &e));
#undef REFUSE
	assert_int_equal(n, 25);
	sbuf_release(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_small_exact),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_capture_core_categories),
		cmocka_unit_test(test_capture_core_bundle),
		cmocka_unit_test(test_capture_detectoid_rebuild),
		cmocka_unit_test(test_capture_extended),
		cmocka_unit_test(test_capture_categories_rebuild),
		cmocka_unit_test(test_capture_localized),
		cmocka_unit_test(test_escaping_hostile),
		cmocka_unit_test(test_expression_refusals),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_upper_case_guids),
		cmocka_unit_test(test_build_refusals),
	};

	xmlInitParser();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
