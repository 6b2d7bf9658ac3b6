/*
 * Hex and base64 for digests and GUIDs: metadata carries SHA-1/SHA-256 as
 * base64 (Digest="L4jfQt...="), content paths as upper-case hex. Decoders
 * are strict (exact length, no whitespace) because their input is
 * metadata from the network.
 */
#ifndef WSUSD_COMMON_ENCODE_H
#define WSUSD_COMMON_ENCODE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/wsd_err.h"

/* Upper-case hex of N bytes into OUT (2N + 1 bytes). */
void hex_encode_upper(const unsigned char *in, size_t n, char *out);
/* Exactly 2N hex digits (either case) into N bytes; -1 otherwise. */
int hex_decode(const char *in, size_t inlen, unsigned char *out, size_t n);

/* Base64 (RFC 4648, padded) of N bytes into OUT (4*ceil(N/3) + 1). */
void b64_encode(const unsigned char *in, size_t n, char *out);
/*
 * Decodes padded base64 that must yield exactly N bytes (a SHA-1 is 20,
 * a SHA-256 32); -1 for anything else, including bad characters or
 * trailing garbage.
 */
int b64_decode_exact(const char *in, size_t inlen, unsigned char *out,
    size_t n);

/*
 * GUIDs as WSUS writes them: 8-4-4-4-12 hex. guid_normalize checks the
 * shape and writes the lower-case form into OUT (37 bytes); WSUS compares
 * GUIDs case-insensitively and sends both cases (WUSP.md 6.1).
 */
int guid_normalize(const char *in, char out[37]);
/* The 16 bytes of a GUID in text order, formatted lower case. */
void guid_format(const unsigned char b[16], char out[37]);
/* A normalised GUID (guid_normalize) back to its 16 bytes; -1 if not. */
int guid_bytes(const char *guid, unsigned char out[16]);
/* A new random (version 4) GUID, lower case. */
int guid_generate(char out[37], struct wsd_err *err) WSD_MUST_CHECK;

#endif
