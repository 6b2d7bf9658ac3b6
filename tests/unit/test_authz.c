/*
 * auth/authz: the chained-server authorization list (issue #7 item 3,
 * WSUSSS.md 7.2). Parsing a pasted web.config and refusing what must be
 * refused (with the line), ASP.NET's first-match evaluation with the two
 * documented deviations, the log line, wsusutil's edits and the atomic
 * rewrite. Files live under one mkdtemp directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/authz.h"
#include "common/sbuf.h"

static char base[] = "/tmp/wsusd-test-authz-XXXXXX";

/* BASE/NAME; a few live at once, so rotate. */
static const char *
P(const char *name)
{
	static char bufs[8][512];
	static unsigned next;
	char *p = bufs[next++ % 8];

	snprintf(p, sizeof(bufs[0]), "%s/%s", base, name);
	return p;
}

static void
put(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* The whole file (caller frees). */
static char *
slurp(const char *path)
{
	struct stat st;
	char *b;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	b = malloc((size_t)st.st_size + 1);
	assert_non_null(b);
	assert_int_equal(read(fd, b, (size_t)st.st_size), st.st_size);
	b[st.st_size] = '\0';
	close(fd);
	return b;
}

/* stderr into a file while a call runs, to check what was logged. */
static int saved_stderr = -1;

static void
capture_start(void)
{
	int fd = open(P("stderr.log"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);

	assert_true(fd >= 0);
	fflush(stderr);
	saved_stderr = dup(2);
	assert_true(saved_stderr >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
}

/* Restores stderr; returns what was logged (caller frees). */
static char *
capture_end(void)
{
	fflush(stderr);
	assert_int_equal(dup2(saved_stderr, 2), 2);
	close(saved_stderr);
	saved_stderr = -1;
	return slurp(P("stderr.log"));
}

static struct authz_list *
parse_ok(const char *xml)
{
	struct authz_list *l = NULL;
	unsigned long line = 99;
	struct wsd_err err = { 0, NULL };

	if (authz_parse(xml, strlen(xml), "t/web.config", &l, &line, &err) < 0)
		fail_msg("parse failed: %s (line %lu)", err.what, line);
	assert_non_null(l);
	assert_int_equal(line, 0);
	return l;
}

/* Expects a refusal with code CODE at LINE whose text contains WHAT. */
static void
parse_bad(const char *xml, size_t len, int code, unsigned long line,
    const char *what)
{
	struct authz_list *l = (struct authz_list *)1;
	unsigned long got = 12345;
	struct wsd_err err = { 0, NULL };
	int rc;

	capture_start();
	rc = authz_parse(xml, len, "t/web.config", &l, &got, &err);
	free(capture_end());
	assert_int_equal(rc, code);
	assert_null(l);
	assert_int_equal(err.code, code);
	assert_non_null(err.what);
	if (strstr(err.what, what) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err.what, what);
	if (got != line)
		fail_msg("\"%s\": line %lu, expected %lu", err.what, got, line);
}

/* A section around RULES. */
#define WRAP(rules)                                                            \
	"<configuration><system.web><authorization>" rules                     \
	"</authorization></system.web></configuration>"

static const char pasted[] =
    "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
    "<!-- ServerSyncWebService web.config -->\r\n"
    "<configuration>\r\n"
    "  <configSections>\r\n"
    "    <section name=\"microsoft.web.services3\" "
    "type=\"Microsoft.Web.Services3.Configuration.WebServicesConfiguration"
    "\" />\r\n"
    "  </configSections>\r\n"
    "  <appSettings><add key=\"k\" value=\"v\" /></appSettings>\r\n"
    "  <system.web>\r\n"
    "    <httpRuntime maxRequestLength=\"4096\" />\r\n"
    "    <authentication mode=\"Windows\" />\r\n"
    "    <authorization>\r\n"
    "      <!-- the downstream servers -->\r\n"
    "      <allow users=\" CORP\\ds1$ ,CORP\\ds2$,, \" />\r\n" /* line 13 */
    "      <deny users=\"*\" />\r\n"                           /* line 14 */
    "    </authorization>\r\n"
    "    <webServices><protocols><remove name=\"HttpGet\" /></protocols>"
    "</webServices>\r\n"
    "  </system.web>\r\n"
    "  <location path=\"Other.asmx\"><system.web><httpRuntime "
    "maxRequestLength=\"1\"/></system.web></location>\r\n"
    "  <system.webServer><security><authorization>"
    "<add accessType=\"Allow\" users=\"*\" /></authorization></security>"
    "</system.webServer>\r\n"
    "  <runtime><assemblyBinding xmlns=\"urn:schemas-microsoft-com:asm.v1\">"
    "<dependentAssembly/></assemblyBinding></runtime>\r\n"
    "</configuration>\r\n";

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

static void
test_parse_pasted(void **state)
{
	struct authz_list *l;

	(void)state;
	l = parse_ok(pasted);
	assert_int_equal(l->al_source, AUTHZ_SECTION);
	assert_int_equal(l->al_nrules, 2);
	assert_true(l->al_rules[0].ar_allow);
	assert_int_equal(l->al_rules[0].ar_line, 13);
	/* Trimmed, empty entries skipped, the raw value kept. */
	assert_int_equal(l->al_rules[0].ar_users.an_n, 2);
	assert_string_equal(l->al_rules[0].ar_users.an_v[0], "CORP\\ds1$");
	assert_string_equal(l->al_rules[0].ar_users.an_v[1], "CORP\\ds2$");
	assert_string_equal(l->al_rules[0].ar_users.an_raw,
	    " CORP\\ds1$ ,CORP\\ds2$,, ");
	assert_false(l->al_rules[0].ar_roles.an_present);
	assert_false(l->al_rules[1].ar_allow);
	assert_int_equal(l->al_rules[1].ar_line, 14);
	assert_string_equal(l->al_rules[1].ar_users.an_v[0], "*");
	authz_free(l);
}

static void
test_parse_no_section(void **state)
{
	struct authz_list *l;

	(void)state;
	l = parse_ok("<configuration><system.web><compilation/></system.web>"
		     "<system.webServer><security><authorization>"
		     "<add users=\"*\"/></authorization></security>"
		     "</system.webServer></configuration>");
	assert_int_equal(l->al_source, AUTHZ_NO_SECTION);
	assert_int_equal(l->al_nrules, 0);
	authz_free(l);
	l = parse_ok("<configuration/>");
	assert_int_equal(l->al_source, AUTHZ_NO_SECTION);
	authz_free(l);
	l = parse_ok(WRAP("\n  <!-- nothing yet -->\n  "));
	assert_int_equal(l->al_source, AUTHZ_SECTION);
	assert_int_equal(l->al_nrules, 0);
	authz_free(l);
}

static void
test_parse_tolerated(void **state)
{
	struct authz_list *l;

	(void)state;
	/* A default namespace (old Visual Studio files), lock attributes,
	 * CDATA-free comments between rules, verbs and roles. */
	l = parse_ok("<configuration xmlns=\"http://schemas.microsoft.com/"
		     ".NETConfiguration/v2.0\"><system.web>"
		     "<authorization lockItem=\"true\">"
		     "<allow users=\"A\\b\" verbs=\"GET, POST\" "
		     "lockAttributes=\"users\"/><!-- x -->"
		     "<deny roles=\"BUILTIN\\Guests\" users=\"?\"/>"
		     "</authorization></system.web></configuration>");
	assert_int_equal(l->al_nrules, 2);
	assert_int_equal(l->al_rules[0].ar_verbs.an_n, 2);
	assert_string_equal(l->al_rules[0].ar_verbs.an_v[1], "POST");
	assert_int_equal(l->al_rules[1].ar_roles.an_n, 1);
	assert_int_equal(l->al_rules[0].ar_line, 1);
	authz_free(l);
	/* Character references and predefined entities decode. */
	l = parse_ok(WRAP("<allow users=\"A\\&#x62;&amp;c\"/>"));
	assert_string_equal(l->al_rules[0].ar_users.an_v[0], "A\\b&c");
	authz_free(l);
}

static void
test_parse_refused(void **state)
{
	(void)state;
	parse_bad("<!DOCTYPE configuration>\n<configuration/>", 41, WSD_EINVAL,
	    1, "DOCTYPE");
	{
		const char *x = "<?xml version=\"1.0\"?>\n\n<!doctype c [\n"
				"<!ENTITY e \"x\">]><c>&e;</c>";
		parse_bad(x, strlen(x), WSD_EINVAL, 3, "DOCTYPE");
	}
	{
		const char *x = "<configuration>\n<!ENTITY e \"x\">";
		parse_bad(x, strlen(x), WSD_EINVAL, 2, "entity declaration");
	}
	{
		const char *x = WRAP("\n\n<allow users=\"&xxe;\"/>");
		parse_bad(x, strlen(x), WSD_EINVAL, 3, "entity reference");
	}
	{
		const char *x = "<configuration>\n<system.web>\n"
				"<authorization>\n<allow users=\"a\\b\"/>\n"
				"<deny users=\"*\">\n</authorization>\n"
				"</system.web></configuration>\n";
		/* The first error: the mismatched end tag on line 6. */
		parse_bad(x, strlen(x), WSD_EINVAL, 6, "not well-formed");
	}
	{
		const char *x = "<configuration>\n<a b=\"1\" b=\"2\"/>"
				"</configuration>";
		parse_bad(x, strlen(x), WSD_EINVAL, 2, "not well-formed");
	}
	{
		const char x[] = "<configuration>\n\n<a/>\0</configuration>";
		parse_bad(x, sizeof(x) - 1, WSD_EINVAL, 3, "NUL byte");
	}
	{
		const char *x = "<configuration>\xe9</configuration>";
		parse_bad(x, strlen(x), WSD_EINVAL, 1, "not well-formed");
	}
	parse_bad("", 0, WSD_EINVAL, 0, "empty");
	parse_bad("<x/>", 4, WSD_EINVAL, 1, "not <configuration>");
	{
		const char *x = WRAP("\n<allow user=\"a\\b\"/>");
		parse_bad(x, strlen(x), WSD_EINVAL, 2, "unknown attribute");
	}
	{
		const char *x = WRAP("\n<allow x:users=\"a\\b\" "
				     "xmlns:x=\"urn:x\"/>");
		parse_bad(x, strlen(x), WSD_EINVAL, 2, "unknown attribute");
	}
	{
		const char *x = WRAP("<allow users=\"a\\b\"/>\n<clear/>");
		parse_bad(x, strlen(x), WSD_EINVAL, 2, "unknown element");
	}
	{
		const char *x = WRAP("\n<Allow users=\"a\\b\"/>");
		parse_bad(x, strlen(x), WSD_EINVAL, 2, "unknown element");
	}
	{
		const char *x = WRAP("\nsome text");
		parse_bad(x, strlen(x), WSD_EINVAL, 2, "unexpected content");
	}
	{
		const char *x = WRAP("\n<allow users=\"a\\b\">x</allow>");
		parse_bad(x, strlen(x), WSD_EINVAL, 2, "unexpected content");
	}
	{
		const char *x = WRAP("\n<deny verbs=\"GET\"/>");
		parse_bad(x, strlen(x), WSD_EINVAL, 2, "neither users nor");
	}
	{
		const char *x = WRAP("\n<allow users=\"a\\&#x7f;b\"/>");
		parse_bad(x, strlen(x), WSD_EINVAL, 2, "control character");
	}
	{
		const char *x =
		    "<configuration>\n<location path=\".\">\n<system.web>\n"
		    "<authorization><deny users=\"*\"/></authorization>"
		    "</system.web></location></configuration>";
		parse_bad(x, strlen(x), WSD_EINVAL, 4, "inside <location>");
	}
	{
		const char *x = "<configuration><system.web><authorization/>"
				"</system.web>\n<system.web><authorization/>"
				"</system.web></configuration>";
		parse_bad(x, strlen(x), WSD_EINVAL, 2, "more than one");
	}
	{
		const char *x = "<configuration><system.web>\n<authorization "
				"configSource=\"auth.config\"/></system.web>"
				"</configuration>";
		parse_bad(x, strlen(x), WSD_EINVAL, 2, "configSource");
	}
}

/* The file cap: exactly WSD_MAX_AUTHZ_FILE passes, one byte more fails. */
static void
test_parse_size_limit(void **state)
{
	static const char head[] = WRAP("<allow users=\"a\\b\"/>") "<!--";
	static const char tail[] = "-->";
	size_t n = WSD_MAX_AUTHZ_FILE;
	struct authz_list *l = NULL;
	struct wsd_err err;
	char *b = malloc(n + 2);

	(void)state;
	assert_non_null(b);
	memcpy(b, head, sizeof(head) - 1);
	memset(b + sizeof(head) - 1, 'x', n - (sizeof(head) - 1) - 3);
	memcpy(b + n - 3, tail, 3);
	assert_int_equal(authz_parse(b, n, "t", &l, NULL, &err), 0);
	assert_int_equal(l->al_nrules, 1);
	authz_free(l);
	memcpy(b + n - 3, "x-->", 4);
	parse_bad(b, n + 1, WSD_ETOOBIG, 0, "1 MiB");
	/* authz_load_file says the same for a file on disk. */
	put(P("big.config"), b, n + 1);
	capture_start();
	assert_int_equal(authz_load_file(P("big.config"), &l, NULL, &err),
	    WSD_ETOOBIG);
	free(capture_end());
	assert_null(l);
	free(b);
}

/* WSD_MAX_AUTHZ_RULES, WSD_MAX_AUTHZ_NAMES, WSD_MAX_AUTHZ_NAME: the
 * limit passes, one more fails. */
static void
test_parse_count_limits(void **state)
{
	struct authz_list *l;
	struct sbuf sb;
	char name[WSD_MAX_AUTHZ_NAME + 2];

	(void)state;
	for (int extra = 0; extra <= 1; extra++) {
		sbuf_init(&sb, 4 * WSD_MAX_AUTHZ_FILE);
		assert_int_equal(sbuf_adds(&sb,
				     "<configuration><system.web>"
				     "<authorization>\n"),
		    0);
		for (int i = 0; i < WSD_MAX_AUTHZ_RULES + extra; i++)
			assert_int_equal(sbuf_addf(&sb,
					     "<deny users=\"D\\%d\"/>\n", i),
			    0);
		assert_int_equal(sbuf_adds(&sb,
				     "</authorization></system.web>"
				     "</configuration>"),
		    0);
		assert_true(sb.sb_len <= WSD_MAX_AUTHZ_FILE);
		if (extra == 0) {
			l = parse_ok(sbuf_str(&sb));
			assert_int_equal(l->al_nrules, WSD_MAX_AUTHZ_RULES);
			authz_free(l);
		} else {
			parse_bad(sbuf_str(&sb), sb.sb_len, WSD_ETOOBIG,
			    WSD_MAX_AUTHZ_RULES + 2, "rules");
		}
		sbuf_release(&sb);
	}
	for (int extra = 0; extra <= 1; extra++) {
		sbuf_init(&sb, WSD_MAX_AUTHZ_FILE);
		assert_int_equal(sbuf_adds(&sb,
				     "<configuration><system.web>"
				     "<authorization>\n"
				     "<allow users=\""),
		    0);
		for (int i = 0; i < WSD_MAX_AUTHZ_NAMES + extra; i++)
			assert_int_equal(sbuf_addf(&sb, "D\\%d,", i), 0);
		assert_int_equal(sbuf_adds(&sb,
				     "\"/></authorization>"
				     "</system.web></configuration>"),
		    0);
		if (extra == 0) {
			l = parse_ok(sbuf_str(&sb));
			assert_int_equal(l->al_rules[0].ar_users.an_n,
			    WSD_MAX_AUTHZ_NAMES);
			authz_free(l);
		} else {
			parse_bad(sbuf_str(&sb), sb.sb_len, WSD_ETOOBIG, 2,
			    "entries");
		}
		sbuf_release(&sb);
	}
	for (int extra = 0; extra <= 1; extra++) {
		memset(name, 'n', sizeof(name));
		name[0] = 'D';
		name[1] = '\\';
		name[WSD_MAX_AUTHZ_NAME + extra] = '\0';
		sbuf_init(&sb, WSD_MAX_AUTHZ_FILE);
		assert_int_equal(sbuf_addf(&sb, WRAP("\n<allow users=\"%s\"/>"),
				     name),
		    0);
		if (extra == 0) {
			l = parse_ok(sbuf_str(&sb));
			assert_int_equal(strlen(
					     l->al_rules[0].ar_users.an_v[0]),
			    WSD_MAX_AUTHZ_NAME);
			authz_free(l);
		} else {
			parse_bad(sbuf_str(&sb), sb.sb_len, WSD_ETOOBIG, 2,
			    "longer than");
		}
		sbuf_release(&sb);
	}
}

static void
test_parse_warnings(void **state)
{
	struct authz_list *l;
	struct wsd_err err;
	const char *x = WRAP("\n<allow roles=\"CORP\\Sync\"/>"
			     "\n<deny roles=\"CORP\\Bad\"/>"
			     "\n<allow users=\"\"/>"
			     "\n<allow users=\"A\\b\" roles=\"CORP\\G\"/>");
	char *log;

	(void)state;
	capture_start();
	assert_int_equal(authz_parse(x, strlen(x), "t/web.config", &l, NULL,
			     &err),
	    0);
	log = capture_end();
	assert_non_null(strstr(log, "t/web.config:2: rule 1 names only roles"));
	assert_non_null(strstr(log, "t/web.config:3: rule 2 names only roles"));
	assert_non_null(strstr(log, "NOT denied"));
	assert_non_null(strstr(log, "t/web.config:4: rule 3 names nobody"));
	assert_non_null(strstr(log, "t/web.config:5: rule 4: roles are"));
	free(log);
	authz_free(l);
	/* A clean list says nothing. */
	x = WRAP("<allow users=\"A\\b\"/><deny users=\"*\"/>");
	capture_start();
	assert_int_equal(authz_parse(x, strlen(x), "t", &l, NULL, &err), 0);
	log = capture_end();
	assert_string_equal(log, "");
	free(log);
	authz_free(l);
}

static void
test_load_missing(void **state)
{
	struct authz_list *l;
	struct wsd_err err;
	unsigned long line = 7;

	(void)state;
	assert_int_equal(authz_load_file(P("nonexistent.config"), &l, &line,
			     &err),
	    0);
	assert_int_equal(l->al_source, AUTHZ_NO_FILE);
	assert_int_equal(l->al_nrules, 0);
	assert_int_equal(line, 0);
	assert_int_equal(authz_check(l, "CORP\\X$", "POST", NULL), AUTHZ_ALLOW);
	authz_free(l);
	/* A directory where the file should be is an error, not "none". */
	assert_int_equal(mkdir(P("dir.config"), 0700), 0);
	capture_start();
	assert_true(authz_load_file(P("dir.config"), &l, NULL, &err) < 0);
	free(capture_end());
	assert_null(l);
	/* authz_load looks in DATADIR/ServerSyncWebService/web.config. */
	assert_int_equal(mkdir(P("dd"), 0700), 0);
	assert_int_equal(mkdir(P("dd/" AUTHZ_DIR), 0700), 0);
	put(P("dd/" AUTHZ_WEBCONFIG), WRAP("<deny users=\"*\"/>"),
	    strlen(WRAP("<deny users=\"*\"/>")));
	assert_int_equal(authz_load(P("dd"), &l, NULL, &err), 0);
	assert_int_equal(l->al_nrules, 1);
	assert_int_equal(authz_check(l, "CORP\\X$", "POST", NULL), AUTHZ_DENY);
	authz_free(l);
}

/* ------------------------------------------------------------------ */
/* Evaluation                                                          */

static enum authz_decision
check(const struct authz_list *l, const char *id, const char *method,
    size_t want_rule)
{
	size_t rule = 42;
	enum authz_decision d = authz_check(l, id, method, &rule);

	assert_int_equal(rule, want_rule);
	return d;
}

static void
test_first_match_both_orders(void **state)
{
	struct authz_list *l;

	(void)state;
	/* Allow before deny: the listed server in, the others out. */
	l = parse_ok(WRAP("<allow users=\"CORP\\ds1$,CORP\\ds2$\"/>"
			  "<deny users=\"*\"/>"));
	assert_int_equal(check(l, "CORP\\ds1$", "POST", 0), AUTHZ_ALLOW);
	assert_int_equal(check(l, "CORP\\ds2$", "POST", 0), AUTHZ_ALLOW);
	assert_int_equal(check(l, "CORP\\ds3$", "POST", 1), AUTHZ_DENY);
	assert_int_equal(check(l, NULL, "POST", 1), AUTHZ_DENY);
	authz_free(l);
	/* The same rules reversed: deny * first blocks everybody. */
	l = parse_ok(WRAP("<deny users=\"*\"/>"
			  "<allow users=\"CORP\\ds1$,CORP\\ds2$\"/>"));
	assert_int_equal(check(l, "CORP\\ds1$", "POST", 0), AUTHZ_DENY);
	assert_int_equal(check(l, "CORP\\ds3$", "POST", 0), AUTHZ_DENY);
	authz_free(l);
	/* A named deny before an allow of everyone. */
	l = parse_ok(WRAP("<deny users=\"CORP\\bad$\"/><allow users=\"*\"/>"));
	assert_int_equal(check(l, "CORP\\bad$", "POST", 0), AUTHZ_DENY);
	assert_int_equal(check(l, "CORP\\good$", "POST", 1), AUTHZ_ALLOW);
	authz_free(l);
	/* Allow before a named deny of the same server: allow wins. */
	l = parse_ok(
	    WRAP("<allow users=\"CORP\\x$\"/><deny users=\"CORP\\x$\"/>"));
	assert_int_equal(check(l, "CORP\\x$", "POST", 0), AUTHZ_ALLOW);
	authz_free(l);
}

static void
test_wildcards(void **state)
{
	struct authz_list *l;

	(void)state;
	/* "?" is the anonymous caller only; "" counts as anonymous. */
	l = parse_ok(WRAP("<deny users=\"?\"/>"));
	assert_int_equal(check(l, NULL, "POST", 0), AUTHZ_DENY);
	assert_int_equal(check(l, "", "POST", 0), AUTHZ_DENY);
	assert_int_equal(check(l, "CORP\\ds1$", "POST", AUTHZ_NO_RULE),
	    AUTHZ_ALLOW);
	assert_int_equal(check(l, "?", "POST", AUTHZ_NO_RULE), AUTHZ_ALLOW);
	authz_free(l);
	/* "*" is everyone, anonymous included, mixed with names. */
	l = parse_ok(WRAP("<deny users=\"CORP\\a, *\"/>"));
	assert_int_equal(check(l, NULL, "POST", 0), AUTHZ_DENY);
	assert_int_equal(check(l, "X\\y", "POST", 0), AUTHZ_DENY);
	authz_free(l);
	/* Named entries never match the anonymous caller. */
	l = parse_ok(WRAP("<deny users=\"CORP\\a\"/>"));
	assert_int_equal(check(l, NULL, "POST", AUTHZ_NO_RULE), AUTHZ_ALLOW);
	authz_free(l);
}

static void
test_empty_admits(void **state)
{
	struct authz_list *l;

	(void)state;
	/* No list at all. */
	assert_int_equal(check(NULL, "CORP\\ds1$", "POST", AUTHZ_NO_RULE),
	    AUTHZ_ALLOW);
	assert_int_equal(authz_check(NULL, "CORP\\ds1$", "POST", NULL),
	    AUTHZ_ALLOW);
	/* An empty section, and an empty allow. */
	l = parse_ok(WRAP(""));
	assert_int_equal(check(l, "CORP\\ds1$", "POST", AUTHZ_NO_RULE),
	    AUTHZ_ALLOW);
	authz_free(l);
	l = parse_ok(WRAP("<allow users=\"\"/>"));
	assert_int_equal(check(l, "CORP\\ds1$", "POST", AUTHZ_NO_RULE),
	    AUTHZ_ALLOW);
	assert_int_equal(check(l, "OTHER\\ds9$", "GET", AUTHZ_NO_RULE),
	    AUTHZ_ALLOW);
	authz_free(l);
	/* But a deny still denies: "empty allow" is not "ignore denies". */
	l = parse_ok(WRAP("<allow users=\"\"/><deny users=\"*\"/>"));
	assert_int_equal(check(l, "CORP\\ds1$", "POST", 1), AUTHZ_DENY);
	authz_free(l);
}

static void
test_verbs(void **state)
{
	struct authz_list *l;

	(void)state;
	l = parse_ok(WRAP("<deny users=\"*\" verbs=\"get, Head\"/>"
			  "<allow users=\"CORP\\a\" verbs=\"\"/>"
			  "<deny users=\"*\"/>"));
	assert_int_equal(check(l, "CORP\\a", "GET", 0), AUTHZ_DENY);
	assert_int_equal(check(l, "CORP\\a", "head", 0), AUTHZ_DENY);
	/* verbs="" is every verb, as in ASP.NET. */
	assert_int_equal(check(l, "CORP\\a", "POST", 1), AUTHZ_ALLOW);
	assert_int_equal(check(l, "CORP\\b", "POST", 2), AUTHZ_DENY);
	/* No method: only rules without verbs. */
	assert_int_equal(check(l, "CORP\\a", NULL, 1), AUTHZ_ALLOW);
	authz_free(l);
}

static void
test_case_insensitive(void **state)
{
	struct authz_list *l;

	(void)state;
	l = parse_ok(WRAP("<allow users=\"contoso\\DSS1$\"/>"
			  "<deny users=\"*\"/>"));
	assert_int_equal(check(l, "CONTOSO\\dss1$", "POST", 0), AUTHZ_ALLOW);
	assert_int_equal(check(l, "Contoso\\Dss1$", "post", 0), AUTHZ_ALLOW);
	/* Exact otherwise: no domain-less or prefix matching. */
	assert_int_equal(check(l, "DSS1$", "POST", 1), AUTHZ_DENY);
	assert_int_equal(check(l, "CONTOSO\\DSS10$", "POST", 1), AUTHZ_DENY);
	assert_int_equal(check(l, "CONTOSO\\DSS", "POST", 1), AUTHZ_DENY);
	authz_free(l);
}

/* Deviation 1: the machine account matches with or without '$'. */
static void
test_dollar(void **state)
{
	struct authz_list *l;

	(void)state;
	l = parse_ok(WRAP("<allow users=\"CORP\\DS1\"/><deny users=\"*\"/>"));
	assert_int_equal(check(l, "CORP\\DS1$", "POST", 0), AUTHZ_ALLOW);
	assert_int_equal(check(l, "corp\\ds1$", "POST", 0), AUTHZ_ALLOW);
	assert_int_equal(check(l, "CORP\\DS1", "POST", 0), AUTHZ_ALLOW);
	assert_int_equal(check(l, "CORP\\DS1$$", "POST", 1), AUTHZ_DENY);
	assert_int_equal(check(l, "CORP\\DS$", "POST", 1), AUTHZ_DENY);
	authz_free(l);
	/* The other direction: a user account is not the machine. */
	l = parse_ok(WRAP("<allow users=\"CORP\\DS1$\"/><deny users=\"*\"/>"));
	assert_int_equal(check(l, "CORP\\DS1$", "POST", 0), AUTHZ_ALLOW);
	assert_int_equal(check(l, "CORP\\DS1", "POST", 1), AUTHZ_DENY);
	authz_free(l);
	/* A deny without '$' catches the machine account too. */
	l = parse_ok(WRAP("<deny users=\"CORP\\DS1\"/><allow users=\"*\"/>"));
	assert_int_equal(check(l, "CORP\\DS1$", "POST", 0), AUTHZ_DENY);
	authz_free(l);
	/* A lone "$" name is not folded into "DOMAIN\". */
	l = parse_ok(WRAP("<deny users=\"CORP\\\"/>"));
	assert_int_equal(check(l, "CORP\\$", "POST", AUTHZ_NO_RULE),
	    AUTHZ_ALLOW);
	authz_free(l);
}

/* Deviation 2: roles cannot be resolved; only roles="*" matches. */
static void
test_roles(void **state)
{
	struct authz_list *l;

	(void)state;
	capture_start();
	l = parse_ok(WRAP("<deny roles=\"CORP\\Bad Servers\"/>"
			  "<allow roles=\"CORP\\Sync\"/>"));
	free(capture_end());
	assert_int_equal(check(l, "CORP\\ds1$", "POST", AUTHZ_NO_RULE),
	    AUTHZ_ALLOW);
	assert_int_equal(check(l, NULL, "POST", AUTHZ_NO_RULE), AUTHZ_ALLOW);
	authz_free(l);
	l = parse_ok(WRAP("<deny roles=\"*\"/>"));
	assert_int_equal(check(l, "CORP\\ds1$", "POST", 0), AUTHZ_DENY);
	authz_free(l);
	/* users and roles: the users still match. */
	capture_start();
	l = parse_ok(WRAP("<deny users=\"CORP\\x$\" roles=\"CORP\\G\"/>"));
	free(capture_end());
	assert_int_equal(check(l, "CORP\\x$", "POST", 0), AUTHZ_DENY);
	assert_int_equal(check(l, "CORP\\y$", "POST", AUTHZ_NO_RULE),
	    AUTHZ_ALLOW);
	authz_free(l);
}

/* ------------------------------------------------------------------ */
/* The log line                                                        */

static char *
describe(const struct authz_list *l, const char *id, const char *method)
{
	size_t rule;
	enum authz_decision d = authz_check(l, id, method, &rule);
	struct sbuf sb;

	sbuf_init(&sb, 4096);
	assert_int_equal(authz_describe(l, id, d, rule, &sb), 0);
	return sbuf_detach(&sb, NULL);
}

/* The worst case: every value long and made of characters to escape. */
static void
test_describe_bounded(void **state)
{
	struct authz_list *l;
	struct sbuf sb, x;
	char *id;
	size_t rule;

	(void)state;
	sbuf_init(&x, WSD_MAX_AUTHZ_FILE);
	assert_int_equal(sbuf_adds(&x,
			     "<configuration><system.web>"
			     "<authorization><deny users=\""),
	    0);
	for (int i = 0; i < 300; i++) /* entries of 100 */
		assert_int_equal(sbuf_adds(&x,
				     i % 100 == 99 ? "&quot;," : "&quot;"),
		    0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(sbuf_adds(&x, ",*"), 0);
	assert_int_equal(sbuf_adds(&x, "\" roles=\""), 0);
	for (int i = 0; i < 300; i++) /* entries of 100 */
		assert_int_equal(sbuf_adds(&x,
				     i % 100 == 99 ? "&lt;," : "&lt;"),
		    0);
	assert_int_equal(sbuf_adds(&x, "\" verbs=\""), 0);
	for (int i = 0; i < 300; i++) /* entries of 100 */
		assert_int_equal(sbuf_adds(&x,
				     i % 100 == 99 ? "&amp;," : "&amp;"),
		    0);
	assert_int_equal(sbuf_adds(&x,
			     ",POST\"/></authorization>"
			     "</system.web></configuration>"),
	    0);
	capture_start();
	l = parse_ok(sbuf_str(&x));
	free(capture_end());
	sbuf_release(&x);
	id = malloc(1001);
	assert_non_null(id);
	memset(id, '\x01', 1000);
	id[1000] = '\0';
	assert_int_equal(authz_check(l, id, "POST", &rule), AUTHZ_DENY);
	assert_int_equal(rule, 0);
	sbuf_init(&sb, 8192);
	assert_int_equal(authz_describe(l, id, AUTHZ_DENY, rule, &sb), 0);
	assert_true(sb.sb_len < 6 * 1024);
	/* Cut after 256 bytes of each value, and says so. */
	assert_non_null(strstr(sbuf_str(&sb), "\\x01\\x01... denied: rule 1 "));
	assert_non_null(strstr(sbuf_str(&sb), "&quot;&quot;...\" roles="));
	assert_non_null(strstr(sbuf_str(&sb), "&amp;...\"/> (line 1)"));
	sbuf_release(&sb);
	/* The rule as written, uncut, for wsusutil. */
	sbuf_init(&sb, 65536);
	assert_int_equal(authz_rule_xml(&l->al_rules[0], &sb), 0);
	assert_null(strstr(sbuf_str(&sb), "..."));
	assert_true(sb.sb_len > 300 * 6);
	sbuf_release(&sb);
	free(id);
	authz_free(l);
}

static void
test_describe(void **state)
{
	struct authz_list *l, *none;
	struct wsd_err err;
	char *s;

	(void)state;
	l = parse_ok(pasted);
	s = describe(l, "CORP\\DS1$", "POST");
	assert_string_equal(s,
	    "CORP\\DS1$ allowed: rule 1 <allow users=\" "
	    "CORP\\ds1$ ,CORP\\ds2$,, \"/> (line 13)");
	free(s);
	s = describe(l, "CORP\\DS9$", "POST");
	assert_string_equal(s,
	    "CORP\\DS9$ denied: rule 2 <deny users=\"*\"/> (line 14)");
	free(s);
	s = describe(l, NULL, "POST");
	assert_string_equal(s,
	    "(anonymous) denied: rule 2 <deny users=\"*\"/> (line 14)");
	free(s);
	/* A name cannot start a new log line. */
	s = describe(l, "CORP\\x\n2025 forged line", "POST");
	assert_null(strchr(s, '\n'));
	assert_non_null(strstr(s, "CORP\\x\\x0a2025 forged line denied"));
	free(s);
	authz_free(l);

	l = parse_ok(WRAP("<allow users=\"A\\&quot;&lt;&amp;\" "
			  "verbs=\"GET\"/>"));
	s = describe(l, "A\\\"<&", "GET");
	assert_string_equal(s,
	    "A\\\"<& allowed: rule 1 <allow "
	    "users=\"A\\&quot;&lt;&amp;\" verbs=\"GET\"/> "
	    "(line 1)");
	free(s);
	s = describe(l, "B\\c", "GET");
	assert_string_equal(s, "B\\c allowed: no rule matched");
	free(s);
	authz_free(l);

	assert_int_equal(authz_new(&none, &err), 0);
	s = describe(none, "B\\c", "POST");
	assert_string_equal(s, "B\\c allowed: no authorization list");
	free(s);
	s = describe(NULL, "B\\c", "POST");
	assert_string_equal(s, "B\\c allowed: no authorization list");
	free(s);
	authz_free(none);
}

/* ------------------------------------------------------------------ */
/* Names and edits                                                     */

static void
test_name_validation(void **state)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
		{ "*", true },
		{ "?", true },
		{ "CORP\\DS1$", true },
		{ "corp.ex-1_x\\a", true },
		{ "ABCDEFGHIJKLMNO\\x", true },   /* 15 */
		{ "ABCDEFGHIJKLMNOP\\x", false }, /* 16 */
		{ "D\\aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "a"
		  "aaaaaa",
		    true }, /* 64 */
		{ "D\\aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "a"
		  "aaaaaaa",
		    false }, /* 65 */
		{ "", false },
		{ "DS1$", false },
		{ "\\DS1$", false },
		{ "CORP\\", false },
		{ "A\\B\\C", false },
		{ "CO RP\\x", false },
		{ "CORP\\a,b", false },
		{ "CORP\\a\"b", false },
		{ "CORP\\a<b", false },
		{ "CORP\\a>b", false },
		{ "CORP\\a&b", false },
		{ "CORP\\a\tb", false },
		{ "CORP\\a\x7f", false },
		{ "CORP\\\xc3\xa9", false },
		{ "CORP\\ a", false },
		{ "CORP\\a ", false },
		{ "CORP\\a b", true },
		{ "**", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = authz_name_invalid(cases[i].name);

		if ((why == NULL) != cases[i].ok)
			fail_msg("\"%s\": expected %s, got %s", cases[i].name,
			    cases[i].ok ? "valid" : "invalid",
			    why != NULL ? why : "valid");
	}
	assert_non_null(authz_name_invalid(NULL));
}

/* The list as "allow:a,b|deny:*" for compact comparisons. */
static char *
shape(const struct authz_list *l)
{
	struct sbuf sb;

	sbuf_init(&sb, 65536);
	for (size_t i = 0; i < l->al_nrules; i++) {
		const struct authz_rule *r = &l->al_rules[i];

		assert_int_equal(sbuf_addf(&sb, "%s%s:", i ? "|" : "",
				     r->ar_allow ? "allow" : "deny"),
		    0);
		for (size_t k = 0; k < r->ar_users.an_n; k++)
			assert_int_equal(sbuf_addf(&sb, "%s%s", k ? "," : "",
					     r->ar_users.an_v[k]),
			    0);
		if (r->ar_verbs.an_present)
			assert_int_equal(sbuf_addf(&sb, "/v=%s",
					     r->ar_verbs.an_raw),
			    0);
		if (r->ar_roles.an_present)
			assert_int_equal(sbuf_addf(&sb, "/r=%s",
					     r->ar_roles.an_raw),
			    0);
	}
	return sbuf_detach(&sb, NULL);
}

static void
expect_shape(const struct authz_list *l, const char *want)
{
	char *s = shape(l);

	if (strcmp(s, want) != 0)
		fail_msg("list is \"%s\", expected \"%s\"", s, want);
	free(s);
}

static void
test_edit_allow(void **state)
{
	struct authz_list *l;
	struct wsd_err err;
	bool changed;

	(void)state;
	assert_int_equal(authz_new(&l, &err), 0);
	assert_int_equal(authz_allow_name(l, "CORP\\ds1$", &changed, &err), 0);
	assert_true(changed);
	assert_int_equal(l->al_source, AUTHZ_SECTION);
	expect_shape(l, "allow:CORP\\ds1$");
	assert_int_equal(authz_deny_name(l, "*", &changed, &err), 0);
	expect_shape(l, "deny:*|allow:CORP\\ds1$");
	/* deny * first: a new allow goes above it. */
	assert_int_equal(authz_allow_name(l, "CORP\\ds2$", &changed, &err), 0);
	expect_shape(l, "allow:CORP\\ds2$|deny:*|allow:CORP\\ds1$");
	assert_int_equal(check(l, "CORP\\ds2$", "POST", 0), AUTHZ_ALLOW);
	authz_free(l);

	/* The guide's list: the first allow is extended. */
	l = parse_ok(WRAP("<allow users=\"CORP\\ds1,CORP\\ds2\"/>"
			  "<deny users=\"*\"/>"));
	assert_int_equal(authz_allow_name(l, "CORP\\ds3$", &changed, &err), 0);
	assert_true(changed);
	expect_shape(l, "allow:CORP\\ds1,CORP\\ds2,CORP\\ds3$|deny:*");
	assert_string_equal(l->al_rules[0].ar_users.an_raw,
	    "CORP\\ds1,CORP\\ds2,CORP\\ds3$");
	/* Already there (any case): nothing changes. */
	assert_int_equal(authz_allow_name(l, "corp\\DS3$", &changed, &err), 0);
	assert_false(changed);
	expect_shape(l, "allow:CORP\\ds1,CORP\\ds2,CORP\\ds3$|deny:*");
	authz_free(l);

	/* A verb- or role-limited allow is not extended; a named deny of
	 * the server loses the name (and the rule, when empty). */
	capture_start();
	l = parse_ok(WRAP("<allow users=\"A\\a\" verbs=\"GET\"/>"
			  "<allow roles=\"A\\G\"/>"
			  "<deny users=\"CORP\\x$\"/>"
			  "<deny users=\"CORP\\x$,CORP\\y$\"/>"));
	free(capture_end());
	assert_int_equal(authz_allow_name(l, "CORP\\x$", &changed, &err), 0);
	expect_shape(l,
	    "allow:CORP\\x$|allow:A\\a/v=GET|allow:/r=A\\G|"
	    "deny:CORP\\y$");
	assert_int_equal(check(l, "CORP\\x$", "GET", 0), AUTHZ_ALLOW);
	authz_free(l);
}

static void
test_edit_deny_remove(void **state)
{
	struct authz_list *l;
	struct wsd_err err;
	bool changed;

	(void)state;
	l = parse_ok(WRAP("<allow users=\"CORP\\ds1$,CORP\\ds2$\"/>"
			  "<deny users=\"*\"/>"));
	assert_int_equal(authz_deny_name(l, "CORP\\ds1$", &changed, &err), 0);
	assert_true(changed);
	expect_shape(l, "deny:CORP\\ds1$|allow:CORP\\ds2$|deny:*");
	/* The first rule is a plain deny now: it is extended. */
	assert_int_equal(authz_deny_name(l, "CORP\\ds2$", &changed, &err), 0);
	expect_shape(l, "deny:CORP\\ds1$,CORP\\ds2$|deny:*");
	assert_int_equal(authz_deny_name(l, "corp\\DS2$", &changed, &err), 0);
	assert_false(changed);
	/* remove: out of every rule, emptied rules dropped. */
	assert_int_equal(authz_remove_name(l, "CORP\\DS1$", &changed, &err), 0);
	assert_true(changed);
	expect_shape(l, "deny:CORP\\ds2$|deny:*");
	assert_int_equal(authz_remove_name(l, "CORP\\ds2$", &changed, &err), 0);
	expect_shape(l, "deny:*");
	/* Exact: removing the name without '$' leaves the machine. */
	assert_int_equal(authz_allow_name(l, "CORP\\m$", &changed, &err), 0);
	assert_int_equal(authz_remove_name(l, "CORP\\m", &changed, &err),
	    WSD_ENOTFOUND);
	assert_false(changed);
	expect_shape(l, "allow:CORP\\m$|deny:*");
	assert_int_equal(authz_remove_name(l, "*", &changed, &err), 0);
	assert_int_equal(authz_remove_name(l, "CORP\\m$", &changed, &err), 0);
	assert_int_equal(l->al_nrules, 0);
	/* Anonymous. */
	assert_int_equal(authz_deny_name(l, "?", &changed, &err), 0);
	assert_int_equal(check(l, NULL, "POST", 0), AUTHZ_DENY);
	assert_int_equal(check(l, "A\\b", "POST", AUTHZ_NO_RULE), AUTHZ_ALLOW);
	/* Bad names are refused and change nothing. */
	assert_int_equal(authz_allow_name(l, "A\\b,C\\d", &changed, &err),
	    WSD_EINVAL);
	assert_false(changed);
	expect_shape(l, "deny:?");
	authz_free(l);
}

static void
test_edit_limits(void **state)
{
	struct authz_list *l;
	struct wsd_err err;
	struct sbuf sb;
	bool changed;
	char *before;

	(void)state;
	/* A full first allow rule: the edit is refused, list unchanged. */
	sbuf_init(&sb, WSD_MAX_AUTHZ_FILE);
	assert_int_equal(sbuf_adds(&sb,
			     "<configuration><system.web>"
			     "<authorization><allow users=\""),
	    0);
	for (int i = 0; i < WSD_MAX_AUTHZ_NAMES; i++)
		assert_int_equal(sbuf_addf(&sb, "D\\%d,", i), 0);
	assert_int_equal(sbuf_adds(&sb,
			     "\"/><deny users=\"D\\0\"/>"
			     "</authorization></system.web>"
			     "</configuration>"),
	    0);
	l = parse_ok(sbuf_str(&sb));
	sbuf_release(&sb);
	before = shape(l);
	assert_int_equal(authz_allow_name(l, "D\\new", &changed, &err),
	    WSD_ETOOBIG);
	assert_false(changed);
	expect_shape(l, before);
	/* Even the part done before the failure (D\0 leaving the deny). */
	assert_int_equal(authz_allow_name(l, "D\\0", &changed, &err), 0);
	assert_true(changed);
	free(before);
	authz_free(l);
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */

static void
test_write_new(void **state)
{
	struct authz_list *l, *back;
	struct wsd_err err;
	struct stat st;
	bool changed;
	char *text;

	(void)state;
	assert_int_equal(mkdir(P("w1"), 0700), 0);
	assert_int_equal(authz_load(P("w1"), &l, NULL, &err), 0);
	assert_int_equal(l->al_source, AUTHZ_NO_FILE);
	assert_int_equal(authz_allow_name(l, "CORP\\ds1$", &changed, &err), 0);
	assert_int_equal(authz_allow_name(l, "CORP\\ds2$", &changed, &err), 0);
	assert_int_equal(authz_write(P("w1/" AUTHZ_WEBCONFIG), l, &err), 0);
	assert_int_equal(stat(P("w1/" AUTHZ_WEBCONFIG), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(stat(P("w1/" AUTHZ_DIR), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	text = slurp(P("w1/" AUTHZ_WEBCONFIG));
	assert_string_equal(text,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<configuration>\n"
	    "  <system.web>\n"
	    "    <authorization>\n"
	    "      <allow users=\"CORP\\ds1$,CORP\\ds2$\"/>\n"
	    "    </authorization>\n"
	    "  </system.web>\n"
	    "</configuration>\n");
	free(text);
	assert_int_equal(authz_load(P("w1"), &back, NULL, &err), 0);
	expect_shape(back, "allow:CORP\\ds1$,CORP\\ds2$");
	authz_free(back);
	/* Rules with every attribute and characters to escape survive. */
	authz_free(l);
	l = parse_ok(WRAP("<deny users=\"A\\&quot;x&lt;&amp;\" roles=\"R\" "
			  "verbs=\"GET\"/><allow users=\"\"/>"));
	assert_int_equal(authz_write(P("w1/" AUTHZ_WEBCONFIG), l, &err), 0);
	assert_int_equal(authz_load(P("w1"), &back, NULL, &err), 0);
	expect_shape(back, "deny:A\\\"x<&/v=GET/r=R|allow:");
	authz_free(back);
	/* No leftover temporary files. */
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1",
		    P("w1/" AUTHZ_DIR));
		assert_int_equal(system(cmd), 0);
	}
	authz_free(l);
}

static void
test_write_keeps_pasted(void **state)
{
	struct authz_list *l, *back;
	struct wsd_err err;
	bool changed;
	char *text;

	(void)state;
	put(P("pasted.config"), pasted, strlen(pasted));
	assert_int_equal(chmod(P("pasted.config"), 0600), 0);
	assert_int_equal(authz_load_file(P("pasted.config"), &l, NULL, &err),
	    0);
	assert_int_equal(authz_allow_name(l, "CORP\\ds3$", &changed, &err), 0);
	assert_int_equal(authz_write(P("pasted.config"), l, &err), 0);
	text = slurp(P("pasted.config"));
	/* Everything else is still there. */
	assert_non_null(strstr(text, "<!-- ServerSyncWebService web.config"));
	assert_non_null(strstr(text, "<httpRuntime maxRequestLength=\"4096\""));
	assert_non_null(
	    strstr(text, "<section name=\"microsoft.web.services3"));
	assert_non_null(strstr(text, "<add accessType=\"Allow\" users=\"*\""));
	assert_non_null(strstr(text, "<location path=\"Other.asmx\">"));
	assert_non_null(strstr(text, "urn:schemas-microsoft-com:asm.v1"));
	/* The section, with the layout of the old one. */
	assert_non_null(strstr(text,
	    "    <authorization>\n"
	    "      <allow users=\"CORP\\ds1$,CORP\\ds2$,CORP\\ds3$\"/>\n"
	    "      <deny users=\"*\"/>\n"
	    "    </authorization>"));
	/* The comment inside the section is gone (documented). */
	assert_null(strstr(text, "the downstream servers"));
	free(text);
	{
		struct stat st;

		assert_int_equal(stat(P("pasted.config"), &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
	}
	assert_int_equal(authz_load_file(P("pasted.config"), &back, NULL, &err),
	    0);
	expect_shape(back, "allow:CORP\\ds1$,CORP\\ds2$,CORP\\ds3$|deny:*");
	authz_free(back);
	authz_free(l);

	/* A web.config without the section gets one under system.web, or
	 * a new system.web. */
	put(P("nosec.config"),
	    "<configuration>\n  <appSettings/>\n</configuration>\n",
	    strlen("<configuration>\n  <appSettings/>\n</configuration>\n"));
	assert_int_equal(authz_load_file(P("nosec.config"), &l, NULL, &err), 0);
	assert_int_equal(l->al_source, AUTHZ_NO_SECTION);
	assert_int_equal(authz_deny_name(l, "*", &changed, &err), 0);
	assert_int_equal(authz_write(P("nosec.config"), l, &err), 0);
	text = slurp(P("nosec.config"));
	assert_string_equal(text,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<configuration>\n"
	    "  <appSettings/>\n"
	    "  <system.web>\n"
	    "    <authorization>\n"
	    "      <deny users=\"*\"/>\n"
	    "    </authorization>\n"
	    "  </system.web>\n"
	    "</configuration>\n");
	free(text);
	authz_free(l);
}

static void
test_write_refuses_bad_file(void **state)
{
	static const char bad[] = "<configuration><system.web>\n<oops>"
				  "</configuration>";
	struct authz_list *l;
	struct wsd_err err;
	bool changed;
	char *text;

	(void)state;
	put(P("bad.config"), bad, strlen(bad));
	assert_int_equal(authz_new(&l, &err), 0);
	assert_int_equal(authz_allow_name(l, "A\\b", &changed, &err), 0);
	capture_start();
	assert_int_equal(authz_write(P("bad.config"), l, &err), WSD_EINVAL);
	free(capture_end());
	text = slurp(P("bad.config"));
	assert_string_equal(text, bad);
	free(text);
	authz_free(l);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(base) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_pasted),
		cmocka_unit_test(test_parse_no_section),
		cmocka_unit_test(test_parse_tolerated),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_parse_size_limit),
		cmocka_unit_test(test_parse_count_limits),
		cmocka_unit_test(test_parse_warnings),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_first_match_both_orders),
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_empty_admits),
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_dollar),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_describe_bounded),
		cmocka_unit_test(test_name_validation),
		cmocka_unit_test(test_edit_allow),
		cmocka_unit_test(test_edit_deny_remove),
		cmocka_unit_test(test_edit_limits),
		cmocka_unit_test(test_write_new),
		cmocka_unit_test(test_write_keeps_pasted),
		cmocka_unit_test(test_write_refuses_bad_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
