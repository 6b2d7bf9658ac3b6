/*
 * wsusutil publishingcert create|export: the certificate publish signs
 * packages with (DATADIR/tls/publishing.crt and publishing.key).
 */
#include "wsusutil/wsusutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/fileio.h"
#include "common/sbuf.h"
#include "common/strparse.h"
#include "common/wsd_limits.h"
#include "config/config.h"
#include "net/tls_cert.h"

#define PUBCERT_DEFAULT_DAYS 1095 /* three years */

static int
usage(void)
{
	fprintf(stderr,
	    "usage: wsusutil publishingcert create [--subject CN] [--days N] "
	    "[--force]\n"
	    "       wsusutil publishingcert export FILE [--der]\n");
	return 2;
}

static int
export_cert(const char *crt, const char *file, bool der)
{
	char *pem = NULL;
	size_t len;
	struct wsd_err err;
	unsigned char *d = NULL;
	BIO *bio = NULL;
	X509 *x = NULL;
	int rc = 1, n;

	if (fileio_read_small(crt, WSD_MAX_PEM_FILE, &pem, &len, NULL, &err) < 0)
		return wsusutil_fail("publishingcert export",
		    "no publishing certificate: run wsusutil publishingcert "
		    "create");
	if (!der) {
		rc = fileio_write_atomic(AT_FDCWD, file, pem, len, 0644, NULL, 0,
			 &err) < 0 ?
		    wsusutil_fail("publishingcert export", err.what) : 0;
		free(pem);
		return rc;
	}
	/* DER (.cer): what the Windows certificate import wizard takes. */
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL ||
	    (n = i2d_X509(x, &d)) <= 0)
		rc = wsusutil_fail("publishingcert export",
		    "publishing certificate does not parse");
	else if (fileio_write_atomic(AT_FDCWD, file, d, (size_t)n, 0644, NULL,
		     0, &err) < 0)
		rc = wsusutil_fail("publishingcert export", err.what);
	else
		rc = 0;
	OPENSSL_free(d);
	X509_free(x);
	BIO_free(bio);
	free(pem);
	return rc;
}

int
cmd_publishingcert(const char *datadir, int argc, char **argv)
{
	struct config *cf;
	struct wsd_err err;
	char crt[4096], key[4096];
	int rc;

	if (argc < 2)
		return usage();
	if (config_load(datadir, NULL, &cf, &err) < 0)
		return wsusutil_fail("publishingcert", err.what);
	snprintf(crt, sizeof(crt), "%s/tls/publishing.crt", cf->cf_datadir);
	snprintf(key, sizeof(key), "%s/tls/publishing.key", cf->cf_datadir);
	config_free(cf);

	if (strcmp(argv[1], "create") == 0) {
		const char *cn = "wsusd publishing";
		uint64_t days = PUBCERT_DEFAULT_DAYS;
		bool force = false;

		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--subject") == 0 && i + 1 < argc)
				cn = argv[++i];
			else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
				if (strparse_u64_all(argv[++i], 1,
					WSD_MAX_TESTCA_DAYS, &days) < 0)
					return wsusutil_fail("publishingcert "
							     "create",
					    "--days must be 1-3650");
			} else if (strcmp(argv[i], "--force") == 0)
				force = true;
			else
				return usage();
		}
		if (strlen(cn) == 0 || strlen(cn) > 64)
			return wsusutil_fail("publishingcert create",
			    "--subject must be 1-64 characters");
		/* Replacing it means clients must trust a new certificate:
		 * never by accident. */
		if (!force && access(crt, F_OK) == 0)
			return wsusutil_fail("publishingcert create",
			    "a publishing certificate exists; --force replaces "
			    "it (clients must then trust the new one)");
		if ((rc = tls_codesign_create(crt, key, cn, (unsigned)days,
			 &err)) < 0)
			return wsusutil_fail("publishingcert create", err.what);
		printf("publishing certificate: %s\nkey: %s\n"
		       "export it with 'wsusutil publishingcert export FILE' "
		       "and import it on clients into Trusted Publishers and "
		       "Trusted Root Certification Authorities\n",
		    crt, key);
		return 0;
	}
	if (strcmp(argv[1], "export") == 0) {
		if (argc == 3)
			return export_cert(crt, argv[2], false);
		if (argc == 4 && strcmp(argv[3], "--der") == 0)
			return export_cert(crt, argv[2], true);
		return usage();
	}
	return usage();
}
