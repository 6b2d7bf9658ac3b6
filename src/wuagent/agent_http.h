/*
 * wuagent's HTTP(S) client (issue #6 items 2-4): one libcurl easy handle
 * per agent, so a scan's calls share one kept-alive TLS connection as
 * the Windows agent's do.
 *
 * TLS: TLS 1.2 or later, the server verified against CFG->ca_file (else
 * the system store) and its name checked; there is no switch to turn
 * verification off. A refused server gives an error naming the cause
 * ("certificate has expired", "certificate is not trusted: unable to
 * get local issuer certificate", "certificate name does not match
 * wsus.example.com", ...) as OpenSSL's verify result says it. http://
 * URLs are refused unless the config allows insecure HTTP (content URLs
 * are plain HTTP by design and always allowed: their bytes are checked
 * against the digests in the metadata).
 *
 * SOAP answers: "Accept-Encoding: xpress" is sent as Windows does and an
 * xpress-coded answer decoded (common/xpress.h); answers are capped at
 * AGENT_HTTP_MAX_ANSWER.
 */
#ifndef WSUSD_WUAGENT_AGENT_HTTP_H
#define WSUSD_WUAGENT_AGENT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "common/sbuf.h"
#include "common/wsd_err.h"
#include "wuagent/agent_config.h"

#define AGENT_HTTP_MAX_ANSWER (64UL * 1024 * 1024)

struct agent_http;

/*
 * The TLS settings of every wuagent libcurl handle: the peer and its
 * name verified, TLS 1.2 or later, wsusd's own policy applied to curl's
 * OpenSSL context (net/tls.c tls_client_policy: the same protocol,
 * cipher and group lists wsusd accepts), and with a CA file only that
 * file trusted (curl's CA path cleared).
 */
CURLcode agent_curl_tls(CURL *curl, const struct agent_config *cf);

int agent_http_open(const struct agent_config *cf, struct agent_http **out,
    struct wsd_err *err) WSD_MUST_CHECK;
void agent_http_close(struct agent_http *h);

/*
 * POSTs the SOAP request BODY (LEN bytes) to URL with
 * SOAPAction: "ACTION" (quoted, as Windows sends it) and the Windows
 * agent's User-Agent. *STATUS gets the HTTP status (200, 500 for a
 * fault, ...), OUT (empty, sbuf_init'd by the caller) the decoded answer.
 * Returns 0 when an HTTP answer came, whatever its status; < 0 with MSG
 * (a human-readable cause of at most MSG_SIZE bytes) when none did:
 * WSD_EPERM an http:// URL without AllowInsecureHttp (MSG says why),
 * WSD_ETLS TLS refused (naming why), WSD_EAGAIN connection refused or
 * timeout, WSD_ETOOBIG an answer over AGENT_HTTP_MAX_ANSWER (or OUT's
 * cap), WSD_EINVAL a bad URL, SOAPAction or answer coding. On failure OUT
 * is released (empty). Answers that are not xpress-coded are taken as
 * they come (identity); any other Content-Encoding is an error.
 */
int agent_http_soap(struct agent_http *h, const char *url, const char *action,
    const char *body, size_t len, long *status, struct sbuf *out, char *msg,
    size_t msg_size) WSD_MUST_CHECK;

/*
 * Downloads URL into the file PATH, resuming from PATH's current length
 * with a Range request (a server answering 200 to a range restarts the
 * file from zero); RANGE_SIZE > 0 fetches in pieces of that many bytes
 * (Delivery Optimization style). EXPECT_SIZE is the size the metadata
 * gives: more bytes than that is an error, and the download stops there.
 * Returns 0 when PATH holds EXPECT_SIZE bytes; < 0 with MSG otherwise
 * (what was received stays in PATH for the next attempt):
 *
 *   WSD_EAGAIN  network, timeout, HTTP status other than 200/206, or an
 *               answer that does not fit the request: try again later
 *   WSD_ETLS    the server's certificate was refused (MSG names why)
 *   WSD_EPERM   URL scheme other than http or https
 *   WSD_EINVAL  malformed URL
 *   WSD_EUNSAT  the server's file is not the metadata's: another total
 *               size (Content-Length, Content-Range total, 416, more
 *               bytes than EXPECT_SIZE); the caller should delete PATH
 *   WSD_EIO     PATH could not be opened, written or synced
 *
 * Content GETs carry the headers Delivery Optimization sends in the
 * captures (User-Agent Microsoft-Delivery-Optimization/10.1, Accept of any
 * type, Range bytes=A-B, MS-CV, Content-Length: 0). A PATH longer than
 * EXPECT_SIZE is truncated to zero first: it cannot be a prefix.
 * PATH is opened O_NOFOLLOW and created 0600.
 */
int agent_http_fetch(struct agent_http *h, const char *url, const char *path,
    uint64_t expect_size, uint64_t range_size, char *msg,
    size_t msg_size) WSD_MUST_CHECK;

/*
 * agent_http_fetch into an open, writable file FD (its length is the
 * resume point; it is written with pwrite and fdatasync'ed on success),
 * for callers that hold a lock on it (agent_download.c).
 */
int agent_http_fetch_fd(struct agent_http *h, const char *url, int fd,
    uint64_t expect_size, uint64_t range_size, char *msg,
    size_t msg_size) WSD_MUST_CHECK;

/*
 * Caps the receive rate of H's transfers (SOAP and content) at
 * BYTES_PER_SEC, as BITS throttling does; 0 removes the cap.
 */
void agent_http_set_max_rate(struct agent_http *h, uint64_t bytes_per_sec);

#endif
