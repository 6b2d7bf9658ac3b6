/*
 * xmlesc: the one UTF-8 check and XML escaper. Fragments, applicability
 * rules, packages and SOAP responses each had their own, and they had
 * drifted apart in what they refused; now each caller states its variant
 * in flags, so the differences are visible in one place:
 *
 *   caller                 escapes                        also refuses
 *   fragment (attr/text)   & < > " TAB LF CR (decimal)    DEL, C1
 *   package (attr)         & < > " TAB LF CR (decimal)    -
 *   SOAP text              & < > CR (hex); " stays        -
 *   SOAP attr              & < > " TAB LF CR (hex)        -
 *   applicability (line)   -                              DEL, C1, LF, CR
 *   applicability (attr)   & < > "                        -
 *
 * Always refused: malformed UTF-8 (overlong forms, surrogates, above
 * U+10FFFF, truncated sequences, stray bytes), C0 controls other than
 * TAB, LF and CR (NUL included), U+FFFE and U+FFFF: none is an XML 1.0
 * character, so no reference could carry them either.
 */
#ifndef WSUSD_COMMON_XMLESC_H
#define WSUSD_COMMON_XMLESC_H

#include <stddef.h>
#include <stdint.h>

#include "common/wsd_err.h"

struct sbuf;

/* What to escape besides & < > (always), and what else to refuse. */
enum xmlesc_flag {
	XMLESC_QUOT = 1 << 0, /* " as &quot; (double-quoted attributes) */
	/* TAB, LF, CR as references: attribute-value normalisation would
	 * turn them into spaces. */
	XMLESC_WS = 1 << 1,
	/* CR alone as a reference: text survives line-end normalisation. */
	XMLESC_CR = 1 << 2,
	XMLESC_HEX = 1 << 3,   /* references as &#xD;, not &#13; */
	XMLESC_NO_C1 = 1 << 4, /* refuse DEL and U+0080..U+009F too */
	XMLESC_NO_NL = 1 << 5, /* refuse LF and CR (one-line input) */
};

/* Why a string was refused; XMLESC_OK when it was not. */
enum xmlesc_bad {
	XMLESC_OK = 0,
	XMLESC_BAD_UTF8,    /* malformed, overlong, surrogate, > U+10FFFF */
	XMLESC_BAD_CONTROL, /* C0 control; DEL, C1, LF, CR as flags say */
	XMLESC_BAD_NONCHAR, /* U+FFFE, U+FFFF */
};

/*
 * Length (1-4) of the well-formed UTF-8 sequence at P (N > 0 bytes
 * available), its code point in *CP; 0 for overlong forms, surrogates,
 * values above U+10FFFF, truncated sequences and stray bytes (*CP is then
 * left alone). An ASCII byte, NUL included, always gives 1.
 */
size_t xmlesc_utf8(const unsigned char *p, size_t n, uint32_t *cp);

/* The first character of P (N bytes) that FLAGS refuse, or XMLESC_OK. */
enum xmlesc_bad xmlesc_check(const char *p, size_t n, unsigned flags);

/* "invalid UTF-8", "control character", "character not allowed in XML";
 * NULL for XMLESC_OK. */
const char *xmlesc_bad_what(enum xmlesc_bad bad);

/*
 * Appends P (N bytes) escaped as FLAGS say. Returns 0; WSD_EINVAL with
 * *BAD (if not NULL) saying why when FLAGS refuse a character, SB then
 * holding part of the output before it (the caller rolls back to its
 * mark or releases SB); or sbuf's error, SB released. *BAD is XMLESC_OK
 * unless WSD_EINVAL.
 */
int xmlesc_add(struct sbuf *sb, const char *p, size_t n, unsigned flags,
    enum xmlesc_bad *bad) WSD_MUST_CHECK;

/*
 * The same for a writer other than sbuf: PUT(CTX, ...) receives the
 * escaped output in pieces (none empty), in order; its first negative
 * result is returned as it is.
 */
int xmlesc_put(const char *p, size_t n, unsigned flags,
    int (*put)(void *ctx, const char *s, size_t len), void *ctx,
    enum xmlesc_bad *bad) WSD_MUST_CHECK;

#endif
