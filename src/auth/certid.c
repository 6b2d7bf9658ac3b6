#include "auth/certid.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "common/dnsname.h"

#define DNS_MAX 253

/* What one name gave: an identity, nothing, or a reason to refuse all. */
enum name_result { NAME_MAPS, NAME_NOMAP, NAME_BAD };

struct collect {
	const struct negotiate_realm_map *map;
	char ident[NEGOTIATE_MAX_IDENTITY]; /* the first identity, or "" */
	unsigned nnames;
	bool conflict;
	const char *bad; /* static reason, set by the first bad name */
};

/* The map's realm spelled as SUFFIX (SN bytes) in any case, or NULL. */
static const char *
realm_for(const struct negotiate_realm_map *map, const char *suffix, size_t sn)
{
	for (size_t i = 0; map != NULL && i < map->rm_n; i++)
		if (strlen(map->rm_ent[i].realm) == sn &&
		    strncasecmp(map->rm_ent[i].realm, suffix, sn) == 0)
			return map->rm_ent[i].realm;
	return NULL;
}

static void
take(struct collect *c, const char *ident)
{
	if (c->ident[0] == '\0')
		snprintf(c->ident, sizeof(c->ident), "%s", ident);
	else if (strcasecmp(c->ident, ident) != 0)
		c->conflict = true;
}

/* "name@suffix" (NUL-free, bounded): the principal name@REALM. */
static enum name_result
map_upn(struct collect *c, const char *upn, const char **why)
{
	const char *at = strchr(upn, '@'), *realm;
	char principal[NEGOTIATE_MAX_PRINCIPAL], ident[NEGOTIATE_MAX_IDENTITY];
	struct wsd_err err;
	int n;

	if (at == NULL || at == upn || strchr(at + 1, '@') != NULL) {
		*why = "UPN is not name@domain";
		return NAME_BAD;
	}
	/* '/' would make a service principal of it, '\' an escape. */
	if (memchr(upn, '/', (size_t)(at - upn)) != NULL ||
	    strchr(upn, '\\') != NULL) {
		*why = "UPN name with '/' or '\\'";
		return NAME_BAD;
	}
	if ((realm = realm_for(c->map, at + 1, strlen(at + 1))) == NULL)
		return NAME_NOMAP;
	n = snprintf(principal, sizeof(principal), "%.*s@%s", (int)(at - upn),
	    upn, realm);
	if (n < 0 || (size_t)n >= sizeof(principal)) {
		*why = "UPN too long";
		return NAME_BAD;
	}
	if (negotiate_map_principal(principal, c->map, ident, &err) < 0) {
		*why = err.what;
		return NAME_BAD;
	}
	take(c, ident);
	return NAME_MAPS;
}

/* A DNS host name: host/fqdn@REALM, its domain being the realm. */
static enum name_result
map_dns(struct collect *c, const char *dns, const char **why)
{
	const char *dot = strchr(dns, '.'), *realm;
	char principal[NEGOTIATE_MAX_PRINCIPAL], ident[NEGOTIATE_MAX_IDENTITY];
	struct wsd_err err;
	int n;

	/* Wildcards, trailing dots, free text: no host, no identity. */
	if (!dnsname_valid(dns) || dot == NULL)
		return NAME_NOMAP;
	if ((realm = realm_for(c->map, dot + 1, strlen(dot + 1))) == NULL)
		return NAME_NOMAP;
	n = snprintf(principal, sizeof(principal), "host/%s@%s", dns, realm);
	if (n < 0 || (size_t)n >= sizeof(principal)) {
		*why = "DNS name too long";
		return NAME_BAD;
	}
	if (negotiate_map_principal(principal, c->map, ident, &err) < 0) {
		*why = err.what;
		return NAME_BAD;
	}
	take(c, ident);
	return NAME_MAPS;
}

/*
 * P, N bytes of a certificate string, as a C string in BUF (MAX bytes
 * with the NUL), or NULL with *WHY: an embedded NUL would let "a\0b"
 * pass for "a" in every later check.
 */
static const char *
cstr(const unsigned char *p, int n, char *buf, size_t max, const char **why)
{
	if (n <= 0) {
		*why = "empty name";
		return NULL;
	}
	if ((size_t)n >= max) {
		*why = "name too long";
		return NULL;
	}
	if (memchr(p, '\0', (size_t)n) != NULL) {
		*why = "NUL in a name";
		return NULL;
	}
	memcpy(buf, p, (size_t)n);
	buf[n] = '\0';
	return buf;
}

static void
judge(struct collect *c, enum name_result r, const char *why)
{
	if (r == NAME_BAD && c->bad == NULL)
		c->bad = why != NULL ? why : "malformed name";
}

static bool
is_upn_oid(const ASN1_OBJECT *oid)
{
	return OBJ_obj2nid(oid) == NID_ms_upn;
}

/* The UPN and dNSName entries of the subjectAltName; the count seen. */
static unsigned
from_san(struct collect *c, X509 *leaf)
{
	GENERAL_NAMES *gens;
	unsigned seen = 0;
	int crit = -1;

	gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL) {
		/* -2: the extension twice; any other failure with the
		 * extension present (crit >= 0) is a malformed one. */
		if (crit != -1)
			judge(c, NAME_BAD, "malformed or repeated SAN");
		ERR_clear_error();
		return 0;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(gens) && c->bad == NULL; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char buf[NEGOTIATE_MAX_PRINCIPAL];
		const char *why = NULL, *s;
		enum name_result r;

		if (g->type == GEN_OTHERNAME &&
		    is_upn_oid(g->d.otherName->type_id)) {
			const ASN1_TYPE *v = g->d.otherName->value;

			seen++;
			if (++c->nnames > CERTID_MAX_NAMES) {
				judge(c, NAME_BAD, "too many names");
				break;
			}
			if (v == NULL || v->type != V_ASN1_UTF8STRING) {
				judge(c, NAME_BAD, "UPN not a UTF8String");
				break;
			}
			s = cstr(ASN1_STRING_get0_data(v->value.utf8string),
			    ASN1_STRING_length(v->value.utf8string), buf,
			    sizeof(buf), &why);
			/* Two statements: WHY is set by the call. */
			r = s == NULL ? NAME_BAD : map_upn(c, s, &why);
			judge(c, r, why);
		} else if (g->type == GEN_DNS) {
			seen++;
			if (++c->nnames > CERTID_MAX_NAMES) {
				judge(c, NAME_BAD, "too many names");
				break;
			}
			s = cstr(ASN1_STRING_get0_data(g->d.dNSName),
			    ASN1_STRING_length(g->d.dNSName), buf, DNS_MAX + 1,
			    &why);
			r = s == NULL ? NAME_BAD : map_dns(c, s, &why);
			judge(c, r, why);
		}
	}
	GENERAL_NAMES_free(gens);
	return seen;
}

static void
from_cn(struct collect *c, X509 *leaf)
{
	const X509_NAME *subj = X509_get_subject_name(leaf);
	int i = -1;

	while (c->bad == NULL &&
	    (i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0) {
		const ASN1_STRING *v =
		    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
		char buf[NEGOTIATE_MAX_PRINCIPAL];
		unsigned char *u = NULL;
		const char *why = NULL, *s;
		enum name_result r;
		int n;

		if (++c->nnames > CERTID_MAX_NAMES) {
			judge(c, NAME_BAD, "too many names");
			break;
		}
		if ((n = ASN1_STRING_to_UTF8(&u, v)) < 0) {
			ERR_clear_error();
			judge(c, NAME_BAD, "commonName not convertible");
			break;
		}
		s = cstr(u, n, buf, sizeof(buf), &why);
		OPENSSL_free(u);
		if (s == NULL)
			r = NAME_BAD;
		else if (strchr(s, '@') != NULL)
			r = map_upn(c, s, &why);
		else if (strlen(s) <= DNS_MAX)
			r = map_dns(c, s, &why);
		else
			r = NAME_NOMAP; /* free text, too long for a host */
		judge(c, r, why);
	}
}

int
certid_identity(X509 *leaf, const struct negotiate_realm_map *map, char *out,
    struct wsd_err *err)
{
	struct collect c;

	out[0] = '\0';
	memset(&c, 0, sizeof(c));
	c.map = map;
	if (leaf == NULL)
		return wsd_fail(err, WSD_EPERM, "no certificate");
	if (from_san(&c, leaf) == 0 && c.bad == NULL)
		from_cn(&c, leaf);
	if (c.bad != NULL)
		return wsd_fail(err, WSD_EPERM, c.bad);
	if (c.conflict)
		return wsd_fail(err, WSD_EPERM,
		    "names map to different identities");
	if (c.ident[0] == '\0')
		return wsd_fail(err, WSD_EPERM,
		    "no name maps to an identity (realm map)");
	memcpy(out, c.ident, sizeof(c.ident));
	return 0;
}

void
certid_dn_text(const X509_NAME *name, char *out)
{
	BIO *b = BIO_new(BIO_s_mem());
	/* RFC 2253 escapes control and non-ASCII bytes as \XX. */
	const unsigned long fl = XN_FLAG_RFC2253;
	char *p;
	long n;

	snprintf(out, CERTID_MAX_DN, "?");
	if (b == NULL)
		return;
	if (name != NULL && X509_NAME_print_ex(b, name, 0, fl) >= 0 &&
	    (n = BIO_get_mem_data(b, &p)) >= 0) {
		size_t len = (size_t)n;

		if (len >= CERTID_MAX_DN)
			snprintf(out, CERTID_MAX_DN, "%.*s...",
			    CERTID_MAX_DN - 4, p);
		else
			snprintf(out, CERTID_MAX_DN, "%.*s", (int)len, p);
		/* Belt and braces: one log line, printable ASCII. */
		for (char *q = out; *q != '\0'; q++)
			if ((unsigned char)*q < 0x20 ||
			    (unsigned char)*q >= 0x7f)
				*q = '?';
	}
	BIO_free(b);
	ERR_clear_error();
}
