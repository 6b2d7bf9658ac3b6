/*
 * tls_cert_check and tls_testca_issue. Everything is generated in a fresh
 * mkdtemp directory by the group setup: two test CAs (EC and RSA) and
 * their server certificates; a few odd certificates (weak keys, another
 * CA) are made here with OpenSSL directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "net/tls_cert.h"

#define DAYS 397

static char dir[] = "/tmp/wsusd-test-tls-cert-XXXXXX";

/* A path inside the test directory; a few live at once, so rotate. */
static const char *
P(const char *name)
{
	static char bufs[8][512];
	static unsigned next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static long
file_bytes(const char *path, char *buf, size_t cap)
{
	FILE *fp = fopen(path, "rb");
	size_t n;

	if (fp == NULL)
		return -1;
	n = fread(buf, 1, cap, fp);
	fclose(fp);
	return (long)n;
}

static int
issue(const char *ca, const char *leaf, const char *const *names, unsigned n,
    bool ec)
{
	char cacrt[64], cakey[64], crt[64], key[64];
	struct wsd_err e = { 0 };

	snprintf(cacrt, sizeof(cacrt), "%s.pem", ca);
	snprintf(cakey, sizeof(cakey), "%s.key", ca);
	snprintf(crt, sizeof(crt), "%s.crt", leaf);
	snprintf(key, sizeof(key), "%s.key", leaf);
	return tls_testca_issue(P(cacrt), P(cakey), P(crt), P(key), names, n,
	    DAYS, ec, &e);
}

/* Writes the first certificate of SRC alone to DST. */
static void
extract_leaf(const char *src, const char *dst)
{
	FILE *in = fopen(src, "r"), *out;
	X509 *x;

	assert_non_null(in);
	x = PEM_read_X509(in, NULL, NULL, NULL);
	fclose(in);
	assert_non_null(x);
	out = fopen(dst, "w");
	assert_non_null(out);
	assert_int_equal(PEM_write_X509(out, x), 1);
	fclose(out);
	X509_free(x);
}

/* A self-signed CA:FALSE certificate for "localhost" with KEY. */
static void
make_selfsigned(EVP_PKEY *key, const char *crt, const char *keyfile)
{
	X509 *x = X509_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	FILE *fp;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x),
			     "CN", MBSTRING_ASC,
			     (const unsigned char *)"localhost", -1, -1, 0),
	    1);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(x)), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
	    "DNS:localhost");
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
	/* Ed25519 signs without a separate digest. */
	assert_true(
	    X509_sign(x, key,
		EVP_PKEY_is_a(key, "ED25519") ? NULL : EVP_sha256()) > 0);
	fp = fopen(crt, "w");
	assert_non_null(fp);
	assert_int_equal(PEM_write_X509(fp, x), 1);
	fclose(fp);
	fp = fopen(keyfile, "w");
	assert_non_null(fp);
	assert_int_equal(PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL,
			     NULL),
	    1);
	fclose(fp);
	X509_free(x);
}

static int
group_setup(void **state)
{
	static const char *const ec_names[] = { "localhost",
		"wsus.example.test", "127.0.0.1", "::1" };
	static const char *const rsa_names[] = { "rsa.example.test" };
	static const char *const wild_names[] = { "*.wild.example.test" };
	static const char *const other_names[] = { "localhost" };

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	if (issue("ca1", "ec", ec_names, 4, true) < 0 ||
	    issue("ca1", "rsa", rsa_names, 1, false) < 0 ||
	    issue("ca1", "wild", wild_names, 1, true) < 0 ||
	    issue("ca2", "other", other_names, 1, true) < 0 ||
	    issue("carsa", "rsaca", other_names, 1, false) < 0)
		return -1;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
group_teardown(void **state)
{
	(void)state;
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
expect_fail(const char *crt, const char *key, const char *chain, const char *ca,
    const char *name, time_t now, const char *what)
{
	struct wsd_err e = { 0 };

	assert_true(
	    tls_cert_check(crt, key, chain, ca, name, now, NULL, &e) < 0);
	assert_non_null(e.what);
	assert_string_equal(e.what, what);
}

static void
expect_ok(const char *crt, const char *key, const char *chain, const char *ca,
    const char *name, time_t now)
{
	struct wsd_err e = { 0 };
	int rc = tls_cert_check(crt, key, chain, ca, name, now, NULL, &e);

	if (rc != 0)
		print_error("unexpected failure: %s\n", e.what);
	assert_int_equal(rc, 0);
}

static void
test_ec_ok(void **state)
{
	struct tls_cert_info info;
	struct wsd_err e = { 0 };

	(void)state;
	assert_int_equal(tls_cert_check(P("ec.crt"), P("ec.key"), NULL, NULL,
			     "localhost", time(NULL), &info, &e),
	    0);
	assert_true(info.is_ec);
	assert_int_equal(info.key_bits, 256);
	assert_int_equal(info.not_after - info.not_before,
	    (time_t)DAYS * 86400);
	assert_true(info.not_before <= time(NULL) - 3600 + 60);
	/* Every name in the certificate is covered. */
	expect_ok(P("ec.crt"), P("ec.key"), NULL, NULL, "wsus.example.test",
	    time(NULL));
	expect_ok(P("ec.crt"), P("ec.key"), NULL, NULL, "WSUS.Example.Test",
	    time(NULL));
}

static void
test_rsa_ok(void **state)
{
	struct tls_cert_info info;
	struct wsd_err e = { 0 };

	(void)state;
	assert_int_equal(tls_cert_check(P("rsa.crt"), P("rsa.key"), NULL, NULL,
			     "rsa.example.test", time(NULL), &info, &e),
	    0);
	assert_false(info.is_ec);
	assert_int_equal(info.key_bits, 2048);
	/* A CA made with an RSA key issues too. */
	assert_int_equal(tls_cert_check(P("rsaca.crt"), P("rsaca.key"), NULL,
			     P("carsa.pem"), "localhost", time(NULL), &info,
			     &e),
	    0);
	assert_false(info.is_ec);
}

static void
test_name_null_skips(void **state)
{
	(void)state;
	expect_ok(P("rsa.crt"), P("rsa.key"), NULL, NULL, NULL, time(NULL));
}

static void
test_wrong_name(void **state)
{
	(void)state;
	expect_fail(P("ec.crt"), P("ec.key"), NULL, NULL, "other.example.test",
	    time(NULL), "certificate does not cover the name");
	/* OpenSSL 3.0 compares the name as given: no trailing-dot folding
	 * (configuressl never passes one: server_name refuses it). */
	expect_fail(P("ec.crt"), P("ec.key"), NULL, NULL, "localhost.",
	    time(NULL), "certificate does not cover the name");
	/* The subject CN is not a name: only subjectAltName counts. */
	expect_fail(P("rsa.crt"), P("rsa.key"), NULL, NULL, "localhost",
	    time(NULL), "certificate does not cover the name");
}

static void
test_wildcard(void **state)
{
	time_t now = time(NULL);

	(void)state;
	expect_ok(P("wild.crt"), P("wild.key"), NULL, NULL,
	    "a.wild.example.test", now);
	expect_ok(P("wild.crt"), P("wild.key"), NULL, NULL,
	    "wsus-01.wild.example.test", now);
	/* One label only, and never the bare parent. */
	expect_fail(P("wild.crt"), P("wild.key"), NULL, NULL,
	    "wild.example.test", now, "certificate does not cover the name");
	expect_fail(P("wild.crt"), P("wild.key"), NULL, NULL,
	    "a.b.wild.example.test", now,
	    "certificate does not cover the name");
	expect_fail(P("wild.crt"), P("wild.key"), NULL, NULL,
	    "xwild.example.test", now, "certificate does not cover the name");
}

static void
test_ip_san(void **state)
{
	time_t now = time(NULL);

	(void)state;
	expect_ok(P("ec.crt"), P("ec.key"), NULL, NULL, "127.0.0.1", now);
	expect_ok(P("ec.crt"), P("ec.key"), NULL, NULL, "::1", now);
	expect_ok(P("ec.crt"), P("ec.key"), NULL, NULL, "0:0::1", now);
	expect_fail(P("ec.crt"), P("ec.key"), NULL, NULL, "127.0.0.2", now,
	    "certificate does not cover the name");
	expect_fail(P("rsa.crt"), P("rsa.key"), NULL, NULL, "127.0.0.1", now,
	    "certificate does not cover the name");
}

static void
test_key_mismatch(void **state)
{
	(void)state;
	expect_fail(P("ec.crt"), P("other.key"), NULL, NULL, "localhost",
	    time(NULL), "private key does not match the certificate");
	expect_fail(P("other.crt"), P("ec.key"), NULL, NULL, "localhost",
	    time(NULL), "private key does not match the certificate");
	expect_fail(P("ec.crt"), P("rsa.key"), NULL, NULL, "localhost",
	    time(NULL), "private key does not match the certificate");
}

static void
test_dates(void **state)
{
	struct tls_cert_info info;
	struct wsd_err e = { 0 };

	(void)state;
	assert_int_equal(tls_cert_check(P("ec.crt"), P("ec.key"), NULL, NULL,
			     "localhost", time(NULL), &info, &e),
	    0);
	/* Boundaries: notBefore is valid, notAfter is expired (as in
	 * X509_verify_cert). */
	expect_ok(P("ec.crt"), P("ec.key"), NULL, NULL, "localhost",
	    info.not_before);
	expect_ok(P("ec.crt"), P("ec.key"), NULL, NULL, "localhost",
	    info.not_after - 1);
	expect_fail(P("ec.crt"), P("ec.key"), NULL, NULL, "localhost",
	    info.not_after, "certificate has expired");
	expect_fail(P("ec.crt"), P("ec.key"), NULL, NULL, "localhost",
	    time(NULL) + 400L * 86400, "certificate has expired");
	expect_fail(P("ec.crt"), P("ec.key"), NULL, NULL, "localhost",
	    info.not_before - 1, "certificate is not yet valid");
	expect_fail(P("ec.crt"), P("ec.key"), NULL, NULL, "localhost",
	    time(NULL) - 2L * 86400, "certificate is not yet valid");
}

static void
test_unreadable(void **state)
{
	time_t now = time(NULL);

	(void)state;
	expect_fail(P("nonexistent.crt"), P("ec.key"), NULL, NULL, "localhost",
	    now, "cannot read certificate file");
	expect_fail(dir, P("ec.key"), NULL, NULL, "localhost", now,
	    "cannot read certificate file");
	expect_fail(P("ec.crt"), P("nonexistent.key"), NULL, NULL, "localhost",
	    now, "cannot read private key file");
	expect_fail(P("ec.crt"), dir, NULL, NULL, "localhost", now,
	    "cannot read private key file");
	expect_fail(P("ec.crt"), P("ec.key"), P("nonexistent.pem"), NULL,
	    "localhost", now, "cannot read chain file");
}

static void
test_too_big(void **state)
{
	size_t n = 1024 * 1024 + 1;
	char *big = malloc(n);

	(void)state;
	assert_non_null(big);
	memset(big, 'A', n);
	write_file(P("big.crt"), big, n);
	free(big);
	expect_fail(P("big.crt"), P("ec.key"), NULL, NULL, "localhost",
	    time(NULL), "cannot read certificate file");
	/* Exactly at the limit is read (and is not PEM). */
	assert_int_equal(truncate(P("big.crt"), 1024 * 1024), 0);
	expect_fail(P("big.crt"), P("ec.key"), NULL, NULL, "localhost",
	    time(NULL), "certificate file has no PEM certificate");
}

static void
test_garbage(void **state)
{
	static const char garbage[] = "this is not PEM at all\n\x01\x02\n";
	static const char badpem[] = "-----BEGIN CERTIFICATE-----\n"
				     "MIIB!!!!notbase64\n"
				     "-----END CERTIFICATE-----\n";
	static const char empty[] = "";
	time_t now = time(NULL);

	(void)state;
	write_file(P("garbage.pem"), garbage, sizeof(garbage) - 1);
	write_file(P("badpem.pem"), badpem, sizeof(badpem) - 1);
	write_file(P("empty.pem"), empty, 0);
	expect_fail(P("garbage.pem"), P("ec.key"), NULL, NULL, "localhost", now,
	    "certificate file has no PEM certificate");
	expect_fail(P("empty.pem"), P("ec.key"), NULL, NULL, "localhost", now,
	    "certificate file has no PEM certificate");
	/* A key file is PEM, but holds no certificate. */
	expect_fail(P("ec.key"), P("ec.key"), NULL, NULL, "localhost", now,
	    "certificate file has no PEM certificate");
	expect_fail(P("badpem.pem"), P("ec.key"), NULL, NULL, "localhost", now,
	    "certificate file has a malformed PEM certificate");
	expect_fail(P("ec.crt"), P("garbage.pem"), NULL, NULL, "localhost", now,
	    "private key file has no unencrypted PEM private key");
	expect_fail(P("ec.crt"), P("ec.crt"), NULL, NULL, "localhost", now,
	    "private key file has no unencrypted PEM private key");
	expect_fail(P("ec.crt"), P("ec.key"), P("garbage.pem"), NULL,
	    "localhost", now, "chain file has no PEM certificate");
}

static void
test_encrypted_key(void **state)
{
	EVP_PKEY *k = NULL;
	FILE *fp;

	(void)state;
	fp = fopen(P("ec.key"), "r");
	assert_non_null(fp);
	k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(k);
	fp = fopen(P("enc.key"), "w");
	assert_non_null(fp);
	assert_int_equal(PEM_write_PrivateKey(fp, k, EVP_aes_256_cbc(),
			     (const unsigned char *)"secret", 6, NULL, NULL),
	    1);
	fclose(fp);
	EVP_PKEY_free(k);
	/* Must fail without prompting for a pass phrase. */
	expect_fail(P("ec.crt"), P("enc.key"), NULL, NULL, "localhost",
	    time(NULL), "private key file has no unencrypted PEM private key");
}

static void
test_chain(void **state)
{
	time_t now = time(NULL);

	(void)state;
	extract_leaf(P("ec.crt"), P("ec-leaf.pem"));
	/* Leaf alone: the anchor has to come from somewhere. */
	expect_ok(P("ec-leaf.pem"), P("ec.key"), NULL, P("ca1.pem"),
	    "localhost", now);
	expect_ok(P("ec-leaf.pem"), P("ec.key"), P("ca1.pem"), NULL,
	    "localhost", now);
	expect_fail(P("ec-leaf.pem"), P("ec.key"), NULL, NULL, "localhost", now,
	    "certificate chain does not verify");
	expect_fail(P("ec-leaf.pem"), P("ec.key"), NULL, P("ca2.pem"),
	    "localhost", now, "certificate chain does not verify");
	/* A missing extra CA file adds nothing and is not an error. */
	expect_fail(P("ec-leaf.pem"), P("ec.key"), NULL, P("nonexistent.pem"),
	    "localhost", now, "certificate chain does not verify");
	/* Another CA's certificate in the chain file does not help. */
	expect_fail(P("ec-leaf.pem"), P("ec.key"), P("ca2.pem"), NULL,
	    "localhost", now, "certificate chain does not verify");
	/* The full file (leaf + CA) verifies with any extra CA. */
	expect_ok(P("ec.crt"), P("ec.key"), NULL, P("ca2.pem"), "localhost",
	    now);
}

static void
test_selfsigned_leaf_not_trusted(void **state)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	(void)state;
	assert_non_null(k);
	make_selfsigned(k, P("self.crt"), P("self.key"));
	EVP_PKEY_free(k);
	expect_fail(P("self.crt"), P("self.key"), NULL, NULL, "localhost",
	    time(NULL), "certificate chain does not verify");
}

static void
test_weak_keys(void **state)
{
	static const char weak[] = "certificate key is too weak (needs RSA "
				   "2048+ or ECDSA P-256/P-384/P-521)";
	EVP_PKEY *k;

	(void)state;
	k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	assert_non_null(k);
	make_selfsigned(k, P("rsa1024.crt"), P("rsa1024.key"));
	EVP_PKEY_free(k);
	expect_fail(P("rsa1024.crt"), P("rsa1024.key"), NULL, NULL, "localhost",
	    time(NULL), weak);

	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	assert_non_null(k);
	make_selfsigned(k, P("k1.crt"), P("k1.key"));
	EVP_PKEY_free(k);
	expect_fail(P("k1.crt"), P("k1.key"), NULL, NULL, "localhost",
	    time(NULL), weak);

	k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(k);
	make_selfsigned(k, P("ed.crt"), P("ed.key"));
	EVP_PKEY_free(k);
	expect_fail(P("ed.crt"), P("ed.key"), NULL, NULL, "localhost",
	    time(NULL), "certificate key is neither RSA nor ECDSA");

	/* Control: a strong self-signed key gets past the key checks. */
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	assert_non_null(k);
	make_selfsigned(k, P("p384.crt"), P("p384.key"));
	EVP_PKEY_free(k);
	expect_fail(P("p384.crt"), P("p384.key"), NULL, NULL, "localhost",
	    time(NULL), "certificate chain does not verify");
	expect_ok(P("p384.crt"), P("p384.key"), NULL, P("p384.crt"),
	    "localhost", time(NULL));
}

static void
test_modes(void **state)
{
	static const char *const keys[] = { "ca1.key", "ca2.key", "carsa.key",
		"ec.key", "rsa.key", "wild.key", "other.key" };
	static const char *const certs[] = { "ca1.pem", "ec.crt", "rsa.crt" };
	struct stat st;

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		assert_int_equal(stat(P(keys[i]), &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0600);
	}
	for (size_t i = 0; i < sizeof(certs) / sizeof(certs[0]); i++) {
		assert_int_equal(stat(P(certs[i]), &st), 0);
		assert_int_equal(st.st_mode & 07777, 0644);
	}
}

static void
test_ca_reused(void **state)
{
	static const char *const names[] = { "again.example.test" };
	static char before[8192], after[8192];
	long nb, na;

	(void)state;
	nb = file_bytes(P("ca1.pem"), before, sizeof(before));
	assert_true(nb > 0);
	assert_int_equal(issue("ca1", "again", names, 1, true), 0);
	na = file_bytes(P("ca1.pem"), after, sizeof(after));
	assert_int_equal(na, nb);
	assert_memory_equal(before, after, (size_t)nb);
	extract_leaf(P("again.crt"), P("again-leaf.pem"));
	expect_ok(P("again-leaf.pem"), P("again.key"), NULL, P("ca1.pem"),
	    "again.example.test", time(NULL));
	/* Issuing again replaces the server files, still 0600/0644. */
	assert_int_equal(issue("ca1", "again", names, 1, false), 0);
	expect_ok(P("again.crt"), P("again.key"), NULL, NULL,
	    "again.example.test", time(NULL));
}

static void
test_issue_creates_dir(void **state)
{
	static const char *const names[] = { "localhost" };
	struct stat st;

	(void)state;
	assert_int_equal(issue("sub/ca", "sub/srv", names, 1, true), 0);
	assert_int_equal(stat(P("sub"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	expect_ok(P("sub/srv.crt"), P("sub/srv.key"), NULL, NULL, "localhost",
	    time(NULL));
}

static void
test_issue_refuses(void **state)
{
	static const char *const bad[] = { "bad name", "", "-a.example", "a..b",
		"a.example-", "1.2.3.4.5", "*.*.example", "a_b.test", "*",
		"x*.example", "300.1.1.1", "a.b/c" };
	static const char *const good[] = { "localhost" };
	struct wsd_err e = { 0 };
	struct stat st;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *names[] = { bad[i] };

		e.what = NULL;
		assert_true(tls_testca_issue(P("refca.pem"), P("refca.key"),
				P("ref.crt"), P("ref.key"), names, 1, DAYS,
				true, &e) < 0);
		assert_non_null(e.what);
	}
	assert_true(
	    tls_testca_issue(P("refca.pem"), P("refca.key"), P("ref.crt"),
		P("ref.key"), good, 0, DAYS, true, &e) < 0);
	assert_true(tls_testca_issue(P("refca.pem"), P("refca.key"),
			P("ref.crt"), P("ref.key"), good, 1, 0, true, &e) < 0);
	assert_true(
	    tls_testca_issue(P("refca.pem"), P("refca.key"), P("ref.crt"),
		P("ref.key"), good, 1, 3651, true, &e) < 0);
	/* Nothing was created by any refusal. */
	assert_int_equal(stat(P("refca.pem"), &st), -1);
	assert_int_equal(stat(P("refca.key"), &st), -1);
	assert_int_equal(stat(P("ref.crt"), &st), -1);
	/* Control: the same call with good arguments works. */
	assert_int_equal(tls_testca_issue(P("refca.pem"), P("refca.key"),
			     P("ref.crt"), P("ref.key"), good, 1, 1, true, &e),
	    0);
}

static void
test_incomplete_ca(void **state)
{
	static const char *const names[] = { "localhost" };
	struct wsd_err e = { 0 };
	struct stat st;

	(void)state;
	/* A CA certificate without its key is not silently replaced. */
	assert_int_equal(tls_testca_issue(P("ca2.pem"), P("nokey.key"),
			     P("inc.crt"), P("inc.key"), names, 1, DAYS, true,
			     &e),
	    WSD_EINVAL);
	assert_int_equal(stat(P("nokey.key"), &st), -1);
	/* Another CA's key with ca2's certificate: refused. */
	assert_true(tls_testca_issue(P("ca2.pem"), P("ca1.key"), P("inc.crt"),
			P("inc.key"), names, 1, DAYS, true, &e) < 0);
	assert_int_equal(stat(P("inc.crt"), &st), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec_ok),
		cmocka_unit_test(test_rsa_ok),
		cmocka_unit_test(test_name_null_skips),
		cmocka_unit_test(test_wrong_name),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_ip_san),
		cmocka_unit_test(test_key_mismatch),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_encrypted_key),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_selfsigned_leaf_not_trusted),
		cmocka_unit_test(test_weak_keys),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_ca_reused),
		cmocka_unit_test(test_issue_creates_dir),
		cmocka_unit_test(test_issue_refuses),
		cmocka_unit_test(test_incomplete_ca),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
