/*
 * The server TLS context (OpenSSL 3): TLS 1.2 and 1.3 only, ECDHE with
 * AES-GCM or ChaCha20-Poly1305 on 1.2, no compression, no client-initiated
 * renegotiation, session resumption by cache and tickets (S20). The
 * context is built once per configuration generation; SSL objects hold
 * their own reference, so an old context lives until its last connection.
 */
#ifndef WSUSD_NET_TLS_H
#define WSUSD_NET_TLS_H

#include <openssl/ssl.h>

#include "common/wsd_err.h"

/* Loads CERT_PATH (leaf + chain) and KEY_PATH; checks the pair matches. */
int tls_server_ctx_new(const char *cert_path, const char *key_path,
    SSL_CTX **out, struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Asks TLS clients of CTX for a certificate issued by one of the CAs in
 * CA_PATH (PEM; their names go in the CertificateRequest) without
 * requiring one: a client without a certificate (every Windows Update
 * Agent) or with one that does not verify still completes the handshake,
 * and the verdict is left on the connection for the request handler
 * (tls_peer_verified). Verification uses CA_PATH only, never a system
 * trust store; each certificate in it is a trust anchor (an issuing CA
 * need not come with its root); purpose sslclient (an extended key usage
 * without clientAuth is refused); depth at most WSD_TLS_CLIENT_DEPTH.
 * No CRLs: the authorization list is where a server is turned away.
 * Fails (logged) when CA_PATH is unreadable or holds no certificate.
 */
#define WSD_TLS_CLIENT_DEPTH 4
int tls_server_client_ca(SSL_CTX *ctx, const char *ca_path,
    struct wsd_err *err) WSD_MUST_CHECK;

/* A set of trusted CAs for client certificates outside the handshake's
 * own (admin_client_ca), with the same verification parameters. */
struct tls_ca {
	X509_STORE *ca_store;
	X509_VERIFY_PARAM *ca_param;
};

/*
 * Loads CA_PATH into *OUT for tls_peer_verified_store and adds its names
 * to those CTX's CertificateRequest lists (asking for a certificate
 * when nothing else did). 0, or an error naming the file's problem.
 */
int tls_server_admin_ca(SSL_CTX *ctx, const char *ca_path,
    struct tls_ca **out, struct wsd_err *err) WSD_MUST_CHECK;
void tls_ca_free(struct tls_ca *ca);

/* What tls_peer_verified found on a connection. */
enum tls_peer {
	TLS_PEER_NONE,     /* no certificate sent, or none was requested */
	TLS_PEER_VERIFIED, /* *LEAF verified now against CTX's CAs */
	TLS_PEER_REFUSED,  /* a certificate that does not verify: *WHY */
};

/*
 * The client certificate of SSL, judged against CTX (the configuration
 * generation the request runs under, which may be newer than the one
 * the handshake used: then the chain is verified again against CTX's
 * CAs, so a SIGHUP that changes the CA file applies to open connections
 * too). A certificate past its notAfter is refused even when its session
 * began before then. CTX without client certificates configured: always
 * TLS_PEER_NONE. *LEAF is borrowed from SSL; *WHY is a static text.
 */
enum tls_peer tls_peer_verified(const SSL *ssl, SSL_CTX *ctx, X509 **leaf,
    const char **why);

/* The same judged against CA (always again: the handshake used CTX's). */
enum tls_peer tls_peer_verified_store(const SSL *ssl, const struct tls_ca *ca,
    X509 **leaf, const char **why);

/*
 * wsusd's protocol, cipher and group policy on a context made elsewhere
 * (libcurl's, through CURLOPT_SSL_CTX_FUNCTION): wuagent's connections
 * offer what wsusd accepts, from the same code. 0 or -1 (logged).
 */
int tls_client_policy(SSL_CTX *ctx) WSD_MUST_CHECK;

/* Outbound (wuagent, downstream sync): same policy, peer verification on. */
int tls_client_ctx_new(const char *ca_file, SSL_CTX **out,
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
