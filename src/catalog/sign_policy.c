#include "catalog/sign_policy.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

/* Authenticode: SpcIndirectDataContent, and a nested signature (an
 * unauthenticated attribute of the outer signer). */
#define OID_SPC_INDIRECT_DATA "1.3.6.1.4.1.311.2.1.4"
#define OID_NESTED_SIGNATURE "1.3.6.1.4.1.311.2.4.1"
/* Nested signatures inside nested signatures: real files have one. */
#define NEST_MAX 4

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint16_t
le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static bool
strong_digest(const X509_ALGOR *alg)
{
	const ASN1_OBJECT *obj;

	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	switch (OBJ_obj2nid(obj)) {
	case NID_sha256:
	case NID_sha384:
	case NID_sha512:
		return true;
	default:
		return false;
	}
}

/* The digest of the file itself, in SpcIndirectDataContent:
 * SEQUENCE { SpcAttributeTypeAndOptionalValue, DigestInfo }. */
static int
content_digest(PKCS7 *p7, struct wsd_err *err)
{
	PKCS7 *c = p7->d.sign->contents;
	const unsigned char *p, *end, *q;
	ASN1_OBJECT *want;
	long len;
	int tag, cls, inf, ok;
	X509_SIG *di;
	const X509_ALGOR *alg;

	if (c == NULL || c->type == NULL || c->d.other == NULL ||
	    c->d.other->type != V_ASN1_SEQUENCE)
		return wsd_fail(err, WSD_EINVAL,
		    "the signature holds no Authenticode file digest");
	want = OBJ_txt2obj(OID_SPC_INDIRECT_DATA, 1);
	ok = want != NULL && OBJ_cmp(c->type, want) == 0;
	ASN1_OBJECT_free(want);
	if (!ok)
		return wsd_fail(err, WSD_EINVAL,
		    "the signature holds no Authenticode file digest");
	p = c->d.other->value.sequence->data;
	end = p + c->d.other->value.sequence->length;
	/* Into the outer SEQUENCE, over its first element. */
	inf = ASN1_get_object(&p, &len, &tag, &cls, end - p);
	if ((inf & 0x80) || inf != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE)
		goto bad;
	q = p;
	inf = ASN1_get_object(&q, &len, &tag, &cls, end - q);
	if ((inf & 0x80) || tag != V_ASN1_SEQUENCE || len > end - q)
		goto bad;
	q += len;
	if ((di = d2i_X509_SIG(NULL, &q, end - q)) == NULL)
		goto bad;
	X509_SIG_get0(di, &alg, NULL);
	ok = strong_digest(alg);
	X509_SIG_free(di);
	if (!ok)
		return wsd_fail(err, WSD_EPERM,
		    "the file digest in the signature is not SHA-256 or "
		    "stronger (SHA-1 and MD5 are refused)");
	return 0;
bad:
	ERR_clear_error();
	return wsd_fail(err, WSD_EINVAL,
	    "the Authenticode file digest cannot be read");
}

static int check_p7(const unsigned char *der, size_t len, int depth,
    struct wsd_err *err);

/* Every nested signature under signer SI. */
static int
nested(PKCS7_SIGNER_INFO *si, int depth, struct wsd_err *err)
{
	STACK_OF(X509_ATTRIBUTE) *attrs = PKCS7_get_attributes(si);
	ASN1_OBJECT *oid = OBJ_txt2obj(OID_NESTED_SIGNATURE, 1);
	int rc = 0;

	if (oid == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	for (int i = 0; rc == 0 && i < sk_X509_ATTRIBUTE_num(attrs); i++) {
		X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(attrs, i);

		if (OBJ_cmp(X509_ATTRIBUTE_get0_object(a), oid) != 0)
			continue;
		for (int j = 0; rc == 0 && j < X509_ATTRIBUTE_count(a); j++) {
			ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(a, j);

			if (t == NULL || t->type != V_ASN1_SEQUENCE) {
				rc = wsd_fail(err, WSD_EINVAL,
				    "a nested signature cannot be read");
				break;
			}
			rc = check_p7(t->value.sequence->data,
			    (size_t)t->value.sequence->length, depth + 1, err);
		}
	}
	ASN1_OBJECT_free(oid);
	return rc;
}

static int
check_p7(const unsigned char *der, size_t len, int depth, struct wsd_err *err)
{
	const unsigned char *p = der;
	STACK_OF(PKCS7_SIGNER_INFO) *sis;
	PKCS7 *p7;
	int rc = 0;

	if (depth > NEST_MAX)
		return wsd_fail(err, WSD_EINVAL,
		    "signatures nested too deeply");
	if (len == 0 || len > LONG_MAX ||
	    (p7 = d2i_PKCS7(NULL, &p, (long)len)) == NULL) {
		ERR_clear_error();
		return wsd_fail(err, WSD_EINVAL,
		    "the signature is not a PKCS#7 structure");
	}
	if (p != der + len) {
		PKCS7_free(p7);
		return wsd_fail(err, WSD_EINVAL,
		    "data follows the PKCS#7 signature");
	}
	if (!PKCS7_type_is_signed(p7) || p7->d.sign == NULL ||
	    (sis = PKCS7_get_signer_info(p7)) == NULL ||
	    sk_PKCS7_SIGNER_INFO_num(sis) < 1) {
		PKCS7_free(p7);
		return wsd_fail(err, WSD_EINVAL,
		    "the signature has no signer");
	}
	for (int i = 0; rc == 0 && i < sk_PKCS7_SIGNER_INFO_num(sis); i++) {
		PKCS7_SIGNER_INFO *si = sk_PKCS7_SIGNER_INFO_value(sis, i);
		X509_ALGOR *dig = NULL;

		PKCS7_SIGNER_INFO_get0_algs(si, NULL, &dig, NULL);
		if (dig == NULL || !strong_digest(dig))
			rc = wsd_fail(err, WSD_EPERM,
			    "signed with a digest weaker than SHA-256 "
			    "(SHA-1 and MD5 are refused)");
		else
			rc = nested(si, depth, err);
	}
	if (rc == 0)
		rc = content_digest(p7, err);
	PKCS7_free(p7);
	return rc;
}

int
sign_policy_digests(const unsigned char *der, size_t len, struct wsd_err *err)
{
	return check_p7(der, len, 0, err);
}

int
sign_policy_pe_locate(const unsigned char *hdr, size_t hdr_len,
    uint64_t file_size, uint32_t *off, uint32_t *size, struct wsd_err *err)
{
	uint32_t pe, opt, nrva, dirs;
	uint16_t optsz, magic;

	*off = *size = 0;
	if (hdr_len < 2 || hdr[0] != 'M' || hdr[1] != 'Z')
		return 0;
	if (hdr_len < 0x40)
		return wsd_fail(err, WSD_EINVAL, "truncated PE file");
	pe = le32(hdr + 0x3c);
	/* "PE\0\0", the 20-byte COFF header, then the optional header. */
	if (pe > hdr_len || hdr_len - pe < 24 || memcmp(hdr + pe, "PE\0\0", 4))
		return wsd_fail(err, WSD_EINVAL,
		    "MZ file without a PE header in its first 4 KiB");
	optsz = le16(hdr + pe + 20);
	opt = pe + 24;
	if (hdr_len - opt < 2)
		return wsd_fail(err, WSD_EINVAL, "truncated PE header");
	magic = le16(hdr + opt);
	if (magic == 0x10b) { /* PE32 */
		nrva = opt + 92;
		dirs = opt + 96;
	} else if (magic == 0x20b) { /* PE32+ */
		nrva = opt + 108;
		dirs = opt + 112;
	} else {
		return wsd_fail(err, WSD_EINVAL, "unknown PE optional header");
	}
	/* The security directory is entry 4 of 8 bytes each. */
	if (dirs + 5 * 8 > opt + (uint32_t)optsz || dirs + 5 * 8 > hdr_len ||
	    le32(hdr + nrva) < 5)
		return wsd_fail(err, WSD_EINVAL,
		    "the PE file has no certificate table");
	*off = le32(hdr + dirs + 4 * 8);
	*size = le32(hdr + dirs + 4 * 8 + 4);
	if (*size == 0)
		return wsd_fail(err, WSD_EINVAL,
		    "the PE file has no certificate table");
	if (*size > SIGN_PE_TABLE_MAX)
		return wsd_fail(err, WSD_ETOOBIG,
		    "the PE certificate table is larger than 8 MiB");
	/* Windows hashes up to the table and nothing after it: bytes past
	 * it would be unsigned. */
	if ((uint64_t)*off + *size != file_size)
		return wsd_fail(err, WSD_EINVAL,
		    "the PE certificate table does not end the file "
		    "(unsigned data after it)");
	return 1;
}

int
sign_policy_pe_table(const unsigned char *tab, size_t len,
    struct wsd_err *err)
{
	const unsigned char *der, *p;
	size_t dwlen, dlen, used, aligned;
	long l;
	int tag, cls, inf;

	if (len < 8)
		return wsd_fail(err, WSD_EINVAL,
		    "truncated PE certificate table");
	dwlen = le32(tab);
	if (dwlen < 8 || dwlen > len || le16(tab + 4) != 0x0200 ||
	    le16(tab + 6) != 0x0002)
		return wsd_fail(err, WSD_EINVAL,
		    "the PE certificate table entry is not a PKCS#7 "
		    "signature");
	der = tab + 8;
	dlen = dwlen - 8;
	p = der;
	inf = ASN1_get_object(&p, &l, &tag, &cls, (long)dlen);
	if ((inf & 0x80) || inf != V_ASN1_CONSTRUCTED ||
	    tag != V_ASN1_SEQUENCE || l < 0 || (size_t)l > dlen ||
	    (size_t)(p - der) > dlen - (size_t)l) {
		ERR_clear_error();
		return wsd_fail(err, WSD_EINVAL,
		    "the PE certificate table entry is not a PKCS#7 "
		    "signature");
	}
	used = (size_t)(p - der) + (size_t)l;
	/* The entry, with the alignment after it, is the whole table:
	 * one signature, and only zeros to its 8-byte boundary. */
	aligned = (dwlen + 7) & ~(size_t)7;
	if (aligned != len)
		return wsd_fail(err, WSD_EINVAL,
		    "the PE certificate table holds more than one signature "
		    "or unsigned data");
	for (size_t i = 8 + used; i < len; i++) {
		if (tab[i] != 0 || i - (8 + used) >= 7)
			return wsd_fail(err, WSD_EINVAL,
			    "unsigned data after the signature in the PE "
			    "certificate table (CVE-2013-3900)");
	}
	return 0;
}
