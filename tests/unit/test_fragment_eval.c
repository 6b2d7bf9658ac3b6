/*
 * fragment_eval_applicability (src/catalog/fragment_eval.c): boolean
 * evaluation with the caller deciding rules, and the exact Linux marker
 * (wuagent runs only updates marked Not(b.WindowsVersion >= 0)).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "catalog/fragment.h"

#define CORE_HEAD                                                            \
	"<UpdateIdentity UpdateID=\"a0000000-0000-4000-8000-000000000001\" " \
	"RevisionNumber=\"100\" /><Properties UpdateType=\"Software\" />"
#define MARKER                                                               \
	"<Not><b.WindowsVersion Comparison=\"GreaterThanOrEqualTo\" "        \
	"MajorVersion=\"0\" /></Not>"

/* Linux meanings: every b. rule false except b.FileExists Path="/". */
static bool
rule(void *arg, const struct fragment_rule *r)
{
	(void)arg;
	return strcmp(r->name, "b.FileExists") == 0 && r->n_attrs == 1 &&
	    strcmp(r->attrs[1], "/") == 0;
}

static struct fragment_applicability
eval(const char *installable, const char *installed)
{
	char xml[4096];
	struct fragment_applicability a;
	struct wsd_err err;

	snprintf(xml, sizeof(xml),
	    CORE_HEAD "<ApplicabilityRules>%s%s%s%s%s%s</ApplicabilityRules>",
	    installed ? "<IsInstalled>" : "", installed ? installed : "",
	    installed ? "</IsInstalled>" : "",
	    installable ? "<IsInstallable>" : "",
	    installable ? installable : "",
	    installable ? "</IsInstallable>" : "");
	assert_int_equal(fragment_eval_applicability(xml, strlen(xml), rule,
			     NULL, &a, &err),
	    0);
	return a;
}

static void
test_marker_forms(void **state)
{
	struct fragment_applicability a;

	(void)state;
	a = eval(MARKER, NULL);
	assert_true(a.not_windows);
	assert_true(a.is_installable);
	a = eval("<Not><b.WindowsVersion Comparison=\"GreaterThanOrEqualTo\" "
		 "MajorVersion=\"0\" MinorVersion=\"0\" /></Not>",
	    NULL);
	assert_true(a.not_windows);
	a = eval("<And>" MARKER "<Not><b.FileExists Path=\"/x\" /></Not>"
		 "</And>",
	    "<b.FileExists Path=\"/\" />");
	assert_true(a.not_windows);
	assert_true(a.is_installable);
	assert_true(a.has_is_installed);
	assert_true(a.is_installed);
}

static void
test_windows_rules_are_not_the_marker(void **state)
{
	static const char *const windows_only[] = {
		/* "not a workstation": a server-only update */
		"<Not><b.WindowsVersion Comparison=\"GreaterThanOrEqualTo\" "
		"MajorVersion=\"0\" ProductType=\"1\" /></Not>",
		/* "older than Windows 10" */
		"<Not><b.WindowsVersion Comparison=\"GreaterThanOrEqualTo\" "
		"MajorVersion=\"10\" /></Not>",
		"<Not><b.WindowsVersion Comparison=\"LessThan\" "
		"MajorVersion=\"0\" /></Not>",
		/* nested below an Or or a second And */
		"<Or>" MARKER "<True /></Or>",
		"<And><And>" MARKER "</And></And>",
		/* a Not with more than the rule */
		"<Not><b.WindowsVersion Comparison=\"GreaterThanOrEqualTo\" "
		"MajorVersion=\"0\" /><True /></Not>",
		"<True />",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(windows_only) / sizeof(*windows_only);
	     i++)
		assert_false(eval(windows_only[i], NULL).not_windows);
}

static void
test_boolean_logic(void **state)
{
	(void)state;
	assert_true(eval("<And />", NULL).is_installable);
	assert_false(eval("<Or />", NULL).is_installable);
	assert_false(eval("<And><True /><False /></And>", NULL).is_installable);
	assert_true(eval("<Or><False /><True /></Or>", NULL).is_installable);
	assert_true(eval("<Not><b.RegKeyExists Key=\"HKEY_LOCAL_MACHINE\" "
			 "Subkey=\"x\" /></Not>",
	    NULL)
			.is_installable);
	assert_false(eval(NULL, NULL).has_is_installable);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_marker_forms),
		cmocka_unit_test(test_windows_rules_are_not_the_marker),
		cmocka_unit_test(test_boolean_logic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
