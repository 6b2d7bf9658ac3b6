/*
 * auth/certid: the identity a (verified) client certificate stands for.
 * Certificates are built in memory with OpenSSL: one EC key, a subject,
 * and subjectAltName entries assembled as GENERAL_NAMEs, so malformed
 * ones (embedded NUL, a UPN of the wrong string type, two extensions)
 * can be made too. Nothing here verifies signatures: that is
 * net/tls.c's job, tested end to end in test_serversync_cert.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "auth/certid.h"

static EVP_PKEY *key;
static struct negotiate_realm_map map;

/* One SAN entry: kind 'D' dNSName, 'U' UPN (UTF8String), 'u' UPN as an
 * IA5String, 'I' IPv4 address; LEN 0: strlen(VAL). */
struct san {
	char kind;
	const char *val;
	size_t len;
};

static GENERAL_NAME *
gen(const struct san *s)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	size_t n = s->len ? s->len : strlen(s->val);

	assert_non_null(g);
	if (s->kind == 'D') {
		ASN1_IA5STRING *v = ASN1_IA5STRING_new();

		assert_int_equal(ASN1_STRING_set(v, s->val, (int)n), 1);
		GENERAL_NAME_set0_value(g, GEN_DNS, v);
	} else if (s->kind == 'I') {
		ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();

		assert_int_equal(ASN1_OCTET_STRING_set(v,
				     (const unsigned char *)"\x7f\0\0\1", 4),
		    1);
		GENERAL_NAME_set0_value(g, GEN_IPADD, v);
	} else {
		ASN1_TYPE *t = ASN1_TYPE_new();
		ASN1_STRING *v = ASN1_STRING_type_new(
		    s->kind == 'U' ? V_ASN1_UTF8STRING : V_ASN1_IA5STRING);

		assert_int_equal(ASN1_STRING_set(v, s->val, (int)n), 1);
		ASN1_TYPE_set(t, ASN1_STRING_type(v), v);
		assert_int_equal(GENERAL_NAME_set0_othername(g,
				     OBJ_nid2obj(NID_ms_upn), t),
		    1);
	}
	return g;
}

static void
add_san(X509 *x, const struct san *sans, size_t n)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	X509_EXTENSION *ext;

	for (size_t i = 0; i < n; i++)
		assert_true(sk_GENERAL_NAME_push(gens, gen(&sans[i])) > 0);
	ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
	assert_non_null(ext);
	/* X509_add_ext appends: a second call makes a second extension. */
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
	GENERAL_NAMES_free(gens);
}

/* A certificate with commonNames CN (NULL-terminated list; NULL none)
 * and, when NSANS > 0, one subjectAltName of SANS. */
static X509 *
cert(const char *const *cn, const struct san *sans, size_t nsans)
{
	X509 *x = X509_new();
	X509_NAME *nm = X509_NAME_new();

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC,
			     (const unsigned char *)"wsusd tests", -1, -1, 0),
	    1);
	for (size_t i = 0; cn != NULL && cn[i] != NULL; i++)
		assert_int_equal(X509_NAME_add_entry_by_txt(nm, "CN",
				     MBSTRING_UTF8,
				     (const unsigned char *)cn[i], -1, -1, 0),
		    1);
	assert_int_equal(X509_set_subject_name(x, nm), 1);
	assert_int_equal(X509_set_issuer_name(x, nm), 1);
	X509_NAME_free(nm);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	if (nsans > 0)
		add_san(x, sans, nsans);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

/* The identity of X (freed), or "!" + the refusal. */
static const char *
ident(X509 *x)
{
	static char out[NEGOTIATE_MAX_IDENTITY + 128];
	char id[NEGOTIATE_MAX_IDENTITY];
	struct wsd_err err = { 0 };
	int rc = certid_identity(x, &map, id, &err);

	X509_free(x);
	if (rc < 0) {
		assert_int_equal(rc, WSD_EPERM);
		assert_string_equal(id, "");
		snprintf(out, sizeof(out), "!%s", err.what);
	} else {
		assert_int_equal(rc, 0);
		snprintf(out, sizeof(out), "%s", id);
	}
	return out;
}

#define SAN(...)                                                               \
	(const struct san[]){ __VA_ARGS__ },                                   \
	    sizeof((const struct san[]){ __VA_ARGS__ }) / sizeof(struct san)
#define CN(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void
assert_refused(const char *got, const char *why)
{
	if (got[0] != '!' || strstr(got, why) == NULL)
		print_message("got \"%s\", wanted a refusal with \"%s\"\n", got,
		    why);
	assert_true(got[0] == '!');
	assert_non_null(strstr(got, why));
}

static int
setup(void **state)
{
	struct wsd_err err;
	EVP_PKEY_CTX *pc;

	(void)state;
	pc = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
	if (pc == NULL || EVP_PKEY_keygen_init(pc) != 1 ||
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(pc, NID_X9_62_prime256v1) !=
		1 ||
	    EVP_PKEY_keygen(pc, &key) != 1)
		return -1;
	EVP_PKEY_CTX_free(pc);
	return negotiate_realm_map_parse("CORP.EXAMPLE = CORP, "
					 "EAST.CORP.EXAMPLE = EAST",
	    &map, &err);
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key);
	return 0;
}

static void
test_upn(void **state)
{
	(void)state;
	assert_string_equal(ident(cert(CN("Downstream 1"),
				SAN({ 'U', "ds1$@corp.example", 0 }))),
	    "CORP\\ds1$");
	/* The suffix in any case; the map's realm decides. */
	assert_string_equal(ident(cert(NULL,
				SAN({ 'U', "DS1$@Corp.Example", 0 }))),
	    "CORP\\DS1$");
	/* A user account, as a Kerberos user principal maps. */
	assert_string_equal(ident(cert(NULL,
				SAN({ 'U', "svc-sync@CORP.EXAMPLE", 0 }))),
	    "CORP\\svc-sync");
	assert_string_equal(ident(cert(NULL,
				SAN({ 'U', "ds7$@east.corp.example", 0 }))),
	    "EAST\\ds7$");
}

static void
test_dns(void **state)
{
	(void)state;
	assert_string_equal(ident(cert(CN("x"),
				SAN({ 'D', "ds1.corp.example", 0 }))),
	    "CORP\\DS1$");
	assert_string_equal(ident(cert(NULL,
				SAN({ 'D', "Ds2.CORP.example", 0 }))),
	    "CORP\\DS2$");
	/* The domain is the realm exactly, not a parent of it. */
	assert_string_equal(ident(cert(NULL,
				SAN({ 'D', "ds3.east.corp.example", 0 }))),
	    "EAST\\DS3$");
	assert_refused(ident(cert(NULL,
			   SAN({ 'D', "ds3.west.corp.example", 0 }))),
	    "no name maps");
	assert_refused(ident(cert(NULL, SAN({ 'D', "ds1.other.example", 0 }))),
	    "no name maps");
	/* Short names, wildcards and trailing dots map to nothing. */
	assert_refused(ident(cert(NULL,
			   SAN({ 'D', "ds1", 0 }, { 'D', "*.corp.example", 0 },
			       { 'D', "ds1.corp.example.", 0 }))),
	    "no name maps");
	/* ... and do not stop a good name beside them. */
	assert_string_equal(ident(cert(NULL,
				SAN({ 'D', "ds1", 0 },
				    { 'D', "*.corp.example", 0 },
				    { 'I', "", 0 },
				    { 'D', "ds1.corp.example", 0 }))),
	    "CORP\\DS1$");
}

static void
test_cn(void **state)
{
	(void)state;
	assert_string_equal(ident(cert(CN("ds3.corp.example"), NULL, 0)),
	    "CORP\\DS3$");
	assert_string_equal(ident(cert(CN("ds5$@CORP.EXAMPLE"), NULL, 0)),
	    "CORP\\ds5$");
	/* A subjectAltName with only an address: the CN still counts. */
	assert_string_equal(ident(cert(CN("ds3.corp.example"),
				SAN({ 'I', "", 0 }))),
	    "CORP\\DS3$");
	/* Free text maps to nothing. */
	assert_refused(ident(cert(CN("Downstream server 3"), NULL, 0)),
	    "no name maps");
	assert_refused(ident(cert(NULL, NULL, 0)), "no name maps");
	/* With a DNS or UPN name in the SAN the CN is not read (RFC 6125). */
	assert_refused(ident(cert(CN("ds3.corp.example"),
			   SAN({ 'D', "ds3.other.example", 0 }))),
	    "no name maps");
	/* Two CNs naming two machines. */
	assert_refused(ident(cert(CN("ds3.corp.example", "ds4.corp.example"),
			   NULL, 0)),
	    "different identities");
}

static void
test_conflicts(void **state)
{
	(void)state;
	assert_refused(ident(cert(NULL,
			   SAN({ 'U', "ds1$@corp.example", 0 },
			       { 'D', "ds2.corp.example", 0 }))),
	    "different identities");
	assert_refused(ident(cert(NULL,
			   SAN({ 'D', "ds1.corp.example", 0 },
			       { 'D', "ds1.east.corp.example", 0 }))),
	    "different identities");
	/* The same account twice, in two cases and two forms: one. */
	assert_string_equal(ident(cert(NULL,
				SAN({ 'U', "ds1$@corp.example", 0 },
				    { 'D', "DS1.corp.example", 0 }))),
	    "CORP\\ds1$");
}

static void
test_malformed(void **state)
{
	char big[400];
	struct san many[CERTID_MAX_NAMES + 1];

	(void)state;
	/* "ds1.corp.example\0.evil": C string checks would see ds1. */
	assert_refused(ident(cert(NULL,
			   SAN({ 'D', "ds1.corp.example\0.evil.example",
			       30 }))),
	    "NUL");
	assert_refused(ident(cert(NULL,
			   SAN({ 'U', "ds1$@corp.example\0x", 19 }))),
	    "NUL");
	assert_refused(ident(cert(CN("x"), SAN({ 'D', "", 0 }))), "empty");
	assert_refused(ident(cert(NULL, SAN({ 'u', "ds1$@corp.example", 0 }))),
	    "UTF8String");
	assert_refused(ident(cert(NULL, SAN({ 'U', "ds1$", 0 }))),
	    "name@domain");
	assert_refused(ident(cert(NULL, SAN({ 'U', "a@b@corp.example", 0 }))),
	    "name@domain");
	assert_refused(ident(cert(NULL,
			   SAN({ 'U', "host/ds1.corp.example@corp.example",
			       0 }))),
	    "'/'");
	/* The name part obeys the principal rules (64 bytes, no '<'). */
	memset(big, 'a', 65);
	snprintf(big + 65, sizeof(big) - 65, "@corp.example");
	assert_refused(ident(cert(NULL, SAN({ 'U', big, 0 }))), "mappable");
	assert_refused(ident(cert(NULL, SAN({ 'U', "d<s@corp.example", 0 }))),
	    "mappable");
	/* Over the DNS bound, over the UPN bound. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (size_t i = 60; i < sizeof(big) - 1; i += 61)
		big[i] = '.';
	assert_refused(ident(cert(NULL, SAN({ 'D', big, 0 }))), "too long");
	{
		char upn[NEGOTIATE_MAX_PRINCIPAL + 20];

		memset(upn, 'a', sizeof(upn) - 1);
		upn[sizeof(upn) - 1] = '\0';
		memcpy(upn + sizeof(upn) - 14, "@corp.example", 14);
		assert_refused(ident(cert(NULL, SAN({ 'U', upn, 0 }))),
		    "too long");
	}
	/* More names than looked at. */
	for (size_t i = 0; i < CERTID_MAX_NAMES + 1; i++)
		many[i] = (struct san){ 'D', "ds1.corp.example", 0 };
	{
		X509 *x = cert(NULL, NULL, 0);

		add_san(x, many, CERTID_MAX_NAMES);
		assert_string_equal(ident(x), "CORP\\DS1$");
		x = cert(NULL, NULL, 0);
		add_san(x, many, CERTID_MAX_NAMES + 1);
		assert_refused(ident(x), "too many");
	}
	/* Two subjectAltName extensions. */
	{
		X509 *x = cert(NULL, SAN({ 'D', "ds1.corp.example", 0 }));

		add_san(x, SAN({ 'D', "ds1.corp.example", 0 }));
		assert_refused(ident(x), "repeated SAN");
	}
}

static void
test_no_map(void **state)
{
	struct negotiate_realm_map empty;
	struct wsd_err err;
	char id[NEGOTIATE_MAX_IDENTITY];
	X509 *x = cert(NULL,
	    SAN({ 'U', "ds1$@corp.example", 0 },
		{ 'D', "ds1.corp.example", 0 }));

	(void)state;
	memset(&empty, 0, sizeof(empty));
	assert_int_equal(certid_identity(x, &empty, id, &err), WSD_EPERM);
	assert_non_null(strstr(err.what, "no name maps"));
	assert_int_equal(certid_identity(x, NULL, id, &err), WSD_EPERM);
	assert_int_equal(certid_identity(NULL, &map, id, &err), WSD_EPERM);
	X509_free(x);
}

static void
test_dn_text(void **state)
{
	char out[CERTID_MAX_DN], unit[61];
	X509 *x;

	(void)state;
	x = cert(CN("ds1\n\x01\xc3\xa9"), NULL, 0);
	certid_dn_text(X509_get_subject_name(x), out);
	/* One line, printable ASCII; RFC 2253 order (CN first). */
	assert_true(strncmp(out, "CN=ds1", 6) == 0);
	assert_non_null(strstr(out, "O=wsusd tests"));
	for (const char *p = out; *p != '\0'; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
	X509_free(x);

	/* Ten 60-byte units (each under the 64-byte bound): cut. */
	memset(unit, 'x', sizeof(unit) - 1);
	unit[sizeof(unit) - 1] = '\0';
	{
		X509_NAME *nm = X509_NAME_new();

		for (int i = 0; i < 10; i++)
			assert_int_equal(X509_NAME_add_entry_by_txt(nm, "OU",
					     MBSTRING_ASC,
					     (const unsigned char *)unit, -1,
					     -1, 0),
			    1);
		certid_dn_text(nm, out);
		X509_NAME_free(nm);
	}
	assert_int_equal(strlen(out), CERTID_MAX_DN - 1);
	assert_string_equal(out + CERTID_MAX_DN - 4, "...");
	certid_dn_text(NULL, out);
	assert_string_equal(out, "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upn),
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_cn),
		cmocka_unit_test(test_conflicts),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_no_map),
		cmocka_unit_test(test_dn_text),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
