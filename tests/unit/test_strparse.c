#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/sbuf.h"
#include "common/strparse.h"

static void
test_u64_basic(void **state)
{
	struct sv s = SV_LIT("1234x");
	uint64_t v;

	(void)state;
	assert_int_equal(strparse_u64(&s, UINT64_MAX, &v), 0);
	assert_true(v == 1234);
	assert_int_equal((int)s.n, 1);
	assert_int_equal(s.p[0], 'x');
}

static void
test_u64_limits(void **state)
{
	struct sv max = SV_LIT("18446744073709551615");
	struct sv over = SV_LIT("18446744073709551616");
	struct sv empty = { "", 0 }, sign = SV_LIT("-1");
	uint64_t v = 7;

	(void)state;
	assert_int_equal(strparse_u64(&max, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(strparse_u64(&over, UINT64_MAX, &v), WSD_ETOOBIG);
	assert_int_equal((int)over.n, 20); /* not advanced on failure */
	assert_int_equal(strparse_u64(&empty, 10, &v), WSD_EINVAL);
	assert_int_equal(strparse_u64(&sign, 10, &v), WSD_EINVAL);
}

static void
test_u64_all_range(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(strparse_u64_all("65535", 2, 65535, &v), 0);
	assert_int_not_equal(strparse_u64_all("65536", 2, 65535, &v), 0);
	assert_int_not_equal(strparse_u64_all("1", 2, 65535, &v), 0);
	assert_int_not_equal(strparse_u64_all("12 ", 0, 100, &v), 0);
	assert_int_not_equal(strparse_u64_all("", 0, 100, &v), 0);
}

static void
test_sv_case(void **state)
{
	(void)state;
	assert_true(sv_eq_cstr_ci(SV_LIT("Client.ASMX"), "client.asmx"));
	assert_false(sv_eq_cstr_ci(SV_LIT("client.asm"), "client.asmx"));
	assert_true(sv_starts_ci(SV_LIT("/CONTENT/ab"), SV_LIT("/content/")));
}

static void
test_sbuf_cap(void **state)
{
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb, 8);
	assert_int_equal(sbuf_adds(&sb, "12345678"), 0);
	assert_string_equal(sbuf_str(&sb), "12345678");
	/* Over the cap: released, never half-written. */
	assert_int_equal(sbuf_adds(&sb, "9"), WSD_ETOOBIG);
	assert_null(sb.sb_buf);
	assert_int_equal((int)sb.sb_len, 0);
	assert_int_equal(sbuf_addf(&sb, "%d", 42), 0);
	assert_string_equal(sbuf_str(&sb), "42");
	sbuf_release(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64_basic),
		cmocka_unit_test(test_u64_limits),
		cmocka_unit_test(test_u64_all_range),
		cmocka_unit_test(test_sv_case),
		cmocka_unit_test(test_sbuf_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
