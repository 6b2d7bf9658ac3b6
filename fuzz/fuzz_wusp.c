/*
 * Fuzz target for the MS-WUSP operations (issue #5 item 2): the request
 * body of a POST to a SOAP root, through wusp_handle, which parses it
 * (soap/) and runs the operation it names against a real store.
 *
 * Once per process a temporary data directory is made with a database
 * (store_open) holding a little catalog: one computer (COMPUTER below,
 * "fuzz.example.test"), one Product category, and one Software update
 * and one Driver update in it (the driver requires the product; its
 * three d.WindowsDriverMetaData entries match devices of the driverpass
 * seeds), both approved for Install to "All Computers", so SyncUpdates
 * (both passes, driver matching included) and GetExtendedUpdateInfo
 * have something to return. The cookie keys are
 * loaded (created) there, and a runtime and handler context like a
 * worker's are built around them. The directory is removed at exit. The
 * database is shared by all inputs and operations write to it
 * (RegisterComputer, ReportEventBatch), so an input's path may depend on
 * the ones before it; a crash found that way still reproduces from the
 * one input in nearly every case, as the catalog rows never change.
 *
 * Input: one mode byte, then the body.
 *
 *	bits 0-1	root: 0 ClientWebService, 1 SimpleAuthWebService,
 *			2 ReportingWebService, 3 ClientWebService
 *	bit 2		splice: the markers below are replaced in the body
 *			by genuine values, so operations get past the
 *			cookie and lastChange checks and run to the end
 *	bits 3-7	ignored
 *
 * Markers (splice mode only; verbatim otherwise):
 *	@COOKIE@	a client cookie (EncryptedData) sealed with the loaded
 *			keys for COMPUTER and this database, protocol 2.90
 *	@AUTHCOOKIE@	an authorization cookie (CookieData) for COMPUTER
 *	@LASTCHANGE@	the database's lastChange (GetCookie compares it)
 * The cookies are sealed once, at start, valid for a week: the same
 * input gives the same body for the whole run.
 *
 * Seeds (corpus/wusp): each captured request body of the protocol vectors
 * (native-capture-wsus-rs scan/ and flow/) with its root's byte, and a
 * spliced copy (bit 2 set) whose EncryptedData, CookieData and lastChange
 * are the markers and whose ReportEventBatch TargetID Sid is COMPUTER
 * (a cookie speaks for one computer only), so every operation of the
 * captures answers 200 there. WUSP_FUZZ_VERBOSE in the environment
 * prints each answer's status and body start on stderr.
 *
 * Traps when wusp_handle returns < 0 (it must always build an answer),
 * or the answer is not one memory segment of a head with status 200 or
 * 500 and a Content-Length equal to the body's length, or the body does
 * not start as an envelope ("<s:Envelope" for WCF, "<?xml version=\"1.0\""
 * for ASMX).
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sbuf.h"
#include "config/config.h"
#include "cookie/cookie.h"
#include "http/handler.h"
#include "http/http_req.h"
#include "http/http_resp.h"
#include "http/http_server.h"
#include "store/store.h"
#include "wusp/wusp.h"

#define COMPUTER "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
#define PRODUCT  "5e1f6a10-0000-4000-8000-00000000f001"
#define UPDATE   "5e1f6a10-0000-4000-8000-00000000f002"
#define DRIVER   "5e1f6a10-0000-4000-8000-00000000f003"

/* Spliced bodies never grow past this; the rest is copied verbatim. */
#define SPLICE_MAX (1024 * 1024)

static char dir[] = "/tmp/wsusd-fuzz-wusp-XXXXXX";
static bool have_dir;
static struct store *store;
static struct srv_runtime rt;
static struct http_req req;
static char client_cookie[COOKIE_B64_BUFSZ];
static char auth_cookie[COOKIE_B64_BUFSZ];
static char last_change[64];
static int verbose = -1;

static const struct {
	enum vroot v;
	const char *path;
} roots[4] = {
	{ VROOT_CLIENT, "/ClientWebService/client.asmx" },
	{ VROOT_SIMPLEAUTH, "/SimpleAuthWebService/SimpleAuth.asmx" },
	{ VROOT_REPORTING, "/ReportingWebService/ReportingWebService.asmx" },
	{ VROOT_CLIENT, "/ClientWebService/client.asmx" },
};

/* Removes PATH and what is under it, DEPTH levels at most. */
static void
remove_tree(const char *path, int depth)
{
	struct dirent *de;
	char sub[4096];
	DIR *d;

	if (depth > 0 && (d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (snprintf(sub, sizeof(sub), "%s/%s", path,
				de->d_name) >= (int)sizeof(sub))
				continue;
			if (de->d_type == DT_DIR)
				remove_tree(sub, depth - 1);
			else
				unlink(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

static void
teardown(void)
{
	if (store != NULL)
		store_close(store);
	store = NULL;
	cookie_keys_release(&rt.rt_cookies);
	if (rt.rt_cf != NULL)
		config_free(rt.rt_cf);
	rt.rt_cf = NULL;
	if (have_dir)
		remove_tree(dir, 4);
	have_dir = false;
}

/* The database identity cookies carry (store_instance_id); a store
 * without a server_id would make every cookie test meaningless. */
static uint64_t
instance(void)
{
	uint64_t v = store_instance_id(store);

	if (v == 0)
		__builtin_trap();
	return v;
}

static bool
catalog(struct wsd_err *err)
{
	static const char *const cats[] = { PRODUCT };
	static const char prod_core[] =
	    "<UpdateIdentity UpdateID=\"" PRODUCT "\" RevisionNumber=\"1\" />"
	    "<Properties UpdateType=\"Category\" />"
	    "<ApplicabilityRules />";
	static const char upd_core[] =
	    "<UpdateIdentity UpdateID=\"" UPDATE "\" RevisionNumber=\"1\" />"
	    "<Properties UpdateType=\"Software\" />"
	    "<Relationships><Categories><UpdateIdentity UpdateID=\"" PRODUCT
	    "\" /></Categories></Relationships>"
	    "<ApplicabilityRules><IsInstalled><False /></IsInstalled>"
	    "<IsInstallable><True /></IsInstallable></ApplicabilityRules>";
	/*
	 * A driver for devices of flow/000014 (the driverpass seeds): the
	 * ICH9 USB controller by its hardware id, volmgr by a compatible id
	 * for computers with the capture's 5th CHID, and the Microsoft
	 * printer (same Provider and Manufacturer as installed); the
	 * product is its prerequisite.
	 */
	static const char drv_core[] =
	    "<UpdateIdentity UpdateID=\"" DRIVER "\" RevisionNumber=\"1\" />"
	    "<Properties UpdateType=\"Driver\" ExplicitlyDeployable=\"true\" "
	    "AutoSelectOnWebSites=\"true\" />"
	    "<Relationships><Prerequisites><AtLeastOne IsCategory=\"true\">"
	    "<UpdateIdentity UpdateID=\"" PRODUCT "\" /></AtLeastOne>"
	    "</Prerequisites></Relationships>"
	    "<ApplicabilityRules><IsInstalled><d.WindowsDriverInstalled />"
	    "</IsInstalled><IsSuperseded><d.WindowsDriverSuperseded />"
	    "</IsSuperseded><IsInstallable><d.WindowsDriverInstallable />"
	    "</IsInstallable><Metadata>"
	    "<d.WindowsDriverMetaData HardwareID=\"PCI\\VEN_8086&amp;DEV_2935"
	    "&amp;SUBSYS_11001AF4&amp;REV_03\" DriverVerDate=\"2024-01-15\" "
	    "DriverVerVersion=\"10.0.1.0\" WhqlDriverID=\"0\" Class=\"USB\" "
	    "Company=\"Fuzz\" Provider=\"Fuzz\" Manufacturer=\"Fuzz\" "
	    "Model=\"USB\"><d.FeatureScore FeatureScore=\"FE\" "
	    "OperatingSystem=\"amd64.10.0\" /></d.WindowsDriverMetaData>"
	    "<d.WindowsDriverMetaData HardwareID=\"DETECTED\\volmgr\" "
	    "DriverVerDate=\"2020-01-01\" DriverVerVersion=\"1.0.0.0\" "
	    "WhqlDriverID=\"0\" Class=\"System\" Company=\"Fuzz\" "
	    "Provider=\"Fuzz\" Manufacturer=\"Fuzz\" Model=\"volmgr\">"
	    "<d.TargetComputerHardwareId>3673e5af-4b17-57f3-b9a4-7de906abf68b"
	    "</d.TargetComputerHardwareId></d.WindowsDriverMetaData>"
	    "<d.WindowsDriverMetaData HardwareID=\"{6d170653-5280-44c2-ba44-"
	    "2c04bc9d46da}\" DriverVerDate=\"2024-01-01\" "
	    "DriverVerVersion=\"11.0.0.0\" WhqlDriverID=\"0\" "
	    "Class=\"Printers\" Company=\"Microsoft\" Provider=\"Microsoft\" "
	    "Manufacturer=\"Microsoft\" Model=\"Printer\" />"
	    "</Metadata></ApplicabilityRules>";
	static const struct store_prereq drv_pre[] = { { 0, PRODUCT, true } };
	struct store_revision_in in;
	int64_t rid;
	bool existed;

	if (store_computer_upsert(store, COMPUTER, "fuzz.example.test",
		"Windows 11 Pro", err) < 0)
		return false;
	memset(&in, 0, sizeof(in));
	in.update_id = PRODUCT;
	in.revision_number = 1;
	in.update_type = "Category";
	in.category_type = "Product";
	in.origin = "local";
	in.is_leaf = true;
	in.title = "Fuzz Product";
	in.xml_core = prod_core;
	in.xml_core_len = sizeof(prod_core) - 1;
	if (store_revision_put(store, &in, &rid, &existed, err) < 0)
		return false;
	memset(&in, 0, sizeof(in));
	in.update_id = UPDATE;
	in.revision_number = 1;
	in.update_type = "Software";
	in.origin = "local";
	in.explicitly_deployable = true;
	in.is_leaf = true;
	in.title = "Fuzz update";
	in.kb_article = "5000001";
	in.xml_core = upd_core;
	in.xml_core_len = sizeof(upd_core) - 1;
	in.n_categories = 1;
	in.categories = cats;
	if (store_revision_put(store, &in, &rid, &existed, err) < 0)
		return false;
	if (store_approval_set(store, UPDATE, "All Computers", "Install",
		NULL, "fuzz", err) != 0)
		return false;
	memset(&in, 0, sizeof(in));
	in.update_id = DRIVER;
	in.revision_number = 1;
	in.update_type = "Driver";
	in.origin = "local";
	in.explicitly_deployable = true;
	in.is_leaf = true;
	in.title = "Fuzz driver";
	in.xml_core = drv_core;
	in.xml_core_len = sizeof(drv_core) - 1;
	in.n_categories = 1;
	in.categories = cats;
	in.n_prereqs = 1;
	in.prereqs = drv_pre;
	if (store_revision_put(store, &in, &rid, &existed, err) < 0)
		return false;
	return store_approval_set(store, DRIVER, "All Computers", "Install",
	    NULL, "fuzz", err) == 0;
}

static void
setup(void)
{
	static bool done;
	struct wsd_err err = { WSD_OK, NULL };
	struct cookie ck;
	struct sbuf v;
	time_t now = time(NULL);

	if (done)
		return;
	done = true;
	log_set_level(LOG_LVL_ERROR);
	if (mkdtemp(dir) == NULL)
		__builtin_trap();
	have_dir = true;
	atexit(teardown);
	atomic_init(&rt.rt_refs, 1);
	rt.rt_content_fd = -1;
	rt.rt_selfupdate_fd = -1;
	rt.rt_access_fd = -1;
	if (config_load(dir, NULL, &rt.rt_cf, &err) < 0 ||
	    cookie_keys_load(&rt.rt_cookies, dir, &err) < 0 ||
	    store_open(&store, dir, &err) < 0 || !catalog(&err)) {
		fprintf(stderr, "fuzz_wusp: setup: %s\n",
		    err.what ? err.what : "?");
		__builtin_trap();
	}

	memset(&ck, 0, sizeof(ck));
	for (int i = 0, j = 0; i < 16; i++, j += 2) {
		static const char guid[] = COMPUTER;
		unsigned hi, lo;

		if (guid[j] == '-')
			j++;
		if (sscanf(&guid[j], "%1x%1x", &hi, &lo) != 2)
			__builtin_trap();
		ck.co_computer[i] = (unsigned char)(hi << 4 | lo);
	}
	ck.co_protocol = 0x0002005a; /* 2.90 */
	ck.co_issued = (int64_t)now;
	ck.co_expires = (int64_t)now + 7 * 86400;
	ck.co_instance = instance();
	ck.co_kind = COOKIE_CLIENT;
	if (cookie_seal(&rt.rt_cookies, &ck, client_cookie,
		sizeof(client_cookie), &err) < 0)
		__builtin_trap();
	ck.co_kind = COOKIE_AUTHORIZATION;
	if (cookie_seal(&rt.rt_cookies, &ck, auth_cookie, sizeof(auth_cookie),
		&err) < 0)
		__builtin_trap();

	sbuf_init(&v, 64);
	if (store_meta_get(store, "created", &v, &err) < 0 ||
	    v.sb_len >= sizeof(last_change))
		__builtin_trap();
	memcpy(last_change, v.sb_buf, v.sb_len);
	last_change[v.sb_len] = '\0';
	sbuf_release(&v);

	memset(&req, 0, sizeof(req));
	req.rq_method = HTTP_POST;
	req.rq_method_str = SV_LIT("POST");
	req.rq_minor = 1;
	req.rq_nheaders = 0;
}

/* BODY with the markers replaced; *N in: length, out: new length. */
static char *
splice(const char *body, size_t *n)
{
	static const struct {
		const char *m;
		size_t mlen;
		const char *val;
	} marks[] = {
		{ "@COOKIE@", 8, client_cookie },
		{ "@AUTHCOOKIE@", 12, auth_cookie },
		{ "@LASTCHANGE@", 12, last_change },
	};
	size_t len = *n, i = 0;
	struct sbuf out;

	sbuf_init(&out, SPLICE_MAX + len);
	while (i < len) {
		bool hit = false;

		for (size_t k = 0; k < sizeof(marks) / sizeof(marks[0]); k++)
			if (len - i >= marks[k].mlen &&
			    memcmp(body + i, marks[k].m, marks[k].mlen) == 0 &&
			    out.sb_len < SPLICE_MAX) {
				if (sbuf_add(&out, marks[k].val,
					strlen(marks[k].val)) < 0)
					__builtin_trap();
				i += marks[k].mlen;
				hit = true;
				break;
			}
		if (!hit && sbuf_add(&out, body + i++, 1) < 0)
			__builtin_trap();
	}
	*n = out.sb_len;
	if (out.sb_len == 0) {
		sbuf_release(&out);
		return NULL;
	}
	/* An exact-size copy, so ASan sees reads past the body's end. */
	{
		char *p = malloc(out.sb_len);

		if (p == NULL)
			__builtin_trap();
		memcpy(p, out.sb_buf, out.sb_len);
		sbuf_release(&out);
		return p;
	}
}

static bool
starts(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n >= l && memcmp(p, lit, l) == 0;
}

/* The promises of wusp.h on the answer RS. */
static void
check(const struct http_resp *rs)
{
	const char *buf = rs->rs_buf.sb_buf, *end, *cl;
	size_t len = rs->rs_buf.sb_len, head, body;
	unsigned long long want;

	if (rs->rs_status != 200 && rs->rs_status != 500)
		__builtin_trap();
	if (rs->rs_nseg != 1 || rs->rs_seg[0].sg_file ||
	    rs->rs_seg[0].sg_off != 0 || rs->rs_seg[0].sg_len != len ||
	    buf == NULL)
		__builtin_trap();
	if (!starts(buf, len, rs->rs_status == 200 ? "HTTP/1.1 200 " :
						       "HTTP/1.1 500 "))
		__builtin_trap();
	if ((end = memmem(buf, len, "\r\n\r\n", 4)) == NULL)
		__builtin_trap();
	head = (size_t)(end - buf) + 4;
	body = len - head;
	if ((cl = memmem(buf, head, "\r\nContent-Length: ", 18)) == NULL ||
	    sscanf(cl + 18, "%llu", &want) != 1 || want != body)
		__builtin_trap();
	if (!starts(buf + head, body, "<s:Envelope") &&
	    !starts(buf + head, body, "<?xml version=\"1.0\""))
		__builtin_trap();
}

/* WUSP_FUZZ_VERBOSE set: each answer's status and body on stderr. */
static void
show(const struct http_resp *rs)
{
	const char *buf = rs->rs_buf.sb_buf;
	const char *end = memmem(buf, rs->rs_buf.sb_len, "\r\n\r\n", 4);
	size_t off = (size_t)(end - buf) + 4;

	fprintf(stderr, "fuzz_wusp: %d %.*s\n", rs->rs_status,
	    (int)(rs->rs_buf.sb_len - off < 600 ? rs->rs_buf.sb_len - off :
						    600), buf + off);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct handler_ctx hx;
	struct http_resp rs;
	struct route route;
	char *copy = NULL;
	size_t n;
	int rc;

	setup();
	if (verbose < 0)
		verbose = getenv("WUSP_FUZZ_VERBOSE") != NULL;
	if (size < 1)
		return 0;
	memset(&route, 0, sizeof(route));
	route.rt_vroot = roots[data[0] & 3].v;
	route.rt_path.p = roots[data[0] & 3].path;
	route.rt_path.n = strlen(route.rt_path.p);
	n = size - 1;
	memset(&hx, 0, sizeof(hx));
	hx.hx_req = &req;
	hx.hx_route = &route;
	hx.hx_rt = &rt;
	hx.hx_tls = true;
	hx.hx_body = (const char *)data + 1;
	if (data[0] & 4)
		hx.hx_body = copy = splice((const char *)data + 1, &n);
	hx.hx_body_len = n;
	hx.hx_date = "Mon, 30 Nov 2026 12:00:00 GMT";
	hx.hx_peer = "127.0.0.1";
	hx.hx_store = &store;

	http_resp_init(&rs);
	rc = wusp_handle(&hx, &rs);
	if (rc < 0)
		__builtin_trap();
	check(&rs);
	if (verbose)
		show(&rs);
	http_resp_release(&rs);
	free(copy);
	/* wusp_handle opens the store when the slot is empty: never here. */
	if (store == NULL)
		__builtin_trap();
	return 0;
}
