/*
 * common/audit: the line format (fields, escaping, no second line
 * whatever the arguments hold, the cut of long commands) and
 * audit_append (one line appended and flushed, mode 0640, refused through
 * a symbolic link, in a missing directory and when the write falls short).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/audit.h"

/* A writable copy of a literal, as argv strings are. */
#define A(s) ((char[]){ s })

static char base[] = "/tmp/wsusd-test-audit-XXXXXX";

static const char *
P(const char *name)
{
	static char bufs[4][256];
	static unsigned next;
	char *p = bufs[next++ % 4];

	snprintf(p, sizeof(bufs[0]), "%s/%s", base, name);
	return p;
}

/* The whole file (caller frees). */
static char *
slurp(const char *path, size_t *len)
{
	struct stat st;
	char *b;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	b = malloc((size_t)st.st_size + 1);
	assert_non_null(b);
	assert_int_equal(read(fd, b, (size_t)st.st_size), st.st_size);
	b[st.st_size] = '\0';
	close(fd);
	if (len != NULL)
		*len = (size_t)st.st_size;
	return b;
}

static void
fmt(const struct audit_entry *e, char *out)
{
	memset(out, 'Z', AUDIT_MAX_LINE);
	audit_format(e, 1796054531LL, out); /* 2026-11-30T16:02:11Z */
	assert_true(strlen(out) < AUDIT_MAX_LINE);
}

static void
test_format_fields(void **state)
{
	char *argv[] = { A("approve"), A("5c1b"), A("--group"), A("Servers") };
	struct audit_entry e = { "allowed", "alice", "approver", "socket",
		"uid:1001", 4, argv, 0, NULL };
	char out[AUDIT_MAX_LINE];

	(void)state;
	fmt(&e, out);
	assert_string_equal(out,
	    "2026-11-30T16:02:11Z event=allowed principal=alice "
	    "role=approver via=socket peer=uid:1001 "
	    "cmd=\"approve 5c1b --group Servers\"");

	/* NULL role and peer are left out; a result has its exit. */
	e.event = "result";
	e.role = NULL;
	e.peer = NULL;
	e.exit_status = 3;
	e.argc = 1;
	fmt(&e, out);
	assert_string_equal(out,
	    "2026-11-30T16:02:11Z event=result principal=alice via=socket "
	    "cmd=approve exit=3");

	/* A denial says why. */
	e.event = "denied";
	e.principal = "cert:CORP\\ops1";
	e.role = "reporter";
	e.via = "remote";
	e.peer = "127.0.0.1";
	e.reason = "role too low";
	fmt(&e, out);
	assert_string_equal(out,
	    "2026-11-30T16:02:11Z event=denied principal=\"cert:CORP\\\\ops1\" "
	    "role=reporter via=remote peer=127.0.0.1 cmd=approve "
	    "reason=\"role too low\"");

	/* No command, unknown principal. */
	e.principal = NULL;
	e.argc = 0;
	e.argv = NULL;
	e.reason = NULL;
	fmt(&e, out);
	assert_string_equal(out,
	    "2026-11-30T16:02:11Z event=denied principal=? role=reporter "
	    "via=remote peer=127.0.0.1 cmd=\"\"");
}

static void
test_format_escaping(void **state)
{
	char *argv[] = { A("groups"), A("add"), A("a b"), A("q\"uote"),
		A("back\\slash"), A(""), A("tab\there"), A("\x1b[31mred"),
		A("caf\xc3\xa9") };
	struct audit_entry e = { "allowed", "mal ory\"x", NULL, "local",
		"uid:0", 9, argv, 0, NULL };
	char out[AUDIT_MAX_LINE];

	(void)state;
	fmt(&e, out);
	assert_string_equal(out,
	    "2026-11-30T16:02:11Z event=allowed principal=\"mal ory\\\"x\" "
	    "via=local peer=uid:0 "
	    "cmd=\"groups add a\\x20b q\\\"uote back\\\\slash \\\"\\\" "
	    "tab\\x09here \\x1b[31mred caf\\xc3\\xa9\"");
}

static void
test_format_no_injection(void **state)
{
	char *argv[] = { A("approve"),
		A("x\n2026-11-30T16:02:11Z event=allowed principal=root cmd=x"),
		A("y\r\nz"), A("\x85") };
	struct audit_entry e = { "denied", "eve\nevent=allowed", NULL, "remote",
		"10.0.0.1\n", 4, argv, 0, "forged\nline" };
	char out[AUDIT_MAX_LINE];

	(void)state;
	fmt(&e, out);
	/* One line: no byte below 0x20 or above 0x7e at all. */
	for (const char *p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			fail_msg("byte 0x%02x at %zu in %s", (unsigned char)*p,
			    (size_t)(p - out), out);
	assert_non_null(strstr(out, "principal=\"eve\\x0aevent=allowed\""));
	assert_non_null(strstr(out, "peer=\"10.0.0.1\\x0a\""));
	assert_non_null(strstr(out, "cmd=\"approve x\\x0a2026"));
	assert_non_null(strstr(out, "y\\x0d\\x0az \\x85\""));
	assert_non_null(strstr(out, "reason=\"forged\\x0aline\""));
	/* The only unescaped "event=" is the real one. */
	assert_non_null(strstr(out, " event=denied "));
	assert_null(strstr(strstr(out, " event=denied ") + 1, " event="));
}

static void
test_format_long(void **state)
{
	static char big[3 * AUDIT_MAX_LINE];
	static char name[4096];
	char *argv[] = { A("publish"), big, A("--title"), A("T") };
	struct audit_entry e = { "result", name, "administrator", "local", NULL,
		4, argv, 17, NULL };
	char out[AUDIT_MAX_LINE];
	size_t n;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	memset(name, '\n', sizeof(name) - 1);
	fmt(&e, out);
	n = strlen(out);
	assert_true(n <= AUDIT_MAX_LINE - 1);
	assert_true(n > AUDIT_MAX_LINE - 64); /* cmd used the room */
	/* Cut with "...", quotes closed, the exit still there. */
	assert_non_null(strstr(out, "aaa...\" exit=17"));
	assert_int_equal(strcmp(out + n - strlen(" exit=17"), " exit=17"), 0);
	/* The principal is cut too, and no escape is split. */
	assert_non_null(strstr(out, "\\x0a...\" "));
	assert_true(strstr(out, "principal=") < strstr(out, " role="));

	/* Escapes near the cut: never half an escape. */
	memset(big, '\x01', sizeof(big) - 1);
	name[0] = '\0';
	fmt(&e, out);
	n = strlen(out);
	assert_true(n <= AUDIT_MAX_LINE - 1);
	{
		const char *dots = strstr(out, "...\" exit=17");

		assert_non_null(dots);
		assert_int_equal(strncmp(dots - 4, "\\x01", 4), 0);
	}
	/* An empty principal is quoted, never "principal= ". */
	assert_non_null(strstr(out, "principal=\"\" "));
}

static void
test_append(void **state)
{
	char *argv[] = { A("approve"), A("u1"), A("--group"), A("g") };
	struct audit_entry e = { "allowed", "alice", "approver", "socket",
		"uid:1001", 4, argv, 0, NULL };
	struct wsd_err err = { 0, NULL };
	struct stat st;
	mode_t old;
	char *text, *nl;
	size_t len;

	(void)state;
	old = umask(077); /* the file is 0640 whatever the umask */
	assert_int_equal(audit_append(P("audit.log"), &e, &err), 0);
	umask(old);
	assert_int_equal(stat(P("audit.log"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	e.event = "result";
	e.exit_status = 0;
	assert_int_equal(audit_append(P("audit.log"), &e, &err), 0);
	text = slurp(P("audit.log"), &len);
	/* Two lines, each ending in '\n', the second appended. */
	nl = strchr(text, '\n');
	assert_non_null(nl);
	assert_non_null(strstr(text, " event=allowed principal=alice "));
	assert_true(strstr(text, "event=allowed") < nl);
	assert_true(strstr(text, "event=result") > nl);
	assert_int_equal(text[len - 1], '\n');
	assert_ptr_equal(strchr(nl + 1, '\n'), text + len - 1);
	assert_non_null(
	    strstr(nl + 1, "cmd=\"approve u1 --group g\" exit=0\n"));
	free(text);
	/* An existing file keeps its mode. */
	assert_int_equal(chmod(P("audit.log"), 0600), 0);
	assert_int_equal(audit_append(P("audit.log"), &e, &err), 0);
	assert_int_equal(stat(P("audit.log"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(unlink(P("audit.log")), 0);
}

static void
test_append_refusals(void **state)
{
	char *argv[] = { A("decline"), A("u1") };
	struct audit_entry e = { "allowed", "alice", "approver", "socket",
		"uid:1001", 2, argv, 0, NULL };
	struct wsd_err err = { 0, NULL };
	struct stat st;
	char *text;

	(void)state;
	/* A directory that does not exist. */
	assert_int_equal(audit_append(P("nodir/audit.log"), &e, &err), WSD_EIO);
	assert_int_equal(err.code, WSD_EIO);
	assert_non_null(err.what);

	/* A symbolic link, to an existing file or to nowhere: refused, the
	 * target untouched or not created. */
	assert_int_equal(close(open(P("target"), O_WRONLY | O_CREAT, 0600)), 0);
	assert_int_equal(symlink(P("target"), P("link.log")), 0);
	err.code = 0;
	assert_int_equal(audit_append(P("link.log"), &e, &err), WSD_EIO);
	assert_int_equal(stat(P("target"), &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(symlink(P("absent"), P("dangling.log")), 0);
	assert_int_equal(audit_append(P("dangling.log"), &e, &err), WSD_EIO);
	assert_int_equal(lstat(P("absent"), &st), -1);

	/* A FIFO: refused, without hanging on the open. */
	assert_int_equal(mkfifo(P("fifo.log"), 0600), 0);
	assert_int_equal(audit_append(P("fifo.log"), &e, &err), WSD_EIO);

	/* A directory at the path. */
	assert_int_equal(mkdir(P("dir.log"), 0700), 0);
	assert_int_equal(audit_append(P("dir.log"), &e, &err), WSD_EIO);

	/* The file is readable as written: nothing went to the target. */
	text = slurp(P("target"), NULL);
	assert_string_equal(text, "");
	free(text);
	unlink(P("link.log"));
	unlink(P("dangling.log"));
	unlink(P("fifo.log"));
	unlink(P("target"));
	rmdir(P("dir.log"));
}

/*
 * A write that falls short (the disk fills mid-line; here RLIMIT_FSIZE
 * stands in for the full tmpfs) or fails outright is an error.
 */
static void
test_append_short_write(void **state)
{
	char *argv[] = { A("approve"), A("u1"), A("--group"), A("g") };
	struct audit_entry e = { "allowed", "alice", "approver", "socket",
		"uid:1001", 4, argv, 0, NULL };
	struct wsd_err err = { 0, NULL };
	struct rlimit old, lim;
	void (*oldsig)(int);
	struct stat st;

	(void)state;
	assert_int_equal(audit_append(P("full.log"), &e, &err), 0);
	assert_int_equal(stat(P("full.log"), &st), 0);
	oldsig = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size + 10; /* room for 10 bytes */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	err.code = 0;
	assert_int_equal(audit_append(P("full.log"), &e, &err), WSD_EIO);
	assert_int_equal(err.code, WSD_EIO);
	/* Now no room at all: EFBIG. */
	assert_int_equal(audit_append(P("full.log"), &e, &err), WSD_EIO);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);
	/* And with room again, it works. */
	assert_int_equal(audit_append(P("full.log"), &e, &err), 0);
	unlink(P("full.log"));
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(base) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	return rmdir(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_fields),
		cmocka_unit_test(test_format_escaping),
		cmocka_unit_test(test_format_no_injection),
		cmocka_unit_test(test_format_long),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_append_refusals),
		cmocka_unit_test(test_append_short_write),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
