#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "common/encode.h"

static void
test_captured_digest(void **state)
{
	/* vectors flow/000015: Digest of AM_Base.exe and its content URL. */
	unsigned char sha1[20];
	char hex[41], b64[29];

	(void)state;
	assert_int_equal(b64_decode_exact("L4jfQtpIqpgPt0jRO6ot5JzRVKs=", 28,
			     sha1, 20), 0);
	hex_encode_upper(sha1, 20, hex);
	assert_string_equal(hex, "2F88DF42DA48AA980FB748D13BAA2DE49CD154AB");
	b64_encode(sha1, 20, b64);
	assert_string_equal(b64, "L4jfQtpIqpgPt0jRO6ot5JzRVKs=");
	memset(sha1, 0, sizeof(sha1));
	assert_int_equal(hex_decode(hex, 40, sha1, 20), 0);
	assert_int_equal(sha1[0], 0x2f);
	assert_int_equal(hex_decode("2f88", 4, sha1, 2), 0);
}

static void
test_b64_strict(void **state)
{
	static const char *const bad[] = {
		"L4jfQtpIqpgPt0jRO6ot5JzRVKs",   /* 27: no padding */
		"L4jfQtpIqpgPt0jRO6ot5JzRVKs==", /* 29 */
		"L4jfQtpIqpgPt0jRO6ot5JzRVK=s",  /* data after padding */
		"L4jfQtpIqpgPt0jRO6ot5JzR VKs",  /* space */
		"L4jfQtpIqpgPt0jRO6ot5JzR-Ks=",  /* url alphabet */
		"L4jfQtpIqpgPt0jRO6ot5JzRVKt=",  /* spare bits set */
		"",
	};
	unsigned char out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(b64_decode_exact(bad[i], strlen(bad[i]), out,
				     20), -1);
	/* A valid base64 of 32 bytes is not a SHA-1. */
	assert_int_equal(b64_decode_exact(
			     "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", 44,
			     out, 20), -1);
	assert_int_equal(b64_decode_exact(
			     "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", 44,
			     out, 32), 0);
	assert_int_equal(out[0], 0xe3); /* SHA-256 of "" */
	assert_int_equal(hex_decode("2g", 2, out, 1), -1);
	assert_int_equal(hex_decode("2", 1, out, 1), -1);
}

static void
test_guid(void **state)
{
	char g[37], g2[37];

	(void)state;
	assert_int_equal(guid_normalize("56309036-4C77-4DD9-951A-99EE9C246A94",
			     g), 0);
	assert_string_equal(g, "56309036-4c77-4dd9-951a-99ee9c246a94");
	assert_int_equal(guid_normalize("56309036-4C77-4DD9-951A-99EE9C246A9",
			     g), -1);
	assert_int_equal(guid_normalize("56309036x4C77-4DD9-951A-99EE9C246A94",
			     g), -1);
	assert_int_equal(guid_normalize("{6309036-4C77-4DD9-951A-99EE9C246A94",
			     g), -1);
	assert_int_equal(guid_normalize("56309036-4C77-4DD9-951A-99EE9C246A94 ",
			     g), -1);
	assert_int_equal(guid_generate(g, NULL), 0);
	assert_int_equal(guid_generate(g2, NULL), 0);
	assert_string_not_equal(g, g2);
	assert_int_equal(guid_normalize(g, g2), 0);
	assert_string_equal(g, g2); /* already normal */
	assert_int_equal(g[14], '4');
	{
		unsigned char b[16];
		char back[37];

		assert_int_equal(guid_bytes("E1DA06A3-5601-43C9-BAC3-"
					    "52D5DB701494", b), 0);
		assert_int_equal(b[0], 0xe1);
		assert_int_equal(b[15], 0x94);
		guid_format(b, back);
		assert_string_equal(back,
		    "e1da06a3-5601-43c9-bac3-52d5db701494");
		assert_int_equal(guid_bytes("e1da06a3-5601-43c9-bac3", b), -1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captured_digest),
		cmocka_unit_test(test_b64_strict),
		cmocka_unit_test(test_guid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
