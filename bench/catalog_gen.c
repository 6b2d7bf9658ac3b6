/*
 * Synthetic catalog for the issue #4 benchmark: N software updates with
 * fragments of realistic size (core ~1.5 KiB with applicability rules,
 * extended ~1 KiB with one file, localized in 10 languages), products and
 * classifications from a small set, and supersedence chains of length 5.
 * Written through the store interface in one transaction, as an import
 * would. Prints the time it took.
 *
 *   catalog_gen DATADIR N
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "catalog/fragment.h"
#include "common/encode.h"
#include "common/sbuf.h"
#include "store/store.h"

static const char *const langs[10] = { "en", "de", "fr", "es", "it", "ja",
	"ko", "zh-cn", "pt-br", "ru" };
static const char *const classes[4] = {
	"0fa1201d-4330-4fa8-8ae9-b877473b6441", /* Security Updates */
	"e6cf1350-c01b-414d-a61f-263d14d133b4", /* Critical Updates */
	"cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83", /* Updates */
	"28bc880e-0592-4cbf-8f95-c79b17911d5f", /* Update Rollups */
};

/* Deterministic GUIDs, so runs are comparable. */
static void
guid_n(unsigned kind, unsigned n, char out[37])
{
	snprintf(out, 37, "%08x-0000-4000-8000-%012x", kind, n);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
put(struct store *st, struct store_revision_in *in, struct wsd_err *err)
{
	int64_t rid;
	bool existed;

	return store_revision_put(st, in, &rid, &existed, err);
}

/* A product category under the seeded Microsoft company. */
static int
put_product(struct store *st, unsigned i, char id[37], struct wsd_err *err)
{
	static const char ms[] = "56309036-4c77-4dd9-951a-99ee9c246a94";
	struct fragment_category c = { 0 };
	struct sbuf core, ext, loc;
	struct store_localized l;
	struct store_prereq p = { 0, ms, true };
	const char *cats[1] = { ms };
	struct store_revision_in in = { 0 };
	char title[64];
	int rc;

	guid_n(0xbe7c0001, i, id);
	snprintf(title, sizeof(title), "Bench Product %u", i);
	c.update_id = id;
	c.revision_number = 100;
	c.type = FRAGMENT_CAT_PRODUCT;
	c.parent_id = ms;
	sbuf_init(&core, 1 << 20);
	sbuf_init(&ext, 1 << 20);
	sbuf_init(&loc, 1 << 20);
	if ((rc = fragment_build_category_core(&core, &c, err)) < 0 ||
	    (rc = fragment_build_category_extended(&ext, &c, err)) < 0 ||
	    (rc = fragment_build_category_localized(&loc, "en", title, title,
		 err)) < 0)
		goto out;
	in.update_id = id;
	in.revision_number = 100;
	in.update_type = "Category";
	in.category_type = "Product";
	in.origin = "import";
	in.title = title;
	in.xml_core = core.sb_buf;
	in.xml_core_len = core.sb_len;
	in.xml_extended = ext.sb_buf;
	in.xml_extended_len = ext.sb_len;
	l = (struct store_localized){ "en", title, loc.sb_buf, loc.sb_len };
	in.n_localized = 1;
	in.localized = &l;
	in.n_categories = 1;
	in.categories = cats;
	in.n_prereqs = 1;
	in.prereqs = &p;
	rc = put(st, &in, err);
out:
	sbuf_release(&core);
	sbuf_release(&ext);
	sbuf_release(&loc);
	return rc;
}

int
main(int argc, char **argv)
{
	static const char rules[] =
	    "<And><b.WindowsVersion Comparison=\"GreaterThanOrEqualTo\" "
	    "MajorVersion=\"10\" MinorVersion=\"0\" BuildNumber=\"19041\" />"
	    "<b.RegDword Key=\"HKEY_LOCAL_MACHINE\" Subkey=\"SOFTWARE\\Bench\" "
	    "Value=\"Build\" Comparison=\"LessThan\" Data=\"12345\" />"
	    "<b.FileVersion Path=\"bench.dll\" Csidl=\"37\" "
	    "Comparison=\"LessThan\" Version=\"10.0.19041.1\" /></And>";
	char products[20][37];
	struct store *st;
	struct wsd_err err;
	unsigned n;
	double t0;

	if (argc != 3 || (n = (unsigned)strtoul(argv[2], NULL, 10)) == 0) {
		fprintf(stderr, "usage: catalog_gen DATADIR N\n");
		return 2;
	}
	if (store_open(&st, argv[1], &err) < 0 || store_begin(st, &err) < 0) {
		fprintf(stderr, "catalog_gen: %s\n", err.what);
		return 1;
	}
	t0 = now_s();
	for (unsigned i = 0; i < 20; i++)
		if (put_product(st, i, products[i], &err) < 0) {
			fprintf(stderr, "catalog_gen: %s\n", err.what);
			return 1;
		}
	for (unsigned i = 0; i < n; i++) {
		struct fragment_update fu = { 0 };
		struct fragment_file ff = { 0 };
		struct fragment_cmdline cl = { 0 };
		struct fragment_prereq mem[2];
		struct fragment_clause cls[2];
		struct store_prereq sp[2];
		struct store_localized sl[10];
		struct store_file sf = { 0 };
		struct store_revision_in in = { 0 };
		struct sbuf core, ext, loc[10];
		char id[37], prev[37], title[96], desc[400], fname[48], iso[32];
		char kb[16];
		const char *sup[1] = { prev }, *cats[2];
		unsigned char seed[8];
		int rc = 0;

		guid_n(0xbe7c0002, i, id);
		if (i % 5 != 0)
			guid_n(0xbe7c0002, i - 1, prev);
		memcpy(seed, &i, sizeof(i));
		memset(seed + 4, 0x5a, 4);
		SHA1(seed, sizeof(seed), ff.sha1);
		SHA256(seed, sizeof(seed), ff.sha256);
		snprintf(fname, sizeof(fname), "windows10.0-kb%u-x64.cab",
		    5000000 + i);
		ff.name = fname;
		ff.size = 1000000 + (uint64_t)i * 37;
		ff.modified = 1767225600 + (int64_t)i;
		cl.program = fname;
		cl.arguments = "/quiet /norestart";
		cl.default_result = FRAGMENT_RESULT_FAILED;
		mem[0] = (struct fragment_prereq){ products[i % 20], true };
		mem[1] = (struct fragment_prereq){ classes[i % 4], true };
		cls[0] = (struct fragment_clause){ &mem[0], 1 };
		cls[1] = (struct fragment_clause){ &mem[1], 1 };
		fu.update_id = id;
		fu.revision_number = 200;
		fu.type = FRAGMENT_TYPE_SOFTWARE;
		fu.explicitly_deployable = true;
		fu.auto_select_on_web_sites = true;
		fu.supersedes = sup;
		fu.n_supersedes = i % 5 != 0;
		fu.prereqs = cls;
		fu.n_prereqs = 2;
		fu.rules = FRAGMENT_RULES_CUSTOM;
		fu.is_installed = rules;
		fu.is_installable = "<True />";
		fu.handler = FRAGMENT_HANDLER_CMDLINE;
		fu.has_download_sizes = true;
		fu.max_download_size = ff.size;
		fu.msrc_severity = FRAGMENT_SEVERITY_IMPORTANT;
		fu.reboot_behavior = FRAGMENT_REBOOT_CAN_REQUEST;
		fu.support_url = "https://support.example/help";
		snprintf(kb, sizeof(kb), "%u", 5000000 + i);
		fu.kb_article_id = kb;
		fu.files = &ff;
		fu.n_files = 1;
		fu.cmdline = &cl;
		sbuf_init(&core, 1 << 20);
		sbuf_init(&ext, 1 << 20);
		if (fragment_build_core(&core, &fu, &err) < 0 ||
		    fragment_build_extended(&ext, &fu, &err) < 0) {
			fprintf(stderr, "catalog_gen: %s\n", err.what);
			return 1;
		}
		snprintf(title, sizeof(title), "Cumulative Update for Bench "
					       "(KB%u)", 5000000 + i);
		snprintf(desc, sizeof(desc), "A security issue has been "
		    "identified in a Microsoft software product that could "
		    "affect your system. You can help protect your system by "
		    "installing this update from Microsoft (%u).", i);
		for (int l = 0; l < 10; l++) {
			struct fragment_localized fl = { .language = langs[l],
				.title = title, .description = desc,
				.more_info_url = "https://support.example/kb",
				.support_url = "https://support.example/" };

			sbuf_init(&loc[l], 1 << 20);
			if (fragment_build_localized(&loc[l], &fl, &err) < 0) {
				fprintf(stderr, "catalog_gen: %s\n", err.what);
				return 1;
			}
			sl[l] = (struct store_localized){ langs[l], title,
				loc[l].sb_buf, loc[l].sb_len };
		}
		memcpy(sf.sha1, ff.sha1, 20);
		memcpy(sf.sha256, ff.sha256, 32);
		sf.has_sha256 = true;
		sf.size = ff.size;
		sf.file_name = fname;
		snprintf(iso, sizeof(iso), "2026-01-01T00:00:00Z");
		sf.modified = iso;
		sp[0] = (struct store_prereq){ 0, products[i % 20], true };
		sp[1] = (struct store_prereq){ 1, classes[i % 4], true };
		cats[0] = products[i % 20];
		cats[1] = classes[i % 4];
		in.update_id = id;
		in.revision_number = 200;
		in.update_type = "Software";
		in.origin = "import";
		in.explicitly_deployable = true;
		in.is_leaf = true;
		in.kb_article = kb;
		in.msrc_severity = "Important";
		in.title = title;
		in.xml_core = core.sb_buf;
		in.xml_core_len = core.sb_len;
		in.xml_extended = ext.sb_buf;
		in.xml_extended_len = ext.sb_len;
		in.n_localized = 10;
		in.localized = sl;
		in.n_files = 1;
		in.files = &sf;
		in.n_categories = 2;
		in.categories = cats;
		in.n_prereqs = 2;
		in.prereqs = sp;
		in.n_supersedes = i % 5 != 0;
		in.supersedes = sup;
		rc = put(st, &in, &err);
		sbuf_release(&core);
		sbuf_release(&ext);
		for (int l = 0; l < 10; l++)
			sbuf_release(&loc[l]);
		if (rc < 0) {
			fprintf(stderr, "catalog_gen: update %u: %s\n", i,
			    err.what);
			return 1;
		}
	}
	if (store_commit(st, &err) < 0) {
		fprintf(stderr, "catalog_gen: %s\n", err.what);
		return 1;
	}
	store_close(st);
	printf("catalog_gen: %u updates in %.2f s\n", n, now_s() - t0);
	return 0;
}
