#include "catalog/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "catalog/sign_policy.h"
#include "common/log.h"


/*
 * Runs ARGV (argv[0] looked up in PATH), collecting the last line of its
 * output for the log. Returns the exit status, or -1 when it could not
 * run or ran out of time (then it is killed).
 */
#define RUN_MAX_ARGS 16

static int run_argv(char *const argv[], char *last, size_t lastsz);

/* posix_spawn wants writable strings; literals are const here. */
static int
run(const char *const cargv[], char *last, size_t lastsz)
{
	char *argv[RUN_MAX_ARGS + 1];
	int n = 0, rc = -1;

	for (; cargv[n] != NULL; n++) {
		if (n == RUN_MAX_ARGS || (argv[n] = strdup(cargv[n])) == NULL)
			goto out;
	}
	argv[n] = NULL;
	rc = run_argv(argv, last, lastsz);
out:
	for (int i = 0; i < n; i++)
		free(argv[i]);
	return rc;
}

static const char *const sign_env[] = {
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", NULL
};

/* NAME looked up in the fixed PATH of sign_env (NAME itself when it
 * holds a '/'); "" when not found, which posix_spawn refuses. */
static const char *
program_path(const char *name, char *buf, size_t size)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin",
		"/bin" };

	if (strchr(name, '/') != NULL)
		return name;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(buf, size, "%s/%s", dirs[i], name);
		if (access(buf, X_OK) == 0)
			return buf;
	}
	buf[0] = '\0';
	return buf;
}

static int
run_argv(char *const argv[], char *last, size_t lastsz)
{
	char prog[256];
	posix_spawn_file_actions_t fa;
	struct timespec start, now;
	char buf[4096];
	size_t used = 0;
	int pfd[2], status;
	pid_t pid;

	last[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDERR_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	/* A fixed search path and environment: a PATH or LD_PRELOAD the
	 * caller inherited (sudo -E, a unit's Environment=) must not pick
	 * the program that says whether a signature is good. */
	if (posix_spawn(&pid, program_path(argv[0], prog, sizeof(prog)), &fa,
		NULL, argv, (char *const *)(uintptr_t)sign_env) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(pfd[0]);
		close(pfd[1]);
		snprintf(last, lastsz, "%s: %s", argv[0], strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > SIGN_TIMEOUT_SECS) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			close(pfd[0]);
			snprintf(last, lastsz, "%s: timed out", argv[0]);
			return -1;
		}
		if (poll(&p, 1, 1000) == 0)
			continue;
		n = read(pfd[0], buf + used, sizeof(buf) - 1 - used);
		if (n <= 0)
			break;
		used += (size_t)n;
		if (used == sizeof(buf) - 1) {
			/* Keep the tail: the last line says what went wrong. */
			memmove(buf, buf + used / 2, used - used / 2);
			used -= used / 2;
		}
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	buf[used] = '\0';
	while (used > 0 && (buf[used - 1] == '\n' || buf[used - 1] == '\r'))
		buf[--used] = '\0';
	{
		const char *nl = strrchr(buf, '\n'), *l = nl ? nl + 1 : buf;
		size_t n = strlen(l);

		if (n >= lastsz)
			n = lastsz - 1;
		memcpy(last, l, n);
		last[n] = '\0';
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
sign_file(const char *in, const char *out, const char *cert, const char *key,
    const char *description, struct wsd_err *err)
{
	const char *const argv[] = { "osslsigncode", "sign", "-certs", cert,
		"-key", key, "-h", "sha256", "-n", description, "-in", in,
		"-out", out, NULL };
	char last[512];
	int rc = run(argv, last, sizeof(last));

	if (rc == 0)
		return 0;
	unlink(out);
	log_warnx("osslsigncode sign %s: %s", in, last);
	if (rc < 0)
		return wsd_fail(err, WSD_EIO, "cannot run osslsigncode");
	return wsd_fail(err, WSD_EINVAL,
	    "cannot sign the package: it must be a PE (.exe, .dll), MSI or "
	    "CAB file");
}

static int
fd_read(void *ctx, uint64_t off, void *buf, size_t n)
{
	int fd = *(int *)ctx;
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got,
		    (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* WANT bytes of FD from OFF, in a new buffer. */
static unsigned char *
read_at(int fd, off_t off, size_t want, struct wsd_err *err)
{
	unsigned char *buf = malloc(want ? want : 1);

	if (buf == NULL) {
		wsd_fail(err, WSD_ENOMEM, "out of memory");
		return NULL;
	}
	if (fd_read(&fd, (uint64_t)off, buf, want) < 0) {
		free(buf);
		wsd_fail(err, WSD_EIO, "cannot read the package");
		return NULL;
	}
	return buf;
}

/*
 * What osslsigncode verify does not refuse (sign_policy.h): unsigned
 * bytes in the file's layout (a PE file's certificate table and a CAB's
 * signature area hold the signature only; an MSI's sectors all belong
 * to it), any format other than PE, CAB and MSI, weak digests. The
 * signature checked is the blob the layout holds, as it is.
 */
static int
policy(const char *in, struct wsd_err *err)
{
	unsigned char *hdr = NULL, *tab = NULL;
	uint32_t off, size;
	struct stat st;
	size_t hl;
	int fd, rc;

	if ((fd = open(in, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
	    fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return wsd_fail(err, WSD_EIO, "cannot read the package");
	}
	hl = (uint64_t)st.st_size < SIGN_PE_HEADER_MAX ? (size_t)st.st_size :
							 SIGN_PE_HEADER_MAX;
	if ((hdr = read_at(fd, 0, hl, err)) == NULL) {
		close(fd);
		return err->code;
	}
	rc = sign_policy_pe_locate(hdr, hl, (uint64_t)st.st_size, &off, &size,
	    err);
	if (rc == 1) {
		rc = (tab = read_at(fd, off, size, err)) == NULL ? err->code :
		    sign_policy_pe_table(tab, size, err) < 0 ? err->code :
		    /* the entry's PKCS#7 blob, after its 8-byte header */
		    sign_policy_digests(tab + 8,
			sign_policy_der_length(tab + 8, size - 8), err);
	} else if (rc == 0 &&
	    (rc = sign_policy_cab_locate(hdr, hl, (uint64_t)st.st_size, &off,
		 &size, err)) == 1) {
		rc = (tab = read_at(fd, off, size, err)) == NULL ? err->code :
		    sign_policy_cab_sig(tab, size, err) < 0 ? err->code :
		    sign_policy_digests(tab, sign_policy_der_length(tab, size),
			err);
	} else if (rc == 0 &&
	    (rc = sign_policy_cfb_end(fd_read, &fd, (uint64_t)st.st_size,
		 err)) == 1) {
		/* osslsigncode also verifies scripts, catalogs and APPX,
		 * where bytes after a script's signature block are covered
		 * by nothing: only what sign_file makes is accepted. */
		rc = wsd_fail(err, WSD_EINVAL,
		    "not a PE, CAB or MSI file: no other signed format is "
		    "accepted");
	}
	free(hdr);
	free(tab);
	close(fd);
	return rc < 0 ? rc : 0;
}

int
sign_verify(const char *in, const char *cafile, struct wsd_err *err)
{
	const char *const argv[] = { "osslsigncode", "verify", "-CAfile",
		cafile, "-in", in, NULL };
	char last[512];
	int rc = run(argv, last, sizeof(last));

	if (rc == 0)
		return policy(in, err);
	log_warnx("osslsigncode verify %s: %s", in, last);
	return wsd_fail(err, rc < 0 ? WSD_EIO : WSD_EINVAL,
	    "signature does not verify");
}
