#include "net/tls.h"

#include <stdbool.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/log.h"

/* TLS 1.2: forward secrecy and AEAD only; TLS 1.3 suites are all AEAD. */
#define WSD_TLS12_CIPHERS                                                   \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"       \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"       \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
/* TLS 1.3 in the same order: AES-128-GCM first under server preference
 * (OpenSSL's default puts AES-256 first), as for TLS 1.2; it costs fewer
 * cycles per byte on every answer (bench/scan.sh's TLS cost). */
#define WSD_TLS13_SUITES                                                    \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"                   \
	"TLS_CHACHA20_POLY1305_SHA256"

static int
tls_policy(SSL_CTX *ctx)
{
	/* Not const: the OpenSSL macro casts its argument to char *. */
	static char groups[] = "X25519:P-256:P-384";

	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, 0) ||
	    !SSL_CTX_set_cipher_list(ctx, WSD_TLS12_CIPHERS) ||
	    !SSL_CTX_set_ciphersuites(ctx, WSD_TLS13_SUITES) ||
	    !SSL_CTX_set1_groups_list(ctx, groups))
		return -1;
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
		SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* OpenSSL 3 refuses client-initiated renegotiation unless
	 * SSL_OP_ALLOW_CLIENT_RENEGOTIATION is set; we never set it. */
	return 0;
}

/* How wsusd's own connections (net/conn.c) read and write; not for a
 * context whose I/O belongs to someone else (libcurl's). */
static void
tls_conn_io(SSL_CTX *ctx)
{
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
		SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* Read what the socket holds in one recv, not a record header and
	 * then its body in two (readers must then ask SSL_has_pending, not
	 * SSL_pending, whether OpenSSL holds more: libcurl asks
	 * SSL_pending, so its contexts must not read ahead). */
	SSL_CTX_set_read_ahead(ctx, 1);
}

int
tls_server_ctx_new(const char *cert_path, const char *key_path, SSL_CTX **out,
    struct wsd_err *err)
{
	static const unsigned char sid_ctx[] = "wsusd";
	SSL_CTX *ctx;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		log_ssl("SSL_CTX_new");
		return wsd_fail(err, WSD_ETLS, "cannot create TLS context");
	}
	if (tls_policy(ctx) < 0) {
		log_ssl("TLS policy");
		goto fail;
	}
	tls_conn_io(ctx);
	/* A kept-alive client's record buffers go back between requests,
	 * to wsusd's pool (net/tls_bufpool.c) rather than malloc: 1,000
	 * idle connections then hold none, and the next request gets a
	 * buffer still in cache (bench/scan.sh: TLS cost per warm rescan
	 * from about +8 % to +5 %). */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		log_ssl("%s", cert_path);
		SSL_CTX_free(ctx);
		return wsd_fail(err, WSD_ETLS, "cannot load certificate");
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) !=
	    1) {
		log_ssl("%s", key_path);
		SSL_CTX_free(ctx);
		return wsd_fail(err, WSD_ETLS, "cannot load private key");
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		log_ssl("%s does not match %s", key_path, cert_path);
		SSL_CTX_free(ctx);
		return wsd_fail(err, WSD_ETLS,
		    "private key does not match the certificate");
	}
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(ctx, 20000);
	SSL_CTX_set_timeout(ctx, 3600);
	/* TLS 1.3 tickets: one per handshake is what clients reuse. */
	SSL_CTX_set_num_tickets(ctx, 1);
	*out = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return wsd_fail(err, WSD_ETLS, "cannot apply TLS policy");
}

int
tls_client_policy(SSL_CTX *ctx)
{
	ERR_clear_error();
	if (tls_policy(ctx) < 0) {
		log_ssl("TLS policy");
		return -1;
	}
	return 0;
}

int
tls_client_ctx_new(const char *ca_file, SSL_CTX **out, struct wsd_err *err)
{
	SSL_CTX *ctx;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		log_ssl("SSL_CTX_new");
		return wsd_fail(err, WSD_ETLS, "cannot create TLS context");
	}
	if (tls_policy(ctx) < 0) {
		log_ssl("TLS policy");
		SSL_CTX_free(ctx);
		return wsd_fail(err, WSD_ETLS, "cannot apply TLS policy");
	}
	tls_conn_io(ctx);
	if ((ca_file != NULL &&
		SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) ||
	    (ca_file == NULL && SSL_CTX_set_default_verify_paths(ctx) != 1)) {
		log_ssl("%s", ca_file ? ca_file : "system trust store");
		SSL_CTX_free(ctx);
		return wsd_fail(err, WSD_ETLS, "cannot load trust store");
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	*out = ctx;
	return 0;
}

/*
 * Never fails the handshake: clients without a certificate, or with one
 * from another CA, must still reach the anonymous roots. OpenSSL keeps the
 * last verification error as the connection's (and session's) verify
 * result, which tls_peer_verified reads; SSL_CTX_set_verify documents
 * this use.
 */
static int
client_cert_cb(int ok, X509_STORE_CTX *xs)
{
	(void)ok;
	(void)xs;
	return 1;
}

/* Client certificate verification for the handshake and per root. */
static int
client_param(X509_VERIFY_PARAM *param)
{
	if (X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_CLIENT) !=
		1 ||
	    X509_VERIFY_PARAM_set_trust(param, X509_TRUST_SSL_CLIENT) != 1 ||
	    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN) !=
		1)
		return -1;
	X509_VERIFY_PARAM_set_depth(param, WSD_TLS_CLIENT_DEPTH);
	return 0;
}

int
tls_server_client_ca(SSL_CTX *ctx, const char *ca_path, struct wsd_err *err)
{
	STACK_OF(X509_NAME) *names;
	X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);

	ERR_clear_error();
	/* The server context's store is empty until here (no system trust
	 * store is ever loaded into it), so CA_PATH is all it trusts. */
	if (SSL_CTX_load_verify_locations(ctx, ca_path, NULL) != 1) {
		log_ssl("serversync_client_ca %s", ca_path);
		return wsd_fail(err, WSD_ETLS,
		    "cannot load the client certificate CA file");
	}
	if ((names = SSL_load_client_CA_file(ca_path)) == NULL ||
	    sk_X509_NAME_num(names) == 0) {
		sk_X509_NAME_pop_free(names, X509_NAME_free);
		log_ssl("serversync_client_ca %s: no CA certificate", ca_path);
		return wsd_fail(err, WSD_ETLS,
		    "no certificate in the client certificate CA file");
	}
	SSL_CTX_set_client_CA_list(ctx, names); /* takes NAMES */
	if (client_param(param) < 0) {
		log_ssl("client certificate verification parameters");
		return wsd_fail(err, WSD_ETLS,
		    "cannot set client certificate verification");
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, client_cert_cb);
	return 0;
}

/* Verifies LEAF (with the peer's chain as untrusted help) against the
 * CAs of STORE under PARAM, as the handshake would have. */
static int
reverify(const SSL *ssl, X509_STORE *store, const X509_VERIFY_PARAM *param,
    X509 *leaf)
{
	X509_STORE_CTX *xs;
	int rc = X509_V_ERR_UNSPECIFIED;

	if ((xs = X509_STORE_CTX_new()) == NULL)
		return rc;
	if (X509_STORE_CTX_init(xs, store, leaf,
		SSL_get_peer_cert_chain(ssl)) == 1 &&
	    X509_STORE_CTX_set_default(xs, "ssl_client") == 1 &&
	    X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(xs), param) ==
		1) {
		rc = X509_verify_cert(xs) == 1 ? X509_V_OK :
						   X509_STORE_CTX_get_error(xs);
	}
	X509_STORE_CTX_free(xs);
	ERR_clear_error();
	return rc;
}

/* The verdict on LEAF, VR, with its expiry checked again. */
static enum tls_peer
verdict(X509 *leaf, long vr, const char **why)
{
	if (vr != X509_V_OK) {
		*why = X509_verify_cert_error_string(vr);
		return TLS_PEER_REFUSED;
	}
	/* A session (resumed, or a long keep-alive) may outlive notAfter. */
	if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
		*why = X509_verify_cert_error_string(
		    X509_V_ERR_CERT_HAS_EXPIRED);
		return TLS_PEER_REFUSED;
	}
	return TLS_PEER_VERIFIED;
}

enum tls_peer
tls_peer_verified(const SSL *ssl, SSL_CTX *ctx, X509 **leaf, const char **why)
{
	long vr;

	*leaf = NULL;
	*why = NULL;
	if (ssl == NULL || ctx == NULL ||
	    (SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER) == 0)
		return TLS_PEER_NONE;
	if ((*leaf = SSL_get0_peer_certificate(ssl)) == NULL)
		return TLS_PEER_NONE;
	if (SSL_get_SSL_CTX(ssl) == ctx &&
	    (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) != 0)
		vr = SSL_get_verify_result(ssl);
	else
		vr = reverify(ssl, SSL_CTX_get_cert_store(ctx),
		    SSL_CTX_get0_param(ctx), *leaf);
	return verdict(*leaf, vr, why);
}

enum tls_peer
tls_peer_verified_store(const SSL *ssl, const struct tls_ca *ca, X509 **leaf,
    const char **why)
{
	*leaf = NULL;
	*why = NULL;
	if (ssl == NULL || ca == NULL ||
	    (*leaf = SSL_get0_peer_certificate(ssl)) == NULL)
		return TLS_PEER_NONE;
	return verdict(*leaf, reverify(ssl, ca->ca_store, ca->ca_param, *leaf),
	    why);
}

/* CTX's CertificateRequest names NAMES too (a copy), once each. */
static int
add_ca_names(SSL_CTX *ctx, const STACK_OF(X509_NAME) *names)
{
	const STACK_OF(X509_NAME) *have = SSL_CTX_get_client_CA_list(ctx);
	STACK_OF(X509_NAME) *all = sk_X509_NAME_new_null();
	int n = have ? sk_X509_NAME_num(have) : 0;

	if (all == NULL)
		return -1;
	for (int i = 0; i < n + sk_X509_NAME_num(names); i++) {
		const X509_NAME *x = i < n ? sk_X509_NAME_value(have, i) :
					     sk_X509_NAME_value(names, i - n);
		X509_NAME *d;
		bool dup = false;

		for (int j = 0; j < sk_X509_NAME_num(all) && !dup; j++)
			dup = X509_NAME_cmp(sk_X509_NAME_value(all, j), x) == 0;
		if (dup)
			continue;
		if ((d = X509_NAME_dup(x)) == NULL ||
		    sk_X509_NAME_push(all, d) <= 0) {
			X509_NAME_free(d);
			sk_X509_NAME_pop_free(all, X509_NAME_free);
			return -1;
		}
	}
	SSL_CTX_set_client_CA_list(ctx, all); /* takes ALL */
	return 0;
}

int
tls_server_admin_ca(SSL_CTX *ctx, const char *ca_path, struct tls_ca **out,
    struct wsd_err *err)
{
	STACK_OF(X509_NAME) *names;
	struct tls_ca *ca;

	*out = NULL;
	ERR_clear_error();
	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	if ((ca->ca_store = X509_STORE_new()) == NULL ||
	    (ca->ca_param = X509_VERIFY_PARAM_new()) == NULL ||
	    client_param(ca->ca_param) < 0) {
		tls_ca_free(ca);
		log_ssl("admin_client_ca");
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	if (X509_STORE_load_file(ca->ca_store, ca_path) != 1) {
		tls_ca_free(ca);
		log_ssl("admin_client_ca %s", ca_path);
		return wsd_fail(err, WSD_ETLS,
		    "cannot load the administrators' client certificate CA "
		    "file");
	}
	if ((names = SSL_load_client_CA_file(ca_path)) == NULL ||
	    sk_X509_NAME_num(names) == 0) {
		sk_X509_NAME_pop_free(names, X509_NAME_free);
		tls_ca_free(ca);
		log_ssl("admin_client_ca %s: no CA certificate", ca_path);
		return wsd_fail(err, WSD_ETLS,
		    "no certificate in the administrators' client certificate "
		    "CA file");
	}
	/* The handshake asks for a certificate from these CAs too; whether
	 * one verifies is decided per root, against its own CAs. */
	if (add_ca_names(ctx, names) < 0) {
		sk_X509_NAME_pop_free(names, X509_NAME_free);
		tls_ca_free(ca);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	sk_X509_NAME_pop_free(names, X509_NAME_free);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, client_cert_cb);
	*out = ca;
	return 0;
}

void
tls_ca_free(struct tls_ca *ca)
{
	if (ca == NULL)
		return;
	X509_STORE_free(ca->ca_store);
	X509_VERIFY_PARAM_free(ca->ca_param);
	free(ca);
}
