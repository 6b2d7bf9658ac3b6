/*
 * Syntax checks for the names we put in wsusd.conf and in certificates.
 * One rule for every caller, so a name wsusutil accepts is one that
 * config_load and tls_testca_issue accept too. Pure functions: no DNS
 * lookups, no allocation, no locale.
 *
 * A DNS host name here is RFC 1123 "LDH" syntax: labels of ASCII letters,
 * digits and hyphens, 1 to 63 bytes each, a hyphen neither first nor last
 * in a label, labels separated by single dots, 1 to 253 bytes in all, no
 * trailing (root) dot. Labels may be all digits, so a dotted IPv4 address
 * also passes dnsname_valid; callers that must tell the two apart use
 * dnsname_valid_san or ipaddr_literal.
 */
#ifndef WSUSD_COMMON_DNSNAME_H
#define WSUSD_COMMON_DNSNAME_H

#include <stdbool.h>

/* S is a DNS host name as above (server_name, configuressl's NAME). */
bool dnsname_valid(const char *s);

/*
 * S is a name for a certificate's subjectAltName dNSName: a DNS host name
 * as above, optionally "*." plus one (RFC 6125: left-most, whole-label
 * wildcard), whose last label is not all digits, so that "300.1.1.1" or
 * "127.0.0.01" is neither a name nor silently an address. The 253-byte
 * limit counts the "*.".
 */
bool dnsname_valid_san(const char *s);

/* S is a numeric IPv4 (dotted quad) or IPv6 address, as inet_pton reads
 * it: no brackets, no zone ("%eth0"), no port. */
bool ipaddr_literal(const char *s);

#endif
