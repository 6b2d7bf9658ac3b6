#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "common/sbuf.h"
#include "common/xmlesc.h"

/* The variants the callers use (see the table in xmlesc.h). */
#define FRAG      (XMLESC_QUOT | XMLESC_WS | XMLESC_NO_C1)
#define PKG       (XMLESC_QUOT | XMLESC_WS)
#define SOAP_TEXT (XMLESC_CR | XMLESC_HEX)
#define SOAP_ATTR (XMLESC_QUOT | XMLESC_WS | XMLESC_HEX)
#define APPL      (XMLESC_QUOT)
#define APPL_LINE (XMLESC_NO_C1 | XMLESC_NO_NL)

/* sizeof of a literal, less its NUL: inputs may hold NUL bytes. */
#define S(lit) lit, sizeof(lit) - 1

struct esc_case {
	unsigned flags;
	const char *in;
	size_t n;
	enum xmlesc_bad bad; /* XMLESC_OK: out is the whole result */
	const char *out;
};

static const struct esc_case esc_cases[] = {
	/* The empty string, in every variant. */
	{ FRAG, S(""), XMLESC_OK, "" },
	{ PKG, S(""), XMLESC_OK, "" },
	{ SOAP_TEXT, S(""), XMLESC_OK, "" },
	{ SOAP_ATTR, S(""), XMLESC_OK, "" },
	{ APPL, S(""), XMLESC_OK, "" },

	/* The five specials: ' is never escaped, " only with QUOT
	 * (WUSP.md: SyncUpdates Xml text leaves quotes literal). */
	{ FRAG, S("a&b<c>d\"e'f"), XMLESC_OK, "a&amp;b&lt;c&gt;d&quot;e'f" },
	{ PKG, S("a&b<c>d\"e'f"), XMLESC_OK, "a&amp;b&lt;c&gt;d&quot;e'f" },
	{ SOAP_TEXT, S("a&b<c>d\"e'f"), XMLESC_OK, "a&amp;b&lt;c&gt;d\"e'f" },
	{ SOAP_ATTR, S("a&b<c>d\"e'f"), XMLESC_OK,
	    "a&amp;b&lt;c&gt;d&quot;e'f" },
	{ APPL, S("a&b<c>d\"e'f"), XMLESC_OK, "a&amp;b&lt;c&gt;d&quot;e'f" },
	{ SOAP_TEXT, S("&&"), XMLESC_OK, "&amp;&amp;" },
	{ PKG, S("<\">"), XMLESC_OK, "&lt;&quot;&gt;" },

	/* TAB, LF, CR: decimal or hex references, CR alone, or literal. */
	{ FRAG, S("1\t2\n3\r4"), XMLESC_OK, "1&#9;2&#10;3&#13;4" },
	{ PKG, S("1\t2\n3\r4"), XMLESC_OK, "1&#9;2&#10;3&#13;4" },
	{ SOAP_ATTR, S("1\t2\n3\r4"), XMLESC_OK, "1&#x9;2&#xA;3&#xD;4" },
	{ SOAP_TEXT, S("1\t2\n3\r4"), XMLESC_OK, "1\t2\n3&#xD;4" },
	{ APPL, S("1\t2\n3\r4"), XMLESC_OK, "1\t2\n3\r4" },
	{ XMLESC_CR, S("\r\n"), XMLESC_OK, "&#13;\n" },
	{ APPL_LINE, S("a\tb"), XMLESC_OK, "a\tb" },
	{ APPL_LINE, S("a\nb"), XMLESC_BAD_CONTROL, NULL },
	{ APPL_LINE, S("a\rb"), XMLESC_BAD_CONTROL, NULL },

	/* C0 controls, NUL among them: refused by all. */
	{ FRAG, S("a\x01"), XMLESC_BAD_CONTROL, NULL },
	{ PKG, S("\x0b"), XMLESC_BAD_CONTROL, NULL },
	{ SOAP_TEXT, S("\x1f"), XMLESC_BAD_CONTROL, NULL },
	{ SOAP_ATTR, S("\x1b[31m"), XMLESC_BAD_CONTROL, NULL },
	{ APPL, S("a\0b"), XMLESC_BAD_CONTROL, NULL },
	{ SOAP_TEXT, S("a\0b"), XMLESC_BAD_CONTROL, NULL },

	/* DEL and C1: refused only with NO_C1; U+00A0 is text. */
	{ FRAG, S("\x7f"), XMLESC_BAD_CONTROL, NULL },
	{ FRAG, S("\xc2\x80"), XMLESC_BAD_CONTROL, NULL },
	{ FRAG, S("\xc2\x9f"), XMLESC_BAD_CONTROL, NULL },
	{ APPL_LINE, S("\xc2\x85"), XMLESC_BAD_CONTROL, NULL },
	{ FRAG, S("\xc2\xa0"), XMLESC_OK, "\xc2\xa0" },
	{ PKG, S("\x7f\xc2\x80\xc2\x9f"), XMLESC_OK, "\x7f\xc2\x80\xc2\x9f" },
	{ SOAP_TEXT, S("\x7f\xc2\x85"), XMLESC_OK, "\x7f\xc2\x85" },

	/* Overlong forms, and the shortest forms next to them. */
	{ PKG, S("\xc0\xaf"), XMLESC_BAD_UTF8, NULL },
	{ PKG, S("\xc1\xbf"), XMLESC_BAD_UTF8, NULL },
	{ SOAP_TEXT, S("\xe0\x80\xaf"), XMLESC_BAD_UTF8, NULL },
	{ FRAG, S("\xe0\x9f\xbf"), XMLESC_BAD_UTF8, NULL },
	{ FRAG, S("\xf0\x8f\xbf\xbf"), XMLESC_BAD_UTF8, NULL },
	{ FRAG, S("\xc2\xa9\xe0\xa0\x80"), XMLESC_OK, "\xc2\xa9\xe0\xa0\x80" },
	{ FRAG, S("\xf0\x90\x80\x80"), XMLESC_OK, "\xf0\x90\x80\x80" },

	/* Surrogates; U+D7FF and U+E000 on either side are fine. */
	{ SOAP_ATTR, S("\xed\xa0\x80"), XMLESC_BAD_UTF8, NULL },
	{ PKG, S("\xed\xbf\xbf"), XMLESC_BAD_UTF8, NULL },
	{ PKG, S("\xed\x9f\xbf\xee\x80\x80"), XMLESC_OK,
	    "\xed\x9f\xbf\xee\x80\x80" },

	/* Above U+10FFFF; U+10FFFF itself is a character. */
	{ SOAP_TEXT, S("\xf4\x90\x80\x80"), XMLESC_BAD_UTF8, NULL },
	{ SOAP_TEXT, S("\xf5\x80\x80\x80"), XMLESC_BAD_UTF8, NULL },
	{ FRAG, S("\xf7\xbf\xbf\xbf"), XMLESC_BAD_UTF8, NULL },
	{ SOAP_TEXT, S("\xf4\x8f\xbf\xbf"), XMLESC_OK, "\xf4\x8f\xbf\xbf" },

	/* Truncated sequences, stray continuation and invalid bytes. */
	{ FRAG, S("\xc3"), XMLESC_BAD_UTF8, NULL },
	{ PKG, S("ok\xe2\x82"), XMLESC_BAD_UTF8, NULL },
	{ SOAP_ATTR, S("\xf0\x9f\x98"), XMLESC_BAD_UTF8, NULL },
	{ APPL, S("\xe2\x82<"), XMLESC_BAD_UTF8, NULL },
	{ FRAG, S("\x80"), XMLESC_BAD_UTF8, NULL },
	{ PKG, S("a\xbf"), XMLESC_BAD_UTF8, NULL },
	{ SOAP_TEXT, S("\xfe"), XMLESC_BAD_UTF8, NULL },
	{ SOAP_TEXT, S("\xff"), XMLESC_BAD_UTF8, NULL },

	/* 4-byte sequences between specials are copied as they are. */
	{ SOAP_TEXT, S("<\xf0\x9f\x98\x80>"), XMLESC_OK,
	    "&lt;\xf0\x9f\x98\x80&gt;" },
	{ FRAG, S("\xf0\x9f\x98\x80\"\xf0\x9f\x98\x80"), XMLESC_OK,
	    "\xf0\x9f\x98\x80&quot;\xf0\x9f\x98\x80" },

	/* U+FFFE and U+FFFF are no XML characters; U+FFFD is. */
	{ PKG, S("\xef\xbf\xbe"), XMLESC_BAD_NONCHAR, NULL },
	{ SOAP_TEXT, S("\xef\xbf\xbf"), XMLESC_BAD_NONCHAR, NULL },
	{ FRAG, S("\xef\xbf\xbd"), XMLESC_OK, "\xef\xbf\xbd" },
};

static void
test_add_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(esc_cases) / sizeof(esc_cases[0]); i++) {
		const struct esc_case *c = &esc_cases[i];
		enum xmlesc_bad bad = XMLESC_BAD_NONCHAR;
		struct sbuf sb;
		int rc;

		sbuf_init(&sb, 4096);
		assert_int_equal(sbuf_adds(&sb, "["), 0);
		rc = xmlesc_add(&sb, c->in, c->n, c->flags, &bad);
		if (rc != (c->bad == XMLESC_OK ? 0 : WSD_EINVAL) ||
		    bad != c->bad)
			fail_msg("case %zu: rc %d bad %d", i, rc, (int)bad);
		if (c->bad == XMLESC_OK) {
			assert_int_equal(sb.sb_len, 1 + strlen(c->out));
			assert_memory_equal(sb.sb_buf + 1, c->out,
			    strlen(c->out));
		} else {
			/* Still the caller's: what it held stays. */
			assert_non_null(sb.sb_buf);
			assert_int_equal(sb.sb_buf[0], '[');
		}
		/* The check alone agrees with the escaper. */
		assert_int_equal(xmlesc_check(c->in, c->n, c->flags), c->bad);
		sbuf_release(&sb);
	}
}

static void
test_empty_adds_nothing(void **state)
{
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb, 16);
	assert_int_equal(xmlesc_add(&sb, "", 0, FRAG, NULL), 0);
	assert_null(sb.sb_buf);
	assert_int_equal(xmlesc_check("", 0, APPL_LINE), XMLESC_OK);
}

static void
test_utf8_decode(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		size_t len;
		uint32_t cp;
	} cases[] = {
		{ S("A"), 1, 0x41 },
		{ S("\0"), 1, 0 },
		{ S("\x7f"), 1, 0x7f },
		{ S("\xc2\x80"), 2, 0x80 },
		{ S("\xc3\xa9z"), 2, 0xe9 },
		{ S("\xdf\xbf"), 2, 0x7ff },
		{ S("\xe0\xa0\x80"), 3, 0x800 },
		{ S("\xe2\x82\xac"), 3, 0x20ac },
		{ S("\xef\xbf\xbf"), 3, 0xffff }, /* well-formed, not XML */
		{ S("\xf0\x90\x80\x80"), 4, 0x10000 },
		{ S("\xf0\x9f\x98\x80"), 4, 0x1f600 },
		{ S("\xf4\x8f\xbf\xbf"), 4, 0x10ffff },
		{ S("\xc0\x80"), 0, 0 },         /* overlong NUL */
		{ S("\xe0\x9f\xbf"), 0, 0 },     /* overlong U+07FF */
		{ S("\xf0\x8f\xbf\xbf"), 0, 0 }, /* overlong U+FFFF */
		{ S("\xed\xa0\x80"), 0, 0 },     /* U+D800 */
		{ S("\xed\xbf\xbf"), 0, 0 },     /* U+DFFF */
		{ S("\xf4\x90\x80\x80"), 0, 0 }, /* U+110000 */
		{ S("\xf8\x88\x80\x80\x80"), 0, 0 },
		{ S("\xe2\x82"), 0, 0 },
		{ S("\xe2\x28\xa1"), 0, 0 }, /* bad continuation */
		{ S("\xbf"), 0, 0 },
	};

	uint32_t cp;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cp = 0xdeadbeef;
		size_t len = xmlesc_utf8((const unsigned char *)cases[i].in,
		    cases[i].n, &cp);

		if (len != cases[i].len)
			fail_msg("case %zu: length %zu", i, len);
		/* On failure *cp is left alone. */
		assert_int_equal(cp, len != 0 ? cases[i].cp : 0xdeadbeef);
	}
	/* The length bounds the read: a sequence cut by N is truncated. */
	assert_int_equal(xmlesc_utf8((const unsigned char *)"\xc3\xa9", 1, &cp),
	    0);
	assert_int_equal(xmlesc_utf8((const unsigned char *)"\xf0\x9f\x98\x80",
			     3, &cp),
	    0);
}

static void
test_check_first_wins(void **state)
{
	(void)state;
	assert_int_equal(xmlesc_check(S("\x01\xff"), 0), XMLESC_BAD_CONTROL);
	assert_int_equal(xmlesc_check(S("\xff\x01"), 0), XMLESC_BAD_UTF8);
	assert_int_equal(xmlesc_check(S("a\xef\xbf\xbe\x01"), 0),
	    XMLESC_BAD_NONCHAR);
	/* Escaping flags do not change what is refused. */
	assert_int_equal(xmlesc_check(S("<&>\"\t\n\r\x7f"), 0), XMLESC_OK);
	assert_int_equal(xmlesc_check(S("<&>\"\t\n\r\x7f"), SOAP_ATTR),
	    XMLESC_OK);
	assert_int_equal(xmlesc_check(S("<&>\"\t\n\r\x7f"), FRAG),
	    XMLESC_BAD_CONTROL);
}

static void
test_bad_what(void **state)
{
	(void)state;
	assert_null(xmlesc_bad_what(XMLESC_OK));
	assert_string_equal(xmlesc_bad_what(XMLESC_BAD_UTF8), "invalid UTF-8");
	assert_string_equal(xmlesc_bad_what(XMLESC_BAD_CONTROL),
	    "control character");
	assert_string_equal(xmlesc_bad_what(XMLESC_BAD_NONCHAR),
	    "character not allowed in XML");
}

static void
test_refusal_keeps_prefix(void **state)
{
	static const char want[] = "[a&amp;b";
	enum xmlesc_bad bad;
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb, 64);
	assert_int_equal(sbuf_adds(&sb, "["), 0);
	assert_int_equal(xmlesc_add(&sb, S("a&b\x01z"), PKG, &bad), WSD_EINVAL);
	assert_int_equal(bad, XMLESC_BAD_CONTROL);
	/* Part of the output before the refused character, nothing after. */
	assert_true(sb.sb_len >= 1 && sb.sb_len <= sizeof(want) - 1);
	assert_memory_equal(sb.sb_buf, want, sb.sb_len);
	sbuf_release(&sb);
}

static void
test_cap_releases(void **state)
{
	enum xmlesc_bad bad = XMLESC_BAD_UTF8;
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb, 8);
	assert_int_equal(xmlesc_add(&sb, S("&&&"), SOAP_TEXT, &bad),
	    WSD_ETOOBIG);
	assert_int_equal(bad, XMLESC_OK);
	assert_null(sb.sb_buf);
	/* Exactly at the cap is fine. */
	sbuf_init(&sb, 11);
	assert_int_equal(xmlesc_add(&sb, S("x&y<"), SOAP_TEXT, &bad), 0);
	assert_string_equal(sbuf_str(&sb), "x&amp;y&lt;");
	sbuf_release(&sb);
}

struct pieces {
	char log[128];
	size_t len;
	int calls;
	int fail_at; /* call number that fails, 0 for none */
};

static int
put_piece(void *ctx, const char *s, size_t len)
{
	struct pieces *pc = ctx;

	if (++pc->calls == pc->fail_at)
		return WSD_EIO;
	assert_true(len > 0); /* nothing empty is handed over */
	assert_true(pc->len + len + 1 < sizeof(pc->log));
	memcpy(pc->log + pc->len, s, len);
	pc->len += len;
	pc->log[pc->len++] = '|';
	pc->log[pc->len] = '\0';
	return 0;
}

static void
test_put_pieces(void **state)
{
	struct pieces pc = { .fail_at = 0 };
	enum xmlesc_bad bad;

	(void)state;
	assert_int_equal(xmlesc_put(S("ab&cd\t\xc3\xa9"), PKG, put_piece, &pc,
			     &bad),
	    0);
	assert_int_equal(bad, XMLESC_OK);
	assert_string_equal(pc.log, "ab|&amp;|cd|&#9;|\xc3\xa9|");

	/* The writer's first error is returned and ends the run. */
	memset(&pc, 0, sizeof(pc));
	pc.fail_at = 2;
	assert_int_equal(xmlesc_put(S("ab&cd&ef"), PKG, put_piece, &pc, NULL),
	    WSD_EIO);
	assert_int_equal(pc.calls, 2);
	assert_string_equal(pc.log, "ab|");

	/* A refusal stops before the pending run is handed over. */
	memset(&pc, 0, sizeof(pc));
	assert_int_equal(xmlesc_put(S("ab\xc0\xaf"), PKG, put_piece, &pc, &bad),
	    WSD_EINVAL);
	assert_int_equal(bad, XMLESC_BAD_UTF8);
	assert_int_equal(pc.calls, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_table),
		cmocka_unit_test(test_empty_adds_nothing),
		cmocka_unit_test(test_utf8_decode),
		cmocka_unit_test(test_check_first_wins),
		cmocka_unit_test(test_bad_what),
		cmocka_unit_test(test_refusal_keeps_prefix),
		cmocka_unit_test(test_cap_releases),
		cmocka_unit_test(test_put_pieces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
