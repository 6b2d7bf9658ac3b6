/*
 * Certificate checks and the local test CA (see tls_cert.h). OpenSSL 3
 * APIs only; nothing here runs the openssl command.
 *
 * Every input file is read whole into memory through fileio_read_small(),
 * which refuses anything but a regular file of at most WSD_MAX_PEM_FILE
 * bytes, and parsed from there: no FILE*-based OpenSSL loader sees a path.
 * Key bytes are wiped before they are freed. Files are written through
 * fileio's temporary file, fsync and rename.
 */
#include "net/tls_cert.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/dnsname.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "common/wsd_limits.h"

#define TESTCA_CA_DAYS 3650 /* the test CA itself: 10 years */
#define CN_MAX         64   /* RFC 5280 ub-common-name */

/* The problems tls_cert_check reports, one static text each. */
static const char E_CERT_READ[] = "cannot read certificate file";
static const char E_CERT_NOPEM[] = "certificate file has no PEM certificate";
static const char E_CERT_BADPEM[] =
    "certificate file has a malformed PEM certificate";
static const char E_CERT_MANY[] = "certificate file has too many certificates";
static const char E_CHAIN_READ[] = "cannot read chain file";
static const char E_CHAIN_NOPEM[] = "chain file has no PEM certificate";
static const char E_CHAIN_BADPEM[] =
    "chain file has a malformed PEM certificate";
static const char E_CA_READ[] = "cannot read CA certificate file";
static const char E_CA_NOPEM[] = "CA certificate file has no PEM certificate";
static const char E_KEY_READ[] = "cannot read private key file";
static const char E_KEY_NOPEM[] =
    "private key file has no unencrypted PEM private key";
static const char E_KEY_MISMATCH[] =
    "private key does not match the certificate";
static const char E_KEY_TYPE[] = "certificate key is neither RSA nor ECDSA";
static const char E_KEY_WEAK[] = "certificate key is too weak "
				 "(needs RSA 2048+ or ECDSA P-256/P-384/P-521)";
static const char E_DATES[] = "certificate has malformed validity dates";
static const char E_EXPIRED[] = "certificate has expired";
static const char E_NOT_YET[] = "certificate is not yet valid";
static const char E_NAME[] = "certificate does not cover the name";
static const char E_CHAIN[] = "certificate chain does not verify";
static const char E_NOMEM[] = "out of memory";
static const char E_SSL[] = "TLS library failure";

/* Never prompt on a terminal for a pass phrase: encrypted keys fail. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/*
 * Appends every PEM certificate in BUF to OUT (at most MAX in all).
 * Returns 0, or -1 when a certificate block is malformed, -2 when there
 * are too many, -3 on allocation failure. Non-certificate PEM blocks and
 * text between blocks are skipped, as OpenSSL's PEM reader does.
 */
static int
pem_certs(const char *buf, size_t len, STACK_OF(X509) * out, int max)
{
	BIO *bio;
	X509 *x;
	int rc = 0;

	if (len > INT_MAX)
		return -1;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
		return -3;
	ERR_clear_error();
	for (;;) {
		unsigned long e;

		x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
		if (x == NULL) {
			e = ERR_peek_last_error();
			if (ERR_GET_LIB(e) != ERR_LIB_PEM ||
			    ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
				rc = -1;
			break;
		}
		if (sk_X509_num(out) >= max) {
			X509_free(x);
			rc = -2;
			break;
		}
		if (!sk_X509_push(out, x)) {
			X509_free(x);
			rc = -3;
			break;
		}
	}
	if (rc == -1)
		log_ssl("PEM certificate");
	ERR_clear_error();
	BIO_free(bio);
	return rc;
}

/* Maps a pem_certs() failure to one of the caller's messages. */
static int
pem_certs_fail(int prc, const char *path, const char *malformed,
    struct wsd_err *err)
{
	switch (prc) {
	case -1:
		log_warnx("%s: malformed PEM certificate", path);
		return wsd_fail(err, WSD_EINVAL, malformed);
	case -2:
		log_warnx("%s: more than %d certificates", path,
		    WSD_MAX_CHAIN_CERTS);
		return wsd_fail(err, WSD_ETOOBIG, E_CERT_MANY);
	default:
		return wsd_fail(err, WSD_ENOMEM, E_NOMEM);
	}
}

/*
 * Reads the PEM certificates in PATH into OUT: at least one, at most
 * WSD_MAX_CHAIN_CERTS. E_READ, E_BAD and E_NONE are the caller's texts for
 * an unreadable file, a malformed certificate and no certificate at all.
 */
static int
load_certs(const char *path, STACK_OF(X509) * out, const char *e_read,
    const char *e_bad, const char *e_none, struct wsd_err *err)
{
	char *buf;
	size_t len;
	int prc;

	if (fileio_read_small(path, WSD_MAX_PEM_FILE, &buf, &len, NULL, NULL) <
	    0)
		return wsd_fail(err, WSD_EIO, e_read);
	prc = pem_certs(buf, len, out, WSD_MAX_CHAIN_CERTS);
	free(buf);
	if (prc < 0)
		return pem_certs_fail(prc, path, e_bad, err);
	if (sk_X509_num(out) == 0) {
		log_warnx("%s: no PEM certificate", path);
		return wsd_fail(err, WSD_EINVAL, e_none);
	}
	return 0;
}

static int
asn1_to_time_t(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return 0;
}

/* RSA >= 2048 bits, or ECDSA on P-256, P-384 or P-521. */
static int
key_strength(EVP_PKEY *pk, const char *path, struct wsd_err *err)
{
	char grp[80];
	size_t glen = 0;
	int nid;

	if (EVP_PKEY_is_a(pk, "RSA")) {
		if (EVP_PKEY_get_bits(pk) < 2048) {
			log_warnx("%s: RSA key of %d bits", path,
			    EVP_PKEY_get_bits(pk));
			return wsd_fail(err, WSD_ETLS, E_KEY_WEAK);
		}
		return 0;
	}
	if (!EVP_PKEY_is_a(pk, "EC")) {
		log_warnx("%s: key type %s", path, EVP_PKEY_get0_type_name(pk));
		return wsd_fail(err, WSD_ETLS, E_KEY_TYPE);
	}
	if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, grp,
		sizeof(grp), &glen) != 1) {
		ERR_clear_error();
		log_warnx("%s: EC key without a named curve", path);
		return wsd_fail(err, WSD_ETLS, E_KEY_WEAK);
	}
	nid = OBJ_sn2nid(grp);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(grp);
	if (nid != NID_X9_62_prime256v1 && nid != NID_secp384r1 &&
	    nid != NID_secp521r1) {
		log_warnx("%s: EC curve %s", path, grp);
		return wsd_fail(err, WSD_ETLS, E_KEY_WEAK);
	}
	return 0;
}

/* Self-signed (signature checked) and a CA. */
static bool
is_self_signed_ca(X509 *x)
{
	bool r = X509_self_signed(x, 1) == 1 && X509_check_ca(x) > 0;

	ERR_clear_error();
	return r;
}

int
tls_cert_check(const char *cert_path, const char *key_path,
    const char *chain_path, const char *extra_ca_path, const char *name,
    time_t now, struct tls_cert_info *info, struct wsd_err *err)
{
	STACK_OF(X509) *certs = NULL, *chain = NULL, *cas = NULL;
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *vctx = NULL;
	X509_VERIFY_PARAM *vpm;
	EVP_PKEY *pkey = NULL;
	BIO *kbio = NULL;
	char *kbuf = NULL;
	size_t klen = 0;
	struct stat st;
	X509 *leaf;
	int rc, prc;

	if (cert_path == NULL || key_path == NULL)
		return wsd_fail(err, WSD_EINVAL, "no certificate or key path");
	if ((certs = sk_X509_new_null()) == NULL ||
	    (chain = sk_X509_new_null()) == NULL ||
	    (cas = sk_X509_new_null()) == NULL ||
	    (untrusted = sk_X509_new_null()) == NULL) {
		rc = wsd_fail(err, WSD_ENOMEM, E_NOMEM);
		goto out;
	}

	/* 1. The certificate file (and the chain file with it). */
	if ((rc = load_certs(cert_path, certs, E_CERT_READ, E_CERT_BADPEM,
		 E_CERT_NOPEM, err)) < 0)
		goto out;
	leaf = sk_X509_value(certs, 0);
	if (info != NULL) {
		EVP_PKEY *pub = X509_get0_pubkey(leaf);

		memset(info, 0, sizeof(*info));
		if (asn1_to_time_t(X509_get0_notBefore(leaf),
			&info->not_before) < 0 ||
		    asn1_to_time_t(X509_get0_notAfter(leaf), &info->not_after) <
			0) {
			log_warnx("%s: unreadable validity dates", cert_path);
			rc = wsd_fail(err, WSD_EINVAL, E_DATES);
			goto out;
		}
		if (pub != NULL) {
			info->is_ec = EVP_PKEY_is_a(pub, "EC");
			info->key_bits = (unsigned)EVP_PKEY_get_bits(pub);
		}
	}
	if (chain_path != NULL &&
	    (rc = load_certs(chain_path, chain, E_CHAIN_READ, E_CHAIN_BADPEM,
		 E_CHAIN_NOPEM, err)) < 0)
		goto out;

	/* 2. The private key. */
	if (fileio_read_small(key_path, WSD_MAX_PEM_FILE, &kbuf, &klen, NULL,
		NULL) < 0) {
		rc = wsd_fail(err, WSD_EIO, E_KEY_READ);
		goto out;
	}
	if ((kbio = BIO_new_mem_buf(kbuf, (int)klen)) == NULL) {
		rc = wsd_fail(err, WSD_ENOMEM, E_NOMEM);
		goto out;
	}
	ERR_clear_error();
	pkey = PEM_read_bio_PrivateKey(kbio, NULL, no_passphrase, NULL);
	if (pkey == NULL) {
		log_ssl("%s: no usable private key", key_path);
		rc = wsd_fail(err, WSD_EINVAL, E_KEY_NOPEM);
		goto out;
	}

	/* 3. The key belongs to the leaf and is strong enough. */
	if (X509_check_private_key(leaf, pkey) != 1) {
		ERR_clear_error();
		log_warnx("%s: key does not match %s", key_path, cert_path);
		rc = wsd_fail(err, WSD_ETLS, E_KEY_MISMATCH);
		goto out;
	}
	if ((rc = key_strength(pkey, cert_path, err)) < 0)
		goto out;

	/* 4. Validity dates. */
	if ((prc = ASN1_TIME_cmp_time_t(X509_get0_notBefore(leaf), now)) ==
	    -2) {
		rc = wsd_fail(err, WSD_EINVAL, E_DATES);
		goto out;
	}
	if (prc > 0) {
		log_warnx("%s: notBefore is after the check time", cert_path);
		rc = wsd_fail(err, WSD_ETLS, E_NOT_YET);
		goto out;
	}
	if ((prc = ASN1_TIME_cmp_time_t(X509_get0_notAfter(leaf), now)) == -2) {
		rc = wsd_fail(err, WSD_EINVAL, E_DATES);
		goto out;
	}
	/* Expired at notAfter itself, as X509_verify_cert sees it. */
	if (prc <= 0) {
		log_warnx("%s: notAfter is not after the check time",
		    cert_path);
		rc = wsd_fail(err, WSD_ETLS, E_EXPIRED);
		goto out;
	}

	/* 5. The name: subjectAltName only, one left-most wildcard label. */
	if (name != NULL) {
		int ok;

		if (ipaddr_literal(name))
			ok = X509_check_ip_asc(leaf, name, 0);
		else
			ok = X509_check_host(leaf, name, strlen(name),
			    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
				X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
			    NULL);
		ERR_clear_error();
		if (ok != 1) {
			log_warnx("%s: no subjectAltName covers %s", cert_path,
			    name);
			rc = wsd_fail(err, WSD_ETLS, E_NAME);
			goto out;
		}
	}

	/*
	 * 6. The chain. Anchors: the system store, self-signed CA
	 * certificates after the leaf in the certificate and chain files,
	 * and EXTRA_CA_PATH. A self-signed leaf is never its own anchor.
	 */
	if ((store = X509_STORE_new()) == NULL) {
		rc = wsd_fail(err, WSD_ENOMEM, E_NOMEM);
		goto out;
	}
	if (X509_STORE_set_default_paths(store) != 1)
		log_ssl("system certificate store");
	ERR_clear_error();
	for (int i = 1; i < sk_X509_num(certs) + sk_X509_num(chain); i++) {
		X509 *x = i < sk_X509_num(certs)
		    ? sk_X509_value(certs, i)
		    : sk_X509_value(chain, i - sk_X509_num(certs));

		if (!sk_X509_push(untrusted, x)) {
			rc = wsd_fail(err, WSD_ENOMEM, E_NOMEM);
			goto out;
		}
		if (is_self_signed_ca(x) &&
		    X509_STORE_add_cert(store, x) != 1) {
			log_ssl("%s: trust anchor", cert_path);
			rc = wsd_fail(err, WSD_ETLS, E_SSL);
			goto out;
		}
	}
	/* EXTRA_CA_PATH is optional: a missing file adds nothing. */
	if (extra_ca_path != NULL && stat(extra_ca_path, &st) < 0 &&
	    errno != ENOENT) {
		log_warn("%s", extra_ca_path);
		rc = wsd_fail(err, WSD_EIO, E_CA_READ);
		goto out;
	}
	if (extra_ca_path != NULL && stat(extra_ca_path, &st) == 0) {
		/* A malformed one is reported as having none. */
		if ((rc = load_certs(extra_ca_path, cas, E_CA_READ, E_CA_NOPEM,
			 E_CA_NOPEM, err)) < 0)
			goto out;
		for (int i = 0; i < sk_X509_num(cas); i++) {
			if (X509_STORE_add_cert(store, sk_X509_value(cas, i)) !=
			    1) {
				log_ssl("%s: trust anchor", extra_ca_path);
				rc = wsd_fail(err, WSD_ETLS, E_SSL);
				goto out;
			}
		}
	}
	if ((vctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(vctx, store, leaf, untrusted) != 1 ||
	    X509_STORE_CTX_set_purpose(vctx, X509_PURPOSE_SSL_SERVER) != 1) {
		log_ssl("verify context");
		rc = wsd_fail(err, WSD_ETLS, E_SSL);
		goto out;
	}
	vpm = X509_STORE_CTX_get0_param(vctx);
	X509_VERIFY_PARAM_set_time(vpm, now);
	/* 112-bit security: no RSA-1024 or SHA-1 signatures in the chain. */
	X509_VERIFY_PARAM_set_auth_level(vpm, 2);
	if (X509_verify_cert(vctx) != 1) {
		int e = X509_STORE_CTX_get_error(vctx);

		log_warnx("%s: chain: %s (at depth %d)", cert_path,
		    X509_verify_cert_error_string(e),
		    X509_STORE_CTX_get_error_depth(vctx));
		ERR_clear_error();
		rc = wsd_fail(err, WSD_ETLS, E_CHAIN);
		goto out;
	}
	rc = 0;
out:
	X509_STORE_CTX_free(vctx);
	X509_STORE_free(store);
	EVP_PKEY_free(pkey);
	BIO_free(kbio);
	sk_X509_free(untrusted); /* shallow: members belong to the others */
	sk_X509_pop_free(cas, X509_free);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(certs, X509_free);
	fileio_free_secret(kbuf, klen);
	ERR_clear_error();
	return rc;
}

/* ---- the test CA ---- */

static int
add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, value);
	int ok;

	if (e == NULL)
		return -1;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok == 1 ? 0 : -1;
}

static int
add_san(X509 *x, const char *const *names, unsigned nnames)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	int rc = -1;

	if (gens == NULL)
		return -1;
	for (unsigned i = 0; i < nnames; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();

		if (g == NULL)
			goto out;
		if (ipaddr_literal(names[i])) {
			ASN1_OCTET_STRING *ip = a2i_IPADDRESS(names[i]);

			if (ip == NULL) {
				GENERAL_NAME_free(g);
				goto out;
			}
			GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
		} else {
			ASN1_IA5STRING *s = ASN1_IA5STRING_new();

			if (s == NULL ||
			    ASN1_STRING_set(s, names[i], -1) != 1) {
				ASN1_IA5STRING_free(s);
				GENERAL_NAME_free(g);
				goto out;
			}
			GENERAL_NAME_set0_value(g, GEN_DNS, s);
		}
		if (!sk_GENERAL_NAME_push(gens, g)) {
			GENERAL_NAME_free(g);
			goto out;
		}
	}
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
		X509V3_ADD_DEFAULT) == 1)
		rc = 0;
out:
	GENERAL_NAMES_free(gens);
	return rc;
}

/* A random positive 128-bit serial number. */
static int
set_serial(X509 *x)
{
	unsigned char b[16];
	BIGNUM *bn;
	int rc = -1;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	b[0] &= 0x7f; /* positive */
	b[0] |= 0x40; /* never zero, always 16 bytes */
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL)
		return -1;
	if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL)
		rc = 0;
	BN_free(bn);
	return rc;
}

/*
 * A certificate for KEY signed by ISSUER_KEY (ISSUER NULL: self-signed
 * CA), valid from NOW - 1 h for DAYS days. NAMES only for a leaf.
 */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
    time_t now, unsigned days, const char *const *names, unsigned nnames)
{
	X509V3_CTX v3;
	X509_NAME *subj;
	X509 *x;
	bool ca = issuer == NULL;

	if ((x = X509_new()) == NULL)
		return NULL;
	if (X509_set_version(x, X509_VERSION_3) != 1 || set_serial(x) < 0 ||
	    X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)days, -3600, &now) ==
		NULL)
		goto fail;
	subj = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8,
		(const unsigned char *)cn, -1, -1, 0) != 1)
		goto fail;
	if (X509_set_issuer_name(x,
		ca ? subj : X509_get_subject_name(issuer)) != 1 ||
	    X509_set_pubkey(x, key) != 1)
		goto fail;
	X509V3_set_ctx(&v3, ca ? x : issuer, x, NULL, NULL, 0);
	if (ca) {
		if (add_ext(x, &v3, NID_basic_constraints,
			"critical,CA:TRUE,pathlen:0") < 0 ||
		    add_ext(x, &v3, NID_key_usage,
			"critical,keyCertSign,cRLSign") < 0 ||
		    add_ext(x, &v3, NID_subject_key_identifier, "hash") < 0)
			goto fail;
	} else {
		if (add_ext(x, &v3, NID_basic_constraints,
			"critical,CA:FALSE") < 0 ||
		    add_ext(x, &v3, NID_key_usage,
			EVP_PKEY_is_a(key, "RSA")
			    ? "critical,digitalSignature,keyEncipherment"
			    : "critical,digitalSignature") < 0 ||
		    add_ext(x, &v3, NID_ext_key_usage, "serverAuth") < 0 ||
		    add_ext(x, &v3, NID_subject_key_identifier, "hash") < 0 ||
		    add_ext(x, &v3, NID_authority_key_identifier,
			"keyid:always") < 0 ||
		    add_san(x, names, nnames) < 0)
			goto fail;
	}
	if (X509_sign(x, issuer_key, EVP_sha256()) <= 0)
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

static EVP_PKEY *
keygen(bool ec)
{
	if (ec)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

/* Appends the PEM of X to SB. */
static int
pem_cert_add(struct sbuf *sb, X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int rc = -1;

	if (bio == NULL)
		return -1;
	if (PEM_write_bio_X509(bio, x) == 1 &&
	    (n = BIO_get_mem_data(bio, &p)) > 0 &&
	    sbuf_add(sb, p, (size_t)n) == 0)
		rc = 0;
	BIO_free(bio);
	return rc;
}

/*
 * Writes KEY (PKCS#8 PEM, unencrypted) to a temporary file for FINAL,
 * mode 0600 (FLAGS as for fileio_tmp_write). The PEM lives only in a
 * secure-heap BIO, wiped when freed.
 */
static int
key_tmp_write(struct fileio_tmp *ft, const char *final, EVP_PKEY *key,
    unsigned flags, struct wsd_err *err)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	char *p;
	long n;
	int rc;

	if (bio == NULL)
		return wsd_fail(err, WSD_ENOMEM, E_NOMEM);
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) !=
		1 ||
	    (n = BIO_get_mem_data(bio, &p)) <= 0) {
		log_ssl("private key");
		BIO_free(bio);
		return wsd_fail(err, WSD_ETLS, E_SSL);
	}
	rc = fileio_tmp_write(ft, AT_FDCWD, final, p, (size_t)n, 0600, NULL,
	    flags, err);
	BIO_free(bio);
	return rc;
}

/* Loads an existing test CA and checks that it can issue. */
static int
ca_load(const char *cert_path, const char *key_path, X509 **cacert,
    EVP_PKEY **cakey, struct wsd_err *err)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	char *kbuf = NULL;
	size_t klen = 0;
	BIO *bio = NULL;
	int rc;

	*cacert = NULL;
	*cakey = NULL;
	if (certs == NULL)
		return wsd_fail(err, WSD_ENOMEM, E_NOMEM);
	if (load_certs(cert_path, certs, E_CA_READ, E_CA_NOPEM, E_CA_NOPEM,
		err) < 0) {
		log_warnx("%s: no usable test CA certificate", cert_path);
		rc = wsd_fail(err, WSD_EINVAL,
		    "cannot read test CA certificate");
		goto out;
	}
	if (fileio_read_small(key_path, WSD_MAX_PEM_FILE, &kbuf, &klen, NULL,
		NULL) < 0 ||
	    (bio = BIO_new_mem_buf(kbuf, (int)klen)) == NULL ||
	    (*cakey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase,
		 NULL)) == NULL) {
		log_ssl("%s: no usable test CA key", key_path);
		rc = wsd_fail(err, WSD_EINVAL, "cannot read test CA key");
		goto out;
	}
	*cacert = sk_X509_shift(certs);
	if (X509_check_private_key(*cacert, *cakey) != 1 ||
	    X509_check_ca(*cacert) <= 0) {
		log_warnx("%s: not a CA certificate matching %s", cert_path,
		    key_path);
		rc = wsd_fail(err, WSD_EINVAL,
		    "test CA certificate and key do not belong together");
		goto out;
	}
	if (X509_cmp_time(X509_get0_notAfter(*cacert), NULL) <= 0) {
		log_warnx("%s: expired; remove it and its key to make a new "
			  "test CA",
		    cert_path);
		rc = wsd_fail(err, WSD_ETLS, "test CA has expired");
		goto out;
	}
	rc = 0;
out:
	if (rc < 0) {
		X509_free(*cacert);
		EVP_PKEY_free(*cakey);
		*cacert = NULL;
		*cakey = NULL;
	}
	ERR_clear_error();
	BIO_free(bio);
	sk_X509_pop_free(certs, X509_free);
	fileio_free_secret(kbuf, klen);
	return rc;
}

static int
ca_create(const char *cert_path, const char *key_path, bool ec, time_t now,
    X509 **cacert, EVP_PKEY **cakey, struct wsd_err *err)
{
	struct fileio_tmp tkey, tcert;
	unsigned char rnd[4];
	char cn[CN_MAX];
	struct sbuf pem;
	int rc;

	*cacert = NULL;
	fileio_tmp_init(&tkey);
	fileio_tmp_init(&tcert);
	sbuf_init(&pem, WSD_MAX_PEM_FILE);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1 ||
	    (*cakey = keygen(ec)) == NULL) {
		log_ssl("test CA key");
		return wsd_fail(err, WSD_ETLS, E_SSL);
	}
	snprintf(cn, sizeof(cn), "wsusd test CA %02x%02x%02x%02x", rnd[0],
	    rnd[1], rnd[2], rnd[3]);
	if ((*cacert = make_cert(*cakey, cn, NULL, *cakey, now, TESTCA_CA_DAYS,
		 NULL, 0)) == NULL ||
	    pem_cert_add(&pem, *cacert) < 0) {
		log_ssl("test CA certificate");
		rc = wsd_fail(err, WSD_ETLS, E_SSL);
		goto fail;
	}
	/* Both written first; never replace a CA that appeared meanwhile. */
	if ((rc = key_tmp_write(&tkey, key_path, *cakey, FILEIO_NOREPLACE,
		 err)) < 0 ||
	    (rc = fileio_tmp_write(&tcert, AT_FDCWD, cert_path, pem.sb_buf,
		 pem.sb_len, 0644, NULL, FILEIO_NOREPLACE, err)) < 0)
		goto fail;
	if ((rc = fileio_tmp_commit(&tkey, err)) < 0)
		goto fail;
	if ((rc = fileio_tmp_commit(&tcert, err)) < 0) {
		unlink(key_path); /* ours: created by the link just above */
		goto fail;
	}
	sbuf_release(&pem);
	return 0;
fail:
	fileio_tmp_abort(&tkey);
	fileio_tmp_abort(&tcert);
	sbuf_release(&pem);
	X509_free(*cacert);
	EVP_PKEY_free(*cakey);
	*cacert = NULL;
	*cakey = NULL;
	ERR_clear_error();
	return rc;
}

int
tls_testca_issue(const char *ca_cert_path, const char *ca_key_path,
    const char *cert_path, const char *key_path, const char *const *names,
    unsigned nnames, unsigned days, bool ec, struct wsd_err *err)
{
	struct fileio_tmp tkey, tcert;
	X509 *cacert = NULL, *leaf = NULL;
	EVP_PKEY *cakey = NULL, *key = NULL;
	const char *cn = "wsusd test server";
	struct stat st;
	struct sbuf pem;
	bool have_cert, have_key;
	time_t now = time(NULL);
	int rc;

	fileio_tmp_init(&tkey);
	fileio_tmp_init(&tcert);
	sbuf_init(&pem, WSD_MAX_PEM_FILE);
	if (ca_cert_path == NULL || ca_key_path == NULL || cert_path == NULL ||
	    key_path == NULL || names == NULL)
		return wsd_fail(err, WSD_EINVAL, "missing path");
	if (nnames == 0 || nnames > WSD_MAX_TESTCA_NAMES)
		return wsd_fail(err, WSD_EINVAL, "need 1 to 64 names");
	for (unsigned i = 0; i < nnames; i++) {
		if (names[i] == NULL ||
		    (!ipaddr_literal(names[i]) &&
			!dnsname_valid_san(names[i]))) {
			log_warnx("%s: not a DNS name or IP address",
			    names[i] != NULL ? names[i] : "(null)");
			return wsd_fail(err, WSD_EINVAL,
			    "name is not a DNS name or IP address");
		}
	}
	if (days == 0 || days > WSD_MAX_TESTCA_DAYS)
		return wsd_fail(err, WSD_EINVAL, "days out of range");
	if (strlen(names[0]) < CN_MAX)
		cn = names[0];

	if ((rc = fileio_ensure_parent(ca_cert_path, 0700, err)) < 0 ||
	    (rc = fileio_ensure_parent(ca_key_path, 0700, err)) < 0 ||
	    (rc = fileio_ensure_parent(cert_path, 0700, err)) < 0 ||
	    (rc = fileio_ensure_parent(key_path, 0700, err)) < 0)
		return rc;

	have_cert = lstat(ca_cert_path, &st) == 0;
	have_key = lstat(ca_key_path, &st) == 0;
	if (have_cert && have_key)
		rc = ca_load(ca_cert_path, ca_key_path, &cacert, &cakey, err);
	else if (!have_cert && !have_key)
		rc = ca_create(ca_cert_path, ca_key_path, ec, now, &cacert,
		    &cakey, err);
	else
		rc = wsd_fail(err, WSD_EINVAL,
		    "test CA is incomplete: its certificate or key is missing");
	if (rc < 0)
		goto out;

	if ((key = keygen(ec)) == NULL ||
	    (leaf = make_cert(key, cn, cacert, cakey, now, days, names,
		 nnames)) == NULL ||
	    pem_cert_add(&pem, leaf) < 0 || pem_cert_add(&pem, cacert) < 0) {
		log_ssl("server certificate");
		rc = wsd_fail(err, WSD_ETLS, E_SSL);
		goto out;
	}
	if ((rc = key_tmp_write(&tkey, key_path, key, 0, err)) < 0 ||
	    (rc = fileio_tmp_write(&tcert, AT_FDCWD, cert_path, pem.sb_buf,
		 pem.sb_len, 0644, NULL, 0, err)) < 0 ||
	    (rc = fileio_tmp_commit(&tkey, err)) < 0 ||
	    (rc = fileio_tmp_commit(&tcert, err)) < 0)
		goto out;
	rc = 0;
out:
	fileio_tmp_abort(&tkey);
	fileio_tmp_abort(&tcert);
	sbuf_release(&pem);
	X509_free(leaf);
	X509_free(cacert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
	ERR_clear_error();
	return rc;
}

/* ---- the publishing (code-signing) certificate ---- */

int
tls_codesign_create(const char *cert_path, const char *key_path,
    const char *cn, unsigned days, struct wsd_err *err)
{
	struct fileio_tmp tkey, tcert;
	EVP_PKEY *key = NULL;
	X509V3_CTX v3;
	X509_NAME *subj;
	X509 *x = NULL;
	struct sbuf pem;
	time_t now = time(NULL);
	int rc;

	fileio_tmp_init(&tkey);
	fileio_tmp_init(&tcert);
	sbuf_init(&pem, 64 * 1024);
	if (days == 0 || days > WSD_MAX_TESTCA_DAYS)
		return wsd_fail(err, WSD_EINVAL, "days out of range");
	if ((rc = fileio_ensure_parent(cert_path, 0700, err)) < 0 ||
	    (rc = fileio_ensure_parent(key_path, 0700, err)) < 0)
		return rc;
	/* RSA: what Authenticode verifiers everywhere accept. 3072 bits
	 * keeps the signature strong for a certificate kept for years. */
	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072)) ==
		NULL ||
	    (x = X509_new()) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 || set_serial(x) < 0 ||
	    X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)days, -3600, &now) ==
		NULL) {
		log_ssl("publishing certificate");
		rc = wsd_fail(err, WSD_ETLS, "cannot create the certificate");
		goto out;
	}
	subj = X509_get_subject_name(x);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if (X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8,
		(const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, subj) != 1 || X509_set_pubkey(x, key) != 1 ||
	    add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, &v3, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_ext(x, &v3, NID_ext_key_usage, "codeSigning") < 0 ||
	    add_ext(x, &v3, NID_subject_key_identifier, "hash") < 0 ||
	    X509_sign(x, key, EVP_sha256()) <= 0 || pem_cert_add(&pem, x) < 0) {
		log_ssl("publishing certificate");
		rc = wsd_fail(err, WSD_ETLS, "cannot create the certificate");
		goto out;
	}
	if ((rc = key_tmp_write(&tkey, key_path, key, 0, err)) < 0 ||
	    (rc = fileio_tmp_write(&tcert, AT_FDCWD, cert_path, pem.sb_buf,
		 pem.sb_len, 0644, NULL, 0, err)) < 0 ||
	    (rc = fileio_tmp_commit(&tkey, err)) < 0 ||
	    (rc = fileio_tmp_commit(&tcert, err)) < 0)
		goto out;
	rc = 0;
out:
	fileio_tmp_abort(&tkey);
	fileio_tmp_abort(&tcert);
	sbuf_release(&pem);
	X509_free(x);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return rc;
}

int
tls_codesign_check(const char *cert_path, const char *key_path, time_t now,
    struct wsd_err *err)
{
	char *cbuf = NULL, *kbuf = NULL;
	size_t clen = 0, klen = 0;
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	X509 *x = NULL;
	int rc;

	if (fileio_read_small(cert_path, WSD_MAX_PEM_FILE, &cbuf, &clen, NULL,
		err) < 0)
		return wsd_fail(err, WSD_ENOTFOUND,
		    "cannot read the publishing certificate");
	if (fileio_read_small(key_path, WSD_MAX_PEM_FILE, &kbuf, &klen, NULL,
		err) < 0) {
		free(cbuf);
		return wsd_fail(err, WSD_ENOTFOUND,
		    "cannot read the publishing key");
	}
	if ((bio = BIO_new_mem_buf(cbuf, (int)clen)) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		rc = wsd_fail(err, WSD_ETLS,
		    "publishing certificate does not parse");
		goto out;
	}
	BIO_free(bio);
	if ((bio = BIO_new_mem_buf(kbuf, (int)klen)) == NULL ||
	    (key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)) ==
		NULL) {
		rc = wsd_fail(err, WSD_ETLS, "publishing key does not parse");
		goto out;
	}
	if (X509_check_private_key(x, key) != 1) {
		rc = wsd_fail(err, WSD_ETLS,
		    "publishing key does not match the certificate");
		goto out;
	}
	if (X509_cmp_time(X509_get0_notAfter(x), &now) <= 0) {
		rc = wsd_fail(err, WSD_ETLS,
		    "publishing certificate has expired");
		goto out;
	}
	if (X509_cmp_time(X509_get0_notBefore(x), &now) > 0) {
		rc = wsd_fail(err, WSD_ETLS,
		    "publishing certificate is not yet valid");
		goto out;
	}
	if ((X509_get_extension_flags(x) & EXFLAG_XKUSAGE) == 0 ||
	    (X509_get_extended_key_usage(x) & XKU_CODE_SIGN) == 0) {
		rc = wsd_fail(err, WSD_ETLS,
		    "publishing certificate is not for code signing");
		goto out;
	}
	rc = 0;
out:
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(key);
	free(cbuf);
	fileio_free_secret(kbuf, klen);
	ERR_clear_error();
	return rc;
}
