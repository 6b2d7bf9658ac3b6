/*
 * cab_blob: GetUpdateData's XmlUpdateBlobCompressed (WSUSSS.md 5.6 and
 * 11), the metadata document as a complete Microsoft Cabinet file: one
 * folder holding one file named "blob" whose content is the document in
 * UTF-16LE (an FF FE byte order mark is optional).
 *
 * - cab_blob_pack writes what wsusd sends as an upstream. Windows
 *   compresses with LZX:21 (typeCompress 0x1503), but no library in
 *   Debian compresses LZX (libmspack's compressors are stubs), so wsusd
 *   writes MSZIP (typeCompress 1): each CFDATA block holds at most 32,768
 *   uncompressed bytes as "CK" and a raw deflate stream of its own (zlib,
 *   windowBits -15, Z_FINISH per block), which is valid MSZIP because no
 *   block refers back to its predecessor's history. Checksums are
 *   computed (MS-CAB CSUMCompute), no BOM is written, the file's date is
 *   fixed (1980-01-01 00:00) so the same document packs to the same
 *   bytes.
 * - cab_blob_unpack reads what an upstream sends, as hostile input, with
 *   libmspack's cabinet decompressor (LZX, MSZIP, Quantum or stored)
 *   behind an in-memory mspack_system: no file is ever opened. Exactly
 *   one file, named "blob" (any case), at offset 0 of its folder, in a
 *   cabinet that is not part of a set; its declared size is checked
 *   against MAX_OUT before anything is decompressed and the bytes are
 *   counted as they are written. Non-zero CFDATA checksums are verified
 *   (a zero one means "not computed", as MS-CAB allows).
 *
 * Both are reentrant: each call owns its decompressor and buffers.
 */
#ifndef WSUSD_CATALOG_CAB_BLOB_H
#define WSUSD_CATALOG_CAB_BLOB_H

#include <stddef.h>

#include "common/wsd_err.h"

struct sbuf;

/* Uncompressed bytes in one CFDATA block (MS-CAB: at most 32 KiB). */
#define CAB_BLOB_BLOCK 32768

/*
 * Appends to OUT the cabinet holding UTF8 (LEN bytes) as UTF-16LE.
 * UTF8 must be valid UTF-8 (no overlong forms, surrogates or code points
 * past U+10FFFF) without NUL, else WSD_EINVAL; a document whose UTF-16
 * form would not fit a cabinet's 32-bit sizes is WSD_ETOOBIG. OUT's cap
 * bounds the cabinet (sbuf.h); on failure OUT is cut back to its length
 * on entry, or released when sbuf itself failed.
 */
int cab_blob_pack(const char *utf8, size_t len, struct sbuf *out,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Appends to UTF8_OUT the document in the cabinet CAB (LEN bytes),
 * decoded from UTF-16LE (one leading FF FE skipped) to UTF-8. MAX_OUT
 * bounds the uncompressed file "blob" (UTF-16 bytes, BOM included):
 * more is WSD_ETOOBIG, as is a result past UTF8_OUT's cap. WSD_EINVAL
 * for anything else wrong: not a cabinet, a cabinet set, not exactly one
 * file, a name other than "blob", truncated or corrupt data, a bad
 * checksum, an odd size, unpaired surrogates, a big-endian BOM, or a NUL
 * character. WSD_ENOMEM when memory runs out. On failure UTF8_OUT is cut
 * back to its length on entry, or released when sbuf itself failed.
 */
int cab_blob_unpack(const void *cab, size_t len, size_t max_out,
    struct sbuf *utf8_out, struct wsd_err *err) WSD_MUST_CHECK;

#endif
