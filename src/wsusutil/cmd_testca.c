/*
 * wsusutil testca [--rsa] [--days N] [--out PREFIX] NAME...
 *
 * A local test CA in DATADIR/tls/ca.pem + ca.key (made on first use, then
 * reused) and a server certificate for NAMEs in PREFIX.crt (leaf, then the
 * CA) + PREFIX.key (mode 0600). PREFIX defaults to DATADIR/tls/testca-server.
 * For tests and labs: clients must be told to trust ca.pem.
 */
#include "wsusutil/wsusutil.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/dnsname.h"
#include "common/sbuf.h"
#include "common/strparse.h"
#include "net/tls_cert.h"

#define TESTCA_DEFAULT_DAYS 397 /* CA/Browser Forum ceiling is 398 */
#define TESTCA_MAX_DAYS     3650
#define TESTCA_MAX_NAMES    64

static int
usage_err(const char *msg, const char *arg)
{
	if (arg != NULL)
		fprintf(stderr, "wsusutil: testca: %s: %s\n", msg, arg);
	else
		fprintf(stderr, "wsusutil: testca: %s\n", msg);
	fprintf(stderr,
	    "usage: wsusutil [--data DIR] testca [--rsa] "
	    "[--days N] [--out PREFIX] NAME...\n");
	return 2;
}

int
cmd_testca(const char *datadir, int argc, char **argv)
{
	const char *names[TESTCA_MAX_NAMES];
	struct sbuf ca_crt, ca_key, crt, key, prefix;
	const char *out = NULL;
	unsigned nnames = 0;
	uint64_t days = TESTCA_DEFAULT_DAYS;
	bool ec = true, opts = true, ca_existed;
	struct wsd_err e = { 0 };
	struct stat st;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (opts && strcmp(a, "--") == 0) {
			opts = false;
		} else if (opts && strcmp(a, "--rsa") == 0) {
			ec = false;
		} else if (opts && strcmp(a, "--days") == 0) {
			if (i + 1 >= argc)
				return usage_err("--days needs a value", NULL);
			if (strparse_u64_all(argv[++i], 1, TESTCA_MAX_DAYS,
				&days) < 0)
				return usage_err("--days: expected 1 to 3650",
				    argv[i]);
		} else if (opts && strcmp(a, "--out") == 0) {
			if (i + 1 >= argc || argv[i + 1][0] == '\0')
				return usage_err("--out needs a path prefix",
				    NULL);
			out = argv[++i];
		} else if (opts && a[0] == '-') {
			return usage_err("unknown option", a);
		} else {
			/* The rule tls_testca_issue applies. */
			if (!ipaddr_literal(a) && !dnsname_valid_san(a))
				return usage_err("not a DNS name or IP address",
				    a);
			if (nnames == TESTCA_MAX_NAMES)
				return usage_err("too many names (at most 64)",
				    NULL);
			names[nnames++] = a;
		}
	}
	if (nnames == 0)
		return usage_err("no NAME given", NULL);

	sbuf_init(&ca_crt, PATH_MAX);
	sbuf_init(&ca_key, PATH_MAX);
	sbuf_init(&prefix, PATH_MAX);
	sbuf_init(&crt, PATH_MAX);
	sbuf_init(&key, PATH_MAX);
	if (sbuf_addf(&ca_crt, "%s/tls/ca.pem", datadir) < 0 ||
	    sbuf_addf(&ca_key, "%s/tls/ca.key", datadir) < 0 ||
	    (out != NULL ? sbuf_adds(&prefix, out)
			 : sbuf_addf(&prefix, "%s/tls/testca-server",
			       datadir)) < 0 ||
	    sbuf_addf(&crt, "%s.crt", prefix.sb_buf) < 0 ||
	    sbuf_addf(&key, "%s.key", prefix.sb_buf) < 0) {
		fprintf(stderr, "wsusutil: testca: path too long\n");
		goto out;
	}
	ca_existed = stat(ca_crt.sb_buf, &st) == 0;
	if (tls_testca_issue(ca_crt.sb_buf, ca_key.sb_buf, crt.sb_buf,
		key.sb_buf, names, nnames, (unsigned)days, ec, &e) < 0) {
		fprintf(stderr, "wsusutil: testca: %s\n", e.what);
		goto out;
	}
	printf("test CA certificate: %s (%s)\n", ca_crt.sb_buf,
	    ca_existed ? "reused" : "created");
	printf("test CA key:         %s\n", ca_key.sb_buf);
	printf("server certificate:  %s (%s, %u days)\n", crt.sb_buf,
	    ec ? "ECDSA P-256" : "RSA 2048", (unsigned)days);
	printf("server key:          %s\n", key.sb_buf);
	/* configuressl takes a DNS name (or IPv4 address) only. */
	if (names[0][0] != '*' && strchr(names[0], ':') == NULL)
		printf("install with: wsusutil --data %s configuressl %s "
		       "--cert %s --key %s\n",
		    datadir, names[0], crt.sb_buf, key.sb_buf);
	rc = 0;
out:
	sbuf_release(&ca_crt);
	sbuf_release(&ca_key);
	sbuf_release(&crt);
	sbuf_release(&key);
	sbuf_release(&prefix);
	return rc;
}
