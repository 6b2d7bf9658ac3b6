/*
 * Driver metadata in core fragments (catalog/fragment_driver.c): the
 * builder's exact output, build -> parse round trips, Microsoft's own
 * metadata, and the refusals (fragment.h "Driver metadata").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "catalog/fragment.h"
#include "common/sbuf.h"

#define CAP (4 * 1024 * 1024)

#define UID "b0b0b0b0-1111-2222-3333-444444444444"
#define HEAD                                                                   \
	"<UpdateIdentity UpdateID=\"" UID "\" RevisionNumber=\"200\" />"       \
	"<Properties UpdateType=\"Driver\" ExplicitlyDeployable=\"true\" "     \
	"AutoSelectOnWebSites=\"true\" />"

#define RULES_HEAD                                                             \
	"<ApplicabilityRules><IsInstalled><d.WindowsDriverInstalled />"        \
	"</IsInstalled><IsSuperseded><d.WindowsDriverSuperseded />"            \
	"</IsSuperseded><IsInstallable><d.WindowsDriverInstallable />"         \
	"</IsInstallable><Metadata>"
#define RULES_TAIL "</Metadata></ApplicabilityRules>"

/* Microsoft's metadata for an Intel Bluetooth driver (2022), verbatim. */
#define MS_ENTRY                                                               \
	"<d.WindowsDriverMetaData "                                            \
	"HardwareID=\"USB\\VID_8087&amp;PID_0A2B&amp;REV_0010\" "              \
	"DriverVerDate=\"2022-05-30\" DriverVerVersion=\"22.150.0.6\" "        \
	"WhqlDriverID=\"0\" Class=\"Other Hardware\" "                         \
	"Company=\"Intel Corporation\" Provider=\"Intel Corporation\" "        \
	"Manufacturer=\"Intel Corporation\" "                                  \
	"Model=\"Intel(R) Wireless Bluetooth(R)\">"                            \
	"<d.FeatureScore FeatureScore=\"FF\" OperatingSystem=\"amd64.10.0\" "  \
	"/><d.DistributionComputerHardwareId>"                                 \
	"3962b55f-f768-58cb-9ca2-b5d61a1fdbae"                                 \
	"</d.DistributionComputerHardwareId></d.WindowsDriverMetaData>"

/* HEAD, then ApplicabilityRules around METADATA (the Metadata content). */
static char *
core_with(const char *metadata)
{
	struct sbuf sb;

	sbuf_init(&sb, CAP);
	assert_int_equal(sbuf_adds(&sb, HEAD RULES_HEAD), 0);
	assert_int_equal(sbuf_adds(&sb, metadata), 0);
	assert_int_equal(sbuf_adds(&sb, RULES_TAIL), 0);
	return sbuf_detach(&sb, NULL);
}

/* Parses XML expecting RC; on failure checks nothing was handed out. */
static int
parse(const char *xml, struct fragment_driver **d, size_t *n, struct wsd_err *e)
{
	static struct fragment_driver dummy;
	int rc;

	*d = &dummy; /* must be overwritten */
	*n = 12345;
	e->what = NULL;
	rc = fragment_parse_drivers(xml, strlen(xml), d, n, e);
	if (rc < 0) {
		assert_null(*d);
		assert_int_equal(*n, 0);
		assert_non_null(e->what);
	}
	return rc;
}

static void
expect_refused(const char *metadata, int code, const char *what)
{
	struct fragment_driver *d;
	struct wsd_err e;
	size_t n;
	char *xml = core_with(metadata);

	assert_int_equal(parse(xml, &d, &n, &e), code);
	if (what != NULL && strstr(e.what, what) == NULL)
		fail_msg("error \"%s\" does not name \"%s\"", e.what, what);
	free(xml);
}

/* One entry with the given attributes and children. */
static char *
entry(const char *attrs, const char *children)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf),
	    "<d.WindowsDriverMetaData %s>%s"
	    "</d.WindowsDriverMetaData>",
	    attrs, children);
	return buf;
}

#define GOOD_ATTRS                                                             \
	"HardwareID=\"PCI\\VEN_8086\" DriverVerDate=\"2020-01-02\" "           \
	"DriverVerVersion=\"1.2.3.4\""

/* ------------------------------------------------------------------ */

static void
test_version_parse(void **state)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t v;
	} t[] = {
		{ "0.0.0.0", 0, 0 },
		{ "65535.65535.65535.65535", 0, UINT64_MAX },
		{ "22.150.0.6", 0, UINT64_C(0x0016009600000006) },
		{ "1.2.3.4", 0, UINT64_C(0x0001000200030004) },
		{ "010.0.0.1", 0, UINT64_C(0x000a000000000001) },
		{ "65536.0.0.0", WSD_EINVAL, 0 },
		{ "0.0.0.65536", WSD_EINVAL, 0 },
		{ "1.2.3", WSD_EINVAL, 0 },
		{ "1.2.3.4.5", WSD_EINVAL, 0 },
		{ "+1.2.3.4", WSD_EINVAL, 0 },
		{ "-1.2.3.4", WSD_EINVAL, 0 },
		{ " 1.2.3.4", WSD_EINVAL, 0 },
		{ "1.2.3.4 ", WSD_EINVAL, 0 },
		{ "1. 2.3.4", WSD_EINVAL, 0 },
		{ "1..3.4", WSD_EINVAL, 0 },
		{ "1.2.3.", WSD_EINVAL, 0 },
		{ ".1.2.3", WSD_EINVAL, 0 },
		{ "", WSD_EINVAL, 0 },
		{ "1.2.3.4x", WSD_EINVAL, 0 },
		{ "0x1.2.3.4", WSD_EINVAL, 0 },
		{ "99999999999999999999.0.0.0", WSD_EINVAL, 0 },
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = 0xdeadbeef;
		if (fragment_driver_version_parse(t[i].s, &v) != t[i].rc)
			fail_msg("\"%s\": wrong result", t[i].s);
		if (t[i].rc == 0 && v != t[i].v)
			fail_msg("\"%s\": %llx", t[i].s, (unsigned long long)v);
		if (t[i].rc != 0 && v != 0xdeadbeef)
			fail_msg("\"%s\": output written on failure", t[i].s);
	}
	assert_int_equal(fragment_driver_version_parse(NULL, &v), WSD_EINVAL);
}

static void
test_version_format(void **state)
{
	char buf[24];

	(void)state;
	fragment_driver_version_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "0.0.0.0");
	fragment_driver_version_format(UINT64_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "65535.65535.65535.65535");
	fragment_driver_version_format(UINT64_C(0x0016009600000006), buf,
	    sizeof(buf));
	assert_string_equal(buf, "22.150.0.6");
	/* A short buffer is cut, still terminated. */
	fragment_driver_version_format(UINT64_MAX, buf, 6);
	assert_string_equal(buf, "65535");
}

static void
test_date(void **state)
{
	static const char *const bad[] = { "2022-02-30", "2022-13-01",
		"22-05-30", "2023-02-29", "1900-02-29", "0000-01-01",
		"2022-00-10", "2022-01-00", "2022-01-32", "2022-5-30",
		"2022-05-30Z", "2022-05-30T00:00:00", "2022/05/30",
		"+022-05-30", " 2022-05-3", "", "20220530" };
	int32_t d;
	char buf[11];

	(void)state;
	assert_int_equal(fragment_driver_date_parse("2022-05-30", &d), 0);
	assert_int_equal(d, 20220530);
	assert_int_equal(fragment_driver_date_parse("2024-02-29", &d), 0);
	assert_int_equal(d, 20240229);
	assert_int_equal(fragment_driver_date_parse("2000-02-29", &d), 0);
	assert_int_equal(fragment_driver_date_parse("0001-01-01", &d), 0);
	assert_int_equal(d, 10101);
	assert_int_equal(fragment_driver_date_parse("9999-12-31", &d), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d = 7;
		if (fragment_driver_date_parse(bad[i], &d) != WSD_EINVAL ||
		    d != 7)
			fail_msg("date \"%s\" accepted", bad[i]);
	}
	assert_int_equal(fragment_driver_date_format(20220530, buf,
			     sizeof(buf)),
	    0);
	assert_string_equal(buf, "2022-05-30");
	assert_int_equal(fragment_driver_date_format(10101, buf, sizeof(buf)),
	    0);
	assert_string_equal(buf, "0001-01-01");
	assert_int_equal(fragment_driver_date_format(20220230, buf,
			     sizeof(buf)),
	    -1);
	assert_string_equal(buf, "");
	assert_int_equal(fragment_driver_date_format(0, buf, sizeof(buf)), -1);
	assert_int_equal(fragment_driver_date_format(-20220530, buf,
			     sizeof(buf)),
	    -1);
	assert_int_equal(fragment_driver_date_format(20220530, buf, 10), -1);
}

/* The Microsoft entry as builder input; strings are the caller's. */
static char ms_hwid[] = "USB\\VID_8087&PID_0A2B&REV_0010";
static char ms_class[] = "Other Hardware";
static char ms_intel[] = "Intel Corporation";
static char ms_model[] = "Intel(R) Wireless Bluetooth(R)";
static struct fragment_guid ms_dist[] = {
	{ "3962B55F-F768-58CB-9CA2-B5D61A1FDBAE" } /* written lower case */
};
static struct fragment_driver_score ms_score[] = { { "amd64.10.0", 0xff } };

static void
ms_driver(struct fragment_driver *d)
{
	memset(d, 0, sizeof(*d));
	d->hardware_id = ms_hwid;
	d->date = 20220530;
	d->version = UINT64_C(0x0016009600000006);
	d->driver_class = ms_class;
	d->company = ms_intel;
	d->provider = ms_intel;
	d->manufacturer = ms_intel;
	d->model = ms_model;
	d->dist_chids = ms_dist;
	d->n_dist_chids = 1;
	d->scores = ms_score;
	d->n_scores = 1;
}

static void
driver_update(struct fragment_update *u, const struct fragment_driver *d,
    size_t n)
{
	memset(u, 0, sizeof(*u));
	u->update_id = UID;
	u->revision_number = 200;
	u->type = FRAGMENT_TYPE_DRIVER;
	u->explicitly_deployable = true;
	u->auto_select_on_web_sites = true;
	u->drivers = d;
	u->n_drivers = n;
}

static void
test_build_exact(void **state)
{
	struct fragment_driver d;
	struct fragment_update u;
	struct wsd_err e;
	struct sbuf sb;

	(void)state;
	ms_driver(&d);
	driver_update(&u, &d, 1);
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_core(&sb, &u, &e), 0);
	assert_string_equal(sbuf_str(&sb), HEAD RULES_HEAD MS_ENTRY RULES_TAIL);

	/* No children: an empty element; NULL strings written empty. */
	sbuf_reset(&sb);
	d.dist_chids = NULL;
	d.n_dist_chids = 0;
	d.scores = NULL;
	d.n_scores = 0;
	d.model = NULL;
	d.whql_id = 4294967295u;
	d.version = 0;
	d.date = 19991231;
	assert_int_equal(fragment_build_core(&sb, &u, &e), 0);
	assert_string_equal(sbuf_str(&sb),
	    HEAD RULES_HEAD
	    "<d.WindowsDriverMetaData "
	    "HardwareID=\"USB\\VID_8087&amp;PID_0A2B&amp;REV_0010\" "
	    "DriverVerDate=\"1999-12-31\" DriverVerVersion=\"0.0.0.0\" "
	    "WhqlDriverID=\"4294967295\" Class=\"Other Hardware\" "
	    "Company=\"Intel Corporation\" Provider=\"Intel Corporation\" "
	    "Manufacturer=\"Intel Corporation\" Model=\"\" />" RULES_TAIL);
	sbuf_release(&sb);
}

static void
test_build_extended(void **state)
{
	struct fragment_driver d;
	struct fragment_update u;
	struct wsd_err e;
	struct sbuf sb;

	(void)state;
	ms_driver(&d);
	driver_update(&u, &d, 1);
	u.handler = FRAGMENT_HANDLER_DRIVER;
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_extended(&sb, &u, &e), 0);
	assert_string_equal(sbuf_str(&sb),
	    "<ExtendedProperties DefaultPropertiesLanguage=\"en\" "
	    "Handler=\"http://schemas.microsoft.com/msus/2002/12/"
	    "UpdateHandlers/WindowsDriver\"><InstallationBehavior />"
	    "</ExtendedProperties>");
	sbuf_release(&sb);
}

static void
test_round_trip(void **state)
{
	static char hw0[] = "PCI\\VEN_8086&DEV_1234&SUBSYS_00000000&REV_01";
	static char hw1[] = "USB\\VID_1234&PID_5678";
	static char hw2[] = "ACPI\\VEN_ABC&DEV_0001 <\"quoted\"> \xc3\xa9";
	static char cls0[] = "Net", cls1[] = "", prov[] = "Contoso & Co",
		    man[] = "Contoso", comp[] = "Contoso Ltd",
		    mod0[] = "Model 0", mod1[] = "Model\t1";
	static struct fragment_guid t0[] = {
		{ "00000000-0000-0000-0000-000000000001" },
		{ "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" },
	};
	static struct fragment_guid d0[] = {
		{ "11111111-2222-3333-4444-555555555555" },
	};
	static struct fragment_driver_score s0[] = {
		{ "amd64.10.0", 0xff },
		{ "x86.6.3", 0x0 },
		{ "arm64.10.0.22000", 0x1a },
	};
	struct fragment_driver in[3], *out;
	struct fragment_update u;
	struct wsd_err e;
	struct sbuf sb;
	size_t n;

	(void)state;
	memset(in, 0, sizeof(in));
	in[0] = (struct fragment_driver){ .hardware_id = hw0,
		.date = 20200101,
		.version = UINT64_C(0x000a000000004a61),
		.whql_id = 123456,
		.driver_class = cls0,
		.company = comp,
		.provider = prov,
		.manufacturer = man,
		.model = mod0,
		.target_chids = t0,
		.n_target_chids = 2,
		.dist_chids = d0,
		.n_dist_chids = 1,
		.scores = s0,
		.n_scores = 3 };
	in[1] = (struct fragment_driver){ .hardware_id = hw1,
		.date = 20240229,
		.version = UINT64_MAX,
		.driver_class = cls1,
		.company = comp,
		.provider = prov,
		.manufacturer = man,
		.model = mod1 };
	in[2] = in[0];
	in[2].hardware_id = hw2;
	in[2].n_target_chids = 0;
	in[2].target_chids = NULL;

	driver_update(&u, in, 3);
	sbuf_init(&sb, CAP);
	assert_int_equal(fragment_build_core(&sb, &u, &e), 0);
	assert_int_equal(parse(sbuf_str(&sb), &out, &n, &e), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < 3; i++) {
		const struct fragment_driver *a = &in[i], *b = &out[i];

		assert_string_equal(b->hardware_id, a->hardware_id);
		assert_int_equal(b->date, a->date);
		assert_true(b->version == a->version);
		assert_int_equal(b->whql_id, a->whql_id);
		assert_string_equal(b->driver_class, a->driver_class);
		assert_string_equal(b->company, a->company);
		assert_string_equal(b->provider, a->provider);
		assert_string_equal(b->manufacturer, a->manufacturer);
		assert_string_equal(b->model, a->model);
		assert_int_equal(b->n_target_chids, a->n_target_chids);
		for (size_t k = 0; k < a->n_target_chids; k++)
			assert_string_equal(b->target_chids[k].s,
			    a->target_chids[k].s);
		assert_int_equal(b->n_dist_chids, a->n_dist_chids);
		for (size_t k = 0; k < a->n_dist_chids; k++)
			assert_string_equal(b->dist_chids[k].s,
			    a->dist_chids[k].s);
		assert_int_equal(b->n_scores, a->n_scores);
		for (size_t k = 0; k < a->n_scores; k++) {
			assert_string_equal(b->scores[k].os, a->scores[k].os);
			assert_int_equal(b->scores[k].score,
			    a->scores[k].score);
		}
	}
	/* The text of the tab survives as a character reference. */
	assert_non_null(strstr(sbuf_str(&sb), "Model=\"Model&#9;1\""));
	assert_non_null(strstr(sbuf_str(&sb), "FeatureScore=\"1A\""));
	assert_non_null(strstr(sbuf_str(&sb), "FeatureScore=\"00\""));
	fragment_drivers_release(out, n);
	sbuf_release(&sb);
}

static void
test_microsoft_sample(void **state)
{
	struct fragment_driver *d;
	struct wsd_err e;
	size_t n;
	char *xml = core_with(MS_ENTRY);
	char ver[24];

	(void)state;
	assert_int_equal(parse(xml, &d, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(d[0].hardware_id,
	    "USB\\VID_8087&PID_0A2B&REV_0010");
	assert_int_equal(d[0].date, 20220530);
	assert_true(d[0].version == UINT64_C(0x0016009600000006));
	fragment_driver_version_format(d[0].version, ver, sizeof(ver));
	assert_string_equal(ver, "22.150.0.6");
	assert_int_equal(d[0].whql_id, 0);
	assert_string_equal(d[0].driver_class, "Other Hardware");
	assert_string_equal(d[0].company, "Intel Corporation");
	assert_string_equal(d[0].provider, "Intel Corporation");
	assert_string_equal(d[0].manufacturer, "Intel Corporation");
	assert_string_equal(d[0].model, "Intel(R) Wireless Bluetooth(R)");
	assert_int_equal(d[0].n_scores, 1);
	assert_string_equal(d[0].scores[0].os, "amd64.10.0");
	assert_int_equal(d[0].scores[0].score, 0xff);
	assert_int_equal(d[0].n_dist_chids, 1);
	assert_string_equal(d[0].dist_chids[0].s,
	    "3962b55f-f768-58cb-9ca2-b5d61a1fdbae");
	assert_int_equal(d[0].n_target_chids, 0);
	assert_null(d[0].target_chids);
	fragment_drivers_release(d, n);
	free(xml);

	/* And the builder writes back exactly Microsoft's rules. */
	{
		struct fragment_driver in;
		struct fragment_update u;
		struct sbuf sb;

		ms_driver(&in);
		driver_update(&u, &in, 1);
		sbuf_init(&sb, CAP);
		assert_int_equal(fragment_build_core(&sb, &u, &e), 0);
		xml = core_with(MS_ENTRY);
		assert_string_equal(sbuf_str(&sb), xml);
		free(xml);
		sbuf_release(&sb);
	}
}

/* What the parser accepts beyond what the builder writes. */
static void
test_parse_lenient(void **state)
{
	struct fragment_driver *d;
	struct wsd_err e;
	size_t n;
	char *xml;

	(void)state;
	/* Lower-case score, braced and upper-case CHIDs with whitespace,
	 * unknown attributes and children, absent optional attributes,
	 * upper-case OperatingSystem. */
	xml = core_with(entry(GOOD_ATTRS " Extra=\"x\"",
	    "<d.FeatureScore FeatureScore=\"a\" OperatingSystem=\"AMD64.10.0\" "
	    "/><d.CompatibleProvider Provider=\"x\" /><Other><Deep /></Other>"
	    "<d.TargetComputerHardwareId> {AAAAAAAA-BBBB-CCCC-DDDD-"
	    "EEEEEEEEEEEE}\n</d.TargetComputerHardwareId>"
	    "<d.DistributionComputerHardwareId>{11111111-2222-3333-4444-"
	    "555555555555}</d.DistributionComputerHardwareId>"));
	assert_int_equal(parse(xml, &d, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].whql_id, 0);
	assert_string_equal(d[0].driver_class, "");
	assert_string_equal(d[0].model, "");
	assert_int_equal(d[0].scores[0].score, 0x0a);
	assert_string_equal(d[0].scores[0].os, "amd64.10.0");
	assert_string_equal(d[0].target_chids[0].s,
	    "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
	assert_string_equal(d[0].dist_chids[0].s,
	    "11111111-2222-3333-4444-555555555555");
	fragment_drivers_release(d, n);
	free(xml);

	/* Several Metadata entries, in document order; an entry outside
	 * Metadata is not driver metadata. */
	xml = strdup(
	    HEAD "<ApplicabilityRules><IsInstalled><d.WindowsDriverMetaData "
		 "HardwareID=\"NOT\\THIS\" DriverVerDate=\"2020-01-01\" "
		 "DriverVerVersion=\"1.0.0.0\" /></IsInstalled><Metadata>"
		 "<d.WindowsDriverMetaData HardwareID=\"A\" "
		 "DriverVerDate=\"2020-01-01\" DriverVerVersion=\"1.0.0.0\" />"
		 "<d.WindowsDriverMetaData HardwareID=\"B\" "
		 "DriverVerDate=\"2021-01-01\" DriverVerVersion=\"2.0.0.0\" />"
		 "</Metadata></ApplicabilityRules>");
	assert_non_null(xml);
	assert_int_equal(parse(xml, &d, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].hardware_id, "A");
	assert_string_equal(d[1].hardware_id, "B");
	assert_int_equal(d[1].date, 20210101);
	fragment_drivers_release(d, n);
	free(xml);

	/* Limits themselves are fine. */
	{
		char attrs[512], hw[FRAGMENT_DRIVER_ID_MAX + 1];

		memset(hw, 'H', sizeof(hw) - 1);
		hw[sizeof(hw) - 1] = '\0';
		snprintf(attrs, sizeof(attrs),
		    "HardwareID=\"%s\" DriverVerDate=\"2020-01-02\" "
		    "DriverVerVersion=\"1.2.3.4\" WhqlDriverID=\"4294967295\"",
		    hw);
		xml = core_with(entry(attrs, ""));
		assert_int_equal(parse(xml, &d, &n, &e), 0);
		assert_int_equal(strlen(d[0].hardware_id),
		    FRAGMENT_DRIVER_ID_MAX);
		assert_int_equal(d[0].whql_id, 4294967295u);
		fragment_drivers_release(d, n);
		free(xml);
	}
}

static void
test_no_metadata(void **state)
{
	static const char *const frags[] = {
		"<UpdateIdentity UpdateID=\"" UID "\" RevisionNumber=\"1\" />"
		"<Properties UpdateType=\"Software\" />"
		"<ApplicabilityRules><IsInstalled><False /></IsInstalled>"
		"</ApplicabilityRules>",
		"<UpdateIdentity UpdateID=\"" UID "\" RevisionNumber=\"1\" />"
		"<Properties UpdateType=\"Driver\" />",
		HEAD RULES_HEAD RULES_TAIL,
	};
	struct fragment_driver *d;
	struct wsd_err e;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		assert_int_equal(parse(frags[i], &d, &n, &e), 0);
		assert_null(d);
		assert_int_equal(n, 0);
	}
	fragment_drivers_release(NULL, 0);
}

static void
test_parse_refusals(void **state)
{
	char attrs[512], hw[FRAGMENT_DRIVER_ID_MAX + 2];

	(void)state;
	/* Attributes. */
	expect_refused(entry("DriverVerDate=\"2020-01-02\" "
			     "DriverVerVersion=\"1.2.3.4\"",
			   ""),
	    WSD_EINVAL, "HardwareID");
	expect_refused(entry("HardwareID=\"\" DriverVerDate=\"2020-01-02\" "
			     "DriverVerVersion=\"1.2.3.4\"",
			   ""),
	    WSD_EINVAL, "HardwareID");
	memset(hw, 'H', sizeof(hw) - 1);
	hw[sizeof(hw) - 1] = '\0';
	snprintf(attrs, sizeof(attrs),
	    "HardwareID=\"%s\" DriverVerDate=\"2020-01-02\" "
	    "DriverVerVersion=\"1.2.3.4\"",
	    hw);
	expect_refused(entry(attrs, ""), WSD_ETOOBIG, "FRAGMENT_DRIVER_ID_MAX");
	expect_refused(entry("HardwareID=\"X\" DriverVerVersion=\"1.2.3.4\"",
			   ""),
	    WSD_EINVAL, "DriverVerDate");
	expect_refused(entry("HardwareID=\"X\" DriverVerDate=\"2022-02-30\" "
			     "DriverVerVersion=\"1.2.3.4\"",
			   ""),
	    WSD_EINVAL, "DriverVerDate");
	expect_refused(entry("HardwareID=\"X\" DriverVerDate=\"2022-13-01\" "
			     "DriverVerVersion=\"1.2.3.4\"",
			   ""),
	    WSD_EINVAL, "DriverVerDate");
	expect_refused(entry("HardwareID=\"X\" DriverVerDate=\"22-05-30\" "
			     "DriverVerVersion=\"1.2.3.4\"",
			   ""),
	    WSD_EINVAL, "DriverVerDate");
	expect_refused(entry("HardwareID=\"X\" DriverVerDate=\"2020-01-02\"",
			   ""),
	    WSD_EINVAL, "DriverVerVersion");
	expect_refused(entry("HardwareID=\"X\" DriverVerDate=\"2020-01-02\" "
			     "DriverVerVersion=\"1.2.3\"",
			   ""),
	    WSD_EINVAL, "d.WindowsDriverMetaData: bad DriverVerVersion");
	expect_refused(entry("HardwareID=\"X\" DriverVerDate=\"2020-01-02\" "
			     "DriverVerVersion=\"1.2.3.65536\"",
			   ""),
	    WSD_EINVAL, "DriverVerVersion");
	expect_refused(entry(GOOD_ATTRS " WhqlDriverID=\"4294967296\"", ""),
	    WSD_EINVAL, "WhqlDriverID");
	expect_refused(entry(GOOD_ATTRS " WhqlDriverID=\"-1\"", ""), WSD_EINVAL,
	    "WhqlDriverID");
	{
		char big[FRAGMENT_DRIVER_STR_MAX + 2];

		memset(big, 'c', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		snprintf(attrs, sizeof(attrs), GOOD_ATTRS " Model=\"%s\"", big);
		expect_refused(entry(attrs, ""), WSD_ETOOBIG, "256");
		snprintf(attrs, sizeof(attrs), GOOD_ATTRS " Class=\"%s\"", big);
		expect_refused(entry(attrs, ""), WSD_ETOOBIG, "256");
	}

	/* FeatureScore. */
	expect_refused(entry(GOOD_ATTRS,
			   "<d.FeatureScore FeatureScore=\"FFF\" "
			   "OperatingSystem=\"amd64.10.0\" />"),
	    WSD_EINVAL, "d.FeatureScore: bad FeatureScore");
	expect_refused(entry(GOOD_ATTRS,
			   "<d.FeatureScore FeatureScore=\"G1\" "
			   "OperatingSystem=\"amd64.10.0\" />"),
	    WSD_EINVAL, "FeatureScore");
	expect_refused(entry(GOOD_ATTRS,
			   "<d.FeatureScore FeatureScore=\"\" "
			   "OperatingSystem=\"amd64.10.0\" />"),
	    WSD_EINVAL, "FeatureScore");
	expect_refused(entry(GOOD_ATTRS,
			   "<d.FeatureScore OperatingSystem=\"amd64.10.0\" />"),
	    WSD_EINVAL, "FeatureScore");
	expect_refused(entry(GOOD_ATTRS,
			   "<d.FeatureScore FeatureScore=\"-1\" "
			   "OperatingSystem=\"amd64.10.0\" />"),
	    WSD_EINVAL, "FeatureScore");
	expect_refused(entry(GOOD_ATTRS,
			   "<d.FeatureScore FeatureScore=\"FF\" "
			   "/>"),
	    WSD_EINVAL, "OperatingSystem");
	expect_refused(entry(GOOD_ATTRS,
			   "<d.FeatureScore FeatureScore=\"FF\" "
			   "OperatingSystem=\"\" />"),
	    WSD_EINVAL, "OperatingSystem");
	expect_refused(entry(GOOD_ATTRS,
			   "<d.FeatureScore FeatureScore=\"FF\" "
			   "OperatingSystem=\"amd64.10.0.xxxxxxxxxxxxxxxxxxxxxx"
			   "x\" />"),
	    WSD_ETOOBIG, "FRAGMENT_DRIVER_OS_MAX");

	/* CHIDs. */
	expect_refused(entry(GOOD_ATTRS,
			   "<d.DistributionComputerHardwareId>3962b55f-f768-"
			   "58cb-9ca2-b5d61a1fdbaz"
			   "</d.DistributionComputerHardwareId>"),
	    WSD_EINVAL, "d.DistributionComputerHardwareId: bad GUID");
	expect_refused(entry(GOOD_ATTRS,
			   "<d.TargetComputerHardwareId>{3962b55f-f768-58cb-"
			   "9ca2-b5d61a1fdbae</d.TargetComputerHardwareId>"),
	    WSD_EINVAL, "d.TargetComputerHardwareId: bad GUID");
	expect_refused(entry(GOOD_ATTRS,
			   "<d.TargetComputerHardwareId></"
			   "d.TargetComputerHardwareId>"),
	    WSD_EINVAL, "GUID");
	expect_refused(entry(GOOD_ATTRS,
			   "<d.TargetComputerHardwareId><x />"
			   "</d.TargetComputerHardwareId>"),
	    WSD_EINVAL, NULL);

	/* The fragment itself gets fragment_parse_core's checks. */
	expect_refused("<!-- c --><d.WindowsDriverMetaData />", WSD_EINVAL,
	    "comment");
	{
		struct fragment_driver *d;
		struct wsd_err e;
		size_t n;

		assert_int_equal(parse(RULES_HEAD MS_ENTRY RULES_TAIL, &d, &n,
				     &e),
		    WSD_EINVAL);
		assert_int_equal(parse("", &d, &n, &e), WSD_EINVAL);
		assert_int_equal(fragment_parse_drivers(NULL, 0, &d, &n, &e),
		    WSD_EINVAL);
		assert_null(d);
	}
}

/* A list of COUNT copies of ITEM. */
static char *
repeat(const char *item, size_t count)
{
	struct sbuf sb;

	sbuf_init(&sb, CAP);
	for (size_t i = 0; i < count; i++)
		assert_int_equal(sbuf_adds(&sb, item), 0);
	return sbuf_detach(&sb, NULL);
}

static void
test_parse_limits(void **state)
{
	static const char one[] = "<d.WindowsDriverMetaData HardwareID=\"X\" "
				  "DriverVerDate=\"2020-01-01\" "
				  "DriverVerVersion=\"1.0.0.0\" />";
	struct fragment_driver *d;
	struct wsd_err e;
	size_t n;
	char *items, *xml;

	(void)state;
	/* Entries: the limit parses, one more is refused. */
	items = repeat(one, FRAGMENT_DRIVER_MAX_ENTRIES);
	xml = core_with(items);
	assert_int_equal(parse(xml, &d, &n, &e), 0);
	assert_int_equal(n, FRAGMENT_DRIVER_MAX_ENTRIES);
	fragment_drivers_release(d, n);
	free(xml);
	free(items);
	items = repeat(one, FRAGMENT_DRIVER_MAX_ENTRIES + 1);
	expect_refused(items, WSD_ETOOBIG, "1000");
	free(items);

	/* Scores and CHIDs per entry. */
	items = repeat("<d.FeatureScore FeatureScore=\"1\" "
		       "OperatingSystem=\"x\" />",
	    FRAGMENT_DRIVER_MAX_SCORES);
	xml = core_with(entry(GOOD_ATTRS, items));
	assert_int_equal(parse(xml, &d, &n, &e), 0);
	assert_int_equal(d[0].n_scores, FRAGMENT_DRIVER_MAX_SCORES);
	fragment_drivers_release(d, n);
	free(xml);
	free(items);
	items = repeat("<d.FeatureScore FeatureScore=\"1\" "
		       "OperatingSystem=\"x\" />",
	    FRAGMENT_DRIVER_MAX_SCORES + 1);
	{
		char *md = strdup(entry(GOOD_ATTRS, items));

		assert_non_null(md);
		expect_refused(md, WSD_ETOOBIG, "scores");
		free(md);
	}
	free(items);

	items = repeat("<d.TargetComputerHardwareId>3962b55f-f768-58cb-9ca2-"
		       "b5d61a1fdbae</d.TargetComputerHardwareId>",
	    FRAGMENT_DRIVER_MAX_CHIDS + 1);
	{
		struct sbuf sb;
		char *md;

		sbuf_init(&sb, CAP);
		assert_int_equal(sbuf_adds(&sb,
				     "<d.WindowsDriverMetaData " GOOD_ATTRS
				     ">"),
		    0);
		assert_int_equal(sbuf_adds(&sb, items), 0);
		assert_int_equal(sbuf_adds(&sb, "</d.WindowsDriverMetaData>"),
		    0);
		md = sbuf_detach(&sb, NULL);
		expect_refused(md, WSD_ETOOBIG, "CHIDs");
		free(md);
	}
	free(items);

	/* A failure in a later entry frees the earlier ones (ASan). */
	items = repeat(one, 5);
	{
		struct sbuf sb;
		char *md;

		sbuf_init(&sb, CAP);
		assert_int_equal(sbuf_adds(&sb, MS_ENTRY), 0);
		assert_int_equal(sbuf_adds(&sb, items), 0);
		assert_int_equal(sbuf_adds(&sb,
				     entry(GOOD_ATTRS,
					 "<d.FeatureScore FeatureScore=\"FFF\" "
					 "OperatingSystem=\"x\" />")),
		    0);
		md = sbuf_detach(&sb, NULL);
		expect_refused(md, WSD_EINVAL, "FeatureScore");
		free(md);
	}
	free(items);
}

static void
test_build_refusals(void **state)
{
	static char empty[] = "";
	static struct fragment_guid bad_chid[] = { { "not-a-guid" } };
	static struct fragment_driver_score no_os[] = { { "", 1 } };
	char long_hw[FRAGMENT_DRIVER_ID_MAX + 2];
	char long_str[FRAGMENT_DRIVER_STR_MAX + 2];
	struct fragment_driver d, *many;
	struct fragment_update u;
	struct wsd_err e;
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb, CAP);
#define REFUSE(code)                                                           \
	do {                                                                   \
		sbuf_reset(&sb);                                               \
		assert_int_equal(sbuf_adds(&sb, "KEEP"), 0);                   \
		e.what = NULL;                                                 \
		assert_int_equal(fragment_build_core(&sb, &u, &e), (code));    \
		assert_non_null(e.what);                                       \
		assert_string_equal(sbuf_str(&sb), "KEEP");                    \
		ms_driver(&d);                                                 \
		driver_update(&u, &d, 1);                                      \
	} while (0)

	ms_driver(&d);
	driver_update(&u, &d, 1);
	u.n_drivers = 0;
	REFUSE(WSD_EINVAL);
	u.drivers = NULL;
	REFUSE(WSD_EINVAL);
	u.rules = FRAGMENT_RULES_CUSTOM;
	u.is_installed = "<True />";
	REFUSE(WSD_EINVAL);
	u.type = FRAGMENT_TYPE_SOFTWARE;
	REFUSE(WSD_EINVAL);
	d.hardware_id = NULL;
	REFUSE(WSD_EINVAL);
	d.hardware_id = empty;
	REFUSE(WSD_EINVAL);
	memset(long_hw, 'h', sizeof(long_hw) - 1);
	long_hw[sizeof(long_hw) - 1] = '\0';
	d.hardware_id = long_hw;
	REFUSE(WSD_ETOOBIG);
	memset(long_str, 's', sizeof(long_str) - 1);
	long_str[sizeof(long_str) - 1] = '\0';
	d.provider = long_str;
	REFUSE(WSD_ETOOBIG);
	d.date = 20220230;
	REFUSE(WSD_EINVAL);
	d.date = 0;
	REFUSE(WSD_EINVAL);
	d.target_chids = bad_chid;
	d.n_target_chids = 1;
	REFUSE(WSD_EINVAL);
	d.n_dist_chids = FRAGMENT_DRIVER_MAX_CHIDS + 1;
	REFUSE(WSD_ETOOBIG);
	d.n_scores = FRAGMENT_DRIVER_MAX_SCORES + 1;
	REFUSE(WSD_ETOOBIG);
	d.scores = no_os;
	REFUSE(WSD_EINVAL);
	d.scores = NULL;
	REFUSE(WSD_EINVAL);
	/* Control characters are refused by the escaping writer. */
	{
		static char ctl[] = "a\x01z";

		d.model = ctl;
		REFUSE(WSD_EINVAL);
	}

	many = calloc(FRAGMENT_DRIVER_MAX_ENTRIES + 1, sizeof(*many));
	assert_non_null(many);
	for (size_t i = 0; i <= FRAGMENT_DRIVER_MAX_ENTRIES; i++)
		ms_driver(&many[i]);
	driver_update(&u, many, FRAGMENT_DRIVER_MAX_ENTRIES + 1);
	REFUSE(WSD_ETOOBIG);
	driver_update(&u, many, FRAGMENT_DRIVER_MAX_ENTRIES);
	sbuf_reset(&sb);
	assert_int_equal(fragment_build_core(&sb, &u, &e), 0);
	free(many);
#undef REFUSE
	sbuf_release(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_parse),
		cmocka_unit_test(test_version_format),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_build_exact),
		cmocka_unit_test(test_build_extended),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_microsoft_sample),
		cmocka_unit_test(test_parse_lenient),
		cmocka_unit_test(test_no_metadata),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_build_refusals),
	};

	xmlInitParser();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
