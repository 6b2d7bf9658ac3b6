/*
 * Certificate and key checks shared by wsusutil configuressl, wsusd (on
 * start and SIGHUP) and checkhealth; and the local test CA. Only OpenSSL 3.
 *
 * Problems are reported through struct wsd_err with a static message that
 * names the problem, e.g. "certificate does not cover the name",
 * "private key does not match the certificate", "certificate has expired",
 * "certificate is not yet valid", "certificate chain does not verify",
 * "cannot read certificate file", "cannot read private key file".
 */
#ifndef WSUSD_NET_TLS_CERT_H
#define WSUSD_NET_TLS_CERT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/wsd_err.h"

struct tls_cert_info {
	time_t not_before;
	time_t not_after;
	bool is_ec; /* ECDSA key, else RSA */
	unsigned key_bits;
};

/*
 * Checks that CERT_PATH (PEM: leaf first, then any intermediates) and
 * KEY_PATH (PEM private key) are usable for NAME at time NOW:
 *   - both files readable and parse;
 *   - the key matches the leaf;
 *   - NOW within notBefore..notAfter;
 *   - NAME is covered by a subjectAltName dNSName (wildcards per RFC 6125,
 *     one left-most label) or iPAddress; NAME may be NULL to skip;
 *   - the chain verifies: leaf -> intermediates from CERT_PATH and
 *     CHAIN_PATH (may be NULL) -> a trust anchor that is either in the
 *     system store, a self-signed CA certificate in CHAIN_PATH/CERT_PATH,
 *     or in EXTRA_CA_PATH (may be NULL; e.g. DATADIR/tls/ca.pem).
 * Fills INFO when not NULL. Returns 0 or a negative wsd_errc.
 */
int tls_cert_check(const char *cert_path, const char *key_path,
    const char *chain_path, const char *extra_ca_path, const char *name,
    time_t now, struct tls_cert_info *info, struct wsd_err *err)
    WSD_MUST_CHECK;

/*
 * Creates a test CA (self-signed, 10 years) in CA_CERT_PATH/CA_KEY_PATH if
 * they do not exist yet, otherwise reuses it; then issues a server
 * certificate for the NNAMES names (DNS names, or IP literals as iPAddress
 * SANs), valid from now-1h for DAYS days, with serverAuth EKU, written to
 * CERT_PATH (leaf then CA certificate) and KEY_PATH. Keys are written mode
 * 0600 via a temporary file and rename. EC selects ECDSA P-256, otherwise
 * RSA-2048.
 */
int tls_testca_issue(const char *ca_cert_path, const char *ca_key_path,
    const char *cert_path, const char *key_path, const char *const *names,
    unsigned nnames, unsigned days, bool ec, struct wsd_err *err)
    WSD_MUST_CHECK;

/*
 * Creates the publishing certificate wsusutil publish signs packages
 * with: a self-signed RSA-3072 certificate with the codeSigning extended
 * key usage, subject CN, valid from now-1h for DAYS days; KEY_PATH 0600,
 * CERT_PATH 0644, replacing both (via temporary files) when they exist.
 * Clients trust it by importing it into Trusted Publishers and Trusted
 * Root Certification Authorities.
 */
int tls_codesign_create(const char *cert_path, const char *key_path,
    const char *cn, unsigned days, struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Checks the publishing certificate before it is used: both files parse,
 * the key matches, NOW is within its validity, and it is for code signing.
 * Each problem has its own message.
 */
int tls_codesign_check(const char *cert_path, const char *key_path,
    time_t now, struct wsd_err *err) WSD_MUST_CHECK;

#endif
