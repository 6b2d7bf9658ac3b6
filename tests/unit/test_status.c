#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "catalog/status.h"

#define A "1594B429-A8C5-4B0D-AC86-79B0A826A847"
#define B "391d3487-e6f5-4bd0-a607-7e29f9fbd88e"
#define C "74E87997-E3B3-45D2-A527-A8877A5162EC"
#define D "a2fef9b0-7951-4c2c-a42b-9e351dd1c1fe"

static void
test_unknown_until_reported(void **state)
{
	struct status_state s;

	(void)state;
	status_init(&s);
	assert_int_equal(status_of(&s, A), STATUS_UNKNOWN);
	/* Events that do not change status (OBSERVED 56, 57). */
	assert_int_equal(status_feed(&s, 161, A, ""), 0);
	assert_int_equal(status_feed(&s, 181, A, ""), 0);
	assert_int_equal(status_feed(&s, 162, A, "B=100"), 0);
	assert_int_equal(status_of(&s, A), STATUS_UNKNOWN);
	status_release(&s);
}

static void
test_156_lists(void **state)
{
	struct status_state s;

	(void)state;
	status_init(&s);
	/* The captured shape: U= is a ;-joined upper-case GUID list. */
	assert_int_equal(status_feed(&s, 156, "00000000-0000-0000-0000-"
					      "000000000000",
			     "G=1507.2601.30012.0\nU=" A ";" B "\nV=" C
			     "\ng=" D "\nAppName=x"), 0);
	assert_string_equal(update_status_name(status_of(&s, A)), "Needed");
	assert_int_equal(status_of(&s, "1594b429-a8c5-4b0d-ac86-79b0a826a847"),
	    STATUS_NEEDED);
	assert_int_equal(status_of(&s, B), STATUS_NEEDED);
	assert_int_equal(status_of(&s, C), STATUS_INSTALLED);
	assert_int_equal(status_of(&s, D), STATUS_FAILED);
	assert_int_equal(status_of(&s, "00000000-1111-2222-3333-444444444444"),
	    STATUS_NOT_APPLICABLE);
	/* Install results after the snapshot. */
	assert_int_equal(status_feed(&s, 183, A, ""), 0);
	assert_int_equal(status_feed(&s, 184, B, ""), 0);
	assert_int_equal(status_feed(&s, 182, C, ""), 0);
	assert_int_equal(status_of(&s, A), STATUS_INSTALLED);
	assert_int_equal(status_of(&s, B), STATUS_INSTALLED_PENDING_REBOOT);
	assert_int_equal(status_of(&s, C), STATUS_FAILED);
	/* A later 156 is a new snapshot: A left the lists. */
	assert_int_equal(status_feed(&s, 156, "", "V=" B), 0);
	assert_int_equal(status_of(&s, A), STATUS_NOT_APPLICABLE);
	assert_int_equal(status_of(&s, B), STATUS_INSTALLED);
	status_release(&s);
}

static void
test_hostile_misc(void **state)
{
	struct status_state s;

	(void)state;
	status_init(&s);
	/* Garbage and other keys are ignored; only allow-listed keys count. */
	assert_int_equal(status_feed(&s, 156, "",
			     "U=not-a-guid;;" A "x;\nX=" B "\nSynchronization"
			     "UpdateErrorsKey=AAEAAAD/////\nV=;;;"), 0);
	assert_int_equal(status_of(&s, B), STATUS_NOT_APPLICABLE);
	assert_int_equal(status_of(&s, "garbage"), STATUS_UNKNOWN);
	assert_int_equal(status_feed(&s, 183, "garbage", ""), 0);
	status_release(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_until_reported),
		cmocka_unit_test(test_156_lists),
		cmocka_unit_test(test_hostile_misc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
