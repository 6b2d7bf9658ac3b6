/*
 * auth/admin_roles: DIR/admins parsed and refused line by line, the role
 * of a local or certificate caller, the role and path rule of every
 * wsusutil command, and the edits `wsusutil admins` makes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/admin_roles.h"

static struct admin_roles *
parse_ok(const char *text, size_t len)
{
	struct admin_roles *r = NULL;
	unsigned long line = 99;
	struct wsd_err err = { 0, NULL };

	if (admin_roles_parse(text, len, &r, &line, &err) != 0)
		fail_msg("parse failed: %s (line %lu)", err.what, line);
	assert_non_null(r);
	return r;
}

static struct admin_roles *
parse_str(const char *text)
{
	return parse_ok(text, strlen(text));
}

/* Expects a refusal CODE at LINE whose text contains WHAT. */
static void
parse_bad(const char *text, size_t len, int code, unsigned long line,
    const char *what)
{
	struct admin_roles *r = (struct admin_roles *)1;
	unsigned long got = 12345;
	struct wsd_err err = { 0, NULL };
	int rc;

	rc = admin_roles_parse(text, len, &r, &got, &err);
	if (rc != code || got != line || r != NULL || err.code != code ||
	    err.what == NULL || strstr(err.what, what) == NULL)
		fail_msg("%.60s: rc %d line %lu what '%s'; want %d %lu '%s'",
		    text, rc, got, err.what ? err.what : "(null)", code, line,
		    what);
}

static void
test_parse_good(void **state)
{
	const char *text = "# who administers wsusd\r\n"
			   "\n"
			   "   \t\n"
			   "administrator user:alice\r\n"
			   "  Approver\tgroup:wsus-approvers  \n"
			   "REPORTER      group:helpdesk\n"
			   "\t# indented comment \x01 with a control byte\n"
			   "approver      cert:CORP\\ops1\n"
			   "reporter User:bob\n"
			   "approver cert:CORP\\WS1$"; /* no final newline */
	struct admin_roles *r;

	(void)state;
	r = parse_str(text);
	assert_int_equal(r->n, 6);
	assert_int_equal(r->rules[0].ar_role, ROLE_ADMINISTRATOR);
	assert_int_equal(r->rules[0].ar_kind, PRINCIPAL_USER);
	assert_string_equal(r->rules[0].ar_name, "alice");
	assert_int_equal(r->rules[1].ar_role, ROLE_APPROVER);
	assert_int_equal(r->rules[1].ar_kind, PRINCIPAL_GROUP);
	assert_string_equal(r->rules[1].ar_name, "wsus-approvers");
	assert_int_equal(r->rules[2].ar_role, ROLE_REPORTER);
	assert_string_equal(r->rules[2].ar_name, "helpdesk");
	assert_int_equal(r->rules[3].ar_kind, PRINCIPAL_CERT);
	assert_string_equal(r->rules[3].ar_name, "CORP\\ops1");
	assert_int_equal(r->rules[4].ar_kind, PRINCIPAL_USER);
	assert_string_equal(r->rules[4].ar_name, "bob");
	assert_string_equal(r->rules[5].ar_name, "CORP\\WS1$");
	admin_roles_free(r);

	/* Empty text and comments only: an empty list. */
	r = parse_ok("", 0);
	assert_int_equal(r->n, 0);
	admin_roles_free(r);
	r = parse_ok(NULL, 0);
	assert_int_equal(r->n, 0);
	admin_roles_free(r);
	r = parse_str("# nothing\r\n\r\n");
	assert_int_equal(r->n, 0);
	admin_roles_free(r);
}

static void
test_parse_limits(void **state)
{
	char name[ADMIN_ROLES_MAX_NAME + 2];
	char line[ADMIN_ROLES_MAX_NAME + 64];
	char *big;
	size_t n = 0;
	struct admin_roles *r;

	(void)state;
	/* A name of exactly the limit parses; one more byte does not. */
	memset(name, 'n', ADMIN_ROLES_MAX_NAME);
	name[ADMIN_ROLES_MAX_NAME] = '\0';
	snprintf(line, sizeof(line), "reporter user:%s\n", name);
	r = parse_str(line);
	assert_int_equal(strlen(r->rules[0].ar_name), ADMIN_ROLES_MAX_NAME);
	admin_roles_free(r);
	snprintf(line, sizeof(line), "# c\nreporter user:%sn\n", name);
	parse_bad(line, strlen(line), WSD_EINVAL, 2, "longer than");

	/* 256 rules parse; the 257th is refused on its own line. */
	big = malloc(ADMIN_ROLES_MAX_FILE + 1);
	assert_non_null(big);
	for (int i = 0; i < ADMIN_ROLES_MAX_RULES + 1; i++)
		n += (size_t)snprintf(big + n, 64, "reporter user:u%d\n", i);
	r = parse_ok(big, n - strlen("reporter user:u256\n"));
	assert_int_equal(r->n, ADMIN_ROLES_MAX_RULES);
	assert_string_equal(r->rules[255].ar_name, "u255");
	admin_roles_free(r);
	parse_bad(big, n, WSD_ETOOBIG, ADMIN_ROLES_MAX_RULES + 1, "rules");

	/* 64 KiB of comments parse; one byte more is refused, line 0. */
	memset(big, '#', ADMIN_ROLES_MAX_FILE + 1);
	big[ADMIN_ROLES_MAX_FILE - 1] = '\n';
	r = parse_ok(big, ADMIN_ROLES_MAX_FILE);
	assert_int_equal(r->n, 0);
	admin_roles_free(r);
	parse_bad(big, ADMIN_ROLES_MAX_FILE + 1, WSD_ETOOBIG, 0, "larger");
	free(big);
}

static void
test_parse_refusals(void **state)
{
	static const struct {
		const char *text;
		unsigned long line;
		const char *what;
	} cases[] = {
		{ "superuser user:alice\n", 1, "unknown role" },
		{ "# c\nnone user:alice\n", 2, "unknown role" },
		{ "\n\nadministratorx user:a\n", 3, "unknown role" },
		{ "reporter\n", 1, "without a name" },
		{ "reporter   \r\n", 1, "without a name" },
		{ "reporter alice\n", 1, "user:, group:, cert: or kerberos:" },
		{ "reporter users:alice\n", 1, "user:, group:, cert: or kerberos:" },
		{ "reporter :alice\n", 1, "user:, group:, cert: or kerberos:" },
		{ "reporter user:\n", 1, "empty name" },
		{ "reporter group:\r\n", 1, "empty name" },
		{ "reporter cert:\n", 1, "empty name" },
		{ "reporter user:al ice\n", 1, "whitespace" },
		{ "reporter user:alice bob\n", 1, "whitespace" },
		{ "reporter user:alice\t# trailing comment\n", 1,
		    "whitespace" },
		{ "reporter user:al\x01ice\n", 1, "control character" },
		{ "reporter user:al\x7fice\n", 1, "control character" },
		{ "reporter user:alice\r\r\n", 1, "control character" },
		{ "reporter user:a\rb\n", 1, "control character" },
		{ "x\x1b reporter\n", 1, "unknown role" },
		{ "reporter cert:ops1\n", 1, "DOMAIN\\name" },
		{ "reporter cert:\\ops1\n", 1, "DOMAIN\\name" },
		{ "reporter cert:CORP\\\n", 1, "DOMAIN\\name" },
		{ "reporter cert:A\\B\\C\n", 1, "DOMAIN\\name" },
		{ "reporter user:ok\nreporter user:ok\nbad\n", 3,
		    "unknown role" },
	};
	static const char nul[] = "reporter user:a\n# x\0y\nreporter user:b\n";

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		parse_bad(cases[i].text, strlen(cases[i].text), WSD_EINVAL,
		    cases[i].line, cases[i].what);
	/* NUL, even in a comment, on the line that holds it. */
	parse_bad(nul, sizeof(nul) - 1, WSD_EINVAL, 2, "NUL");
	parse_bad("reporter user:a\0b", 17, WSD_EINVAL, 1, "NUL");
}

static void
test_roles_local(void **state)
{
	const char *g1[] = { "staff", "helpdesk" };
	const char *g2[] = { "wsus-approvers", "helpdesk" };
	const char *g3[] = { "Helpdesk", NULL };
	struct admin_roles *r = parse_str("reporter group:helpdesk\n"
					  "approver group:wsus-approvers\n"
					  "administrator user:alice\n"
					  "reporter user:bob\n"
					  "approver user:bob\n"
					  "administrator cert:CORP\\bob\n");

	(void)state;
	assert_int_equal(admin_role_for_local(r, "carol", g1, 2),
	    ROLE_REPORTER);
	/* Highest of every matching rule wins, user or group. */
	assert_int_equal(admin_role_for_local(r, "carol", g2, 2),
	    ROLE_APPROVER);
	assert_int_equal(admin_role_for_local(r, "alice", g1, 2),
	    ROLE_ADMINISTRATOR);
	assert_int_equal(admin_role_for_local(r, "bob", NULL, 0),
	    ROLE_APPROVER);
	/* Unix names are case-sensitive; a cert rule is no local user. */
	assert_int_equal(admin_role_for_local(r, "Alice", NULL, 0), ROLE_NONE);
	assert_int_equal(admin_role_for_local(r, "CORP\\bob", NULL, 0),
	    ROLE_NONE);
	assert_int_equal(admin_role_for_local(r, NULL, g3, 2), ROLE_NONE);
	/* No name for the uid: groups still count. */
	assert_int_equal(admin_role_for_local(r, NULL, g1, 2), ROLE_REPORTER);
	/* A user rule does not match a group of that name, nor back. */
	{
		const char *ga[] = { "alice" };

		assert_int_equal(admin_role_for_local(r, "x", ga, 1),
		    ROLE_NONE);
		assert_int_equal(admin_role_for_local(r, "helpdesk", NULL, 0),
		    ROLE_NONE);
	}
	assert_int_equal(admin_role_for_local(NULL, "alice", g1, 2), ROLE_NONE);
	admin_roles_free(r);
}

static void
test_roles_cert(void **state)
{
	struct admin_roles *r = parse_str("approver cert:CORP\\ops1\n"
					  "reporter cert:corp\\OPS1\n"
					  "administrator cert:CORP\\WS1$\n"
					  "administrator user:CORP\\ops2\n"
					  "reporter group:CORP\\ops3\n");

	(void)state;
	assert_int_equal(admin_role_for_cert(r, "CORP\\ops1"), ROLE_APPROVER);
	assert_int_equal(admin_role_for_cert(r, "corp\\OPS1"), ROLE_APPROVER);
	assert_int_equal(admin_role_for_cert(r, "Corp\\Ops1"), ROLE_APPROVER);
	/* The machine account is not the user, nor the other way. */
	assert_int_equal(admin_role_for_cert(r, "CORP\\ops1$"), ROLE_NONE);
	assert_int_equal(admin_role_for_cert(r, "CORP\\WS1"), ROLE_NONE);
	assert_int_equal(admin_role_for_cert(r, "corp\\ws1$"),
	    ROLE_ADMINISTRATOR);
	/* Only cert: rules apply to certificates. */
	assert_int_equal(admin_role_for_cert(r, "CORP\\ops2"), ROLE_NONE);
	assert_int_equal(admin_role_for_cert(r, "CORP\\ops3"), ROLE_NONE);
	assert_int_equal(admin_role_for_cert(r, "CORP\\ops"), ROLE_NONE);
	assert_int_equal(admin_role_for_cert(r, NULL), ROLE_NONE);
	assert_int_equal(admin_role_for_cert(NULL, "CORP\\ops1"), ROLE_NONE);
	admin_roles_free(r);
}

/* A remote caller "kind:DOMAIN\name": only rules of that kind, and only
 * the kinds a remote caller can prove (never user: or group:). */
static void
test_roles_remote(void **state)
{
	struct admin_roles *r = parse_str("approver cert:CORP\\ops1\n"
					  "administrator kerberos:CORP\\ops2\n"
					  "reporter Kerberos:corp\\OPS1\n"
					  "administrator user:CORP\\ops3\n");

	(void)state;
	assert_int_equal(admin_role_for_remote(r, "cert:CORP\\ops1"),
	    ROLE_APPROVER);
	assert_int_equal(admin_role_for_remote(r, "kerberos:CORP\\ops1"),
	    ROLE_REPORTER);
	assert_int_equal(admin_role_for_remote(r, "kerberos:corp\\ops2"),
	    ROLE_ADMINISTRATOR);
	assert_int_equal(admin_role_for_remote(r, "cert:CORP\\ops2"),
	    ROLE_NONE);
	assert_int_equal(admin_role_for_cert(r, "CORP\\ops2"), ROLE_NONE);
	/* Kinds a remote caller never is, and malformed principals. */
	assert_int_equal(admin_role_for_remote(r, "user:CORP\\ops3"),
	    ROLE_NONE);
	assert_int_equal(admin_role_for_remote(r, "CORP\\ops1"), ROLE_NONE);
	assert_int_equal(admin_role_for_remote(r, "kerberos:ops2"), ROLE_NONE);
	assert_int_equal(admin_role_for_remote(r, "kerberos:CORP\\ops2 x"),
	    ROLE_NONE);
	assert_int_equal(admin_role_for_remote(r, NULL), ROLE_NONE);
	admin_roles_free(r);
	/* kerberos: names are DOMAIN\name too. */
	{
		struct admin_rule x;

		assert_int_equal(admin_principal_parse("kerberos:CORP\\a",
				     &x), 0);
		assert_int_equal(x.ar_kind, PRINCIPAL_KERBEROS);
		assert_int_equal(admin_principal_parse("kerberos:a", &x), -1);
	}
}

static void
test_role_names(void **state)
{
	(void)state;
	assert_string_equal(admin_role_name(ROLE_NONE), "none");
	assert_string_equal(admin_role_name(ROLE_REPORTER), "reporter");
	assert_string_equal(admin_role_name(ROLE_APPROVER), "approver");
	assert_string_equal(admin_role_name(ROLE_ADMINISTRATOR),
	    "administrator");
	assert_string_equal(admin_role_name((enum admin_role)42), "none");
	assert_int_equal(admin_role_parse("Reporter"), ROLE_REPORTER);
	assert_int_equal(admin_role_parse("APPROVER"), ROLE_APPROVER);
	assert_int_equal(admin_role_parse("administrator"), ROLE_ADMINISTRATOR);
	assert_int_equal(admin_role_parse("admin"), ROLE_NONE);
	assert_int_equal(admin_role_parse("none"), ROLE_NONE);
	assert_int_equal(admin_role_parse(""), ROLE_NONE);
	assert_int_equal(admin_role_parse(NULL), ROLE_NONE);
}

static void
test_principal_parse(void **state)
{
	struct admin_rule r;

	(void)state;
	assert_int_equal(admin_principal_parse("user:alice", &r), 0);
	assert_int_equal(r.ar_kind, PRINCIPAL_USER);
	assert_string_equal(r.ar_name, "alice");
	assert_int_equal(admin_principal_parse("GROUP:wheel", &r), 0);
	assert_int_equal(r.ar_kind, PRINCIPAL_GROUP);
	assert_string_equal(r.ar_name, "wheel");
	assert_int_equal(admin_principal_parse("cert:CORP\\ops1", &r), 0);
	assert_int_equal(r.ar_kind, PRINCIPAL_CERT);
	assert_string_equal(r.ar_name, "CORP\\ops1");
	assert_int_equal(admin_principal_parse("alice", &r), -1);
	assert_int_equal(admin_principal_parse("user:", &r), -1);
	assert_int_equal(admin_principal_parse("user:a b", &r), -1);
	assert_int_equal(admin_principal_parse("user:a\nb", &r), -1);
	assert_int_equal(admin_principal_parse("cert:ops1", &r), -1);
	assert_int_equal(admin_principal_parse(NULL, &r), -1);
	assert_null(admin_principal_invalid("user:alice"));
	assert_non_null(strstr(admin_principal_invalid("alice"), "user:"));
	assert_non_null(strstr(admin_principal_invalid("user:"), "empty"));
}

/* ------------------------------------------------------------ commands */

struct cmd_case {
	const char *argv[8];
	enum admin_role role;
	bool paths;
};

static const struct cmd_case cmd_cases[] = {
	/* reporter: only reads */
	{ { "report" }, ROLE_REPORTER, false },
	{ { "report", "--computer", "ws1", "--json" }, ROLE_REPORTER, false },
	{ { "checkhealth" }, ROLE_REPORTER, false },
	{ { "checkhealth", "--port", "8531", "--content" }, ROLE_REPORTER,
	    false },
	{ { "updates", "list", "--json" }, ROLE_REPORTER, false },
	{ { "updates", "approvals", "5c1b" }, ROLE_REPORTER, false },
	{ { "computers", "list" }, ROLE_REPORTER, false },
	{ { "groups", "list", "--json" }, ROLE_REPORTER, false },
	{ { "sync", "status", "--json" }, ROLE_REPORTER, false },
	{ { "downstream", "list" }, ROLE_REPORTER, false },
	{ { "downstream", "servers" }, ROLE_REPORTER, false },
	{ { "upstream", "show" }, ROLE_REPORTER, false },
	{ { "admins", "list", "--json" }, ROLE_REPORTER, false },
	/* approver */
	{ { "approve", "5c1b", "--group", "Servers" }, ROLE_APPROVER, false },
	{ { "decline", "5c1b" }, ROLE_APPROVER, false },
	{ { "computers", "move", "ws1", "Servers" }, ROLE_APPROVER, false },
	/* administrator */
	{ { "groups", "add", "Servers", "--parent", "All" }, ROLE_ADMINISTRATOR,
	    false },
	{ { "groups", "remove", "Servers" }, ROLE_ADMINISTRATOR, false },
	{ { "downstream", "allow", "CORP\\DS1$" }, ROLE_ADMINISTRATOR, false },
	{ { "downstream", "deny", "*" }, ROLE_ADMINISTRATOR, false },
	{ { "downstream", "remove", "CORP\\DS1$" }, ROLE_ADMINISTRATOR, false },
	{ { "upstream", "set", "https://up:8531" }, ROLE_ADMINISTRATOR, false },
	{ { "upstream", "set", "https://up:8531", "--replica" },
	    ROLE_ADMINISTRATOR, false },
	{ { "upstream", "set", "https://up:8531", "--ca", "/etc/ca.pem" },
	    ROLE_ADMINISTRATOR, true },
	{ { "upstream", "set", "https://up", "--client-cert", "c.pem" },
	    ROLE_ADMINISTRATOR, true },
	{ { "upstream", "set", "https://up", "--client-key", "k.pem" },
	    ROLE_ADMINISTRATOR, true },
	{ { "sync" }, ROLE_ADMINISTRATOR, false },
	{ { "sync", "--wait", "--metadata-only" }, ROLE_ADMINISTRATOR, false },
	{ { "publishingcert", "create", "--days", "30" }, ROLE_ADMINISTRATOR,
	    false },
	{ { "publishingcert", "export", "/tmp/pub.cer" }, ROLE_ADMINISTRATOR,
	    true },
	{ { "cookiekey", "rotate" }, ROLE_ADMINISTRATOR, false },
	{ { "admins", "add", "user:bob", "approver" }, ROLE_ADMINISTRATOR,
	    false },
	{ { "admins", "remove", "user:bob" }, ROLE_ADMINISTRATOR, false },
	{ { "cleanup", "--superseded" }, ROLE_ADMINISTRATOR, false },
	{ { "reset" }, ROLE_ADMINISTRATOR, false },
	{ { "deleteunneededrevisions" }, ROLE_ADMINISTRATOR, false },
	{ { "export", "pkg.xml.gz", "export.log" }, ROLE_ADMINISTRATOR, true },
	{ { "import", "pkg.xml.gz", "import.log" }, ROLE_ADMINISTRATOR, true },
	{ { "publish", "a.cab", "--title", "T" }, ROLE_ADMINISTRATOR, true },
	{ { "publish", "--driver", "PCI\\VEN_1" }, ROLE_ADMINISTRATOR, true },
	{ { "configuressl", "wsus.corp" }, ROLE_ADMINISTRATOR, false },
	{ { "configuressl", "wsus.corp", "--cert", "c", "--key", "k" },
	    ROLE_ADMINISTRATOR, true },
	{ { "configuressl", "wsus.corp", "--chain", "ch" }, ROLE_ADMINISTRATOR,
	    true },
	{ { "testca", "wsus.corp" }, ROLE_ADMINISTRATOR, false },
	{ { "testca", "--out", "/tmp/x", "wsus.corp" }, ROLE_ADMINISTRATOR,
	    true },
	{ { "testca", "--out=/tmp/x", "wsus.corp" }, ROLE_ADMINISTRATOR, true },
	/* command names case-insensitive, as wsusutil's */
	{ { "CheckHealth" }, ROLE_REPORTER, false },
	{ { "Approve", "x", "--group", "g" }, ROLE_APPROVER, false },
	{ { "UPDATES", "list" }, ROLE_REPORTER, false },
	{ { "ConfigureSSL", "n", "--key", "k" }, ROLE_ADMINISTRATOR, true },
	/* subcommands exact, as each cmd_*.c: anything else fails closed */
	{ { "updates", "List" }, ROLE_ADMINISTRATOR, true },
	{ { "updates" }, ROLE_ADMINISTRATOR, true },
	{ { "groups", "frobnicate" }, ROLE_ADMINISTRATOR, true },
	{ { "admins" }, ROLE_ADMINISTRATOR, true },
	{ { "downstream", "LIST" }, ROLE_ADMINISTRATOR, true },
	{ { "sync", "Status" }, ROLE_ADMINISTRATOR, false },
	/* unknown commands */
	{ { "frobnicate" }, ROLE_ADMINISTRATOR, true },
	{ { "" }, ROLE_ADMINISTRATOR, true },
	{ { "report2" }, ROLE_ADMINISTRATOR, true },
	{ { "repor" }, ROLE_ADMINISTRATOR, true },
};

static int
argc_of(const struct cmd_case *c)
{
	int n = 0;

	while (n < 8 && c->argv[n] != NULL)
		n++;
	return n;
}

static void
test_cmd_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cmd_cases) / sizeof(cmd_cases[0]); i++) {
		const struct cmd_case *c = &cmd_cases[i];
		char *argv[9] = { 0 };
		int argc = argc_of(c);

		/* Writable copies: the API takes char *const *. */
		for (int k = 0; k < argc; k++)
			argv[k] = strdup(c->argv[k]);
		if (admin_cmd_role(argc, argv) != c->role)
			fail_msg("%s %s: role %s, want %s", c->argv[0],
			    argc > 1 ? c->argv[1] : "",
			    admin_role_name(admin_cmd_role(argc, argv)),
			    admin_role_name(c->role));
		if (admin_cmd_takes_paths(argc, argv) != c->paths)
			fail_msg("%s %s: takes_paths %d, want %d", c->argv[0],
			    argc > 1 ? c->argv[1] : "",
			    admin_cmd_takes_paths(argc, argv), c->paths);
		for (int k = 0; k < argc; k++)
			free(argv[k]);
	}
	/* No command at all: fail closed. */
	assert_int_equal(admin_cmd_role(0, NULL), ROLE_ADMINISTRATOR);
	assert_true(admin_cmd_takes_paths(0, NULL));
}

/* ------------------------------------------------------------- edits */

static char *
set(const char *text, enum admin_role role, const char *principal)
{
	struct admin_rule rule;
	struct wsd_err err = { 0, NULL };
	char *out = NULL;

	memset(&rule, 0, sizeof(rule));
	assert_int_equal(admin_principal_parse(principal, &rule), 0);
	rule.ar_role = role;
	if (admin_roles_edit_set(text, strlen(text), &rule, &out, &err) != 0)
		fail_msg("edit_set %s: %s", principal, err.what);
	assert_non_null(out);
	return out;
}

static void
test_edit_set(void **state)
{
	const char *orig = "# admins\n"
			   "administrator user:alice\r\n"
			   "\n"
			   "# approvers below\n"
			   "approver      group:wsus\n";
	char *a, *b, *c, *d;

	(void)state;
	/* New: appended, everything else byte for byte. */
	a = set(orig, ROLE_REPORTER, "user:bob");
	assert_string_equal(a,
	    "# admins\n"
	    "administrator user:alice\r\n"
	    "\n"
	    "# approvers below\n"
	    "approver      group:wsus\n"
	    "reporter      user:bob\n");
	/* Changed in place, keeping its line end. */
	b = set(a, ROLE_APPROVER, "user:alice");
	assert_string_equal(b,
	    "# admins\n"
	    "approver      user:alice\r\n"
	    "\n"
	    "# approvers below\n"
	    "approver      group:wsus\n"
	    "reporter      user:bob\n");
	/* No final newline: one is added before the new rule. */
	c = set("# x\nreporter user:a", ROLE_ADMINISTRATOR, "group:g");
	assert_string_equal(c, "# x\nreporter user:a\nadministrator group:g\n");
	/* Empty file. */
	d = set("", ROLE_APPROVER, "cert:CORP\\ops1");
	assert_string_equal(d, "approver      cert:CORP\\ops1\n");
	free(a);
	free(b);
	free(c);
	free(d);
	/* A cert name is the same principal whatever its case; duplicates
	 * go, so a demotion takes effect. */
	a = set("administrator cert:CORP\\ops1\n"
		"# keep\n"
		"administrator cert:corp\\OPS1\n"
		"reporter cert:CORP\\ops1$\n",
	    ROLE_REPORTER, "cert:Corp\\Ops1");
	assert_string_equal(a,
	    "reporter      cert:Corp\\Ops1\n"
	    "# keep\n"
	    "reporter cert:CORP\\ops1$\n");
	free(a);
	/* User names are case-sensitive: Alice is another user. */
	a = set("reporter user:alice\n", ROLE_APPROVER, "user:Alice");
	assert_string_equal(a,
	    "reporter user:alice\napprover      user:Alice\n");
	free(a);
}

static void
test_edit_set_refusals(void **state)
{
	struct admin_rule rule;
	struct wsd_err err = { 0, NULL };
	char *out = (char *)1, *big;
	size_t n = 0;

	(void)state;
	memset(&rule, 0, sizeof(rule));
	assert_int_equal(admin_principal_parse("user:bob", &rule), 0);
	rule.ar_role = ROLE_NONE;
	assert_int_equal(admin_roles_edit_set("", 0, &rule, &out, &err),
	    WSD_EINVAL);
	assert_null(out);
	rule.ar_role = ROLE_REPORTER;
	snprintf(rule.ar_name, sizeof(rule.ar_name), "b b");
	assert_int_equal(admin_roles_edit_set("", 0, &rule, &out, &err),
	    WSD_EINVAL);
	assert_null(out);
	/* A broken file is not edited. */
	snprintf(rule.ar_name, sizeof(rule.ar_name), "bob");
	assert_int_equal(admin_roles_edit_set("bogus\n", 6, &rule, &out, &err),
	    WSD_EINVAL);
	assert_null(out);
	/* The 257th rule is refused; changing one of 256 is not. */
	big = malloc(ADMIN_ROLES_MAX_FILE);
	assert_non_null(big);
	for (int i = 0; i < ADMIN_ROLES_MAX_RULES; i++)
		n += (size_t)snprintf(big + n, 64, "reporter user:u%d\n", i);
	assert_int_equal(admin_roles_edit_set(big, n, &rule, &out, &err),
	    WSD_ETOOBIG);
	assert_null(out);
	snprintf(rule.ar_name, sizeof(rule.ar_name), "u7");
	rule.ar_role = ROLE_ADMINISTRATOR;
	assert_int_equal(admin_roles_edit_set(big, n, &rule, &out, &err), 0);
	assert_non_null(strstr(out, "administrator user:u7\n"));
	free(out);
	free(big);
}

static void
test_edit_remove(void **state)
{
	const char *orig = "# admins\r\n"
			   "administrator user:alice\r\n"
			   "approver cert:CORP\\ops1\n"
			   "reporter user:alice\n"
			   "reporter group:alice\n";
	struct wsd_err err = { 0, NULL };
	char *out = NULL;

	(void)state;
	assert_int_equal(admin_roles_edit_remove(orig, strlen(orig),
			     PRINCIPAL_USER, "alice", &out, &err),
	    0);
	assert_string_equal(out,
	    "# admins\r\n"
	    "approver cert:CORP\\ops1\n"
	    "reporter group:alice\n");
	free(out);
	assert_int_equal(admin_roles_edit_remove(orig, strlen(orig),
			     PRINCIPAL_CERT, "corp\\OPS1", &out, &err),
	    0);
	assert_null(strstr(out, "ops1"));
	assert_non_null(strstr(out, "# admins\r\n"));
	free(out);
	/* Absent: ENOTFOUND, nothing returned. */
	out = (char *)1;
	assert_int_equal(admin_roles_edit_remove(orig, strlen(orig),
			     PRINCIPAL_USER, "bob", &out, &err),
	    WSD_ENOTFOUND);
	assert_int_equal(err.code, WSD_ENOTFOUND);
	assert_null(out);
	assert_int_equal(admin_roles_edit_remove(orig, strlen(orig),
			     PRINCIPAL_GROUP, "wsus", &out, &err),
	    WSD_ENOTFOUND);
	assert_int_equal(admin_roles_edit_remove(orig, strlen(orig),
			     PRINCIPAL_USER, "Alice", &out, &err),
	    WSD_ENOTFOUND);
	/* Removing the only rule leaves the comments. */
	assert_int_equal(admin_roles_edit_remove("# c\nreporter user:x", 19,
			     PRINCIPAL_USER, "x", &out, &err),
	    0);
	assert_string_equal(out, "# c\n");
	free(out);
}

/* ------------------------------------------------------------- load */

static void
test_load(void **state)
{
	char dir[] = "/tmp/wsusd-test-admins-XXXXXX";
	char path[128];
	struct admin_roles *r = NULL;
	unsigned long line;
	struct wsd_err err = { 0, NULL };
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, ADMIN_ROLES_FILE);
	/* No file: an empty list. */
	assert_int_equal(admin_roles_load(dir, &r, &line, &err), 0);
	assert_non_null(r);
	assert_int_equal(r->n, 0);
	admin_roles_free(r);

	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("# x\napprover user:alice\nreporter bogus\n", fp);
	fclose(fp);
	assert_int_equal(chmod(path, 0640), 0);
	r = (struct admin_roles *)1;
	assert_int_equal(admin_roles_load(dir, &r, &line, &err), WSD_EINVAL);
	assert_null(r);
	assert_int_equal(line, 3);

	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("# x\napprover user:alice\n", fp);
	fclose(fp);
	assert_int_equal(admin_roles_load(dir, &r, &line, &err), 0);
	assert_int_equal(r->n, 1);
	assert_int_equal(admin_role_for_local(r, "alice", NULL, 0),
	    ROLE_APPROVER);
	admin_roles_free(r);

	/* Writable by everyone: refused, whatever it says. */
	assert_int_equal(chmod(path, 0646), 0);
	r = (struct admin_roles *)1;
	assert_int_equal(admin_roles_load(dir, &r, &line, &err), WSD_EPERM);
	assert_null(r);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_roles_local),
		cmocka_unit_test(test_roles_cert),
		cmocka_unit_test(test_roles_remote),
		cmocka_unit_test(test_role_names),
		cmocka_unit_test(test_principal_parse),
		cmocka_unit_test(test_cmd_table),
		cmocka_unit_test(test_edit_set),
		cmocka_unit_test(test_edit_set_refusals),
		cmocka_unit_test(test_edit_remove),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
