/*
 * catalog/sign_policy and sign_verify (SECURITY.md S15): what a trusted
 * publisher's signature must also be. Packages are made here, at run
 * time, with the real tools: a minimal PE32 written byte by byte, a CAB
 * from gcab, an MSI from msibuild (msitools), a certificate from openssl,
 * signatures from osslsigncode.
 * Each bad variant is first shown to pass `osslsigncode verify`, so the
 * refusal is ours and not the tool's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/sign.h"
#include "catalog/sign_policy.h"

static char base[] = "/tmp/wsusd-signpol-XXXXXX";
static char cert[256], key[256];

static void
path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", base, name);
}

static void
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static unsigned char *
slurp(const char *p, size_t *lenp)
{
	FILE *f = fopen(p, "rb");
	unsigned char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	assert_non_null(buf = malloc((size_t)n));
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*lenp = (size_t)n;
	return buf;
}

static void
spit(const char *p, const unsigned char *buf, size_t n)
{
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* A PE32 image with one .text section holding a `ret`: 1 KiB. */
static void
write_pe(const char *p)
{
	unsigned char pe[1024] = { 0 };
	unsigned char *coff = pe + 0x84, *opt = pe + 0x98, *sec = opt + 0xe0;

	pe[0] = 'M';
	pe[1] = 'Z';
	put32(pe + 0x3c, 0x80);
	memcpy(pe + 0x80, "PE\0\0", 4);
	put16(coff, 0x14c);      /* i386 */
	put16(coff + 2, 1);      /* sections */
	put16(coff + 16, 0xe0);  /* SizeOfOptionalHeader */
	put16(coff + 18, 0x102); /* executable, 32-bit */
	put16(opt, 0x10b);       /* PE32 */
	put32(opt + 4, 0x200);   /* SizeOfCode */
	put32(opt + 16, 0x1000); /* AddressOfEntryPoint */
	put32(opt + 20, 0x1000); /* BaseOfCode */
	put32(opt + 24, 0x2000); /* BaseOfData */
	put32(opt + 28, 0x400000);
	put32(opt + 32, 0x1000); /* SectionAlignment */
	put32(opt + 36, 0x200);  /* FileAlignment */
	put16(opt + 40, 6);
	put16(opt + 48, 6);
	put32(opt + 56, 0x2000); /* SizeOfImage */
	put32(opt + 60, 0x200);  /* SizeOfHeaders */
	put16(opt + 68, 3);      /* console */
	put32(opt + 72, 0x100000);
	put32(opt + 76, 0x1000);
	put32(opt + 80, 0x100000);
	put32(opt + 84, 0x1000);
	put32(opt + 92, 16); /* NumberOfRvaAndSizes */
	memcpy(sec, ".text", 5);
	put32(sec + 8, 0x1000);
	put32(sec + 12, 0x1000);
	put32(sec + 16, 0x200);
	put32(sec + 20, 0x200);
	put32(sec + 36, 0x60000020);
	pe[0x200] = 0xc3;
	spit(p, pe, sizeof(pe));
}

static void
osslsign(const char *digest, const char *in, const char *out)
{
	sh("osslsigncode sign -certs %s -key %s -h %s -in %s -out %s "
	   ">/dev/null 2>&1",
	    cert, key, digest, in, out);
}

static int
ossl_verifies(const char *p)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
	    "osslsigncode verify -CAfile %s -in %s >/dev/null 2>&1", cert, p);
	return system(cmd) == 0;
}

static int
setup(void **state)
{
	char pe[256], cab[256], f[256];

	(void)state;
	if (mkdtemp(base) == NULL)
		return -1;
	path(cert, sizeof(cert), "pub.crt");
	path(key, sizeof(key), "pub.key");
	/* A fixed serial: signatures of one length every run, so the MSI
	 * signature stream's slack is the same (test_msi_hidden). */
	sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s "
	   "-days 2 -set_serial 1 -subj /CN=Test\\ Publisher "
	   "-addext extendedKeyUsage=codeSigning >/dev/null 2>&1",
	    key, cert);
	path(pe, sizeof(pe), "t.exe");
	write_pe(pe);
	path(f, sizeof(f), "sha256.exe");
	osslsign("sha256", pe, f);
	path(f, sizeof(f), "sha1.exe");
	osslsign("sha1", pe, f);
	path(f, sizeof(f), "payload");
	spit(f, (const unsigned char *)"payload\n", 8);
	path(cab, sizeof(cab), "t.cab");
	sh("cd %s && gcab -c -n %s payload", base, cab);
	path(f, sizeof(f), "sha256.cab");
	osslsign("sha256", cab, f);
	path(f, sizeof(f), "sha1.cab");
	osslsign("sha1", cab, f);
	path(f, sizeof(f), "t.msi");
	sh("cd %s && msibuild %s -a payload payload >/dev/null 2>&1", base, f);
	path(cab, sizeof(cab), "sha256.msi");
	osslsign("sha256", f, cab);
	/* With an MsiDigitalSignatureEx stream (the metadata pre-hash). */
	path(f, sizeof(f), "t.msi");
	path(cab, sizeof(cab), "dse.msi");
	sh("osslsigncode sign -certs %s -key %s -h sha256 -add-msi-dse "
	   "-in %s -out %s >/dev/null 2>&1",
	    cert, key, f, cab);
	path(f, sizeof(f), "t.ps1");
	spit(f, (const unsigned char *)"Write-Host \"hello\"\r\n", 20);
	path(cab, sizeof(cab), "sha256.ps1");
	osslsign("sha256", f, cab);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sh("rm -rf %s", base);
	return 0;
}

static void
verify_ok(const char *name)
{
	struct wsd_err err = { 0, NULL };
	char p[256];

	path(p, sizeof(p), name);
	if (sign_verify(p, cert, &err) != 0)
		fail_msg("%s: %s", name, err.what);
}

static void
verify_refused(const char *name, const char *why)
{
	struct wsd_err err = { 0, NULL };
	char p[256];

	path(p, sizeof(p), name);
	assert_true(ossl_verifies(p)); /* the refusal is ours */
	assert_true(sign_verify(p, cert, &err) < 0);
	assert_non_null(err.what);
	if (strstr(err.what, why) == NULL)
		fail_msg("%s: \"%s\" does not say \"%s\"", name, err.what, why);
}

static void
test_sha256_accepted(void **state)
{
	(void)state;
	verify_ok("sha256.exe");
	verify_ok("sha256.cab");
}

static void
test_sha1_refused(void **state)
{
	(void)state;
	verify_refused("sha1.exe", "weaker than SHA-256");
	verify_refused("sha1.cab", "weaker than SHA-256");
}

/* The signed PE with N bytes of FILL inside its WIN_CERTIFICATE, both
 * lengths grown to cover them (CVE-2013-3900), as NAME. */
static void
pad_pe(const char *name, size_t n, unsigned char fill)
{
	unsigned char *buf, *out;
	size_t len;
	char p[256];
	uint32_t dirs, off, size;

	path(p, sizeof(p), "sha256.exe");
	buf = slurp(p, &len);
	dirs = get32(buf + 0x3c) + 24 + 96 + 4 * 8;
	off = get32(buf + dirs);
	size = get32(buf + dirs + 4);
	assert_int_equal(off + size, len);
	assert_non_null(out = malloc(len + n));
	memcpy(out, buf, len);
	memset(out + len, fill, n);
	put32(out + dirs + 4, size + (uint32_t)n);
	put32(out + off, get32(out + off) + (uint32_t)n);
	path(p, sizeof(p), name);
	spit(p, out, len + n);
	free(buf);
	free(out);
}

static void
test_pe_padding(void **state)
{
	(void)state;
	/* Bytes inside the certificate entry: osslsigncode verifies it. */
	pad_pe("inner.exe", 64, 'X');
	verify_refused("inner.exe", "CVE-2013-3900");
	/* Eight zero bytes are more than alignment needs. */
	pad_pe("zeros8.exe", 8, 0);
	verify_refused("zeros8.exe", "CVE-2013-3900");
}

/* A copy of signed file FROM as NAME with N bytes of FILL appended. */
static void
append(const char *from, const char *name, size_t n, unsigned char fill)
{
	unsigned char *buf, *out;
	size_t len;
	char p[256];

	path(p, sizeof(p), from);
	buf = slurp(p, &len);
	assert_non_null(out = malloc(len + n));
	memcpy(out, buf, len);
	memset(out + len, fill, n);
	path(p, sizeof(p), name);
	spit(p, out, len + n);
	free(buf);
	free(out);
}

/* The signed CAB with N bytes of FILL after its PKCS#7 blob, the
 * signature size in the header grown to cover them, as NAME. */
static void
pad_cab(const char *name, size_t n, unsigned char fill)
{
	unsigned char *buf, *out;
	size_t len;
	char p[256];

	path(p, sizeof(p), "sha256.cab");
	buf = slurp(p, &len);
	assert_int_equal(get32(buf + 0x2c) + get32(buf + 0x30), len);
	assert_non_null(out = malloc(len + n));
	memcpy(out, buf, len);
	memset(out + len, fill, n);
	put32(out + 0x30, get32(buf + 0x30) + (uint32_t)n);
	path(p, sizeof(p), name);
	spit(p, out, len + n);
	free(buf);
	free(out);
}

static void
test_cab_padding(void **state)
{
	struct wsd_err err = { 0, NULL };
	unsigned char *buf;
	uint32_t off, size;
	size_t len;
	char p[256];

	(void)state;
	pad_cab("padded.cab", 16, 'X');
	verify_refused("padded.cab", "signature area");
	pad_cab("zeros8.cab", 8, 0);
	verify_refused("zeros8.cab", "signature area");
	/* Header bytes osslsigncode leaves out of the digest. */
	{
		static const size_t at[] = { 0x22, 0x23, 0x34, 0x37 };

		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			unsigned char *b;
			size_t n;
			char q[256];

			path(q, sizeof(q), "sha256.cab");
			b = slurp(q, &n);
			b[at[i]] = 0x41;
			path(q, sizeof(q), "hdr.cab");
			spit(q, b, n);
			free(b);
			verify_refused("hdr.cab", "unsigned bytes set in the CAB");
		}
	}
	/* The parser: the signature must follow the cabinet and end the
	 * file; the area may end with up to 7 zeros. */
	path(p, sizeof(p), "sha256.cab");
	buf = slurp(p, &len);
	assert_int_equal(sign_policy_cab_locate(buf, len, len, &off, &size,
			     &err), 1);
	assert_int_equal(sign_policy_cab_sig(buf + off, size, &err), 0);
	assert_true(sign_policy_cab_locate(buf, len, len + 1, &off, &size,
			&err) < 0);
	put32(buf + 8, get32(buf + 8) - 1); /* a byte between the two */
	assert_true(sign_policy_cab_locate(buf, len, len, &off, &size,
			&err) < 0);
	assert_non_null(strstr(err.what, "does not follow the cabinet"));
	put16(buf + 0x1e, 0); /* no reserve */
	assert_true(sign_policy_cab_locate(buf, len, len, &off, &size,
			&err) < 0);
	assert_int_equal(sign_policy_cab_locate((const unsigned char *)"MZ",
			     2, 2, &off, &size, &err), 0);
	{
		static const unsigned char seq[] = { 0x30, 3, 2, 1, 0, 0, 0 };

		assert_int_equal(sign_policy_cab_sig(seq, sizeof(seq), &err),
		    0);
		assert_true(sign_policy_cab_sig(seq, 4, &err) < 0);
	}
	free(buf);
}

/* osslsigncode also verifies PowerShell scripts, where lines after the
 * signature block are covered by nothing: only PE, CAB and MSI pass. */
static void
test_other_formats_refused(void **state)
{
	(void)state;
	{
		unsigned char *b;
		size_t n;
		char q[256];
		static const char more[] = "Remove-Item C:\\x\r\n";

		path(q, sizeof(q), "sha256.ps1");
		b = slurp(q, &n);
		assert_non_null(b = realloc(b, n + sizeof(more) - 1));
		memcpy(b + n, more, sizeof(more) - 1);
		path(q, sizeof(q), "appended.ps1");
		spit(q, b, n + sizeof(more) - 1);
		free(b);
	}
	verify_refused("appended.ps1", "not a PE, CAB or MSI");
	verify_refused("sha256.ps1", "not a PE, CAB or MSI");
}

static void
test_msi_appended(void **state)
{
	(void)state;
	verify_ok("sha256.msi");
	/* GlueBall: osslsigncode verifies an MSI with anything after it. */
	append("sha256.msi", "appended.msi", 22, 'J');
	verify_refused("appended.msi", "CVE-2020-1464");
	/* A whole sector of anything else is no better... */
	append("sha256.msi", "sector.msi", 512, 'J');
	verify_refused("sector.msi", "CVE-2020-1464");
	/* ...but free sectors of zeros after the last stream are what a
	 * writer that deleted a stream leaves. */
	append("sha256.msi", "zeros.msi", 1024, 0);
	verify_ok("zeros.msi");
	/* Nor one the FAT marks used (a one-sector chain) that no stream
	 * owns: the file then ends with its last used sector. */
	{
		unsigned char *buf;
		size_t len;
		char p[256];
		uint32_t id, fat0;

		path(p, sizeof(p), "zeros.msi");
		buf = slurp(p, &len);
		id = (uint32_t)(len / 512) - 3; /* the first zero sector */
		fat0 = get32(buf + 0x4c);
		assert_true(id < 128 && get32(buf + 0x2c) == 1);
		assert_int_equal(get32(buf + (fat0 + 1) * 512 + 4 * id),
		    0xffffffffu);
		put32(buf + (fat0 + 1) * 512 + 4 * id, 0xfffffffeu);
		path(p, sizeof(p), "orphan.msi");
		spit(p, buf, len);
		free(buf);
		verify_refused("orphan.msi", "no stream owns");
	}
}

/*
 * Data hidden where osslsigncode's MSI digest does not look, each as NAME
 * from sha256.msi: a sector of 'J' appended and linked onto the end of
 * the root entry's chain (the mini stream, longer than the root's size
 * says), or a stream entry outside the directory tree.
 */
static void
msi_hide(const char *name, bool unlinked)
{
	unsigned char *b;
	size_t n;
	char q[256];
	uint32_t fat0, dir0, root, last, id;

	path(q, sizeof(q), "sha256.msi");
	b = slurp(q, &n);
	assert_int_equal(get32(b + 0x2c), 1); /* one FAT sector */
	fat0 = get32(b + 0x4c);
	dir0 = get32(b + 0x30);
	root = (dir0 + 1) * 512;
	assert_int_equal(b[root + 0x42], 5);
	if (unlinked) {
		/* An unused entry of the directory. */
		size_t e = 0;

		for (uint32_t s = dir0; s != 0xfffffffeu && e == 0;
		     s = get32(b + (fat0 + 1) * 512 + 4 * s))
			for (size_t i = 0; i < 4 && e == 0; i++)
				if (b[(s + 1) * 512 + i * 128 + 0x42] == 0)
					e = (s + 1) * 512 + i * 128;
		assert_true(e != 0);
		memcpy(b + e, "X\0", 2);
		put16(b + e + 0x40, 4);
		b[e + 0x42] = 2;
		path(q, sizeof(q), name);
		spit(q, b, n);
		free(b);
		return;
	}
	assert_non_null(b = realloc(b, n + 512));
	memset(b + n, 'J', 512);
	id = (uint32_t)(n / 512) - 1;
	assert_true(id < 128);
	for (last = get32(b + root + 0x74);
	     get32(b + (fat0 + 1) * 512 + 4 * last) != 0xfffffffeu;)
		last = get32(b + (fat0 + 1) * 512 + 4 * last);
	put32(b + (fat0 + 1) * 512 + 4 * last, id);
	put32(b + (fat0 + 1) * 512 + 4 * id, 0xfffffffeu);
	path(q, sizeof(q), name);
	spit(q, b, n + 512);
	free(b);
}

static const char sig_entry[] = "\x05\0D\0i\0g\0i\0t\0a\0l\0S\0i\0g\0n\0"
				"a\0t\0u\0r\0e\0\0\0";
static const char dse_entry[] = "\x05\0M\0s\0i\0D\0i\0g\0i\0t\0a\0l\0"
				"S\0i\0g\0n\0a\0t\0u\0r\0e\0E\0x\0\0\0";

/* The file offset of directory entry I of B (one FAT sector), or
 * SIZE_MAX past the directory's chain. */
static size_t
dirent_at(const unsigned char *b, uint32_t i)
{
	uint32_t fat0 = get32(b + 0x4c), s = get32(b + 0x30);

	for (uint32_t k = 0; k < i / 4 && s < 128; k++)
		s = get32(b + (fat0 + 1) * 512 + 4 * s);
	return s < 128 ? (s + 1) * 512 + (i % 4) * 128 : SIZE_MAX;
}

/* The first entry from FROM that MATCH accepts (its index in *I when I
 * is set), or 0. */
static size_t
dirent_find(const unsigned char *b, size_t n, uint32_t from,
    bool (*match)(const unsigned char *d, const void *arg), const void *arg,
    uint32_t *i)
{
	for (uint32_t k = from; k < 64; k++) {
		size_t e = dirent_at(b, k);

		if (e == SIZE_MAX || e + 128 > n)
			break;
		if (match(b + e, arg)) {
			if (i != NULL)
				*i = k;
			return e;
		}
	}
	return 0;
}

static bool
is_unused(const unsigned char *d, const void *arg)
{
	(void)arg;
	return d[0x42] == 0;
}

/* ARG: the name, UTF-16LE with its NUL, as a NUL-terminated-twice
 * string literal (sig_entry, dse_entry). */
static bool
is_named(const unsigned char *d, const void *arg)
{
	const char *name = arg;
	size_t len = 0;

	while (name[len] != 0 || name[len + 1] != 0)
		len += 2;
	len += 2;
	return get32(d + 0x40) % 65536 == len && memcmp(d, name, len) == 0;
}

/* A stream in the mini stream whose last mini sector has room. */
static bool
is_small_partial(const unsigned char *d, const void *arg)
{
	(void)arg;
	return d[0x42] == 2 && get32(d + 0x78) % 64 != 0 &&
	    get32(d + 0x78) < 4096;
}

/* SHA256.MSI as NAME with its DigitalSignature stream 16 bytes longer
 * (zeros from its last mini sector): osslsigncode reads the PKCS#7 blob
 * and ignores what follows. */
static void
msi_sig_longer(const char *name)
{
	unsigned char *b;
	size_t n, e;
	char q[256];
	uint32_t size;

	path(q, sizeof(q), "sha256.msi");
	b = slurp(q, &n);
	assert_int_equal(get32(b + 0x2c), 1);
	e = dirent_find(b, n, 0, is_named, sig_entry, NULL);
	assert_true(e != 0);
	size = get32(b + e + 0x78);
	/* In the mini stream, with room in its last 64-byte sector. */
	assert_true(size < 4096 && size % 64 != 0 && 64 - size % 64 >= 16);
	put32(b + e + 0x78, size + 16);
	path(q, sizeof(q), name);
	spit(q, b, n);
	free(b);
}

static void
test_msi_hidden(void **state)
{
	(void)state;
	msi_sig_longer("siglong.msi");
	verify_refused("siglong.msi", "DigitalSignature stream");
	msi_hide("tail.msi", false);
	verify_refused("tail.msi", "not the length of the stream");
	msi_hide("unlinked.msi", true);
	verify_refused("unlinked.msi", "outside the MSI's tree");
}

/* Directory entry E of B made a lone black entry: NAME (LEN bytes, NUL
 * included), TYPE (1 storage, 2 stream), CHILD, START sector, SIZE. */
static void
set_entry(unsigned char *b, size_t e, const char *name, size_t len,
    unsigned char type, uint32_t child, uint32_t start, uint32_t size)
{
	memset(b + e, 0, 128);
	memcpy(b + e, name, len);
	put16(b + e + 0x40, (uint16_t)len);
	b[e + 0x42] = type;
	b[e + 0x43] = 1;
	put32(b + e + 0x44, 0xffffffffu);
	put32(b + e + 0x48, 0xffffffffu);
	put32(b + e + 0x4c, child);
	put32(b + e + 0x74, start);
	put32(b + e + 0x78, size);
}

/* The file offset of mini sector K of B (the root's chain holds the
 * mini stream; one FAT sector). */
static size_t
mini_at(const unsigned char *b, uint32_t k)
{
	uint32_t fat0 = get32(b + 0x4c), off = k * 64;
	uint32_t s = get32(b + dirent_at(b, 0) + 0x74);

	for (uint32_t i = 0; i < off / 512; i++)
		s = get32(b + (fat0 + 1) * 512 + 4 * s);
	return (s + 1) * 512 + off % 512;
}

/* DSE.MSI as NAME with one bit of its MsiDigitalSignatureEx stream (in
 * the mini stream) flipped: osslsigncode prints the mismatch and still
 * says the signature verifies. */
static void
msi_dse_flip(const char *name)
{
	unsigned char *b;
	size_t n, e;
	char q[256];

	path(q, sizeof(q), "dse.msi");
	b = slurp(q, &n);
	assert_int_equal(get32(b + 0x2c), 1);
	e = dirent_find(b, n, 0, is_named, dse_entry, NULL);
	assert_true(e != 0);
	assert_int_equal(get32(b + e + 0x78), 32); /* SHA-256 */
	b[mini_at(b, get32(b + e + 0x74)) + 5] ^= 1;
	path(q, sizeof(q), name);
	spit(q, b, n);
	free(b);
}

/*
 * T.MSI (unsigned) with a storage "S" holding a stream named
 * MsiDigitalSignatureEx, hung off the root's tree, then signed as
 * NAME: osslsigncode leaves such a stream out of the digest at any depth,
 * so whatever it held would be signed by nothing.
 */
static void
msi_nested_dse(const char *name)
{
	unsigned char *b;
	size_t n, st = 0, ds = 0, hook = 0;
	char q[256], out[256];
	uint32_t ist = 0, ids = 0, root_child;

	path(q, sizeof(q), "t.msi");
	b = slurp(q, &n);
	st = dirent_find(b, n, 1, is_unused, NULL, &ist);
	assert_true(st != 0);
	ds = dirent_find(b, n, ist + 1, is_unused, NULL, &ids);
	assert_true(ds != 0);
	set_entry(b, st, "S\0\0\0", 4, 1, ids, 0, 0);
	set_entry(b, ds, dse_entry, sizeof(dse_entry) - 1, 2, 0xffffffffu,
	    0xfffffffeu, 0);
	/* A free left or right link in the root's children. */
	root_child = get32(b + dirent_at(b, 0) + 0x4c);
	for (uint32_t i = root_child; hook == 0;) {
		size_t e = dirent_at(b, i);

		if (get32(b + e + 0x44) == 0xffffffffu)
			hook = e + 0x44;
		else if (get32(b + e + 0x48) == 0xffffffffu)
			hook = e + 0x48;
		else
			i = get32(b + e + 0x48);
	}
	put32(b + hook, ist);
	path(q, sizeof(q), "nested-unsigned.msi");
	spit(q, b, n);
	free(b);
	path(out, sizeof(out), name);
	osslsign("sha256", q, out);
}

/* SHA256.MSI as NAME with an unused directory entry made a 4 KiB stream
 * "X" of 'J' (appended sectors) and hung as the root entry's left
 * sibling: osslsigncode sees no parent for it, so neither its digest
 * nor a pre-hash would cover it. */
static void
msi_root_sibling(const char *name)
{
	unsigned char *b;
	size_t n, e = 0;
	char q[256];
	uint32_t fat0, first, i = 0;

	path(q, sizeof(q), "sha256.msi");
	b = slurp(q, &n);
	assert_int_equal(get32(b + 0x2c), 1);
	fat0 = get32(b + 0x4c);
	e = dirent_find(b, n, 1, is_unused, NULL, &i);
	assert_true(e != 0);
	/* Eight sectors of 'J' at the end, chained. */
	assert_non_null(b = realloc(b, n + 8 * 512));
	memset(b + n, 'J', 8 * 512);
	first = (uint32_t)(n / 512) - 1;
	assert_true(first + 8 < 128);
	for (uint32_t k = 0; k < 8; k++)
		put32(b + (fat0 + 1) * 512 + 4 * (first + k),
		    k == 7 ? 0xfffffffeu : first + k + 1);
	set_entry(b, e, "X\0\0\0", 4, 2, 0xffffffffu, first, 8 * 512);
	put32(b + dirent_at(b, 0) + 0x44, i);
	path(q, sizeof(q), name);
	spit(q, b, n + 8 * 512);
	free(b);
}

/*
 * SHA256.MSI with bytes where its mini stream has room but no stream
 * reads them, each as NAME: after the 8 bytes of the first small stream
 * in its mini sector (TAIL false), or in a mini sector the root's size
 * is grown over, past the last one in use (TAIL true).
 */
static void
msi_mini_hide(const char *name, bool tail)
{
	unsigned char *b;
	size_t n, root;
	char q[256];
	uint32_t mf, size, k;

	path(q, sizeof(q), "sha256.msi");
	b = slurp(q, &n);
	assert_int_equal(get32(b + 0x2c), 1);
	root = dirent_at(b, 0);
	size = get32(b + root + 0x78);
	if (!tail) {
		size_t e = dirent_find(b, n, 1, is_small_partial, NULL, NULL);

		assert_true(e != 0);
		k = get32(b + e + 0x74);
		while (get32(b + (get32(b + 0x3c) + 1) * 512 + 4 * k) !=
		    0xfffffffeu)
			k = get32(b + (get32(b + 0x3c) + 1) * 512 + 4 * k);
		memset(b + mini_at(b, k) + get32(b + e + 0x78) % 64, 'J',
		    64 - get32(b + e + 0x78) % 64);
	} else {
		/* Room in the root's last sector for one more. */
		assert_true(size % 512 != 0);
		k = size / 64;
		put32(b + root + 0x78, size + 64);
		mf = get32(b + 0x3c);
		put32(b + (mf + 1) * 512 + 4 * k, 0xffffffffu);
		memset(b + mini_at(b, k), 'J', 64);
	}
	path(q, sizeof(q), name);
	spit(q, b, n);
	free(b);
}

static void
test_msi_mini(void **state)
{
	(void)state;
	msi_mini_hide("minislack.msi", false);
	verify_refused("minislack.msi", "after a stream's end in the MSI's "
					"mini stream");
	msi_mini_hide("minitail.msi", true);
	verify_refused("minitail.msi", "at the end of the MSI's mini stream");
}

static void
test_msi_dse(void **state)
{
	(void)state;
	verify_ok("dse.msi");
	msi_dse_flip("dse-flipped.msi");
	verify_refused("dse-flipped.msi", "does not match its metadata");
	msi_nested_dse("nested.msi");
	verify_refused("nested.msi", "not once in its root storage");
	msi_root_sibling("rootsib.msi");
	verify_refused("rootsib.msi", "root entry has siblings");
}

struct mem {
	const unsigned char *p;
	size_t n;
};

static int
mem_read(void *ctx, uint64_t off, void *buf, size_t n)
{
	const struct mem *m = ctx;

	if (off > m->n || n > m->n - off)
		return -1;
	memcpy(buf, m->p + off, n);
	return 0;
}

static void
test_cfb_parser(void **state)
{
	struct wsd_err err = { 0, NULL };
	unsigned char *buf, *copy;
	struct mem m;
	size_t len;
	char p[256];

	(void)state;
	path(p, sizeof(p), "sha256.msi");
	buf = slurp(p, &len);
	m = (struct mem){ buf, len };
	assert_int_equal(sign_policy_cfb_end(mem_read, &m, len, &err), 0);
	/* Shorter than its FAT says. */
	assert_true(sign_policy_cfb_end(mem_read, &m, len - 512, &err) < 0);
	assert_non_null(strstr(err.what, "compound file"));
	/* Not a compound file. */
	m = (struct mem){ (const unsigned char *)"MSCF", 4 };
	assert_int_equal(sign_policy_cfb_end(mem_read, &m, 4, &err), 1);
	assert_non_null(copy = malloc(len));
	memcpy(copy, buf, len);
	m = (struct mem){ copy, len };
	/* A FAT sector outside the file; a FAT bigger than the file; an
	 * unknown version. */
	put32(copy + 0x4c, 0x7ffffff0);
	assert_true(sign_policy_cfb_end(mem_read, &m, len, &err) < 0);
	memcpy(copy, buf, len);
	put32(copy + 0x2c, 0x10000);
	assert_true(sign_policy_cfb_end(mem_read, &m, len, &err) < 0);
	memcpy(copy, buf, len);
	put16(copy + 0x1a, 5);
	assert_true(sign_policy_cfb_end(mem_read, &m, len, &err) < 0);
	/* A stream named "\x05" without its NUL: osslsigncode would take
	 * it for a signature stream and leave it out of its digest. */
	{
		uint32_t dir = (get32(buf + 0x30) + 1) * 512;
		size_t e = 0;

		for (size_t i = 1; i < 4 && e == 0; i++)
			if (copy[dir + i * 128 + 0x42] == 2)
				e = dir + i * 128;
		assert_true(e != 0);
		memcpy(copy, buf, len);
		copy[e] = 5;
		copy[e + 1] = 0;
		put16(copy + e + 0x40, 2);
		assert_true(sign_policy_cfb_end(mem_read, &m, len, &err) < 0);
		assert_non_null(strstr(err.what, "name"));
	}
	/* More FAT sectors than the header names, and a DIFAT chain that
	 * points at itself: refused, not followed for ever. */
	memcpy(copy, buf, len);
	put32(copy + 0x2c, 2);
	put32(copy + 0x44, 0);
	put32(copy + 0x48, 0xffffffff);
	assert_true(sign_policy_cfb_end(mem_read, &m, len, &err) < 0);
	free(copy);
	free(buf);
}

static void
test_pe_table_parser(void **state)
{
	struct wsd_err err = { 0, NULL };
	unsigned char *buf, tab[64];
	size_t len;
	char p[256];
	uint32_t off, size;

	(void)state;
	path(p, sizeof(p), "sha256.exe");
	buf = slurp(p, &len);
	assert_int_equal(sign_policy_pe_locate(buf, SIGN_PE_HEADER_MAX < len ?
		    SIGN_PE_HEADER_MAX : len, len, &off, &size, &err), 1);
	assert_int_equal(off + size, len);
	assert_int_equal(sign_policy_pe_table(buf + off, size, &err), 0);
	/* A 5-byte DER blob (SEQUENCE { INTEGER 0 }): 13 bytes of entry,
	 * aligned to 16 with zeros, inside dwLength or after it. */
	{
		static const unsigned char seq[] = { 0x30, 3, 2, 1, 0 };
		unsigned char t[32] = { 0 };

		put16(t + 4, 0x200);
		put16(t + 6, 2);
		memcpy(t + 8, seq, sizeof(seq));
		put32(t, 13);
		assert_int_equal(sign_policy_pe_table(t, 16, &err), 0);
		put32(t, 16);
		assert_int_equal(sign_policy_pe_table(t, 16, &err), 0);
		t[14] = 1; /* not zero */
		assert_true(sign_policy_pe_table(t, 16, &err) < 0);
		assert_non_null(strstr(err.what, "CVE-2013-3900"));
		t[14] = 0;
		/* A second entry after the first. */
		put32(t, 13);
		put32(t + 16, 16);
		put16(t + 20, 0x200);
		put16(t + 22, 2);
		memcpy(t + 24, seq, sizeof(seq));
		assert_true(sign_policy_pe_table(t, 32, &err) < 0);
		assert_non_null(strstr(err.what, "more than one"));
	}
	/* Not a PE file at all; MZ without PE; the table not at the end. */
	assert_int_equal(sign_policy_pe_locate((const unsigned char *)"MSCF",
			     4, 4, &off, &size, &err), 0);
	memset(tab, 0, sizeof(tab));
	tab[0] = 'M';
	tab[1] = 'Z';
	put32(tab + 0x3c, 0x7fffffff);
	assert_true(sign_policy_pe_locate(tab, sizeof(tab), 4096, &off, &size,
			&err) < 0);
	assert_true(sign_policy_pe_locate(buf, 1024, len + 1, &off, &size,
			&err) < 0);
	assert_non_null(strstr(err.what, "does not end the file"));
	/* Entries that are not a PKCS#7 signature. */
	memset(tab, 0, sizeof(tab));
	put32(tab, 16);
	put16(tab + 4, 0x200);
	put16(tab + 6, 1); /* X.509, not PKCS_SIGNED_DATA */
	assert_true(sign_policy_pe_table(tab, 16, &err) < 0);
	put16(tab + 6, 2);
	tab[8] = 0x30;
	tab[9] = 0x7f; /* claims more than the entry holds */
	assert_true(sign_policy_pe_table(tab, 16, &err) < 0);
	put32(tab, 4); /* shorter than its own header */
	assert_true(sign_policy_pe_table(tab, 16, &err) < 0);
	free(buf);
}

static void
test_digests_parser(void **state)
{
	struct wsd_err err = { 0, NULL };
	unsigned char *der, *more;
	size_t len;
	char p[256];

	(void)state;
	path(p, sizeof(p), "sha256.der");
	{
		char in[256];

		path(in, sizeof(in), "sha256.exe");
		sh("osslsigncode extract-signature -in %s -out %s >/dev/null "
		   "2>&1",
		    in, p);
	}
	der = slurp(p, &len);
	assert_int_equal(sign_policy_digests(der, len, &err), 0);
	/* A byte after it, a truncated one, and no DER at all. */
	assert_non_null(more = malloc(len + 1));
	memcpy(more, der, len);
	more[len] = 0;
	assert_true(sign_policy_digests(more, len + 1, &err) < 0);
	assert_non_null(strstr(err.what, "follows"));
	assert_true(sign_policy_digests(der, len / 2, &err) < 0);
	assert_true(sign_policy_digests((const unsigned char *)"xyz", 3,
			&err) < 0);
	assert_true(sign_policy_digests(der, 0, &err) < 0);
	free(more);
	free(der);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_accepted),
		cmocka_unit_test(test_sha1_refused),
		cmocka_unit_test(test_pe_padding),
		cmocka_unit_test(test_cab_padding),
		cmocka_unit_test(test_other_formats_refused),
		cmocka_unit_test(test_msi_appended),
		cmocka_unit_test(test_msi_hidden),
		cmocka_unit_test(test_msi_dse),
		cmocka_unit_test(test_msi_mini),
		cmocka_unit_test(test_cfb_parser),
		cmocka_unit_test(test_pe_table_parser),
		cmocka_unit_test(test_digests_parser),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
