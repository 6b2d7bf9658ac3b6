/*
 * What an Authenticode signature must be beyond "osslsigncode verify
 * says it chains to a trusted publisher" (SECURITY.md S15):
 *
 * - every signature in it (the primary one and any nested one) made with
 *   SHA-256, SHA-384 or SHA-512, and the file digest it signs likewise:
 *   a SHA-1 or MD5 signature is refused even from a trusted publisher;
 * - in a PE file, nothing the signature does not cover hiding in the
 *   certificate table: one WIN_CERTIFICATE entry whose PKCS#7 blob is
 *   followed by at most the 7 zero bytes of its 8-byte alignment.
 *   osslsigncode accepts bytes there (CVE-2013-3900, which Windows only
 *   refuses with EnableCertPaddingCheck);
 * - in a CAB file, the signature right after the cabinet, ending the
 *   file, with nothing after the PKCS#7 blob in its area but alignment;
 * - in an MSI file, no sector that no stream owns and nothing after the
 *   compound file's last sector (osslsigncode accepts that too); its
 *   signature streams directly under the root, and an
 *   MsiDigitalSignatureEx stream equal to the metadata pre-hash
 *   (osslsigncode does not compare it).
 *
 * The signature checked is the one these layouts hold (PE table entry,
 * CAB signature area, MSI DigitalSignature stream), as its bytes are.
 *
 * The parsers take untrusted bytes and are bounded by their arguments.
 */
#ifndef WSUSD_CATALOG_SIGN_POLICY_H
#define WSUSD_CATALOG_SIGN_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "common/wsd_err.h"

/* Largest PE certificate table read (signature and certificates). */
#define SIGN_PE_TABLE_MAX (8u << 20)
/* How far into a PE file its headers may reach. */
#define SIGN_PE_HEADER_MAX 4096u

/*
 * DER is a PKCS#7 SignedData (the blob a PE table entry, a CAB signature
 * area or an MSI DigitalSignature stream holds, exactly): each
 * signer's digest algorithm and the signed file digest must be SHA-256
 * or stronger, in nested signatures too, and nothing may follow it.
 */
int sign_policy_digests(const unsigned char *der, size_t len,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * HDR holds the first HDR_LEN bytes (at most SIGN_PE_HEADER_MAX) of a
 * file of FILE_SIZE bytes. Returns 1 with the certificate table's file
 * offset and size when it is a PE file, 0 when it is not one (no "MZ"),
 * or an error for a PE file whose table is missing, out of the file, not
 * at its end or larger than SIGN_PE_TABLE_MAX.
 */
int sign_policy_pe_locate(const unsigned char *hdr, size_t hdr_len,
    uint64_t file_size, uint32_t *off, uint32_t *size,
    struct wsd_err *err) WSD_MUST_CHECK;

/* Length of the DER SEQUENCE at the start of BLOB (LEN bytes): the
 * PKCS#7 blob of a PE table entry or a CAB signature area; 0 when there
 * is none that fits. */
size_t sign_policy_der_length(const unsigned char *blob, size_t len);

/* TAB is a PE certificate table: one entry, no unsigned bytes. */
int sign_policy_pe_table(const unsigned char *tab, size_t len,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * HDR holds the first HDR_LEN bytes of a file of FILE_SIZE bytes.
 * Returns 1 with the Authenticode signature's offset and size when it is
 * a CAB file ("MSCF") whose signature directly follows the cabinet and
 * ends the file, 0 when it is not a CAB file, an error otherwise.
 */
int sign_policy_cab_locate(const unsigned char *hdr, size_t hdr_len,
    uint64_t file_size, uint32_t *off, uint32_t *size,
    struct wsd_err *err) WSD_MUST_CHECK;

/* BLOB is a CAB's signature area: one PKCS#7 blob, then at most 7 zero
 * bytes (osslsigncode verify accepts anything there). */
int sign_policy_cab_sig(const unsigned char *blob, size_t len,
    struct wsd_err *err) WSD_MUST_CHECK;

/* Reads N bytes at OFF of the file being checked; 0 or -1. */
typedef int (*sign_read_fn)(void *ctx, uint64_t off, void *buf, size_t n);

/* Most sectors a compound file's FAT may describe (2 GiB of 512-byte
 * sectors, 16 GiB of 4 KiB ones): 16 MiB of FAT in memory at most. */
#define SIGN_CFB_SECTORS_MAX (1u << 22)
/* Largest compound-file directory read (32,768 entries of 128 bytes). */
#define SIGN_CFB_DIR_MAX (4u << 20)

/*
 * An MSI (OLE compound file) of FILE_SIZE bytes, read through READ:
 * returns 0 when every sector its FAT uses belongs to the FAT, DIFAT,
 * MiniFAT, directory or a stream the directory names, each once (and
 * likewise every mini sector the MiniFAT uses to a small stream, with
 * zeros after the last), after
 * the last of them the file holds at most free sectors of zeros, its
 * DigitalSignature stream is exactly a PKCS#7 blob sign_policy_digests
 * accepts and its MsiDigitalSignatureEx stream, if any, the pre-hash of
 * its directory under that signature's digest algorithm; 1 when it is
 * not a compound file; an error otherwise. Its
 * signature covers the streams, not the file:
 * appended bytes or orphan sectors (CVE-2020-1464, "GlueBall": a JAR
 * read from the end) pass osslsigncode verify.
 */
int sign_policy_cfb_end(sign_read_fn read, void *ctx, uint64_t file_size,
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
