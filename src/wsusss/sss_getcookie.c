/*
 * GetCookie (ServerSync, WSUSSS.md 5.3): trades the DssAuth
 * authorization cookie for the Cookie every later ServerSync call
 * carries. authCookies must hold exactly one AuthorizationCookie, of
 * plug-in DssTargeting, whose CookieData opens as ours (its elements are
 * in the SoftwareDistribution namespace here, not DssAuth's). oldCookie,
 * when given, must be one of ours (expired is fine: renewing is what
 * this is for). protocolVersion is "major.minor" with major 1.
 */
#include "wsusss/wsusss_int.h"

#include <string.h>
#include <strings.h>

#include "common/encode.h"
#include "common/log.h"
#include "common/strparse.h"
#include "store/store_sss.h"

/* "1.20" -> 0x00010014 in *OUT; -1 when not two decimal numbers. */
static int
parse_protocol(struct sv v, uint32_t *out)
{
	uint64_t maj, min;

	if (strparse_u64(&v, 0xffff, &maj) < 0 || strparse_char(&v, '.') < 0 ||
	    strparse_u64(&v, 0xffff, &min) < 0 || v.n != 0)
		return -1;
	*out = (uint32_t)(maj << 16 | min);
	return 0;
}

/* The one AuthorizationCookie of authCookies, opened into *AUTH. */
static enum soap_errc
open_auth(struct sss_ctx *c, struct cookie *auth)
{
	const struct soap_doc *d = c->sc_doc;
	const struct soap_elem *item, *e;
	struct soap_iter it;
	struct wsd_err err;
	size_t n = 0;
	struct sv s;
	int rc;

	if (soap_array_begin(d, soap_child(d, d->sd_op, "authCookies"),
		"AuthorizationCookie", 1, &it, &n, &err) < 0 ||
	    n != 1 || (item = soap_iter_next(&it)) == NULL) {
		c->sc_message = "authCookies";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	if (soap_is_nil(item) ||
	    (e = soap_child(d, item, "PlugInId")) == NULL ||
	    soap_get_str(e, 64, &s, &err) < 0 ||
	    !sv_eq(s, SV_LIT(WSUSSS_PLUGIN)) ||
	    (e = soap_child(d, item, "CookieData")) == NULL ||
	    soap_get_str(e, COOKIE_MAX_INPUT, &s, &err) < 0)
		return SOAP_ERRC_INVALID_AUTHORIZATION_COOKIE;
	/* Invalid, expired, or another database's: the DSS authorizes
	 * again (GetAuthorizationCookie). */
	rc = cookie_open(c->sc_keys, s.p, s.n, COOKIE_DSS_AUTHORIZATION,
	    c->sc_now, auth, &err);
	if (rc == WSD_ENOMEM)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if (rc < 0 || auth->co_instance != c->sc_instance)
		return SOAP_ERRC_INVALID_AUTHORIZATION_COOKIE;
	return SOAP_ERRC_NONE;
}

struct dss_name {
	const char *id;
	char fqdn[256];
	bool found;
};

static int
dss_cb(void *arg, const struct store_sss_dss_row *r)
{
	struct dss_name *n = arg;

	if (strcmp(r->server_id, n->id) != 0)
		return 0;
	snprintf(n->fqdn, sizeof(n->fqdn), "%s", r->fqdn);
	n->found = true;
	return 1;
}

/*
 * SECURITY.md S8: the server the body names must be the one the channel
 * authenticated. GetAuthorizationCookie (anonymous, as on Windows) took
 * the DSS's word for its name; here the caller is known (Kerberos or a
 * client certificate: DOMAIN\NAME or DOMAIN\NAME$), and the FQDN it
 * registered must start with that NAME. Windows does not check this;
 * a Windows DSS sends its own FQDN, which passes. Anonymous callers
 * (serversync_anonymous = yes) have nothing to compare.
 */
static enum soap_errc
check_identity(struct sss_ctx *c, const char *guid)
{
	const char *who = c->sc_hx->hx_identity, *name;
	struct dss_name n = { .id = guid };
	struct wsd_err err;
	size_t len, label;

	if (who == NULL || who[0] == '\0')
		return SOAP_ERRC_NONE;
	name = strchr(who, '\\') ? strchr(who, '\\') + 1 : who;
	len = strlen(name);
	if (len > 0 && name[len - 1] == '$')
		len--;
	if (store_sss_dss_list(c->sc_store, dss_cb, &n, &err) < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	label = strcspn(n.fqdn, ".");
	if (!n.found || label != len || strncasecmp(n.fqdn, name, len) != 0) {
		log_warnx("%s: ServerSyncWebService: %s presented the "
			  "authorization of %s (%s): refused",
		    c->sc_hx->hx_peer, who, n.found ? n.fqdn : "an unknown "
		    "server", guid);
		c->sc_message = "the authorization cookie names another server";
		return SOAP_ERRC_INVALID_AUTHORIZATION_COOKIE;
	}
	return SOAP_ERRC_NONE;
}

/* oldCookie: absent, nil or without EncryptedData is "none". */
static enum soap_errc
check_old(struct sss_ctx *c)
{
	const struct soap_doc *d = c->sc_doc;
	const struct soap_elem *old, *ed;
	struct wsd_err err;
	struct cookie oc;
	struct sv s;
	int rc;

	if ((old = soap_child(d, d->sd_op, "oldCookie")) == NULL ||
	    soap_is_nil(old) ||
	    (ed = soap_child(d, old, "EncryptedData")) == NULL ||
	    soap_is_nil(ed))
		return SOAP_ERRC_NONE;
	if (soap_get_str(ed, COOKIE_MAX_INPUT, &s, &err) < 0)
		return SOAP_ERRC_INVALID_COOKIE;
	if (s.n == 0)
		return SOAP_ERRC_NONE;
	rc =
	    cookie_open(c->sc_keys, s.p, s.n, COOKIE_DSS, c->sc_now, &oc, &err);
	if (rc == WSD_ENOMEM)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	if (rc < 0 && rc != COOKIE_EEXPIRED)
		return SOAP_ERRC_INVALID_COOKIE;
	return SOAP_ERRC_NONE;
}

enum soap_errc
sss_get_cookie(struct sss_ctx *c)
{
	const struct soap_doc *d = c->sc_doc;
	const struct soap_elem *e;
	struct soap_writer *w = &c->sc_w;
	char b64[COOKIE_B64_BUFSZ], guid[37];
	struct soap_datetime exp;
	struct cookie auth, nc;
	struct wsd_err err;
	enum soap_errc ec;
	uint32_t proto;
	struct sv s;

	if ((ec = open_auth(c, &auth)) != SOAP_ERRC_NONE ||
	    (ec = check_old(c)) != SOAP_ERRC_NONE)
		return ec;
	guid_format(auth.co_computer, guid);
	if ((ec = check_identity(c, guid)) != SOAP_ERRC_NONE)
		return ec;
	e = soap_child(d, d->sd_op, "protocolVersion");
	if (e == NULL || soap_get_str(e, 16, &s, &err) < 0 ||
	    parse_protocol(s, &proto) < 0) {
		c->sc_message = "protocolVersion";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	if (proto >> 16 != 1) {
		c->sc_message = "protocolVersion";
		return SOAP_ERRC_INCOMPATIBLE_PROTOCOL_VERSION;
	}

	memset(&nc, 0, sizeof(nc));
	nc.co_kind = COOKIE_DSS;
	memcpy(nc.co_computer, auth.co_computer, 16);
	nc.co_protocol = proto;
	nc.co_issued = (int64_t)c->sc_now;
	/* min(now + 240 min, the authorization's expiry) (<29>). */
	nc.co_expires = (int64_t)c->sc_now + WSUSSS_COOKIE_SECS;
	if (auth.co_expires < nc.co_expires)
		nc.co_expires = auth.co_expires;
	nc.co_instance = c->sc_instance;
	if (cookie_seal(c->sc_keys, &nc, b64, sizeof(b64), &err) < 0) {
		log_warnx("ServerSyncWebService: cannot seal a cookie: %s",
		    err.what);
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
	log_info("%s: ServerSyncWebService: cookie for %s, protocol %u.%u",
	    c->sc_hx->hx_peer, guid, (unsigned)(proto >> 16),
	    (unsigned)(proto & 0xffff));
	/* Expiration is a clear copy of the sealed expiry, UTC (2.2.4.8). */
	exp = soap_datetime_from_unix(nc.co_expires, 0);
	if (soap_emit_open_ns(w, "GetCookieResponse", WSUSSS_NS) < 0 ||
	    soap_emit_open(w, "GetCookieResult") < 0 ||
	    soap_emit_datetime(w, "Expiration", &exp) < 0 ||
	    soap_emit_str(w, "EncryptedData", b64) < 0 ||
	    soap_emit_close(w, "GetCookieResult") < 0 ||
	    soap_emit_close(w, "GetCookieResponse") < 0)
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	return SOAP_ERRC_NONE;
}
