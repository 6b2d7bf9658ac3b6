/*
 * GetConfigData (ServerSync, WSUSSS.md 5.4): the USS's limits and its
 * language list. wsusd has no language configuration: it publishes one
 * fixed list (all languages enabled, then English), so its configuration
 * changes only when this list does, i.e. with wsusd itself.
 *
 * NewConfigAnchor is written in Windows' anchor format (WSUSSS.md 5.5),
 * "nnnn,yyyy-MM-dd HH:mm:ss.fff": nnnn is SSS_LANG_SERIAL, the version
 * of the fixed list below, and the time is the database's creation time
 * (sss_last_change, as GetAuthConfig's LastChange). A DSS sending back
 * exactly the current anchor gets only the "all" entry, as nothing
 * changed since; any other anchor (a new database, a new list, an older
 * or foreign USS's anchor) gets the whole list, which is always safe.
 */
#include "wsusss/wsusss_int.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/strparse.h"

/* Bump when sss_languages changes, so every DSS gets the new list. */
#define SSS_LANG_SERIAL 1
/* configAnchor characters read; Windows' are ~30. */
#define SSS_MAX_CONFIG_ANCHOR 256
/* The per-request batch sizes wsusd asks a DSS to keep to are
 * SSS_MAX_PER_REQUEST (wsusss_int.h), which the operations enforce. */

static const struct sss_language {
	int32_t id; /* LCID */
	const char *short_name;
	const char *long_name;
} sss_languages[] = {
	{ 1033, "en", "English" },
};

enum soap_errc
sss_open_dss_cookie(struct sss_ctx *c, const struct soap_elem *cookie,
    struct cookie *out)
{
	const struct soap_elem *ed;
	struct wsd_err err;
	struct sv s;
	int rc;

	/* Absent, nil, unreadable, expired, of another kind or another
	 * database: the DSS restarts from authorization (WSUSSS.md 3). */
	if (cookie == NULL || soap_is_nil(cookie) ||
	    (ed = soap_child(c->sc_doc, cookie, "EncryptedData")) == NULL ||
	    soap_is_nil(ed) || soap_get_str(ed, COOKIE_MAX_INPUT, &s, &err) < 0)
		return SOAP_ERRC_INVALID_COOKIE;
	rc =
	    cookie_open(c->sc_keys, s.p, s.n, COOKIE_DSS, c->sc_now, out, &err);
	if (rc == WSD_ENOMEM)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if (rc < 0 || out->co_instance != c->sc_instance)
		return SOAP_ERRC_INVALID_COOKIE;
	return SOAP_ERRC_NONE;
}

/* The current NewConfigAnchor into BUF; -1 when it cannot be made. */
static int
config_anchor(struct sss_ctx *c, char *buf, size_t len)
{
	struct soap_datetime lc;
	struct tm tm;
	time_t t;
	int n;

	if (sss_last_change(c, &lc) < 0)
		return -1;
	t = (time_t)lc.dt_sec;
	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	n = snprintf(buf, len, "%d,%04d-%02d-%02d %02d:%02d:%02d.%03u",
	    SSS_LANG_SERIAL, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(lc.dt_frac / 10000));
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}

static int
emit_language(struct soap_writer *w, int32_t id, const char *short_name,
    const char *long_name)
{
	if (soap_emit_open(w, "ServerSyncLanguageData") < 0 ||
	    soap_emit_i32(w, "LanguageID", id) < 0 ||
	    soap_emit_str(w, "ShortLanguage", short_name) < 0 ||
	    soap_emit_str(w, "LongLanguage", long_name) < 0 ||
	    soap_emit_bool(w, "Enabled", true) < 0 ||
	    soap_emit_close(w, "ServerSyncLanguageData") < 0)
		return -1;
	return 0;
}

enum soap_errc
sss_get_config_data(struct sss_ctx *c)
{
	const struct soap_doc *d = c->sc_doc;
	struct soap_writer *w = &c->sc_w;
	const struct soap_elem *e;
	char anchor[64];
	struct cookie ck;
	struct wsd_err err;
	enum soap_errc ec;
	bool unchanged = false;
	struct sv s;

	if ((ec = sss_open_dss_cookie(c, soap_child(d, d->sd_op, "cookie"),
		 &ck)) != SOAP_ERRC_NONE)
		return ec;
	if (config_anchor(c, anchor, sizeof(anchor)) < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	/* Opaque to the DSS; ours only when it is exactly the current one. */
	if ((e = soap_child(d, d->sd_op, "configAnchor")) != NULL &&
	    !soap_is_nil(e)) {
		if (soap_get_str(e, SSS_MAX_CONFIG_ANCHOR, &s, &err) < 0) {
			c->sc_message = "configAnchor";
			return SOAP_ERRC_INVALID_PARAMETERS;
		}
		unchanged = sv_eq(s, (struct sv){ anchor, strlen(anchor) });
	}

	/* Order: the live WSDL's (WSUSSS.md 5.4), not the appendix's. */
	if (soap_emit_open_ns(w, "GetConfigDataResponse", WSUSSS_NS) < 0 ||
	    soap_emit_open(w, "GetConfigDataResult") < 0 ||
	    soap_emit_bool(w, "CatalogOnlySync", false) < 0 ||
	    /* wsusd keeps the content it has: not lazy. */
	    soap_emit_bool(w, "LazySync", false) < 0 ||
	    soap_emit_bool(w, "ServerHostsPsfFiles", false) < 0 ||
	    soap_emit_i32(w, "MaxNumberOfUpdatesPerRequest",
		SSS_MAX_PER_REQUEST) < 0 ||
	    soap_emit_i32(w, "MaxNumberOfDriverSetsPerRequest",
		SSS_MAX_PER_REQUEST) < 0 ||
	    soap_emit_i32(w, "MaxNumberOfComputerIdsInRequest",
		SSS_MAX_PER_REQUEST) < 0 ||
	    soap_emit_i32(w, "MaxNumberOfPnpHardwareIdsInRequest",
		SSS_MAX_PER_REQUEST) < 0 ||
	    soap_emit_str(w, "NewConfigAnchor", anchor) < 0 ||
	    soap_emit_str(w, "ProtocolVersion", "1.20") < 0 ||
	    soap_emit_open(w, "LanguageUpdateList") < 0 ||
	    /* The AllLanguages flag first (WSUSSS.md 5.4). */
	    emit_language(w, 0, "all", "all") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	for (size_t i = 0;
	     !unchanged && i < sizeof(sss_languages) / sizeof(sss_languages[0]);
	     i++)
		if (emit_language(w, sss_languages[i].id,
			sss_languages[i].short_name,
			sss_languages[i].long_name) < 0)
			return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if (soap_emit_close(w, "LanguageUpdateList") < 0 ||
	    soap_emit_i32(w, "MaxUpdatesPerRequestInGetUpdateDecryptionData",
		SSS_MAX_PER_REQUEST) < 0 ||
	    soap_emit_close(w, "GetConfigDataResult") < 0 ||
	    soap_emit_close(w, "GetConfigDataResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}
