/*
 * sync_client: a downstream server's MS-WSUSSS client (WSUSSS.md 7.1,
 * 8): one libcurl handle to the upstream, kept alive for the whole
 * synchronization as a Windows DSS keeps its connection.
 *
 * Security (issue #7 item 2): "Use SSL when synchronizing" is the
 * default: SOAP goes only to an https:// URL, the upstream verified
 * against DATADIR/tls/trust/ (every *.pem and *.crt there, and nothing
 * else) or, when that holds no certificate, the system store; the name
 * in the URL must match. There is no switch to accept an untrusted
 * certificate. With --no-ssl the URL is http:// and nothing is
 * verified: the metadata then travels in the clear, as WSUS warns.
 * Identity towards the upstream: HTTP Negotiate (Kerberos, from the
 * environment's credential cache or the client keytab sync_keytab sets)
 * and/or a TLS client certificate.
 *
 * Every answer is bounded (SYNC_MAX_ANSWER) and parsed as hostile input
 * (soap_parse.h; GetRevisionIdList with a streaming reader).
 */
#ifndef WSUSD_SYNC_SYNC_CLIENT_H
#define WSUSD_SYNC_SYNC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sbuf.h"
#include "common/wsd_err.h"
#include "soap/soap_parse.h"

#define SYNC_MAX_ANSWER (256UL * 1024 * 1024)
/* A SOAP fault came back; sync_client_fault() says which. */
#define SYNC_EFAULT (-100)

#define SYNC_SERVERSYNC_PATH "ServerSyncWebService/ServerSyncWebService.asmx"
#define SYNC_REPORTING_PATH  "ReportingWebService/ReportingWebService.asmx"

struct sync_client_cfg {
	const char *url;      /* the upstream's root: https://uss:8531 */
	bool use_tls;         /* false: --no-ssl, http:// */
	const char *trust_dir; /* DATADIR/tls/trust */
	const char *client_cert; /* PEM, or NULL/"" */
	const char *client_key;
	const char *proxy; /* http://host:port, or NULL/"" for none */
};

struct sync_client;

int sync_client_open(const struct sync_client_cfg *cfg,
    struct sync_client **out, struct wsd_err *err) WSD_MUST_CHECK;
void sync_client_close(struct sync_client *c);

/*
 * POSTs the SOAP request BODY to PATH under the upstream's root with
 * SOAPAction "ACTION". Returns 0 with the 200 answer in ANSWER (sbuf_init'd
 * by the caller, capped at SYNC_MAX_ANSWER); SYNC_EFAULT for a SOAP fault
 * (sync_client_fault); otherwise < 0 with ERR->what naming the cause
 * (TLS refusal and why, 401 not authenticated, 403 not on the upstream's
 * list, HTTP status, timeout). ERR->what stays valid until the next call.
 */
int sync_client_call(struct sync_client *c, const char *path,
    const char *action, const struct sbuf *body, struct sbuf *answer,
    struct wsd_err *err) WSD_MUST_CHECK;

/* The last fault's ErrorCode ("InvalidCookie", "" when none) and text. */
const char *sync_client_fault(const struct sync_client *c);
const char *sync_client_fault_message(const struct sync_client *c);

/* Bytes of answers received so far. */
uint64_t sync_client_bytes(const struct sync_client *c);

/*
 * Parses ANSWER into DOC and checks that its Body holds OP "Response".
 * WSD_EINVAL (with ERR) otherwise.
 */
int sync_parse_answer(const struct sbuf *answer, const char *op,
    struct soap_doc *doc, struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Downloads URL (plain http:// content, WSUSSS.md 6) into FD, at most
 * MAX bytes. 0, WSD_ENOTFOUND on 404, WSD_EAGAIN otherwise (ERR says).
 */
int sync_client_fetch(struct sync_client *c, const char *url, int fd,
    uint64_t max, uint64_t *got, struct wsd_err *err) WSD_MUST_CHECK;

/* The upstream's root URL as configured (no trailing '/'). */
const char *sync_client_root(const struct sync_client *c);

#endif
