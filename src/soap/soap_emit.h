/*
 * SOAP 1.1 response writer: envelopes byte for byte as Windows Server 2025
 * WSUS writes them (vectors native-capture-wsus-rs, WUSP.md 1.4, 9 #16).
 *
 * Two envelope styles exist on the wire and a client sees both in one
 * session:
 *
 *   SOAP_STYLE_WCF  ClientWebService answers: no XML declaration, prefix
 *                   s:, xmlns:xsi and xmlns:xsd declared on s:Body, empty
 *                   elements written <x/> (scan/000001, scan/000004).
 *   SOAP_STYLE_ASMX SimpleAuth and Reporting answers (ASP.NET ASMX): an
 *                   XML declaration, prefix soap:, xmlns:xsi and xmlns:xsd
 *                   on soap:Envelope, empty elements written <x /> as
 *                   .NET's XmlTextWriter does (scan/000002, flow/000016;
 *                   <Message /> in spec examples 07, 08, 22).
 *
 * The style names say which .NET serializer the shapes come from; that
 * WS2025 hosts ClientWebService on WCF is our inference from the shape.
 *
 * A response is: soap_emit_begin, soap_emit_open_ns for the operation's
 * <OpResponse xmlns="NS"> (children then inherit NS, unprefixed, as WSUS
 * writes them), the result elements in WSDL order (schema/ORDER.md),
 * soap_emit_close, soap_emit_end.
 *
 * Every function returns 0 or a negative wsd_errc. On failure the sbuf
 * has been released (sbuf's rule: never half-written), so callers chain
 * calls with || and check once. Element names are trusted literals and
 * are not escaped; every value is. Text that cannot appear in XML 1.0
 * (invalid UTF-8, control characters other than TAB, LF, CR) is refused
 * with WSD_EINVAL rather than sent to a client that would fail to parse
 * the whole response.
 */
#ifndef WSUSD_SOAP_SOAP_EMIT_H
#define WSUSD_SOAP_SOAP_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sbuf.h"
#include "common/wsd_err.h"

/* Namespaces of MS-WUSP (WUSP.md 1.3, 1.4). */
#define SOAP_NS_ENVELOPE   "http://schemas.xmlsoap.org/soap/envelope/"
#define SOAP_NS_ENVELOPE12 "http://www.w3.org/2003/05/soap-envelope"
#define SOAP_NS_XSI        "http://www.w3.org/2001/XMLSchema-instance"
#define SOAP_NS_XSD        "http://www.w3.org/2001/XMLSchema"
#define SOAP_NS_CLIENT                                                         \
	"http://www.microsoft.com/SoftwareDistribution/Server/"                \
	"ClientWebService"
#define SOAP_NS_SIMPLEAUTH                                                     \
	"http://www.microsoft.com/SoftwareDistribution/Server/"                \
	"SimpleAuthWebService"
#define SOAP_NS_REPORTING "http://www.microsoft.com/SoftwareDistribution"

enum soap_style {
	SOAP_STYLE_WCF,  /* ClientWebService */
	SOAP_STYLE_ASMX, /* SimpleAuthWebService, ReportingWebService */
	/* Requests as the Windows Update Agent writes them (wuagent): the
	 * WCF envelope without the xsi/xsd declarations, empty <x/>. */
	SOAP_STYLE_CLIENT,
};

/* Borrows SW_SB for one response; see soap_emit_begin. */
struct soap_writer {
	struct sbuf *sw_sb;
	enum soap_style sw_style;
};

/*
 * An xs:dateTime as .NET's DateTime holds it: UTC, 100 ns ticks, years
 * 0001 to 9999. soap_parse.h reads the lexical forms clients send.
 */
struct soap_datetime {
	int64_t dt_sec;   /* seconds since 1970-01-01T00:00:00Z */
	uint32_t dt_frac; /* 100 ns ticks, 0 .. 9999999 */
};

/* "YYYY-MM-DDThh:mm:ss.fffffffZ" and its NUL. */
#define SOAP_DATETIME_MAX 29

/*
 * Writes DT into OUT as WSUS does: UTC, 'Z', the fraction with trailing
 * zeros trimmed and no '.' when it is zero ("2026-10-04T13:17:07.59Z",
 * "2026-10-04T16:03:35.9967236Z", "2022-02-02T00:00:00Z"). Returns the
 * length, or -1 when DT is outside years 0001-9999 or dt_frac >= 10^7.
 */
int soap_datetime_format(const struct soap_datetime *dt,
    char out[SOAP_DATETIME_MAX]);
/* From Unix seconds and nanoseconds (truncated to 100 ns ticks). */
struct soap_datetime soap_datetime_from_unix(int64_t sec, uint32_t nsec);

/*
 * Starts an envelope of STYLE in SB, which should be empty (sbuf_init'd
 * with the response cap, e.g. WSD_MAX_SOAP_RESPONSE). W borrows SB until
 * soap_emit_end.
 */
int soap_emit_begin(struct soap_writer *w, struct sbuf *sb,
    enum soap_style style) WSD_MUST_CHECK;
/* Closes Body and Envelope. */
int soap_emit_end(struct soap_writer *w) WSD_MUST_CHECK;

/* <NAME> and </NAME>. */
int soap_emit_open(struct soap_writer *w, const char *name) WSD_MUST_CHECK;
int soap_emit_close(struct soap_writer *w, const char *name) WSD_MUST_CHECK;
/* <NAME xmlns="NS">: the operation's response element. */
int soap_emit_open_ns(struct soap_writer *w, const char *name,
    const char *ns) WSD_MUST_CHECK;
/* <NAME/> (<NAME /> in ASMX style). */
int soap_emit_empty(struct soap_writer *w, const char *name) WSD_MUST_CHECK;
/* <NAME xmlns="NS"/>: an empty response (RegisterComputerResponse). */
int soap_emit_empty_ns(struct soap_writer *w, const char *name,
    const char *ns) WSD_MUST_CHECK;

/*
 * <NAME>escaped text</NAME>; an empty value is written as the empty
 * element <NAME/>, as WSUS writes empty strings (<Parameter/>). To omit a
 * minOccurs=0 element, do not call this at all (WUSP.md 1.4: omit, don't
 * empty).
 */
int soap_emit_strn(struct soap_writer *w, const char *name, const char *p,
    size_t n) WSD_MUST_CHECK;
int soap_emit_str(struct soap_writer *w, const char *name,
    const char *s) WSD_MUST_CHECK;
int soap_emit_i32(struct soap_writer *w, const char *name,
    int32_t v) WSD_MUST_CHECK;
int soap_emit_i64(struct soap_writer *w, const char *name,
    int64_t v) WSD_MUST_CHECK;
/* true / false, lower case. */
int soap_emit_bool(struct soap_writer *w, const char *name,
    bool v) WSD_MUST_CHECK;
/* See soap_datetime_format; an unrepresentable value is WSD_EINVAL. */
int soap_emit_datetime(struct soap_writer *w, const char *name,
    const struct soap_datetime *dt) WSD_MUST_CHECK;
/* Padded RFC 4648 base64 on one line, as CookieData/EncryptedData. */
int soap_emit_b64(struct soap_writer *w, const char *name,
    const unsigned char *p, size_t n) WSD_MUST_CHECK;

/* Character data, escaped (soap_escape_text). */
int soap_emit_text(struct soap_writer *w, const char *p,
    size_t n) WSD_MUST_CHECK;
/*
 * Bytes copied verbatim. Only for markup this process wrote itself (a
 * cached, already-escaped piece of a response); never for stored or
 * client-supplied strings, which go through soap_emit_strn.
 */
int soap_emit_raw(struct soap_writer *w, const char *p,
    size_t n) WSD_MUST_CHECK;

/*
 * Escapers appending to SB. Text: & < > become &amp; &lt; &gt; (what WSUS
 * writes: the Xml fragments in flow/000015 carry &lt;/&gt; and literal
 * quotes), CR becomes &#xD; so it survives XML line-end normalisation.
 * Attribute values additionally escape " and TAB/LF/CR as character
 * references, which attribute-value normalisation would otherwise turn
 * into spaces.
 */
int soap_escape_text(struct sbuf *sb, const char *p, size_t n) WSD_MUST_CHECK;
int soap_escape_attr(struct sbuf *sb, const char *p, size_t n) WSD_MUST_CHECK;

/*
 * Length (1-4) of the UTF-8 sequence at P (N > 0 bytes available) when
 * it encodes an XML 1.0 character; 0 for overlong forms, surrogates,
 * values above U+10FFFF, U+FFFE, U+FFFF and truncated sequences. ASCII
 * bytes always give 1: controls are the caller's business.
 */
size_t soap_utf8_char(const unsigned char *p, size_t n);

#endif
