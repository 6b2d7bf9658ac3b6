/*
 * SOAP 1.1 request decoding: the only place (with soap_emit/soap_fault)
 * where libxml2 is seen. Handlers get an opaque element tree and typed,
 * bounded accessors; they never see libxml2 types or raw XML.
 *
 * What soap_parse guarantees on success (SECURITY.md S10, STYLE.md):
 * - the body held no NUL byte, was valid UTF-8, had no DOCTYPE or other
 *   DTD markup anywhere (so no entity but the five predefined ones and
 *   character references, nothing loaded from disk or network);
 * - nesting depth <= WSD_MAX_XML_DEPTH, per element <= WSD_MAX_XML_ATTRS
 *   attributes and <= WSD_MAX_XML_NSDECLS namespace declarations, every
 *   attribute value <= WSD_MAX_XML_ATTR_LEN bytes, every text run <=
 *   WSD_MAX_XML_TEXT bytes, <= WSD_MAX_XML_NODES elements and text runs in
 *   all; each limit is checked while libxml2 parses (SAX hooks), so a
 *   hostile body is stopped before its tree is built;
 * - the root is a SOAP 1.1 Envelope holding an optional Header (ignored,
 *   unless a header addressed to us says mustUnderstand), exactly one
 *   Body, nothing after Body, and no text but whitespace around them;
 *   the Body holds exactly one element, the operation.
 *
 * Decisions, with reasons:
 * - Comments and processing instructions are dropped while parsing, and
 *   CDATA sections are merged into text (XML_PARSE_NOCDATA), so every
 *   element holds at most one text run: accessors return slices, no
 *   copies. XML_PARSE_NOBLANKS is not used: its "ignorable whitespace"
 *   guess can drop whitespace inside values, and accessors skip text
 *   between elements anyway.
 * - A declared encoding is ignored (XML_PARSE_IGNORE_ENC): the body must
 *   be UTF-8, as the Content-Type "text/xml; charset=utf-8" every client
 *   sends says, so a UTF-7 or EBCDIC declaration cannot smuggle markup
 *   past the byte-level checks.
 * - A second element in Body is refused, not ignored: ASMX reads the one
 *   wrapper element and then expects </Body> (our reading of its
 *   document/literal dispatch, unverified), and a request whose meaning
 *   depends on which element a proxy or we pick is an attack surface.
 * - An Envelope in any namespace other than SOAP 1.1 (SOAP 1.2 included)
 *   fails with sd_fault SOAP_ERRC_VERSION_MISMATCH (SOAP 1.1 4.4.1), so
 *   the caller can answer a VersionMismatch fault. Every other failure
 *   leaves SOAP_ERRC_CLIENT_MALFORMED, or MUST_UNDERSTAND (or
 *   INTERNAL_SERVER_ERROR when memory ran out).
 * - Children of the operation are found in the operation's namespace
 *   only, as .NET's XmlSerializer binds them (schemas are
 *   elementFormDefault="qualified"; captures declare the namespace as a
 *   default on the operation element). An element in another namespace or
 *   none is an unknown extra element and is ignored (WUSP.md 9 #3).
 */
#ifndef WSUSD_SOAP_SOAP_PARSE_H
#define WSUSD_SOAP_SOAP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strparse.h"
#include "common/wsd_err.h"
#include "common/wsd_limits.h"
#include "soap/soap_emit.h"
#include "soap/soap_fault.h"

/*
 * XML limits of SECURITY.md S10. They belong in common/wsd_limits.h with
 * the other limits; until they move there, they are defined here only if
 * wsd_limits.h does not define them.
 */
#ifndef WSD_MAX_XML_DEPTH
/* Element nesting, Envelope = 1. The deepest native request (SyncUpdates
 * SystemSpec) nests 9 levels. */
#define WSD_MAX_XML_DEPTH 64
#endif
#ifndef WSD_MAX_XML_ATTRS
/* Attributes per element, namespace declarations not counted. Native
 * requests carry at most one (xsi:nil). */
#define WSD_MAX_XML_ATTRS 64
#endif
#ifndef WSD_MAX_XML_ATTR_LEN
/* One attribute value as written, in bytes. */
#define WSD_MAX_XML_ATTR_LEN (64 * 1024)
#endif
#ifndef WSD_MAX_XML_TEXT
/* One text run (all character data of one element between its child
 * elements), in bytes. The longest native value is a few KiB
 * (DeviceAttributes). */
#define WSD_MAX_XML_TEXT (1024 * 1024)
#endif
#ifndef WSD_MAX_XML_NSDECLS
/* Namespace declarations on one element. Native requests use 1 or 2. */
#define WSD_MAX_XML_NSDECLS 32
#endif
#ifndef WSD_MAX_XML_NODES
/*
 * Elements plus text runs in one document. Bounds the tree libxml2
 * builds (~130 bytes a node, so ~34 MiB at worst) independently of the
 * body cap. Native bodies hold one element per 20-45 bytes: a 1 MiB
 * SyncUpdates is ~100,000 nodes, a ReportEventBatch ~150 nodes per
 * event, so ~1,700 events fit.
 */
#define WSD_MAX_XML_NODES (256 * 1024)
#endif

/* An element of a parsed request; opaque, valid until soap_doc_release. */
struct soap_elem;

struct _xmlDoc;

/* A parsed request. Owns its tree; soap_doc_release frees it. */
struct soap_doc {
	struct _xmlDoc *sd_xml;        /* owned; NULL when empty */
	const struct soap_elem *sd_op; /* the Body's element */
	const char *sd_op_name;        /* its local name */
	const char *sd_op_ns;          /* its namespace URI, "" if none */
	enum soap_errc sd_fault;       /* after a failure: fault to answer */
	uint32_t sd_nodes;             /* elements + text runs parsed */
};

/* Empty document; never fails or allocates. */
void soap_doc_init(struct soap_doc *d);
/* Frees the tree; D is empty afterwards. NULL-safe, idempotent. */
void soap_doc_release(struct soap_doc *d);

/*
 * Parses LEN bytes of BODY (not NUL-terminated; bodies over
 * WSD_MAX_BODY_CEILING are refused before anything else) into OUT.
 * Returns 0, or WSD_EINVAL (malformed, DTD, not SOAP 1.1, ...),
 * WSD_ETOOBIG (a limit above) or WSD_ENOMEM; on failure OUT holds no
 * tree and OUT->sd_fault says which fault to answer. Allocates nothing
 * that outlives OUT. Call soap_global_init once first.
 */
int soap_parse(const char *body, size_t len, struct soap_doc *out,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Initialises libxml2 once; call from the main thread before worker
 * threads start (libxml2 2.9's xmlInitParser is not thread-safe on first
 * use). soap_parse calls it too, which is enough for single-threaded
 * programs (tests, fuzzers, wsusutil).
 */
void soap_global_init(void);

/*
 * SOAPAction cross-check (WUSP.md 1.3: dispatch on the Body element, only
 * cross-check the header). HV is the header value (N bytes; NULL or empty
 * when absent). Surrounding whitespace and one pair of double quotes are
 * stripped, and each quote is optional, so "ns/op", ns/op and a lone
 * leading or trailing quote all compare as ns/op. A missing header, or
 * "" (SOAP 1.1: the intent is the request URI), matches anything.
 * Otherwise the value must equal NS "/" OP exactly (case-sensitive, as
 * ASMX routes).
 */
bool soap_action_matches(const char *hv, size_t n, const char *ns,
    const char *op);

/* ------------------------------------------------------------------ */
/* Navigation. Every function taking an element accepts NULL and then
 * returns NULL (or the documented "absent" result), so lookups chain:
 * soap_child(d, soap_child(d, soap_op(d), "parameters"), "ExpressQuery").
 */

const struct soap_elem *soap_op(const struct soap_doc *d);
const char *soap_elem_name(const struct soap_elem *e); /* local name */
const char *soap_elem_ns(const struct soap_elem *e);   /* "" if none */
/* First element child / next element sibling, any namespace. */
const struct soap_elem *soap_elem_first(const struct soap_elem *e);
const struct soap_elem *soap_elem_next(const struct soap_elem *e);

/* First element child of PARENT named NAME in the operation's namespace. */
const struct soap_elem *soap_child(const struct soap_doc *d,
    const struct soap_elem *parent, const char *name);
/* First element child named NAME in no namespace (fault detail items). */
const struct soap_elem *soap_child_unq(const struct soap_elem *parent,
    const char *name);

/*
 * Reading a sequence in WSDL order (schema/ORDER.md): soap_seq_take
 * finds NAME (operation namespace) at or after the cursor, skipping
 * unknown elements, and moves the cursor past it. An element that comes
 * before the cursor, i.e. out of order, is not found and reads as absent.
 */
struct soap_seq {
	const struct soap_doc *sq_doc;
	const struct soap_elem *sq_next; /* next candidate; NULL at end */
};
void soap_seq_init(struct soap_seq *q, const struct soap_doc *d,
    const struct soap_elem *parent);
const struct soap_elem *soap_seq_take(struct soap_seq *q, const char *name);

/* xsi:nil="true" (or "1"), whatever its prefix (scan/000009 uses a:). */
bool soap_is_nil(const struct soap_elem *e);

/* ------------------------------------------------------------------ */
/* Typed values. Each returns 0; WSD_ENOTFOUND when E is NULL (element
 * absent); WSD_EINVAL when the text is not of the type, or the element
 * has child elements; WSD_ETOOBIG over a length bound. A nil element
 * reads as empty text. All map to the InvalidParameters fault.
 */

/*
 * The element's text as a slice into the document: valid until
 * soap_doc_release, NUL-terminated (OUT->p[OUT->n] == '\0'), holding no
 * NUL, at most MAX bytes. Entities are decoded; no whitespace is trimmed
 * (xs:string preserves it).
 */
int soap_get_str(const struct soap_elem *e, size_t max, struct sv *out,
    struct wsd_err *err) WSD_MUST_CHECK;
/* xs:int, xs:long: optional sign, decimal digits, surrounding XML
 * whitespace allowed (whiteSpace="collapse"); out of range is EINVAL. */
int soap_get_i32(const struct soap_elem *e, int32_t *out,
    struct wsd_err *err) WSD_MUST_CHECK;
int soap_get_i64(const struct soap_elem *e, int64_t *out,
    struct wsd_err *err) WSD_MUST_CHECK;
/* xs:boolean: true, false, 1, 0 (case-sensitive). */
int soap_get_bool(const struct soap_elem *e, bool *out,
    struct wsd_err *err) WSD_MUST_CHECK;
/* See soap_datetime_parse. */
int soap_get_datetime(const struct soap_elem *e, struct soap_datetime *out,
    struct wsd_err *err) WSD_MUST_CHECK;
/* 8-4-4-4-12 hex (either case), normalised lower case into OUT. */
int soap_get_guid(const struct soap_elem *e, char out[37],
    struct wsd_err *err) WSD_MUST_CHECK;
/* xs:base64Binary decoded into BUF; more than MAX bytes is ETOOBIG. */
int soap_get_b64(const struct soap_elem *e, unsigned char *buf, size_t max,
    size_t *outlen, struct wsd_err *err) WSD_MUST_CHECK;

/*
 * An unqualified attribute NAME of E (ComputerRollupInfo and others
 * carry attributes) as a slice into the document, at most MAX bytes.
 * WSD_ENOTFOUND when absent; WSD_EINVAL for a value that is not plain
 * text; WSD_ETOOBIG over MAX. The parser already bounded attribute
 * count and length (S10).
 */
int soap_get_attr(const struct soap_elem *e, const char *name, size_t max,
    struct sv *out) WSD_MUST_CHECK;

/* The same parsers over a slice (also used for attribute values). */
int soap_xs_i32(struct sv s, int32_t *out, struct wsd_err *err) WSD_MUST_CHECK;
int soap_xs_i64(struct sv s, int64_t *out, struct wsd_err *err) WSD_MUST_CHECK;
int soap_xs_bool(struct sv s, bool *out, struct wsd_err *err) WSD_MUST_CHECK;
int soap_xs_guid(struct sv s, char out[37], struct wsd_err *err) WSD_MUST_CHECK;
/*
 * Base64 with optional XML whitespace anywhere, padding required; the
 * output length is known before decoding, so nothing is written when it
 * would exceed MAX.
 */
int soap_b64_decode(struct sv s, unsigned char *buf, size_t max, size_t *outlen,
    struct wsd_err *err) WSD_MUST_CHECK;
/*
 * xs:dateTime as .NET clients write it (WUSP.md 9 #13):
 * YYYY-MM-DDThh:mm:ss, then 0-7 fraction digits, then 'Z', "+hh:mm",
 * "-hh:mm" or nothing (no zone is taken as UTC: the spec examples send
 * local-less times that way). Years 0001-9999, real calendar dates,
 * hours 00-23, no leap second. The result is UTC.
 */
int soap_datetime_parse(struct sv s, struct soap_datetime *out,
    struct wsd_err *err) WSD_MUST_CHECK;

/* ------------------------------------------------------------------ */
/* Arrays (ArrayOfInt <int>..</int>, ArrayOfGuid, ArrayOfString, ...).
 * An absent array element (ARR NULL) is an empty array: native clients
 * omit empty lists (OBSERVED 22). Children not named ITEM are ignored.
 */

struct soap_iter {
	const struct soap_doc *it_doc;
	const struct soap_elem *it_next;
	const char *it_item;
};

/*
 * Counts the ITEM children of ARR into *COUNT; more than MAX is
 * WSD_ETOOBIG (the handler answers InvalidParameters naming the array,
 * as WSUS does above 400 InstalledNonLeafUpdateIDs, OBSERVED 24).
 * Then soap_iter_next returns them in document order, then NULL.
 */
int soap_array_begin(const struct soap_doc *d, const struct soap_elem *arr,
    const char *item, size_t max, struct soap_iter *it, size_t *count,
    struct wsd_err *err) WSD_MUST_CHECK;
const struct soap_elem *soap_iter_next(struct soap_iter *it);

/* An ArrayOfInt read into OUT (room for MAX values); *N gets the count. */
int soap_array_i32(const struct soap_doc *d, const struct soap_elem *arr,
    const char *item, int32_t *out, size_t max, size_t *n,
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
