/*
 * catalog/cab_blob: XmlUpdateBlobCompressed cabinets.
 *
 * Fixtures (tests/unit/data/), made outside wsusd so that the reader is
 * not only checked against its own writer:
 * - cab_gcab_mszip.cab: `gcab -c -z` (gcab 1.5) of a file "blob" holding
 *   cab_doc.xml as UTF-16LE with an FF FE BOM; MSZIP, two CFDATA blocks.
 * - cab_gcab_stored.cab: `gcab -c` of the same document without BOM,
 *   uncompressed (typeCompress 0).
 * - cab_gcab_two_files.cab: `gcab -c -z` of "blob" and "other".
 * - cab_lzx_stored_block.cab: typeCompress 0x1503 (LZX:21, what Windows
 *   writes) holding cab_lzx_doc.xml (UTF-16LE, BOM), written by hand
 *   because no Linux tool compresses LZX: one LZX *uncompressed* block
 *   (block type 3: E8 bit 0, type 3, 24-bit length, realignment, R0-R2,
 *   the bytes, a pad byte when odd), with a computed checksum. It
 *   exercises libmspack's LZX framing and the LZX:21 window setup; the
 *   Huffman (verbatim/aligned) block decoders are not exercised here.
 *   cabextract 1.9 and gcab 1.5 both extract it to the same bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/cab_blob.h"
#include "common/sbuf.h"

#define DATA     TEST_SRCDIR "/tests/unit/data/"
#define CAP      (16 * 1024 * 1024)
#define MAX_OUT  (16 * 1024 * 1024)
#define HDR_END  65 /* CFHEADER + CFFOLDER + CFFILE "blob" */
#define NAME_OFF 60

static char *
slurp(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		fail_msg("fixture not found: %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0 && n < 16 * 1024 * 1024);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*lenp = (size_t)n;
	return buf;
}

static uint32_t
rd16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t
rd32(const unsigned char *p)
{
	return rd16(p) | rd16(p + 2) << 16;
}

static void
wr16(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
wr32(unsigned char *p, uint32_t v)
{
	wr16(p, v & 0xffff);
	wr16(p + 2, v >> 16);
}

/* MS-CAB CSUMCompute, written from the spec again (not cab_blob.c's). */
static uint32_t
ref_csum(const unsigned char *p, size_t n, uint32_t seed)
{
	uint32_t s = seed, ul = 0;
	size_t words = n / 4, i;

	for (i = 0; i < words; i++)
		s ^= rd32(p + 4 * i);
	switch (n % 4) {
	case 3:
		ul |= (uint32_t)p[4 * words] << 16;
		ul |= (uint32_t)p[4 * words + 1] << 8;
		ul |= p[4 * words + 2];
		break;
	case 2:
		ul |= (uint32_t)p[4 * words] << 8;
		ul |= p[4 * words + 1];
		break;
	case 1:
		ul |= p[4 * words];
		break;
	default:
		break;
	}
	return s ^ ul;
}

/*
 * An uncompressed (typeCompress 0) cabinet of one file NAME holding DATA,
 * in CFDATA blocks of 32768 bytes with checksums 0, so the UTF-16 checks
 * can be fed bytes cab_blob_pack would never write.
 */
static unsigned char *
stored_cab(const void *data, size_t n, const char *name, size_t *lenp)
{
	size_t nl = strlen(name) + 1, hdr = 36 + 8 + 16 + nl;
	size_t nblk = (n + 32767) / 32768, len = hdr + 8 * nblk + n, o;
	unsigned char *c = calloc(1, len);

	assert_non_null(c);
	memcpy(c, "MSCF", 4);
	wr32(c + 8, (uint32_t)len);
	wr32(c + 16, 44);
	c[24] = 3;
	c[25] = 1;
	wr16(c + 26, 1);
	wr16(c + 28, 1);
	wr32(c + 36, (uint32_t)hdr);
	wr16(c + 40, (uint32_t)nblk);
	wr16(c + 42, 0);
	wr32(c + 44, (uint32_t)n);
	wr16(c + 54, 0x21);
	wr16(c + 58, 0x20);
	memcpy(c + 60, name, nl);
	o = hdr;
	for (size_t b = 0; b < nblk; b++) {
		size_t k = n - b * 32768 < 32768 ? n - b * 32768 : 32768;

		wr16(c + o + 4, (uint32_t)k);
		wr16(c + o + 6, (uint32_t)k);
		memcpy(c + o + 8, (const unsigned char *)data + b * 32768, k);
		o += 8 + k;
	}
	assert_int_equal(o, len);
	*lenp = len;
	return c;
}

/* Packs DOC, checks the cabinet's shape, unpacks, compares. */
static void
round_trip(const char *doc, size_t n, size_t utf16_len)
{
	struct sbuf cab, back;
	struct wsd_err e;
	const unsigned char *c;
	size_t nblk = (utf16_len + 32767) / 32768, o = HDR_END, total = 0;

	sbuf_init(&cab, CAP);
	sbuf_init(&back, CAP);
	assert_int_equal(cab_blob_pack(doc, n, &cab, &e), 0);
	c = (const unsigned char *)cab.sb_buf;
	assert_memory_equal(c, "MSCF", 4);
	assert_int_equal(rd32(c + 8), cab.sb_len);
	assert_int_equal(rd32(c + 16), 44);
	assert_int_equal(rd16(c + 26), 1);         /* cFolders */
	assert_int_equal(rd16(c + 28), 1);         /* cFiles */
	assert_int_equal(rd16(c + 30), 0);         /* flags */
	assert_int_equal(rd32(c + 36), HDR_END);   /* coffCabStart */
	assert_int_equal(rd16(c + 40), nblk);      /* cCFData */
	assert_int_equal(rd16(c + 42), 1);         /* MSZIP */
	assert_int_equal(rd32(c + 44), utf16_len); /* cbFile */
	assert_string_equal((const char *)c + NAME_OFF, "blob");
	for (size_t b = 0; b < nblk; b++) {
		uint32_t zn = rd16(c + o + 4), un = rd16(c + o + 6);

		assert_true(o + 8 + zn <= cab.sb_len);
		assert_int_equal(un, b + 1 < nblk ? 32768 : utf16_len - total);
		assert_memory_equal(c + o + 8, "CK", 2);
		assert_int_equal(rd32(c + o),
		    ref_csum(c + o + 4, 4, ref_csum(c + o + 8, zn, 0)));
		total += un;
		o += 8 + zn;
	}
	assert_int_equal(o, cab.sb_len);
	assert_int_equal(total, utf16_len);

	assert_int_equal(cab_blob_unpack(cab.sb_buf, cab.sb_len, utf16_len,
			     &back, &e),
	    0);
	assert_int_equal(back.sb_len, n);
	assert_memory_equal(sbuf_str(&back), doc, n);
	/* The bound is on the UTF-16 size: one byte less is too big. */
	sbuf_reset(&back);
	if (utf16_len > 0) {
		assert_int_equal(cab_blob_unpack(cab.sb_buf, cab.sb_len,
				     utf16_len - 1, &back, &e),
		    WSD_ETOOBIG);
		assert_int_equal(e.code, WSD_ETOOBIG);
	}
	sbuf_release(&cab);
	sbuf_release(&back);
}

static char *
ascii_doc(size_t n)
{
	char *d = malloc(n + 1);

	assert_non_null(d);
	for (size_t i = 0; i < n; i++)
		d[i] =
		    "<upd:Update xmlns=\"x\">abcdefghij</upd:Update>"[i % 44];
	d[n] = '\0';
	return d;
}

static void
test_round_trip_small(void **state)
{
	const char *d = "<upd:Update/>";

	(void)state;
	round_trip(d, strlen(d), 2 * strlen(d));
	round_trip("", 0, 0);
}

/* 32768 UTF-16 bytes fill one CFDATA block exactly; 2 more need two. */
static void
test_round_trip_block_edges(void **state)
{
	static const size_t sizes[] = { 16383, 16384, 16385, 32768, 32769 };
	char *d;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		d = ascii_doc(sizes[i]);
		round_trip(d, sizes[i], 2 * sizes[i]);
		free(d);
	}
}

/* A pseudo-random mix of 1-4 byte characters: barely compressible, so
 * deflate's stored blocks are exercised too. */
static void
test_round_trip_1mib_mixed(void **state)
{
	static const char *const chars[] = { "a", "<", "&", "\xc3\xbc",
		"\xd0\x96", "\xe6\x97\xa5", "\xe2\x80\x93", "\xef\xbf\xbd",
		"\xf0\x9f\x98\x80", "\xf0\x90\x8d\x88", "\xf4\x8f\xbf\xbf" };
	static const size_t u16[] = { 2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4 };
	size_t cap = 1024 * 1024, n = 0, ulen = 0;
	uint32_t x = 12345;
	char *d = malloc(cap + 8);

	(void)state;
	assert_non_null(d);
	while (n < cap) {
		size_t k;

		x = x * 1103515245u + 12345u;
		k = (x >> 16) % 11;
		memcpy(d + n, chars[k], strlen(chars[k]));
		n += strlen(chars[k]);
		ulen += u16[k];
	}
	round_trip(d, n, ulen);
	free(d);
}

static void
test_round_trip_non_ascii(void **state)
{
	/* U+00FC, U+65E5, U+1F600 (astral: a surrogate pair), U+10FFFF. */
	const char *d = "<t>\xc3\xbc \xe6\x97\xa5 \xf0\x9f\x98\x80 "
			"\xf4\x8f\xbf\xbf</t>";
	struct sbuf cab;
	struct wsd_err e;

	(void)state;
	round_trip(d, strlen(d), 2 * 12 + 2 * 4);
	/* The UTF-16 bytes themselves, through a stored cabinet. */
	sbuf_init(&cab, CAP);
	assert_int_equal(cab_blob_pack("\xf0\x9f\x98\x80", 4, &cab, &e), 0);
	sbuf_release(&cab);
	{
		static const unsigned char u[] = { 0x3d, 0xd8, 0x00, 0xde };
		struct sbuf out;
		unsigned char *c;
		size_t len;

		c = stored_cab(u, sizeof(u), "blob", &len);
		sbuf_init(&out, CAP);
		assert_int_equal(cab_blob_unpack(c, len, MAX_OUT, &out, &e), 0);
		assert_string_equal(sbuf_str(&out), "\xf0\x9f\x98\x80");
		sbuf_release(&out);
		free(c);
	}
}

static void
test_pack_refuses_bad_utf8(void **state)
{
	static const char *const bad[] = {
		"\xc0\x80",                         /* overlong NUL */
		"\xe0\x80\xbc",                     /* overlong '<' */
		"\xed\xa0\x80",                     /* a surrogate, U+D800 */
		"\xf4\x90\x80\x80",                 /* U+110000 */
		"\xf5\x80\x80\x80", "\xff", "\x80", /* stray continuation */
		"\xe6\x97",                         /* truncated */
		"a\xc3",                            /* truncated at the end */
	};
	struct sbuf cab;
	struct wsd_err e;

	(void)state;
	sbuf_init(&cab, CAP);
	assert_int_equal(sbuf_adds(&cab, "keep"), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cab_blob_pack(bad[i], strlen(bad[i]), &cab,
				     &e),
		    WSD_EINVAL);
		assert_int_equal(e.code, WSD_EINVAL);
		assert_string_equal(sbuf_str(&cab), "keep");
	}
	/* An embedded NUL is refused too. */
	assert_int_equal(cab_blob_pack("a\0b", 3, &cab, &e), WSD_EINVAL);
	assert_string_equal(sbuf_str(&cab), "keep");
	sbuf_release(&cab);
}

static void
test_pack_cap(void **state)
{
	struct sbuf cab;
	struct wsd_err e;
	char *d = ascii_doc(10000);

	(void)state;
	sbuf_init(&cab, 64);
	assert_int_equal(cab_blob_pack(d, 10000, &cab, &e), WSD_ETOOBIG);
	assert_int_equal(e.code, WSD_ETOOBIG);
	assert_int_equal(cab.sb_len, 0);
	sbuf_release(&cab);
	free(d);
}

static void
check_fixture(const char *cabname, const char *docname, size_t utf16_len)
{
	struct sbuf out;
	struct wsd_err e;
	char *cab, *doc;
	size_t clen, dlen;

	cab = slurp(cabname, &clen);
	doc = slurp(docname, &dlen);
	sbuf_init(&out, CAP);
	assert_int_equal(cab_blob_unpack(cab, clen, MAX_OUT, &out, &e), 0);
	assert_int_equal(out.sb_len, dlen);
	assert_memory_equal(out.sb_buf, doc, dlen);
	sbuf_reset(&out);
	assert_int_equal(cab_blob_unpack(cab, clen, utf16_len - 1, &out, &e),
	    WSD_ETOOBIG);
	assert_int_equal(cab_blob_unpack(cab, clen, utf16_len, &out, &e), 0);
	sbuf_release(&out);
	free(cab);
	free(doc);
}

static void
test_fixture_gcab_mszip_bom(void **state)
{
	(void)state;
	check_fixture(DATA "cab_gcab_mszip.cab", DATA "cab_doc.xml", 40352);
}

static void
test_fixture_gcab_stored(void **state)
{
	(void)state;
	check_fixture(DATA "cab_gcab_stored.cab", DATA "cab_doc.xml", 40350);
}

static void
test_fixture_lzx(void **state)
{
	size_t n;
	char *cab = slurp(DATA "cab_lzx_stored_block.cab", &n);

	(void)state;
	assert_int_equal(rd16((unsigned char *)cab + 42), 0x1503);
	free(cab);
	check_fixture(DATA "cab_lzx_stored_block.cab", DATA "cab_lzx_doc.xml",
	    490);
}

static void
expect_refusal(const void *cab, size_t len, size_t max_out, int code)
{
	struct sbuf out;
	struct wsd_err e = { 0, NULL };

	sbuf_init(&out, CAP);
	assert_int_equal(sbuf_adds(&out, "prefix"), 0);
	assert_int_equal(cab_blob_unpack(cab, len, max_out, &out, &e), code);
	assert_int_equal(e.code, code);
	assert_non_null(e.what);
	/* Cut back to what was there. */
	assert_string_equal(sbuf_str(&out), "prefix");
	sbuf_release(&out);
}

static void
test_refuse_two_files(void **state)
{
	size_t n;
	char *cab = slurp(DATA "cab_gcab_two_files.cab", &n);

	(void)state;
	expect_refusal(cab, n, MAX_OUT, WSD_EINVAL);
	/* No file at all. */
	wr16((unsigned char *)cab + 28, 0);
	expect_refusal(cab, n, MAX_OUT, WSD_EINVAL);
	free(cab);
}

static void
pack(const char *doc, struct sbuf *cab)
{
	struct wsd_err e;

	sbuf_init(cab, CAP);
	assert_int_equal(cab_blob_pack(doc, strlen(doc), cab, &e), 0);
}

static void
test_file_name(void **state)
{
	struct sbuf cab, out;
	struct wsd_err e;
	unsigned char *c;
	size_t len;

	(void)state;
	pack("<a>name</a>", &cab);
	c = (unsigned char *)cab.sb_buf;
	memcpy(c + NAME_OFF, "BLOB", 4); /* any case */
	sbuf_init(&out, CAP);
	assert_int_equal(cab_blob_unpack(c, cab.sb_len, MAX_OUT, &out, &e), 0);
	assert_string_equal(sbuf_str(&out), "<a>name</a>");
	sbuf_release(&out);
	memcpy(c + NAME_OFF, "blub", 4);
	expect_refusal(c, cab.sb_len, MAX_OUT, WSD_EINVAL);
	sbuf_release(&cab);

	c = stored_cab("<\0a\0/\0>\0", 8, "blob.xml", &len);
	expect_refusal(c, len, MAX_OUT, WSD_EINVAL);
	free(c);
	c = stored_cab("<\0a\0/\0>\0", 8, "blob", &len);
	sbuf_init(&out, CAP);
	assert_int_equal(cab_blob_unpack(c, len, MAX_OUT, &out, &e), 0);
	assert_string_equal(sbuf_str(&out), "<a/>");
	sbuf_release(&out);
	free(c);
}

static void
test_refuse_truncated(void **state)
{
	struct sbuf cab;
	char *d = ascii_doc(50000);
	unsigned char *c;
	size_t cuts[] = { 0, 4, 35, 36, 50, HDR_END, HDR_END + 8, 0, 0, 0 };

	(void)state;
	pack(d, &cab);
	c = (unsigned char *)cab.sb_buf;
	cuts[7] = cab.sb_len / 2;
	cuts[8] = cab.sb_len - 1;
	cuts[9] = cab.sb_len - 2;
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		unsigned char *t = malloc(cuts[i] + 1);
		uint32_t saved = 0;

		assert_non_null(t);
		memcpy(t, c, cuts[i]);
		/* As cut, then with cbCabinet saying so, for libmspack. */
		expect_refusal(t, cuts[i], MAX_OUT, WSD_EINVAL);
		if (cuts[i] >= 12) {
			saved = rd32(t + 8);
			wr32(t + 8, (uint32_t)cuts[i]);
			expect_refusal(t, cuts[i], MAX_OUT, WSD_EINVAL);
			wr32(t + 8, saved);
		}
		free(t);
	}
	/* Bytes after the cabinet. */
	assert_int_equal(sbuf_add(&cab, "x", 1), 0);
	expect_refusal(cab.sb_buf, cab.sb_len, MAX_OUT, WSD_EINVAL);
	sbuf_release(&cab);
	free(d);
	expect_refusal("", 0, MAX_OUT, WSD_EINVAL);
	expect_refusal("MSCF", 4, MAX_OUT, WSD_EINVAL);
}

static void
test_refuse_bad_checksum_and_data(void **state)
{
	struct sbuf cab;
	struct wsd_err e;
	unsigned char *c;
	size_t mid;

	(void)state;
	pack("<upd:Update>some text to deflate, some text to deflate"
	     "</upd:Update>",
	    &cab);
	c = (unsigned char *)cab.sb_buf;
	mid = HDR_END + 8 + (cab.sb_len - HDR_END - 8) / 2;
	assert_true(rd32(c + HDR_END) != 0); /* a checksum was written */

	/* A data byte changed: the checksum no longer matches. */
	c[mid] ^= 0x55;
	expect_refusal(c, cab.sb_len, MAX_OUT, WSD_EINVAL);
	{
		struct sbuf out;

		sbuf_init(&out, CAP);
		assert_int_equal(cab_blob_unpack(c, cab.sb_len, MAX_OUT, &out,
				     &e),
		    WSD_EINVAL);
		assert_non_null(strstr(e.what, "checksum"));
		sbuf_release(&out);
	}
	/* The checksum changed instead. */
	c[mid] ^= 0x55;
	c[HDR_END] ^= 1;
	expect_refusal(c, cab.sb_len, MAX_OUT, WSD_EINVAL);
	c[HDR_END] ^= 1;

	/* Checksum 0 ("not computed") and corrupt deflate data: an invalid
	 * block type (BTYPE 11) right after "CK". */
	wr32(c + HDR_END, 0);
	c[HDR_END + 10] = 0x07;
	expect_refusal(c, cab.sb_len, MAX_OUT, WSD_EINVAL);
	/* "CK" missing. */
	c[HDR_END + 8] = 'X';
	expect_refusal(c, cab.sb_len, MAX_OUT, WSD_EINVAL);
	sbuf_release(&cab);
}

static void
test_refuse_declared_size(void **state)
{
	struct sbuf cab, out;
	struct wsd_err e;
	unsigned char *c;

	(void)state;
	pack("<a>0123456789</a>", &cab); /* 17 characters, 34 bytes */
	c = (unsigned char *)cab.sb_buf;
	expect_refusal(c, cab.sb_len, 33, WSD_ETOOBIG);
	sbuf_init(&out, CAP);
	assert_int_equal(cab_blob_unpack(c, cab.sb_len, 34, &out, &e), 0);
	sbuf_release(&out);
	/* A CFFILE claiming more than the data holds. */
	wr32(c + 44, 40);
	expect_refusal(c, cab.sb_len, MAX_OUT, WSD_EINVAL);
	wr32(c + 44, 0xffffffffu);
	expect_refusal(c, cab.sb_len, MAX_OUT, WSD_ETOOBIG);
	/* A file not at the start of its folder. */
	wr32(c + 44, 34);
	wr32(c + 48, 2);
	expect_refusal(c, cab.sb_len, MAX_OUT, WSD_EINVAL);
	wr32(c + 48, 0);
	/* Cabinet-set flags. */
	wr16(c + 30, 1);
	expect_refusal(c, cab.sb_len, MAX_OUT, WSD_EINVAL);
	wr16(c + 30, 0);
	/* An unknown compression type. */
	wr16(c + 42, 7);
	expect_refusal(c, cab.sb_len, MAX_OUT, WSD_EINVAL);
	wr16(c + 42, 1);
	sbuf_init(&out, CAP);
	assert_int_equal(cab_blob_unpack(c, cab.sb_len, 34, &out, &e), 0);
	assert_string_equal(sbuf_str(&out), "<a>0123456789</a>");
	sbuf_release(&out);
	sbuf_release(&cab);
}

static void
test_utf8_out_cap(void **state)
{
	struct sbuf cab, out;
	struct wsd_err e;
	char *d = ascii_doc(10000);

	(void)state;
	pack(d, &cab);
	sbuf_init(&out, 9999);
	assert_int_equal(cab_blob_unpack(cab.sb_buf, cab.sb_len, MAX_OUT, &out,
			     &e),
	    WSD_ETOOBIG);
	sbuf_release(&out);
	sbuf_init(&out, 10000);
	assert_int_equal(cab_blob_unpack(cab.sb_buf, cab.sb_len, MAX_OUT, &out,
			     &e),
	    0);
	assert_int_equal(out.sb_len, 10000);
	sbuf_release(&out);
	sbuf_release(&cab);
	free(d);
}

struct u16_case {
	const char *what;
	unsigned char bytes[12];
	size_t n;
	const char *utf8; /* NULL: refused */
};

static void
test_utf16_checks(void **state)
{
	static const struct u16_case cases[] = {
		{ "BOM skipped", { 0xff, 0xfe, 'a', 0 }, 4, "a" },
		{ "BOM only", { 0xff, 0xfe }, 2, "" },
		{ "empty", { 0 }, 0, "" },
		{ "no BOM", { 'a', 0, 'b', 0 }, 4, "ab" },
		{ "second BOM kept", { 0xff, 0xfe, 0xff, 0xfe }, 4,
		    "\xef\xbb\xbf" },
		{ "big-endian BOM", { 0xfe, 0xff, 0, 'a' }, 4, NULL },
		{ "odd length", { 'a', 0, 'b' }, 3, NULL },
		{ "lone high at end", { 'a', 0, 0x3d, 0xd8 }, 4, NULL },
		{ "lone low", { 0x00, 0xde, 'a', 0 }, 4, NULL },
		{ "high then letter", { 0x3d, 0xd8, 'a', 0 }, 4, NULL },
		{ "high then high", { 0x3d, 0xd8, 0x3d, 0xd8, 0, 0xde }, 6,
		    NULL },
		{ "NUL", { 'a', 0, 0, 0, 'b', 0 }, 6, NULL },
		{ "pair", { 0xff, 0xdb, 0xff, 0xdf }, 4, "\xf4\x8f\xbf\xbf" },
		{ "U+FFFF", { 0xff, 0xff }, 2, "\xef\xbf\xbf" },
	};
	struct sbuf out;
	struct wsd_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct u16_case *t = &cases[i];
		size_t len;
		unsigned char *c = stored_cab(t->bytes, t->n, "blob", &len);

		if (t->utf8 == NULL) {
			expect_refusal(c, len, MAX_OUT, WSD_EINVAL);
		} else {
			sbuf_init(&out, CAP);
			if (cab_blob_unpack(c, len, MAX_OUT, &out, &e) != 0)
				fail_msg("%s: %s", t->what, e.what);
			assert_string_equal(sbuf_str(&out), t->utf8);
			sbuf_release(&out);
		}
		free(c);
	}
}

/* A multi-block stored cabinet (three CFDATA) decodes too. */
static void
test_stored_multi_block(void **state)
{
	size_t n = 70000, len;
	unsigned char *u = malloc(n), *c;
	struct sbuf out;
	struct wsd_err e;

	(void)state;
	assert_non_null(u);
	for (size_t i = 0; i < n; i += 2) {
		u[i] = (unsigned char)('a' + (i / 2) % 26);
		u[i + 1] = 0;
	}
	c = stored_cab(u, n, "blob", &len);
	sbuf_init(&out, CAP);
	assert_int_equal(cab_blob_unpack(c, len, MAX_OUT, &out, &e), 0);
	assert_int_equal(out.sb_len, n / 2);
	assert_int_equal(out.sb_buf[n / 2 - 1], 'a' + (n / 2 - 1) % 26);
	sbuf_release(&out);
	free(c);
	free(u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_small),
		cmocka_unit_test(test_round_trip_block_edges),
		cmocka_unit_test(test_round_trip_1mib_mixed),
		cmocka_unit_test(test_round_trip_non_ascii),
		cmocka_unit_test(test_pack_refuses_bad_utf8),
		cmocka_unit_test(test_pack_cap),
		cmocka_unit_test(test_fixture_gcab_mszip_bom),
		cmocka_unit_test(test_fixture_gcab_stored),
		cmocka_unit_test(test_fixture_lzx),
		cmocka_unit_test(test_refuse_two_files),
		cmocka_unit_test(test_file_name),
		cmocka_unit_test(test_refuse_truncated),
		cmocka_unit_test(test_refuse_bad_checksum_and_data),
		cmocka_unit_test(test_refuse_declared_size),
		cmocka_unit_test(test_utf8_out_cap),
		cmocka_unit_test(test_utf16_checks),
		cmocka_unit_test(test_stored_multi_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
