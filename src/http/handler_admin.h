/*
 * ApiRemoting30 (docs/ADMIN.md; SECURITY.md S6): remote administration
 * for a TLS client certificate listed in DIR/admins (cert:DOMAIN\name).
 * A POST to /ApiRemoting30/WebService.asmx carries an admin_proto
 * request; the answer (200, or 403 when the role does not allow the
 * command) carries its frames. Without a verified certificate: 401,
 * before the body is read (handler_admit). Nothing else is served there.
 */
#ifndef WSUSD_HTTP_HANDLER_ADMIN_H
#define WSUSD_HTTP_HANDLER_ADMIN_H

#include "http/handler.h"
#include "http/http_resp.h"

#define ADMIN_HTTP_PATH "/ApiRemoting30/WebService.asmx"
#define ADMIN_HTTP_MAX_CALLS 2
#define ADMIN_HTTP_MAX_ANSWER (16 * 1024 * 1024)

int admin_http_handle(const struct handler_ctx *hx, struct http_resp *rs)
    WSD_MUST_CHECK;

#endif
