/*
 * RegisterComputer (WUSP.md 3.4): the computer named by the cookie is
 * recorded (new ones join Unassigned Computers); the answer is an empty
 * RegisterComputerResponse.
 */
#include "wusp/wusp_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/encode.h"
#include "common/log.h"
#include "common/strparse.h"
#include "wusp/reg_limit.h"

/* A decimal build number, 0 when absent or out of range. */
static int32_t
atoi_bounded(const char *s)
{
	uint64_t v;

	return strparse_u64_all(s, 0, INT32_MAX, &v) == 0 ? (int32_t)v : 0;
}

/* A bounded copy of child NAME's text, "" when absent or unusable. */
static void
text_of(const struct soap_doc *d, const struct soap_elem *parent,
    const char *name, char *out, size_t n)
{
	const struct soap_elem *e = soap_child(d, parent, name);
	struct wsd_err err;
	struct sv s;

	out[0] = '\0';
	if (e != NULL && soap_get_str(e, n - 1, &s, &err) == 0)
		snprintf(out, n, "%.*s", (int)s.n, s.p);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * A computer this server does not know yet takes a token of its address's
 * registration budget (S9); ServerBusy, nothing written, once it is spent.
 */
static enum soap_errc
admit_new(struct wusp_ctx *c, const char *guid)
{
	static _Atomic uint64_t last_warned;
	const struct config *cf = c->wc_cf;
	struct store_sync_head head;
	struct wsd_err err;
	uint64_t t;
	int rc;

	if (cf->cf_registrations_per_minute == 0 ||
	    c->wc_hx->hx_peer_ss == NULL)
		return SOAP_ERRC_NONE;
	if ((rc = store_sync_head(c->wc_store, guid, &head, &err)) == 0)
		return SOAP_ERRC_NONE;
	if (rc != WSD_ENOTFOUND) {
		log_warnx("RegisterComputer %s: %s", guid, err.what);
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	t = now_ms();
	if (reg_limit_take(c->wc_hx->hx_peer_ss,
		cf->cf_registrations_per_minute, cf->cf_registration_burst, t))
		return SOAP_ERRC_NONE;
	/* A flood must not flood the log: a line every 10 s at most. */
	if (t >= last_warned + 10000) {
		last_warned = t;
		log_warnx("%s: new computers from this address over "
			  "registration_burst/registrations_per_minute (%u/%u): "
			  "ServerBusy",
		    c->wc_hx->hx_peer, cf->cf_registration_burst,
		    cf->cf_registrations_per_minute);
	}
	c->wc_message = "too many new computers from this address; retry "
			"later";
	return SOAP_ERRC_SERVER_BUSY;
}

enum soap_errc
wusp_register_computer(struct wusp_ctx *c)
{
	const struct soap_doc *d = c->wc_doc;
	const struct soap_elem *op = d->sd_op, *info;
	char guid[37], dns[256], os[256], build[16], desc[300];
	char locale[32], maker[128], model[128], bios[128], cpu[32];
	char cmaj[8], cmin[8], cbld[8], cqfe[8], cver[40];
	struct store_computer_details det;
	struct cookie ck;
	struct wsd_err err;
	enum soap_errc ec;

	if ((ec = wusp_open_client_cookie(c, soap_child(d, op, "cookie"),
		 &ck)) != SOAP_ERRC_NONE)
		return ec;
	if ((info = soap_child(d, op, "computerInfo")) == NULL) {
		c->wc_message = "computerInfo";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	text_of(d, info, "DnsName", dns, sizeof(dns));
	text_of(d, info, "OSDescription", os, sizeof(os));
	text_of(d, info, "OSBuildNumber", build, sizeof(build));
	if (dns[0] == '\0') {
		c->wc_message = "computerInfo.DnsName";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	guid_format(ck.co_computer, guid);
	if ((ec = admit_new(c, guid)) != SOAP_ERRC_NONE)
		return ec;
	/* Windows 11 calls itself Windows 10 (WUSP.md 3.4): the build says. */
	snprintf(desc, sizeof(desc), "%s (build %s)", os[0] ? os : "Windows",
	    build[0] ? build : "?");
	if (store_computer_upsert(c->wc_store, guid, dns, desc, &err) < 0) {
		log_warnx("RegisterComputer %s: %s", guid, err.what);
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	text_of(d, info, "OSLocale", locale, sizeof(locale));
	text_of(d, info, "ComputerManufacturer", maker, sizeof(maker));
	text_of(d, info, "ComputerModel", model, sizeof(model));
	text_of(d, info, "BiosVersion", bios, sizeof(bios));
	text_of(d, info, "ProcessorArchitecture", cpu, sizeof(cpu));
	text_of(d, info, "ClientVersionMajorNumber", cmaj, sizeof(cmaj));
	text_of(d, info, "ClientVersionMinorNumber", cmin, sizeof(cmin));
	text_of(d, info, "ClientVersionBuildNumber", cbld, sizeof(cbld));
	text_of(d, info, "ClientVersionQfeNumber", cqfe, sizeof(cqfe));
	snprintf(cver, sizeof(cver), "%s.%s.%s.%s", cmaj, cmin, cbld, cqfe);
	det = (struct store_computer_details){ .os_build = atoi_bounded(build),
		.os_locale = locale, .manufacturer = maker, .model = model,
		.bios_version = bios, .processor = cpu, .client_version = cver };
	if (store_computer_details_set(c->wc_store, guid, &det, &err) < 0 ||
	    store_computer_touch(c->wc_store, guid, &err) < 0)
		log_warnx("RegisterComputer %s: %s", guid, err.what);
	if (soap_emit_empty_ns(&c->wc_w, "RegisterComputerResponse",
		SOAP_NS_CLIENT) < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}
