/*
 * Authenticode signing of published packages (PE, MSI, CAB) with the
 * server's publishing certificate, through osslsigncode from Debian
 * rather than a signer of our own. The program runs without a shell, with
 * a fixed argument vector and a bounded time.
 */
#ifndef WSUSD_CATALOG_SIGN_H
#define WSUSD_CATALOG_SIGN_H

#include "common/wsd_err.h"

/* Longest osslsigncode may run on one package. */
#define SIGN_TIMEOUT_SECS 300

/*
 * Signs IN into OUT (which must not exist) with SHA-256, the certificate
 * CERT and key KEY; DESCRIPTION goes into the signature (-n). On failure
 * OUT is removed and err says why ("cannot sign: not a PE, MSI or CAB
 * file" and the like; osslsigncode's own last line goes to the log).
 */
int sign_file(const char *in, const char *out, const char *cert,
    const char *key, const char *description, struct wsd_err *err)
    WSD_MUST_CHECK;

/* Verifies IN's Authenticode signature against the CA file CAFILE. */
int sign_verify(const char *in, const char *cafile, struct wsd_err *err)
    WSD_MUST_CHECK;

#endif
