#include "soap/soap_fault.h"

#include <string.h>

#include "common/encode.h"

/*
 * Every fault wsusd sends. faultcode per ErrorCode: Client for
 * ConfigChanged and InvalidCookie (spec examples 07, 08, 22) and
 * InvalidParameters (OBSERVED 24, 49), Server for InternalServerError
 * (OBSERVED 49, on WSUSSS); ServerBusy as Server and the remaining codes
 * as Client are our inference (a real server was never seen sending
 * them, OBSERVED 13 "Gaps"). SOAP 1.1 (6.2) answers every fault with
 * HTTP 500, and so do ASMX and WS2025.
 */
static const struct fault_def {
	const char *fd_error;     /* detail/ErrorCode; NULL: protocol fault */
	const char *fd_faultcode; /* local part; the prefix follows style */
	const char *fd_string;    /* faultstring (protocol faults: prefix) */
	int fd_status;
} faults[SOAP_ERRC_COUNT] = {
/* One row per code reads better than clang-format's wrapping. */
/* clang-format off */
#define APP(name, fc) { name, fc, "Fault occurred", 500 }
	[SOAP_ERRC_INVALID_COOKIE] = APP("InvalidCookie", "Client"),
	[SOAP_ERRC_SERVER_CHANGED] = APP("ServerChanged", "Client"),
	[SOAP_ERRC_CONFIG_CHANGED] = APP("ConfigChanged", "Client"),
	[SOAP_ERRC_COOKIE_EXPIRED] = APP("CookieExpired", "Client"),
	[SOAP_ERRC_REGISTRATION_REQUIRED] =
	    APP("RegistrationRequired", "Client"),
	[SOAP_ERRC_REGISTRATION_NOT_REQUIRED] =
	    APP("RegistrationNotRequired", "Client"),
	[SOAP_ERRC_INVALID_AUTHORIZATION_COOKIE] =
	    APP("InvalidAuthorizationCookie", "Client"),
	[SOAP_ERRC_INVALID_PARAMETERS] = APP("InvalidParameters", "Client"),
	[SOAP_ERRC_INTERNAL_SERVER_ERROR] =
	    APP("InternalServerError", "Server"),
	[SOAP_ERRC_SERVER_BUSY] = APP("ServerBusy", "Server"),
	[SOAP_ERRC_FILE_LOCATION_CHANGED] =
	    APP("FileLocationChanged", "Client"),
	[SOAP_ERRC_INCOMPATIBLE_PROTOCOL_VERSION] =
	    APP("IncompatibleProtocolVersion", "Client"),
	[SOAP_ERRC_FILE_DIGESTS_MISSING] =
	    APP("FileDigestsMissing", "Client"),
#undef APP
	/* ASMX's own texts (System.Web.Services resources). */
	[SOAP_ERRC_UNKNOWN_OPERATION] = { NULL, "Client",
	    "Server did not recognize the value of HTTP Header SOAPAction: ",
	    500 },
	[SOAP_ERRC_VERSION_MISMATCH] = { NULL, "VersionMismatch",
	    "Possible SOAP version mismatch: Envelope namespace ", 500 },
	[SOAP_ERRC_MUST_UNDERSTAND] = { NULL, "MustUnderstand",
	    "SOAP header ", 500 },
	[SOAP_ERRC_CLIENT_MALFORMED] = { NULL, "Client",
	    "Server was unable to read request.", 500 },
	/* clang-format on */
};

static const struct fault_def *
fault_def(enum soap_errc code)
{
	if ((unsigned)code >= SOAP_ERRC_COUNT || code == SOAP_ERRC_NONE)
		return NULL;
	return &faults[code];
}

const char *
soap_errc_name(enum soap_errc code)
{
	const struct fault_def *fd = fault_def(code);

	return fd != NULL ? fd->fd_error : NULL;
}

int
soap_errc_http_status(enum soap_errc code)
{
	const struct fault_def *fd = fault_def(code);

	return fd != NULL ? fd->fd_status : 500;
}

const char *
soap_errc_faultcode(enum soap_errc code)
{
	const struct fault_def *fd = fault_def(code);

	return fd != NULL ? fd->fd_faultcode : "Server";
}

enum soap_errc
soap_errc_from_wsd(int rc)
{
	switch (rc) {
	case WSD_EINVAL:
	case WSD_ETOOBIG:
	case WSD_ENOTFOUND:
	case WSD_EUNSAT:
		return SOAP_ERRC_INVALID_PARAMETERS;
	case WSD_EAGAIN:
		return SOAP_ERRC_SERVER_BUSY;
	default:
		return SOAP_ERRC_INTERNAL_SERVER_ERROR;
	}
}

/*
 * faultstring of a protocol fault: the table's prefix, then what the
 * caller passed, then ASMX's ending.
 */
static int
protocol_string(struct sbuf *sb, enum soap_errc code, const char *msg)
{
	const char *def = NULL, *tail = NULL;
	int rc;

	switch (code) {
	case SOAP_ERRC_UNKNOWN_OPERATION:
		def = "";
		tail = ".";
		break;
	case SOAP_ERRC_VERSION_MISMATCH:
		def = SOAP_NS_ENVELOPE12;
		tail = " was unexpected. Expecting " SOAP_NS_ENVELOPE ".";
		break;
	case SOAP_ERRC_MUST_UNDERSTAND:
		def = "";
		tail = " was not understood.";
		break;
	default:
		/* CLIENT_MALFORMED: ASMX chains the inner reason. */
		if (msg == NULL || *msg == '\0')
			return 0;
		if ((rc = soap_escape_text(sb, " ---> ", 6)) < 0)
			return rc;
		return soap_escape_text(sb, msg, strlen(msg));
	}
	if (msg == NULL)
		msg = def;
	if ((rc = soap_escape_text(sb, msg, strlen(msg))) < 0)
		return rc;
	return sbuf_adds(sb, tail);
}

int
soap_fault_build_id(struct sbuf *sb, enum soap_style style, enum soap_errc code,
    const char *message, const char *method_soapaction, const char *actor_url,
    const char *id)
{
	const struct fault_def *fd = fault_def(code);
	const char *p = style == SOAP_STYLE_ASMX ? "soap:" : "s:";
	struct soap_writer w;
	int rc;

	if (fd == NULL || id == NULL) {
		sbuf_release(sb);
		return WSD_EINTERNAL;
	}
	/*
	 * ASMX faults open like its answers; WS2025's ClientWebService fault
	 * has no xsi/xsd declarations on s:Body (OBSERVED 24's 442 bytes).
	 */
	if (style == SOAP_STYLE_ASMX)
		rc = soap_emit_begin(&w, sb, style);
	else {
		w.sw_sb = sb;
		w.sw_style = style;
		rc = sbuf_adds(sb,
		    "<s:Envelope xmlns:s=\"" SOAP_NS_ENVELOPE "\"><s:Body>");
	}
	if (rc < 0 || (rc = sbuf_add(sb, "<", 1)) < 0 ||
	    (rc = sbuf_adds(sb, p)) < 0 ||
	    (rc = sbuf_adds(sb, "Fault><faultcode>")) < 0 ||
	    (rc = sbuf_adds(sb, p)) < 0 ||
	    (rc = sbuf_adds(sb, fd->fd_faultcode)) < 0 ||
	    (rc = sbuf_adds(sb, "</faultcode><faultstring>")) < 0 ||
	    (rc = sbuf_adds(sb, fd->fd_string)) < 0)
		return rc;
	if (fd->fd_error == NULL) {
		if ((rc = protocol_string(sb, code, message)) < 0 ||
		    (rc = soap_emit_close(&w, "faultstring")) < 0 ||
		    (rc = soap_emit_empty(&w, "detail")) < 0)
			return rc;
	} else {
		if ((rc = soap_emit_close(&w, "faultstring")) < 0)
			return rc;
		if (actor_url != NULL &&
		    (rc = soap_emit_str(&w, "faultactor", actor_url)) < 0)
			return rc;
		if ((rc = soap_emit_open(&w, "detail")) < 0 ||
		    (rc = soap_emit_str(&w, "ErrorCode", fd->fd_error)) < 0 ||
		    (rc = soap_emit_str(&w, "Message",
			 message != NULL ? message : "")) < 0 ||
		    (rc = soap_emit_str(&w, "ID", id)) < 0)
			return rc;
		if (method_soapaction != NULL) {
			size_t n = strlen(method_soapaction);
			bool quoted = n >= 2 && method_soapaction[0] == '"' &&
			    method_soapaction[n - 1] == '"';

			if ((rc = soap_emit_open(&w, "Method")) < 0 ||
			    (!quoted && (rc = sbuf_add(sb, "\"", 1)) < 0) ||
			    (rc = soap_escape_text(sb, method_soapaction, n)) <
				0 ||
			    (!quoted && (rc = sbuf_add(sb, "\"", 1)) < 0) ||
			    (rc = soap_emit_close(&w, "Method")) < 0)
				return rc;
		}
		if ((rc = soap_emit_close(&w, "detail")) < 0)
			return rc;
	}
	if ((rc = sbuf_add(sb, "</", 2)) < 0 || (rc = sbuf_adds(sb, p)) < 0 ||
	    (rc = sbuf_adds(sb, "Fault>")) < 0)
		return rc;
	if (style == SOAP_STYLE_ASMX)
		return soap_emit_end(&w);
	return sbuf_adds(sb, "</s:Body></s:Envelope>");
}

int
soap_fault_build(struct sbuf *sb, enum soap_style style, enum soap_errc code,
    const char *message, const char *method_soapaction, const char *actor_url)
{
	struct wsd_err e;
	char id[37];
	int rc;

	if ((rc = guid_generate(id, &e)) < 0) {
		sbuf_release(sb);
		return rc;
	}
	return soap_fault_build_id(sb, style, code, message, method_soapaction,
	    actor_url, id);
}
