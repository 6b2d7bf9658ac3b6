/*
 * SOAP 1.1 faults as WSUS sends them, and the one table that maps each
 * failure to its MS-WUSP ErrorCode, faultcode and HTTP status (STYLE.md:
 * "one table in soap_fault.c").
 *
 * Application faults (WUSP.md 5.1; spec examples 07, 08, 22; OBSERVED
 * 24, 49): HTTP 500, faultcode Client (Server for InternalServerError and
 * ServerBusy), faultstring "Fault occurred" (WS2025 sends no stack trace),
 * optional faultactor, then detail with unqualified children in the order
 * ErrorCode, Message, ID (a fresh GUID per fault), Method (the quoted
 * SOAPAction). The client acts on ErrorCode only; a fault without it ends
 * the scan.
 *
 * In SOAP_STYLE_WCF (ClientWebService) the envelope is <s:Envelope
 * xmlns:s=...><s:Body><s:Fault> with no xsi/xsd declarations and no
 * faultactor: that shape for the captured InvalidParameters fault is
 * exactly the 442 bytes OBSERVED 24 reports. In SOAP_STYLE_ASMX
 * (SimpleAuth, Reporting) it is the XML declaration, soap:Envelope with
 * xmlns:xsi/xsd, and a faultactor naming the service URL (spec example
 * 22).
 *
 * Protocol faults (no ErrorCode, empty detail, as ASP.NET ASMX writes
 * them): an unknown operation ("Server did not recognize the value of
 * HTTP Header SOAPAction: X."), a SOAP 1.2 or otherwise foreign envelope
 * (faultcode VersionMismatch), a mandatory header we do not understand
 * (MustUnderstand), and a request that is not a readable SOAP 1.1
 * message (Client, "Server was unable to read request.").
 */
#ifndef WSUSD_SOAP_SOAP_FAULT_H
#define WSUSD_SOAP_SOAP_FAULT_H

#include "common/sbuf.h"
#include "common/wsd_err.h"
#include "soap/soap_emit.h"

enum soap_errc {
	SOAP_ERRC_NONE = 0, /* no fault */
	/* MS-WUSP 2.2.2.4 ErrorCode values. */
	SOAP_ERRC_INVALID_COOKIE,
	SOAP_ERRC_SERVER_CHANGED,
	SOAP_ERRC_CONFIG_CHANGED,
	SOAP_ERRC_COOKIE_EXPIRED,
	SOAP_ERRC_REGISTRATION_REQUIRED,
	SOAP_ERRC_REGISTRATION_NOT_REQUIRED,
	SOAP_ERRC_INVALID_AUTHORIZATION_COOKIE,
	SOAP_ERRC_INVALID_PARAMETERS,
	SOAP_ERRC_INTERNAL_SERVER_ERROR,
	SOAP_ERRC_SERVER_BUSY,
	SOAP_ERRC_FILE_LOCATION_CHANGED,
	/* MS-WSUSSS (WSUSSS.md 3): GetCookie protocolVersion major is not 1. */
	SOAP_ERRC_INCOMPATIBLE_PROTOCOL_VERSION,
	/* MS-WSUSSS DownloadFiles: digests the USS does not know (5.9). */
	SOAP_ERRC_FILE_DIGESTS_MISSING,
	/* SOAP/ASMX protocol faults, without detail/ErrorCode. */
	SOAP_ERRC_UNKNOWN_OPERATION,
	SOAP_ERRC_VERSION_MISMATCH,
	SOAP_ERRC_MUST_UNDERSTAND,
	SOAP_ERRC_CLIENT_MALFORMED,
	SOAP_ERRC_COUNT
};

/* The MS-WUSP ErrorCode ("InvalidCookie"), or NULL for protocol faults. */
const char *soap_errc_name(enum soap_errc code);
/* HTTP status of the fault response (500 for every fault: SOAP 1.1 6.2). */
int soap_errc_http_status(enum soap_errc code);
/* "Client", "Server", "VersionMismatch" or "MustUnderstand". */
const char *soap_errc_faultcode(enum soap_errc code);

/*
 * The fault answering a handler's wsd_errc: bad or oversized input is
 * InvalidParameters, WSD_EAGAIN is ServerBusy, anything else
 * InternalServerError. Cookie and registration faults are chosen by the
 * handler, never derived from an errno-like code.
 */
enum soap_errc soap_errc_from_wsd(int rc);

/*
 * Builds a whole fault envelope for CODE into SB (empty, sbuf_init'd
 * with a cap; a fault is under 2 KiB plus MESSAGE).
 *
 * MESSAGE: for application faults the text of detail/Message (WSUS names
 * the offending parameter, "parameters.InstalledNonLeafUpdateIDs"); NULL
 * or "" writes an empty <Message/>. For UNKNOWN_OPERATION the SOAPAction
 * value received, for VERSION_MISMATCH the envelope namespace received,
 * for MUST_UNDERSTAND the header's name; these go into faultstring. All
 * are escaped; never put secrets (cookies) here.
 *
 * METHOD_SOAPACTION: the operation's SOAPAction, with or without its
 * quotes; written quoted as detail/Method. NULL omits Method.
 * ACTOR_URL: the service URL for faultactor; NULL omits it (WS2025's
 * ClientWebService sends none). Both are ignored for protocol faults.
 *
 * The ID is a fresh random GUID. Returns 0 or a negative wsd_errc (SB
 * released on failure).
 */
int soap_fault_build(struct sbuf *sb, enum soap_style style,
    enum soap_errc code, const char *message, const char *method_soapaction,
    const char *actor_url) WSD_MUST_CHECK;

/* soap_fault_build with a given fault ID (tests, replays). */
int soap_fault_build_id(struct sbuf *sb, enum soap_style style,
    enum soap_errc code, const char *message, const char *method_soapaction,
    const char *actor_url, const char *id) WSD_MUST_CHECK;

#endif
