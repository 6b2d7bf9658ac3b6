/* sss_anchor: Windows' "n,yyyy-MM-dd HH:mm:ss.fff" anchors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wsusss/sss_anchor.h"

static int
parse(const char *s, struct sss_anchor *a)
{
	return sss_anchor_parse((struct sv){ s, strlen(s) }, a);
}

static void
test_parse_windows_examples(void **state)
{
	struct sss_anchor a;

	(void)state;
	assert_int_equal(parse("4742,2006-05-26 18:59:26.192", &a), 0);
	assert_int_equal(a.an_gen, 4742);
	/* 2006-05-26T18:59:26Z is 1148669966. */
	assert_int_equal(a.an_ms, 1148669966192LL);
	assert_int_equal(parse("14030,2006-06-08 15:38:16.022", &a), 0);
	assert_int_equal(a.an_gen, 14030);
	assert_int_equal(a.an_ms % 1000, 22);
	assert_int_equal(parse("0,0001-01-01 00:00:00.000", &a), 0);
	assert_int_equal(a.an_gen, 0);
	assert_int_equal(parse("9223372036854775807,9999-12-31 23:59:59.999",
			     &a),
	    0);
	assert_true(a.an_gen == INT64_MAX);
}

static void
test_parse_refuses(void **state)
{
	static const char *const bad[] = {
		"",
		"x",
		",2006-05-26 18:59:26.192",
		"-1,2006-05-26 18:59:26.192",
		"+1,2006-05-26 18:59:26.192",
		" 1,2006-05-26 18:59:26.192",
		"1, 2006-05-26 18:59:26.192",
		"1,2006-05-26 18:59:26.192 ",
		"1,2006-05-26 18:59:26",
		"1,2006-05-26 18:59:26.19",
		"1,2006-05-26 18:59:26.1920",
		"1,2006-05-26T18:59:26.192",
		"1,2006-05-26 18:59:26.192Z",
		"1,2006-13-26 18:59:26.192",
		"1,2006-02-30 18:59:26.192",
		"1,2006-05-26 24:00:00.000",
		"1,2006-05-26 18:60:26.192",
		"1,0000-05-26 18:59:26.192",
		"1,06-05-26 18:59:26.192",
		"1;2006-05-26 18:59:26.192",
		"9223372036854775808,2006-05-26 18:59:26.192",
		"00000000000000000001,2006-05-26 18:59:26.192",
	};
	struct sss_anchor a = { 77, 88 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &a), WSD_EINVAL);
		assert_int_equal(a.an_gen, 77); /* untouched */
	}
	/* An embedded NUL is not the end of the anchor. */
	assert_int_equal(sss_anchor_parse((struct sv){ "1,2006-05-26 18:59:2"
							"\0.192",
					      28 },
			     &a),
	    WSD_EINVAL);
}

static void
test_format_round_trip(void **state)
{
	struct sss_anchor a = { 4742, 1148669966192LL }, b;
	char buf[SSS_ANCHOR_MAX];

	(void)state;
	assert_int_equal(sss_anchor_format(&a, buf), 0);
	assert_string_equal(buf, "4742,2006-05-26 18:59:26.192");
	assert_int_equal(parse(buf, &b), 0);
	assert_int_equal(b.an_gen, a.an_gen);
	assert_int_equal(b.an_ms, a.an_ms);
	a.an_gen = 1;
	a.an_ms = 5; /* zero-padded milliseconds */
	assert_int_equal(sss_anchor_format(&a, buf), 0);
	assert_string_equal(buf, "1,1970-01-01 00:00:00.005");
	a.an_gen = INT64_MAX;
	a.an_ms = 253402300799999LL; /* the last millisecond of 9999 */
	assert_int_equal(sss_anchor_format(&a, buf), 0);
	assert_string_equal(buf,
	    "9223372036854775807,9999-12-31 23:59:59.999");
	assert_true(strlen(buf) < SSS_ANCHOR_MAX);
	a.an_ms = 253402300800000LL; /* year 10000 */
	assert_int_equal(sss_anchor_format(&a, buf), WSD_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_windows_examples),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_format_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
