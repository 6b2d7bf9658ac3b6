#include "soap/soap_emit.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/encode.h"
#include "common/xmlesc.h"

/*
 * Envelope prefixes and suffixes, byte for byte from the captures:
 * scan/000001 (ClientWebService) and scan/000002, flow/000016 (SimpleAuth,
 * Reporting). Neither has a byte-order mark or a trailing newline.
 */
static const char wcf_begin[] =
    "<s:Envelope xmlns:s=\"" SOAP_NS_ENVELOPE "\">"
    "<s:Body xmlns:xsi=\"" SOAP_NS_XSI "\" xmlns:xsd=\"" SOAP_NS_XSD "\">";
static const char wcf_end[] = "</s:Body></s:Envelope>";
/* What the Windows Update Agent sends (scan/000001 request.body). */
static const char client_begin[] =
    "<s:Envelope xmlns:s=\"" SOAP_NS_ENVELOPE "\"><s:Body>";
static const char asmx_begin[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
				 "<soap:Envelope xmlns:soap=\"" SOAP_NS_ENVELOPE
				 "\" xmlns:xsi=\"" SOAP_NS_XSI
				 "\" xmlns:xsd=\"" SOAP_NS_XSD "\"><soap:Body>";
static const char asmx_end[] = "</soap:Body></soap:Envelope>";

/* ------------------------------------------------------------------ */
/* Dates: days from 0000-03-01 based civil calendar (proleptic
 * Gregorian), valid for every year we accept. */

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b) != 0 && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in Unix seconds. */
#define DT_MIN_SEC (-62135596800LL)
#define DT_MAX_SEC (253402300799LL)

int
soap_datetime_format(const struct soap_datetime *dt,
    char out[SOAP_DATETIME_MAX])
{
	int64_t days, secs, y;
	unsigned mo, d, frac, digits;
	int n;

	if (dt->dt_sec < DT_MIN_SEC || dt->dt_sec > DT_MAX_SEC ||
	    dt->dt_frac > 9999999)
		return -1;
	days = floor_div(dt->dt_sec, 86400);
	secs = dt->dt_sec - days * 86400;
	civil_from_days(days, &y, &mo, &d);
	n = snprintf(out, SOAP_DATETIME_MAX, "%04d-%02u-%02uT%02u:%02u:%02u",
	    (int)y, mo, d, (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60),
	    (unsigned)(secs % 60));
	if (n != 19)
		return -1;
	frac = dt->dt_frac;
	if (frac != 0) {
		/* .NET's "FFFFFFF": seven digits, trailing zeros trimmed. */
		digits = 7;
		while (frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
		out[n++] = '.';
		for (unsigned i = digits; i > 0; i--) {
			out[n + (int)i - 1] = (char)('0' + frac % 10);
			frac /= 10;
		}
		n += (int)digits;
	}
	out[n++] = 'Z';
	out[n] = '\0';
	return n;
}

struct soap_datetime
soap_datetime_from_unix(int64_t sec, uint32_t nsec)
{
	struct soap_datetime dt;

	dt.dt_sec = sec + (int64_t)(nsec / 1000000000u);
	dt.dt_frac = (nsec % 1000000000u) / 100;
	return dt;
}

/* ------------------------------------------------------------------ */
/* Escaping */

size_t
soap_utf8_char(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t k = xmlesc_utf8(p, n, &cp);

	return k == 0 || cp == 0xfffe || cp == 0xffff ? 0 : k;
}

/* A refusal releases SB too: never half-written, as for sbuf's own. */
static int
escape(struct sbuf *sb, const char *p, size_t n, unsigned flags)
{
	enum xmlesc_bad bad;
	int rc = xmlesc_add(sb, p, n, flags, &bad);

	if (rc < 0 && bad != XMLESC_OK)
		sbuf_release(sb);
	return rc;
}

int
soap_escape_text(struct sbuf *sb, const char *p, size_t n)
{
	return escape(sb, p, n, XMLESC_CR | XMLESC_HEX);
}

int
soap_escape_attr(struct sbuf *sb, const char *p, size_t n)
{
	return escape(sb, p, n, XMLESC_QUOT | XMLESC_WS | XMLESC_HEX);
}

/* ------------------------------------------------------------------ */
/* Writer */

int
soap_emit_begin(struct soap_writer *w, struct sbuf *sb, enum soap_style style)
{
	w->sw_sb = sb;
	w->sw_style = style;
	if (style == SOAP_STYLE_ASMX)
		return sbuf_add(sb, asmx_begin, sizeof(asmx_begin) - 1);
	if (style == SOAP_STYLE_CLIENT)
		return sbuf_add(sb, client_begin, sizeof(client_begin) - 1);
	return sbuf_add(sb, wcf_begin, sizeof(wcf_begin) - 1);
}

int
soap_emit_end(struct soap_writer *w)
{
	if (w->sw_style == SOAP_STYLE_ASMX)
		return sbuf_add(w->sw_sb, asmx_end, sizeof(asmx_end) - 1);
	return sbuf_add(w->sw_sb, wcf_end, sizeof(wcf_end) - 1);
}

static const char *
empty_close(const struct soap_writer *w)
{
	return w->sw_style == SOAP_STYLE_ASMX ? " />" : "/>";
}

int
soap_emit_open(struct soap_writer *w, const char *name)
{
	int rc;

	if ((rc = sbuf_add(w->sw_sb, "<", 1)) < 0 ||
	    (rc = sbuf_adds(w->sw_sb, name)) < 0)
		return rc;
	return sbuf_add(w->sw_sb, ">", 1);
}

int
soap_emit_close(struct soap_writer *w, const char *name)
{
	int rc;

	if ((rc = sbuf_add(w->sw_sb, "</", 2)) < 0 ||
	    (rc = sbuf_adds(w->sw_sb, name)) < 0)
		return rc;
	return sbuf_add(w->sw_sb, ">", 1);
}

static int
open_ns(struct soap_writer *w, const char *name, const char *ns,
    const char *end)
{
	int rc;

	if ((rc = sbuf_add(w->sw_sb, "<", 1)) < 0 ||
	    (rc = sbuf_adds(w->sw_sb, name)) < 0 ||
	    (rc = sbuf_adds(w->sw_sb, " xmlns=\"")) < 0 ||
	    (rc = soap_escape_attr(w->sw_sb, ns, strlen(ns))) < 0 ||
	    (rc = sbuf_add(w->sw_sb, "\"", 1)) < 0)
		return rc;
	return sbuf_adds(w->sw_sb, end);
}

int
soap_emit_open_ns(struct soap_writer *w, const char *name, const char *ns)
{
	return open_ns(w, name, ns, ">");
}

int
soap_emit_empty(struct soap_writer *w, const char *name)
{
	int rc;

	if ((rc = sbuf_add(w->sw_sb, "<", 1)) < 0 ||
	    (rc = sbuf_adds(w->sw_sb, name)) < 0)
		return rc;
	return sbuf_adds(w->sw_sb, empty_close(w));
}

int
soap_emit_empty_ns(struct soap_writer *w, const char *name, const char *ns)
{
	return open_ns(w, name, ns, empty_close(w));
}

int
soap_emit_strn(struct soap_writer *w, const char *name, const char *p, size_t n)
{
	int rc;

	if (n == 0)
		return soap_emit_empty(w, name);
	if ((rc = soap_emit_open(w, name)) < 0 ||
	    (rc = soap_escape_text(w->sw_sb, p, n)) < 0)
		return rc;
	return soap_emit_close(w, name);
}

int
soap_emit_str(struct soap_writer *w, const char *name, const char *s)
{
	return soap_emit_strn(w, name, s, strlen(s));
}

/* <NAME>S</NAME> for S known to need no escaping (numbers, dates). */
static int
emit_plain(struct soap_writer *w, const char *name, const char *s, size_t n)
{
	int rc;

	if ((rc = soap_emit_open(w, name)) < 0 ||
	    (rc = sbuf_add(w->sw_sb, s, n)) < 0)
		return rc;
	return soap_emit_close(w, name);
}

int
soap_emit_i32(struct soap_writer *w, const char *name, int32_t v)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%" PRId32, v);

	return emit_plain(w, name, buf, (size_t)n);
}

int
soap_emit_i64(struct soap_writer *w, const char *name, int64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRId64, v);

	return emit_plain(w, name, buf, (size_t)n);
}

int
soap_emit_bool(struct soap_writer *w, const char *name, bool v)
{
	return v ? emit_plain(w, name, "true", 4)
		 : emit_plain(w, name, "false", 5);
}

int
soap_emit_datetime(struct soap_writer *w, const char *name,
    const struct soap_datetime *dt)
{
	char buf[SOAP_DATETIME_MAX];
	int n;

	if ((n = soap_datetime_format(dt, buf)) < 0) {
		sbuf_release(w->sw_sb);
		return WSD_EINVAL;
	}
	return emit_plain(w, name, buf, (size_t)n);
}

int
soap_emit_b64(struct soap_writer *w, const char *name, const unsigned char *p,
    size_t n)
{
	/* 48 input bytes make 64 characters; chunks that are multiples
	 * of 3 concatenate into one valid encoding. */
	char chunk[65];
	int rc;

	if (n == 0)
		return soap_emit_empty(w, name);
	if ((rc = soap_emit_open(w, name)) < 0)
		return rc;
	for (size_t off = 0; off < n; off += 48) {
		size_t k = n - off < 48 ? n - off : 48;

		b64_encode(p + off, k, chunk);
		if ((rc = sbuf_add(w->sw_sb, chunk, 4 * ((k + 2) / 3))) < 0)
			return rc;
	}
	return soap_emit_close(w, name);
}

int
soap_emit_text(struct soap_writer *w, const char *p, size_t n)
{
	return soap_escape_text(w->sw_sb, p, n);
}

int
soap_emit_raw(struct soap_writer *w, const char *p, size_t n)
{
	return sbuf_add(w->sw_sb, p, n);
}
