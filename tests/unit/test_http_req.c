#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_req.h"
#include "http/router.h"
#include "http/static_file.h"

static struct http_req rq;

static int
parse(const char *s, int *status)
{
	*status = 0;
	return http_req_parse(s, strlen(s), &rq, status);
}

static void
test_native_client_head(void **state)
{
	/* Headers of a real Windows 11 GetConfig (vectors scan/000001). */
	const char *h =
	    "POST /ClientWebService/client.asmx HTTP/1.1\r\n"
	    "Cache-Control: no-cache\r\nConnection: Keep-Alive\r\n"
	    "Pragma: no-cache\r\nContent-Type: text/xml; charset=utf-8\r\n"
	    "Accept-Encoding: xpress\r\n"
	    "User-Agent: Windows-Update-Agent/1507.2601.30012.0 "
	    "Client-Protocol/2.90\r\n"
	    "SOAPAction: \"http://www.microsoft.com/SoftwareDistribution/"
	    "Server/ClientWebService/GetConfig\"\r\n"
	    "MS-CV: me4WAo5lqUCG/53V.1.0.0.2.1\r\n"
	    "Content-Length: 234\r\nHost: 192.0.2.1:8530\r\n\r\nBODY";
	int st;

	(void)state;
	assert_int_equal(parse(h, &st), 1);
	assert_int_equal(rq.rq_method, HTTP_POST);
	assert_true(rq.rq_has_length);
	assert_true(rq.rq_content_length == 234);
	assert_true(rq.rq_keepalive);
	assert_int_equal((int)rq.rq_head_len, (int)(strlen(h) - 4));
	assert_true(sv_eq_cstr_ci(rq.rq_host, "192.0.2.1:8530"));
	assert_non_null(http_req_header(&rq, "soapaction"));
}

static void
test_incomplete(void **state)
{
	int st;

	(void)state;
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\n", &st), 0);
	assert_int_equal(parse("", &st), 0);
}

static void
test_rejects(void **state)
{
	static const struct {
		const char *req;
		int status;
	} cases[] = {
		/* Smuggling (RFC 9112 6.1, S21). */
		{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
		  "Content-Length: 5\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n",
		    400 },
		{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
		    400 },
		{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: "
		  "99999999999999999999999\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, "
		  "chunked\r\n\r\n", 501 },
		{ "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n", 400 },
		{ "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
		/* Syntax. */
		{ "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: x\r\nX: a\nb\r\n\r\n", 400 },
		{ "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
		{ "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400 },
		{ "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505 },
		{ "GET / HTTX/1.1\r\nHost: x\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\n\r\n", 400 }, /* no Host */
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
		{ "G\x01T / HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
		{ "\x16\x03\x01junk\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n", 417 },
	};
	int st;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse(cases[i].req, &st);

		if (r != -1 || st != cases[i].status)
			fail_msg("case %zu: got %d/%d, want -1/%d", i, r, st,
			    cases[i].status);
	}
}

static void
test_embedded_nul(void **state)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n";
	int st = 0;

	(void)state;
	assert_int_equal(http_req_parse(req, sizeof(req) - 1, &rq, &st), -1);
	assert_int_equal(st, 400);
}

static void
test_limits(void **state)
{
	char *big = malloc(WSD_MAX_HEADER_BYTES + 64);
	size_t n;
	int st = 0;

	(void)state;
	assert_non_null(big);
	/* 101 headers: 431. 100 is fine. */
	for (int count = 100; count <= 101; count++) {
		size_t cap = WSD_MAX_HEADER_BYTES + 64;

		n = (size_t)snprintf(big, cap, "GET / HTTP/1.1\r\n");
		for (int i = 0; i < count - 1; i++)
			n += (size_t)snprintf(big + n, cap - n, "X%d: y\r\n", i);
		n += (size_t)snprintf(big + n, cap - n, "Host: x\r\n\r\n");
		st = 0;
		assert_int_equal(http_req_parse(big, n, &rq, &st),
		    count == 100 ? 1 : -1);
		if (count == 101)
			assert_int_equal(st, 431);
	}
	/* A full buffer with no end of head: 431, or 414 for a long line. */
	memset(big, 'a', WSD_MAX_HEADER_BYTES);
	memcpy(big, "GET /", 5);
	assert_int_equal(http_req_parse(big, WSD_MAX_HEADER_BYTES, &rq, &st),
	    -1);
	assert_int_equal(st, 414);
	n = (size_t)snprintf(big, 64, "GET / HTTP/1.1\r\nX: ");
	memset(big + n, 'a', WSD_MAX_HEADER_BYTES - n);
	assert_int_equal(http_req_parse(big, WSD_MAX_HEADER_BYTES, &rq, &st),
	    -1);
	assert_int_equal(st, 431);
	free(big);
}

static void
test_connection_semantics(void **state)
{
	int st;

	(void)state;
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: "
			       "close\r\n\r\n", &st), 1);
	assert_false(rq.rq_keepalive);
	assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &st), 1);
	assert_false(rq.rq_keepalive);
	assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n"
			       "\r\n", &st), 1);
	assert_true(rq.rq_keepalive);
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: x\r\nExpect: "
			       "100-Continue\r\nContent-Length: 3\r\n\r\n", &st),
	    1);
	assert_true(rq.rq_expect_continue);
	/* Leading blank line tolerated (RFC 9112 2.2). */
	assert_int_equal(parse("\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", &st),
	    1);
}

static void
test_chunked(void **state)
{
	static const char body[] = "4;ext=1\r\nWiki\r\n5\r\npedia\r\n"
				   "0\r\nTrailer: x\r\n\r\nNEXT";
	struct http_chunked ck;
	char out[64];
	size_t total = 0;
	bool done = false;

	(void)state;
	http_chunked_init(&ck);
	/* Feed one byte at a time: the decoder must carry its state. */
	for (size_t i = 0; i < sizeof(body) - 1 && !done; i++) {
		size_t outn = sizeof(out) - total;
		long r = http_chunked_decode(&ck, body + i, 1, out + total,
		    &outn, &done);

		assert_int_equal(r, 1);
		total += outn;
	}
	assert_true(done);
	assert_int_equal((int)total, 9);
	assert_memory_equal(out, "Wikipedia", 9);

	static const char *const bad[] = { "x\r\n", "4\r\nWikiXX", "\r\n",
		"ffffffffffffffff\r\n", "4\nWiki\r\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t outn = sizeof(out);

		http_chunked_init(&ck);
		assert_int_equal(http_chunked_decode(&ck, bad[i],
				     strlen(bad[i]), out, &outn, &done), -1);
	}
}

static void
test_router(void **state)
{
	static const struct {
		const char *target;
		int status;
		enum vroot v;
		const char *rest;
	} cases[] = {
		{ "/ClientWebService/client.asmx", 0, VROOT_CLIENT, "/client.asmx" },
		{ "/clientwebservice/Client.asmx", 0, VROOT_CLIENT, "/Client.asmx" },
		{ "//DssAuthWebService/DssAuthWebService.asmx", 0, VROOT_DSSAUTH,
		    "/DssAuthWebService.asmx" },
		{ "/Content/AB/X.cab?x=1", 0, VROOT_CONTENT, "/AB/X.cab" },
		{ "http://host:8530/Content/AB", 0, VROOT_CONTENT, "/AB" },
		{ "/SelfUpdate", 0, VROOT_SELFUPDATE, "" },
		{ "/ApiRemoting30/WebService.asmx", 0, VROOT_APIREMOTING,
		    "/WebService.asmx" },
		{ "/ClientWebServiceX/a", 0, VROOT_NONE, NULL },
		{ "/foo", 0, VROOT_NONE, NULL },
		{ "/Content/../wsusd.conf", 400, VROOT_NONE, NULL },
		{ "/Content/%2e%2e/wsusd.conf", 400, VROOT_NONE, NULL },
		{ "/Content/..%2fwsusd.conf", 400, VROOT_NONE, NULL },
		{ "/Content/AB/..%5c..%5cx", 400, VROOT_NONE, NULL },
		{ "/Content/AB/%00", 400, VROOT_NONE, NULL },
		{ "/Content/%c0%ae%c0%ae/x", 400, VROOT_NONE, NULL },
		{ "/Content/AB/%2", 400, VROOT_NONE, NULL },
		{ "/Content/AB/%zz", 400, VROOT_NONE, NULL },
		{ "/Content/./AB", 400, VROOT_NONE, NULL },
		{ "\\Content\\..\\x", 400, VROOT_NONE, NULL },
		{ "*", 400, VROOT_NONE, NULL },
		{ "ftp://x/Content/", 400, VROOT_NONE, NULL },
	};
	char buf[WSD_MAX_REQUEST_LINE + 1];
	struct route r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int st = router_match(sv_from_cstr(cases[i].target), buf,
		    sizeof(buf), &r);

		if (st != cases[i].status)
			fail_msg("%s: status %d", cases[i].target, st);
		if (st != 0)
			continue;
		if (r.rt_vroot != cases[i].v)
			fail_msg("%s: vroot %d", cases[i].target, r.rt_vroot);
		if (cases[i].rest != NULL &&
		    !sv_eq(r.rt_rest, sv_from_cstr(cases[i].rest)))
			fail_msg("%s: rest %.*s", cases[i].target,
			    (int)r.rt_rest.n, r.rt_rest.p);
	}
}

static void
test_content_canon(void **state)
{
	char out[80];
	const char *sha1 = "/ab/2f88df42da48aa980fb748d13baa2de49cd154ab.EXE";

	(void)state;
	assert_int_equal(static_file_canon(sv_from_cstr(sha1), out,
			     sizeof(out)), 0);
	assert_string_equal(out,
	    "AB/2F88DF42DA48AA980FB748D13BAA2DE49CD154AB.exe");
	assert_int_equal(static_file_canon(sv_from_cstr(
			     "/AB/2F88DF42DA48AA980FB748D13BAA2DE49CD154AB"),
			     out, sizeof(out)), 0);
	assert_int_equal(static_file_canon(sv_from_cstr("/AB/"
			     "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
			     "0123456789ABCDEF.cab"), out, sizeof(out)), 0);
	static const char *const bad[] = {
		"/AB/2F88DF42DA48AA980FB748D13BAA2DE49CD154A.exe", /* 39 */
		"/AB/2F88DF42DA48AA980FB748D13BAA2DE49CD154ABC.exe", /* 41 */
		"/ABC/2F88DF42DA48AA980FB748D13BAA2DE49CD154AB.exe",
		"/AB/2F88DF42DA48AA980FB748D13BAA2DE49CD154AB.",
		"/AB/2F88DF42DA48AA980FB748D13BAA2DE49CD154AB.toolongext",
		"/AB/2F88DF42DA48AA980FB748D13BAA2DE49CD154AB.e-e",
		"/AB/2F88DF42DA48AA980FB748D13BAA2DE49CD154AB/x",
		"/G1/2F88DF42DA48AA980FB748D13BAA2DE49CD154AB.exe",
		"/AB/wsusd.conf",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (static_file_canon(sv_from_cstr(bad[i]), out, sizeof(out)) !=
		    -1)
			fail_msg("accepted %s", bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_native_client_head),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_connection_semantics),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_router),
		cmocka_unit_test(test_content_canon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
