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
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/sbuf.h"
#include "wusp/wusp.h"

#include "fuzz_site.h"

#define COMPUTER "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
#define DRIVER   "5e1f6a10-0000-4000-8000-00000000f003"

static struct fuzz_site site;
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

static bool
catalog(struct store *st, struct wsd_err *err)
{
	static const char *const cats[] = { FUZZ_PRODUCT };
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
	    "<UpdateIdentity UpdateID=\"" FUZZ_PRODUCT "\" /></AtLeastOne>"
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
	static const struct store_prereq drv_pre[] = { { 0, FUZZ_PRODUCT, true } };
	struct store_revision_in in;
	int64_t rid;
	bool existed;

	if (store_computer_upsert(st, COMPUTER, "fuzz.example.test",
	    "Windows 11 Pro", err) < 0 || !fuzz_site_base_catalog(st, err))
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
	if (store_revision_put(st, &in, &rid, &existed, err) < 0)
		return false;
	return store_approval_set(st, DRIVER, "All Computers", "Install",
	    NULL, "fuzz", err) == 0;
}

static void
setup(void)
{
	static bool done;
	struct wsd_err err = { WSD_OK, NULL };
	struct sbuf v;

	if (done)
		return;
	done = true;
	fuzz_site_open(&site, "wusp", catalog);
	fuzz_site_seal(&site, COMPUTER, 0x0002005a /* 2.90 */, 7 * 86400,
	    COOKIE_CLIENT, client_cookie);
	fuzz_site_seal(&site, COMPUTER, 0x0002005a, 7 * 86400,
	    COOKIE_AUTHORIZATION, auth_cookie);
	sbuf_init(&v, 64);
	if (store_meta_get(site.fs_store, "created", &v, &err) < 0 ||
	    v.sb_len >= sizeof(last_change))
		__builtin_trap();
	memcpy(last_change, v.sb_buf, v.sb_len);
	last_change[v.sb_len] = '\0';
	sbuf_release(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_mark marks[] = {
		{ "@COOKIE@", client_cookie },
		{ "@AUTHCOOKIE@", auth_cookie },
		{ "@LASTCHANGE@", last_change },
	};
	/* WCF roots answer "<s:Envelope", ASMX ones an XML declaration. */
	static const char *const envelope[] = { "<s:Envelope",
		"<?xml version=\"1.0\"", NULL };
	struct handler_ctx hx;
	const char *body;
	char *copy = NULL;
	size_t n;

	setup();
	if (verbose < 0)
		verbose = getenv("WUSP_FUZZ_VERBOSE") != NULL;
	if (size < 1)
		return 0;
	n = size - 1;
	body = (const char *)data + 1;
	if (data[0] & 4)
		body = copy = fuzz_splice(body, &n, marks, 3);
	fuzz_site_ctx(&site, &hx, roots[data[0] & 3].v,
	    roots[data[0] & 3].path, body, n);

	fuzz_site_serve(&site, &hx, wusp_handle, -1, envelope, "fuzz_wusp",
	    verbose, 600);
	free(copy);
	return 0;
}
