/*
 * Non-allocating parsers over slices (curl strparse). Each takes a
 * struct sv by pointer, advances it only on success and returns 0, or
 * returns a negative wsd_errc and leaves it untouched, so calls chain
 * with ||. Nothing here assumes a NUL terminator.
 */
#ifndef WSUSD_COMMON_STRPARSE_H
#define WSUSD_COMMON_STRPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sv {
	const char *p;
	size_t n;
};

#define SV_LIT(s) ((struct sv){ (s), sizeof(s) - 1 })

struct sv sv_from_cstr(const char *s);
bool sv_eq(struct sv a, struct sv b);
bool sv_eq_ci(struct sv a, struct sv b);
bool sv_eq_cstr_ci(struct sv a, const char *s);
bool sv_starts_ci(struct sv a, struct sv prefix);
struct sv sv_trim_ows(struct sv a); /* RFC 9110 OWS: SP / HTAB */
/* A configuration line in place: leading SP/HTAB and trailing SP, HTAB,
 * CR, LF cut off (a NUL written); returns the first kept byte. */
char *str_trim_line(char *s);

/* Decimal digits only, no sign, no leading whitespace; value <= max. */
int strparse_u64(struct sv *s, uint64_t max, uint64_t *out);
/* Whole string must be a decimal in [min, max]. For config/CLI. */
int strparse_u64_all(const char *str, uint64_t min, uint64_t max,
    uint64_t *out);
/* Value of one hex digit, or -1. */
int hex_digit(unsigned char c);
/* Consumes exactly one byte c. */
int strparse_char(struct sv *s, char c);
/* Consumes a case-insensitive literal. */
int strparse_lit_ci(struct sv *s, const char *lit);
/* Consumes SP / HTAB (possibly none). Never fails. */
void strparse_ows(struct sv *s);

#endif
