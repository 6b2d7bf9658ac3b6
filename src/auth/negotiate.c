#include "auth/negotiate.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5/krb5.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/dnsname.h"
#include "common/encode.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "common/wsd_limits.h"

/*
 * Mechanism OIDs. gss_OID_desc wants a mutable pointer; GSSAPI never
 * writes through it. SPNEGO (1.3.6.1.5.5.2) has no exported symbol in
 * MIT's headers.
 */
static unsigned char spnego_der[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02 };
static unsigned char krb5_der[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01,
	0x02, 0x02 };
static gss_OID_desc spnego_oid = { sizeof(spnego_der), spnego_der };
/* SPNEGO for what Windows sends, Kerberos for raw AP-REQs. */
static gss_OID_desc accept_oids[] = { { sizeof(spnego_der), spnego_der },
	{ sizeof(krb5_der), krb5_der } };
static gss_OID_set_desc accept_mechs = { 2, accept_oids };
static gss_OID_set_desc spnego_mechs = { 1, &spnego_oid };
/* What SPNEGO may negotiate: Kerberos only, never NTLM. */
static gss_OID_desc krb5_oids[] = { { sizeof(krb5_der), krb5_der } };
static gss_OID_set_desc krb5_mechs = { 1, krb5_oids };

/* The decoded token: base64 of NEGOTIATE_MAX_TOKEN_B64 characters. */
#define NEGOTIATE_MAX_TOKEN (NEGOTIATE_MAX_TOKEN_B64 / 4 * 3)

/* Default ccache for a client keytab without one (negotiate.h). */
#define NEGOTIATE_CLIENT_CCACHE "MEMORY:wsusd-negotiate"

/* Keytab entries keytab_check reads at most (a few per principal and
 * encryption type; a host keytab has tens). */
#define NEGOTIATE_MAX_KEYTAB_ENTRIES 65536

/* Bytes of one log line built from GSS messages. */
#define NEGOTIATE_LOG_MAX 1024

struct negotiate_server {
	gss_cred_id_t ns_cred; /* acceptor credential (owned) */
	char *ns_host;         /* HTTP/<ns_host> only, or NULL: any */
};

struct negotiate_client {
	gss_cred_id_t nc_cred; /* initiator credential (owned) */
	gss_ctx_id_t nc_ctx;   /* the exchange (owned) */
	gss_name_t nc_target;  /* HTTP@host (owned) */
	char *nc_token;        /* base64 first token (owned) */
	bool nc_done;          /* verified: the exchange is over */
};

/* ------------------------------------------------------------------ */
/* Logging GSS status */

static int
gss_status_add(struct sbuf *sb, OM_uint32 code, int type)
{
	OM_uint32 maj, min, more = 0;
	gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;
	int rc = 0;

	/* display_status hands out one message per call; a handful at most. */
	for (int i = 0; i < 8; i++) {
		maj = gss_display_status(&min, code, type, GSS_C_NO_OID, &more,
		    &msg);
		if (GSS_ERROR(maj))
			break;
		rc = sbuf_addf(sb, "%s%.*s", i > 0 ? "; " : "",
		    msg.length > 256 ? 256 : (int)msg.length,
		    (const char *)msg.value);
		(void)gss_release_buffer(&min, &msg); /* cannot fail */
		if (rc < 0 || more == 0)
			break;
	}
	return rc;
}

/* Logs "negotiate: WHAT: <major messages> (<minor messages>)". */
static void
gss_log(const char *what, OM_uint32 major, OM_uint32 minor)
{
	struct sbuf sb;

	sbuf_init(&sb, NEGOTIATE_LOG_MAX);
	if (gss_status_add(&sb, major, GSS_C_GSS_CODE) < 0 ||
	    (minor != 0 &&
		(sbuf_adds(&sb, " (") < 0 ||
		    gss_status_add(&sb, minor, GSS_C_MECH_CODE) < 0 ||
		    sbuf_adds(&sb, ")") < 0))) {
		/* Too long for one line: the codes rather than nothing. */
		sbuf_release(&sb);
		log_warnx("negotiate: %s: GSS major %#x minor %#x", what,
		    (unsigned)major, (unsigned)minor);
		return;
	}
	log_warnx("negotiate: %s: %s", what, sbuf_str(&sb));
	sbuf_release(&sb);
}

/* ------------------------------------------------------------------ */
/* Base64 */

static bool
b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/*
 * Strict padded base64 (RFC 4648 4, as RFC 4559's token68 is written):
 * no whitespace, '=' only as the last one or two characters. The
 * decoded bytes go to a new buffer in *OUT (caller frees).
 */
static int
token_decode(const char *in, size_t n, unsigned char **out, size_t *outlen,
    struct wsd_err *err)
{
	size_t pad = 0;
	unsigned char *buf;
	int got;

	*out = NULL;
	*outlen = 0;
	if (n == 0)
		return wsd_fail(err, WSD_EINVAL, "empty Negotiate token");
	if (n > NEGOTIATE_MAX_TOKEN_B64)
		return wsd_fail(err, WSD_ETOOBIG, "Negotiate token too long");
	if (n % 4 != 0)
		return wsd_fail(err, WSD_EINVAL, "Negotiate token not base64");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '=') {
			if (i + 2 < n)
				return wsd_fail(err, WSD_EINVAL,
				    "Negotiate token not base64");
			pad++;
			continue;
		}
		if (pad > 0 || !b64_char(c))
			return wsd_fail(err, WSD_EINVAL,
			    "Negotiate token not base64");
	}
	buf = malloc(n / 4 * 3);
	if (buf == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	got = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)n);
	/* EVP_DecodeBlock counts the padding as data bytes. */
	if (got < 0 || (size_t)got != n / 4 * 3 || (size_t)got <= pad) {
		free(buf);
		return wsd_fail(err, WSD_EINVAL, "Negotiate token not base64");
	}
	*out = buf;
	*outlen = (size_t)got - pad;
	return 0;
}

static void
token_free(unsigned char *buf, size_t len)
{
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
}

/*
 * Is the token a GSS initial-context token for SPNEGO (RFC 2743 3.1:
 * [APPLICATION 0] { OID, ... })? Only for the log and negotiate_result.
 */
static bool
token_is_spnego(const unsigned char *p, size_t n)
{
	size_t i = 2;

	if (n < 2 || p[0] != 0x60)
		return false;
	if (p[1] & 0x80) {
		size_t k = p[1] & 0x7f;

		if (k == 0 || k > 4)
			return false;
		i += k;
	}
	return n >= i + 2 + sizeof(spnego_der) && p[i] == 0x06 &&
	    p[i + 1] == sizeof(spnego_der) &&
	    memcmp(p + i + 2, spnego_der, sizeof(spnego_der)) == 0;
}

/* ------------------------------------------------------------------ */
/* Names */

/* The display form of NAME into OUT (SIZE bytes); -1 if it does not fit
 * or holds a NUL. */
static int
name_display(gss_name_t name, char *out, size_t size, const char *what)
{
	OM_uint32 maj, min;
	gss_buffer_desc buf = GSS_C_EMPTY_BUFFER;
	int rc = -1;

	out[0] = '\0';
	maj = gss_display_name(&min, name, &buf, NULL);
	if (GSS_ERROR(maj)) {
		gss_log(what, maj, min);
		return -1;
	}
	if (buf.length > 0 && buf.length < size &&
	    memchr(buf.value, '\0', buf.length) == NULL) {
		memcpy(out, buf.value, buf.length);
		out[buf.length] = '\0';
		rc = 0;
	} else
		log_warnx("negotiate: %s: name of %zu bytes refused", what,
		    (size_t)buf.length);
	(void)gss_release_buffer(&min, &buf); /* cannot fail */
	return rc;
}

/* Imports S (NUL-terminated) as a name of TYPE. */
static int
name_import(const char *s, gss_OID type, gss_name_t *out, const char *what)
{
	OM_uint32 maj, min;
	gss_buffer_desc buf;
	char *copy = strdup(s); /* gss_buffer_desc wants a mutable pointer */

	*out = GSS_C_NO_NAME;
	if (copy == NULL)
		return -1;
	buf.value = copy;
	buf.length = strlen(copy);
	maj = gss_import_name(&min, &buf, type, out);
	free(copy);
	if (GSS_ERROR(maj)) {
		gss_log(what, maj, min);
		*out = GSS_C_NO_NAME;
		return -1;
	}
	return 0;
}

static bool
mech_is_krb5(gss_const_OID mech)
{
	return mech != GSS_C_NO_OID &&
	    (gss_oid_equal(mech, gss_mech_krb5) ||
		gss_oid_equal(mech, gss_mech_krb5_old) ||
		gss_oid_equal(mech, gss_mech_krb5_wrong));
}

/*
 * SERVICE ("HTTP/host@REALM", display form) names an HTTP service, on
 * HOST when HOST is not NULL (case-insensitive, as DNS is).
 */
static bool
service_ok(const char *service, const char *host)
{
	const char *slash = strchr(service, '/');
	const char *at = strrchr(service, '@');
	size_t hl;

	if (slash == NULL || at == NULL || at < slash ||
	    strchr(service, '\\') != NULL)
		return false;
	if (slash - service != 4 || strncasecmp(service, "HTTP", 4) != 0)
		return false;
	if (at == slash + 1 ||
	    memchr(slash + 1, '/', (size_t)(at - slash - 1)) != NULL)
		return false;
	if (host == NULL)
		return true;
	hl = strlen(host);
	return (size_t)(at - slash - 1) == hl &&
	    strncasecmp(slash + 1, host, hl) == 0;
}

/* "FILE:" + PATH into SB, so that a ':' in the path is not read as a
 * keytab type prefix. */
static int
file_name(struct sbuf *sb, const char *path)
{
	return sbuf_adds(sb, "FILE:") < 0 || sbuf_adds(sb, path) < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Server */

/* An HTTP/<host> principal (HOST NULL: any host). Service and host are
 * compared case-insensitively, as AD compares SPNs and DNS compares names. */
static bool
principal_is_http(krb5_const_principal p, const char *host)
{
	size_t hl;

	if (p == NULL || p->length != 2 || p->data[0].length != 4 ||
	    strncasecmp(p->data[0].data, "HTTP", 4) != 0 ||
	    p->data[1].length == 0)
		return false;
	if (host == NULL)
		return true;
	hl = strlen(host);
	return p->data[1].length == hl &&
	    strncasecmp(p->data[1].data, host, hl) == 0;
}

/*
 * Startup check with libkrb5: does KTNAME hold an HTTP/<host> key? Only
 * so that a wrong keytab is refused at startup with a clear message;
 * accepting does not rely on it (negotiate_accept checks the ticket's
 * service itself). It also keeps MIT krb5 < 1.22 off the path where a
 * failed named acquisition leaks (MIT ticket 9189): acquisition is
 * unnamed, which fails only on an empty or unreadable keytab.
 */
static int
keytab_check(const char *ktname, const char *path, const char *host,
    struct wsd_err *err)
{
	krb5_context kc = NULL;
	krb5_keytab kt = NULL;
	krb5_kt_cursor cur;
	krb5_keytab_entry ent;
	krb5_error_code kr;
	bool started = false, found = false;

	kr = krb5_init_context(&kc);
	if (kr != 0) {
		log_warnx("negotiate: cannot initialise Kerberos (error %ld)",
		    (long)kr);
		return wsd_fail(err, WSD_EINTERNAL,
		    "cannot initialise Kerberos");
	}
	kr = krb5_kt_resolve(kc, ktname, &kt);
	if (kr == 0 && (kr = krb5_kt_start_seq_get(kc, kt, &cur)) == 0)
		started = true;
	/* Bounded: a keytab holds a few keys per principal. */
	for (unsigned long n = 0;
	     kr == 0 && !found && n < NEGOTIATE_MAX_KEYTAB_ENTRIES; n++) {
		kr = krb5_kt_next_entry(kc, kt, &ent, &cur);
		if (kr != 0)
			break;
		found = principal_is_http(ent.principal, host);
		(void)krb5_free_keytab_entry_contents(kc, &ent);
	}
	if (kr == KRB5_KT_END)
		kr = 0;
	if (started)
		(void)krb5_kt_end_seq_get(kc, kt, &cur);
	if (kr != 0) {
		const char *msg = krb5_get_error_message(kc, kr);

		log_warnx("negotiate: keytab %s: %s", path, msg);
		krb5_free_error_message(kc, msg);
	} else if (!found)
		log_warnx("negotiate: keytab %s holds no HTTP/%s key", path,
		    host != NULL ? host : "<host>");
	if (kt != NULL)
		(void)krb5_kt_close(kc, kt);
	krb5_free_context(kc);
	if (kr != 0)
		return wsd_fail(err, WSD_EIO, "cannot read the keytab");
	if (!found)
		return wsd_fail(err, WSD_EPERM,
		    "no usable HTTP/ key in the keytab");
	return 0;
}

int
negotiate_server_new(const struct negotiate_server_cfg *cfg,
    struct negotiate_server **out, struct wsd_err *err)
{
	struct negotiate_server *srv = NULL;
	gss_key_value_element_desc el[2];
	gss_key_value_set_desc store;
	struct sbuf kt;
	struct stat st;
	OM_uint32 maj, min;
	int rc;

	*out = NULL;
	if (cfg == NULL || cfg->nsc_keytab == NULL ||
	    cfg->nsc_keytab[0] == '\0')
		return wsd_fail(err, WSD_EINVAL, "no keytab configured");
	if (cfg->nsc_server_name != NULL &&
	    !dnsname_valid(cfg->nsc_server_name))
		return wsd_fail(err, WSD_EINVAL, "server name not a DNS name");
	if (cfg->nsc_rcache != NULL &&
	    (cfg->nsc_rcache[0] == '\0' ||
		strncasecmp(cfg->nsc_rcache, "none", 4) == 0))
		return wsd_fail(err, WSD_EINVAL,
		    "replay cache must not be \"none\"");
	if (stat(cfg->nsc_keytab, &st) < 0) {
		log_warn("negotiate: keytab %s", cfg->nsc_keytab);
		return wsd_fail(err, WSD_EIO, "cannot read the keytab");
	}
	if (!S_ISREG(st.st_mode))
		return wsd_fail(err, WSD_EINVAL, "keytab is not a file");
	if ((st.st_mode & 077) != 0) {
		log_warnx("negotiate: keytab %s has mode %04o: it holds the "
			  "service key (chmod 600 %s)",
		    cfg->nsc_keytab, (unsigned)(st.st_mode & 07777),
		    cfg->nsc_keytab);
		return wsd_fail(err, WSD_EPERM,
		    "keytab readable by group or others");
	}
	sbuf_init(&kt, 8 + 4096);
	if (file_name(&kt, cfg->nsc_keytab) < 0)
		return wsd_fail(err, WSD_ETOOBIG, "keytab path too long");
	if ((rc = keytab_check(sbuf_str(&kt), cfg->nsc_keytab,
		 cfg->nsc_server_name, err)) < 0) {
		sbuf_release(&kt);
		return rc;
	}

	srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		sbuf_release(&kt);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	srv->ns_cred = GSS_C_NO_CREDENTIAL;
	if (cfg->nsc_server_name != NULL &&
	    (srv->ns_host = strdup(cfg->nsc_server_name)) == NULL) {
		rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
		goto fail;
	}
	el[0].key = "keytab";
	el[0].value = sbuf_str(&kt);
	store.count = 1;
	store.elements = el;
	if (cfg->nsc_rcache != NULL) {
		el[1].key = "rcache";
		el[1].value = cfg->nsc_rcache;
		store.count = 2;
	}
	/*
	 * Unnamed: MIT then decrypts a ticket for any principal whose key is
	 * in the keytab, and negotiate_accept admits HTTP/<host> ones only
	 * (keytab_check says why not a named acceptor).
	 */
	maj = gss_acquire_cred_from(&min, GSS_C_NO_NAME, GSS_C_INDEFINITE,
	    &accept_mechs, GSS_C_ACCEPT, &store, &srv->ns_cred, NULL, NULL);
	if (GSS_ERROR(maj)) {
		gss_log("acquiring the acceptor credential", maj, min);
		srv->ns_cred = GSS_C_NO_CREDENTIAL;
		rc = wsd_fail(err, WSD_EPERM,
		    "no usable HTTP/ key in the keytab");
		goto fail;
	}
	maj = gss_set_neg_mechs(&min, srv->ns_cred, &krb5_mechs);
	if (GSS_ERROR(maj)) {
		gss_log("restricting SPNEGO to Kerberos", maj, min);
		rc = wsd_fail(err, WSD_EINTERNAL, "cannot restrict SPNEGO");
		goto fail;
	}
	log_info("negotiate: accepting Kerberos for %s%s from %s (replay "
		 "cache %s)",
	    srv->ns_host != NULL ? "HTTP/" : "any HTTP/ principal",
	    srv->ns_host != NULL ? srv->ns_host : "", cfg->nsc_keytab,
	    cfg->nsc_rcache != NULL ? cfg->nsc_rcache : "MIT default");
	sbuf_release(&kt);
	*out = srv;
	return 0;
fail:
	sbuf_release(&kt);
	negotiate_server_free(srv);
	return rc;
}

void
negotiate_server_free(struct negotiate_server *srv)
{
	OM_uint32 min;

	if (srv == NULL)
		return;
	if (srv->ns_cred != GSS_C_NO_CREDENTIAL)
		(void)gss_release_cred(&min, &srv->ns_cred);
	free(srv->ns_host);
	free(srv);
}

int
negotiate_accept(struct negotiate_server *srv, const char *token, size_t len,
    struct negotiate_result *res, struct wsd_err *err)
{
	gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
	gss_name_t src = GSS_C_NO_NAME, targ = GSS_C_NO_NAME;
	gss_buffer_desc in, outtok = GSS_C_EMPTY_BUFFER;
	gss_OID mech = GSS_C_NO_OID;
	OM_uint32 maj, min, flags = 0;
	struct wsd_err derr;
	unsigned char *buf = NULL;
	size_t buflen = 0;
	int rc;

	memset(res, 0, sizeof(*res));
	if (token_decode(token, len, &buf, &buflen, &derr) < 0) {
		log_info("negotiate: refused: %s (%zu bytes)", derr.what, len);
		return wsd_fail(err, derr.code, derr.what);
	}
	/* Raw NTLMSSP, as IIS would take after "Negotiate ": never here. */
	if (buflen >= 8 && memcmp(buf, "NTLMSSP", 8) == 0) {
		token_free(buf, buflen);
		log_info("negotiate: refused an NTLM token: only Kerberos");
		return wsd_fail(err, WSD_EINVAL, "NTLM is not supported");
	}
	res->nr_spnego = token_is_spnego(buf, buflen);
	in.value = buf;
	in.length = buflen;
	/* No delegated credential is asked for: MIT then keeps none. */
	maj = gss_accept_sec_context(&min, &ctx, srv->ns_cred, &in,
	    GSS_C_NO_CHANNEL_BINDINGS, &src, &mech, &outtok, &flags, NULL,
	    NULL);
	token_free(buf, buflen);
	if (GSS_ERROR(maj)) {
		gss_log("refused a Negotiate token", maj, min);
		rc = wsd_fail(err, WSD_EPERM, "Kerberos authentication failed");
		goto out;
	}
	if (maj & GSS_S_CONTINUE_NEEDED) {
		/* SPNEGO asking for another mechanism or round trip. */
		log_warnx("negotiate: refused: the client's %s token needs "
			  "another leg (not one-leg Kerberos)",
		    res->nr_spnego ? "SPNEGO" : "GSS");
		rc = wsd_fail(err, WSD_EPERM,
		    "Negotiate needs more than one leg");
		goto out;
	}
	if (!mech_is_krb5(mech)) {
		log_warnx("negotiate: refused: mechanism is not Kerberos");
		rc = wsd_fail(err, WSD_EPERM, "mechanism is not Kerberos");
		goto out;
	}
	if (flags & GSS_C_ANON_FLAG) {
		log_warnx("negotiate: refused an anonymous Kerberos client");
		rc = wsd_fail(err, WSD_EPERM, "anonymous Kerberos client");
		goto out;
	}
	if (name_display(src, res->nr_principal, sizeof(res->nr_principal),
		"client name") < 0) {
		rc = wsd_fail(err, WSD_EPERM, "unusable client name");
		goto out;
	}
	maj = gss_inquire_context(&min, ctx, NULL, &targ, NULL, NULL, NULL,
	    NULL, NULL);
	if (GSS_ERROR(maj)) {
		gss_log("inquiring the context", maj, min);
		rc = wsd_fail(err, WSD_EINTERNAL, "cannot inquire the context");
		goto out;
	}
	if (name_display(targ, res->nr_service, sizeof(res->nr_service),
		"service name") < 0 ||
	    !service_ok(res->nr_service, srv->ns_host)) {
		log_warnx("negotiate: refused %s: ticket for %s, not HTTP/%s",
		    res->nr_principal, res->nr_service,
		    srv->ns_host != NULL ? srv->ns_host : "<host>");
		rc = wsd_fail(err, WSD_EPERM, "ticket for another service");
		goto out;
	}
	if (outtok.length > NEGOTIATE_MAX_REPLY_B64 / 4 * 3) {
		log_warnx("negotiate: reply token of %zu bytes too long",
		    (size_t)outtok.length);
		rc = wsd_fail(err, WSD_EINTERNAL, "reply token too long");
		goto out;
	}
	if (outtok.length > 0)
		b64_encode(outtok.value, outtok.length, res->nr_reply);
	res->nr_mutual = (flags & GSS_C_MUTUAL_FLAG) != 0;
	log_debug("negotiate: accepted %s for %s (%s%s)", res->nr_principal,
	    res->nr_service, res->nr_spnego ? "SPNEGO" : "Kerberos",
	    res->nr_mutual ? ", mutual" : "");
	rc = 0;
out:
	if (rc < 0)
		memset(res, 0, sizeof(*res)); /* nothing half-filled leaves */
	(void)gss_release_buffer(&min, &outtok);
	(void)gss_release_name(&min, &src);
	(void)gss_release_name(&min, &targ);
	if (ctx != GSS_C_NO_CONTEXT)
		(void)gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Realm map and principal mapping */

static bool
realm_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static bool
domain_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static bool
name_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr(",\"<>&/@\\", c) == NULL;
}

static bool
label_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* [P, P+N) without surrounding SP/HTAB. */
static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

static int
realm_map_entry(const char *p, size_t n, struct negotiate_realm_map *m,
    struct wsd_err *err)
{
	const char *eq = memchr(p, '=', n), *dom;
	size_t rl, dl;

	if (eq == NULL)
		return wsd_fail(err, WSD_EINVAL,
		    "realm map entry is not REALM = DOMAIN");
	rl = (size_t)(eq - p);
	dom = eq + 1;
	dl = n - rl - 1;
	trim(&p, &rl);
	trim(&dom, &dl);
	if (rl == 0 || rl > NEGOTIATE_MAX_REALM || p[0] == '.' ||
	    p[rl - 1] == '.')
		return wsd_fail(err, WSD_EINVAL, "bad realm in the realm map");
	for (size_t i = 0; i < rl; i++)
		if (!realm_char((unsigned char)p[i]))
			return wsd_fail(err, WSD_EINVAL,
			    "bad realm in the realm map");
	if (dl == 0 || dl > NEGOTIATE_MAX_DOMAIN)
		return wsd_fail(err, WSD_EINVAL,
		    "bad NetBIOS domain in the realm map");
	for (size_t i = 0; i < dl; i++)
		if (!domain_char((unsigned char)dom[i]))
			return wsd_fail(err, WSD_EINVAL,
			    "bad NetBIOS domain in the realm map");
	for (size_t i = 0; i < m->rm_n; i++)
		if (strlen(m->rm_ent[i].realm) == rl &&
		    memcmp(m->rm_ent[i].realm, p, rl) == 0)
			return wsd_fail(err, WSD_EINVAL,
			    "realm listed twice in the realm map");
	if (m->rm_n == NEGOTIATE_MAX_REALMS)
		return wsd_fail(err, WSD_ETOOBIG, "too many realms in the map");
	memcpy(m->rm_ent[m->rm_n].realm, p, rl);
	m->rm_ent[m->rm_n].realm[rl] = '\0';
	memcpy(m->rm_ent[m->rm_n].domain, dom, dl);
	m->rm_ent[m->rm_n].domain[dl] = '\0';
	m->rm_n++;
	return 0;
}

int
negotiate_realm_map_parse(const char *text, struct negotiate_realm_map *out,
    struct wsd_err *err)
{
	const char *p = text;
	int rc;

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return 0;
	/* One entry per comma; the loop ends at the NUL (each pass eats at
	 * least the comma it stops on). */
	while (*p != '\0') {
		const char *comma = strchr(p, ',');
		size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		const char *q = p;
		size_t qn = n;

		trim(&q, &qn);
		if (qn > 0 && (rc = realm_map_entry(q, qn, out, err)) < 0) {
			memset(out, 0, sizeof(*out));
			return rc;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int
negotiate_map_principal(const char *principal,
    const struct negotiate_realm_map *map, char *out, struct wsd_err *err)
{
	const char *at, *realm, *slash, *domain = NULL;
	size_t len, nl, dl, w;

	out[0] = '\0';
	len = strnlen(principal, NEGOTIATE_MAX_PRINCIPAL);
	if (len == 0 || len == NEGOTIATE_MAX_PRINCIPAL)
		return wsd_fail(err, WSD_EPERM, "principal name length");
	/* The display form escapes '/', '@' and '\' inside components with
	 * '\': such a principal is no machine account. */
	if (strchr(principal, '\\') != NULL)
		return wsd_fail(err, WSD_EPERM, "escaped principal name");
	at = strchr(principal, '@');
	if (at == NULL || strchr(at + 1, '@') != NULL || at == principal)
		return wsd_fail(err, WSD_EPERM, "principal has no realm");
	realm = at + 1;
	for (size_t i = 0; map != NULL && i < map->rm_n; i++)
		if (strcmp(map->rm_ent[i].realm, realm) == 0) {
			domain = map->rm_ent[i].domain;
			break;
		}
	if (domain == NULL)
		return wsd_fail(err, WSD_EPERM, "realm not in the realm map");
	dl = strlen(domain);
	memcpy(out, domain, dl);
	out[dl] = '\\';
	w = dl + 1;

	nl = (size_t)(at - principal);
	slash = memchr(principal, '/', nl);
	if (slash == NULL) {
		if (nl > NEGOTIATE_MAX_NAME)
			goto refuse_name;
		for (size_t i = 0; i < nl; i++)
			if (!name_char((unsigned char)principal[i]))
				goto refuse_name;
		memcpy(out + w, principal, nl);
		out[w + nl] = '\0';
		return 0;
	}
	{
		const char *host = slash + 1;
		size_t hl = (size_t)(at - host), ll = 0;

		if ((size_t)(slash - principal) != 4 ||
		    strncasecmp(principal, "host", 4) != 0 ||
		    memchr(host, '/', hl) != NULL) {
			out[0] = '\0';
			return wsd_fail(err, WSD_EPERM,
			    "service principal other than host/");
		}
		while (ll < hl && host[ll] != '.')
			ll++;
		if (ll == 0 || ll > 63 || ll + 1 > NEGOTIATE_MAX_NAME ||
		    host[0] == '-' || host[ll - 1] == '-')
			goto refuse_name;
		for (size_t i = 0; i < ll; i++) {
			unsigned char c = (unsigned char)host[i];

			if (!label_char(c))
				goto refuse_name;
			out[w + i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
		}
		out[w + ll] = '$';
		out[w + ll + 1] = '\0';
		return 0;
	}
refuse_name:
	out[0] = '\0';
	return wsd_fail(err, WSD_EPERM, "principal name not mappable");
}

/* ------------------------------------------------------------------ */
/* Client */

int
negotiate_client_token(const char *service_host,
    const struct negotiate_client_cfg *cfg, struct negotiate_client **out,
    const char **token, struct wsd_err *err)
{
	struct negotiate_client *nc;
	gss_key_value_element_desc el[2];
	gss_key_value_set_desc store = { 0, el };
	gss_name_t me = GSS_C_NO_NAME;
	gss_buffer_desc outtok = GSS_C_EMPTY_BUFFER;
	struct sbuf kt, spn;
	OM_uint32 maj, min;
	int rc;

	*out = NULL;
	*token = NULL;
	if (service_host == NULL || !dnsname_valid(service_host))
		return wsd_fail(err, WSD_EINVAL,
		    "upstream host not a DNS name");
	nc = calloc(1, sizeof(*nc));
	if (nc == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	nc->nc_cred = GSS_C_NO_CREDENTIAL;
	nc->nc_ctx = GSS_C_NO_CONTEXT;
	nc->nc_target = GSS_C_NO_NAME;
	sbuf_init(&kt, 4096);
	sbuf_init(&spn, 8 + WSD_MAX_SERVER_NAME);

	if (sbuf_adds(&spn, "HTTP@") < 0 || sbuf_adds(&spn, service_host) < 0 ||
	    name_import(sbuf_str(&spn), GSS_C_NT_HOSTBASED_SERVICE,
		&nc->nc_target, "importing the upstream's name") < 0) {
		rc = wsd_fail(err, WSD_EINVAL, "bad upstream service name");
		goto fail;
	}
	if (cfg != NULL && cfg->ncc_client_keytab != NULL) {
		if (file_name(&kt, cfg->ncc_client_keytab) < 0) {
			rc = wsd_fail(err, WSD_ETOOBIG, "keytab path too long");
			goto fail;
		}
		el[store.count].key = "client_keytab";
		el[store.count++].value = sbuf_str(&kt);
		el[store.count].key = "ccache";
		el[store.count++].value = cfg->ncc_ccache != NULL
		    ? cfg->ncc_ccache
		    : NEGOTIATE_CLIENT_CCACHE;
	} else if (cfg != NULL && cfg->ncc_ccache != NULL) {
		el[store.count].key = "ccache";
		el[store.count++].value = cfg->ncc_ccache;
	}
	if (cfg != NULL && cfg->ncc_principal != NULL &&
	    name_import(cfg->ncc_principal, GSS_KRB5_NT_PRINCIPAL_NAME, &me,
		"importing the client principal") < 0) {
		rc = wsd_fail(err, WSD_EINVAL, "bad client principal");
		goto fail;
	}
	maj = gss_acquire_cred_from(&min, me, GSS_C_INDEFINITE, &spnego_mechs,
	    GSS_C_INITIATE, store.count > 0 ? &store : GSS_C_NO_CRED_STORE,
	    &nc->nc_cred, NULL, NULL);
	if (GSS_ERROR(maj)) {
		gss_log("acquiring the downstream's credential", maj, min);
		nc->nc_cred = GSS_C_NO_CREDENTIAL;
		rc = wsd_fail(err, WSD_EPERM, "no Kerberos credential");
		goto fail;
	}
	maj = gss_set_neg_mechs(&min, nc->nc_cred, &krb5_mechs);
	if (GSS_ERROR(maj)) {
		gss_log("restricting SPNEGO to Kerberos", maj, min);
		rc = wsd_fail(err, WSD_EINTERNAL, "cannot restrict SPNEGO");
		goto fail;
	}
	maj = gss_init_sec_context(&min, nc->nc_cred, &nc->nc_ctx,
	    nc->nc_target, &spnego_oid, GSS_C_MUTUAL_FLAG, GSS_C_INDEFINITE,
	    GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER, NULL, &outtok, NULL,
	    NULL);
	if (GSS_ERROR(maj)) {
		log_warnx("negotiate: no ticket for HTTP/%s", service_host);
		gss_log("starting the exchange", maj, min);
		rc = wsd_fail(err, WSD_EPERM, "cannot get a Kerberos ticket");
		goto fail;
	}
	if (outtok.length == 0 || outtok.length > NEGOTIATE_MAX_TOKEN) {
		log_warnx("negotiate: initial token of %zu bytes",
		    (size_t)outtok.length);
		rc = wsd_fail(err, WSD_ETOOBIG, "initial token size");
		goto fail;
	}
	nc->nc_token = malloc((outtok.length + 2) / 3 * 4 + 1);
	if (nc->nc_token == NULL) {
		rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
		goto fail;
	}
	b64_encode(outtok.value, outtok.length, nc->nc_token);
	(void)gss_release_buffer(&min, &outtok);
	(void)gss_release_name(&min, &me);
	sbuf_release(&kt);
	sbuf_release(&spn);
	*out = nc;
	*token = nc->nc_token;
	return 0;
fail:
	(void)gss_release_buffer(&min, &outtok);
	(void)gss_release_name(&min, &me);
	sbuf_release(&kt);
	sbuf_release(&spn);
	negotiate_client_free(nc);
	return rc;
}

int
negotiate_client_verify(struct negotiate_client *nc, const char *reply,
    size_t len, struct wsd_err *err)
{
	gss_buffer_desc in, outtok = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj, min, flags = 0;
	struct wsd_err derr;
	unsigned char *buf = NULL;
	size_t buflen = 0;

	if (nc == NULL || nc->nc_ctx == GSS_C_NO_CONTEXT || nc->nc_done)
		return wsd_fail(err, WSD_EINVAL, "no exchange to verify");
	if (len == 0) {
		log_warnx("negotiate: the upstream sent no mutual-"
			  "authentication token");
		return wsd_fail(err, WSD_EPERM,
		    "upstream did not authenticate itself");
	}
	if (token_decode(reply, len, &buf, &buflen, &derr) < 0) {
		log_warnx("negotiate: upstream reply: %s", derr.what);
		return wsd_fail(err, derr.code, derr.what);
	}
	in.value = buf;
	in.length = buflen;
	maj = gss_init_sec_context(&min, nc->nc_cred, &nc->nc_ctx,
	    nc->nc_target, &spnego_oid, GSS_C_MUTUAL_FLAG, GSS_C_INDEFINITE,
	    GSS_C_NO_CHANNEL_BINDINGS, &in, NULL, &outtok, &flags, NULL);
	token_free(buf, buflen);
	(void)gss_release_buffer(&min, &outtok);
	if (GSS_ERROR(maj)) {
		gss_log("verifying the upstream's reply", maj, min);
		return wsd_fail(err, WSD_EPERM,
		    "upstream's mutual authentication failed");
	}
	if ((maj & GSS_S_CONTINUE_NEEDED) || !(flags & GSS_C_MUTUAL_FLAG)) {
		log_warnx("negotiate: the upstream's reply did not complete "
			  "mutual authentication");
		return wsd_fail(err, WSD_EPERM,
		    "upstream's mutual authentication incomplete");
	}
	nc->nc_done = true;
	return 0;
}

void
negotiate_client_free(struct negotiate_client *nc)
{
	OM_uint32 min;

	if (nc == NULL)
		return;
	if (nc->nc_ctx != GSS_C_NO_CONTEXT)
		(void)gss_delete_sec_context(&min, &nc->nc_ctx,
		    GSS_C_NO_BUFFER);
	if (nc->nc_cred != GSS_C_NO_CREDENTIAL)
		(void)gss_release_cred(&min, &nc->nc_cred);
	(void)gss_release_name(&min, &nc->nc_target);
	free(nc->nc_token);
	free(nc);
}
