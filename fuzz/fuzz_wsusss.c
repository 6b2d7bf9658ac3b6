/*
 * Fuzz target for the MS-WSUSSS operations a downstream server calls on
 * us (issue #8 item 4): the request body of a POST to DssAuthWebService
 * or ServerSyncWebService, through wsusss_handle, which parses it
 * (soap/) and runs the operation it names against a real store.
 *
 * Once per process a temporary data directory is made with a database
 * (store_open) holding a little catalog: one Product category, one
 * Software update in it approved for Install to "All Computers" (so
 * GetRevisionIdList, GetUpdateData, GetRelatedRevisionsForUpdates and
 * GetDeployments have something to return) and one downstream server
 * (DSS below, "ds1.corp.example", as GetAuthorizationCookie records it).
 * The cookie keys are loaded (created) there and a runtime and handler
 * context like a worker's are built around them, as fuzz_wusp.c does.
 * The directory is removed at exit. GetAuthorizationCookie writes to the
 * database (the DSS row), so an input's path may depend on earlier ones;
 * the catalog rows never change.
 *
 * Input: one mode byte, then the body.
 *
 *	bit 0		root: 0 ServerSyncWebService, 1 DssAuthWebService
 *	bit 1		the caller is authenticated as CORP\DS1$ (as the
 *			Negotiate or certificate gate would say), so
 *			GetCookie compares it with the registered FQDN;
 *			anonymous otherwise
 *	bit 2		splice: the markers below are replaced in the body
 *			by genuine values, so operations get past the
 *			cookie checks and run to the end
 *	bits 3-7	ignored
 *
 * Markers (splice mode only; verbatim otherwise):
 *	@COOKIE@	a DSS Cookie's EncryptedData (COOKIE_DSS) sealed for
 *			DSS and this database, protocol 1.20
 *	@AUTHCOOKIE@	a DSS authorization cookie's CookieData
 *			(COOKIE_DSS_AUTHORIZATION) for DSS
 * Both are sealed once, at start, valid for four hours: the same input
 * gives the same body for the whole run.
 *
 * Seeds (corpus/wsusss): the requests of tests/integration/test_wsusss.py
 * and the specification's examples (tests/integration/data/wsusss-spec),
 * each in an ASMX envelope, unspliced (faults: InvalidCookie,
 * InvalidAuthorizationCookie) and spliced (answers). WSUSSS_FUZZ_VERBOSE
 * in the environment prints each answer's status and body start.
 *
 * Traps when wsusss_handle returns < 0 or WSUSSS_NOT_SERVED (every
 * operation is served; nothing else may come back), or the answer is not
 * one memory segment of a head with status 200 or 500 and a
 * Content-Length equal to the body's length, or the body does not start
 * as an ASMX envelope ("<?xml version=\"1.0\"").
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "store/store_sss.h"
#include "wsusss/wsusss.h"

#include "fuzz_site.h"

#define DSS "d55e1f00-0000-4000-8000-0000000000d5"

static struct fuzz_site site;
static char dss_cookie[COOKIE_B64_BUFSZ];
static char auth_cookie[COOKIE_B64_BUFSZ];
static int verbose = -1;

static const struct {
	enum vroot v;
	const char *path;
} roots[2] = {
	{ VROOT_SERVERSYNC, "/ServerSyncWebService/ServerSyncWebService.asmx" },
	{ VROOT_DSSAUTH, "/DssAuthWebService/DssAuthWebService.asmx" },
};

static bool
catalog(struct store *st, struct wsd_err *err)
{
	return fuzz_site_base_catalog(st, err) &&
	    store_sss_dss_seen(st, DSS, "ds1.corp.example", err) == 0;
}

static void
setup(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	fuzz_site_open(&site, "wsusss", catalog);
	fuzz_site_seal(&site, DSS, 0x00010014 /* 1.20 */, 4 * 3600,
	    COOKIE_DSS, dss_cookie);
	fuzz_site_seal(&site, DSS, 0x00010014, 4 * 3600,
	    COOKIE_DSS_AUTHORIZATION, auth_cookie);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_mark marks[] = {
		{ "@COOKIE@", dss_cookie },
		{ "@AUTHCOOKIE@", auth_cookie },
	};
	static const char *const envelope[] = { "<?xml version=\"1.0\"",
		NULL };
	static char identity[] = "CORP\\DS1$";
	static char anonymous[] = "";
	char auth_hdr[512] = "";
	struct handler_ctx hx;
	const char *body;
	char *copy = NULL;
	size_t n;

	setup();
	if (verbose < 0)
		verbose = getenv("WSUSSS_FUZZ_VERBOSE") != NULL;
	if (size < 1)
		return 0;
	n = size - 1;
	body = (const char *)data + 1;
	if (data[0] & 4)
		body = copy = fuzz_splice(body, &n, marks, 2);
	fuzz_site_ctx(&site, &hx, roots[data[0] & 1].v,
	    roots[data[0] & 1].path, body, n);
	hx.hx_auth_hdr = auth_hdr;
	hx.hx_identity = data[0] & 2 ? identity : anonymous;

	fuzz_site_serve(&site, &hx, wsusss_handle, WSUSSS_NOT_SERVED,
	    envelope, "fuzz_wsusss", verbose, 800);
	free(copy);
	return 0;
}
