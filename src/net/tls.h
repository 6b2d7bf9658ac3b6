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
 * wsusd's protocol, cipher and group policy on a context made elsewhere
 * (libcurl's, through CURLOPT_SSL_CTX_FUNCTION): wuagent's connections
 * offer what wsusd accepts, from the same code. 0 or -1 (logged).
 */
int tls_client_policy(SSL_CTX *ctx) WSD_MUST_CHECK;

/* Outbound (wuagent, downstream sync): same policy, peer verification on. */
int tls_client_ctx_new(const char *ca_file, SSL_CTX **out,
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
