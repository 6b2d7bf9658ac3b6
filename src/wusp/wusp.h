/*
 * MS-WUSP server operations (client <-> server): the SOAP services of the
 * ClientWebService, SimpleAuthWebService and ReportingWebService roots.
 * wusp_handle parses the request once (soap/), dispatches on the Body
 * element's name and namespace, and writes the answer or the fault the
 * client acts on into the HTTP response.
 */
#ifndef WSUSD_WUSP_WUSP_H
#define WSUSD_WUSP_WUSP_H

#include "http/handler.h"
#include "http/http_resp.h"

/* POST to a SOAP root: always builds a response (200 or a 500 fault).
 * Returns 0, or a negative wsd_errc when even a fault could not be
 * built. */
int wusp_handle(const struct handler_ctx *hx, struct http_resp *rs)
    WSD_MUST_CHECK;

#endif
