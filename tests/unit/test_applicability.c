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

#include "catalog/applicability.h"
#include "catalog/fragment.h"
#include "common/sbuf.h"
#include "common/wsd_err.h"

/*
 * Rule files write a backslash as \\ inside quotes: RB is that pair as it
 * appears in the rule file, XB the single backslash of the XML output.
 */
#define RB "\\\\"
#define XB "\\"

#define VECTORS                                                                \
	TEST_SRCDIR "/../shared/protocol/vectors/native-capture-wsus-rs/"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

struct out {
	struct sbuf inst, able;
	size_t line;
	struct wsd_err err;
	int rc;
};

static void
run(struct out *o, const char *text, size_t len)
{
	sbuf_init(&o->inst, WSD_APPL_XML_CAP);
	sbuf_init(&o->able, WSD_APPL_XML_CAP);
	o->line = 12345;
	o->err.code = WSD_OK;
	o->err.what = NULL;
	o->rc = applicability_compile(text, len, &o->inst, &o->able, &o->line,
	    &o->err);
}

static void
out_release(struct out *o)
{
	sbuf_release(&o->inst);
	sbuf_release(&o->able);
}

static bool
allowed_element(const char *name)
{
	static const char *const fixed[] = { "r", "i", "j", "And", "Or", "Not",
		"True", "False" };

	if (strchr(name, ':') != NULL)
		return false;
	for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++)
		if (strcmp(name, fixed[k]) == 0)
			return true;
	return strncmp(name, "b.", 2) == 0 && name[2] >= 'A' && name[2] <= 'Z';
}

static void
walk(const xmlNode *n, size_t *nelem)
{
	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		(*nelem)++;
		if (!allowed_element((const char *)n->name))
			fail_msg("unexpected element name <%s>", n->name);
		assert_null(n->ns);
		assert_null(n->nsDef);
		walk(n->children, nelem);
	}
}

/*
 * The two expressions, wrapped in a dummy root, must be well-formed XML
 * for libxml2 (no network, no entity expansion) and every element name
 * must be colon-free: And/Or/Not/True/False or b.Something.
 */
static xmlDoc *
parse_wrapped(const char *inst, const char *able)
{
	struct sbuf sb;
	xmlDoc *doc;
	size_t nelem = 0;

	sbuf_init(&sb, 4 * WSD_APPL_XML_CAP);
	assert_int_equal(sbuf_adds(&sb, "<r><i>"), 0);
	assert_int_equal(sbuf_adds(&sb, inst), 0);
	assert_int_equal(sbuf_adds(&sb, "</i><j>"), 0);
	assert_int_equal(sbuf_adds(&sb, able), 0);
	assert_int_equal(sbuf_adds(&sb, "</j></r>"), 0);
	doc = xmlReadMemory(sbuf_str(&sb), (int)sb.sb_len, "appl.xml", NULL,
	    XML_PARSE_NONET);
	sbuf_release(&sb);
	assert_non_null(doc);
	walk(xmlDocGetRootElement(doc), &nelem);
	assert_true(nelem >= 5); /* r, i, j and one expression each */
	return doc;
}

static void
check_xml(const char *inst, const char *able)
{
	xmlFreeDoc(parse_wrapped(inst, able));
}

static void
expect_ok(const char *text, const char *inst, const char *able)
{
	struct out o;

	run(&o, text, strlen(text));
	if (o.rc != 0)
		fail_msg("line %zu: %s\n--- input:\n%s", o.line,
		    o.err.what ? o.err.what : "(null)", text);
	assert_int_equal(o.line, 0);
	assert_string_equal(sbuf_str(&o.inst), inst);
	assert_string_equal(sbuf_str(&o.able), able);
	/* One line, no XML declaration, no namespace declaration. */
	assert_null(strchr(sbuf_str(&o.inst), '\n'));
	assert_null(strstr(sbuf_str(&o.inst), "xmlns"));
	assert_null(strstr(sbuf_str(&o.able), "xmlns"));
	check_xml(sbuf_str(&o.inst), sbuf_str(&o.able));
	out_release(&o);
}

/* One rule in [installed]; [installable] stays <True />. */
static void
expect_rule(const char *rule, const char *xml)
{
	char text[8192];

	assert_true((size_t)snprintf(text, sizeof(text), "[installed]\n%s\n",
			rule) < sizeof(text));
	expect_ok(text, xml, "<True />");
}

/* Fails with CODE on LINE with exactly WHAT; both outputs untouched. */
static void
expect_err_len(const char *text, size_t len, int code, size_t line,
    const char *what)
{
	struct sbuf inst, able;
	struct wsd_err err = { WSD_OK, NULL };
	size_t l = 12345;
	int rc;

	sbuf_init(&inst, WSD_APPL_XML_CAP);
	sbuf_init(&able, WSD_APPL_XML_CAP);
	assert_int_equal(sbuf_adds(&inst, "PRE1"), 0);
	assert_int_equal(sbuf_adds(&able, "PRE2"), 0);
	rc = applicability_compile(text, len, &inst, &able, &l, &err);
	if (rc != code || l != line || err.what == NULL ||
	    strcmp(err.what, what) != 0)
		fail_msg("want %d line %zu \"%s\", got %d line %zu \"%s\"\n"
			 "--- input:\n%.*s",
		    code, line, what, rc, l, err.what ? err.what : "(null)",
		    (int)len, text);
	assert_int_equal(err.code, code);
	assert_string_equal(sbuf_str(&inst), "PRE1");
	assert_string_equal(sbuf_str(&able), "PRE2");
	sbuf_release(&inst);
	sbuf_release(&able);
}

static void
expect_err(const char *text, int code, size_t line, const char *what)
{
	expect_err_len(text, strlen(text), code, line, what);
}

static char *
slurp(const char *path)
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
	return buf;
}

/*
 * The capture carries fragments as escaped text inside <Xml>: < and >
 * are &lt; &gt;, quotes stay as they are.
 */
static char *
escape_lt_gt(const char *s)
{
	struct sbuf sb;

	sbuf_init(&sb, 4 * WSD_APPL_XML_CAP);
	for (; *s != '\0'; s++) {
		int rc;

		if (*s == '<')
			rc = sbuf_adds(&sb, "&lt;");
		else if (*s == '>')
			rc = sbuf_adds(&sb, "&gt;");
		else
			rc = sbuf_add(&sb, s, 1);
		assert_int_equal(rc, 0);
	}
	return sbuf_detach(&sb, NULL);
}

static void
expect_in_capture(const char *capture, const char *xml)
{
	char *body = slurp(capture);
	char *needle = escape_lt_gt(xml);

	if (strstr(body, needle) == NULL)
		fail_msg("not in %s:\n%s", capture, xml);
	free(needle);
	free(body);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* ------------------------------------------------------------------ */
/* Each rule type -> exact XML                                         */

static void
test_rule_windows(void **state)
{
	(void)state;
	expect_rule("windows >= 10.0.19041",
	    "<b.WindowsVersion Comparison=\"GreaterThanOrEqualTo\" "
	    "MajorVersion=\"10\" MinorVersion=\"0\" BuildNumber=\"19041\" />");
	expect_rule("windows = 6.3",
	    "<b.WindowsVersion Comparison=\"EqualTo\" MajorVersion=\"6\" "
	    "MinorVersion=\"3\" />");
	expect_rule("windows < 10",
	    "<b.WindowsVersion Comparison=\"LessThan\" MajorVersion=\"10\" />");
	expect_rule("windows<=10.0",
	    "<b.WindowsVersion Comparison=\"LessThanOrEqualTo\" "
	    "MajorVersion=\"10\" MinorVersion=\"0\" />");
	expect_rule("WINDOWS > 6.1.7601",
	    "<b.WindowsVersion Comparison=\"GreaterThan\" MajorVersion=\"6\" "
	    "MinorVersion=\"1\" BuildNumber=\"7601\" />");
	expect_rule("windows >= 6.3 product-type workstation",
	    "<b.WindowsVersion Comparison=\"GreaterThanOrEqualTo\" "
	    "MajorVersion=\"6\" MinorVersion=\"3\" ProductType=\"1\" />");
	expect_rule("windows product-type 1",
	    "<b.WindowsVersion Comparison=\"EqualTo\" ProductType=\"1\" />");
	expect_rule("windows product-type domain-controller",
	    "<b.WindowsVersion Comparison=\"EqualTo\" ProductType=\"2\" />");
	expect_rule("windows product-type server # comment",
	    "<b.WindowsVersion Comparison=\"EqualTo\" ProductType=\"3\" />");
	expect_rule("windows = 65535.65535.65535",
	    "<b.WindowsVersion Comparison=\"EqualTo\" MajorVersion=\"65535\" "
	    "MinorVersion=\"65535\" BuildNumber=\"65535\" />");
}

static void
test_rule_file_exists(void **state)
{
	static const struct {
		const char *var;
		const char *csidl;
	} folders[] = {
		{ "%SystemRoot%", "36" },
		{ "%WINDIR%", "36" },
		{ "%System32%", "37" },
		{ "%ProgramFiles%", "38" },
		{ "%programfiles(x86)%", "42" },
		{ "%CommonProgramFiles%", "43" },
		{ "%ProgramData%", "35" },
	};

	(void)state;
	expect_rule("file-exists \"%ProgramFiles%" RB "Windows Defender" RB
		    "MpClient.dll\"",
	    "<b.FileExists Path=\"Windows Defender" XB
	    "MpClient.dll\" Csidl=\"38\" />");
	expect_rule("file-exists \"C:" RB "Windows" RB "System32" RB
		    "contoso.dll\"",
	    "<b.FileExists Path=\"C:" XB "Windows" XB "System32" XB
	    "contoso.dll\" />");
	for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
		char rule[128], xml[128];

		snprintf(rule, sizeof(rule), "file-exists \"%s" RB "a.dll\"",
		    folders[i].var);
		snprintf(xml, sizeof(xml),
		    "<b.FileExists Path=\"a.dll\" Csidl=\"%s\" />",
		    folders[i].csidl);
		expect_rule(rule, xml);
	}
}

static void
test_rule_file_version(void **state)
{
	static const struct {
		const char *op, *name;
	} ops[] = {
		{ "<", "LessThan" },
		{ "<=", "LessThanOrEqualTo" },
		{ "=", "EqualTo" },
		{ ">=", "GreaterThanOrEqualTo" },
		{ ">", "GreaterThan" },
	};

	(void)state;
	expect_rule("file-version \"%ProgramFiles%" RB "Contoso" RB
		    "app.exe\" >= 1.2.3.4",
	    "<b.FileVersion Path=\"Contoso" XB
	    "app.exe\" Comparison=\"GreaterThanOrEqualTo\" "
	    "Version=\"1.2.3.4\" Csidl=\"38\" />");
	/* bt:Version is four parts: shorter versions are padded. */
	expect_rule("file-version \"C:" RB "x.exe\" < 2",
	    "<b.FileVersion Path=\"C:" XB
	    "x.exe\" Comparison=\"LessThan\" Version=\"2.0.0.0\" />");
	expect_rule("file-version \"C:" RB "x.exe\" = 1.2",
	    "<b.FileVersion Path=\"C:" XB
	    "x.exe\" Comparison=\"EqualTo\" Version=\"1.2.0.0\" />");
	expect_rule("file-version \"C:" RB "x.exe\" = 010.0.0",
	    "<b.FileVersion Path=\"C:" XB
	    "x.exe\" Comparison=\"EqualTo\" Version=\"10.0.0.0\" />");
	expect_rule("file-version \"C:" RB "x.exe\" >= 65535.65535.65535.65535",
	    "<b.FileVersion Path=\"C:" XB
	    "x.exe\" Comparison=\"GreaterThanOrEqualTo\" "
	    "Version=\"65535.65535.65535.65535\" />");
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		char rule[128], xml[192];

		snprintf(rule, sizeof(rule),
		    "file-version \"%%System32%%" RB "k.dll\" %s 0.0.0.1",
		    ops[i].op);
		snprintf(xml, sizeof(xml),
		    "<b.FileVersion Path=\"k.dll\" Comparison=\"%s\" "
		    "Version=\"0.0.0.1\" Csidl=\"37\" />",
		    ops[i].name);
		expect_rule(rule, xml);
	}
}

static void
test_rule_file_regsz(void **state)
{
	(void)state;
	expect_rule("file-exists-regsz HKLM \"SOFTWARE" RB "Contoso\" "
		    "\"InstallLocation\" \"bin" RB "app.exe\"",
	    "<b.FileExistsPrependRegSz Path=\"bin" XB "app.exe\" "
	    "Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"SOFTWARE" XB "Contoso\" "
	    "Value=\"InstallLocation\" />");
	expect_rule("file-version-regsz HKEY_LOCAL_MACHINE \"SOFTWARE" RB
		    "Contoso\" \"InstallLocation\" \"app.exe\" < 3.1",
	    "<b.FileVersionPrependRegSz Path=\"app.exe\" "
	    "Comparison=\"LessThan\" Version=\"3.1.0.0\" "
	    "Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"SOFTWARE" XB "Contoso\" "
	    "Value=\"InstallLocation\" />");
}

static void
test_rule_registry(void **state)
{
	static const struct {
		const char *op, *name;
	} sops[] = {
		{ "=", "EqualTo" },
		{ "begins-with", "BeginsWith" },
		{ "contains", "Contains" },
		{ "ENDS-WITH", "EndsWith" },
	};

	(void)state;
	expect_rule("registry-key HKLM \"SOFTWARE" RB "Contoso\"",
	    "<b.RegKeyExists Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"SOFTWARE" XB
	    "Contoso\" />");
	expect_rule("registry-key hkey_local_machine \"SOFTWARE\"",
	    "<b.RegKeyExists Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"SOFTWARE\" "
	    "/>");
	expect_rule("registry-value HKLM \"SOFTWARE" RB "Contoso\" \"Flags\"",
	    "<b.RegValueExists Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"SOFTWARE" XB
	    "Contoso\" Value=\"Flags\" />");
	expect_rule("registry-value HKLM \"S\" \"V\" REG_DWORD",
	    "<b.RegValueExists Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"S\" "
	    "Value=\"V\" Type=\"REG_DWORD\" />");
	expect_rule("registry-value HKLM \"S\" \"V\" reg_binary",
	    "<b.RegValueExists Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"S\" "
	    "Value=\"V\" Type=\"REG_BINARY\" />");
	expect_rule("registry-dword HKLM \"SOFTWARE" RB "Contoso\" "
		    "\"Version\" = 5",
	    "<b.RegDword Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"SOFTWARE" XB
	    "Contoso\" Value=\"Version\" Comparison=\"EqualTo\" Data=\"5\" />");
	expect_rule("registry-dword HKLM \"S\" \"V\" >= 0",
	    "<b.RegDword Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"S\" Value=\"V\" "
	    "Comparison=\"GreaterThanOrEqualTo\" Data=\"0\" />");
	expect_rule("registry-dword HKLM \"S\" \"V\" <4294967295",
	    "<b.RegDword Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"S\" Value=\"V\" "
	    "Comparison=\"LessThan\" Data=\"4294967295\" />");
	for (size_t i = 0; i < sizeof(sops) / sizeof(sops[0]); i++) {
		char rule[128], xml[256];

		snprintf(rule, sizeof(rule),
		    "registry-expand-sz HKLM \"S\" \"ImagePath\" %s \"4.18.\"",
		    sops[i].op);
		snprintf(xml, sizeof(xml),
		    "<b.RegExpandSz Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"S\" "
		    "Value=\"ImagePath\" Comparison=\"%s\" Data=\"4.18.\" />",
		    sops[i].name);
		expect_rule(rule, xml);
	}
	/* An empty data string is a legitimate EqualTo operand. */
	expect_rule("registry-expand-sz HKLM \"S\" \"V\" = \"\"",
	    "<b.RegExpandSz Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"S\" "
	    "Value=\"V\" Comparison=\"EqualTo\" Data=\"\" />");
}

/*
 * Rules written to match elements a real WSUS sent: the compiled XML must
 * occur byte for byte in the capture (escaped as it travels in <Xml>).
 */
static void
test_matches_captures(void **state)
{
	static const struct {
		const char *rule, *capture;
	} cases[] = {
		{ "windows >= 10.0.17763", "flow/000001" },
		{ "windows >= 6.3 product-type 1", "scan/000008" },
		{ "windows product-type 1", "flow/000013" },
		{ "registry-key HKLM \"SYSTEM" RB "CurrentControlSet" RB
		  "Services" RB "WinDefend\"",
		    "flow/000001" },
		{ "registry-value HKLM \"SOFTWARE" RB "Microsoft" RB
		  "Windows Defender\" \"DisableAntiSpyware\" REG_DWORD",
		    "flow/000001" },
		{ "registry-value HKLM \"SOFTWARE" RB "Microsoft" RB
		  "Windows Defender" RB "Diagnostics" RB "BlockedVersions" RB
		  "Signatures\" \"1.459.547.0\" REG_BINARY",
		    "flow/000003" },
		{ "registry-dword HKLM \"SOFTWARE" RB "Microsoft" RB
		  "Windows NT" RB "CurrentVersion\" \"UBR\" >= 320",
		    "flow/000001" },
		{ "file-exists \"%ProgramFiles%" RB "Windows Defender" RB
		  "MpClient.dll\"",
		    "flow/000001" },
		{ "file-exists-regsz HKLM \"SOFTWARE" RB "Microsoft" RB
		  "Windows Defender\" \"InstallLocation\" \"MpClient.dll\"",
		    "flow/000001" },
		{ "file-version \"%System32%" RB
		  "MpSigStub.exe\" = 1.1.24010.2001",
		    "flow/000012" },
		{ "file-version-regsz HKLM \"SOFTWARE" RB "Microsoft" RB
		  "Windows Defender" RB "Signature Updates\" "
		  "\"SignatureLocation\" \"mpasdlta.vdm\" > 1.339.0.0",
		    "flow/000012" },
		{ "registry-expand-sz HKLM \"System" RB "CurrentControlSet" RB
		  "Services" RB "WdNisSvc\" \"ImagePath\" contains "
		  "\"4.18.2001.\"",
		    "flow/000013" },
		{ "not registry-dword HKLM \"SOFTWARE" RB "Microsoft" RB
		  "Windows Defender" RB "MpEngine\" \"DisableGradualRelease\" "
		  "> 0",
		    "flow/000012" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[2048], path[512];
		struct out o;

		snprintf(text, sizeof(text), "[installed]\n%s\n",
		    cases[i].rule);
		run(&o, text, strlen(text));
		if (o.rc != 0)
			fail_msg("%s: %s", cases[i].rule, o.err.what);
		snprintf(path, sizeof(path), VECTORS "%s/response.body",
		    cases[i].capture);
		expect_in_capture(path, sbuf_str(&o.inst));
		out_release(&o);
	}
}

/* Whole IsInstalled / IsInstallable expressions WSUS sent. */
static void
test_matches_captured_expressions(void **state)
{
	static const char or_file[] =
	    "# Defender platform update, flow/000001\n"
	    "[installed]\n"
	    "any: windows < 10.0.17763\n"
	    "any: not registry-value HKLM \"SOFTWARE" RB "Microsoft" RB
	    "Windows Defender\" \"UUPFlags\" REG_DWORD\n"
	    "any: registry-dword HKLM \"SOFTWARE" RB "Microsoft" RB
	    "Windows Defender\" \"UUPFlags\" = 0\n";
	static const char and_file[] =
	    "# flow/000012\n"
	    "[installable]\n"
	    "not registry-dword HKLM \"SOFTWARE" RB "Microsoft" RB
	    "Windows Defender" RB "MpEngine\" \"DisableGradualRelease\" > 0\n"
	    "file-version-regsz HKLM \"SOFTWARE" RB "Microsoft" RB
	    "Windows Defender" RB "Signature Updates\" \"SignatureLocation\" "
	    "\"mpasdlta.vdm\" > 1.339\n"
	    "registry-value HKLM \"SOFTWARE" RB "Microsoft" RB
	    "Windows Defender" RB "MpEngine\" \"MpEngineRing\" REG_DWORD\n"
	    "registry-dword HKLM \"SOFTWARE" RB "Microsoft" RB
	    "Windows Defender" RB "MpEngine\" \"MpEngineRing\" = 3\n"
	    "[installed]\n"
	    "file-version \"%System32%" RB "MpSigStub.exe\" = 1.1.24010.2001\n";
	struct sbuf sb;
	struct out o;

	(void)state;
	run(&o, or_file, strlen(or_file));
	assert_int_equal(o.rc, 0);
	assert_string_equal(sbuf_str(&o.able), "<True />");
	sbuf_init(&sb, WSD_APPL_XML_CAP);
	assert_int_equal(sbuf_adds(&sb, "<IsInstalled>"), 0);
	assert_int_equal(sbuf_adds(&sb, sbuf_str(&o.inst)), 0);
	assert_int_equal(sbuf_adds(&sb, "</IsInstalled>"), 0);
	expect_in_capture(VECTORS "flow/000001/response.body", sbuf_str(&sb));
	sbuf_release(&sb);
	out_release(&o);

	run(&o, and_file, strlen(and_file));
	assert_int_equal(o.rc, 0);
	sbuf_init(&sb, WSD_APPL_XML_CAP);
	assert_int_equal(sbuf_adds(&sb, "<ApplicabilityRules><IsInstalled>"),
	    0);
	assert_int_equal(sbuf_adds(&sb, sbuf_str(&o.inst)), 0);
	assert_int_equal(sbuf_adds(&sb, "</IsInstalled><IsInstallable>"), 0);
	assert_int_equal(sbuf_adds(&sb, sbuf_str(&o.able)), 0);
	assert_int_equal(sbuf_adds(&sb,
			     "</IsInstallable></ApplicabilityRules>"),
	    0);
	expect_in_capture(VECTORS "flow/000012/response.body", sbuf_str(&sb));
	sbuf_release(&sb);
	out_release(&o);
}

/* ------------------------------------------------------------------ */
/* Grouping                                                            */

#define W10 "<b.WindowsVersion Comparison=\"EqualTo\" MajorVersion=\"10\" />"
#define W6  "<b.WindowsVersion Comparison=\"EqualTo\" MajorVersion=\"6\" />"
#define KA  "<b.RegKeyExists Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"A\" />"
#define KB  "<b.RegKeyExists Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"B\" />"
#define KC  "<b.RegKeyExists Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"C\" />"

static void
test_grouping(void **state)
{
	(void)state;
	/* AND of plain rules, in file order. */
	expect_ok("[installable]\nwindows = 10\nregistry-key HKLM \"A\"\n",
	    "<False />", "<And>" W10 KA "</And>");
	/* An any: run alone is just the <Or>. */
	expect_ok("[installable]\nany: windows = 10\nany: windows = 6\n",
	    "<False />", "<Or>" W10 W6 "</Or>");
	/* A run of one needs no <Or>. */
	expect_ok("[installed]\nany: windows = 10\nregistry-key HKLM \"A\"\n",
	    "<And>" W10 KA "</And>", "<True />");
	/* Two runs split by a blank line, then a plain rule. */
	expect_ok("[installed]\n"
		  "any: windows = 10\n"
		  "any: windows = 6\n"
		  "\n"
		  "any: registry-key HKLM \"A\"\n"
		  "any: registry-key HKLM \"B\"\n"
		  "registry-key HKLM \"C\"\n",
	    "<And><Or>" W10 W6 "</Or><Or>" KA KB "</Or>" KC "</And>",
	    "<True />");
	/* A comment line does not end a run; a plain rule does. */
	expect_ok("[installed]\n"
		  "any: windows = 10\n"
		  "# still the same group\n"
		  "any: windows = 6\n"
		  "registry-key HKLM \"C\"\n"
		  "any: registry-key HKLM \"A\"\n"
		  "any: registry-key HKLM \"B\"\n",
	    "<And><Or>" W10 W6 "</Or>" KC "<Or>" KA KB "</Or></And>",
	    "<True />");
	/* not, alone, in an AND and inside an any: run. */
	expect_ok("[installed]\nnot registry-key HKLM \"A\"\n",
	    "<Not>" KA "</Not>", "<True />");
	expect_ok("[installed]\n"
		  "windows = 10\n"
		  "any: not registry-key HKLM \"A\"\n"
		  "any: registry-key HKLM \"B\"\n",
	    "<And>" W10 "<Or><Not>" KA "</Not>" KB "</Or></And>", "<True />");
	/* Sections in either order; a section header ends a run. */
	expect_ok("[installable]\n"
		  "any: windows = 10\n"
		  "[installed]\n"
		  "any: registry-key HKLM \"A\"\n"
		  "any: registry-key HKLM \"B\"\n",
	    "<Or>" KA KB "</Or>", W10);
	/* Keywords are case-insensitive, whitespace is free. */
	expect_ok("  [ INSTALLED ]   # c\n\tANY:\tNOT  registry-key hklm "
		  "\"A\"  # c\n",
	    "<Not>" KA "</Not>", "<True />");
}

static void
test_defaults(void **state)
{
	struct out o;

	(void)state;
	expect_ok("", "<False />", "<True />");
	expect_ok("# nothing here\n\n   \n\t\n", "<False />", "<True />");
	expect_ok("[installed]\n[installable]\n", "<False />", "<True />");
	expect_ok("[installable]\n# empty\n", "<False />", "<True />");
	expect_ok("[installable]\nwindows = 10\n", "<False />", W10);
	expect_ok("[installed]\nwindows = 10", W10, "<True />"); /* no LF */
	/* CRLF line ends and a UTF-8 byte order mark. */
	expect_ok("\xef\xbb\xbf[installed]\r\nwindows = 10\r\n"
		  "[installable]\r\nregistry-key HKLM \"A\"\r\n",
	    W10, KA);
	/* No text at all. */
	run(&o, NULL, 0);
	assert_int_equal(o.rc, 0);
	assert_string_equal(sbuf_str(&o.inst), "<False />");
	assert_string_equal(sbuf_str(&o.able), "<True />");
	out_release(&o);
}

/* Output is appended after what the caller already had. */
static void
test_appends(void **state)
{
	struct sbuf a, b;
	struct wsd_err err;
	size_t line;

	(void)state;
	sbuf_init(&a, WSD_APPL_XML_CAP);
	sbuf_init(&b, WSD_APPL_XML_CAP);
	assert_int_equal(sbuf_adds(&a, "<IsInstalled>"), 0);
	assert_int_equal(sbuf_adds(&b, "<IsInstallable>"), 0);
	assert_int_equal(applicability_compile("[installed]\nwindows = 10\n",
			     strlen("[installed]\nwindows = 10\n"), &a, &b,
			     &line, &err),
	    0);
	assert_string_equal(sbuf_str(&a), "<IsInstalled>" W10);
	assert_string_equal(sbuf_str(&b), "<IsInstallable><True />");
	sbuf_release(&a);
	sbuf_release(&b);
}

/* ------------------------------------------------------------------ */
/* Escaping                                                            */

static void
test_escaping(void **state)
{
	static const char text[] =
	    "[installed]\n"
	    "file-exists \"C:" RB "a&b<c>d\\\"e's.dll\"\n"
	    "[installable]\n"
	    "registry-expand-sz HKLM \"S&<>\\\"\" \"V\\\"&\" = \"<&>\\\"\"\n";
	struct out o;
	xmlDoc *doc;
	xmlNode *n;
	xmlChar *v;

	(void)state;
	run(&o, text, strlen(text));
	assert_int_equal(o.rc, 0);
	assert_string_equal(sbuf_str(&o.inst),
	    "<b.FileExists Path=\"C:" XB "a&amp;b&lt;c&gt;d&quot;e's.dll\" />");
	assert_string_equal(sbuf_str(&o.able),
	    "<b.RegExpandSz Key=\"HKEY_LOCAL_MACHINE\" "
	    "Subkey=\"S&amp;&lt;&gt;&quot;\" Value=\"V&quot;&amp;\" "
	    "Comparison=\"EqualTo\" Data=\"&lt;&amp;&gt;&quot;\" />");

	/* libxml2 reads back exactly the strings of the rule file. */
	doc = parse_wrapped(sbuf_str(&o.inst), sbuf_str(&o.able));
	n = xmlDocGetRootElement(doc)->children->children; /* r/i/FileExists */
	assert_string_equal((const char *)n->name, "b.FileExists");
	v = xmlGetProp(n, (const xmlChar *)"Path");
	assert_string_equal((const char *)v, "C:\\a&b<c>d\"e's.dll");
	xmlFree(v);
	n = xmlDocGetRootElement(doc)->children->next->children;
	assert_string_equal((const char *)n->name, "b.RegExpandSz");
	v = xmlGetProp(n, (const xmlChar *)"Subkey");
	assert_string_equal((const char *)v, "S&<>\"");
	xmlFree(v);
	v = xmlGetProp(n, (const xmlChar *)"Data");
	assert_string_equal((const char *)v, "<&>\"");
	xmlFree(v);
	xmlFreeDoc(doc);
	out_release(&o);

	/* Non-ASCII UTF-8 passes through unchanged. */
	expect_rule("registry-key HKLM \"SOFTWARE" RB "Caf\xc3\xa9 \xe2\x82\xac"
		    "\xf0\x9f\x98\x80\"",
	    "<b.RegKeyExists Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"SOFTWARE" XB
	    "Caf\xc3\xa9 \xe2\x82\xac\xf0\x9f\x98\x80\" />");
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */

#define E_VERSION "version must be 1-4 dot-separated numbers 0-65535"
#define E_WINVER                                                               \
	"windows version must be 1-3 dot-separated numbers 0-65535 "           \
	"(major.minor.build)"
#define E_HIVE "unknown registry hive (only HKLM / HKEY_LOCAL_MACHINE)"
#define E_OP   "expected a comparison operator (<, <=, =, >=, >)"
#define E_SOP                                                                  \
	"expected a string comparison (=, begins-with, contains, ends-with)"
#define E_DWORD "dword must be a decimal number 0-4294967295"
#define E_ABS                                                                  \
	"path must be absolute (C:\\...) or start with a known folder "        \
	"(%ProgramFiles%\\...)"
#define E_REL                                                                  \
	"path must be relative to the registry value (no drive, leading "      \
	"backslash or folder variable)"
#define E_ESC                                                                  \
	"invalid escape in quoted string (write \\\\ for a backslash, \\\" "   \
	"for a quote)"
#define E_EXTRA "unexpected text after the rule"

#define H "[installed]\n# comment\n\n" /* rules then start on line 4 */

static void
test_errors(void **state)
{
	static const struct {
		const char *text;
		int code;
		size_t line;
		const char *what;
	} cases[] = {
		/* Structure */
		{ "windows = 10\n", WSD_EINVAL, 1,
		    "rule outside a section ([installed] or [installable])" },
		{ "# c\n[installd]\n", WSD_EINVAL, 2,
		    "unknown section (installed or installable)" },
		{ "[installed\n", WSD_EINVAL, 1, "malformed section header" },
		{ "[installed] x\n", WSD_EINVAL, 1,
		    "malformed section header" },
		{ "[installed]\n[installable]\n[installed]\n", WSD_EINVAL, 3,
		    "duplicate section" },
		{ H "foo HKLM \"A\"\n", WSD_EINVAL, 4, "unknown rule type" },
		{ H "\"windows\" = 10\n", WSD_EINVAL, 4, "unknown rule type" },
		{ H "any:\n", WSD_EINVAL, 4, "missing rule type" },
		{ H "any: # c\n", WSD_EINVAL, 4, "missing rule type" },
		{ H "not not windows = 10\n", WSD_EINVAL, 4, "'not' twice" },
		{ H "not any: windows = 10\n", WSD_EINVAL, 4,
		    "'any:' must come before 'not'" },
		{ H "any : windows = 10\n", WSD_EINVAL, 4,
		    "unknown rule type" },
		/* Quoting */
		{ H "registry-key HKLM \"SOFTWARE\n", WSD_EINVAL, 4,
		    "unterminated quote" },
		{ H "registry-key HKLM \"SOFTWARE\\\n", WSD_EINVAL, 4,
		    "unterminated quote" },
		{ H "registry-key HKLM \"SOFTWARE\\\"\n", WSD_EINVAL, 4,
		    "unterminated quote" },
		{ H "file-exists \"C:\\Windows\\x.dll\"\n", WSD_EINVAL, 4,
		    E_ESC },
		{ H "registry-key HKLM \"a\tb\"\n", WSD_EINVAL, 4,
		    "control character" },
		/* Versions and numbers */
		{ H "file-version \"C:" RB "a\" >= 1.2.3.4.5\n", WSD_EINVAL, 4,
		    E_VERSION },
		{ H "file-version \"C:" RB "a\" >= 1.65536\n", WSD_EINVAL, 4,
		    E_VERSION },
		{ H "file-version \"C:" RB "a\" >= 1..2\n", WSD_EINVAL, 4,
		    E_VERSION },
		{ H "file-version \"C:" RB "a\" >= 1.\n", WSD_EINVAL, 4,
		    E_VERSION },
		{ H "file-version \"C:" RB "a\" >= .1\n", WSD_EINVAL, 4,
		    E_VERSION },
		{ H "file-version \"C:" RB "a\" >= 1.x\n", WSD_EINVAL, 4,
		    E_VERSION },
		{ H "file-version \"C:" RB "a\" >= -1\n", WSD_EINVAL, 4,
		    E_VERSION },
		{ H "file-version \"C:" RB "a\" >= \"1.2\"\n", WSD_EINVAL, 4,
		    E_VERSION },
		{ H "file-version \"C:" RB "a\" >=\n", WSD_EINVAL, 4,
		    E_VERSION },
		{ H "file-version \"C:" RB "a\" 1.2\n", WSD_EINVAL, 4, E_OP },
		{ H "file-version \"C:" RB "a\" == 1.2\n", WSD_EINVAL, 4,
		    E_VERSION },
		{ H "windows >= 10.0.19041.1\n", WSD_EINVAL, 4, E_WINVER },
		{ H "windows >= 10.0.70000\n", WSD_EINVAL, 4, E_WINVER },
		{ H "windows\n", WSD_EINVAL, 4, E_OP },
		{ H "windows 10\n", WSD_EINVAL, 4, E_OP },
		{ H "windows product-type 4\n", WSD_EINVAL, 4,
		    "unknown product type (workstation, domain-controller, "
		    "server)" },
		{ H "windows product-type\n", WSD_EINVAL, 4,
		    "unknown product type (workstation, domain-controller, "
		    "server)" },
		{ H "windows = 10 product-type 1 x\n", WSD_EINVAL, 4, E_EXTRA },
		{ H "registry-dword HKLM \"A\" \"B\" = 4294967296\n",
		    WSD_EINVAL, 4, E_DWORD },
		{ H "registry-dword HKLM \"A\" \"B\" = -1\n", WSD_EINVAL, 4,
		    E_DWORD },
		{ H "registry-dword HKLM \"A\" \"B\" = 0x10\n", WSD_EINVAL, 4,
		    E_DWORD },
		{ H "registry-dword HKLM \"A\" \"B\" =\n", WSD_EINVAL, 4,
		    E_DWORD },
		{ H "registry-dword HKLM \"A\" \"B\" != 1\n", WSD_EINVAL, 4,
		    E_OP },
		{ H "registry-dword HKLM \"A\" \"B\" => 1\n", WSD_EINVAL, 4,
		    E_DWORD },
		{ H "registry-expand-sz HKLM \"A\" \"B\" like \"x\"\n",
		    WSD_EINVAL, 4, E_SOP },
		{ H "registry-expand-sz HKLM \"A\" \"B\" >= \"x\"\n",
		    WSD_EINVAL, 4, E_SOP },
		{ H "registry-expand-sz HKLM \"A\" \"B\" contains x\n",
		    WSD_EINVAL, 4, "expected a quoted string" },
		/* Registry fields */
		{ H "registry-key HKCU \"A\"\n", WSD_EINVAL, 4, E_HIVE },
		{ H "registry-key HKEY_CURRENT_USER \"A\"\n", WSD_EINVAL, 4,
		    E_HIVE },
		{ H "registry-key \"SOFTWARE\"\n", WSD_EINVAL, 4, E_HIVE },
		{ H "registry-key\n", WSD_EINVAL, 4,
		    "missing registry hive (HKLM)" },
		{ H "registry-key HKLM\n", WSD_EINVAL, 4,
		    "expected a quoted string" },
		{ H "registry-key HKLM SOFTWARE\n", WSD_EINVAL, 4,
		    "expected a quoted string" },
		{ H "registry-key HKLM \"\"\n", WSD_EINVAL, 4,
		    "empty registry subkey" },
		{ H "registry-key HKLM \"" RB "SOFTWARE\"\n", WSD_EINVAL, 4,
		    "registry subkey must not start with a backslash" },
		{ H "registry-value HKLM \"A\" \"\"\n", WSD_EINVAL, 4,
		    "empty registry value name" },
		{ H "registry-value HKLM \"A\" \"B\" REG_SZ\n", WSD_EINVAL, 4,
		    "unknown registry value type (REG_DWORD or REG_BINARY)" },
		{ H "registry-value HKLM \"A\" \"B\" \"REG_DWORD\"\n",
		    WSD_EINVAL, 4,
		    "unknown registry value type (REG_DWORD or REG_BINARY)" },
		{ H "registry-key HKLM \"A\" extra\n", WSD_EINVAL, 4, E_EXTRA },
		{ H "registry-key HKLM \"A\" \"B\"\n", WSD_EINVAL, 4, E_EXTRA },
		{ H "registry-key HKLM \"a\" \"b\" \"c\" \"d\" \"e\"\n",
		    WSD_EINVAL, 4, E_EXTRA },
		{ H "registry-key HKLM \"A\" = = = = = = = = = = = = = = =\n",
		    WSD_EINVAL, 4, E_EXTRA },
		/* Paths */
		{ H "file-exists \"Contoso" RB "app.exe\"\n", WSD_EINVAL, 4,
		    E_ABS },
		{ H "file-exists \"" RB RB "server" RB "share" RB "a.exe\"\n",
		    WSD_EINVAL, 4, E_ABS },
		{ H "file-exists \"" RB "Windows" RB "a.exe\"\n", WSD_EINVAL, 4,
		    E_ABS },
		{ H "file-exists \"C:" RB "\"\n", WSD_EINVAL, 4, E_ABS },
		{ H "file-exists \"C:a.exe\"\n", WSD_EINVAL, 4, E_ABS },
		{ H "file-exists \"\"\n", WSD_EINVAL, 4, "empty path" },
		{ H "file-exists C:" RB "a.exe\n", WSD_EINVAL, 4,
		    "expected a quoted string" },
		{ H "file-exists \"%TEMP%" RB "a.exe\"\n", WSD_EINVAL, 4,
		    "unknown folder variable" },
		{ H "file-exists \"%ProgramFiles" RB "a.exe\"\n", WSD_EINVAL, 4,
		    "unknown folder variable" },
		{ H "file-exists \"%ProgramFiles%\"\n", WSD_EINVAL, 4,
		    "expected \\ and a path after the folder variable" },
		{ H "file-exists \"%ProgramFiles%" RB "\"\n", WSD_EINVAL, 4,
		    "expected \\ and a path after the folder variable" },
		{ H "file-exists \"%ProgramFiles%" RB RB "a\"\n", WSD_EINVAL, 4,
		    "expected \\ and a path after the folder variable" },
		{ H "file-exists \"%ProgramFiles%a.exe\"\n", WSD_EINVAL, 4,
		    "expected \\ and a path after the folder variable" },
		{ H "file-exists-regsz HKLM \"A\" \"B\" \"C:" RB "a.exe\"\n",
		    WSD_EINVAL, 4, E_REL },
		{ H "file-exists-regsz HKLM \"A\" \"B\" \"" RB "a.exe\"\n",
		    WSD_EINVAL, 4, E_REL },
		{ H "file-exists-regsz HKLM \"A\" \"B\" \"%System32%" RB
		    "a\"\n",
		    WSD_EINVAL, 4, E_REL },
		{ H "file-version-regsz HKLM \"A\" \"B\" \"\" = 1\n",
		    WSD_EINVAL, 4, "empty path" },
		/* Characters */
		{ H "windows = 10 \x01\n", WSD_EINVAL, 4, "control character" },
		{ H "# \x1b[31m\n", WSD_EINVAL, 4, "control character" },
		{ H "windows = 10\x7f\n", WSD_EINVAL, 4, "control character" },
		{ H "windows = 10\rwindows = 6\n", WSD_EINVAL, 4,
		    "control character" },
		{ H "registry-key HKLM \"\xc2\x85\"\n", WSD_EINVAL, 4,
		    "control character" },
		{ H "registry-key HKLM \"\xff\"\n", WSD_EINVAL, 4,
		    "invalid UTF-8" },
		{ H "registry-key HKLM \"\xc0\xaf\"\n", WSD_EINVAL, 4,
		    "invalid UTF-8" },
		{ H "registry-key HKLM \"\xe0\x80\xaf\"\n", WSD_EINVAL, 4,
		    "invalid UTF-8" },
		{ H "registry-key HKLM \"\xed\xa0\x80\"\n", WSD_EINVAL, 4,
		    "invalid UTF-8" },
		{ H "registry-key HKLM \"\xf4\x90\x80\x80\"\n", WSD_EINVAL, 4,
		    "invalid UTF-8" },
		{ H "registry-key HKLM \"\xe2\x82\"\n", WSD_EINVAL, 4,
		    "invalid UTF-8" },
		{ H "# \xe2\x82", WSD_EINVAL, 4, "invalid UTF-8" },
		{ H "registry-key HKLM \"\xef\xbf\xbe\"\n", WSD_EINVAL, 4,
		    "character not allowed in XML" },
		/* The error is reported on its own line, not the first. */
		{ "[installable]\nwindows = 10\n\n# x\n[installed]\n"
		  "registry-key HKLM \"A\"\nwindows ~ 1\n",
		    WSD_EINVAL, 7, E_OP },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_err(cases[i].text, cases[i].code, cases[i].line,
		    cases[i].what);
}

static void
test_embedded_nul(void **state)
{
	static const char in_string[] = "[installed]\n"
					"registry-key HKLM \"A\0B\"\n";
	static const char in_comment[] = "[installed]\n"
					 "windows = 10\n"
					 "# a\0b\n";
	static const char at_end[] = "[installed]\nwindows = 10\n\0";

	(void)state;
	expect_err_len(in_string, sizeof(in_string) - 1, WSD_EINVAL, 2,
	    "control character");
	expect_err_len(in_comment, sizeof(in_comment) - 1, WSD_EINVAL, 3,
	    "control character");
	expect_err_len(at_end, sizeof(at_end) - 1, WSD_EINVAL, 3,
	    "control character");
	/* The same text cut before the NUL is fine: LEN is honoured. */
	expect_ok("[installed]\nwindows = 10\n", W10, "<True />");
	{
		struct out o;

		run(&o, at_end, sizeof(at_end) - 2);
		assert_int_equal(o.rc, 0);
		assert_string_equal(sbuf_str(&o.inst), W10);
		out_release(&o);
	}
}

/* ------------------------------------------------------------------ */
/* Linux updates: `linux` and POSIX paths in file-exists              */

#define NOT_W0                                                                 \
	"<Not><b.WindowsVersion Comparison=\"GreaterThanOrEqualTo\" "          \
	"MajorVersion=\"0\" /></Not>"
#define E_NOT_LINUX                                                            \
	"'not linux' is refused: an update only for Windows says so with a "   \
	"windows rule (windows >= 6.1)"
#define E_POSIX_ONLY                                                           \
	"a Linux path (/...) is only allowed in file-exists (wuagent "         \
	"evaluates no other file rule)"
#define E_POSIX_REL   "a Linux path must be absolute (start with /)"
#define E_POSIX_DOTS  "'..' in a Linux path (write the path without it)"
#define E_POSIX_SLASH "'//' in a Linux path (write one /)"
#define E_TOOLONG     "string too long (at most 1024 bytes)"

/* [installed] of "[installed]\nRULE\n", which must compile. */
static char *
compile_one(const char *rule)
{
	char text[256];
	struct out o;
	char *xml;

	assert_true((size_t)snprintf(text, sizeof(text), "[installed]\n%s\n",
			rule) < sizeof(text));
	run(&o, text, strlen(text));
	if (o.rc != 0)
		fail_msg("%s: %s", rule, o.err.what);
	xml = sbuf_detach(&o.inst, NULL);
	out_release(&o);
	return xml;
}

static void
test_rule_linux(void **state)
{
	char *a, *b;

	(void)state;
	expect_rule("linux", NOT_W0);
	expect_rule("LINUX   # for Linux machines", NOT_W0);
	/* Byte for byte what `not windows >= 0` (and only that) gives. */
	a = compile_one("linux");
	b = compile_one("not windows >= 0");
	assert_string_equal(a, b);
	free(b);
	b = compile_one("not windows >= 0.0");
	assert_string_not_equal(a, b); /* MinorVersion="0" too */
	free(b);
	free(a);
	/* ANDed with other rules, and inside any: runs. */
	expect_ok("[installable]\nlinux\nregistry-key HKLM \"A\"\n",
	    "<False />", "<And>" NOT_W0 KA "</And>");
	expect_ok("[installable]\nany: linux\nany: windows = 10\n", "<False />",
	    "<Or>" NOT_W0 W10 "</Or>");
	expect_ok("[installable]\n"
		  "windows = 6\n"
		  "any: registry-key HKLM \"A\"\n"
		  "any: linux\n",
	    "<False />", "<And>" W6 "<Or>" KA NOT_W0 "</Or></And>");
	/* [installed] takes it too (true on every Linux machine). */
	expect_ok("[installed]\nlinux\n", NOT_W0, "<True />");
}

static void
test_rule_file_exists_posix(void **state)
{
	char path[WSD_MAX_APPL_STRING + 2];
	struct sbuf text, xml;
	struct out o;

	(void)state;
	expect_rule("file-exists \"/opt/contoso/widget-2.5\"",
	    "<b.FileExists Path=\"/opt/contoso/widget-2.5\" />");
	expect_rule("not file-exists \"/etc/contoso.conf\"",
	    "<Not><b.FileExists Path=\"/etc/contoso.conf\" /></Not>");
	expect_rule("any: file-exists \"/usr/lib/contoso/\"",
	    "<b.FileExists Path=\"/usr/lib/contoso/\" />");
	expect_rule("file-exists \"/\"", "<b.FileExists Path=\"/\" />");
	/* Dots that are not a ".." component; "." is kept as written. */
	expect_rule("file-exists \"/opt/..x/x../.../a..b/./.hidden\"",
	    "<b.FileExists Path=\"/opt/..x/x../.../a..b/./.hidden\" />");
	/* Escaped for XML; UTF-8 and a backslash (a Linux name byte) kept. */
	expect_rule("file-exists \"/opt/a b/c&d<e>\\\"f" RB "g/caf\xc3\xa9\"",
	    "<b.FileExists Path=\"/opt/a b/c&amp;d&lt;e&gt;&quot;f" XB
	    "g/caf\xc3\xa9\" />");
	/* Windows forms are unchanged beside it. */
	expect_ok("[installed]\n"
		  "any: file-exists \"/opt/x\"\n"
		  "any: file-exists \"%ProgramFiles%" RB "x\"\n"
		  "any: file-exists \"C:" RB "x\"\n",
	    "<Or><b.FileExists Path=\"/opt/x\" />"
	    "<b.FileExists Path=\"x\" Csidl=\"38\" />"
	    "<b.FileExists Path=\"C:" XB "x\" /></Or>",
	    "<True />");

	/* Exactly 1024 bytes is accepted, 1025 is not. */
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	path[WSD_MAX_APPL_STRING] = '\0';
	sbuf_init(&text, 4 * WSD_MAX_APPL_STRING);
	sbuf_init(&xml, 4 * WSD_MAX_APPL_STRING);
	assert_int_equal(sbuf_addf(&text, "[installed]\nfile-exists \"%s\"\n",
			     path),
	    0);
	assert_int_equal(sbuf_addf(&xml, "<b.FileExists Path=\"%s\" />", path),
	    0);
	run(&o, sbuf_str(&text), text.sb_len);
	assert_int_equal(o.rc, 0);
	assert_string_equal(sbuf_str(&o.inst), sbuf_str(&xml));
	out_release(&o);
	sbuf_reset(&text);
	path[WSD_MAX_APPL_STRING] = 'p';
	path[WSD_MAX_APPL_STRING + 1] = '\0';
	assert_int_equal(sbuf_addf(&text, "[installed]\nfile-exists \"%s\"\n",
			     path),
	    0);
	expect_err(sbuf_str(&text), WSD_ETOOBIG, 2, E_TOOLONG);
	sbuf_release(&text);
	sbuf_release(&xml);
}

static void
test_errors_linux(void **state)
{
	static const struct {
		const char *text;
		int code;
		size_t line;
		const char *what;
	} cases[] = {
		/* linux */
		{ H "not linux\n", WSD_EINVAL, 4, E_NOT_LINUX },
		{ H "NOT Linux # c\n", WSD_EINVAL, 4, E_NOT_LINUX },
		{ H "any: not linux\n", WSD_EINVAL, 4, E_NOT_LINUX },
		{ "[installable]\nlinux\nnot linux\n", WSD_EINVAL, 3,
		    E_NOT_LINUX },
		{ H "linux >= 0\n", WSD_EINVAL, 4, E_EXTRA },
		{ H "linux x86_64\n", WSD_EINVAL, 4, E_EXTRA },
		{ H "linux \"/opt\"\n", WSD_EINVAL, 4, E_EXTRA },
		{ H "not not linux\n", WSD_EINVAL, 4, "'not' twice" },
		/* Relative POSIX paths */
		{ H "file-exists \"opt/contoso/widget\"\n", WSD_EINVAL, 4,
		    E_POSIX_REL },
		{ H "file-exists \"./widget\"\n", WSD_EINVAL, 4, E_POSIX_REL },
		{ H "file-exists \"../etc/passwd\"\n", WSD_EINVAL, 4,
		    E_POSIX_REL },
		{ H "file-exists \"~/x\"\n", WSD_EINVAL, 4, E_POSIX_REL },
		/* ... but a drive or a backslash is taken as Windows. */
		{ H "file-exists \"C:/x\"\n", WSD_EINVAL, 4, E_ABS },
		{ H "file-exists \"a" RB "b/c\"\n", WSD_EINVAL, 4, E_ABS },
		{ H "file-exists \"widget\"\n", WSD_EINVAL, 4, E_ABS },
		/* .. components */
		{ H "file-exists \"/opt/../etc/shadow\"\n", WSD_EINVAL, 4,
		    E_POSIX_DOTS },
		{ H "file-exists \"/..\"\n", WSD_EINVAL, 4, E_POSIX_DOTS },
		{ H "file-exists \"/opt/..\"\n", WSD_EINVAL, 4, E_POSIX_DOTS },
		{ H "file-exists \"/opt/../\"\n", WSD_EINVAL, 4, E_POSIX_DOTS },
		/* // runs */
		{ H "file-exists \"//opt/x\"\n", WSD_EINVAL, 4, E_POSIX_SLASH },
		{ H "file-exists \"/opt//x\"\n", WSD_EINVAL, 4, E_POSIX_SLASH },
		{ H "file-exists \"/opt/x//\"\n", WSD_EINVAL, 4,
		    E_POSIX_SLASH },
		{ H "file-exists \"//\"\n", WSD_EINVAL, 4, E_POSIX_SLASH },
		/* Control characters */
		{ H "file-exists \"/opt/\x01x\"\n", WSD_EINVAL, 4,
		    "control character" },
		{ H "file-exists \"/opt/\tx\"\n", WSD_EINVAL, 4,
		    "control character" },
		{ H "file-exists \"/opt/x\x7f\"\n", WSD_EINVAL, 4,
		    "control character" },
		{ H "file-exists \"/opt/\xc2\x9bx\"\n", WSD_EINVAL, 4,
		    "control character" },
		{ H "file-exists \"/opt/\rx\"\n", WSD_EINVAL, 4,
		    "control character" },
		{ H "file-exists \"/opt/\xff\"\n", WSD_EINVAL, 4,
		    "invalid UTF-8" },
		/* Other file rules: no POSIX paths. */
		{ H "file-version \"/opt/contoso/widget\" >= 2.5\n", WSD_EINVAL,
		    4, E_POSIX_ONLY },
		{ H "not file-version \"/usr/bin/x\" < 1\n", WSD_EINVAL, 4,
		    E_POSIX_ONLY },
		{ H "file-exists-regsz HKLM \"A\" \"B\" \"/opt/x\"\n",
		    WSD_EINVAL, 4, E_POSIX_ONLY },
		{ H "file-version-regsz HKLM \"A\" \"B\" \"/x\" = 1\n",
		    WSD_EINVAL, 4, E_POSIX_ONLY },
		/* A relative path with / in file-version: Windows message. */
		{ H "file-version \"opt/x\" = 1\n", WSD_EINVAL, 4, E_ABS },
	};
	static const char nul[] = "[installed]\nfile-exists \"/opt/a\0b\"\n";

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_err(cases[i].text, cases[i].code, cases[i].line,
		    cases[i].what);
	expect_err_len(nul, sizeof(nul) - 1, WSD_EINVAL, 2,
	    "control character");
}

/*
 * What agents make of the output: the compiled expressions in a core
 * fragment, evaluated by fragment_eval_applicability with the rule
 * meanings of wuagent (agent_eval.c, docs/AGENT.md) and of a Windows
 * machine (any Windows version is >= 0; no POSIX path exists).
 */
struct machine {
	bool windows;
	const char *existing; /* the one POSIX path that exists, or NULL */
};

static const char *
rule_attr(const struct fragment_rule *r, const char *name)
{
	for (size_t i = 0; i < r->n_attrs; i++)
		if (strcmp(r->attrs[2 * i], name) == 0)
			return r->attrs[2 * i + 1];
	return NULL;
}

static bool
machine_rule(void *arg, const struct fragment_rule *r)
{
	const struct machine *m = arg;
	const char *path = rule_attr(r, "Path");

	if (strcmp(r->name, "b.WindowsVersion") == 0) {
		/* Only the shape `linux` writes is meant here. */
		assert_string_equal(rule_attr(r, "Comparison"),
		    "GreaterThanOrEqualTo");
		assert_string_equal(rule_attr(r, "MajorVersion"), "0");
		assert_int_equal(r->n_attrs, 2);
		return m->windows;
	}
	if (strcmp(r->name, "b.FileExists") == 0 && !m->windows)
		return path != NULL && path[0] == '/' &&
		    rule_attr(r, "Csidl") == NULL && m->existing != NULL &&
		    strcmp(path, m->existing) == 0;
	return false;
}

static void
evaluate(const char *inst, const char *able, const struct machine *m,
    struct fragment_applicability *a)
{
	struct sbuf core;
	struct wsd_err err = { WSD_OK, NULL };

	sbuf_init(&core, 4 * WSD_APPL_XML_CAP);
	assert_int_equal(sbuf_addf(&core,
			     "<ApplicabilityRules><IsInstalled>%s"
			     "</IsInstalled><IsInstallable>%s</IsInstallable>"
			     "</ApplicabilityRules>",
			     inst, able),
	    0);
	if (fragment_eval_applicability(sbuf_str(&core), core.sb_len,
		machine_rule, (void *)(uintptr_t)m, a, &err) != 0)
		fail_msg("eval: %s", err.what);
	sbuf_release(&core);
}

static void
test_linux_example_file(void **state)
{
	/* The example of docs/APPLICABILITY.md, "Linux updates". */
	static const char text[] =
	    "[installable]\n"
	    "linux\n"
	    "not file-exists \"/opt/contoso/widget-2.5\"\n"
	    "[installed]\n"
	    "file-exists \"/opt/contoso/widget-2.5\"\n";
	static const char want_able[] =
	    "<And>" NOT_W0
	    "<Not><b.FileExists Path=\"/opt/contoso/widget-2.5\" /></Not>"
	    "</And>";
	static const char want_inst[] =
	    "<b.FileExists Path=\"/opt/contoso/widget-2.5\" />";
	static const struct {
		struct machine m;
		bool not_windows, installed, installable;
	} cases[] = {
		/* Linux, not yet installed: needed. */
		{ { false, NULL }, true, false, true },
		{ { false, "/opt/contoso/widget-2.4" }, true, false, true },
		/* Linux, installed: detected, no longer installable. */
		{ { false, "/opt/contoso/widget-2.5" }, true, true, false },
		/* Windows: never installable, not installed. */
		{ { true, NULL }, true, false, false },
	};
	struct out o;

	(void)state;
	expect_ok(text, want_inst, want_able);
	run(&o, text, strlen(text));
	assert_int_equal(o.rc, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fragment_applicability a;

		evaluate(sbuf_str(&o.inst), sbuf_str(&o.able), &cases[i].m, &a);
		assert_true(a.has_is_installed && a.has_is_installable);
		assert_int_equal(a.not_windows, cases[i].not_windows);
		assert_int_equal(a.is_installed, cases[i].installed);
		assert_int_equal(a.is_installable, cases[i].installable);
	}
	out_release(&o);
}

/* ------------------------------------------------------------------ */
/* Limits                                                              */

static char *
rules_file(size_t nrules, size_t *lenp)
{
	struct sbuf sb;

	sbuf_init(&sb, 2 * WSD_MAX_APPL_FILE);
	assert_int_equal(sbuf_adds(&sb, "[installed]\n"), 0);
	for (size_t i = 0; i < nrules; i++)
		assert_int_equal(sbuf_addf(&sb, "registry-key HKLM \"K%zu\"\n",
				     i),
		    0);
	return sbuf_detach(&sb, lenp);
}

static void
test_limit_rules(void **state)
{
	struct out o;
	char *text;
	size_t len;

	(void)state;
	text = rules_file(WSD_MAX_APPL_RULES, &len);
	run(&o, text, len);
	assert_int_equal(o.rc, 0);
	assert_int_equal(count(sbuf_str(&o.inst), "<b.RegKeyExists "),
	    WSD_MAX_APPL_RULES);
	assert_non_null(strstr(sbuf_str(&o.inst), "Subkey=\"K255\" /></And>"));
	check_xml(sbuf_str(&o.inst), sbuf_str(&o.able));
	out_release(&o);
	free(text);

	/* The 257th rule is on line 258 (the header is line 1). */
	text = rules_file(WSD_MAX_APPL_RULES + 1, &len);
	expect_err_len(text, len, WSD_ETOOBIG, WSD_MAX_APPL_RULES + 2,
	    "too many rules (at most 256)");
	free(text);

	/* Rules count across both sections, not per section. */
	{
		struct sbuf sb;

		sbuf_init(&sb, 2 * WSD_MAX_APPL_FILE);
		assert_int_equal(sbuf_adds(&sb, "[installed]\n"), 0);
		for (size_t i = 0; i < 200; i++)
			assert_int_equal(sbuf_adds(&sb, "windows = 10\n"), 0);
		assert_int_equal(sbuf_adds(&sb, "[installable]\n"), 0);
		for (size_t i = 0; i < 57; i++)
			assert_int_equal(sbuf_adds(&sb, "windows = 10\n"), 0);
		expect_err_len(sbuf_str(&sb), sb.sb_len, WSD_ETOOBIG, 259,
		    "too many rules (at most 256)");
		sbuf_release(&sb);
	}
}

static char *
subkey_rule(size_t n, bool escaped)
{
	struct sbuf sb;

	sbuf_init(&sb, 8 * WSD_MAX_APPL_STRING);
	assert_int_equal(sbuf_adds(&sb, "[installed]\nregistry-key HKLM \"S"),
	    0);
	for (size_t i = 1; i < n; i++)
		assert_int_equal(sbuf_adds(&sb, escaped ? RB : "k"), 0);
	assert_int_equal(sbuf_adds(&sb, "\"\n"), 0);
	return sbuf_detach(&sb, NULL);
}

static void
test_limit_string(void **state)
{
	struct out o;
	char *text;
	const char *p, *q;

	(void)state;
	/* 1024 bytes, plain and written with 1023 \\ escapes. */
	for (int esc = 0; esc < 2; esc++) {
		text = subkey_rule(WSD_MAX_APPL_STRING, esc);
		run(&o, text, strlen(text));
		assert_int_equal(o.rc, 0);
		p = strstr(sbuf_str(&o.inst), "Subkey=\"");
		assert_non_null(p);
		p += 8;
		q = strchr(p, '"');
		assert_non_null(q);
		assert_int_equal((size_t)(q - p), WSD_MAX_APPL_STRING);
		out_release(&o);
		free(text);

		text = subkey_rule(WSD_MAX_APPL_STRING + 1, esc);
		expect_err(text, WSD_ETOOBIG, 2,
		    "string too long (at most 1024 bytes)");
		free(text);
	}
}

static void
test_limit_file(void **state)
{
	struct sbuf sb;
	char *text;
	size_t len;
	struct out o;

	(void)state;
	sbuf_init(&sb, 2 * WSD_MAX_APPL_FILE);
	assert_int_equal(sbuf_adds(&sb, "[installed]\nwindows = 10\n"), 0);
	while (sb.sb_len < WSD_MAX_APPL_FILE - 100)
		assert_int_equal(sbuf_adds(&sb, "# padding padding padding\n"),
		    0);
	assert_int_equal(sbuf_adds(&sb, "#"), 0);
	while (sb.sb_len < WSD_MAX_APPL_FILE - 1)
		assert_int_equal(sbuf_adds(&sb, "x"), 0);
	assert_int_equal(sbuf_adds(&sb, "\n"), 0);
	assert_int_equal(sb.sb_len, WSD_MAX_APPL_FILE);
	text = sbuf_detach(&sb, &len);

	run(&o, text, len);
	assert_int_equal(o.rc, 0);
	assert_string_equal(sbuf_str(&o.inst), W10);
	out_release(&o);

	/* One byte more, even a harmless one, is refused as a whole. */
	text = realloc(text, len + 2);
	assert_non_null(text);
	text[len] = '\n';
	text[len + 1] = '\0';
	expect_err_len(text, len + 1, WSD_ETOOBIG, 0,
	    "file too large (at most 64 KiB)");
	free(text);
}

/*
 * The worst expansion an accepted file can have ("&" becomes "&amp;",
 * in every string of every rule) still fits WSD_APPL_XML_CAP.
 */
static void
test_limit_output(void **state)
{
	struct sbuf sb, amp;
	struct out o;
	size_t nrules = 0;

	(void)state;
	sbuf_init(&amp, 2 * WSD_MAX_APPL_STRING);
	for (size_t i = 0; i < WSD_MAX_APPL_STRING; i++)
		assert_int_equal(sbuf_adds(&amp, "&"), 0);
	sbuf_init(&sb, 2 * WSD_MAX_APPL_FILE);
	assert_int_equal(sbuf_adds(&sb, "[installed]\n"), 0);
	for (;;) {
		size_t before = sb.sb_len;

		assert_int_equal(sbuf_addf(&sb,
				     "any: not registry-expand-sz HKLM \"%s\" "
				     "\"%s\" = \"%s\"\n",
				     sbuf_str(&amp), sbuf_str(&amp),
				     sbuf_str(&amp)),
		    0);
		if (sb.sb_len > WSD_MAX_APPL_FILE) {
			sb.sb_len = before;
			break;
		}
		nrules++;
	}
	assert_true(nrules >= 20);
	run(&o, sbuf_str(&sb), sb.sb_len);
	assert_int_equal(o.rc, 0);
	assert_true(o.inst.sb_len > 5 * sb.sb_len / 2);
	assert_true(o.inst.sb_len < WSD_APPL_XML_CAP);
	assert_int_equal(count(sbuf_str(&o.inst), "<Not><b.RegExpandSz "),
	    nrules);
	check_xml(sbuf_str(&o.inst), sbuf_str(&o.able));
	out_release(&o);
	sbuf_release(&sb);
	sbuf_release(&amp);
}

/* Output buffers too small: never half-written, never one of the two. */
static void
test_output_cap(void **state)
{
	static const char text[] = "[installed]\nwindows = 10\n"
				   "[installable]\nregistry-key HKLM \"A\"\n";
	struct sbuf a, b;
	struct wsd_err err;
	size_t line;

	(void)state;
	/* installable does not fit: installed is cut back to "PRE". */
	sbuf_init(&a, WSD_APPL_XML_CAP);
	sbuf_init(&b, 8);
	assert_int_equal(sbuf_adds(&a, "PRE"), 0);
	assert_int_equal(applicability_compile(text, strlen(text), &a, &b,
			     &line, &err),
	    WSD_ETOOBIG);
	assert_int_equal(err.code, WSD_ETOOBIG);
	assert_int_equal(line, 0);
	assert_string_equal(sbuf_str(&a), "PRE");
	assert_int_equal(a.sb_len, 3);
	assert_string_equal(sbuf_str(&b), "");
	sbuf_release(&a);
	sbuf_release(&b);

	/* installed does not fit: installable untouched. */
	sbuf_init(&a, 8);
	sbuf_init(&b, WSD_APPL_XML_CAP);
	assert_int_equal(sbuf_adds(&b, "PRE"), 0);
	assert_int_equal(applicability_compile(text, strlen(text), &a, &b, NULL,
			     &err),
	    WSD_ETOOBIG);
	assert_string_equal(sbuf_str(&b), "PRE");
	sbuf_release(&a);
	sbuf_release(&b);
}

/* ------------------------------------------------------------------ */
/* Whole file through libxml2                                          */

static void
test_example_file_is_xml(void **state)
{
	/* The example of docs/APPLICABILITY.md. */
	static const char text[] =
	    "# Contoso Widget 2.5 for Windows 10/11 x64\n"
	    "[installable]\n"
	    "windows >= 10.0.19041 product-type workstation\n"
	    "registry-key HKLM \"SOFTWARE" RB "Contoso" RB "Widget\"\n"
	    "any: file-version \"%ProgramFiles%" RB "Contoso" RB
	    "widget.exe\" < 2.5\n"
	    "any: not file-exists \"%ProgramFiles%" RB "Contoso" RB
	    "widget.exe\"\n"
	    "\n"
	    "[installed]\n"
	    "file-version \"%ProgramFiles%" RB "Contoso" RB
	    "widget.exe\" >= 2.5\n"
	    "registry-dword HKLM \"SOFTWARE" RB "Contoso" RB
	    "Widget\" \"Patched\" = 1\n";
	static const char want_able[] =
	    "<And>"
	    "<b.WindowsVersion Comparison=\"GreaterThanOrEqualTo\" "
	    "MajorVersion=\"10\" MinorVersion=\"0\" BuildNumber=\"19041\" "
	    "ProductType=\"1\" />"
	    "<b.RegKeyExists Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"SOFTWARE" XB
	    "Contoso" XB "Widget\" />"
	    "<Or>"
	    "<b.FileVersion Path=\"Contoso" XB "widget.exe\" "
	    "Comparison=\"LessThan\" Version=\"2.5.0.0\" Csidl=\"38\" />"
	    "<Not><b.FileExists Path=\"Contoso" XB
	    "widget.exe\" Csidl=\"38\" /></Not>"
	    "</Or>"
	    "</And>";
	static const char want_inst[] =
	    "<And>"
	    "<b.FileVersion Path=\"Contoso" XB "widget.exe\" "
	    "Comparison=\"GreaterThanOrEqualTo\" Version=\"2.5.0.0\" "
	    "Csidl=\"38\" />"
	    "<b.RegDword Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"SOFTWARE" XB
	    "Contoso" XB "Widget\" Value=\"Patched\" Comparison=\"EqualTo\" "
	    "Data=\"1\" />"
	    "</And>";

	(void)state;
	expect_ok(text, want_inst, want_able);
}

/*
 * Mutations of a valid file (bytes flipped, cut, duplicated) never crash
 * (ASan watches) and whatever is accepted is still XML with clean names.
 */
static void
test_mutations(void **state)
{
	static const char seed[] =
	    "[installable]\n"
	    "windows >= 10.0.19041 product-type workstation\n"
	    "any: file-version \"%ProgramFiles%" RB "C" RB "a&b.exe\" < 2.5\n"
	    "any: not file-exists \"C:" RB "x\\\"y.dll\"\n"
	    "registry-expand-sz HKLM \"S\" \"V\" contains \"<a>\"\n"
	    "[installed]\n"
	    "file-version-regsz HKLM \"S\" \"V\" \"p.exe\" >= 1.2\n"
	    "registry-value HKLM \"S\" \"V\" REG_DWORD\n";
	static const char alphabet[] = "\"\\#[]<>=: \n\r\t\0a1.%&xé";
	uint32_t x = 12345;
	size_t accepted = 0;

	(void)state;
	for (int iter = 0; iter < 3000; iter++) {
		char buf[sizeof(seed) + 16];
		size_t len = sizeof(seed) - 1;
		struct out o;

		memcpy(buf, seed, len);
		for (int k = 0; k < 1 + iter % 4; k++) {
			size_t pos;

			x = x * 1103515245u + 12345u;
			pos = (x >> 8) % len;
			x = x * 1103515245u + 12345u;
			buf[pos] = alphabet[(x >> 8) % (sizeof(alphabet) - 1)];
		}
		x = x * 1103515245u + 12345u;
		if ((x >> 8) % 5 == 0)
			len = (x >> 12) % len;
		run(&o, buf, len);
		if (o.rc == 0) {
			accepted++;
			check_xml(sbuf_str(&o.inst), sbuf_str(&o.able));
		} else {
			assert_true(o.rc == WSD_EINVAL || o.rc == WSD_ETOOBIG);
			assert_non_null(o.err.what);
			assert_true(o.line <= 16); /* 8 lines + mutated LFs */
			assert_int_equal(o.inst.sb_len, 0);
			assert_int_equal(o.able.sb_len, 0);
		}
		out_release(&o);
	}
	/* Both outcomes were exercised. */
	assert_true(accepted > 0 && accepted < 3000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_windows),
		cmocka_unit_test(test_rule_file_exists),
		cmocka_unit_test(test_rule_file_version),
		cmocka_unit_test(test_rule_file_regsz),
		cmocka_unit_test(test_rule_registry),
		cmocka_unit_test(test_matches_captures),
		cmocka_unit_test(test_matches_captured_expressions),
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_rule_linux),
		cmocka_unit_test(test_rule_file_exists_posix),
		cmocka_unit_test(test_errors_linux),
		cmocka_unit_test(test_linux_example_file),
		cmocka_unit_test(test_limit_rules),
		cmocka_unit_test(test_limit_string),
		cmocka_unit_test(test_limit_file),
		cmocka_unit_test(test_limit_output),
		cmocka_unit_test(test_output_cap),
		cmocka_unit_test(test_example_file_is_xml),
		cmocka_unit_test(test_mutations),
	};
	int rc;

	LIBXML_TEST_VERSION
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	xmlCleanupParser();
	return rc;
}
