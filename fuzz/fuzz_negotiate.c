/*
 * Fuzz target for the text parsers of src/auth/negotiate.h that sit
 * next to Kerberos (the token bytes themselves are MIT GSSAPI's to
 * parse): the realm map of wsusd.conf (kerberos_realm_map) and the
 * mapping of an authenticated principal's display name to DOMAIN\name,
 * which a KDC of another realm (a trust) chooses.
 *
 * Input: one mode byte, then NUL-free text (a NUL ends it).
 *	bit 0	0: negotiate_realm_map_parse; 1: negotiate_map_principal
 *		with the map "CORP.EXAMPLE = CORP, EAST.CORP.EXAMPLE = EAST"
 *	bit 1	instead: negotiate_accept, the token of an Authorization
 *		header, against an acceptor with a keytab made at start
 *		(HTTP/fuzz.example, a random AES key): the token framing,
 *		strict base64, the NTLM refusal, SPNEGO detection and MIT's
 *		parsing of what is inside. Bit 2: the bytes (not text) are
 *		base64-encoded here first, so GSSAPI sees them.
 *
 * Checks (a broken one traps): a refused map is empty, with a static
 * reason; a parsed one has at most NEGOTIATE_MAX_REALMS entries, each
 * NUL-terminated within its bounds, and every realm of it maps
 * "x@REALM" to "DOMAIN\x"; a refused principal leaves OUT empty, a
 * mapped one is "DOMAIN\name" with a domain of the map, no second
 * backslash, within NEGOTIATE_MAX_IDENTITY. A token (no ticket can be
 * valid: the key is random) is refused with EINVAL, ETOOBIG or EPERM
 * and a reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <krb5.h>
#include <openssl/evp.h>

#include "auth/negotiate.h"
#include "common/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
realm_map(const char *text)
{
	struct negotiate_realm_map m;
	struct wsd_err err = { WSD_OK, NULL };
	char p[NEGOTIATE_MAX_PRINCIPAL + 8], id[NEGOTIATE_MAX_IDENTITY];

	if (negotiate_realm_map_parse(text, &m, &err) < 0) {
		if (err.what == NULL || m.rm_n != 0)
			__builtin_trap();
		return;
	}
	if (m.rm_n > NEGOTIATE_MAX_REALMS)
		__builtin_trap();
	for (size_t i = 0; i < m.rm_n; i++) {
		size_t dl;

		if (memchr(m.rm_ent[i].realm, '\0',
			sizeof(m.rm_ent[i].realm)) == NULL ||
		    memchr(m.rm_ent[i].domain, '\0',
			sizeof(m.rm_ent[i].domain)) == NULL)
			__builtin_trap();
		snprintf(p, sizeof(p), "x@%s", m.rm_ent[i].realm);
		if (negotiate_map_principal(p, &m, id, &err) < 0)
			__builtin_trap();
		dl = strlen(m.rm_ent[i].domain);
		if (strncmp(id, m.rm_ent[i].domain, dl) != 0 ||
		    strcmp(id + dl, "\\x") != 0)
			__builtin_trap();
	}
}

static void
principal(const char *text)
{
	static struct negotiate_realm_map m;
	static int have;
	struct wsd_err err = { WSD_OK, NULL };
	char id[NEGOTIATE_MAX_IDENTITY];
	const char *bs;

	if (!have) {
		if (negotiate_realm_map_parse(
			"CORP.EXAMPLE = CORP, EAST.CORP.EXAMPLE = EAST", &m,
			&err) < 0)
			__builtin_trap();
		have = 1;
	}
	memset(id, 'Z', sizeof(id));
	if (negotiate_map_principal(text, &m, id, &err) < 0) {
		if (err.what == NULL || id[0] != '\0')
			__builtin_trap();
		return;
	}
	if (memchr(id, '\0', sizeof(id)) == NULL ||
	    (bs = strchr(id, '\\')) == NULL || strchr(bs + 1, '\\') != NULL ||
	    bs[1] == '\0')
		__builtin_trap();
	if (!((bs - id == 4 && strncmp(id, "CORP", 4) == 0) ||
		(bs - id == 4 && strncmp(id, "EAST", 4) == 0)))
		__builtin_trap();
}

static char ktdir[] = "/tmp/wsusd-fuzz-negotiate-XXXXXX";
static char ktpath[sizeof(ktdir) + 16];

static void
remove_keytab(void)
{
	char rc[sizeof(ktdir) + 16];

	snprintf(rc, sizeof(rc), "%s/rcache", ktdir);
	unlink(rc);
	unlink(ktpath);
	rmdir(ktdir);
}

/* A keytab with one random key for HTTP/fuzz.example@FUZZ.EXAMPLE. */
static void
make_keytab(void)
{
	krb5_context kc;
	krb5_keytab kt;
	krb5_keytab_entry e;
	char name[sizeof(ktpath) + 8];

	if (mkdtemp(ktdir) == NULL)
		__builtin_trap();
	snprintf(ktpath, sizeof(ktpath), "%s/http.keytab", ktdir);
	snprintf(name, sizeof(name), "FILE:%s", ktpath);
	atexit(remove_keytab);
	memset(&e, 0, sizeof(e));
	if (krb5_init_context(&kc) != 0 ||
	    krb5_kt_resolve(kc, name, &kt) != 0 ||
	    krb5_parse_name(kc, "HTTP/fuzz.example@FUZZ.EXAMPLE",
		&e.principal) != 0 ||
	    krb5_c_make_random_key(kc, ENCTYPE_AES256_CTS_HMAC_SHA1_96,
		&e.key) != 0)
		__builtin_trap();
	e.vno = 1;
	if (krb5_kt_add_entry(kc, kt, &e) != 0 || krb5_kt_close(kc, kt) != 0)
		__builtin_trap();
	krb5_free_keyblock_contents(kc, &e.key);
	krb5_free_principal(kc, e.principal);
	krb5_free_context(kc);
	if (chmod(ktpath, 0600) < 0)
		__builtin_trap();
}

static void
accept_token(const uint8_t *data, size_t size, int encode)
{
	static struct negotiate_server *srv;
	static char b64[NEGOTIATE_MAX_TOKEN_B64 + 8];
	static char rcache[sizeof(ktdir) + 16];
	struct negotiate_result res;
	struct wsd_err err = { WSD_OK, NULL };
	const char *tok = (const char *)data;
	size_t n = size;
	int rc;

	if (srv == NULL) {
		struct negotiate_server_cfg cfg;

		log_set_level(LOG_LVL_ERROR);
		make_keytab();
		memset(&cfg, 0, sizeof(cfg));
		cfg.nsc_keytab = ktpath;
		cfg.nsc_server_name = "fuzz.example";
		snprintf(rcache, sizeof(rcache), "file2:%s/rcache", ktdir);
		cfg.nsc_rcache = rcache;
		if (negotiate_server_new(&cfg, &srv, &err) < 0) {
			fprintf(stderr, "fuzz_negotiate: %s\n", err.what);
			__builtin_trap();
		}
	}
	if (encode) {
		if (size > (sizeof(b64) - 8) / 4 * 3)
			return;
		n = (size_t)EVP_EncodeBlock((unsigned char *)b64, data,
		    (int)size);
		tok = b64;
	}
	rc = negotiate_accept(srv, tok, n, &res, &err);
	if (rc == 0 || (rc != WSD_EINVAL && rc != WSD_ETOOBIG &&
			   rc != WSD_EPERM) ||
	    err.what == NULL)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[4096];
	size_t n;

	if (size < 1)
		return 0;
	if (data[0] & 2) {
		accept_token(data + 1, size - 1, data[0] & 4);
		return 0;
	}
	n = size - 1 < sizeof(text) - 1 ? size - 1 : sizeof(text) - 1;
	memcpy(text, data + 1, n);
	text[n] = '\0';
	if ((data[0] & 1) == 0)
		realm_map(text);
	else
		principal(text);
	return 0;
}
