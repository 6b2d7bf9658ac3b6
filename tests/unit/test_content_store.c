/*
 * content/content_store: the verified content store, on real files. Each
 * test gets a fresh data directory in one mkdtemp directory; digests of
 * what is expected come from one-shot EVP_Digest calls, not from the
 * store's streaming code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/encode.h"
#include "common/strparse.h"
#include "content/content_store.h"
#include "http/static_file.h"

static char base[] = "/tmp/wsusd-test-content-XXXXXX";
static char datadir[600]; /* this test's data directory */

/* A path below the test's data directory; a few live at once. */
static const char *D(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static const char *
D(const char *fmt, ...)
{
	static char bufs[8][1024];
	static unsigned next;
	char *b = bufs[next++ % 8];
	int n = snprintf(b, sizeof(bufs[0]), "%s/", datadir);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b + n, sizeof(bufs[0]) - (size_t)n, fmt, ap);
	va_end(ap);
	return b;
}

/* A fresh data directory named after the test. */
static void
fresh(const char *name)
{
	snprintf(datadir, sizeof(datadir), "%s/%s", base, name);
	assert_int_equal(mkdir(datadir, 0750), 0);
}

static void
fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 131u + seed + (i >> 9));
}

static void
expect_of(const void *data, size_t n, const char *filename,
    struct content_expect *ce)
{
	memset(ce, 0, sizeof(*ce));
	assert_int_equal(EVP_Digest(data, n, ce->sha1, NULL, EVP_sha1(), NULL),
	    1);
	assert_int_equal(EVP_Digest(data, n, ce->sha256, NULL, EVP_sha256(),
			     NULL),
	    1);
	ce->has_sha256 = true;
	ce->size = n;
	ce->has_size = true;
	ce->filename = filename;
}

static void
put(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	if (n > 0)
		assert_int_equal(write(fd, data, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

/* Whole file into a new buffer (caller frees); *N its size. */
static unsigned char *
slurp(const char *path, size_t *n)
{
	struct stat st;
	unsigned char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size + 1), st.st_size);
	close(fd);
	*n = (size_t)st.st_size;
	return buf;
}

static void
assert_file_is(const char *path, const void *data, size_t n)
{
	size_t got;
	unsigned char *buf = slurp(path, &got);

	assert_int_equal(got, n);
	if (n > 0)
		assert_memory_equal(buf, data, n);
	free(buf);
}

/* Entries of PATH other than . and ..; -1 when it does not exist. */
static int
entries(const char *path)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(path);

	if (d == NULL) {
		assert_int_equal(errno, ENOENT);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* The name of PATH's only entry. */
static const char *
only_entry(const char *path)
{
	static char name[256];
	struct dirent *de;
	DIR *d = opendir(path);

	assert_non_null(d);
	name[0] = '\0';
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			assert_string_equal(name, ""); /* only one */
			snprintf(name, sizeof(name), "%s", de->d_name);
		}
	closedir(d);
	assert_string_not_equal(name, "");
	return name;
}

static bool
exists_nofollow(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* content_store_add_path for NAME in the data directory. */
static int
add_src(const char *name, const struct content_expect *ce,
    struct content_added *out, struct wsd_err *e)
{
	return content_store_add_path(datadir, D("%s", name), ce, out, e);
}

static const char *
final_path(const struct content_expect *ce)
{
	char rel[CONTENT_REL_PATH_MAX];

	assert_int_equal(content_rel_path(ce, rel, sizeof(rel)), 0);
	return D("content/%s", rel);
}

static const char *
xx_path(const struct content_expect *ce)
{
	char rel[CONTENT_REL_PATH_MAX];

	assert_int_equal(content_rel_path(ce, rel, sizeof(rel)), 0);
	rel[2] = '\0';
	return D("content/%s", rel);
}

/* NAME is "<prefix>.<unix-time>.<tag>[-N]" with a plausible time. */
static void
assert_quarantine_name(const char *name, const char *prefix, const char *tag)
{
	size_t pl = strlen(prefix);
	const char *p = name + pl, *dot;
	long long t;
	char *end;

	assert_memory_equal(name, prefix, pl);
	assert_int_equal(*p, '.');
	t = strtoll(p + 1, &end, 10);
	assert_true(t > 1700000000LL && t <= (long long)time(NULL));
	assert_int_equal(*end, '.');
	dot = end + 1;
	assert_memory_equal(dot, tag, strlen(tag));
	assert_true(dot[strlen(tag)] == '\0' || dot[strlen(tag)] == '-');
}

#define BIG (600 * 1024) /* more than one read chunk of the store */

static void
test_rel_path(void **state)
{
	static const struct {
		const char *sha1hex; /* either case */
		const char *filename;
		const char *want; /* NULL: just the hex */
	} cases[] = {
		/* WUSP.md 7, from a capture: AM_Base.exe → AB/...54AB.exe */
		{ "2F88DF42DA48AA980FB748D13BAA2DE49CD154AB", "AM_Base.exe",
		    "AB/2F88DF42DA48AA980FB748D13BAA2DE49CD154AB.exe" },
		{ "2f88df42da48aa980fb748d13baa2de49cd154ab", "update.CAB",
		    "AB/2F88DF42DA48AA980FB748D13BAA2DE49CD154AB.cab" },
		/* Folder from the last two digits, leading zero kept. */
		{ "000000000000000000000000000000000000000a", "x.msu",
		    "0A/000000000000000000000000000000000000000A.msu" },
		{ "ffffffffffffffffffffffffffffffffffffff12", "x.tar.gz",
		    "12/FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF12.gz" },
		{ "ffffffffffffffffffffffffffffffffffffff12", "a.abcdefgh",
		    "12/FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF12.abcdefgh" },
		{ "ffffffffffffffffffffffffffffffffffffff12", "x.Cab1",
		    "12/FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF12.cab1" },
		{ "ffffffffffffffffffffffffffffffffffffff12", ".cab",
		    "12/FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF12.cab" },
		{ "ffffffffffffffffffffffffffffffffffffff12",
		    "dir\\sub.x\\f.MSU",
		    "12/FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF12.msu" },
		/* No extension. */
		{ "ffffffffffffffffffffffffffffffffffffff12", "README", NULL },
		{ "ffffffffffffffffffffffffffffffffffffff12", NULL, NULL },
		{ "ffffffffffffffffffffffffffffffffffffff12", "", NULL },
		{ "ffffffffffffffffffffffffffffffffffffff12", "a.", NULL },
		{ "ffffffffffffffffffffffffffffffffffffff12", "a.abcdefghi",
		    NULL }, /* 9: too long */
		{ "ffffffffffffffffffffffffffffffffffffff12", "a.c$b", NULL },
		{ "ffffffffffffffffffffffffffffffffffffff12", "a.ca b", NULL },
		{ "ffffffffffffffffffffffffffffffffffffff12", "a.c-b", NULL },
		{ "ffffffffffffffffffffffffffffffffffffff12", "a.\xc3\xa9",
		    NULL },
		{ "ffffffffffffffffffffffffffffffffffffff12", "a.cab/", NULL },
		{ "ffffffffffffffffffffffffffffffffffffff12", "dir.d/file",
		    NULL },
		{ "ffffffffffffffffffffffffffffffffffffff12", "a.cab\\x",
		    NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct content_expect ce = { 0 };
		char want[CONTENT_REL_PATH_MAX], got[CONTENT_REL_PATH_MAX];
		char canon[80], rest[CONTENT_REL_PATH_MAX + 1];
		size_t len;

		assert_int_equal(hex_decode(cases[i].sha1hex, 40, ce.sha1, 20),
		    0);
		ce.filename = cases[i].filename;
		if (cases[i].want != NULL)
			snprintf(want, sizeof(want), "%s", cases[i].want);
		else
			snprintf(want, sizeof(want), "12/%s",
			    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF12");
		assert_int_equal(content_rel_path(&ce, got, sizeof(got)), 0);
		assert_string_equal(got, want);
		/* The HTTP side serves exactly that name. */
		snprintf(rest, sizeof(rest), "/%s", got);
		assert_int_equal(static_file_canon(sv_from_cstr(rest), canon,
				     sizeof(canon)),
		    0);
		assert_string_equal(canon, got);
		/* Buffer: exactly enough, one short. */
		len = strlen(want);
		assert_int_equal(content_rel_path(&ce, got, len + 1), 0);
		assert_int_equal(content_rel_path(&ce, got, len), WSD_ETOOBIG);
	}
}

static void
test_hash_fd(void **state)
{
	static const char *abc_sha1 =
	    "A9993E364706816ABA3E25717850C26C9CD0D89D";
	static const char *abc_sha256 =
	    "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
	struct content_hashes h;
	struct content_expect ce;
	struct wsd_err e = { 0 };
	unsigned char *big = malloc(BIG);
	char hex[65];
	int fd;

	(void)state;
	assert_non_null(big);
	fresh("hash");
	put(D("abc"), "abc", 3);
	fd = open(D("abc"), O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(content_hash_fd(fd, 3, &h, &e), 0);
	assert_int_equal(h.size, 3);
	hex_encode_upper(h.sha1, 20, hex);
	assert_string_equal(hex, abc_sha1);
	hex_encode_upper(h.sha256, 32, hex);
	assert_string_equal(hex, abc_sha256);
	/* One byte over the bound. */
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(content_hash_fd(fd, 2, &h, &e), WSD_ETOOBIG);
	assert_string_equal(e.what, "file too large");
	/* From the current offset. */
	assert_int_equal(lseek(fd, 1, SEEK_SET), 1);
	assert_int_equal(content_hash_fd(fd, 100, &h, &e), 0);
	assert_int_equal(h.size, 2);
	expect_of("bc", 2, NULL, &ce);
	assert_memory_equal(h.sha1, ce.sha1, 20);
	close(fd);

	/* Several chunks, against the one-shot digests. */
	fill(big, BIG, 3);
	put(D("big"), big, BIG);
	expect_of(big, BIG, NULL, &ce);
	fd = open(D("big"), O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(content_hash_fd(fd, BIG, &h, &e), 0);
	assert_int_equal(h.size, BIG);
	assert_memory_equal(h.sha1, ce.sha1, 20);
	assert_memory_equal(h.sha256, ce.sha256, 32);
	close(fd);
	free(big);
}

static void
test_add_good(void **state)
{
	struct content_added out;
	struct content_expect ce;
	struct wsd_err e = { 0 };
	struct stat st;
	unsigned char *data = malloc(BIG);
	char canon[80], rest[CONTENT_REL_PATH_MAX + 1], rel[64];

	(void)state;
	assert_non_null(data);
	fresh("good");
	fill(data, BIG, 1);
	put(D("src.CAB"), data, BIG);
	expect_of(data, BIG, "Windows10.0-KB5000001-x64.CAB", &ce);
	assert_int_equal(add_src("src.CAB", &ce, &out, &e), 0);
	assert_false(out.already);
	assert_false(out.replaced);
	assert_int_equal(content_rel_path(&ce, rel, sizeof(rel)), 0);
	assert_string_equal(out.rel_path, rel);
	assert_int_equal(strlen(rel), 3 + 40 + 4);
	assert_string_equal(rel + 43, ".cab");
	assert_string_equal(out.quarantine_path, "");
	assert_int_equal(out.hashes.size, BIG);
	assert_memory_equal(out.hashes.sha1, ce.sha1, 20);
	assert_memory_equal(out.hashes.sha256, ce.sha256, 32);

	assert_int_equal(lstat(final_path(&ce), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0440);
	assert_file_is(final_path(&ce), data, BIG);
	/* Directories 0750 (the umask is 022 here). */
	assert_int_equal(lstat(xx_path(&ce), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(lstat(D("content/.tmp"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	/* Nothing else: the one file, no temporary, no quarantine. */
	assert_int_equal(entries(xx_path(&ce)), 1);
	assert_int_equal(entries(D("content/.tmp")), 0);
	assert_int_equal(entries(D("content")), 2); /* XX and .tmp */
	assert_int_equal(entries(D("quarantine")), -1);
	/* Servable as it is. */
	snprintf(rest, sizeof(rest), "/%s", out.rel_path);
	assert_int_equal(static_file_canon(sv_from_cstr(rest), canon,
			     sizeof(canon)),
	    0);
	assert_string_equal(canon, out.rel_path);
	/* And it verifies. */
	{
		struct content_verified v;

		assert_int_equal(content_store_verify(datadir, &ce, true, &v,
				     &e),
		    0);
		assert_int_equal(v.hashes.size, BIG);
		assert_memory_equal(v.hashes.sha256, ce.sha256, 32);
		assert_string_equal(v.quarantine_path, "");
	}
	free(data);
}

/* Modes are exact whatever the umask: 0750 directories, 0440 files. */
static void
test_modes_whatever_umask(void **state)
{
	static const mode_t masks[] = { 077, 0 };
	struct content_added out;
	struct content_expect ce;
	struct wsd_err e = { 0 };
	unsigned char data[300];
	const char *dirs[] = { "content", "content/.tmp", "quarantine" };
	struct stat st;

	(void)state;
	for (size_t m = 0; m < sizeof(masks) / sizeof(masks[0]); m++) {
		fresh(masks[m] ? "umask077" : "umask0");
		fill(data, sizeof(data), 20);
		put(D("src"), data, sizeof(data));
		expect_of(data, sizeof(data), "u.cab", &ce);
		umask(masks[m]);
		ce.sha1[0] ^= 1;
		assert_int_equal(add_src("src", &ce, &out, &e), WSD_EINVAL);
		ce.sha1[0] ^= 1;
		assert_int_equal(add_src("src", &ce, &out, &e), 0);
		umask(022);
		for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
			assert_int_equal(lstat(D("%s", dirs[i]), &st), 0);
			assert_int_equal(st.st_mode & 07777, 0750);
		}
		assert_int_equal(lstat(xx_path(&ce), &st), 0);
		assert_int_equal(st.st_mode & 07777, 0750);
		assert_int_equal(lstat(final_path(&ce), &st), 0);
		assert_int_equal(st.st_mode & 07777, 0440);
		assert_int_equal(lstat(D("quarantine/%s",
					   only_entry(D("quarantine"))),
				     &st),
		    0);
		assert_int_equal(st.st_mode & 07777, 0440);
	}
}

static void
test_add_idempotent(void **state)
{
	struct content_added out;
	struct content_expect ce;
	struct wsd_err e = { 0 };
	struct stat before, after;
	unsigned char data[5000], other[5000];

	(void)state;
	fresh("idem");
	fill(data, sizeof(data), 2);
	put(D("src"), data, sizeof(data));
	expect_of(data, sizeof(data), "a.exe", &ce);
	assert_int_equal(add_src("src", &ce, &out, &e), 0);
	assert_false(out.already);
	assert_int_equal(lstat(final_path(&ce), &before), 0);

	assert_int_equal(add_src("src", &ce, &out, &e), 0);
	assert_true(out.already);
	assert_false(out.replaced);
	assert_memory_equal(out.hashes.sha1, ce.sha1, 20);
	assert_int_equal(lstat(final_path(&ce), &after), 0);
	assert_int_equal(before.st_ino, after.st_ino); /* not rewritten */
	assert_int_equal(entries(xx_path(&ce)), 1);
	assert_int_equal(entries(D("content/.tmp")), 0);
	assert_int_equal(entries(D("quarantine")), -1);

	/* A verified copy is there, so the source is not even read: even a
	 * wrong one changes nothing. */
	fill(other, sizeof(other), 9);
	put(D("other"), other, sizeof(other));
	assert_int_equal(add_src("other", &ce, &out, &e), 0);
	assert_true(out.already);
	assert_file_is(final_path(&ce), data, sizeof(data));
	assert_int_equal(entries(D("quarantine")), -1);
}

/*
 * Adds DATA under CE (made wrong by the caller) and wants it refused with
 * WHAT, nothing at the content path, and exactly the source's first QN
 * bytes in quarantine under TAG.
 */
static void
refused(const struct content_expect *ce, const unsigned char *data, size_t n,
    size_t qn, const char *what, const char *tag)
{
	struct content_added out;
	struct wsd_err e = { 0 };
	char prefix[64], hex[41];
	const char *q;
	struct stat st;

	put(D("src"), data, n);
	assert_int_equal(add_src("src", ce, &out, &e), WSD_EINVAL);
	assert_int_equal(e.code, WSD_EINVAL);
	assert_string_equal(e.what, what);
	assert_false(out.already);
	assert_false(exists_nofollow(final_path(ce)));
	assert_true(entries(xx_path(ce)) <= 0);
	assert_int_equal(entries(D("content/.tmp")), 0);
	assert_int_equal(entries(D("quarantine")), 1);
	q = only_entry(D("quarantine"));
	hex_encode_upper(ce->sha1, 20, hex);
	snprintf(prefix, sizeof(prefix), "%s.cab", hex);
	assert_quarantine_name(q, prefix, tag);
	assert_string_equal(out.quarantine_path, D("quarantine/%s", q));
	assert_file_is(out.quarantine_path, data, qn);
	assert_int_equal(lstat(out.quarantine_path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0440);
	assert_int_equal(lstat(D("quarantine"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
}

static void
test_add_wrong_sha1(void **state)
{
	struct content_expect ce;
	unsigned char data[3000];

	(void)state;
	fresh("badsha1");
	fill(data, sizeof(data), 4);
	expect_of(data, sizeof(data), "x.Cab", &ce);
	ce.sha1[7] ^= 0x01;
	refused(&ce, data, sizeof(data), sizeof(data), "SHA-1 digest mismatch",
	    "sha1-mismatch");
}

static void
test_add_wrong_sha256(void **state)
{
	struct content_expect ce;
	unsigned char data[3000];

	(void)state;
	fresh("badsha256");
	fill(data, sizeof(data), 5);
	expect_of(data, sizeof(data), "x.cab", &ce);
	ce.sha256[31] ^= 0x80;
	refused(&ce, data, sizeof(data), sizeof(data),
	    "SHA-256 digest mismatch", "sha256-mismatch");
}

static void
test_add_wrong_size(void **state)
{
	struct content_expect ce;
	unsigned char *data = malloc(BIG);

	(void)state;
	assert_non_null(data);
	/* Metadata says one byte less: reading stops at size + 1. */
	fresh("short");
	fill(data, BIG, 6);
	expect_of(data, BIG, "x.cab", &ce);
	ce.size = BIG - 1;
	refused(&ce, data, BIG, BIG, "size mismatch", "size-mismatch");
	/* Much less: only size + 1 bytes are read and kept. */
	fresh("short2");
	ce.size = 10;
	refused(&ce, data, BIG, 11, "size mismatch", "size-mismatch");
	/* More than there is. */
	fresh("long");
	ce.size = BIG + 10;
	refused(&ce, data, BIG, BIG, "size mismatch", "size-mismatch");
	free(data);
}

static void
test_add_sha256_optional(void **state)
{
	struct content_added out;
	struct content_expect ce;
	struct wsd_err e = { 0 };
	unsigned char data[100];

	(void)state;
	fresh("nosha256");
	fill(data, sizeof(data), 7);
	put(D("src"), data, sizeof(data));
	expect_of(data, sizeof(data), "x.cab", &ce);
	/* Older metadata: no AdditionalDigest, and no size either. */
	memset(ce.sha256, 0, sizeof(ce.sha256));
	ce.has_sha256 = false;
	ce.has_size = false;
	assert_int_equal(add_src("src", &ce, &out, &e), 0);
	assert_file_is(final_path(&ce), data, sizeof(data));
	/* ...but SHA-1 is still checked without a size. */
	fresh("nosha256-bad");
	ce.sha1[0] ^= 0x40;
	refused(&ce, data, sizeof(data), sizeof(data), "SHA-1 digest mismatch",
	    "sha1-mismatch");
}

static void
test_two_mismatches_two_names(void **state)
{
	struct content_added out;
	struct content_expect ce;
	struct wsd_err e = { 0 };
	unsigned char data[100];

	(void)state;
	fresh("twice");
	fill(data, sizeof(data), 8);
	put(D("src"), data, sizeof(data));
	expect_of(data, sizeof(data), "x.cab", &ce);
	ce.sha1[3] ^= 1;
	for (int i = 0; i < 3; i++)
		assert_int_equal(add_src("src", &ce, &out, &e), WSD_EINVAL);
	/* Same second most of the time: "-2", "-3" keep all three. */
	assert_int_equal(entries(D("quarantine")), 3);
	assert_false(exists_nofollow(final_path(&ce)));
}

/* Flips one byte of PATH in place (we are root in CI, or own it). */
static void
flip(const char *path, off_t at)
{
	unsigned char c;
	int fd;

	assert_int_equal(chmod(path, 0640), 0);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);
	assert_int_equal(chmod(path, 0440), 0);
}

static void
test_existing_corrupt_replaced(void **state)
{
	struct content_added out;
	struct content_expect ce;
	struct wsd_err e = { 0 };
	unsigned char data[4096], bad[4096];
	char hex[41], prefix[64];
	const char *q;
	struct stat st;

	(void)state;
	fresh("corrupt");
	fill(data, sizeof(data), 10);
	put(D("src"), data, sizeof(data));
	expect_of(data, sizeof(data), "y.msu", &ce);
	assert_int_equal(add_src("src", &ce, &out, &e), 0);
	flip(final_path(&ce), 1000);
	memcpy(bad, data, sizeof(bad));
	bad[1000] ^= 0x20;

	assert_int_equal(add_src("src", &ce, &out, &e), 0);
	assert_false(out.already);
	assert_true(out.replaced);
	assert_string_equal(out.quarantine_path, "");
	assert_file_is(final_path(&ce), data, sizeof(data));
	assert_int_equal(lstat(final_path(&ce), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0440);
	q = only_entry(D("quarantine"));
	hex_encode_upper(ce.sha1, 20, hex);
	snprintf(prefix, sizeof(prefix), "%s.msu", hex);
	assert_quarantine_name(q, prefix, "sha1-mismatch");
	assert_string_equal(out.replaced_path, D("quarantine/%s", q));
	assert_file_is(out.replaced_path, bad, sizeof(bad));
	assert_int_equal(entries(D("content/.tmp")), 0);
}

static void
test_existing_corrupt_and_bad_source(void **state)
{
	struct content_added out;
	struct content_expect ce;
	struct wsd_err e = { 0 };
	unsigned char data[4096], orig[4096];

	(void)state;
	fresh("corrupt2");
	fill(data, sizeof(data), 11);
	memcpy(orig, data, sizeof(orig));
	put(D("src"), data, sizeof(data));
	expect_of(data, sizeof(data), "y.msu", &ce);
	assert_int_equal(add_src("src", &ce, &out, &e), 0);
	/* Stored file truncated, and the new source is wrong too. */
	assert_int_equal(truncate(final_path(&ce), 100), 0);
	data[0] ^= 1;
	put(D("src"), data, sizeof(data));
	assert_int_equal(add_src("src", &ce, &out, &e), WSD_EINVAL);
	assert_string_equal(e.what, "SHA-1 digest mismatch");
	assert_true(out.replaced);
	assert_string_not_equal(out.replaced_path, "");
	assert_string_not_equal(out.quarantine_path, "");
	/* Neither is left at the content path. */
	assert_false(exists_nofollow(final_path(&ce)));
	assert_int_equal(entries(D("quarantine")), 2);
	assert_file_is(out.replaced_path, orig, 100);
	assert_file_is(out.quarantine_path, data, sizeof(data));
}

static void
test_verify(void **state)
{
	struct content_added out;
	struct content_verified v;
	struct content_expect ce, wrong;
	struct wsd_err e = { 0 };
	unsigned char data[9000];
	char hex[41], prefix[64];
	const char *q;

	(void)state;
	/* Nothing at all yet: no content/ directory. */
	fresh("verify");
	fill(data, sizeof(data), 12);
	expect_of(data, sizeof(data), "z.exe", &ce);
	assert_int_equal(content_store_verify(datadir, &ce, true, &v, &e),
	    WSD_ENOTFOUND);

	put(D("src"), data, sizeof(data));
	assert_int_equal(add_src("src", &ce, &out, &e), 0);
	assert_int_equal(content_store_verify(datadir, &ce, true, &v, &e), 0);
	assert_int_equal(v.hashes.size, sizeof(data));
	assert_memory_equal(v.hashes.sha1, ce.sha1, 20);

	/* Expectation differs in SHA-256 only; size only. */
	wrong = ce;
	wrong.sha256[0] ^= 1;
	assert_int_equal(content_store_verify(datadir, &wrong, false, &v, &e),
	    WSD_EINVAL);
	assert_string_equal(e.what, "SHA-256 digest mismatch");
	wrong = ce;
	wrong.size++;
	assert_int_equal(content_store_verify(datadir, &wrong, false, &v, &e),
	    WSD_EINVAL);
	assert_string_equal(e.what, "size mismatch");
	wrong.size -= 2;
	assert_int_equal(content_store_verify(datadir, &wrong, false, &v, &e),
	    WSD_EINVAL);
	assert_string_equal(e.what, "size mismatch");
	assert_string_equal(v.quarantine_path, "");
	assert_file_is(final_path(&ce), data, sizeof(data)); /* untouched */

	/* A flipped byte: reported; without QUARANTINE left in place. */
	flip(final_path(&ce), 4321);
	assert_int_equal(content_store_verify(datadir, &ce, false, &v, &e),
	    WSD_EINVAL);
	assert_string_equal(e.what, "SHA-1 digest mismatch");
	assert_true(exists_nofollow(final_path(&ce)));
	assert_int_equal(entries(D("quarantine")), -1);
	/* With it: moved away, so no longer served. */
	assert_int_equal(content_store_verify(datadir, &ce, true, &v, &e),
	    WSD_EINVAL);
	assert_string_equal(e.what, "SHA-1 digest mismatch");
	assert_false(exists_nofollow(final_path(&ce)));
	q = only_entry(D("quarantine"));
	hex_encode_upper(ce.sha1, 20, hex);
	snprintf(prefix, sizeof(prefix), "%s.exe", hex);
	assert_quarantine_name(q, prefix, "sha1-mismatch");
	assert_string_equal(v.quarantine_path, D("quarantine/%s", q));
	/* Now missing. */
	assert_int_equal(content_store_verify(datadir, &ce, true, &v, &e),
	    WSD_ENOTFOUND);
	/* And a good add brings it back. */
	assert_int_equal(add_src("src", &ce, &out, &e), 0);
	assert_false(out.replaced);
	assert_int_equal(content_store_verify(datadir, &ce, true, &v, &e), 0);
}

static void
test_remove(void **state)
{
	struct content_added out;
	struct content_expect ce;
	struct wsd_err e = { 0 };
	unsigned char data[777];
	uint64_t freed = 99;

	(void)state;
	fresh("remove");
	fill(data, sizeof(data), 13);
	expect_of(data, sizeof(data), "r.cab", &ce);
	assert_int_equal(content_store_remove(datadir, &ce, &freed, &e),
	    WSD_ENOTFOUND);
	assert_int_equal(freed, 0);
	put(D("src"), data, sizeof(data));
	assert_int_equal(add_src("src", &ce, &out, &e), 0);
	assert_int_equal(content_store_remove(datadir, &ce, &freed, &e), 0);
	assert_int_equal(freed, sizeof(data));
	assert_false(exists_nofollow(final_path(&ce)));
	freed = 99;
	assert_int_equal(content_store_remove(datadir, &ce, &freed, &e),
	    WSD_ENOTFOUND);
	assert_int_equal(freed, 0);
	/* The source is the caller's and stays. */
	assert_file_is(D("src"), data, sizeof(data));
}

static void
test_symlink_xx_refused(void **state)
{
	struct content_added out;
	struct content_verified v;
	struct content_expect ce;
	struct wsd_err e = { 0 };
	unsigned char data[500];
	uint64_t freed;
	struct stat st;

	(void)state;
	fresh("linkxx");
	fill(data, sizeof(data), 14);
	put(D("src"), data, sizeof(data));
	expect_of(data, sizeof(data), "l.cab", &ce);
	assert_int_equal(mkdir(D("elsewhere"), 0755), 0);
	assert_int_equal(mkdir(D("content"), 0750), 0);
	assert_int_equal(symlink(D("elsewhere"), xx_path(&ce)), 0);

	assert_int_equal(add_src("src", &ce, &out, &e), WSD_EPERM);
	assert_int_equal(entries(D("elsewhere")), 0); /* not written through */
	assert_int_equal(lstat(xx_path(&ce), &st), 0);
	assert_true(S_ISLNK(st.st_mode)); /* left for the administrator */
	assert_int_equal(content_store_verify(datadir, &ce, true, &v, &e),
	    WSD_EPERM);
	assert_int_equal(content_store_remove(datadir, &ce, &freed, &e),
	    WSD_EPERM);
	assert_int_equal(entries(D("elsewhere")), 0);

	/* content/ itself a link. */
	fresh("linkcontent");
	put(D("src"), data, sizeof(data));
	assert_int_equal(mkdir(D("elsewhere"), 0755), 0);
	assert_int_equal(symlink(D("elsewhere"), D("content")), 0);
	assert_int_equal(add_src("src", &ce, &out, &e), WSD_EPERM);
	assert_int_equal(entries(D("elsewhere")), 0);
}

static void
test_symlink_final_replaced(void **state)
{
	struct content_added out;
	struct content_verified v;
	struct content_expect ce;
	struct wsd_err e = { 0 };
	unsigned char data[500];
	char hex[41], prefix[64];
	struct stat st;
	const char *q;

	(void)state;
	fresh("linkfinal");
	fill(data, sizeof(data), 15);
	put(D("src"), data, sizeof(data));
	expect_of(data, sizeof(data), "l.cab", &ce);
	put(D("precious"), "secret\n", 7);
	assert_int_equal(mkdir(D("content"), 0750), 0);
	assert_int_equal(mkdir(xx_path(&ce), 0750), 0);
	assert_int_equal(symlink(D("precious"), final_path(&ce)), 0);

	/* verify sees a link, not the file behind it. */
	assert_int_equal(content_store_verify(datadir, &ce, false, &v, &e),
	    WSD_EINVAL);
	assert_string_equal(e.what, "not a regular file");

	assert_int_equal(add_src("src", &ce, &out, &e), 0);
	assert_true(out.replaced);
	assert_file_is(D("precious"), "secret\n", 7);
	assert_int_equal(lstat(D("precious"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(lstat(final_path(&ce), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0440);
	assert_file_is(final_path(&ce), data, sizeof(data));
	/* The link itself is the evidence in quarantine. */
	q = only_entry(D("quarantine"));
	hex_encode_upper(ce.sha1, 20, hex);
	snprintf(prefix, sizeof(prefix), "%s.cab", hex);
	assert_quarantine_name(q, prefix, "not-regular");
	assert_int_equal(lstat(D("quarantine/%s", q), &st), 0);
	assert_true(S_ISLNK(st.st_mode));

	/* A link placed after the add: verify quarantines the link. */
	assert_int_equal(unlink(final_path(&ce)), 0);
	assert_int_equal(symlink(D("precious"), final_path(&ce)), 0);
	assert_int_equal(content_store_verify(datadir, &ce, true, &v, &e),
	    WSD_EINVAL);
	assert_false(exists_nofollow(final_path(&ce)));
	assert_int_equal(entries(D("quarantine")), 2);
	assert_file_is(D("precious"), "secret\n", 7);
}

static void
test_source_refused(void **state)
{
	struct content_added out;
	struct content_expect ce;
	struct wsd_err e = { 0 };
	unsigned char data[64];
	time_t t0 = time(NULL);
	int fd;

	(void)state;
	fresh("sources");
	fill(data, sizeof(data), 16);
	expect_of(data, sizeof(data), "s.cab", &ce);
	put(D("good"), data, sizeof(data));

	/* A FIFO with no writer: refused at once, not waited on. */
	assert_int_equal(mkfifo(D("fifo"), 0600), 0);
	assert_int_equal(add_src("fifo", &ce, &out, &e), WSD_EINVAL);
	assert_string_equal(e.what, "not a regular file");
	assert_true(time(NULL) - t0 < 5);
	/* A directory. */
	assert_int_equal(mkdir(D("adir"), 0755), 0);
	assert_int_equal(add_src("adir", &ce, &out, &e), WSD_EINVAL);
	assert_string_equal(e.what, "not a regular file");
	/* A link, even to a good file. */
	assert_int_equal(symlink(D("good"), D("link")), 0);
	assert_int_equal(add_src("link", &ce, &out, &e), WSD_EINVAL);
	/* A character device. */
	assert_int_equal(content_store_add_path(datadir, "/dev/zero", &ce, &out,
			     &e),
	    WSD_EINVAL);
	/* Missing. */
	assert_int_equal(add_src("missing", &ce, &out, &e), WSD_ENOTFOUND);
	/* The fd variant refuses a directory too. */
	fd = open(D("adir"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(content_store_add_fd(datadir, fd, &ce, &out, &e),
	    WSD_EINVAL);
	close(fd);
	/* None of that stored anything. */
	assert_false(exists_nofollow(final_path(&ce)));
	assert_true(entries(D("content")) <= 0);
	assert_int_equal(entries(D("quarantine")), -1);
}

static void
test_zero_length(void **state)
{
	struct content_added out;
	struct content_verified v;
	struct content_expect ce;
	struct wsd_err e = { 0 };
	struct stat st;

	(void)state;
	fresh("empty");
	put(D("src"), "", 0);
	expect_of("", 0, "e.cab", &ce);
	assert_string_equal(final_path(&ce),
	    D("content/09/DA39A3EE5E6B4B0D3255BFEF95601890AFD80709.cab"));
	assert_int_equal(add_src("src", &ce, &out, &e), 0);
	assert_int_equal(out.hashes.size, 0);
	assert_int_equal(lstat(final_path(&ce), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_mode & 07777, 0440);
	assert_int_equal(content_store_verify(datadir, &ce, true, &v, &e), 0);
	/* An empty source for a non-empty expectation: size mismatch. */
	ce.size = 1;
	ce.sha1[19] = 0x42; /* another path */
	assert_int_equal(add_src("src", &ce, &out, &e), WSD_EINVAL);
	assert_string_equal(e.what, "size mismatch");
}

/*
 * While an add reads a pipe, the partial file is only in .tmp/ under a
 * name no content URL reaches, and nothing is at the content path.
 */
struct feeder {
	int wfd;
	const unsigned char *data;
	size_t n, half;
	const char *final;
	/* Findings, asserted by the main thread (cmocka is not threaded). */
	bool saw_tmp, tmp_dot, tmp_unservable, final_absent, tmp_private;
};

/* The one .tmp entry's name once it holds WANT bytes; "" after 5 s. */
static void
wait_tmp(size_t want, char *name, size_t namesz)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	name[0] = '\0';
	for (int i = 0; i < 500; i++) {
		DIR *d = opendir(D("content/.tmp"));
		struct dirent *de;
		struct stat st;

		if (d != NULL) {
			while ((de = readdir(d)) != NULL) {
				if (strcmp(de->d_name, ".") == 0 ||
				    strcmp(de->d_name, "..") == 0)
					continue;
				if (lstat(D("content/.tmp/%s", de->d_name),
					&st) == 0 &&
				    (size_t)st.st_size == want)
					snprintf(name, namesz, "%s",
					    de->d_name);
			}
			closedir(d);
		}
		if (name[0] != '\0')
			return;
		nanosleep(&ts, NULL);
	}
}

static void *
feed(void *arg)
{
	struct feeder *f = arg;
	char name[256], canon[80], rest[300];
	struct stat st;

	if (write(f->wfd, f->data, f->half) != (ssize_t)f->half)
		goto out;
	wait_tmp(f->half, name, sizeof(name));
	if (name[0] != '\0') {
		f->saw_tmp = true;
		f->tmp_dot = name[0] == '.';
		snprintf(rest, sizeof(rest), "/.tmp/%s", name);
		f->tmp_unservable = static_file_canon(sv_from_cstr(rest), canon,
					sizeof(canon)) < 0;
		snprintf(rest, sizeof(rest), "/AB/%s", name);
		f->tmp_unservable = f->tmp_unservable &&
		    static_file_canon(sv_from_cstr(rest), canon,
			sizeof(canon)) < 0;
		f->tmp_private = lstat(D("content/.tmp/%s", name), &st) == 0 &&
		    (st.st_mode & 07777) == 0600;
	}
	f->final_absent = !exists_nofollow(f->final);
	if (write(f->wfd, f->data + f->half, f->n - f->half) !=
	    (ssize_t)(f->n - f->half))
		f->saw_tmp = false;
out:
	close(f->wfd);
	return NULL;
}

static void
test_in_progress_invisible(void **state)
{
	struct content_added out;
	struct content_expect ce;
	struct wsd_err e = { 0 };
	struct feeder f = { 0 };
	unsigned char *data = malloc(BIG);
	pthread_t th;
	int p[2];

	(void)state;
	assert_non_null(data);
	fresh("inprogress");
	fill(data, BIG, 17);
	expect_of(data, BIG, "p.cab", &ce);
	assert_int_equal(pipe(p), 0);
	f.wfd = p[1];
	f.data = data;
	f.n = BIG;
	f.half = BIG / 2;
	f.final = final_path(&ce);
	assert_int_equal(pthread_create(&th, NULL, feed, &f), 0);
	assert_int_equal(content_store_add_fd(datadir, p[0], &ce, &out, &e), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	close(p[0]);
	assert_true(f.saw_tmp);
	assert_true(f.tmp_dot);
	assert_true(f.tmp_unservable);
	assert_true(f.tmp_private);
	assert_true(f.final_absent);
	assert_file_is(final_path(&ce), data, BIG);
	assert_int_equal(entries(D("content/.tmp")), 0);
	free(data);
}

/*
 * kill -9 in the middle of an add: the content path holds nothing, the
 * leftover is in .tmp/ only, and the sweep takes it once it is old.
 */
static void
test_kill9_mid_add(void **state)
{
	struct content_added out;
	struct content_expect ce;
	struct wsd_err e = { 0 };
	struct timespec old[2];
	unsigned char *data = malloc(BIG);
	char name[256];
	unsigned removed = 99;
	int p[2], status;
	pid_t pid;

	(void)state;
	assert_non_null(data);
	fresh("kill9");
	fill(data, BIG, 18);
	expect_of(data, BIG, "k.cab", &ce);
	/* Nothing to sweep yet: no content/ at all. */
	assert_int_equal(content_store_sweep_tmp(datadir, &removed, &e), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[1]);
		_exit(content_store_add_fd(datadir, p[0], &ce, &out, &e) == 0
			? 0
			: 1);
	}
	close(p[0]);
	assert_int_equal(write(p[1], data, BIG / 2), BIG / 2);
	wait_tmp(BIG / 2, name, sizeof(name));
	assert_string_not_equal(name, "");
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	close(p[1]);

	assert_false(exists_nofollow(final_path(&ce)));
	assert_true(entries(xx_path(&ce)) <= 0);
	assert_int_equal(entries(D("content/.tmp")), 1);
	/* Young: kept (it could be a live add). */
	assert_int_equal(content_store_sweep_tmp(datadir, &removed, &e), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(entries(D("content/.tmp")), 1);
	/* Two hours old: swept; a directory there is left alone. */
	assert_int_equal(mkdir(D("content/.tmp/somedir"), 0700), 0);
	old[0].tv_sec = old[1].tv_sec = time(NULL) - 7200;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, D("content/.tmp/%s", name), old,
			     AT_SYMLINK_NOFOLLOW),
	    0);
	assert_int_equal(utimensat(AT_FDCWD, D("content/.tmp/somedir"), old,
			     AT_SYMLINK_NOFOLLOW),
	    0);
	assert_int_equal(content_store_sweep_tmp(datadir, &removed, &e), 0);
	assert_int_equal(removed, 1);
	assert_false(exists_nofollow(D("content/.tmp/%s", name)));
	assert_true(exists_nofollow(D("content/.tmp/somedir")));
	assert_int_equal(rmdir(D("content/.tmp/somedir")), 0);
	/* The retry stores it. */
	put(D("src"), data, BIG);
	assert_int_equal(add_src("src", &ce, &out, &e), 0);
	assert_file_is(final_path(&ce), data, BIG);
	free(data);
}

/*
 * content/ on another file system than DATADIR (a big disk mounted
 * there): quarantine copies instead of renaming. Needs mount(2): root.
 */
static char xdev_mnt[700];

static int
xdev_unmount(void **state)
{
	(void)state;
	if (xdev_mnt[0] != '\0')
		umount2(xdev_mnt, MNT_DETACH);
	xdev_mnt[0] = '\0';
	return 0;
}

static void
test_quarantine_across_mounts(void **state)
{
	struct content_added out;
	struct content_verified v;
	struct content_expect ce;
	struct wsd_err e = { 0 };
	unsigned char data[2000];
	struct stat st;

	(void)state;
	fresh("xdev");
	assert_int_equal(mkdir(D("content"), 0750), 0);
	if (mount("tmpfs", D("content"), "tmpfs", 0, "size=1m,mode=0750") < 0) {
		skip();
		return;
	}
	snprintf(xdev_mnt, sizeof(xdev_mnt), "%s", D("content"));
	fill(data, sizeof(data), 19);
	put(D("src"), data, sizeof(data));
	expect_of(data, sizeof(data), "m.cab", &ce);
	ce.sha256[5] ^= 4;
	assert_int_equal(add_src("src", &ce, &out, &e), WSD_EINVAL);
	assert_string_equal(e.what, "SHA-256 digest mismatch");
	assert_string_not_equal(out.quarantine_path, "");
	assert_file_is(out.quarantine_path, data, sizeof(data));
	assert_int_equal(entries(D("content/.tmp")), 0);

	expect_of(data, sizeof(data), "m.cab", &ce);
	assert_int_equal(add_src("src", &ce, &out, &e), 0);
	flip(final_path(&ce), 3);
	assert_int_equal(content_store_verify(datadir, &ce, true, &v, &e),
	    WSD_EINVAL);
	assert_false(exists_nofollow(final_path(&ce)));
	assert_string_not_equal(v.quarantine_path, "");
	data[3] ^= 0x20;
	assert_file_is(v.quarantine_path, data, sizeof(data));
	assert_int_equal(lstat(v.quarantine_path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0440); /* a copy, not a rename */
	assert_int_equal(entries(D("quarantine")), 2);
}

static int
setup(void **state)
{
	(void)state;
	umask(022);
	signal(SIGPIPE, SIG_IGN);
	return mkdtemp(base) == NULL ? -1 : 0;
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
teardown(void **state)
{
	(void)state;
	return nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rel_path),
		cmocka_unit_test(test_hash_fd),
		cmocka_unit_test(test_add_good),
		cmocka_unit_test(test_modes_whatever_umask),
		cmocka_unit_test(test_add_idempotent),
		cmocka_unit_test(test_add_wrong_sha1),
		cmocka_unit_test(test_add_wrong_sha256),
		cmocka_unit_test(test_add_wrong_size),
		cmocka_unit_test(test_add_sha256_optional),
		cmocka_unit_test(test_two_mismatches_two_names),
		cmocka_unit_test(test_existing_corrupt_replaced),
		cmocka_unit_test(test_existing_corrupt_and_bad_source),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_symlink_xx_refused),
		cmocka_unit_test(test_symlink_final_replaced),
		cmocka_unit_test(test_source_refused),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_in_progress_invisible),
		cmocka_unit_test(test_kill9_mid_add),
		cmocka_unit_test_teardown(test_quarantine_across_mounts,
		    xdev_unmount),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
