/*
 * common/fileio (atomic writes, bounded reads) and common/dnsname (name
 * syntax). Files live in a fresh mkdtemp directory, one subdirectory per
 * test so that "nothing else was left behind" can be checked by listing.
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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "common/dnsname.h"
#include "common/fileio.h"

static char dir[] = "/tmp/wsusd-test-fileio-XXXXXX";
static mode_t saved_umask;

/*
 * fileio names its temporary files with RAND_bytes. This definition takes
 * the place of OpenSSL's in this program (the executable's symbol wins
 * over the shared library's), so a test can predict the next name:
 * fixed_rand >= 0 fills every byte with that value. Otherwise a counter,
 * so that successive names still differ.
 */
static int fixed_rand = -1;
static unsigned rand_counter;

int
RAND_bytes(unsigned char *buf, int num)
{
	for (int i = 0; i < num; i++)
		buf[i] = fixed_rand >= 0
		    ? (unsigned char)fixed_rand
		    : (unsigned char)(rand_counter++ * 37u);
	return 1;
}

/* A path inside the test directory; a few live at once, so rotate. */
static const char *
P(const char *name)
{
	static char bufs[8][512];
	static unsigned next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

/* A new empty subdirectory of the test directory, opened. */
static int
subdir(const char *name)
{
	int fd;

	assert_int_equal(mkdir(P(name), 0755), 0);
	fd = open(P(name), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void
put(int dfd, const char *name, const char *text)
{
	int fd =
	    openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t n = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

/* The whole content of NAME, NUL-terminated, in a static buffer. */
static const char *
get(int dfd, const char *name)
{
	static char buf[4096];
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static mode_t
mode_of(int dfd, const char *name)
{
	struct stat st;

	assert_int_equal(fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_mode;
}

/* Number of entries in DFD: nothing temporary may be left over. */
static int
entries(int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	int n = 0;
	DIR *d;

	assert_true(fd >= 0);
	d = fdopendir(fd);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_write_atomic_ok(void **state)
{
	struct wsd_err e = { 0 };
	int dfd = subdir("ok");

	(void)state;
	umask(077);
	assert_int_equal(fileio_write_atomic(dfd, "f", "hello\n", 6, 0640, NULL,
			     0, &e),
	    0);
	assert_string_equal(get(dfd, "f"), "hello\n");
	assert_true(S_ISREG(mode_of(dfd, "f")));
	/* By path, relative to the working directory's AT_FDCWD. */
	assert_int_equal(fileio_write_atomic(AT_FDCWD, P("ok/g"), "x", 1, 0600,
			     NULL, 0, &e),
	    0);
	assert_string_equal(get(dfd, "g"), "x");
	/* Empty content. */
	assert_int_equal(fileio_write_atomic(dfd, "empty", NULL, 0, 0600, NULL,
			     0, &e),
	    0);
	assert_string_equal(get(dfd, "empty"), "");
	assert_int_equal(entries(dfd), 3);
	/* No name at all is refused, and leaves nothing. */
	assert_true(
	    fileio_write_atomic(dfd, "sub/", "x", 1, 0600, NULL, 0, &e) < 0);
	assert_int_equal(entries(dfd), 3);
	close(dfd);
}

static void
test_write_mode(void **state)
{
	static const mode_t modes[] = { 0600, 0644, 0640, 0400, 0666 };
	struct wsd_err e = { 0 };
	int dfd = subdir("mode");

	(void)state;
	/* Exactly MODE whatever the umask, even one that allows nothing. */
	umask(0777);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(fileio_write_atomic(dfd, "f", "k", 1, modes[i],
				     NULL, 0, &e),
		    0);
		assert_int_equal(mode_of(dfd, "f") & 07777, modes[i]);
	}
	/* FILEIO_UMASK: what open(2) would give. */
	umask(027);
	assert_int_equal(fileio_write_atomic(dfd, "u", "k", 1, 0666, NULL,
			     FILEIO_UMASK, &e),
	    0);
	assert_int_equal(mode_of(dfd, "u") & 07777, 0640);
	umask(077);
	assert_int_equal(fileio_write_atomic(dfd, "u", "k", 1, 0640, NULL,
			     FILEIO_UMASK, &e),
	    0);
	assert_int_equal(mode_of(dfd, "u") & 07777, 0600);
	assert_int_equal(entries(dfd), 2);
	close(dfd);
}

static void
test_replace_is_a_rename(void **state)
{
	struct wsd_err e = { 0 };
	struct stat before, after;
	int dfd = subdir("replace");

	(void)state;
	put(dfd, "f", "old");
	assert_int_equal(linkat(dfd, "f", dfd, "f.link", 0), 0);
	assert_int_equal(fstatat(dfd, "f", &before, 0), 0);
	assert_int_equal(fileio_write_atomic(dfd, "f", "new", 3, 0644, NULL, 0,
			     &e),
	    0);
	assert_string_equal(get(dfd, "f"), "new");
	/* Not written in place: the old inode still holds the old bytes. */
	assert_string_equal(get(dfd, "f.link"), "old");
	assert_int_equal(fstatat(dfd, "f", &after, 0), 0);
	assert_true(before.st_ino != after.st_ino);
	assert_int_equal(entries(dfd), 2);
	close(dfd);
}

static void
test_tmp_name_never_reused(void **state)
{
	static const char tmp[] = ".f.tmp-1111111111111111";
	struct fileio_tmp ft;
	struct wsd_err e = { 0 };
	int dfd = subdir("excl");

	(void)state;
	fixed_rand = 0x11;
	/* The name is the one predicted, next to the final name. */
	fileio_tmp_init(&ft);
	assert_int_equal(fileio_tmp_write(&ft, dfd, "f", "new", 3, 0644, NULL,
			     0, &e),
	    0);
	assert_string_equal(ft.ft_tmp.sb_buf, tmp);
	assert_string_equal(get(dfd, tmp), "new");
	fileio_tmp_abort(&ft);
	assert_int_equal(entries(dfd), 0);

	/* A stale or planted file there is refused, not reused. */
	put(dfd, tmp, "planted");
	e.what = NULL;
	assert_int_equal(fileio_write_atomic(dfd, "f", "new", 3, 0644, NULL, 0,
			     &e),
	    WSD_EIO);
	assert_string_equal(e.what, "cannot create file");
	assert_string_equal(get(dfd, tmp), "planted");
	assert_int_equal(mode_of(dfd, tmp) & 07777, 0644);
	assert_int_equal(faccessat(dfd, "f", F_OK, 0), -1);

	/* A symbolic link there is not followed either. */
	assert_int_equal(unlinkat(dfd, tmp, 0), 0);
	put(dfd, "victim", "precious");
	assert_int_equal(symlinkat("victim", dfd, tmp), 0);
	assert_int_equal(fileio_write_atomic(dfd, "f", "new", 3, 0644, NULL, 0,
			     &e),
	    WSD_EIO);
	assert_string_equal(get(dfd, "victim"), "precious");
	assert_true(S_ISLNK(mode_of(dfd, tmp)));
	assert_int_equal(faccessat(dfd, "f", F_OK, 0), -1);

	/* Control: without the plant the same write works. */
	assert_int_equal(unlinkat(dfd, tmp, 0), 0);
	assert_int_equal(fileio_write_atomic(dfd, "f", "new", 3, 0644, NULL, 0,
			     &e),
	    0);
	assert_string_equal(get(dfd, "f"), "new");
	assert_int_equal(entries(dfd), 2); /* f, victim */
	close(dfd);
}

static void
test_symlink_not_written_through(void **state)
{
	struct wsd_err e = { 0 };
	int dfd = subdir("symlink");

	(void)state;
	put(dfd, "victim", "precious");
	assert_int_equal(symlinkat("victim", dfd, "f"), 0);
	/* The link itself is replaced; its target is untouched. */
	assert_int_equal(fileio_write_atomic(dfd, "f", "new", 3, 0600, NULL, 0,
			     &e),
	    0);
	assert_true(S_ISREG(mode_of(dfd, "f")));
	assert_string_equal(get(dfd, "f"), "new");
	assert_string_equal(get(dfd, "victim"), "precious");
	/* FILEIO_NOREPLACE: even a dangling link counts as existing, and
	 * its target is not created. */
	assert_int_equal(symlinkat("absent", dfd, "g"), 0);
	assert_int_equal(fileio_write_atomic(dfd, "g", "new", 3, 0600, NULL,
			     FILEIO_NOREPLACE, &e),
	    WSD_EIO);
	assert_true(S_ISLNK(mode_of(dfd, "g")));
	assert_int_equal(faccessat(dfd, "absent", F_OK, AT_SYMLINK_NOFOLLOW),
	    -1);
	assert_int_equal(entries(dfd), 3); /* victim, f, g */
	close(dfd);
}

static void
test_failed_commit_keeps_old(void **state)
{
	struct fileio_tmp ft, ft2;
	struct wsd_err e = { 0 };
	int dfd = subdir("commit");

	(void)state;
	put(dfd, "f", "old");
	/* The rename fails (its source vanished): F is as it was. */
	fileio_tmp_init(&ft);
	assert_int_equal(fileio_tmp_write(&ft, dfd, "f", "new", 3, 0600, NULL,
			     0, &e),
	    0);
	assert_string_equal(get(dfd, "f"), "old"); /* not before commit */
	assert_int_equal(unlinkat(dfd, ft.ft_tmp.sb_buf, 0), 0);
	e.what = NULL;
	assert_int_equal(fileio_tmp_commit(&ft, &e), WSD_EIO);
	assert_string_equal(e.what, "cannot install file");
	assert_string_equal(get(dfd, "f"), "old");
	assert_int_equal(ft.ft_tmp.sb_len, 0);
	fileio_tmp_abort(&ft); /* harmless when empty */

	/* The rename fails (a directory is in the way): it stays. */
	assert_int_equal(mkdirat(dfd, "d", 0755), 0);
	put(dfd, "d/inside", "kept");
	assert_int_equal(fileio_write_atomic(dfd, "d", "new", 3, 0600, NULL, 0,
			     &e),
	    WSD_EIO);
	assert_string_equal(get(dfd, "d/inside"), "kept");

	/* FILEIO_NOREPLACE and F exists: refused, F as it was. */
	assert_int_equal(fileio_write_atomic(dfd, "f", "new", 3, 0600, NULL,
			     FILEIO_NOREPLACE, &e),
	    WSD_EIO);
	assert_string_equal(get(dfd, "f"), "old");
	/* ... and without F it creates it. */
	assert_int_equal(fileio_write_atomic(dfd, "n", "new", 3, 0600, NULL,
			     FILEIO_NOREPLACE, &e),
	    0);
	assert_string_equal(get(dfd, "n"), "new");

	/* Two written, then abandoned: neither appears, nothing is left. */
	fileio_tmp_init(&ft);
	fileio_tmp_init(&ft2);
	assert_int_equal(fileio_tmp_write(&ft, dfd, "k", "1", 1, 0600, NULL, 0,
			     &e),
	    0);
	assert_int_equal(fileio_tmp_write(&ft2, dfd, "c", "2", 1, 0644, NULL, 0,
			     &e),
	    0);
	assert_int_equal(entries(dfd), 5); /* f, d, n and two temporary */
	fileio_tmp_abort(&ft);
	fileio_tmp_abort(&ft2);
	assert_int_equal(entries(dfd), 3);
	/* A write into a missing directory fails and creates nothing. */
	assert_int_equal(fileio_write_atomic(dfd, "missing/f", "x", 1, 0600,
			     NULL, 0, &e),
	    WSD_EIO);
	assert_string_equal(e.what, "cannot create file");
	assert_int_equal(entries(dfd), 3);
	close(dfd);
}

static void
test_owner(void **state)
{
	struct fileio_owner strict = { 0, 0, false };
	struct fileio_owner lenient = { 0, 0, true };
	struct fileio_owner nobody = { 65534, 65534, false };
	struct wsd_err e = { 0 };
	struct stat st;
	int dfd = subdir("owner");

	(void)state;
	if (geteuid() == 0) {
		/* Root gives the file away, and the mode survives it. */
		assert_int_equal(fileio_write_atomic(dfd, "f", "k", 1, 0600,
				     &nobody, 0, &e),
		    0);
		assert_int_equal(fstatat(dfd, "f", &st, 0), 0);
		assert_int_equal(st.st_uid, 65534);
		assert_int_equal(st.st_gid, 65534);
		assert_int_equal(st.st_mode & 07777, 0600);
	} else {
		/* Not root: giving it to root fails, unless best effort. */
		assert_int_equal(fileio_write_atomic(dfd, "f", "k", 1, 0600,
				     &strict, 0, &e),
		    WSD_EIO);
		assert_int_equal(entries(dfd), 0);
		assert_int_equal(fileio_write_atomic(dfd, "f", "k", 1, 0600,
				     &lenient, 0, &e),
		    0);
		assert_int_equal(fstatat(dfd, "f", &st, 0), 0);
		assert_int_equal(st.st_uid, geteuid());
	}
	assert_int_equal(entries(dfd), 1);
	close(dfd);
}

static void
test_ensure_parent(void **state)
{
	struct wsd_err e = { 0 };
	struct stat st;
	int dfd = subdir("parent");

	(void)state;
	umask(022);
	assert_int_equal(fileio_ensure_parent(P("parent/sub/f"), 0700, &e), 0);
	assert_int_equal(stat(P("parent/sub"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	/* Already there; a bare name has no parent to make. */
	assert_int_equal(fileio_ensure_parent(P("parent/sub/g"), 0700, &e), 0);
	assert_int_equal(fileio_ensure_parent("bare", 0700, &e), 0);
	/* A file in the way, or more than one level missing. */
	put(dfd, "plain", "x");
	assert_int_equal(fileio_ensure_parent(P("parent/plain/f"), 0700, &e),
	    WSD_EIO);
	assert_int_equal(fileio_ensure_parent(P("parent/a/b/f"), 0700, &e),
	    WSD_EIO);
	assert_int_equal(entries(dfd), 2);
	close(dfd);
}

static void
test_read_small(void **state)
{
	struct wsd_err e = { 0 };
	struct stat st;
	char *buf = (char *)1;
	size_t len = 99;
	int dfd = subdir("read");

	(void)state;
	put(dfd, "ten", "0123456789");
	/* At the limit. */
	assert_int_equal(fileio_read_small(P("read/ten"), 10, &buf, &len, &st,
			     &e),
	    0);
	assert_int_equal(len, 10);
	assert_int_equal(st.st_size, 10);
	assert_memory_equal(buf, "0123456789", 11); /* NUL included */
	fileio_free_secret(buf, len + 1);
	/* One over. */
	assert_int_equal(fileio_read_small(P("read/ten"), 9, &buf, &len, NULL,
			     &e),
	    WSD_ETOOBIG);
	assert_null(buf);
	assert_int_equal(len, 0);
	/* Empty. */
	put(dfd, "empty", "");
	assert_int_equal(fileio_read_small(P("read/empty"), 10, &buf, &len,
			     NULL, &e),
	    0);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	/* Not regular files; a FIFO must not block the open. */
	assert_int_equal(fileio_read_small(P("read"), 10, &buf, &len, NULL, &e),
	    WSD_EIO);
	assert_int_equal(mkfifo(P("read/fifo"), 0600), 0);
	assert_int_equal(fileio_read_small(P("read/fifo"), 10, &buf, &len, NULL,
			     &e),
	    WSD_EIO);
	assert_int_equal(fileio_read_small(P("read/absent"), 10, &buf, &len,
			     NULL, &e),
	    WSD_EIO);
	assert_null(buf);
	/* A file that reads longer than it stats (size 0 in /proc). */
	assert_int_equal(fileio_read_small("/proc/self/status", 4096, &buf,
			     &len, NULL, &e),
	    WSD_EAGAIN);
	assert_null(buf);
	close(dfd);
}

/* A name of LEN bytes: labels of up to LABEL bytes of C, dots between. */
static const char *
make_name(char *buf, size_t len, size_t label, char c)
{
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		if (run == label && i + 1 < len) {
			buf[i] = '.';
			run = 0;
		} else {
			buf[i] = c;
			run++;
		}
	}
	buf[len] = '\0';
	return buf;
}

static void
test_dnsname_table(void **state)
{
	static const struct {
		const char *s;
		bool dns, san, ip;
	} t[] = {
		{ "localhost", true, true, false },
		{ "a", true, true, false },
		{ "wsus.example.test", true, true, false },
		{ "A-b.C0m", true, true, false },
		{ "xn--bcher-kva.example", true, true, false },
		{ "a--b", true, true, false },
		{ "1a.example", true, true, false },
		{ "a.1-2", true, true, false },
		/* All-digit last label: a name, but not for a certificate. */
		{ "127.0.0.1", true, false, true },
		{ "1.2.3", true, false, false },
		{ "1.2.3.4.5", true, false, false },
		{ "300.1.1.1", true, false, false },
		{ "256.0.0.1", true, false, false },
		{ "127.0.0.01", true, false, false },
		{ "a.123", true, false, false },
		/* Empty labels, trailing dot. */
		{ "", false, false, false },
		{ ".", false, false, false },
		{ ".a", false, false, false },
		{ "a.", false, false, false },
		{ "localhost.", false, false, false },
		{ "a..b", false, false, false },
		/* Hyphens first or last in a label. */
		{ "-a", false, false, false },
		{ "a-", false, false, false },
		{ "a-.b", false, false, false },
		{ "a.-b", false, false, false },
		{ "a.b-", false, false, false },
		{ "a.example-", false, false, false },
		/* Other bytes. */
		{ "a_b", false, false, false },
		{ "a b", false, false, false },
		{ "a/b", false, false, false },
		{ "a:b", false, false, false },
		{ "\xc3\xa9.example", false, false, false },
		/* Wildcards: certificates only, one whole left-most label. */
		{ "*.wild.example", false, true, false },
		{ "*.a", false, true, false },
		{ "*", false, false, false },
		{ "*.", false, false, false },
		{ "*.*.a", false, false, false },
		{ "x*.a", false, false, false },
		{ "*a.b", false, false, false },
		{ "a.*.b", false, false, false },
		{ "*.127.0.0.1", false, false, false },
		{ "*.-a", false, false, false },
		/* Addresses. */
		{ "::1", false, false, true },
		{ "fe80::1", false, false, true },
		{ "2001:db8::", false, false, true },
		{ "::ffff:127.0.0.1", false, false, true },
		{ "[::1]", false, false, false },
		{ "::1%lo", false, false, false },
		{ " 127.0.0.1", false, false, false },
		{ "127.0.0.1:80", false, false, false },
	};
	char b[300], w[300];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (dnsname_valid(t[i].s) != t[i].dns ||
		    dnsname_valid_san(t[i].s) != t[i].san ||
		    ipaddr_literal(t[i].s) != t[i].ip)
			fail_msg("\"%s\": dns %d san %d ip %d, want %d %d %d",
			    t[i].s, dnsname_valid(t[i].s),
			    dnsname_valid_san(t[i].s), ipaddr_literal(t[i].s),
			    t[i].dns, t[i].san, t[i].ip);
	}

	/* Labels: 63 bytes, not 64. */
	assert_true(dnsname_valid(make_name(b, 63, 63, 'a')));
	assert_true(dnsname_valid_san(b));
	assert_false(dnsname_valid(make_name(b, 64, 64, 'a')));
	assert_false(dnsname_valid_san(b));
	assert_true(dnsname_valid(make_name(b, 63 + 4, 63, 'a'))); /* .aaa */
	assert_false(dnsname_valid(make_name(b, 64 + 4, 64, 'a')));

	/* Names: 253 bytes (63.63.63.61), not 254. */
	assert_true(dnsname_valid(make_name(b, 253, 63, 'a')));
	assert_int_equal(strlen(b), 253);
	assert_true(dnsname_valid_san(b));
	assert_false(dnsname_valid(make_name(b, 254, 63, 'a')));
	assert_int_equal(strlen(b), 254);
	assert_false(dnsname_valid_san(b));
	assert_false(dnsname_valid(make_name(b, 299, 63, 'a')));
	/* Digits at the limit: a name, not a certificate name. */
	assert_true(dnsname_valid(make_name(b, 253, 63, '7')));
	assert_false(dnsname_valid_san(b));

	/* A wildcard's "*." counts towards the 253. */
	snprintf(w, sizeof(w), "*.%s", make_name(b, 251, 63, 'a'));
	assert_int_equal(strlen(w), 253);
	assert_true(dnsname_valid_san(w));
	assert_false(dnsname_valid(w));
	snprintf(w, sizeof(w), "*.%s", make_name(b, 252, 63, 'a'));
	assert_int_equal(strlen(w), 254);
	assert_false(dnsname_valid_san(w));
}

static int
setup(void **state)
{
	(void)state;
	saved_umask = umask(022);
	umask(saved_umask);
	return mkdtemp(dir) == NULL ? -1 : 0;
}

/* After each test, even a failed one. */
static int
reset(void **state)
{
	(void)state;
	fixed_rand = -1;
	umask(saved_umask);
	return 0;
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
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_write_atomic_ok, reset),
		cmocka_unit_test_teardown(test_write_mode, reset),
		cmocka_unit_test_teardown(test_replace_is_a_rename, reset),
		cmocka_unit_test_teardown(test_tmp_name_never_reused, reset),
		cmocka_unit_test_teardown(test_symlink_not_written_through,
		    reset),
		cmocka_unit_test_teardown(test_failed_commit_keeps_old, reset),
		cmocka_unit_test_teardown(test_owner, reset),
		cmocka_unit_test_teardown(test_ensure_parent, reset),
		cmocka_unit_test_teardown(test_read_small, reset),
		cmocka_unit_test(test_dnsname_table),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
