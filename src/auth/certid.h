/*
 * The Windows identity a TLS client certificate stands for, the second
 * way (after Kerberos, auth/negotiate.h) for a downstream server to prove
 * who it is to ServerSyncWebService, where there is no KDC
 * (docs/CHAINING.md). The certificate must already be verified
 * (net/tls.h tls_peer_verified); this module only reads names from it and
 * maps them with the same realm map and the same rules as Kerberos
 * principals (negotiate_map_principal), so an authorization list entry
 * CORP\DS1$ admits the server whichever way it authenticates.
 *
 * Names, from the leaf's subjectAltName:
 *   UPN otherName (1.3.6.1.4.1.311.20.2.3, UTF8String)
 *       "ds1$@corp.example"  -> the principal "ds1$@CORP.EXAMPLE"
 *                            -> "CORP\ds1$"
 *   dNSName "ds1.corp.example" -> "host/ds1.corp.example@CORP.EXAMPLE"
 *                            -> "CORP\DS1$"
 * The UPN suffix and the DNS name's domain (everything after the first
 * label) are matched case-insensitively against the map's realms and the
 * map's spelling of the realm is used; a host in a sub-domain of a realm
 * is not in that realm. Only when the subjectAltName holds neither kind
 * is the subject's commonName read, in the same two forms ('@' makes it
 * a UPN). Other names (IP addresses, e-mail, URIs) are ignored.
 *
 * Refused (WSD_EPERM, no identity): a name with an embedded NUL, over
 * its bound (NEGOTIATE_MAX_PRINCIPAL for a UPN, 253 for a DNS name), a
 * UPN that is not a UTF8String or whose name part the principal rules
 * refuse; two subjectAltName extensions; more than CERTID_MAX_NAMES
 * names; names mapping to different identities; no name mapping at all.
 * A well-formed name whose realm is not in the map, or that is no DNS
 * host name (a wildcard, free text in a commonName), maps to nothing and
 * is passed over.
 */
#ifndef WSUSD_AUTH_CERTID_H
#define WSUSD_AUTH_CERTID_H

#include <stddef.h>

#include <openssl/x509.h>

#include "auth/negotiate.h"
#include "common/wsd_err.h"

/* Names looked at in one certificate: a machine certificate carries a
 * handful (FQDN, short name, aliases); hundreds would only cost time. */
#define CERTID_MAX_NAMES 32
/* Log text of a certificate's subject or issuer, NUL included. */
#define CERTID_MAX_DN 256

/*
 * The identity of LEAF into OUT (NEGOTIATE_MAX_IDENTITY bytes):
 * "CORP\DS1$". 0, or WSD_EPERM with a static reason in ERR and OUT "".
 */
int certid_identity(X509 *leaf, const struct negotiate_realm_map *map,
    char *out, struct wsd_err *err) WSD_MUST_CHECK;

/*
 * NAME as one line for the log (RFC 2253, non-ASCII and control bytes
 * escaped, cut at CERTID_MAX_DN - 1 bytes with "..."), into OUT
 * (CERTID_MAX_DN bytes). Never fails: "?" when it cannot print.
 */
void certid_dn_text(const X509_NAME *name, char *out);

#endif
