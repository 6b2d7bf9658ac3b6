/*
 * What each virtual root accepts and who answers it: the per-root policy
 * table (TLS requirement, methods, body limit) and the dispatch to the
 * root's handler. Roots that later work fills answer 501 with a SOAP
 * fault until then, never a fake success.
 */
#ifndef WSUSD_HTTP_HANDLER_H
#define WSUSD_HTTP_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include <openssl/ssl.h>

#include "http/http_req.h"
#include "http/http_resp.h"
#include "http/http_server.h"
#include "http/router.h"

struct handler_ctx {
	const struct http_req *hx_req;
	const struct route *hx_route;
	const struct srv_runtime *hx_rt;
	bool hx_tls; /* the request came over the HTTPS port */
	/* handler_admit: the TLS connection, for its client certificate
	 * (ServerSyncWebService); NULL over plain HTTP or when not given */
	const SSL *hx_ssl;
	const char *hx_body;
	size_t hx_body_len;
	const char *hx_date;
	const char *hx_peer;
	const struct sockaddr_storage *hx_peer_ss; /* NULL: not a socket */
	struct store **hx_store; /* the worker's database handle, opened lazily */
	/* handler_admit on ServerSyncWebService: the response header line
	 * carrying the Negotiate reply (HANDLER_AUTH_MAX bytes), "" none */
	char *hx_auth_hdr;
	/* ServerSyncWebService: the caller's authenticated identity
	 * (DOMAIN\name; HANDLER_IDENTITY_MAX bytes, "" anonymous), written
	 * by handler_admit's gate and read by the operations. ApiRemoting30:
	 * the administrator as DIR/admins names one ("cert:DOMAIN\name",
	 * "kerberos:DOMAIN\name"). */
	char *hx_identity;
	/* Set by handler_admit when the ServerSync gate admitted the request
	 * (ServerSyncWebService, and the roll-up operations of
	 * ReportingWebService); read by the operations. */
	bool *hx_gated;
};

#define HANDLER_AUTH_MAX 2200
/* DOMAIN\name (NEGOTIATE_MAX_IDENTITY) and a "kerberos:" prefix. */
#define HANDLER_IDENTITY_MAX 112

/*
 * Whether a ReportingWebService request names (SOAPAction) one of the
 * server-server roll-up operations (WSUSSS.md 9), which take the
 * ServerSync gate: only an admitted downstream may report through us
 * (SECURITY.md S8). Windows leaves them anonymous.
 */
bool handler_rollup_action(const struct http_req *rq);
/* handler_admit's refusals beyond plain statuses: 401 with a Negotiate
 * challenge, and 403 for a server the authorization list refuses. */
#define HANDLER_AUTH_REQUIRED 1401
#define HANDLER_NOT_AUTHORIZED 1403
/* ApiRemoting30 without a verified administrator's certificate. */
#define HANDLER_ADMIN_AUTH_REQUIRED 1402
/* ServerSync on the plain port with anonymous access off: 403, never a
 * challenge there (SECURITY.md S5). */
#define HANDLER_NEEDS_TLS_AUTH 1404

struct store;

/*
 * Decides, from the head alone, whether the request may proceed: 0 with
 * *BODY_LIMIT set, or the status to refuse with (404, 403 for a TLS-only
 * root over plain HTTP, 405). Nothing of a refused request is processed.
 */
int handler_admit(const struct handler_ctx *hx, uint64_t *body_limit);

/* Builds the refusal for STATUS from handler_admit. */
int handler_refusal(const struct handler_ctx *hx, int status,
    struct http_resp *rs) WSD_MUST_CHECK;

/* Builds the response to an admitted request whose body is complete. */
int handler_run(const struct handler_ctx *hx, struct http_resp *rs)
    WSD_MUST_CHECK;

#endif
