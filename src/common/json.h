/*
 * Minimal JSON output for --json listings: strings escaped per RFC 8259
 * (control characters as \u00XX; bytes >= 0x80 passed through, since the
 * store holds UTF-8).
 */
#ifndef WSUSD_COMMON_JSON_H
#define WSUSD_COMMON_JSON_H

#include <stdio.h>

/* Writes S as a quoted JSON string ("" for NULL). */
void json_str(FILE *fp, const char *s);

#endif
