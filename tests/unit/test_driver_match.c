/*
 * Driver matching (src/wusp/driver_match.c): MS-WUSP 3.1.5.7's order of
 * "better" one rule at a time, CHID targeting, printers, the installed
 * driver, case-insensitive ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wusp/driver_match.h"

#define MAXD 16

struct fixture {
	struct store_sync_catalog cat;
	struct store_sync_rev revs[MAXD];
	struct store_sync_driver drv[MAXD];
	char pool[8192];
	uint32_t *index;
	bool eligible[MAXD];
	struct system_spec spec;
	struct spec_device dev[4];
	struct sv ids[16];
	char chids[4][37];
};

static uint32_t
pool_put(struct fixture *f, const char *s)
{
	uint32_t off = (uint32_t)f->cat.pool_len;

	strcpy(f->pool + off, s);
	f->cat.pool_len += strlen(s) + 1;
	return off;
}

/* A driver entry for revision REV (one entry per revision here). */
static void
add_driver(struct fixture *f, const char *hwid, int32_t date,
    uint64_t version, const char *chids, const char *scores,
    const char *provider)
{
	size_t i = f->cat.n_drv++;
	struct store_sync_driver *d = &f->drv[i];
	char key[256];
	size_t k;

	for (k = 0; hwid[k] != '\0'; k++)
		key[k] = (char)(hwid[k] >= 'A' && hwid[k] <= 'Z' ?
			hwid[k] + 32 :
			hwid[k]);
	key[k] = '\0';
	f->revs[i].revision_id = (int64_t)i + 100;
	f->revs[i].type = STORE_SYNC_DRIVER;
	f->cat.n_revs = f->cat.n_drv;
	d->rev = i;
	d->hwid = pool_put(f, hwid);
	d->hwid_key = pool_put(f, key);
	d->drv_class = pool_put(f, "Other Hardware");
	d->provider = pool_put(f, provider);
	d->manufacturer = pool_put(f, provider);
	d->chids = pool_put(f, chids != NULL ? chids : "");
	d->chid_targeted = chids != NULL;
	d->scores = pool_put(f, scores);
	d->date = date;
	d->version = version;
	f->eligible[i] = true;
}

static bool
is_eligible(void *arg, size_t rev)
{
	return ((struct fixture *)arg)->eligible[rev];
}

static struct fixture *
fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->cat.revs = f->revs;
	f->cat.drv = f->drv;
	f->cat.pool = f->pool;
	f->spec.dev = f->dev;
	f->spec.ids = f->ids;
	f->spec.chids = f->chids;
	strcpy(f->chids[0], "458ab48b-acb9-5863-b5a8-d2c32f0d3e6f");
	strcpy(f->chids[1], "de134db0-4b4a-51d6-98c5-f62916e550a7");
	f->spec.n_chids = 2;
	f->spec.feature_key = SV_LIT("AMD64.10.0");
	return f;
}

/* One device with IDS (hardware then compatible); nothing installed. */
static void
set_device(struct fixture *f, const char *const *ids, size_t n)
{
	f->spec.n_dev = 1;
	f->spec.n_ids = n;
	memset(&f->dev[0], 0, sizeof(f->dev[0]));
	f->dev[0].first_id = 0;
	f->dev[0].n_ids = n;
	f->dev[0].inst.chid_rank = SPEC_NO_RANK;
	f->dev[0].inst.id_rank = SPEC_NO_RANK;
	f->dev[0].inst.score = 0xff;
	for (size_t i = 0; i < n; i++)
		f->ids[i] = (struct sv){ ids[i], strlen(ids[i]) };
}

static uint32_t
best_of(struct fixture *f)
{
	uint32_t best = 12345;

	free(f->index);
	assert_int_equal(driver_index_build(&f->cat, &f->index), 0);
	driver_match(&f->cat, f->index, &f->spec, is_eligible, f, &best);
	return best;
}

static void
fixture_free(struct fixture *f)
{
	free(f->index);
	free(f);
}

static const char *const DEV_IDS[] = { "PCI\\VEN_1&DEV_2&REV_3",
	"PCI\\VEN_1&DEV_2", "PCI\\CC_0300" };

static void
test_id_order_beats_date(void **state)
{
	struct fixture *f = fixture_new();

	(void)state;
	set_device(f, DEV_IDS, 3);
	add_driver(f, "pci\\cc_0300", 20260101, 9, NULL, "", "A");
	add_driver(f, "PCI\\VEN_1&DEV_2", 20100101, 1, NULL, "", "A");
	assert_int_equal(best_of(f), 1);
	fixture_free(f);
}

static void
test_date_then_version(void **state)
{
	struct fixture *f = fixture_new();

	(void)state;
	set_device(f, DEV_IDS, 3);
	add_driver(f, "PCI\\VEN_1&DEV_2", 20200101, 5, NULL, "", "A");
	add_driver(f, "PCI\\VEN_1&DEV_2", 20210101, 1, NULL, "", "A");
	add_driver(f, "PCI\\VEN_1&DEV_2", 20210101, 2, NULL, "", "A");
	assert_int_equal(best_of(f), 2);
	/* Not eligible (not approved, prerequisites): the next best. */
	f->eligible[2] = false;
	assert_int_equal(best_of(f), 1);
	fixture_free(f);
}

static void
test_feature_score_beats_id(void **state)
{
	struct fixture *f = fixture_new();

	(void)state;
	set_device(f, DEV_IDS, 3);
	add_driver(f, "PCI\\VEN_1&DEV_2&REV_3", 20200101, 1, NULL,
	    "amd64.10.0=FF", "A");
	add_driver(f, "PCI\\CC_0300", 20200101, 1, NULL,
	    "x86.10.0=00,amd64.10.0=10", "A");
	assert_int_equal(best_of(f), 1);
	/* Another OS's score does not count: both 0xFF, id order. */
	f->spec.feature_key = SV_LIT("arm64.10.0");
	assert_int_equal(best_of(f), 0);
	fixture_free(f);
}

static void
test_chid_targeting(void **state)
{
	struct fixture *f = fixture_new();

	(void)state;
	set_device(f, DEV_IDS, 3);
	add_driver(f, "PCI\\VEN_1&DEV_2&REV_3", 20260101, 1, NULL,
	    "amd64.10.0=00", "A");
	/* Targeted at this computer's second CHID: wins over any
	 * untargeted driver. */
	add_driver(f, "PCI\\CC_0300", 20000101, 1,
	    "00000000-0000-0000-0000-000000000001,"
	    "de134db0-4b4a-51d6-98c5-f62916e550a7",
	    "", "A");
	assert_int_equal(best_of(f), 1);
	/* A more specific CHID beats it. */
	add_driver(f, "PCI\\CC_0300", 19990101, 1,
	    "458ab48b-acb9-5863-b5a8-d2c32f0d3e6f", "", "A");
	assert_int_equal(best_of(f), 2);
	/* Targeted elsewhere, or with an empty effective set: never. */
	f->eligible[1] = f->eligible[2] = false;
	add_driver(f, "PCI\\VEN_1&DEV_2&REV_3", 20300101, 1,
	    "00000000-0000-0000-0000-000000000009", "", "A");
	add_driver(f, "PCI\\VEN_1&DEV_2&REV_3", 20300101, 1, "", "", "A");
	assert_int_equal(best_of(f), 0);
	fixture_free(f);
}

static void
test_installed_driver(void **state)
{
	struct fixture *f = fixture_new();
	struct spec_installed *in;

	(void)state;
	set_device(f, DEV_IDS, 3);
	in = &f->dev[0].inst;
	in->present = true;
	in->matching_id = SV_LIT("pci\\ven_1&dev_2");
	in->id_rank = 1;
	in->date = 20200101;
	in->version = 7;
	add_driver(f, "PCI\\VEN_1&DEV_2", 20200101, 7, NULL, "", "A");
	/* The same driver is not better: nothing. */
	assert_int_equal(best_of(f), UINT32_MAX);
	/* Higher version, same date: better. */
	f->drv[0].version = 8;
	assert_int_equal(best_of(f), 0);
	/* A more generic id, newer: worse than what is installed. */
	f->drv[0].version = 7;
	add_driver(f, "PCI\\CC_0300", 20260101, 9, NULL, "", "A");
	assert_int_equal(best_of(f), UINT32_MAX);
	/* The installed one came through a CHID: an untargeted driver
	 * cannot beat it even with a better id. */
	add_driver(f, "PCI\\VEN_1&DEV_2&REV_3", 20260101, 9, NULL, "", "A");
	assert_int_equal(best_of(f), 2);
	in->chid_rank = 0;
	assert_int_equal(best_of(f), UINT32_MAX);
	fixture_free(f);
}

static void
test_printer_provider(void **state)
{
	static const char *const ids[] = { "{6d170653-5280-44c2-ba44-"
					   "2c04bc9d46da}" };
	struct fixture *f = fixture_new();
	struct spec_installed *in;

	(void)state;
	set_device(f, ids, 1);
	in = &f->dev[0].inst;
	in->present = true;
	in->matching_id = SV_LIT("{6D170653-5280-44C2-BA44-2C04BC9D46DA}");
	in->id_rank = 0;
	in->date = 20060621;
	in->drv_class = SV_LIT("Printer");
	in->provider = SV_LIT("Microsoft");
	in->manufacturer = SV_LIT("Microsoft");
	add_driver(f, "{6d170653-5280-44c2-ba44-2c04bc9d46da}", 20250101, 1,
	    NULL, "", "Contoso");
	assert_int_equal(best_of(f), UINT32_MAX);
	add_driver(f, "{6D170653-5280-44C2-BA44-2C04BC9D46DA}", 20240101, 1,
	    NULL, "", "MICROSOFT");
	assert_int_equal(best_of(f), 1);
	fixture_free(f);
}

static void
test_no_match(void **state)
{
	struct fixture *f = fixture_new();

	(void)state;
	set_device(f, DEV_IDS, 3);
	add_driver(f, "PCI\\VEN_1&DEV_2&REV", 20260101, 1, NULL, "", "A");
	add_driver(f, "PCI\\VEN_1&DEV_2&REV_33", 20260101, 1, NULL, "", "A");
	assert_int_equal(best_of(f), UINT32_MAX);
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_order_beats_date),
		cmocka_unit_test(test_date_then_version),
		cmocka_unit_test(test_feature_score_beats_id),
		cmocka_unit_test(test_chid_targeting),
		cmocka_unit_test(test_installed_driver),
		cmocka_unit_test(test_printer_provider),
		cmocka_unit_test(test_no_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
