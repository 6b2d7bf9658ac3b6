#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/sbuf.h"
#include "soap/soap_emit.h"
#include "soap/soap_fault.h"
#include "soap/soap_parse.h"

/* The shared protocol directory sits beside the repository clone. */
#define VECTORS                                                                \
	TEST_SRCDIR "/../shared/protocol/vectors/native-capture-wsus-rs/"

#define ENV_OPEN                                                               \
	"<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">"   \
	"<s:Body>"
#define ENV_CLOSE "</s:Body></s:Envelope>"
#define OP_OPEN   "<Op xmlns=\"urn:op\">"
#define OP_CLOSE  "</Op>"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static char *
slurp(const char *rel, size_t *lenp)
{
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s%s", VECTORS, rel);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("capture not found: %s (the shared protocol dir must "
			 "sit beside the repository as ../shared)",
		    path);
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

/* soap_parse under a CPU-time bound (S10: every answer within 1 s). */
static int
timed_parse(const char *body, size_t len, struct soap_doc *d, struct wsd_err *e)
{
	clock_t t0 = clock();
	int rc = soap_parse(body, len, d, e);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;

	if (secs >= 1.0)
		fail_msg("soap_parse took %.2f s of CPU", secs);
	return rc;
}

static int
parse_str(const char *body, struct soap_doc *d, struct wsd_err *e)
{
	return timed_parse(body, strlen(body), d, e);
}

/* Expects BODY to fail with RC, FAULT and a reason containing WHAT. */
static void
expect_fail(const char *body, size_t len, int rc, enum soap_errc fault,
    const char *what)
{
	struct soap_doc d;
	struct wsd_err e = { WSD_OK, NULL };

	assert_int_equal(timed_parse(body, len, &d, &e), rc);
	assert_int_equal(e.code, rc);
	assert_non_null(e.what);
	if (what != NULL && strstr(e.what, what) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", e.what, what);
	assert_null(d.sd_xml);
	assert_null(d.sd_op);
	assert_int_equal(d.sd_fault, fault);
	soap_doc_release(&d);
}

static void
expect_fail_str(const char *body, int rc, enum soap_errc fault,
    const char *what)
{
	expect_fail(body, strlen(body), rc, fault, what);
}

/* A body built in an sbuf: PREFIX, REPEAT x N, SUFFIX. */
static char *
build(const char *prefix, const char *repeat, size_t n, const char *mid,
    const char *repeat2, size_t n2, const char *suffix, size_t *lenp)
{
	struct sbuf sb;

	sbuf_init(&sb, 64 * 1024 * 1024);
	assert_int_equal(sbuf_adds(&sb, prefix), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(sbuf_adds(&sb, repeat), 0);
	assert_int_equal(sbuf_adds(&sb, mid), 0);
	for (size_t i = 0; i < n2; i++)
		assert_int_equal(sbuf_adds(&sb, repeat2), 0);
	assert_int_equal(sbuf_adds(&sb, suffix), 0);
	return sbuf_detach(&sb, lenp);
}

static int64_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm);
}

static const struct soap_elem *
path(const struct soap_doc *d, const char *a, const char *b, const char *c)
{
	const struct soap_elem *e = soap_child(d, soap_op(d), a);

	if (b != NULL)
		e = soap_child(d, e, b);
	if (c != NULL)
		e = soap_child(d, e, c);
	return e;
}

static void
expect_str(const struct soap_elem *el, const char *want)
{
	struct wsd_err e;
	struct sv v;

	assert_non_null(el);
	assert_int_equal(soap_get_str(el, 4096, &v, &e), 0);
	assert_int_equal(v.n, strlen(want));
	assert_memory_equal(v.p, want, v.n);
	assert_int_equal(v.p[v.n], '\0');
}

/* ------------------------------------------------------------------ */
/* Every captured request parses, with the right operation            */

static const struct {
	const char *rel;
	const char *op;
	const char *ns;
} captures[] = {
	{ "scan/000001/request.body", "GetConfig", SOAP_NS_CLIENT },
	{ "scan/000002/request.body", "GetAuthorizationCookie",
	    SOAP_NS_SIMPLEAUTH },
	{ "scan/000003/request.body", "GetCookie", SOAP_NS_CLIENT },
	{ "scan/000004/request.body", "RegisterComputer", SOAP_NS_CLIENT },
	{ "scan/000005/request.body", "StartCategoryScan", SOAP_NS_CLIENT },
	{ "scan/000006/request.body", "SyncUpdates", SOAP_NS_CLIENT },
	{ "scan/000007/request.body", "SyncUpdates", SOAP_NS_CLIENT },
	{ "scan/000008/request.body", "SyncUpdates", SOAP_NS_CLIENT },
	{ "scan/000009/request.body", "SyncUpdates", SOAP_NS_CLIENT },
	{ "scan/000010/request.body", "GetExtendedUpdateInfo", SOAP_NS_CLIENT },
	{ "flow/000001/request.body", "SyncUpdates", SOAP_NS_CLIENT },
	{ "flow/000003/request.body", "SyncUpdates", SOAP_NS_CLIENT },
	{ "flow/000012/request.body", "SyncUpdates", SOAP_NS_CLIENT },
	{ "flow/000013/request.body", "SyncUpdates", SOAP_NS_CLIENT },
	{ "flow/000014/request.body", "SyncUpdates", SOAP_NS_CLIENT },
	{ "flow/000015/request.body", "GetExtendedUpdateInfo", SOAP_NS_CLIENT },
	{ "flow/000016/request.body", "ReportEventBatch", SOAP_NS_REPORTING },
	{ "flow/000017/request.body", "ReportEventBatch", SOAP_NS_REPORTING },
	{ "flow/000018/request.body", "ReportEventBatch", SOAP_NS_REPORTING },
};

static void
test_parse_every_capture(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(captures) / sizeof(captures[0]); i++) {
		struct soap_doc d;
		struct wsd_err e = { WSD_OK, NULL };
		size_t len;
		char *body = slurp(captures[i].rel, &len);

		if (timed_parse(body, len, &d, &e) != 0)
			fail_msg("%s: %s", captures[i].rel, e.what);
		assert_string_equal(d.sd_op_name, captures[i].op);
		assert_string_equal(d.sd_op_ns, captures[i].ns);
		assert_string_equal(soap_elem_name(soap_op(&d)),
		    captures[i].op);
		assert_int_equal(d.sd_fault, SOAP_ERRC_NONE);
		assert_true(d.sd_nodes > 2);
		soap_doc_release(&d);
		assert_null(d.sd_xml);
		free(body);
	}
}

static struct soap_doc
parse_capture(const char *rel)
{
	struct soap_doc d;
	struct wsd_err e;
	size_t len;
	char *body = slurp(rel, &len);

	/* The tree does not point into the body: free it right away. */
	if (soap_parse(body, len, &d, &e) != 0)
		fail_msg("%s: %s", rel, e.what);
	memset(body, 'X', len);
	free(body);
	return d;
}

static void
test_capture_fields_handshake(void **state)
{
	struct soap_datetime dt;
	unsigned char raw[1024];
	char guid[37];
	struct wsd_err e;
	struct soap_doc d;
	size_t n;
	int32_t v;

	(void)state;
	d = parse_capture("scan/000001/request.body");
	expect_str(soap_child(&d, soap_op(&d), "protocolVersion"), "2.90");
	soap_doc_release(&d);

	d = parse_capture("scan/000002/request.body");
	assert_int_equal(soap_get_guid(soap_child(&d, soap_op(&d), "clientId"),
			     guid, &e),
	    0);
	assert_string_equal(guid, "e1da06a3-5601-43c9-bac3-52d5db701494");
	expect_str(soap_child(&d, soap_op(&d), "dnsName"), "REDACTED3");
	/* targetGroupName is not sent: absent, not empty. */
	assert_null(soap_child(&d, soap_op(&d), "targetGroupName"));
	soap_doc_release(&d);

	d = parse_capture("scan/000003/request.body");
	expect_str(path(&d, "authCookies", "AuthorizationCookie", "PlugInId"),
	    "SimpleTargeting");
	/* 664 characters of 'A' (sanitised): 496 zero bytes. */
	assert_int_equal(soap_get_b64(path(&d, "authCookies",
					  "AuthorizationCookie", "CookieData"),
			     raw, sizeof(raw), &n, &e),
	    0);
	assert_int_equal(n, 496);
	assert_int_equal(raw[0] | raw[495], 0);
	assert_int_equal(soap_get_b64(path(&d, "authCookies",
					  "AuthorizationCookie", "CookieData"),
			     raw, 495, &n, &e),
	    WSD_ETOOBIG);
	/* oldCookie holds Expiration only (WUSP.md 9 #7). */
	assert_int_equal(soap_get_datetime(path(&d, "oldCookie", "Expiration",
					       NULL),
			     &dt, &e),
	    0);
	assert_int_equal(dt.dt_sec, utc(2026, 10, 4, 15, 3, 36));
	assert_int_equal(dt.dt_frac, 0);
	assert_null(path(&d, "oldCookie", "EncryptedData", NULL));
	assert_int_equal(soap_get_datetime(soap_child(&d, soap_op(&d),
					       "lastChange"),
			     &dt, &e),
	    0);
	assert_int_equal(dt.dt_sec, utc(2026, 10, 4, 13, 17, 7));
	assert_int_equal(dt.dt_frac, 5900000); /* ".59" */
	soap_doc_release(&d);

	d = parse_capture("scan/000004/request.body");
	assert_int_equal(soap_get_datetime(path(&d, "cookie", "Expiration",
					       NULL),
			     &dt, &e),
	    0);
	assert_int_equal(dt.dt_sec, utc(2026, 10, 4, 16, 3, 35));
	assert_int_equal(dt.dt_frac, 9967236); /* seven digits */
	assert_int_equal(soap_get_i32(path(&d, "computerInfo", "OSBuildNumber",
					  NULL),
			     &v, &e),
	    0);
	assert_int_equal(v, 26200);
	assert_int_equal(soap_get_i32(path(&d, "computerInfo", "SuiteMask",
					  NULL),
			     &v, &e),
	    0);
	assert_int_equal(v, 256);
	expect_str(path(&d, "computerInfo", "ComputerModel", NULL),
	    "Standard PC (Q35 + ICH9, 2009)");
	/* A string is not an int. */
	assert_int_equal(soap_get_i32(path(&d, "computerInfo",
					  "ProcessorArchitecture", NULL),
			     &v, &e),
	    WSD_EINVAL);
	soap_doc_release(&d);

	d = parse_capture("scan/000005/request.body");
	assert_int_equal(soap_get_i32(path(&d, "requestedCategories",
					  "CategoryRelationship",
					  "IndexOfAndGroup"),
			     &v, &e),
	    0);
	assert_int_equal(v, 0);
	assert_int_equal(soap_get_guid(path(&d, "requestedCategories",
					   "CategoryRelationship",
					   "CategoryId"),
			     guid, &e),
	    0);
	assert_string_equal(guid, "dd78b8a1-0b20-45c1-add6-4da72e9364cf");
	/* StartCategoryScan carries no cookie (WUSP.md 9 #7). */
	assert_null(soap_child(&d, soap_op(&d), "cookie"));
	soap_doc_release(&d);
}

static void
test_capture_fields_sync(void **state)
{
	const struct soap_elem *p, *dev, *drv;
	int32_t ids[128];
	struct soap_doc d;
	struct wsd_err e;
	int64_t v64;
	size_t n;
	int32_t v;
	bool b;

	(void)state;
	d = parse_capture("scan/000006/request.body");
	p = soap_child(&d, soap_op(&d), "parameters");
	assert_int_equal(soap_get_bool(soap_child(&d, p, "ExpressQuery"), &b,
			     &e),
	    0);
	assert_false(b);
	assert_int_equal(soap_get_bool(soap_child(&d, p,
					   "NeedTwoGroupOutOfScopeUpdates"),
			     &b, &e),
	    0);
	assert_true(b);
	/* First call: the lists are omitted, which reads as empty. */
	assert_null(soap_child(&d, p, "InstalledNonLeafUpdateIDs"));
	assert_int_equal(soap_array_i32(&d,
			     soap_child(&d, p, "InstalledNonLeafUpdateIDs"),
			     "int", ids, 400, &n, &e),
	    0);
	assert_int_equal(n, 0);
	/* Elements outside the WSDL are simply there to be ignored. */
	assert_non_null(soap_child(&d, p, "AlsoPerformRegularSync"));
	expect_str(soap_child(&d, p, "ComputerSpec"), "");
	soap_doc_release(&d);

	d = parse_capture("scan/000007/request.body");
	p = soap_child(&d, soap_op(&d), "parameters");
	assert_int_equal(soap_array_i32(&d,
			     soap_child(&d, p, "InstalledNonLeafUpdateIDs"),
			     "int", ids, 400, &n, &e),
	    0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], 108226);
	soap_doc_release(&d);

	d = parse_capture("scan/000009/request.body");
	p = soap_child(&d, soap_op(&d), "parameters");
	assert_int_equal(soap_get_bool(soap_child(&d, p, "SkipSoftwareSync"),
			     &b, &e),
	    0);
	assert_true(b);
	dev = soap_child(&d, soap_child(&d, p, "SystemSpec"), "Device");
	drv = soap_child(&d, dev, "installedDriver");
	assert_int_equal(soap_get_i64(soap_child(&d, drv, "DriverVerVersion"),
			     &v64, &e),
	    0);
	assert_int_equal(v64, 2814751477604196LL);
	assert_int_equal(soap_get_i32(soap_child(&d, drv, "DriverVerVersion"),
			     &v, &e),
	    WSD_EINVAL); /* too big for xs:int */
	assert_int_equal(soap_get_i32(soap_child(&d, drv, "DriverRank"), &v,
			     &e),
	    0);
	assert_int_equal(v, -1);
	/* <MatchingComputerHWID a:nil="true" xmlns:a="...instance"/> */
	assert_true(soap_is_nil(soap_child(&d, drv, "MatchingComputerHWID")));
	assert_false(soap_is_nil(soap_child(&d, drv, "DriverRank")));
	expect_str(soap_child(&d, drv, "MatchingComputerHWID"), "");
	{
		struct soap_iter it;
		size_t count, seen = 0;

		assert_int_equal(soap_array_begin(&d,
				     soap_child(&d, p, "SystemSpec"), "Device",
				     100, &it, &count, &e),
		    0);
		assert_int_equal(count, 70);
		while (soap_iter_next(&it) != NULL)
			seen++;
		assert_int_equal(seen, 70);
		assert_int_equal(soap_array_begin(&d,
				     soap_child(&d, p, "SystemSpec"), "Device",
				     69, &it, &count, &e),
		    WSD_ETOOBIG);
	}
	soap_doc_release(&d);

	d = parse_capture("scan/000010/request.body");
	assert_int_equal(soap_array_i32(&d,
			     soap_child(&d, soap_op(&d), "revisionIDs"), "int",
			     ids, 50, &n, &e),
	    0);
	assert_int_equal(n, 3);
	assert_int_equal(ids[0], 72571);
	assert_int_equal(ids[2], 108231);
	expect_str(path(&d, "locales", "string", NULL), "en-US");
	expect_str(soap_child(&d, soap_op(&d), "GeoId"), "USA");
	soap_doc_release(&d);
}

static void
test_capture_installed_list_cap(void **state)
{
	const struct soap_elem *p, *list;
	int32_t *ids;
	struct soap_doc d;
	struct wsd_err e;
	size_t n;

	(void)state;
	ids = calloc(2000, sizeof(*ids));
	assert_non_null(ids);
	d = parse_capture("flow/000001/request.body");
	p = soap_child(&d, soap_op(&d), "parameters");
	list = soap_child(&d, p, "InstalledNonLeafUpdateIDs");
	assert_int_equal(soap_array_i32(&d, list, "int", ids, 400, &n, &e), 0);
	assert_int_equal(n, 87);
	assert_int_equal(ids[0], 16);
	assert_int_equal(ids[86], 108483);
	/* Limit and limit - 1. */
	assert_int_equal(soap_array_i32(&d, list, "int", ids, 87, &n, &e), 0);
	assert_int_equal(soap_array_i32(&d, list, "int", ids, 86, &n, &e),
	    WSD_ETOOBIG);
	assert_int_equal(n, 0);
	assert_int_equal(soap_array_i32(&d,
			     soap_child(&d, p, "OtherCachedUpdateIDs"), "int",
			     ids, 2000, &n, &e),
	    0);
	assert_int_equal(n, 1029);
	assert_int_equal(ids[1028], 108488);
	/* CallerAttributes carries escaped "<<PROCESS>>". */
	{
		struct sv v;

		assert_int_equal(soap_get_str(path(&d, "parameters",
						  "ProductsParameters",
						  "CallerAttributes"),
				     4096, &v, &e),
		    0);
		assert_non_null(strstr(v.p, "Id=<<PROCESS>>: powershell.exe;"));
	}
	soap_doc_release(&d);
	free(ids);
}

static void
test_capture_fields_reporting(void **state)
{
	const struct soap_elem *ev, *bd;
	struct soap_datetime dt;
	struct soap_iter it;
	struct soap_seq q;
	char guid[37];
	struct soap_doc d;
	struct wsd_err e;
	size_t count;
	int32_t v;

	(void)state;
	d = parse_capture("flow/000016/request.body");
	assert_int_equal(soap_get_datetime(soap_child(&d, soap_op(&d),
					       "clientTime"),
			     &dt, &e),
	    0);
	assert_int_equal(dt.dt_sec, utc(2026, 10, 4, 15, 20, 47));
	assert_int_equal(dt.dt_frac, 3970000); /* ".397" */
	assert_int_equal(soap_array_begin(&d,
			     soap_child(&d, soap_op(&d), "eventBatch"),
			     "ReportingEvent", 100, &it, &count, &e),
	    0);
	assert_int_equal(count, 4);
	ev = soap_iter_next(&it);
	bd = soap_child(&d, ev, "BasicData");
	assert_int_equal(soap_get_i32(soap_child(&d, bd, "EventID"), &v, &e),
	    0);
	assert_int_equal(v, 147);
	assert_int_equal(soap_get_guid(soap_child(&d,
					   soap_child(&d, bd, "TargetID"),
					   "Sid"),
			     guid, &e),
	    0);
	assert_string_equal(guid, "e1da06a3-5601-43c9-bac3-52d5db701494");
	/* The second event's HRESULT is a negative xs:int. */
	bd = soap_child(&d, soap_iter_next(&it), "BasicData");
	assert_int_equal(soap_get_i32(soap_child(&d, bd, "Win32HResult"), &v,
			     &e),
	    0);
	assert_int_equal(v, -2145123272);
	/* WSDL order of BasicData: TargetID, SequenceNumber, TimeAtTarget. */
	soap_seq_init(&q, &d, bd);
	assert_non_null(soap_seq_take(&q, "TargetID"));
	assert_non_null(soap_seq_take(&q, "TimeAtTarget"));
	assert_null(soap_seq_take(&q, "SequenceNumber")); /* behind cursor */
	assert_non_null(soap_seq_take(&q, "EventID"));
	soap_doc_release(&d);

	d = parse_capture("flow/000018/request.body");
	assert_int_equal(soap_get_datetime(soap_child(&d, soap_op(&d),
					       "clientTime"),
			     &dt, &e),
	    0);
	assert_int_equal(dt.dt_frac, 6800000); /* ".68" */
	soap_doc_release(&d);
}

/* ------------------------------------------------------------------ */
/* SOAPAction                                                          */

static void
test_soapaction(void **state)
{
	static const char *const yes[] = {
		"\"http://www.microsoft.com/SoftwareDistribution/Server/"
		"ClientWebService/GetConfig\"",
		"http://www.microsoft.com/SoftwareDistribution/Server/"
		"ClientWebService/GetConfig",
		"  \"http://www.microsoft.com/SoftwareDistribution/Server/"
		"ClientWebService/GetConfig\"\t",
		"\"http://www.microsoft.com/SoftwareDistribution/Server/"
		"ClientWebService/GetConfig",
		"\"\"",
		"",
	};
	static const char *const no[] = {
		"\"http://www.microsoft.com/SoftwareDistribution/Server/"
		"ClientWebService/GetConfig2\"",
		"\"http://www.microsoft.com/SoftwareDistribution/Server/"
		"ClientWebService/getconfig\"",
		"\"http://www.microsoft.com/SoftwareDistribution/Server/"
		"ClientWebService\"",
		"\"http://www.microsoft.com/SoftwareDistribution/GetConfig\"",
		"\"http://www.microsoft.com/SoftwareDistribution/Server/"
		"ClientWebServiceXGetConfig\"",
		"\"http://www.microsoft.com/SoftwareDistribution/Server/"
		"ClientWebService/GetConfig\"x",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!soap_action_matches(yes[i], strlen(yes[i]), SOAP_NS_CLIENT,
			"GetConfig"))
			fail_msg("should match: %s", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (soap_action_matches(no[i], strlen(no[i]), SOAP_NS_CLIENT,
			"GetConfig"))
			fail_msg("should not match: %s", no[i]);
	assert_true(soap_action_matches(NULL, 0, SOAP_NS_CLIENT, "GetConfig"));
	/* Reporting actions have no service segment. */
	{
		static const char rep[] = "\"http://www.microsoft.com/"
					  "SoftwareDistribution/"
					  "ReportEventBatch\"";

		assert_true(soap_action_matches(rep, sizeof(rep) - 1,
		    SOAP_NS_REPORTING, "ReportEventBatch"));
		assert_false(soap_action_matches(rep, sizeof(rep) - 1,
		    SOAP_NS_REPORTING, "ReportEventBatch2"));
	}
	/* Only N bytes are read. */
	assert_true(
	    soap_action_matches("\"urn:x/Op\"garbage", 10, "urn:x", "Op"));
}

/* ------------------------------------------------------------------ */
/* S10 attack set                                                      */

static void
test_attack_dtd(void **state)
{
	static const char *const bodies[] = {
		/* XXE, local file */
		"<!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "
		"\"file:///etc/passwd\">]>" ENV_OPEN OP_OPEN
		"<v>&x;</v>" OP_CLOSE ENV_CLOSE,
		/* XXE, network: no listener needed, nothing may connect */
		"<!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "
		"\"http://127.0.0.1:9/x\">]>" ENV_OPEN OP_OPEN
		"<v>&x;</v>" OP_CLOSE ENV_CLOSE,
		/* external DTD */
		"<?xml version=\"1.0\"?><!DOCTYPE s:Envelope SYSTEM "
		"\"http://127.0.0.1:9/x.dtd\">" ENV_OPEN OP_OPEN OP_CLOSE
		    ENV_CLOSE,
		/* parameter entities */
		"<!DOCTYPE x [<!ENTITY % p SYSTEM \"http://127.0.0.1:9/p\"> "
		"%p;]>" ENV_OPEN OP_OPEN OP_CLOSE ENV_CLOSE,
		/* billion laughs */
		"<!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\">"
		"<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
		"<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
		"<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
		"<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">"
		"<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">"
		"<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">"
		"<!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">"
		"<!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">]>" ENV_OPEN
		    OP_OPEN "<v>&i;</v>" OP_CLOSE ENV_CLOSE,
		/* lower case, which XML would not even call a DOCTYPE */
		"<!doctype x>" ENV_OPEN OP_OPEN OP_CLOSE ENV_CLOSE,
		/* hidden in a comment or CDATA: refused anywhere */
		"<!-- <!DOCTYPE x> -->" ENV_OPEN OP_OPEN OP_CLOSE ENV_CLOSE,
		ENV_OPEN OP_OPEN
		"<v><![CDATA[<!DOCTYPE x>]]></v>" OP_CLOSE ENV_CLOSE,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		expect_fail_str(bodies[i], WSD_EINVAL,
		    SOAP_ERRC_CLIENT_MALFORMED, "DOCTYPE");
	/* Other DTD markup without a DOCTYPE. */
	expect_fail_str("<!ENTITY x \"y\">" ENV_OPEN OP_OPEN OP_CLOSE ENV_CLOSE,
	    WSD_EINVAL, SOAP_ERRC_CLIENT_MALFORMED, "DTD markup");
	/* An entity nobody declared is an error, not an empty string. */
	expect_fail_str(ENV_OPEN OP_OPEN "<v>&x;</v>" OP_CLOSE ENV_CLOSE,
	    WSD_EINVAL, SOAP_ERRC_CLIENT_MALFORMED, "well-formed");
	/* A UTF-7 declaration is ignored: "+ADw-!DOCTYPE" stays text. */
	expect_fail_str("<?xml version=\"1.0\" encoding=\"UTF-7\"?>"
			"+ADw-!DOCTYPE x+AD4-" ENV_OPEN OP_OPEN OP_CLOSE
			    ENV_CLOSE,
	    WSD_EINVAL, SOAP_ERRC_CLIENT_MALFORMED, "well-formed");
}

static void
test_attack_quadratic(void **state)
{
	/* 50 KB entity referenced 50,000 times: 2.5 GB if expanded. */
	char *body;
	size_t len;

	(void)state;
	body = build("<!DOCTYPE x [<!ENTITY a \"", "x", 50 * 1000,
	    "\">]>" ENV_OPEN OP_OPEN "<v>", "&a;", 50 * 1000,
	    "</v>" OP_CLOSE ENV_CLOSE, &len);
	expect_fail(body, len, WSD_EINVAL, SOAP_ERRC_CLIENT_MALFORMED,
	    "DOCTYPE");
	free(body);
}

static void
test_attack_depth(void **state)
{
	char *body;
	size_t len;

	(void)state;
	/* 100,000 deep. */
	body = build(ENV_OPEN OP_OPEN, "<a>", 100000, "x", "</a>", 100000,
	    OP_CLOSE ENV_CLOSE, &len);
	expect_fail(body, len, WSD_ETOOBIG, SOAP_ERRC_CLIENT_MALFORMED, "deep");
	free(body);
	/* Limit: Envelope, Body, Op and 61 more make 64. */
	body = build(ENV_OPEN OP_OPEN, "<a>", 61, "x", "</a>", 61,
	    OP_CLOSE ENV_CLOSE, &len);
	{
		struct soap_doc d;
		struct wsd_err e;

		assert_int_equal(timed_parse(body, len, &d, &e), 0);
		soap_doc_release(&d);
	}
	free(body);
	/* Limit + 1. */
	body = build(ENV_OPEN OP_OPEN, "<a>", 62, "x", "</a>", 62,
	    OP_CLOSE ENV_CLOSE, &len);
	expect_fail(body, len, WSD_ETOOBIG, SOAP_ERRC_CLIENT_MALFORMED, "deep");
	free(body);
}

static void
test_attack_attributes(void **state)
{
	struct soap_doc d;
	struct wsd_err e;
	struct sbuf sb;
	char *body;
	size_t len;

	(void)state;
	/* 10 MB attribute (over 64 KiB). */
	body = build(ENV_OPEN "<Op xmlns=\"urn:op\" a=\"", "x",
	    10 * 1024 * 1024, "\"/>", "", 0, ENV_CLOSE, &len);
	expect_fail(body, len, WSD_ETOOBIG, SOAP_ERRC_CLIENT_MALFORMED,
	    "attribute value");
	free(body);
	/* Exactly 64 KiB passes, one more byte does not. */
	body = build(ENV_OPEN "<Op xmlns=\"urn:op\" a=\"", "x",
	    WSD_MAX_XML_ATTR_LEN, "\"/>", "", 0, ENV_CLOSE, &len);
	assert_int_equal(timed_parse(body, len, &d, &e), 0);
	soap_doc_release(&d);
	free(body);
	body = build(ENV_OPEN "<Op xmlns=\"urn:op\" a=\"", "x",
	    WSD_MAX_XML_ATTR_LEN + 1, "\"/>", "", 0, ENV_CLOSE, &len);
	expect_fail(body, len, WSD_ETOOBIG, SOAP_ERRC_CLIENT_MALFORMED,
	    "attribute value");
	free(body);

	/* 100,000 attributes; then 64 (limit) and 65. */
	for (int round = 0; round < 3; round++) {
		int count = round == 0 ? 100000 : round == 1 ? 64 : 65;

		sbuf_init(&sb, 16 * 1024 * 1024);
		assert_int_equal(sbuf_adds(&sb,
				     ENV_OPEN "<Op xmlns=\"urn:op\""),
		    0);
		for (int i = 0; i < count; i++)
			assert_int_equal(sbuf_addf(&sb, " a%d=\"1\"", i), 0);
		assert_int_equal(sbuf_adds(&sb, "/>" ENV_CLOSE), 0);
		if (round == 1) {
			assert_int_equal(timed_parse(sb.sb_buf, sb.sb_len, &d,
					     &e),
			    0);
			soap_doc_release(&d);
		} else
			expect_fail(sb.sb_buf, sb.sb_len, WSD_ETOOBIG,
			    SOAP_ERRC_CLIENT_MALFORMED, "attributes");
		sbuf_release(&sb);
	}

	/* 100 namespace declarations; then 32 (limit, op's own counted) and
	 * 33. */
	for (int round = 0; round < 3; round++) {
		int count = round == 0 ? 100 : round == 1 ? 31 : 32;

		sbuf_init(&sb, 1024 * 1024);
		assert_int_equal(sbuf_adds(&sb,
				     ENV_OPEN "<Op xmlns=\"urn:op\""),
		    0);
		for (int i = 0; i < count; i++)
			assert_int_equal(sbuf_addf(&sb, " xmlns:p%d=\"urn:%d\"",
					     i, i),
			    0);
		assert_int_equal(sbuf_adds(&sb, "/>" ENV_CLOSE), 0);
		if (round == 1) {
			assert_int_equal(timed_parse(sb.sb_buf, sb.sb_len, &d,
					     &e),
			    0);
			soap_doc_release(&d);
		} else
			expect_fail(sb.sb_buf, sb.sb_len, WSD_ETOOBIG,
			    SOAP_ERRC_CLIENT_MALFORMED,
			    round == 0 ? "attributes" : "namespace");
		sbuf_release(&sb);
	}
}

static void
test_attack_text_and_nodes(void **state)
{
	struct soap_doc d;
	struct wsd_err e;
	struct sv v;
	char *body;
	size_t len;

	(void)state;
	/* Text: 1 MiB passes, 1 MiB + 1 does not. */
	body = build(ENV_OPEN OP_OPEN "<v>", "x", WSD_MAX_XML_TEXT, "</v>", "",
	    0, OP_CLOSE ENV_CLOSE, &len);
	assert_int_equal(timed_parse(body, len, &d, &e), 0);
	assert_int_equal(soap_get_str(soap_child(&d, soap_op(&d), "v"),
			     WSD_MAX_XML_TEXT, &v, &e),
	    0);
	assert_int_equal(v.n, WSD_MAX_XML_TEXT);
	assert_int_equal(soap_get_str(soap_child(&d, soap_op(&d), "v"),
			     WSD_MAX_XML_TEXT - 1, &v, &e),
	    WSD_ETOOBIG);
	soap_doc_release(&d);
	free(body);
	body = build(ENV_OPEN OP_OPEN "<v>", "x", WSD_MAX_XML_TEXT + 1, "</v>",
	    "", 0, OP_CLOSE ENV_CLOSE, &len);
	expect_fail(body, len, WSD_ETOOBIG, SOAP_ERRC_CLIENT_MALFORMED, "text");
	free(body);
	/* The same through a CDATA section. */
	body = build(ENV_OPEN OP_OPEN "<v><![CDATA[", "x", WSD_MAX_XML_TEXT + 1,
	    "]]></v>", "", 0, OP_CLOSE ENV_CLOSE, &len);
	expect_fail(body, len, WSD_ETOOBIG, SOAP_ERRC_CLIENT_MALFORMED, "text");
	free(body);
	/* Node budget: a flood of empty elements. */
	body = build(ENV_OPEN OP_OPEN, "<a/>", WSD_MAX_XML_NODES, "", "", 0,
	    OP_CLOSE ENV_CLOSE, &len);
	expect_fail(body, len, WSD_ETOOBIG, SOAP_ERRC_CLIENT_MALFORMED,
	    "too many");
	free(body);
}

static void
test_attack_bytes(void **state)
{
	static const char *const bad_utf8[] = {
		"\xc0\xaf",         /* overlong '/' */
		"\xe0\x80\xaf",     /* overlong */
		"\xed\xa0\x80",     /* surrogate U+D800 */
		"\xf4\x90\x80\x80", /* above U+10FFFF */
		"\xf5\x80\x80\x80", /* invalid lead byte */
		"\x80",             /* lone continuation */
		"\xe2\x82",         /* truncated */
		"\xef\xbf\xbe",     /* U+FFFE */
		"\xfe\xff",         /* UTF-16 BOM */
	};
	static const char nul[] =
	    ENV_OPEN OP_OPEN "<v>a\0b</v>" OP_CLOSE ENV_CLOSE;
	char body[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
		snprintf(body, sizeof(body),
		    ENV_OPEN OP_OPEN "<v>%s</v>" OP_CLOSE ENV_CLOSE,
		    bad_utf8[i]);
		expect_fail_str(body, WSD_EINVAL, SOAP_ERRC_CLIENT_MALFORMED,
		    "UTF-8");
	}
	expect_fail(nul, sizeof(nul) - 1, WSD_EINVAL,
	    SOAP_ERRC_CLIENT_MALFORMED, "NUL");
	/* UTF-16: every other byte is NUL. */
	expect_fail("\xff\xfe<\0s\0", 6, WSD_EINVAL, SOAP_ERRC_CLIENT_MALFORMED,
	    NULL);
	/* A control character is not XML. */
	expect_fail_str(ENV_OPEN OP_OPEN "<v>\x01</v>" OP_CLOSE ENV_CLOSE,
	    WSD_EINVAL, SOAP_ERRC_CLIENT_MALFORMED, NULL);
	expect_fail("", 0, WSD_EINVAL, SOAP_ERRC_CLIENT_MALFORMED, "empty");
	expect_fail(NULL, 0, WSD_EINVAL, SOAP_ERRC_CLIENT_MALFORMED, "empty");
	/* Not XML at all. */
	expect_fail_str("GetConfig please", WSD_EINVAL,
	    SOAP_ERRC_CLIENT_MALFORMED, NULL);
	/* Garbage after the envelope. */
	expect_fail_str(ENV_OPEN OP_OPEN OP_CLOSE ENV_CLOSE "x", WSD_EINVAL,
	    SOAP_ERRC_CLIENT_MALFORMED, "well-formed");
	/* An undeclared prefix is a namespace error. */
	expect_fail_str(ENV_OPEN "<x:Op/>" ENV_CLOSE, WSD_EINVAL,
	    SOAP_ERRC_CLIENT_MALFORMED, "namespace");
}

static void
test_body_over_ceiling(void **state)
{
	struct soap_doc d;
	struct wsd_err e;
	static const char tiny[] = ENV_OPEN OP_OPEN OP_CLOSE ENV_CLOSE;

	(void)state;
	/* The length is checked before a byte is read. */
	assert_int_equal(soap_parse(tiny, (size_t)WSD_MAX_BODY_CEILING + 1, &d,
			     &e),
	    WSD_ETOOBIG);
	assert_null(d.sd_xml);
	assert_int_equal(d.sd_fault, SOAP_ERRC_CLIENT_MALFORMED);
}

/* ------------------------------------------------------------------ */
/* Envelope shape                                                      */

static void
test_envelope_shape(void **state)
{
	struct soap_doc d;
	struct wsd_err e;

	(void)state;
	expect_fail_str("<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/"
			"soap-envelope\"><e:Body>" OP_OPEN OP_CLOSE
			"</e:Body></e:Envelope>",
	    WSD_EINVAL, SOAP_ERRC_VERSION_MISMATCH, "SOAP 1.2");
	expect_fail_str("<Envelope><Body>" OP_OPEN OP_CLOSE
			"</Body></Envelope>",
	    WSD_EINVAL, SOAP_ERRC_VERSION_MISMATCH, "namespace");
	expect_fail_str(OP_OPEN OP_CLOSE, WSD_EINVAL,
	    SOAP_ERRC_CLIENT_MALFORMED, "Envelope");
	expect_fail_str("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/"
			"soap/envelope/\"><s:Header/></s:Envelope>",
	    WSD_EINVAL, SOAP_ERRC_CLIENT_MALFORMED, "no SOAP Body");
	expect_fail_str(ENV_OPEN ENV_CLOSE, WSD_EINVAL,
	    SOAP_ERRC_CLIENT_MALFORMED, "empty SOAP Body");
	expect_fail_str(ENV_OPEN " \r\n\t " ENV_CLOSE, WSD_EINVAL,
	    SOAP_ERRC_CLIENT_MALFORMED, "empty SOAP Body");
	expect_fail_str(ENV_OPEN "text" OP_OPEN OP_CLOSE ENV_CLOSE, WSD_EINVAL,
	    SOAP_ERRC_CLIENT_MALFORMED, "text in Body");
	expect_fail_str(ENV_OPEN OP_OPEN OP_CLOSE "</s:Body>after"
						  "</s:Envelope>",
	    WSD_EINVAL, SOAP_ERRC_CLIENT_MALFORMED, "text in Envelope");
	expect_fail_str(ENV_OPEN OP_OPEN OP_CLOSE "</s:Body><x:More xmlns:x="
						  "\"urn:x\"/></s:Envelope>",
	    WSD_EINVAL, SOAP_ERRC_CLIENT_MALFORMED, "after Body");
	expect_fail_str(ENV_OPEN OP_OPEN OP_CLOSE
	    "</s:Body><s:Body>" OP_OPEN OP_CLOSE ENV_CLOSE,
	    WSD_EINVAL, SOAP_ERRC_CLIENT_MALFORMED, "after Body");
	/* Two operations: refused rather than picking one. */
	expect_fail_str(ENV_OPEN OP_OPEN OP_CLOSE
	    "<Op2 xmlns=\"urn:op\"/>" ENV_CLOSE,
	    WSD_EINVAL, SOAP_ERRC_CLIENT_MALFORMED, "more than one");
	/* Header after Body, unknown element before Body. */
	expect_fail_str("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/"
			"soap/envelope/\"><x:Y "
			"xmlns:x=\"urn:x\"/><s:Body>" OP_OPEN OP_CLOSE
			    ENV_CLOSE,
	    WSD_EINVAL, SOAP_ERRC_CLIENT_MALFORMED, "unexpected element");

	/* A Header is allowed and ignored... */
	assert_int_equal(
	    parse_str("<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/"
		      "soap/envelope/\">\n <soap:Header><h:T xmlns:h=\"urn:h\" "
		      "soap:mustUnderstand=\"0\">1</h:T><h:U xmlns:h=\"urn:h\" "
		      "soap:actor=\"urn:elsewhere\" soap:mustUnderstand=\"1\"/>"
		      "</soap:Header>\n <soap:Body>\n  " OP_OPEN OP_CLOSE
		      "\n </soap:Body>\n</soap:Envelope>\n",
		&d, &e),
	    0);
	assert_string_equal(d.sd_op_name, "Op");
	assert_string_equal(d.sd_op_ns, "urn:op");
	soap_doc_release(&d);
	/* ...unless it must be understood by us. */
	expect_fail_str("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/"
			"soap/envelope/\"><s:Header><h:T xmlns:h=\"urn:h\" "
			"s:mustUnderstand=\"1\"/></s:Header><s:Body>" OP_OPEN
			    OP_CLOSE ENV_CLOSE,
	    WSD_EINVAL, SOAP_ERRC_MUST_UNDERSTAND, "mandatory");

	/* Declaration, BOM, comments, PIs around a valid envelope. */
	assert_int_equal(parse_str("\xef\xbb\xbf<?xml version=\"1.0\" "
				   "encoding=\"utf-8\"?><!-- a --><?pi "
				   "x?>" ENV_OPEN OP_OPEN OP_CLOSE ENV_CLOSE
				   "<!-- b -->",
			     &d, &e),
	    0);
	soap_doc_release(&d);
	/* An operation without a namespace is the dispatcher's problem. */
	assert_int_equal(parse_str(ENV_OPEN "<Op/>" ENV_CLOSE, &d, &e), 0);
	assert_string_equal(d.sd_op_ns, "");
	soap_doc_release(&d);
	soap_doc_release(&d); /* idempotent */
}

/* ------------------------------------------------------------------ */
/* Accessors                                                           */

static void
test_text_forms(void **state)
{
	struct soap_doc d;
	struct wsd_err e;
	struct sv v;

	(void)state;
	assert_int_equal(parse_str(ENV_OPEN OP_OPEN
			     "<a>1<!-- split -->2<?pi?>3</a>"
			     "<b><![CDATA[<not> &markup;]]></b>"
			     "<c>&lt;&amp;&gt;&quot;&apos;&#xD;&#10;"
			     "&#x1F600;</c>"
			     "<d> keep  spaces </d><m>x<y/>z</m>"
			     "<o:q xmlns:o=\"urn:other\">1</o:q>"
			     "<q xmlns=\"\">2</q><q>3</q>" OP_CLOSE ENV_CLOSE,
			     &d, &e),
	    0);
	expect_str(soap_child(&d, soap_op(&d), "a"), "123");
	expect_str(soap_child(&d, soap_op(&d), "b"), "<not> &markup;");
	expect_str(soap_child(&d, soap_op(&d), "c"),
	    "<&>\"'\r\n\xf0\x9f\x98\x80");
	expect_str(soap_child(&d, soap_op(&d), "d"), " keep  spaces ");
	/* Mixed content is not a simple value. */
	assert_int_equal(soap_get_str(soap_child(&d, soap_op(&d), "m"), 100, &v,
			     &e),
	    WSD_EINVAL);
	/* Only the operation's namespace counts: the third <q> is found. */
	expect_str(soap_child(&d, soap_op(&d), "q"), "3");
	expect_str(soap_child_unq(soap_op(&d), "q"), "2");
	assert_null(soap_child(&d, soap_op(&d), "missing"));
	assert_int_equal(soap_get_str(soap_child(&d, soap_op(&d), "missing"),
			     10, &v, &e),
	    WSD_ENOTFOUND);
	/* NULL chains through. */
	assert_null(soap_child(&d, NULL, "a"));
	assert_null(soap_elem_first(NULL));
	assert_false(soap_is_nil(NULL));
	soap_doc_release(&d);
}

static void
test_integers(void **state)
{
	static const struct {
		const char *s;
		int rc;
		int32_t v;
	} c32[] = {
		{ "0", 0, 0 },
		{ "2147483647", 0, INT32_MAX },
		{ "-2147483648", 0, INT32_MIN },
		{ "2147483648", WSD_EINVAL, 0 },
		{ "-2147483649", WSD_EINVAL, 0 },
		{ "99999999999999999999999", WSD_EINVAL, 0 },
		{ " 42\n", 0, 42 },
		{ "+7", 0, 7 },
		{ "-0", 0, 0 },
		{ "0000000000000000000000000000012", 0, 12 },
		{ "", WSD_EINVAL, 0 },
		{ " ", WSD_EINVAL, 0 },
		{ "-", WSD_EINVAL, 0 },
		{ "1a", WSD_EINVAL, 0 },
		{ "0x10", WSD_EINVAL, 0 },
		{ "1 2", WSD_EINVAL, 0 },
		{ "1.0", WSD_EINVAL, 0 },
		{ "--1", WSD_EINVAL, 0 },
	};
	struct wsd_err e;
	int64_t v64;

	(void)state;
	for (size_t i = 0; i < sizeof(c32) / sizeof(c32[0]); i++) {
		int32_t v = 12345;
		int rc = soap_xs_i32(sv_from_cstr(c32[i].s), &v, &e);

		if (rc != c32[i].rc)
			fail_msg("\"%s\": rc %d", c32[i].s, rc);
		if (rc == 0 && v != c32[i].v)
			fail_msg("\"%s\": %d", c32[i].s, v);
	}
	assert_int_equal(soap_xs_i64(sv_from_cstr("9223372036854775807"), &v64,
			     &e),
	    0);
	assert_true(v64 == INT64_MAX);
	assert_int_equal(soap_xs_i64(sv_from_cstr("-9223372036854775808"), &v64,
			     &e),
	    0);
	assert_true(v64 == INT64_MIN);
	assert_int_equal(soap_xs_i64(sv_from_cstr("9223372036854775808"), &v64,
			     &e),
	    WSD_EINVAL);
	assert_int_equal(soap_xs_i64(sv_from_cstr("-9223372036854775809"), &v64,
			     &e),
	    WSD_EINVAL);
	assert_int_equal(soap_xs_i64(sv_from_cstr("18446744073709551617"), &v64,
			     &e),
	    WSD_EINVAL);
}

static void
test_booleans(void **state)
{
	static const char *const good_true[] = { "true", "1", " true\n" };
	static const char *const good_false[] = { "false", "0", "\tfalse" };
	static const char *const bad[] = { "TRUE", "True", "yes", "", "2", "t",
		"truex", "01" };
	struct wsd_err e;
	bool b;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		b = false;
		assert_int_equal(soap_xs_bool(sv_from_cstr(good_true[i]), &b,
				     &e),
		    0);
		assert_true(b);
		assert_int_equal(soap_xs_bool(sv_from_cstr(good_false[i]), &b,
				     &e),
		    0);
		assert_false(b);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(soap_xs_bool(sv_from_cstr(bad[i]), &b, &e),
		    WSD_EINVAL);
}

static void
test_datetimes(void **state)
{
	static const struct {
		const char *in;
		int rc;
		const char *out; /* as soap_datetime_format writes it */
	} c[] = {
		/* 0, 2, 3, 7 fraction digits (WUSP.md 9 #13) */
		{ "2026-10-04T15:03:36Z", 0, "2026-10-04T15:03:36Z" },
		{ "2026-10-04T13:17:07.59Z", 0, "2026-10-04T13:17:07.59Z" },
		{ "2026-10-04T15:20:47.397Z", 0, "2026-10-04T15:20:47.397Z" },
		{ "2026-10-04T16:03:35.9967236Z", 0,
		    "2026-10-04T16:03:35.9967236Z" },
		/* no 'Z' (spec example 21): taken as UTC */
		{ "2006-05-23T06:17:10.839", 0, "2006-05-23T06:17:10.839Z" },
		{ "2006-05-23T06:17:10", 0, "2006-05-23T06:17:10Z" },
		/* trailing zeros are trimmed on output */
		{ "2026-10-04T15:20:47.6800Z", 0, "2026-10-04T15:20:47.68Z" },
		{ "2026-10-04T15:20:47.0000000Z", 0, "2026-10-04T15:20:47Z" },
		/* offsets are converted */
		{ "2026-10-04T16:03:35+01:00", 0, "2026-10-04T15:03:35Z" },
		{ "2026-01-01T00:30:00-01:00", 0, "2026-01-01T01:30:00Z" },
		{ "2026-01-01T00:30:00+14:00", 0, "2025-12-31T10:30:00Z" },
		/* edges of .NET's DateTime; DriverVerDate uses the first */
		{ "0001-01-01T00:00:00Z", 0, "0001-01-01T00:00:00Z" },
		{ "9999-12-31T23:59:59.9999999Z", 0,
		    "9999-12-31T23:59:59.9999999Z" },
		{ "2024-02-29T00:00:00Z", 0, "2024-02-29T00:00:00Z" },
		{ "2000-02-29T12:00:00Z", 0, "2000-02-29T12:00:00Z" },
		{ " 2026-10-04T15:03:36Z\n", 0, "2026-10-04T15:03:36Z" },
		{ "2026-10-04T15:03:36.12345678Z", WSD_EINVAL, NULL },
		{ "2026-10-04T15:03:36.Z", WSD_EINVAL, NULL },
		{ "2026-02-29T00:00:00Z", WSD_EINVAL, NULL },
		{ "1900-02-29T00:00:00Z", WSD_EINVAL, NULL },
		{ "2026-04-31T00:00:00Z", WSD_EINVAL, NULL },
		{ "2026-13-01T00:00:00Z", WSD_EINVAL, NULL },
		{ "2026-00-01T00:00:00Z", WSD_EINVAL, NULL },
		{ "2026-10-04T24:00:00Z", WSD_EINVAL, NULL },
		{ "2026-10-04T23:60:00Z", WSD_EINVAL, NULL },
		{ "2026-10-04T23:59:60Z", WSD_EINVAL, NULL },
		{ "0000-01-01T00:00:00Z", WSD_EINVAL, NULL },
		{ "0001-01-01T00:00:00+01:00", WSD_EINVAL, NULL },
		{ "10000-01-01T00:00:00Z", WSD_EINVAL, NULL },
		{ "2026-10-04 15:03:36Z", WSD_EINVAL, NULL },
		{ "2026-10-04", WSD_EINVAL, NULL },
		{ "2026-10-04T15:03:36ZZ", WSD_EINVAL, NULL },
		{ "2026-10-04T15:03:36+15:00", WSD_EINVAL, NULL },
		{ "2026-10-04T15:03:36+14:30", WSD_EINVAL, NULL },
		{ "2026-10-04T15:03:36+01:60", WSD_EINVAL, NULL },
		{ "2026-10-04T15:03:36+0100", WSD_EINVAL, NULL },
		{ "2026-1-04T15:03:36Z", WSD_EINVAL, NULL },
		{ "", WSD_EINVAL, NULL },
	};
	char buf[SOAP_DATETIME_MAX];
	struct soap_datetime dt;
	struct wsd_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int rc = soap_datetime_parse(sv_from_cstr(c[i].in), &dt, &e);

		if (rc != c[i].rc)
			fail_msg("\"%s\": rc %d", c[i].in, rc);
		if (rc != 0)
			continue;
		assert_int_equal(soap_datetime_format(&dt, buf),
		    (int)strlen(c[i].out));
		assert_string_equal(buf, c[i].out);
	}
	/* Values the formatter cannot write. */
	dt.dt_sec = 0;
	dt.dt_frac = 10000000;
	assert_int_equal(soap_datetime_format(&dt, buf), -1);
	dt.dt_sec = 253402300800LL;
	dt.dt_frac = 0;
	assert_int_equal(soap_datetime_format(&dt, buf), -1);
	dt = soap_datetime_from_unix(utc(2026, 10, 4, 13, 17, 7), 590000000);
	assert_int_equal(soap_datetime_format(&dt, buf), 23);
	assert_string_equal(buf, "2026-10-04T13:17:07.59Z");
	dt = soap_datetime_from_unix(-1, 0);
	assert_int_equal(soap_datetime_format(&dt, buf), 20);
	assert_string_equal(buf, "1969-12-31T23:59:59Z");
}

static void
test_guids(void **state)
{
	static const char *const bad[] = {
		"e1da06a3-5601-43c9-bac3-52d5db70149",    /* 35 */
		"e1da06a3-5601-43c9-bac3-52d5db7014944",  /* 37 */
		"{e1da06a3-5601-43c9-bac3-52d5db701494}", /* braces */
		"e1da06a3560143c9bac352d5db701494",       /* no dashes */
		"e1da06a3-5601-43c9-bac3_52d5db701494",
		"g1da06a3-5601-43c9-bac3-52d5db701494",
		"e1da06a3-5601-43c9-bac3-52d5db70149\xc3\xa9",
		"",
	};
	struct wsd_err e;
	char g[37];

	(void)state;
	assert_int_equal(soap_xs_guid(sv_from_cstr(" E1DA06A3-5601-43C9-BAC3-"
						   "52D5DB701494 "),
			     g, &e),
	    0);
	assert_string_equal(g, "e1da06a3-5601-43c9-bac3-52d5db701494");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (soap_xs_guid(sv_from_cstr(bad[i]), g, &e) != WSD_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
}

static void
test_base64(void **state)
{
	unsigned char out[16];
	struct wsd_err e;
	size_t n = 99;

	(void)state;
	assert_int_equal(soap_b64_decode(sv_from_cstr("AAEC\n Aw=="), out,
			     sizeof(out), &n, &e),
	    0);
	assert_int_equal(n, 4);
	assert_int_equal(out[3], 3);
	assert_int_equal(soap_b64_decode(sv_from_cstr("AAECAwQ="), out, 5, &n,
			     &e),
	    0);
	assert_int_equal(n, 5);
	assert_int_equal(out[4], 4);
	assert_int_equal(soap_b64_decode(sv_from_cstr("aGVsbG8gd29ybGQ="), out,
			     sizeof(out), &n, &e),
	    0);
	assert_memory_equal(out, "hello world", 11);
	assert_int_equal(soap_b64_decode(sv_from_cstr(""), out, 0, &n, &e), 0);
	assert_int_equal(n, 0);
	/* One byte over MAX: nothing written. */
	memset(out, 0x5a, sizeof(out));
	assert_int_equal(soap_b64_decode(sv_from_cstr("AAECAwQF"), out, 5, &n,
			     &e),
	    WSD_ETOOBIG);
	assert_int_equal(out[0], 0x5a);
	assert_int_equal(soap_b64_decode(sv_from_cstr("AAE"), out, 16, &n, &e),
	    WSD_EINVAL);
	assert_int_equal(soap_b64_decode(sv_from_cstr("AA=A"), out, 16, &n, &e),
	    WSD_EINVAL);
	assert_int_equal(soap_b64_decode(sv_from_cstr("A==="), out, 16, &n, &e),
	    WSD_EINVAL);
	assert_int_equal(soap_b64_decode(sv_from_cstr("AA-_"), out, 16, &n, &e),
	    WSD_EINVAL);
	assert_int_equal(soap_b64_decode(sv_from_cstr("AAEC="), out, 16, &n,
			     &e),
	    WSD_EINVAL);
}

static void
test_arrays_and_nil(void **state)
{
	int32_t ids[4];
	struct soap_doc d;
	struct wsd_err e;
	size_t n;

	(void)state;
	assert_int_equal(
	    parse_str("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/"
		      "envelope/\" xmlns:i=\"http://www.w3.org/2001/"
		      "XMLSchema-instance\"><s:Body>" OP_OPEN
		      "<l><int>1</int><x>9</x><int> 2 </int><int>3</int></l>"
		      "<bad><int>1</int><int>2147483648</int></bad>"
		      "<n i:nil=\"true\"/><n2 i:nil=\"1\"/><n3 "
		      "i:nil=\"false\"/>"
		      "<n4 nil=\"true\"/>" OP_CLOSE ENV_CLOSE,
		&d, &e),
	    0);
	assert_int_equal(soap_array_i32(&d, soap_child(&d, soap_op(&d), "l"),
			     "int", ids, 4, &n, &e),
	    0);
	assert_int_equal(n, 3); /* <x> ignored */
	assert_int_equal(ids[1], 2);
	assert_int_equal(soap_array_i32(&d, soap_child(&d, soap_op(&d), "l"),
			     "int", ids, 3, &n, &e),
	    0);
	assert_int_equal(soap_array_i32(&d, soap_child(&d, soap_op(&d), "l"),
			     "int", ids, 2, &n, &e),
	    WSD_ETOOBIG);
	assert_int_equal(soap_array_i32(&d, soap_child(&d, soap_op(&d), "bad"),
			     "int", ids, 4, &n, &e),
	    WSD_EINVAL);
	assert_true(soap_is_nil(soap_child(&d, soap_op(&d), "n")));
	assert_true(soap_is_nil(soap_child(&d, soap_op(&d), "n2")));
	assert_false(soap_is_nil(soap_child(&d, soap_op(&d), "n3")));
	assert_false(soap_is_nil(soap_child(&d, soap_op(&d), "n4")));
	soap_doc_release(&d);
}

/* ------------------------------------------------------------------ */
/* Writer: whole captured responses rebuilt byte for byte              */

static void
expect_capture(const struct sbuf *sb, const char *rel)
{
	size_t len;
	char *want = slurp(rel, &len);

	if (sb->sb_len != len || memcmp(sb->sb_buf, want, len) != 0)
		fail_msg("%s differs:\nwant %s\ngot  %s", rel, want,
		    sbuf_str(sb));
	free(want);
}

static void
test_emit_getconfig_scan1(void **state)
{
	static const char *const props[][2] = {
		{ "MaxExtendedUpdatesPerRequest", "50" },
		{ "PackageServerShare",
		    "\\\\REDACTED2\\UpdateServicesPackages" },
		{ "ProtocolVersion", "3.2" },
		{ "IsInventoryRequired", "0" },
		{ "ClientReportingLevel", "2" },
	};
	struct soap_datetime lc;
	struct soap_writer w;
	struct wsd_err e;
	struct sbuf sb;

	(void)state;
	assert_int_equal(soap_datetime_parse(sv_from_cstr(
						 "2026-10-04T13:17:07.59Z"),
			     &lc, &e),
	    0);
	sbuf_init(&sb, 64 * 1024);
	assert_int_equal(soap_emit_begin(&w, &sb, SOAP_STYLE_WCF), 0);
	assert_int_equal(soap_emit_open_ns(&w, "GetConfigResponse",
			     SOAP_NS_CLIENT),
	    0);
	assert_int_equal(soap_emit_open(&w, "GetConfigResult") ||
		soap_emit_datetime(&w, "LastChange", &lc) ||
		soap_emit_bool(&w, "IsRegistrationRequired", true) ||
		soap_emit_open(&w, "AuthInfo") ||
		soap_emit_open(&w, "AuthPlugInInfo") ||
		soap_emit_str(&w, "PlugInID", "SimpleTargeting") ||
		soap_emit_str(&w, "ServiceUrl",
		    "SimpleAuthWebService/SimpleAuth.asmx") ||
		soap_emit_str(&w, "Parameter", "") ||
		soap_emit_close(&w, "AuthPlugInInfo") ||
		soap_emit_close(&w, "AuthInfo") ||
		soap_emit_open(&w, "Properties"),
	    0);
	for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
		assert_int_equal(soap_emit_open(&w, "ConfigurationProperty") ||
			soap_emit_str(&w, "Name", props[i][0]) ||
			soap_emit_str(&w, "Value", props[i][1]) ||
			soap_emit_close(&w, "ConfigurationProperty"),
		    0);
	assert_int_equal(soap_emit_close(&w, "Properties") ||
		soap_emit_close(&w, "GetConfigResult") ||
		soap_emit_close(&w, "GetConfigResponse") || soap_emit_end(&w),
	    0);
	expect_capture(&sb, "scan/000001/response.body");
	sbuf_release(&sb);
}

static void
test_emit_getauthorizationcookie_scan2(void **state)
{
	unsigned char cookie[496];
	struct soap_writer w;
	struct sbuf sb;

	(void)state;
	/* The capture's CookieData was sanitised to 'A's: zero bytes. */
	memset(cookie, 0, sizeof(cookie));
	sbuf_init(&sb, 64 * 1024);
	assert_int_equal(soap_emit_begin(&w, &sb, SOAP_STYLE_ASMX) ||
		soap_emit_open_ns(&w, "GetAuthorizationCookieResponse",
		    SOAP_NS_SIMPLEAUTH) ||
		soap_emit_open(&w, "GetAuthorizationCookieResult") ||
		soap_emit_str(&w, "PlugInId", "SimpleTargeting") ||
		soap_emit_b64(&w, "CookieData", cookie, sizeof(cookie)) ||
		soap_emit_close(&w, "GetAuthorizationCookieResult") ||
		soap_emit_close(&w, "GetAuthorizationCookieResponse") ||
		soap_emit_end(&w),
	    0);
	expect_capture(&sb, "scan/000002/response.body");
	sbuf_release(&sb);
}

static void
test_emit_getcookie_scan3(void **state)
{
	unsigned char data[224];
	struct soap_datetime exp;
	struct soap_writer w;
	struct wsd_err e;
	struct sbuf sb;

	(void)state;
	memset(data, 0, sizeof(data));
	assert_int_equal(soap_datetime_parse(sv_from_cstr("2026-10-04T16:03:35."
							  "9967236Z"),
			     &exp, &e),
	    0);
	sbuf_init(&sb, 64 * 1024);
	assert_int_equal(soap_emit_begin(&w, &sb, SOAP_STYLE_WCF) ||
		soap_emit_open_ns(&w, "GetCookieResponse", SOAP_NS_CLIENT) ||
		soap_emit_open(&w, "GetCookieResult") ||
		soap_emit_datetime(&w, "Expiration", &exp) ||
		soap_emit_b64(&w, "EncryptedData", data, sizeof(data)) ||
		soap_emit_close(&w, "GetCookieResult") ||
		soap_emit_close(&w, "GetCookieResponse") || soap_emit_end(&w),
	    0);
	expect_capture(&sb, "scan/000003/response.body");
	sbuf_release(&sb);
}

static void
test_emit_small_responses(void **state)
{
	struct soap_writer w;
	struct sbuf sb;

	(void)state;
	/* scan/000004: an empty response element. */
	sbuf_init(&sb, 4096);
	assert_int_equal(soap_emit_begin(&w, &sb, SOAP_STYLE_WCF) ||
		soap_emit_empty_ns(&w, "RegisterComputerResponse",
		    SOAP_NS_CLIENT) ||
		soap_emit_end(&w),
	    0);
	expect_capture(&sb, "scan/000004/response.body");
	sbuf_release(&sb);
	/* scan/000005 */
	sbuf_init(&sb, 4096);
	assert_int_equal(soap_emit_begin(&w, &sb, SOAP_STYLE_WCF) ||
		soap_emit_open_ns(&w, "StartCategoryScanResponse",
		    SOAP_NS_CLIENT) ||
		soap_emit_open(&w, "preferredCategoryIds") ||
		soap_emit_str(&w, "guid",
		    "dd78b8a1-0b20-45c1-add6-4da72e9364cf") ||
		soap_emit_close(&w, "preferredCategoryIds") ||
		soap_emit_close(&w, "StartCategoryScanResponse") ||
		soap_emit_end(&w),
	    0);
	expect_capture(&sb, "scan/000005/response.body");
	sbuf_release(&sb);
	/* flow/000016: Reporting, ASMX form. */
	sbuf_init(&sb, 4096);
	assert_int_equal(soap_emit_begin(&w, &sb, SOAP_STYLE_ASMX) ||
		soap_emit_open_ns(&w, "ReportEventBatchResponse",
		    SOAP_NS_REPORTING) ||
		soap_emit_bool(&w, "ReportEventBatchResult", true) ||
		soap_emit_close(&w, "ReportEventBatchResponse") ||
		soap_emit_end(&w),
	    0);
	expect_capture(&sb, "flow/000016/response.body");
	sbuf_release(&sb);
}

static void
test_emit_escaping(void **state)
{
	struct soap_writer w;
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb, 4096);
	assert_int_equal(soap_escape_text(&sb, "<a&b>\"'\r\n\t\xc3\xa9", 12),
	    0);
	assert_string_equal(sbuf_str(&sb),
	    "&lt;a&amp;b&gt;\"'&#xD;\n\t\xc3\xa9");
	sbuf_reset(&sb);
	assert_int_equal(soap_escape_attr(&sb, "<a&b>\"'\r\n\t", 10), 0);
	assert_string_equal(sbuf_str(&sb),
	    "&lt;a&amp;b&gt;&quot;'&#xD;&#xA;&#x9;");
	sbuf_reset(&sb);
	/* Not XML: refused, and the buffer is released, not half-written. */
	assert_int_equal(soap_escape_text(&sb, "ok\x01", 3), WSD_EINVAL);
	assert_null(sb.sb_buf);
	assert_int_equal(soap_escape_text(&sb, "ok\xc0\xaf", 4), WSD_EINVAL);
	assert_int_equal(soap_escape_text(&sb, "\xed\xa0\x80", 3), WSD_EINVAL);
	assert_int_equal(soap_escape_text(&sb, "\xef\xbf\xbf", 3), WSD_EINVAL);
	assert_int_equal(soap_escape_text(&sb, "a\0b", 3), WSD_EINVAL);
	/* Empty elements: WCF <x/>, ASMX <x />. */
	sbuf_init(&sb, 4096);
	assert_int_equal(soap_emit_begin(&w, &sb, SOAP_STYLE_ASMX) ||
		soap_emit_str(&w, "Message", "") ||
		soap_emit_b64(&w, "D", NULL, 0),
	    0);
	assert_non_null(strstr(sbuf_str(&sb), "<soap:Body><Message /><D />"));
	sbuf_release(&sb);
	sbuf_init(&sb, 4096);
	assert_int_equal(soap_emit_begin(&w, &sb, SOAP_STYLE_WCF) ||
		soap_emit_str(&w, "Message", "") ||
		soap_emit_i64(&w, "L", INT64_MIN) ||
		soap_emit_i32(&w, "I", -2145123272) ||
		soap_emit_bool(&w, "B", false),
	    0);
	assert_non_null(strstr(sbuf_str(&sb),
	    "<Message/><L>-9223372036854775808</L><I>-2145123272</I>"
	    "<B>false</B>"));
	sbuf_release(&sb);
	/* The cap holds: ETOOBIG, buffer released. */
	sbuf_init(&sb, 100);
	assert_int_equal(soap_emit_begin(&w, &sb, SOAP_STYLE_WCF), WSD_ETOOBIG);
	assert_null(sb.sb_buf);
	/* A date the formatter cannot write is refused. */
	{
		struct soap_datetime bad = { 0, 10000000 };

		sbuf_init(&sb, 4096);
		assert_int_equal(soap_emit_begin(&w, &sb, SOAP_STYLE_WCF), 0);
		assert_int_equal(soap_emit_datetime(&w, "T", &bad), WSD_EINVAL);
		assert_null(sb.sb_buf);
	}
}

static void
test_emit_parse_roundtrip(void **state)
{
	static const char text[] = "a<b>&c\"d'e\r\nf\tg \xe2\x82\xac ]]> end";
	struct soap_datetime dt = { 1791126194, 1234500 }, back;
	unsigned char raw[300], got[300];
	struct soap_writer w;
	struct soap_doc d;
	struct wsd_err e;
	struct sbuf sb;
	struct sv v;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(i * 7);
	sbuf_init(&sb, 64 * 1024);
	assert_int_equal(soap_emit_begin(&w, &sb, SOAP_STYLE_ASMX) ||
		soap_emit_open_ns(&w, "R", "urn:r") ||
		soap_emit_str(&w, "s", text) ||
		soap_emit_datetime(&w, "t", &dt) ||
		soap_emit_b64(&w, "b", raw, sizeof(raw)) ||
		soap_emit_close(&w, "R") || soap_emit_end(&w),
	    0);
	assert_int_equal(parse_str(sbuf_str(&sb), &d, &e), 0);
	assert_string_equal(d.sd_op_ns, "urn:r");
	assert_int_equal(soap_get_str(soap_child(&d, soap_op(&d), "s"), 100, &v,
			     &e),
	    0);
	assert_int_equal(v.n, sizeof(text) - 1);
	assert_memory_equal(v.p, text, v.n);
	assert_int_equal(soap_get_datetime(soap_child(&d, soap_op(&d), "t"),
			     &back, &e),
	    0);
	assert_true(back.dt_sec == dt.dt_sec && back.dt_frac == dt.dt_frac);
	assert_int_equal(soap_get_b64(soap_child(&d, soap_op(&d), "b"), got,
			     sizeof(got), &n, &e),
	    0);
	assert_int_equal(n, sizeof(raw));
	assert_memory_equal(got, raw, n);
	soap_doc_release(&d);
	sbuf_release(&sb);
}

/* ------------------------------------------------------------------ */
/* Faults                                                              */

static void
test_fault_client_invalid_parameters(void **state)
{
	/*
	 * What WS2025 sent for 401 InstalledNonLeafUpdateIDs (OBSERVED 24:
	 * s:Client, "Fault occurred", no faultactor, 442 bytes).
	 */
	static const char want[] =
	    "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">"
	    "<s:Body><s:Fault><faultcode>s:Client</faultcode>"
	    "<faultstring>Fault occurred</faultstring><detail>"
	    "<ErrorCode>InvalidParameters</ErrorCode>"
	    "<Message>parameters.InstalledNonLeafUpdateIDs</Message>"
	    "<ID>2587c8c1-4f54-4033-9f1a-3a195bf0495d</ID>"
	    "<Method>\"http://www.microsoft.com/SoftwareDistribution/Server/"
	    "ClientWebService/SyncUpdates\"</Method></detail></s:Fault>"
	    "</s:Body></s:Envelope>";
	struct sbuf sb;

	(void)state;
	assert_int_equal(sizeof(want) - 1, 442);
	sbuf_init(&sb, 8192);
	assert_int_equal(soap_fault_build_id(&sb, SOAP_STYLE_WCF,
			     SOAP_ERRC_INVALID_PARAMETERS,
			     "parameters.InstalledNonLeafUpdateIDs",
			     SOAP_NS_CLIENT "/SyncUpdates", NULL,
			     "2587c8c1-4f54-4033-9f1a-3a195bf0495d"),
	    0);
	assert_string_equal(sbuf_str(&sb), want);
	sbuf_release(&sb);
	/* An already quoted action is not quoted twice. */
	sbuf_init(&sb, 8192);
	assert_int_equal(soap_fault_build_id(&sb, SOAP_STYLE_WCF,
			     SOAP_ERRC_INVALID_PARAMETERS,
			     "parameters.InstalledNonLeafUpdateIDs",
			     "\"" SOAP_NS_CLIENT "/SyncUpdates\"", NULL,
			     "2587c8c1-4f54-4033-9f1a-3a195bf0495d"),
	    0);
	assert_string_equal(sbuf_str(&sb), want);
	sbuf_release(&sb);
}

static void
test_fault_asmx_config_changed(void **state)
{
	/* Spec example 22 without its line wrapping and .NET stack trace. */
	static const char want[] =
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
	    "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/"
	    "envelope/\" "
	    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
	    " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"><soap:Body>"
	    "<soap:Fault><faultcode>soap:Client</faultcode>"
	    "<faultstring>Fault occurred</faultstring>"
	    "<faultactor>http://hemantn-srv:8530/ReportingWebService/"
	    "ReportingWebService.asmx</faultactor><detail>"
	    "<ErrorCode>ConfigChanged</ErrorCode><Message />"
	    "<ID>f83d0ddb-2937-4d0a-a564-2d9a5cb906a4</ID>"
	    "<Method>\"http://www.microsoft.com/SoftwareDistribution/"
	    "ReportEventBatch\"</Method></detail></soap:Fault></soap:Body>"
	    "</soap:Envelope>";
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb, 8192);
	assert_int_equal(soap_fault_build_id(&sb, SOAP_STYLE_ASMX,
			     SOAP_ERRC_CONFIG_CHANGED, NULL,
			     SOAP_NS_REPORTING "/ReportEventBatch",
			     "http://hemantn-srv:8530/ReportingWebService/"
			     "ReportingWebService.asmx",
			     "f83d0ddb-2937-4d0a-a564-2d9a5cb906a4"),
	    0);
	assert_string_equal(sbuf_str(&sb), want);
	sbuf_release(&sb);
}

static void
test_fault_table(void **state)
{
	static const struct {
		enum soap_errc code;
		const char *name;
		const char *faultcode;
	} t[] = {
		{ SOAP_ERRC_INVALID_COOKIE, "InvalidCookie", "Client" },
		{ SOAP_ERRC_SERVER_CHANGED, "ServerChanged", "Client" },
		{ SOAP_ERRC_CONFIG_CHANGED, "ConfigChanged", "Client" },
		{ SOAP_ERRC_COOKIE_EXPIRED, "CookieExpired", "Client" },
		{ SOAP_ERRC_REGISTRATION_REQUIRED, "RegistrationRequired",
		    "Client" },
		{ SOAP_ERRC_REGISTRATION_NOT_REQUIRED,
		    "RegistrationNotRequired", "Client" },
		{ SOAP_ERRC_INVALID_AUTHORIZATION_COOKIE,
		    "InvalidAuthorizationCookie", "Client" },
		{ SOAP_ERRC_INVALID_PARAMETERS, "InvalidParameters", "Client" },
		{ SOAP_ERRC_INTERNAL_SERVER_ERROR, "InternalServerError",
		    "Server" },
		{ SOAP_ERRC_SERVER_BUSY, "ServerBusy", "Server" },
		{ SOAP_ERRC_FILE_LOCATION_CHANGED, "FileLocationChanged",
		    "Client" },
		{ SOAP_ERRC_INCOMPATIBLE_PROTOCOL_VERSION,
		    "IncompatibleProtocolVersion", "Client" },
		{ SOAP_ERRC_FILE_DIGESTS_MISSING, "FileDigestsMissing",
		    "Client" },
		{ SOAP_ERRC_UNKNOWN_OPERATION, NULL, "Client" },
		{ SOAP_ERRC_VERSION_MISMATCH, NULL, "VersionMismatch" },
		{ SOAP_ERRC_MUST_UNDERSTAND, NULL, "MustUnderstand" },
		{ SOAP_ERRC_CLIENT_MALFORMED, NULL, "Client" },
	};
	char want[256];
	struct sbuf sb;

	(void)state;
	assert_int_equal(sizeof(t) / sizeof(t[0]), SOAP_ERRC_COUNT - 1);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct soap_doc d;
		struct wsd_err e;
		const struct soap_elem *f, *det;
		struct sv v;

		if (t[i].name == NULL)
			assert_null(soap_errc_name(t[i].code));
		else
			assert_string_equal(soap_errc_name(t[i].code),
			    t[i].name);
		assert_string_equal(soap_errc_faultcode(t[i].code),
		    t[i].faultcode);
		assert_int_equal(soap_errc_http_status(t[i].code), 500);

		/* Each style parses back with the code where the client
		 * looks for it. */
		for (int st = 0; st < 2; st++) {
			sbuf_init(&sb, 8192);
			assert_int_equal(soap_fault_build(&sb,
					     st ? SOAP_STYLE_ASMX
						: SOAP_STYLE_WCF,
					     t[i].code, "m<1>", "urn:a/Op",
					     "http://127.0.0.1/x.asmx"),
			    0);
			assert_int_equal(parse_str(sbuf_str(&sb), &d, &e), 0);
			assert_string_equal(d.sd_op_name, "Fault");
			assert_string_equal(d.sd_op_ns, SOAP_NS_ENVELOPE);
			f = soap_op(&d);
			snprintf(want, sizeof(want), "%s:%s", st ? "soap" : "s",
			    t[i].faultcode);
			expect_str(soap_child_unq(f, "faultcode"), want);
			det = soap_child_unq(f, "detail");
			assert_non_null(det);
			if (t[i].name == NULL) {
				/* ASMX protocol faults: empty detail. */
				assert_null(soap_elem_first(det));
				assert_null(soap_child_unq(f, "faultactor"));
			} else {
				char id[37];

				expect_str(soap_child_unq(det, "ErrorCode"),
				    t[i].name);
				expect_str(soap_child_unq(det, "Message"),
				    "m<1>");
				assert_int_equal(
				    soap_get_guid(soap_child_unq(det, "ID"), id,
					&e),
				    0);
				expect_str(soap_child_unq(det, "Method"),
				    "\"urn:a/Op\"");
				expect_str(soap_child_unq(f, "faultactor"),
				    "http://127.0.0.1/x.asmx");
				/* Order: ErrorCode, Message, ID, Method. */
				assert_string_equal(soap_elem_name(
							soap_elem_first(det)),
				    "ErrorCode");
			}
			assert_int_equal(soap_get_str(soap_child_unq(f,
							  "faultstring"),
					     1000, &v, &e),
			    0);
			soap_doc_release(&d);
			sbuf_release(&sb);
		}
	}
	/* Not a fault. */
	sbuf_init(&sb, 8192);
	assert_int_equal(soap_fault_build(&sb, SOAP_STYLE_WCF, SOAP_ERRC_NONE,
			     NULL, NULL, NULL),
	    WSD_EINTERNAL);
	assert_null(sb.sb_buf);
	assert_null(soap_errc_name(SOAP_ERRC_COUNT));
}

static void
test_fault_protocol_texts(void **state)
{
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb, 8192);
	assert_int_equal(soap_fault_build_id(&sb, SOAP_STYLE_ASMX,
			     SOAP_ERRC_UNKNOWN_OPERATION,
			     SOAP_NS_CLIENT "/GetConfig2", NULL, NULL,
			     "00000000-0000-0000-0000-000000000000"),
	    0);
	assert_non_null(strstr(sbuf_str(&sb),
	    "<soap:Fault><faultcode>soap:Client</faultcode><faultstring>Server "
	    "did not recognize the value of HTTP Header SOAPAction: "
	    "http://www.microsoft.com/SoftwareDistribution/Server/"
	    "ClientWebService/GetConfig2.</faultstring><detail "
	    "/></soap:Fault>"));
	sbuf_release(&sb);
	sbuf_init(&sb, 8192);
	assert_int_equal(soap_fault_build_id(&sb, SOAP_STYLE_WCF,
			     SOAP_ERRC_VERSION_MISMATCH, NULL, NULL, NULL,
			     "00000000-0000-0000-0000-000000000000"),
	    0);
	assert_non_null(strstr(sbuf_str(&sb),
	    "<faultcode>s:VersionMismatch</faultcode><faultstring>Possible "
	    "SOAP version mismatch: Envelope namespace http://www.w3.org/2003/"
	    "05/soap-envelope was unexpected. Expecting http://schemas."
	    "xmlsoap.org/soap/envelope/.</faultstring><detail/>"));
	sbuf_release(&sb);
	/* Client-supplied text is escaped. */
	sbuf_init(&sb, 8192);
	assert_int_equal(soap_fault_build_id(&sb, SOAP_STYLE_WCF,
			     SOAP_ERRC_CLIENT_MALFORMED, "<x>&", NULL, NULL,
			     "00000000-0000-0000-0000-000000000000"),
	    0);
	assert_non_null(strstr(sbuf_str(&sb),
	    "<faultstring>Server was unable to read request. ---&gt; "
	    "&lt;x&gt;&amp;</faultstring>"));
	sbuf_release(&sb);
	/* A fault ID is a fresh GUID each time. */
	{
		struct sbuf a, b;

		sbuf_init(&a, 8192);
		sbuf_init(&b, 8192);
		assert_int_equal(soap_fault_build(&a, SOAP_STYLE_WCF,
				     SOAP_ERRC_INVALID_COOKIE, NULL, NULL,
				     NULL),
		    0);
		assert_int_equal(soap_fault_build(&b, SOAP_STYLE_WCF,
				     SOAP_ERRC_INVALID_COOKIE, NULL, NULL,
				     NULL),
		    0);
		assert_string_not_equal(sbuf_str(&a), sbuf_str(&b));
		sbuf_release(&a);
		sbuf_release(&b);
	}
	assert_int_equal(soap_errc_from_wsd(WSD_EINVAL),
	    SOAP_ERRC_INVALID_PARAMETERS);
	assert_int_equal(soap_errc_from_wsd(WSD_ETOOBIG),
	    SOAP_ERRC_INVALID_PARAMETERS);
	assert_int_equal(soap_errc_from_wsd(WSD_EAGAIN), SOAP_ERRC_SERVER_BUSY);
	assert_int_equal(soap_errc_from_wsd(WSD_EIO),
	    SOAP_ERRC_INTERNAL_SERVER_ERROR);
	assert_int_equal(soap_errc_from_wsd(WSD_ENOMEM),
	    SOAP_ERRC_INTERNAL_SERVER_ERROR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_every_capture),
		cmocka_unit_test(test_capture_fields_handshake),
		cmocka_unit_test(test_capture_fields_sync),
		cmocka_unit_test(test_capture_installed_list_cap),
		cmocka_unit_test(test_capture_fields_reporting),
		cmocka_unit_test(test_soapaction),
		cmocka_unit_test(test_attack_dtd),
		cmocka_unit_test(test_attack_quadratic),
		cmocka_unit_test(test_attack_depth),
		cmocka_unit_test(test_attack_attributes),
		cmocka_unit_test(test_attack_text_and_nodes),
		cmocka_unit_test(test_attack_bytes),
		cmocka_unit_test(test_body_over_ceiling),
		cmocka_unit_test(test_envelope_shape),
		cmocka_unit_test(test_text_forms),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_datetimes),
		cmocka_unit_test(test_guids),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_arrays_and_nil),
		cmocka_unit_test(test_emit_getconfig_scan1),
		cmocka_unit_test(test_emit_getauthorizationcookie_scan2),
		cmocka_unit_test(test_emit_getcookie_scan3),
		cmocka_unit_test(test_emit_small_responses),
		cmocka_unit_test(test_emit_escaping),
		cmocka_unit_test(test_emit_parse_roundtrip),
		cmocka_unit_test(test_fault_client_invalid_parameters),
		cmocka_unit_test(test_fault_asmx_config_changed),
		cmocka_unit_test(test_fault_table),
		cmocka_unit_test(test_fault_protocol_texts),
	};

	soap_global_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
