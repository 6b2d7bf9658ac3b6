/*
 * MS-WSUSSS upstream (issue #7): the SOAP services a downstream server
 * (DSS) calls on us, DssAuthWebService (anonymous) and
 * ServerSyncWebService (behind handler.c's serversync_gate). Like
 * wusp_handle, wsusss_handle parses the request once (soap/), dispatches
 * on the Body element's name and namespace, and writes the answer or the
 * fault the DSS acts on (WSUSSS.md 3) in the ASMX style a .NET
 * SoapHttpClientProtocol reads. Operations of the WSUSSS WSDLs that this
 * version does not serve yet are handed back to the caller, which
 * answers them with its "not implemented" fault.
 */
#ifndef WSUSD_WSUSSS_WSUSSS_H
#define WSUSD_WSUSSS_WSUSSS_H

#include "http/handler.h"
#include "http/http_resp.h"

/* Namespaces (WSUSSS.md 2). */
#define WSUSSS_NS "http://www.microsoft.com/SoftwareDistribution"
#define WSUSSS_NS_DSSAUTH                                                      \
	"http://www.microsoft.com/SoftwareDistribution/Server/"                \
	"DssAuthWebService"
#define WSUSSS_NS_MONITORABLE                                                  \
	"http://www.microsoft.com/SoftwareDistribution/Server/IMonitorable"

/* wsusss_handle: a WSUSSS operation not served yet; nothing written. */
#define WSUSSS_NOT_SERVED 1

/*
 * POST to VROOT_DSSAUTH or VROOT_SERVERSYNC. Returns 0 with a response
 * built (200, or a 500 fault), WSUSSS_NOT_SERVED with nothing built, or a
 * negative wsd_errc when even a fault could not be built.
 */
int wsusss_handle(const struct handler_ctx *hx,
    struct http_resp *rs) WSD_MUST_CHECK;

#endif
