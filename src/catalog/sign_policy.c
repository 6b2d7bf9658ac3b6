#include "catalog/sign_policy.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
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
content_digest(PKCS7 *p7, int *md_nid, struct wsd_err *err)
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
	if (ok && md_nid != NULL) {
		const ASN1_OBJECT *obj;

		X509_ALGOR_get0(&obj, NULL, NULL, alg);
		*md_nid = OBJ_obj2nid(obj);
	}
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
    int *md_nid, struct wsd_err *err);

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
			    (size_t)t->value.sequence->length, depth + 1, NULL,
			    err);
		}
	}
	ASN1_OBJECT_free(oid);
	return rc;
}

/* MD_NID, when set, gets the file digest's algorithm (the primary
 * signature's: nested ones pass NULL). */
static int
check_p7(const unsigned char *der, size_t len, int depth, int *md_nid,
    struct wsd_err *err)
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
		rc = content_digest(p7, md_nid, err);
	PKCS7_free(p7);
	return rc;
}

int
sign_policy_digests(const unsigned char *der, size_t len, struct wsd_err *err)
{
	return check_p7(der, len, 0, NULL, err);
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

size_t
sign_policy_der_length(const unsigned char *blob, size_t len)
{
	const unsigned char *p = blob;
	long l;
	int tag, cls, inf;

	if (len == 0 || len > LONG_MAX)
		return 0;
	inf = ASN1_get_object(&p, &l, &tag, &cls, (long)len);
	if ((inf & 0x80) || inf != V_ASN1_CONSTRUCTED ||
	    tag != V_ASN1_SEQUENCE || l < 0 || (size_t)l > len ||
	    (size_t)(p - blob) > len - (size_t)l) {
		ERR_clear_error();
		return 0;
	}
	return (size_t)(p - blob) + (size_t)l;
}

static bool
all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* Sets bit K of BITS; false when it was set already (a second owner). */
static bool
claim_once(unsigned char *bits, uint32_t k)
{
	unsigned char m = (unsigned char)(1u << (k % 8));

	if (bits[k / 8] & m)
		return false;
	bits[k / 8] |= m;
	return true;
}

/* After the USED bytes of a signature blob, at most 7 zeros to align it. */
static bool
only_alignment(const unsigned char *blob, size_t used, size_t len)
{
	return len - used <= 7 && all_zero(blob + used, len - used);
}

int
sign_policy_pe_table(const unsigned char *tab, size_t len,
    struct wsd_err *err)
{
	size_t dwlen, used;

	if (len < 8)
		return wsd_fail(err, WSD_EINVAL,
		    "truncated PE certificate table");
	dwlen = le32(tab);
	if (dwlen < 8 || dwlen > len || le16(tab + 4) != 0x0200 ||
	    le16(tab + 6) != 0x0002 ||
	    (used = sign_policy_der_length(tab + 8, dwlen - 8)) == 0)
		return wsd_fail(err, WSD_EINVAL,
		    "the PE certificate table entry is not a PKCS#7 "
		    "signature");
	/* The entry, with the alignment after it, is the whole table:
	 * one signature, and only zeros to its 8-byte boundary. */
	if (((dwlen + 7) & ~(size_t)7) != len)
		return wsd_fail(err, WSD_EINVAL,
		    "the PE certificate table holds more than one signature "
		    "or unsigned data");
	if (!only_alignment(tab + 8, used, len - 8))
		return wsd_fail(err, WSD_EINVAL,
		    "unsigned data after the signature in the PE "
		    "certificate table (CVE-2013-3900)");
	return 0;
}

int
sign_policy_cab_locate(const unsigned char *hdr, size_t hdr_len,
    uint64_t file_size, uint32_t *off, uint32_t *size, struct wsd_err *err)
{
	*off = *size = 0;
	if (hdr_len < 4 || memcmp(hdr, "MSCF", 4) != 0)
		return 0;
	/* Flag 4: a reserve, whose 20 bytes Authenticode uses: 00 00 10 00,
	 * the signature's offset and size, eight zeros. */
	if (hdr_len < 0x28 + 20 || !(le16(hdr + 0x1e) & 4) ||
	    le16(hdr + 0x24) != 20 || memcmp(hdr + 0x28, "\0\0\x10\0", 4))
		return wsd_fail(err, WSD_EINVAL,
		    "the CAB file has no Authenticode signature reserve");
	/* Bytes the signature does not cover (osslsigncode skips iCabinet
	 * and the reserve's last eight in its digest): zero, or they could
	 * carry anything. */
	if (hdr[0x22] | hdr[0x23] ||
	    memcmp(hdr + 0x34, "\0\0\0\0\0\0\0\0", 8) != 0)
		return wsd_fail(err, WSD_EINVAL,
		    "unsigned bytes set in the CAB header (iCabinet or the "
		    "signature reserve)");
	*off = le32(hdr + 0x2c);
	*size = le32(hdr + 0x30);
	if (*size == 0 || *size > SIGN_PE_TABLE_MAX)
		return wsd_fail(err, WSD_EINVAL,
		    "the CAB signature size is out of bounds");
	/* The cabinet, then its signature, then nothing: bytes between or
	 * after them are covered by neither. */
	if (*off != le32(hdr + 8) || (uint64_t)*off + *size != file_size)
		return wsd_fail(err, WSD_EINVAL,
		    "the CAB signature does not follow the cabinet and end "
		    "the file (unsigned data)");
	return 1;
}

int
sign_policy_cab_sig(const unsigned char *blob, size_t len,
    struct wsd_err *err)
{
	size_t used = sign_policy_der_length(blob, len);

	if (used == 0)
		return wsd_fail(err, WSD_EINVAL,
		    "the CAB signature is not a PKCS#7 signature");
	if (!only_alignment(blob, used, len))
		return wsd_fail(err, WSD_EINVAL,
		    "unsigned data after the PKCS#7 signature in the CAB "
		    "signature area");
	return 0;
}

static const unsigned char cfb_magic[8] = { 0xd0, 0xcf, 0x11, 0xe0, 0xa1,
	0xb1, 0x1a, 0xe1 };

#define CFB_FREESECT 0xffffffffu
#define CFB_ENDOFCHAIN 0xfffffffeu
#define CFB_DIRENT 128

/* A compound file being checked: its FAT, and which sectors something
 * (the header's structures or a stream) owns. */
struct cfb {
	sign_read_fn read;
	void *ctx;
	uint64_t file_size;
	uint32_t ssz, per; /* sector size, FAT entries per sector */
	uint32_t nsec;     /* sectors the FAT describes */
	uint32_t *fat;
	unsigned char *owned; /* one bit per sector */
	struct wsd_err *err;
	/* From the directory walk: the entries (kept for the
	 * MsiDigitalSignatureEx pre-hash), the root (the mini stream), and
	 * the signature streams, when there are some. */
	unsigned char *dir;
	uint32_t ndir;
	uint32_t root_start, sig_start, dse_start;
	uint64_t root_size, sig_size, dse_size;
	bool has_sig, has_dse;
	int md_nid; /* the primary signature's file digest algorithm */
	/* The mini stream, loaded at its first use: the MiniFAT, the
	 * root's sectors in order, which 64-byte mini sectors a stream
	 * owns. */
	uint32_t *mfat, *rlist, nmfat, nminisec;
	unsigned char *mowned;
	bool mini_loaded;
};

/* "\x05DigitalSignature" and "\x05MsiDigitalSignatureEx" as directory
 * entries name them (UTF-16LE, NUL). */
static const char sig_name[] = "\x05\0D\0i\0g\0i\0t\0a\0l\0S\0i\0g\0n\0"
			       "a\0t\0u\0r\0e\0\0\0";
static const char dse_name[] = "\x05\0M\0s\0i\0D\0i\0g\0i\0t\0a\0l\0S\0"
			       "i\0g\0n\0a\0t\0u\0r\0e\0E\0x\0\0\0";

static bool
cfb_named(const unsigned char *d, const char *name, size_t len)
{
	return le16(d + 0x40) == len && memcmp(d, name, len) == 0;
}

static int
cfb_bad(struct cfb *c, const char *what)
{
	return wsd_fail(c->err, WSD_EINVAL, what);
}

/* Reads sector ID whole into BUF. */
static int
cfb_read(struct cfb *c, uint32_t id, unsigned char *buf)
{
	uint64_t off = ((uint64_t)id + 1) * c->ssz;

	if (id >= 0xfffffffau || off + c->ssz > c->file_size ||
	    c->read(c->ctx, off, buf, c->ssz) < 0)
		return cfb_bad(c,
		    "malformed compound file (MSI): a sector outside the file");
	return 0;
}

/* Claims sector ID for one owner: claimed twice is a malformed file. */
static int
cfb_own(struct cfb *c, uint32_t id)
{
	if (id >= c->nsec)
		return cfb_bad(c,
		    "malformed compound file (MSI): a sector outside the FAT");
	if (!claim_once(c->owned, id))
		return cfb_bad(c,
		    "malformed compound file (MSI): a sector used twice");
	return 0;
}

/* Claims the chain from START; its length in *N when N is set. */
static int
cfb_chain(struct cfb *c, uint32_t start, uint32_t *n)
{
	uint32_t len = 0;

	for (uint32_t id = start; id != CFB_ENDOFCHAIN; id = c->fat[id]) {
		if (cfb_own(c, id) < 0)
			return -1; /* also ends a loop: its sector is owned */
		len++;
	}
	if (n != NULL)
		*n = len;
	return 0;
}

/* Claims the chain from START for a stream of SIZE bytes: exactly the
 * sectors it needs, the bytes after SIZE in its last one zero (nothing
 * there is hashed). */
static int
cfb_stream(struct cfb *c, uint32_t start, uint64_t size, unsigned char *sec)
{
	uint64_t want = (size + c->ssz - 1) / c->ssz;
	uint32_t len, last = start;

	if (cfb_chain(c, start, &len) < 0)
		return -1;
	if (len != want)
		return cfb_bad(c, "malformed compound file (MSI): a stream's "
				  "chain is not the length of the stream "
				  "(unsigned sectors)");
	if (len == 0 || size % c->ssz == 0)
		return 0;
	while (c->fat[last] != CFB_ENDOFCHAIN)
		last = c->fat[last];
	if (cfb_read(c, last, sec) < 0)
		return -1;
	if (!all_zero(sec + size % c->ssz, c->ssz - size % c->ssz))
		return cfb_bad(c, "unsigned data after a stream's end in the "
				  "MSI compound file (CVE-2020-1464)");
	return 0;
}

/* The MiniFAT and the root's chain (the mini stream), once. */
static int
cfb_mini_load(struct cfb *c, const unsigned char *hdr, unsigned char *sec)
{
	uint32_t nmini = le32(hdr + 0x40), nroot, id;

	if (c->mini_loaded)
		return 0;
	nroot = (uint32_t)((c->root_size + c->ssz - 1) / c->ssz);
	if (le16(hdr + 0x20) != 6 || nmini == 0 ||
	    (uint64_t)nmini * c->per > SIGN_CFB_SECTORS_MAX ||
	    nroot > c->nsec)
		return cfb_bad(c, "malformed compound file (MSI): a stream "
				  "in a missing or malformed mini stream");
	c->nmfat = nmini * c->per;
	c->nminisec = (uint32_t)(c->root_size / 64);
	if ((c->mfat = malloc((size_t)c->nmfat * sizeof(*c->mfat))) == NULL ||
	    (c->rlist = malloc(((size_t)nroot + 1) * sizeof(*c->rlist))) ==
		NULL ||
	    (c->mowned = calloc((size_t)c->nmfat / 8 + 1, 1)) == NULL)
		return wsd_fail(c->err, WSD_ENOMEM, "out of memory");
	id = le32(hdr + 0x3c);
	for (uint32_t i = 0; i < nmini; i++, id = c->fat[id]) {
		if (id >= c->nsec || cfb_read(c, id, sec) < 0)
			return cfb_bad(c, "malformed compound file (MSI): "
					  "MiniFAT");
		for (uint32_t j = 0; j < c->per; j++)
			c->mfat[i * c->per + j] = le32(sec + 4 * j);
	}
	id = c->root_start;
	for (uint32_t i = 0; i < nroot; i++, id = c->fat[id]) {
		if (id >= c->nsec)
			return cfb_bad(c, "malformed compound file (MSI): the "
					  "mini stream's chain");
		c->rlist[i] = id;
	}
	c->mini_loaded = true;
	return 0;
}

/* Mini sector K (64 bytes) into OUT, through the root's chain. */
static int
cfb_mini_read(struct cfb *c, uint32_t k, unsigned char *sec,
    unsigned char *out)
{
	uint64_t off = (uint64_t)k * 64;

	if (k >= c->nminisec || off + 64 > c->root_size ||
	    cfb_read(c, c->rlist[off / c->ssz], sec) < 0)
		return cfb_bad(c, "malformed compound file (MSI): a mini "
				  "sector outside the mini stream");
	memcpy(out, sec + off % c->ssz, 64);
	return 0;
}

/* A stream under the cutoff, from mini sector START: claims exactly the
 * mini sectors its SIZE needs, each once, the bytes after SIZE in the
 * last one zero (osslsigncode hashes SIZE bytes; the rest would be
 * signed by nothing). */
static int
cfb_mini_stream(struct cfb *c, const unsigned char *hdr, uint32_t start,
    uint64_t size, unsigned char *sec)
{
	uint64_t want = (size + 63) / 64, len = 0;
	unsigned char m[64];
	uint32_t last = start;

	if (cfb_mini_load(c, hdr, sec) < 0)
		return -1;
	for (uint32_t k = start; k != CFB_ENDOFCHAIN; k = c->mfat[k]) {
		if (k >= c->nmfat || k >= c->nminisec)
			return cfb_bad(c, "malformed compound file (MSI): a "
					  "mini sector outside the mini stream");
		if (!claim_once(c->mowned, k))
			return cfb_bad(c, "malformed compound file (MSI): a "
					  "mini sector used twice");
		last = k;
		len++;
	}
	if (len != want)
		return cfb_bad(c, "malformed compound file (MSI): a stream's "
				  "mini chain is not the length of the stream "
				  "(unsigned mini sectors)");
	if (size % 64 == 0)
		return 0;
	if (cfb_mini_read(c, last, sec, m) < 0)
		return -1;
	if (!all_zero(m + size % 64, 64 - size % 64))
		return cfb_bad(c, "unsigned data after a stream's end in the "
				  "MSI's mini stream (CVE-2020-1464)");
	return 0;
}

/*
 * After the walk: every mini sector the MiniFAT uses belongs to a
 * stream, and after the last of them the mini stream holds zeros only
 * (a root grown over unused mini sectors would carry unsigned bytes).
 * Free mini sectors before it are not read: a writer that deleted a
 * stream leaves its old bytes there.
 */
static int
cfb_mini_end(struct cfb *c, unsigned char *sec)
{
	unsigned char m[64];
	uint32_t end = 0;

	if (!c->mini_loaded)
		return 0;
	/* Entries past the mini stream's end name no bytes (osslsigncode
	 * leaves one such ENDOFCHAIN behind when it signs). */
	for (uint32_t k = 0; k < c->nmfat && k < c->nminisec; k++) {
		bool owned = c->mowned[k / 8] & (1u << (k % 8));

		if (c->mfat[k] != CFB_FREESECT && !owned)
			return cfb_bad(c, "unsigned mini sectors in the MSI "
					  "that no stream owns (CVE-2020-1464)");
		if (owned)
			end = k + 1;
	}
	for (uint32_t k = end; k < c->nminisec; k++) {
		if (cfb_mini_read(c, k, sec, m) < 0)
			return -1;
		if (!all_zero(m, sizeof(m)))
			return cfb_bad(c, "unsigned data at the end of the MSI's "
					  "mini stream (CVE-2020-1464)");
	}
	return 0;
}

/*
 * A directory entry's name: NAMELEN (0x40) even, 2 to 64 bytes, its last
 * UTF-16 unit the only NUL. osslsigncode leaves a stream out of its
 * digest when the first min(NAMELEN, sizeof) bytes of its name match a
 * signature stream's: a short name without its NUL ("\x05") would hide
 * a stream from the signature.
 */
static bool
cfb_name_ok(const unsigned char *d)
{
	uint16_t n = le16(d + 0x40);

	if (n < 2 || n > 64 || n % 2 != 0 || le16(d + n - 2) != 0)
		return false;
	for (uint16_t i = 0; i + 2 < n; i += 2)
		if (le16(d + i) == 0)
			return false;
	return true;
}

/* An unused directory entry as the format defines it: zeros, but for
 * the three links, NOSTREAM. */
static bool
cfb_unused_entry(const unsigned char *d)
{
	for (uint32_t i = 0; i < CFB_DIRENT; i++) {
		bool link = i >= 0x44 && i < 0x50;

		if (d[i] != (link ? 0xff : 0))
			return false;
	}
	return true;
}

/*
 * The directory: a tree from the root entry (0) through left, right and
 * child links, each entry reached once. The root's chain is the mini
 * stream, each stream of at least CUTOFF bytes has its own; an entry
 * outside the tree must be unused (no stream hides there).
 */
static int
cfb_streams(struct cfb *c, const unsigned char *hdr, unsigned char *sec)
{
	uint32_t cutoff = le32(hdr + 0x38), start = le32(hdr + 0x30);
	uint32_t per = c->ssz / CFB_DIRENT, len, n, top = 0, id;
	unsigned char *dir = NULL, *seen = NULL;
	uint32_t *stack = NULL, *lvl = NULL;
	int rc = -1;

	if (cfb_chain(c, start, &len) < 0)
		return -1;
	if (len == 0 || (uint64_t)len * c->ssz > SIGN_CFB_DIR_MAX)
		return cfb_bad(c, "malformed compound file (MSI): directory "
				  "size");
	n = len * per;
	if ((dir = malloc((size_t)len * c->ssz)) == NULL ||
	    (seen = calloc(n / 8 + 1, 1)) == NULL ||
	    (stack = malloc((size_t)n * sizeof(*stack))) == NULL ||
	    (lvl = calloc(n, sizeof(*lvl))) == NULL) {
		rc = wsd_fail(c->err, WSD_ENOMEM, "out of memory");
		goto out;
	}
	id = start;
	for (uint32_t i = 0; i < len; i++, id = c->fat[id])
		if (cfb_read(c, id, dir + (size_t)i * c->ssz) < 0)
			goto out;
	if (dir[0x42] != 5) {
		rc = cfb_bad(c, "malformed compound file (MSI): no root entry");
		goto out;
	}
	stack[top++] = 0;
	seen[0] = 1;
	while (top > 0) {
		uint32_t cur = stack[--top];
		const unsigned char *d = dir + (size_t)cur * CFB_DIRENT;
		uint64_t size = le32(d + 0x78);
		bool root = d == dir;
		bool sig = cfb_named(d, sig_name, sizeof(sig_name) - 1);
		bool dse = cfb_named(d, dse_name, sizeof(dse_name) - 1);

		if (c->ssz == 4096)
			size |= (uint64_t)le32(d + 0x7c) << 32;
		if ((d[0x42] == 5) != root ||
		    (d[0x42] != 1 && d[0x42] != 2 && d[0x42] != 5)) {
			rc = cfb_bad(c, "malformed compound file (MSI): a "
					"directory entry of no known type");
			goto out;
		}
		if (!cfb_name_ok(d)) {
			rc = cfb_bad(c, "malformed compound file (MSI): a "
					"directory entry's name (a stream the "
					"signature would skip)");
			goto out;
		}
		if ((root || (d[0x42] == 2 && size >= cutoff)) &&
		    cfb_stream(c, le32(d + 0x74), size, sec) < 0)
			goto out;
		/* The root comes first: its mini stream is known here. */
		if (!root && d[0x42] == 2 && size > 0 && size < cutoff &&
		    cfb_mini_stream(c, hdr, le32(d + 0x74), size, sec) < 0)
			goto out;
		/* osslsigncode leaves a signature stream's name out of the
		 * digest: under the root one of each, as streams (it skips a
		 * storage of that name whole, and an MsiDigitalSignatureEx
		 * at any depth). */
		if ((sig || dse) && (d[0x42] != 2 || lvl[cur] != 1 ||
					(sig ? c->has_sig : c->has_dse))) {
			rc = cfb_bad(c, "a signature stream of the MSI not "
					"once in its root storage (its "
					"contents would be signed by nothing)");
			goto out;
		}
		if (root) {
			c->root_start = le32(d + 0x74);
			c->root_size = size;
		} else if (sig) {
			c->sig_start = le32(d + 0x74);
			c->sig_size = size;
			c->has_sig = true;
		} else if (dse) {
			c->dse_start = le32(d + 0x74);
			c->dse_size = size;
			c->has_dse = true;
		}
		/* The root has no siblings: osslsigncode would see nothing
		 * hung there, neither in its digest nor in the pre-hash. */
		if (root && (le32(d + 0x44) != CFB_FREESECT ||
				le32(d + 0x48) != CFB_FREESECT)) {
			rc = cfb_bad(c, "the MSI's root entry has siblings "
					"(entries its signature does not cover)");
			goto out;
		}
		for (int l = 0; l < 3; l++) {
			uint32_t to = le32(d + 0x44 + 4 * l);

			/* A storage's child, or anyone's siblings; a stream
			 * has no child. */
			if (to == CFB_FREESECT ||
			    (l == 2 && d[0x42] == 2))
				continue;
			if (to >= n || (seen[to / 8] & (1u << (to % 8)))) {
				rc = cfb_bad(c, "malformed compound file "
						"(MSI): a directory link out of "
						"range or into a loop");
				goto out;
			}
			seen[to / 8] |= (unsigned char)(1u << (to % 8));
			lvl[to] = lvl[cur] + (l == 2);
			stack[top++] = to;
		}
	}
	for (uint32_t e = 0; e < n; e++) {
		if (!(seen[e / 8] & (1u << (e % 8))) &&
		    !cfb_unused_entry(dir + (size_t)e * CFB_DIRENT)) {
			rc = cfb_bad(c, "a directory entry outside the MSI's "
					"tree (CVE-2020-1464)");
			goto out;
		}
	}
	c->dir = dir;
	c->ndir = n;
	dir = NULL;
	rc = 0;
out:
	free(dir);
	free(seen);
	free(stack);
	free(lvl);
	return rc;
}

/*
 * A signature stream's bytes (from START, SIZE of them, SIZE checked by
 * the caller) into *OUT: through the FAT, or under CUTOFF through the
 * MiniFAT into the root's mini stream. Chains were checked by the walk;
 * here every index is bounded again.
 */
static int
cfb_sig_bytes(struct cfb *c, const unsigned char *hdr, unsigned char *sec,
    uint32_t start, uint64_t size, unsigned char **out)
{
	uint32_t cutoff = le32(hdr + 0x38), k, id;
	unsigned char *buf, m[64];
	uint64_t got = 0;

	if ((buf = malloc((size_t)size)) == NULL)
		return wsd_fail(c->err, WSD_ENOMEM, "out of memory");
	if (size >= cutoff) {
		for (id = start; got < size; id = c->fat[id]) {
			uint64_t n = size - got < c->ssz ? size - got : c->ssz;

			if (id >= c->nsec || cfb_read(c, id, sec) < 0)
				goto bad;
			memcpy(buf + got, sec, (size_t)n);
			got += n;
		}
		*out = buf;
		return 0;
	}
	/* The mini stream: the walk loaded it and checked this chain. */
	if (!c->mini_loaded)
		goto bad;
	for (k = start; got < size; k = c->mfat[k]) {
		uint64_t n = size - got < 64 ? size - got : 64;

		if (k >= c->nmfat || cfb_mini_read(c, k, sec, m) < 0)
			goto bad;
		memcpy(buf + got, m, (size_t)n);
		got += n;
	}
	if (k != CFB_ENDOFCHAIN)
		goto bad;
	*out = buf;
	return 0;
bad:
	free(buf);
	return cfb_bad(c, "malformed compound file (MSI): a signature "
			  "stream cannot be read");
}

/* The raw DigitalSignature stream holds a PKCS#7 blob of strong
 * digests and nothing else (bytes after the blob are covered by
 * nothing). */
static int
cfb_sig_exact(struct cfb *c, const unsigned char *hdr, unsigned char *sec)
{
	unsigned char *b = NULL;
	size_t used;
	int rc;

	if (!c->has_sig)
		return cfb_bad(c, "the MSI has no DigitalSignature stream");
	if (c->sig_size == 0 || c->sig_size > SIGN_PE_TABLE_MAX)
		return cfb_bad(c, "the MSI's DigitalSignature stream size is "
				  "out of bounds");
	if (cfb_sig_bytes(c, hdr, sec, c->sig_start, c->sig_size, &b) < 0)
		return -1;
	used = sign_policy_der_length(b, (size_t)c->sig_size);
	rc = used != 0 && only_alignment(b, used, (size_t)c->sig_size) ?
	    check_p7(b, used, 0, &c->md_nid, c->err) :
	    cfb_bad(c, "unsigned data after the PKCS#7 signature in the "
		       "MSI's DigitalSignature stream");
	free(b);
	return rc;
}

/* The order osslsigncode hashes a storage's entries in: their names'
 * bytes, NUL included (so a prefix first). */
static int
cfb_name_cmp(const void *a, const void *b, void *arg)
{
	const unsigned char *dir = arg;
	const unsigned char *x = dir + (size_t)*(const uint32_t *)a * CFB_DIRENT;
	const unsigned char *y = dir + (size_t)*(const uint32_t *)b * CFB_DIRENT;
	uint16_t lx = le16(x + 0x40), ly = le16(y + 0x40);
	int d = memcmp(x, y, lx < ly ? lx : ly);

	return d != 0 ? d : lx > ly ? -1 : lx < ly;
}

/* One entry's metadata as the MsiDigitalSignatureEx pre-hash takes it:
 * name (no NUL), CLSID or stream size, state bits, times. */
static int
cfb_prehash_entry(EVP_MD_CTX *h, const unsigned char *d, bool root)
{
	return (root || EVP_DigestUpdate(h, d, le16(d + 0x40) - 2u)) &&
	    (d[0x42] == 2 ? EVP_DigestUpdate(h, d + 0x78, 4) :
			    EVP_DigestUpdate(h, d + 0x50, 16)) &&
	    EVP_DigestUpdate(h, d + 0x60, 4) &&
	    (root || EVP_DigestUpdate(h, d + 0x64, 16));
}

#define CFB_NEST_MAX 16

/* Storage E and, in name order, what it holds (the walk checked every
 * link: in range, each entry once). */
static int
cfb_prehash(struct cfb *c, uint32_t e, int depth, EVP_MD_CTX *h)
{
	const unsigned char *d = c->dir + (size_t)e * CFB_DIRENT;
	uint32_t *kids, *stack, nk = 0, top = 0, child = le32(d + 0x4c);
	int rc = -1;

	if (depth > CFB_NEST_MAX)
		return cfb_bad(c, "the MSI's storages are nested too deeply");
	if (!cfb_prehash_entry(h, d, e == 0))
		return wsd_fail(c->err, WSD_ENOMEM, "digest failed");
	if (child == CFB_FREESECT)
		return 0;
	if ((kids = malloc((size_t)c->ndir * sizeof(*kids))) == NULL ||
	    (stack = malloc((size_t)c->ndir * sizeof(*stack))) == NULL) {
		free(kids);
		return wsd_fail(c->err, WSD_ENOMEM, "out of memory");
	}
	stack[top++] = child;
	while (top > 0 && nk < c->ndir) {
		uint32_t k = stack[--top];
		const unsigned char *s = c->dir + (size_t)k * CFB_DIRENT;

		kids[nk++] = k;
		for (int l = 0; l < 2; l++) {
			uint32_t to = le32(s + 0x44 + 4 * l);

			if (to != CFB_FREESECT && to < c->ndir &&
			    top < c->ndir)
				stack[top++] = to;
		}
	}
	qsort_r(kids, nk, sizeof(*kids), cfb_name_cmp, c->dir);
	rc = 0;
	for (uint32_t i = 0; rc == 0 && i < nk; i++) {
		const unsigned char *s = c->dir + (size_t)kids[i] * CFB_DIRENT;

		if (depth == 0 &&
		    (cfb_named(s, sig_name, sizeof(sig_name) - 1) ||
			cfb_named(s, dse_name, sizeof(dse_name) - 1)))
			continue;
		if (s[0x42] == 1)
			rc = cfb_prehash(c, kids[i], depth + 1, h);
		else if (!cfb_prehash_entry(h, s, false))
			rc = wsd_fail(c->err, WSD_ENOMEM, "digest failed");
	}
	free(kids);
	free(stack);
	return rc;
}

/*
 * An MsiDigitalSignatureEx stream holds the digest of the MSI's metadata
 * (names, sizes, times), which the signed digest covers. osslsigncode
 * computes it afresh and never compares the stream's bytes: they must be
 * that digest, or they are bytes nothing signs.
 */
static int
cfb_dse(struct cfb *c, const unsigned char *hdr, unsigned char *sec)
{
	unsigned char want[EVP_MAX_MD_SIZE], *got = NULL;
	const EVP_MD *md;
	EVP_MD_CTX *h;
	unsigned int n = 0;
	int rc;

	if (!c->has_dse)
		return 0;
	if ((md = EVP_get_digestbynid(c->md_nid)) == NULL ||
	    c->dse_size != (uint64_t)EVP_MD_get_size(md))
		return cfb_bad(c, "the MSI's MsiDigitalSignatureEx stream is "
				  "not a digest of the signature's algorithm");
	if (cfb_sig_bytes(c, hdr, sec, c->dse_start, c->dse_size, &got) < 0)
		return -1;
	if ((h = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h, md, NULL) != 1) {
		rc = wsd_fail(c->err, WSD_ENOMEM, "digest failed");
	} else if ((rc = cfb_prehash(c, 0, 0, h)) == 0) {
		if (EVP_DigestFinal_ex(h, want, &n) != 1)
			rc = wsd_fail(c->err, WSD_ENOMEM, "digest failed");
		else if (n != c->dse_size || memcmp(want, got, n) != 0)
			rc = cfb_bad(c, "the MSI's MsiDigitalSignatureEx "
					"stream does not match its metadata");
	}
	EVP_MD_CTX_free(h);
	free(got);
	return rc;
}

/*
 * After sector LAST, the last one in use, only whole sectors the FAT
 * lists as free and that hold nothing but zeros: what a writer that
 * deleted a stream without compacting leaves, and no place for another
 * format's trailer.
 */
static int
cfb_tail(struct cfb *c, uint32_t last)
{
	unsigned char sec[4096];
	uint64_t end = ((uint64_t)last + 2) * c->ssz;

	if ((c->file_size - end) % c->ssz != 0 ||
	    (c->file_size - end) / c->ssz > c->nsec - 1 - (uint64_t)last)
		goto bad;
	for (uint32_t id = last + 1; end < c->file_size; id++, end += c->ssz) {
		if (cfb_read(c, id, sec) < 0)
			return -1;
		if (!all_zero(sec, c->ssz))
			goto bad;
	}
	return 0;
bad:
	return cfb_bad(c, "unsigned data after the end of the MSI compound "
			  "file (CVE-2020-1464)");
}

int
sign_policy_cfb_end(sign_read_fn read, void *ctx, uint64_t file_size,
    struct wsd_err *err)
{
	unsigned char hdr[512], sec[4096];
	struct cfb c = { .read = read, .ctx = ctx, .file_size = file_size,
		.err = err };
	uint32_t nfat, have = 0, next, ndifat, *fatsec = NULL, last = 0;
	bool found = false;
	int rc = -1;

	if (file_size < sizeof(hdr))
		return 1;
	if (read(ctx, 0, hdr, sizeof(hdr)) < 0)
		return wsd_fail(err, WSD_EIO, "cannot read the package");
	if (memcmp(hdr, cfb_magic, sizeof(cfb_magic)) != 0)
		return 1;
	/* Version 3: 512-byte sectors; version 4: 4096. */
	if (!((le16(hdr + 0x1a) == 3 && le16(hdr + 0x1e) == 9) ||
		(le16(hdr + 0x1a) == 4 && le16(hdr + 0x1e) == 12)))
		return wsd_fail(err, WSD_EINVAL,
		    "unknown compound file (MSI) version");
	c.ssz = 1u << le16(hdr + 0x1e);
	c.per = c.ssz / 4;
	nfat = le32(hdr + 0x2c);
	if (nfat == 0 || nfat > file_size / c.ssz ||
	    (uint64_t)nfat * c.per > SIGN_CFB_SECTORS_MAX)
		return wsd_fail(err, WSD_EINVAL,
		    "malformed compound file (MSI): FAT size");
	c.nsec = nfat * c.per;
	if ((fatsec = malloc((size_t)nfat * sizeof(*fatsec))) == NULL ||
	    (c.fat = malloc((size_t)c.nsec * sizeof(*c.fat))) == NULL ||
	    (c.owned = calloc((size_t)c.nsec / 8 + 1, 1)) == NULL) {
		rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
		goto out;
	}
	/* The FAT's own sectors: 109 named in the header, the rest in the
	 * DIFAT chain, each of whose sectors ends with the next one's ID.
	 * Exactly as many DIFAT sectors as the FAT needs, each owned as it
	 * is read (a loop is refused), every slot past the FAT's last
	 * sector FREESECT, the chain ended. */
	ndifat = le32(hdr + 0x48);
	if (ndifat != (nfat > 109 ? (nfat - 109 + c.per - 2) / (c.per - 1) :
				    0)) {
		rc = cfb_bad(&c, "malformed compound file (MSI): DIFAT size");
		goto out;
	}
	for (uint32_t i = 0; i < 109; i++) {
		uint32_t v = le32(hdr + 0x4c + 4 * i);

		if (have < nfat) {
			fatsec[have++] = v;
		} else if (v != CFB_FREESECT) {
			rc = cfb_bad(&c, "unsigned data in the MSI header's "
					 "DIFAT (CVE-2020-1464)");
			goto out;
		}
	}
	next = le32(hdr + 0x44);
	for (uint32_t n = 0; n < ndifat; n++) {
		if (cfb_own(&c, next) < 0 || cfb_read(&c, next, sec) < 0)
			goto out;
		for (uint32_t i = 0; i + 1 < c.per; i++) {
			uint32_t v = le32(sec + 4 * i);

			if (have < nfat) {
				fatsec[have++] = v;
			} else if (v != CFB_FREESECT) {
				rc = cfb_bad(&c, "unsigned data in the MSI's "
						 "DIFAT (CVE-2020-1464)");
				goto out;
			}
		}
		next = le32(sec + c.ssz - 4);
	}
	if (next != CFB_ENDOFCHAIN && !(ndifat == 0 && next == CFB_FREESECT)) {
		rc = cfb_bad(&c, "malformed compound file (MSI): DIFAT chain "
				 "end");
		goto out;
	}
	for (uint32_t f = 0; f < nfat; f++) {
		if (cfb_read(&c, fatsec[f], sec) < 0)
			goto out;
		for (uint32_t i = 0; i < c.per; i++)
			c.fat[f * c.per + i] = le32(sec + 4 * i);
	}
	/* Owners: the FAT and DIFAT sectors, the directory, the MiniFAT,
	 * and the streams the directory names. */
	for (uint32_t f = 0; f < nfat; f++)
		if (cfb_own(&c, fatsec[f]) < 0)
			goto out;
	/* Version 4: the header sector past its 512 bytes is padding. */
	for (uint32_t off = 512; off < c.ssz; off += sizeof(hdr)) {
		if (read(ctx, off, sec, sizeof(hdr)) < 0) {
			rc = wsd_fail(err, WSD_EIO, "cannot read the package");
			goto out;
		}
		if (!all_zero(sec, sizeof(hdr))) {
			rc = cfb_bad(&c, "unsigned data in the MSI header sector "
					 "(CVE-2020-1464)");
			goto out;
		}
	}
	{
		uint32_t nmini = le32(hdr + 0x40), len = 0;

		if (nmini > 0 && cfb_chain(&c, le32(hdr + 0x3c), &len) < 0)
			goto out;
		if (len != nmini) {
			rc = cfb_bad(&c, "malformed compound file (MSI): "
					 "MiniFAT chain length");
			goto out;
		}
	}
	if ((rc = cfb_streams(&c, hdr, sec)) < 0 ||
	    (rc = cfb_mini_end(&c, sec)) < 0 ||
	    (rc = cfb_sig_exact(&c, hdr, sec)) < 0 ||
	    (rc = cfb_dse(&c, hdr, sec)) < 0)
		goto out;
	/* Every sector in use belongs to something, and the file ends with
	 * the last of them (the header fills sector -1). */
	for (uint32_t i = 0; i < c.nsec; i++) {
		if (c.fat[i] == CFB_FREESECT)
			continue;
		if (!(c.owned[i / 8] & (1u << (i % 8)))) {
			rc = cfb_bad(&c,
			    "unsigned sectors in the MSI compound file that "
			    "no stream owns (CVE-2020-1464)");
			goto out;
		}
		last = i;
		found = true;
	}
	if (!found)
		rc = cfb_bad(&c, "malformed compound file (MSI): empty FAT");
	else if (((uint64_t)last + 2) * c.ssz > file_size)
		rc = cfb_bad(&c, "truncated compound file (MSI)");
	else
		rc = cfb_tail(&c, last);
out:
	free(fatsec);
	free(c.fat);
	free(c.owned);
	free(c.dir);
	free(c.mfat);
	free(c.rlist);
	free(c.mowned);
	return rc;
}
