/*
 * curl_tls: what every libcurl client of wsusd (wuagent, a downstream
 * server's synchronization) does the same way: the TLS settings of a
 * handle, the check of a URL before it is used, and the cause of a
 * failed transfer in words an administrator can act on.
 */
#ifndef WSUSD_NET_CURL_TLS_H
#define WSUSD_NET_CURL_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

/*
 * The peer and its name verified, TLS 1.2 or later, wsusd's own policy
 * applied to curl's OpenSSL context (tls_client_policy: the protocol,
 * cipher and group lists wsusd accepts). CA_FILE non-empty: only that
 * file is trusted (curl's CA path cleared); else the system store.
 */
CURLcode curl_tls_setup(CURL *curl, const char *ca_file);

/*
 * Checks URL's scheme (https, or http when HTTP_OK; WHY_HTTPS says why
 * not) and copies its host into HOST for messages. Returns 0, or
 * WSD_EINVAL / WSD_EPERM / WSD_ENOMEM with MSG.
 */
int curl_check_url(const char *url, bool http_ok, const char *why_https,
    char *host, size_t host_size, char *msg, size_t msg_size);

/*
 * A failed transfer's cause, for people: TLS refusals name what was
 * wrong with the certificate (OpenSSL's verify result; curl's own name
 * check leaves that at X509_V_OK and says so in ERRBUF). Returns
 * WSD_ETLS for a TLS refusal, WSD_EAGAIN for the rest.
 */
int curl_transfer_cause(CURL *curl, CURLcode c, const char *errbuf,
    const char *host, char *msg, size_t msg_size);

#endif
