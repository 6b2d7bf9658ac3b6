/*
 * wuagent selfupdate [--install-to PATH] [--check]: the agent's
 * counterpart of the Windows agent's self-update (which fetches
 * /selfupdate/wuident.cab from the WSUS server), secure by design
 * (docs/AGENT.md, "Self-update").
 *
 * The server publishes DATADIR/selfupdate/wuagent/wuagent.cab, a CAB
 * holding exactly two entries, VERSION (one line MAJOR.MINOR.PATCH) and
 * the wuagent binary, Authenticode-signed by a publisher the agent
 * trusts. The agent fetches it from the content base (the
 * scheme://host:port of UpdateServiceUrlAlternate when set, else of
 * WUServer; http is fine as the signature protects it) into a fresh
 * private directory under STATE_DIR, and refuses it unless
 * TrustedPublishers is configured and the signature verifies against it
 * (the check `install` makes, agent_pkg_verify). Only then is the CAB
 * listed and extracted with gcab and VERSION compared with the agent's
 * own. A newer binary is written to PATH.new beside PATH, synced and
 * renamed over PATH, so PATH is always the old or the new binary, whole.
 *
 * Exit 0: up to date, updated, or no update offered (404); 1: anything
 * refused or failed (nothing replaced); 2: usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "common/sbuf.h"
#include "common/strparse.h"
#include "wuagent/agent_cmd.h"
#include "wuagent/agent_download.h"
#include "wuagent/agent_install.h"

/* Where the server offers the agent, beneath the content base. */
#define SU_URL_PATH "/selfupdate/wuagent/wuagent.cab"
/* The CAB: a binary and VERSION; an ASan build is a few MiB. */
#define SU_CAB_MAX (256UL * 1024 * 1024)
/* The whole download, and curl's low-speed abort (1 B/s for 60 s). */
#define SU_HTTP_TIMEOUT_S    900L
#define SU_CONNECT_TIMEOUT_S 30L
/* VERSION: "MAJOR.MINOR.PATCH\n", each part at most this. */
#define SU_VERSION_FILE_MAX 64
#define SU_VERSION_PART_MAX 999999
/* gcab on one CAB, and its listing. */
#define SU_GCAB_TIMEOUT_S 120
#define SU_LIST_MAX       4096
#define SU_COPY_CHUNK     (64 * 1024)

/* The only entries the CAB may hold. */
static const char *const su_entries[] = { "VERSION", "wuagent" };

struct su_version {
	uint64_t part[3];
};

/* MSG for the user (vsnprintf: truncation of long paths is fine). */
static void say(char *msg, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(char *msg, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, n, fmt, ap);
	va_end(ap);
}

struct su_rx {
	int fd;
	uint64_t n;
	bool too_big;
	int saved_errno;
};

static int
su_usage(void)
{
	fprintf(stderr,
	    "usage: wuagent selfupdate [--install-to PATH] [--check]\n");
	return 2;
}

/* "MAJOR.MINOR.PATCH", then at most one line end; nothing else. */
static int
parse_version(const char *s, size_t n, struct su_version *v)
{
	struct sv p = { s, n };

	if (p.n > 0 && p.p[p.n - 1] == '\n')
		p.n--;
	if (p.n > 0 && p.p[p.n - 1] == '\r')
		p.n--;
	for (int i = 0; i < 3; i++)
		if ((i > 0 && strparse_char(&p, '.') < 0) ||
		    strparse_u64(&p, SU_VERSION_PART_MAX, &v->part[i]) < 0)
			return WSD_EINVAL;
	return p.n == 0 ? 0 : WSD_EINVAL;
}

static int
version_cmp(const struct su_version *a, const struct su_version *b)
{
	for (int i = 0; i < 3; i++)
		if (a->part[i] != b->part[i])
			return a->part[i] < b->part[i] ? -1 : 1;
	return 0;
}

static void
version_str(const struct su_version *v, char *out, size_t n)
{
	snprintf(out, n, "%" PRIu64 ".%" PRIu64 ".%" PRIu64, v->part[0],
	    v->part[1], v->part[2]);
}

/* ----------------------------------------------------------- download */

static size_t
su_write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct su_rx *rx = arg;
	size_t n = size * nmemb, done = 0;

	if (n > SU_CAB_MAX - rx->n) {
		rx->too_big = true;
		return 0;
	}
	while (done < n) {
		ssize_t w = write(rx->fd, p + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rx->saved_errno = w < 0 ? errno : ENOSPC;
			return 0;
		}
		done += (size_t)w;
	}
	rx->n += n;
	return n;
}

/*
 * GET URL into the file PATH (created 0600), at most SU_CAB_MAX bytes.
 * The server is verified as for every other call (CAFile or the system
 * store, its name checked, TLS 1.2 or later); the CAB's signature is
 * checked afterwards all the same. Returns 0 with *STATUS when an HTTP
 * answer came, whatever its status; -1 with MSG otherwise.
 *
 * agent_http has no GET of a file whose size the metadata does not
 * give, hence this one handle of our own.
 */
static int
get_cab(const struct agent_config *cf, const char *url, const char *path,
    long *status, uint64_t *bytes, char *msg, size_t msg_size)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct su_rx rx;
	CURLcode c = CURLE_OK;
	CURL *h;

	*status = 0;
	*bytes = 0;
	memset(&rx, 0, sizeof(rx));
	if (cf->ca_file[0] != '\0' && access(cf->ca_file, R_OK) != 0) {
		say(msg, msg_size, "CA file %s is not readable: %s",
		    cf->ca_file, strerror(errno));
		return -1;
	}
	if ((rx.fd = open(path,
		 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) <
	    0) {
		say(msg, msg_size, "%s: cannot create: %s", path,
		    strerror(errno));
		return -1;
	}
	if ((h = curl_easy_init()) == NULL) {
		close(rx.fd);
		say(msg, msg_size, "cannot create a curl handle");
		return -1;
	}
	c = curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (c == CURLE_OK)
		c = agent_curl_tls(h, cf);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c == CURLE_OK)
		c = curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
		    SU_CONNECT_TIMEOUT_S);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h, CURLOPT_TIMEOUT, SU_HTTP_TIMEOUT_S);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
		    (long)CURL_HTTP_VERSION_1_1);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)SU_CAB_MAX);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h, CURLOPT_USERAGENT,
		    "wuagent/" WSUSD_VERSION);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h, CURLOPT_URL, url);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, su_write_cb);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h, CURLOPT_WRITEDATA, &rx);
	if (c != CURLE_OK) {
		say(msg, msg_size, "libcurl: %s", curl_easy_strerror(c));
		goto fail;
	}
	c = curl_easy_perform(h);
	if (rx.too_big || c == CURLE_FILESIZE_EXCEEDED) {
		say(msg, msg_size, "%s: larger than %lu bytes: refused", url,
		    SU_CAB_MAX);
		goto fail;
	}
	if (rx.saved_errno != 0) {
		say(msg, msg_size, "%s: cannot write: %s", path,
		    strerror(rx.saved_errno));
		goto fail;
	}
	if (c != CURLE_OK) {
		say(msg, msg_size, "%s%s: %s",
		    c == CURLE_PEER_FAILED_VERIFICATION ||
			    c == CURLE_SSL_CONNECT_ERROR ||
			    c == CURLE_SSL_CACERT_BADFILE
			? "TLS refused: "
			: "",
		    url, errbuf[0] != '\0' ? errbuf : curl_easy_strerror(c));
		goto fail;
	}
	if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status) != CURLE_OK)
		*status = 0;
	curl_easy_cleanup(h);
	if (fsync(rx.fd) < 0) {
		say(msg, msg_size, "%s: cannot sync: %s", path,
		    strerror(errno));
		close(rx.fd);
		return -1;
	}
	if (close(rx.fd) < 0) {
		say(msg, msg_size, "%s: cannot close: %s", path,
		    strerror(errno));
		return -1;
	}
	*bytes = rx.n;
	return 0;
fail:
	curl_easy_cleanup(h);
	close(rx.fd);
	return -1;
}

/* SHA-1 and SHA-256 of the file PATH into F (and its size). */
static int
hash_file(const char *path, struct agent_file *f, char *msg, size_t msg_size)
{
	EVP_MD_CTX *c1 = EVP_MD_CTX_new(), *c256 = EVP_MD_CTX_new();
	unsigned char *buf = malloc(SU_COPY_CHUNK);
	int fd = -1, rc = -1;
	ssize_t n;

	f->size = 0;
	if (c1 == NULL || c256 == NULL || buf == NULL ||
	    EVP_DigestInit_ex(c1, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestInit_ex(c256, EVP_sha256(), NULL) != 1) {
		say(msg, msg_size, "cannot compute digests");
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		say(msg, msg_size, "%s: %s", path, strerror(errno));
		goto out;
	}
	while ((n = read(fd, buf, SU_COPY_CHUNK)) > 0) {
		if (EVP_DigestUpdate(c1, buf, (size_t)n) != 1 ||
		    EVP_DigestUpdate(c256, buf, (size_t)n) != 1) {
			say(msg, msg_size, "cannot compute digests");
			goto out;
		}
		f->size += (uint64_t)n;
	}
	if (n < 0) {
		say(msg, msg_size, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (EVP_DigestFinal_ex(c1, f->sha1, NULL) != 1 ||
	    EVP_DigestFinal_ex(c256, f->sha256, NULL) != 1) {
		say(msg, msg_size, "cannot compute digests");
		goto out;
	}
	f->has_sha256 = true;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	EVP_MD_CTX_free(c1);
	EVP_MD_CTX_free(c256);
	return rc;
}

/* DIR/NAME into OUT (AGENT_PATH_MAX); WSD_ETOOBIG when it does not fit. */
static int
su_path(char *out, const char *dir, const char *name)
{
	int w = snprintf(out, AGENT_PATH_MAX, "%s/%s", dir, name);

	return w < 0 || w >= AGENT_PATH_MAX ? WSD_ETOOBIG : 0;
}

/* ---------------------------------------------------------------- gcab */

/* The fixed search path of gcab, as install uses it. */
static const char SU_TOOL_PATH[] = "/usr/sbin:/usr/bin:/sbin:/bin";

static int
find_gcab(char *out, size_t n)
{
	const char *p = SU_TOOL_PATH;

	while (*p != '\0') {
		size_t len = strcspn(p, ":");

		snprintf(out, n, "%.*s/gcab", (int)len, p);
		if (access(out, X_OK) == 0)
			return 0;
		p += len;
		if (*p == ':')
			p++;
	}
	return -1;
}

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Runs gcab (ARGV, argv[0] "gcab") with execve: no shell, environment
 * PATH and LANG=C only, stdin and stderr /dev/null, stdout into OUT
 * when not NULL, every other descriptor closed, at most
 * SU_GCAB_TIMEOUT_S seconds (then killed). Returns 0 when it exited 0.
 */
static int
run_gcab(char *const argv[], struct sbuf *out, char *msg, size_t msg_size)
{
	static char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	static char env_lang[] = "LANG=C";
	char *envp[] = { env_path, env_lang, NULL };
	char gcab[64];
	int pfd[2] = { -1, -1 }, devnull, status = 0;
	bool timed_out = false, overflow = false;
	double deadline;
	pid_t pid, w;

	if (find_gcab(gcab, sizeof(gcab)) < 0) {
		say(msg, msg_size,
		    "gcab is not installed (needed to extract the CAB)");
		return -1;
	}
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		say(msg, msg_size, "/dev/null: %s", strerror(errno));
		return -1;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		say(msg, msg_size, "pipe: %s", strerror(errno));
		close(devnull);
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		say(msg, msg_size, "fork: %s", strerror(errno));
		close(devnull);
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls from here on. */
		if (dup2(devnull, STDIN_FILENO) < 0 ||
		    dup2(pfd[1], STDOUT_FILENO) < 0 ||
		    dup2(devnull, STDERR_FILENO) < 0)
			_exit(127);
		close_range(3, ~0U, 0);
		execve(gcab, argv, envp);
		_exit(127);
	}
	close(devnull);
	close(pfd[1]);
	deadline = mono_now() + SU_GCAB_TIMEOUT_S;
	for (;;) {
		struct pollfd pf = { .fd = pfd[0], .events = POLLIN };
		double left = deadline - mono_now();
		char buf[1024];
		ssize_t n;

		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(&pf, 1, left > 1 ? 1000 : (int)(left * 1000) + 1) <= 0)
			continue;
		if ((n = read(pfd[0], buf, sizeof(buf))) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out != NULL && sbuf_add(out, buf, (size_t)n) < 0) {
			overflow = true; /* the sbuf released itself */
			break;
		}
	}
	close(pfd[0]);
	while (!timed_out && !overflow) {
		if ((w = waitpid(pid, &status, WNOHANG)) == pid)
			break;
		if (w < 0 && errno != EINTR) {
			say(msg, msg_size, "waitpid: %s", strerror(errno));
			kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			return -1;
		}
		if (mono_now() >= deadline)
			timed_out = true;
		else
			usleep(20000);
	}
	if (timed_out || overflow) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		say(msg, msg_size, "gcab %s: %s", argv[1],
		    timed_out ? "timed out" : "listing too long");
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		say(msg, msg_size, "gcab %s failed: not a valid CAB", argv[1]);
		return -1;
	}
	return 0;
}

static bool
known_entry(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(su_entries) / sizeof(su_entries[0]); i++)
		if (strlen(su_entries[i]) == n &&
		    memcmp(su_entries[i], s, n) == 0)
			return true;
	return false;
}

/*
 * Lists CAB (gcab -t) and refuses it unless its entries are exactly
 * VERSION and wuagent, each once, plain names without any path; then
 * extracts it into DIR (gcab -x -C DIR) and checks that DIR holds
 * exactly those two, as regular files.
 */
static int
extract(const char *cab, const char *dir, char *msg, size_t msg_size)
{
	char *argv[6];
	struct sbuf list;
	size_t seen = 0, count = 0;
	const char *p;
	int rc = -1;

	sbuf_init(&list, SU_LIST_MAX);
	argv[0] = (char *)(uintptr_t) "gcab";
	argv[1] = (char *)(uintptr_t) "-t";
	argv[2] = (char *)(uintptr_t)cab;
	argv[3] = NULL;
	if (run_gcab(argv, &list, msg, msg_size) < 0)
		goto out;
	for (p = sbuf_str(&list); *p != '\0';) {
		size_t len = strcspn(p, "\n");

		for (size_t i = 0;
		     i < sizeof(su_entries) / sizeof(su_entries[0]); i++)
			if (strlen(su_entries[i]) == len &&
			    memcmp(su_entries[i], p, len) == 0) {
				if (seen & (1U << i)) {
					say(msg, msg_size,
					    "refused: the CAB holds %s twice",
					    su_entries[i]);
					goto out;
				}
				seen |= 1U << i;
			}
		if (!known_entry(p, len)) {
			say(msg, msg_size,
			    "refused: the CAB holds \"%.*s\" (only VERSION "
			    "and wuagent, without any path, are accepted)",
			    (int)(len > 100 ? 100 : len), p);
			goto out;
		}
		count++;
		p += len + (p[len] == '\n');
	}
	if (count != 2 || seen != 3) {
		say(msg, msg_size,
		    "refused: the CAB must hold VERSION and wuagent");
		goto out;
	}
	if (mkdir(dir, 0700) < 0) {
		say(msg, msg_size, "%s: %s", dir, strerror(errno));
		goto out;
	}
	argv[1] = (char *)(uintptr_t) "-x";
	argv[2] = (char *)(uintptr_t) "-C";
	argv[3] = (char *)(uintptr_t)dir;
	argv[4] = (char *)(uintptr_t)cab;
	argv[5] = NULL;
	if (run_gcab(argv, NULL, msg, msg_size) < 0)
		goto out;
	rc = 0;
out:
	sbuf_release(&list);
	return rc;
}

/* DIR/NAME, a regular file (not a symbolic link), into OUT
 * (AGENT_PATH_MAX). */
static int
extracted_file(const char *dir, const char *name, char *out, struct stat *sb,
    char *msg, size_t msg_size)
{
	if (su_path(out, dir, name) < 0) {
		say(msg, msg_size, "state directory path too long");
		return -1;
	}
	if (lstat(out, sb) < 0 || !S_ISREG(sb->st_mode)) {
		say(msg, msg_size,
		    "refused: the CAB did not extract %s as a regular file",
		    name);
		return -1;
	}
	return 0;
}

static int
read_version(const char *path, struct su_version *v, char *msg, size_t msg_size)
{
	char buf[SU_VERSION_FILE_MAX + 1];
	size_t have = 0;
	ssize_t n = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		say(msg, msg_size, "VERSION: %s", strerror(errno));
		return -1;
	}
	while (have < sizeof(buf) &&
	    ((n = read(fd, buf + have, sizeof(buf) - have)) > 0 ||
		(n < 0 && errno == EINTR)))
		if (n > 0)
			have += (size_t)n;
	close(fd);
	if (n < 0) {
		say(msg, msg_size, "VERSION: %s", strerror(errno));
		return -1;
	}
	if (have > SU_VERSION_FILE_MAX || parse_version(buf, have, v) < 0) {
		say(msg, msg_size,
		    "refused: VERSION is not one line MAJOR.MINOR.PATCH");
		return -1;
	}
	return 0;
}

static bool
is_elf(const char *path)
{
	unsigned char magic[4];
	bool ok;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return false;
	ok = read(fd, magic, 4) == 4 && memcmp(magic, "\177ELF", 4) == 0;
	close(fd);
	return ok;
}

/* ------------------------------------------------------------- install */

/* Copies SRC to the fresh file descriptor OUT, then fsyncs OUT. */
static int
copy_into(const char *src, int out, char *msg, size_t msg_size)
{
	char *buf = malloc(SU_COPY_CHUNK);
	ssize_t n = 0;
	int in, rc = -1;

	if (buf == NULL) {
		say(msg, msg_size, "out of memory");
		return -1;
	}
	if ((in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		say(msg, msg_size, "%s: %s", src, strerror(errno));
		free(buf);
		return -1;
	}
	while ((n = read(in, buf, SU_COPY_CHUNK)) > 0 ||
	    (n < 0 && errno == EINTR)) {
		ssize_t done = 0;

		while (done < n) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				say(msg, msg_size, "cannot write: %s",
				    w < 0 ? strerror(errno) : "disk full");
				goto out;
			}
			done += w;
		}
	}
	if (n < 0) {
		say(msg, msg_size, "%s: %s", src, strerror(errno));
		goto out;
	}
	if (fsync(out) < 0) {
		say(msg, msg_size, "cannot sync: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(in);
	free(buf);
	return rc;
}

/*
 * Replaces DEST by SRC atomically: DEST.new in the same directory
 * (created afresh, DEST's permission bits or 0755), written and
 * fsynced, renamed over DEST, then the directory fsynced. DEST must be
 * a regular file or not exist; a symbolic link is refused (the rename
 * would replace the link, not what it names).
 */
static int
install_binary(const char *src, const char *dest, char *msg, size_t msg_size)
{
	char tmp[AGENT_PATH_MAX + 8], dir[AGENT_PATH_MAX];
	const char *slash;
	mode_t mode = 0755;
	struct stat sb;
	int fd, dfd, w;

	w = snprintf(tmp, sizeof(tmp), "%s.new", dest);
	if (w < 0 || (size_t)w >= sizeof(tmp)) {
		say(msg, msg_size, "%s: path too long", dest);
		return -1;
	}
	if (lstat(dest, &sb) == 0) {
		if (!S_ISREG(sb.st_mode)) {
			say(msg, msg_size,
			    "%s is not a regular file%s: not replaced", dest,
			    S_ISLNK(sb.st_mode) ? " (a symbolic link: give "
						  "its target)"
						: "");
			return -1;
		}
		mode = sb.st_mode & 0777;
	} else if (errno != ENOENT) {
		say(msg, msg_size, "%s: %s", dest, strerror(errno));
		return -1;
	}
	/* A PATH.new left by an interrupted update: never followed. */
	if (unlink(tmp) < 0 && errno != ENOENT) {
		say(msg, msg_size, "%s: cannot remove: %s", tmp,
		    strerror(errno));
		return -1;
	}
	if ((fd = open(tmp,
		 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0700)) <
	    0) {
		say(msg, msg_size, "%s: cannot create: %s", tmp,
		    strerror(errno));
		return -1;
	}
	/* The mode first: copy_into's fsync then covers it too. */
	if (fchmod(fd, mode) < 0 || copy_into(src, fd, msg, msg_size) < 0) {
		if (msg[0] == '\0')
			say(msg, msg_size, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, dest) < 0) {
		say(msg, msg_size, "%s: cannot replace: %s", dest,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	if ((slash = strrchr(dest, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dest)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - dest), dest);
	/* The rename is done; a directory that cannot be synced is only
	 * reported. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(dfd) < 0)
		fprintf(stderr, "wuagent: selfupdate: %s: cannot sync: %s\n",
		    dir, strerror(errno));
	if (dfd >= 0)
		close(dfd);
	return 0;
}

/* The running binary's path, from /proc/self/exe. */
static int
self_path(char *out, size_t n, char *msg, size_t msg_size)
{
	static const char deleted[] = " (deleted)";
	ssize_t len = readlink("/proc/self/exe", out, n - 1);

	if (len < 0 || (size_t)len >= n - 1) {
		say(msg, msg_size,
		    "cannot tell where this binary is (/proc/self/exe): "
		    "give --install-to PATH");
		return -1;
	}
	out[len] = '\0';
	if ((size_t)len >= sizeof(deleted) - 1 &&
	    strcmp(out + len - (sizeof(deleted) - 1), deleted) == 0) {
		say(msg, msg_size,
		    "the running binary was removed or replaced: give "
		    "--install-to PATH");
		return -1;
	}
	return 0;
}

/* ----------------------------------------------------------- the work */

static int
rm_entry(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)f;
	if (type == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void
remove_tree(const char *dir)
{
	if (dir[0] != '\0' && nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "wuagent: selfupdate: cannot remove %s: %s\n",
		    dir, strerror(errno));
}

/* The URL of the offered CAB: the content base's scheme://host:port. */
static int
cab_url(const struct agent_config *cf, char *out, size_t n)
{
	const char *base =
	    cf->alternate_url[0] != '\0' ? cf->alternate_url : cf->wu_server;

	/* agent_alternate_url keeps the path and takes BASE's origin. */
	return agent_alternate_url("http://origin" SU_URL_PATH, base, out, n);
}

struct su_opts {
	const char *install_to;
	bool check;
};

/*
 * Everything after the argument checks, in the private directory WORK
 * (STATE_DIR/selfupdate-XXXXXX, removed by the caller).
 */
static int
selfupdate(const struct agent_config *cf, const struct su_opts *o,
    const char *work)
{
	static struct agent_config vcf; /* large: not on the stack */
	char url[AGENT_URL_MAX], part[AGENT_PATH_MAX], cab[AGENT_PATH_MAX],
	    xdir[AGENT_PATH_MAX], bin[AGENT_PATH_MAX], vfile[AGENT_PATH_MAX],
	    dest[AGENT_PATH_MAX], offered_s[80], own_s[80];
	char msg[AGENT_MSG_MAX] = "";
	struct su_version own, offered;
	struct agent_file f;
	struct agent_pkg pkg;
	struct stat sb;
	uint64_t bytes;
	long status;
	int32_t hr;

	if (parse_version(WSUSD_VERSION, strlen(WSUSD_VERSION), &own) < 0)
		return agent_fail("selfupdate",
		    "this agent's version \"%s\" is not MAJOR.MINOR.PATCH",
		    WSUSD_VERSION);
	version_str(&own, own_s, sizeof(own_s));
	if (cab_url(cf, url, sizeof(url)) < 0)
		return agent_fail("selfupdate", "no usable server URL (%s)",
		    cf->alternate_url[0] != '\0' ? "UpdateServiceUrlAlternate"
						 : "WUServer");
	/* WORK leaves room for these (agent_cmd_selfupdate). */
	if (su_path(part, work, "downloads") < 0 ||
	    su_path(xdir, work, "x") < 0)
		return agent_fail("selfupdate",
		    "state directory path too long");
	if (mkdir(part, 0700) < 0)
		return agent_fail("selfupdate", "%s: %s", part,
		    strerror(errno));
	if (su_path(part, work, "downloads/wuagent.cab.part") < 0)
		return agent_fail("selfupdate",
		    "state directory path too long");
	if (get_cab(cf, url, part, &status, &bytes, msg, sizeof(msg)) < 0)
		return agent_fail("selfupdate", "%s", msg);
	if (status == 404) {
		printf("selfupdate: no agent update offered (%s: 404)\n", url);
		return 0;
	}
	if (status != 200)
		return agent_fail("selfupdate", "%s: HTTP %ld", url, status);

	/*
	 * The signature, before anything in the CAB is looked at: the
	 * check install makes (agent_pkg_verify: every *.pem and *.crt of
	 * TrustedPublishers, osslsigncode verify), run on the CAB where it
	 * expects a download, under WORK instead of the state directory.
	 */
	memset(&f, 0, sizeof(f));
	snprintf(f.name, sizeof(f.name), "wuagent.cab");
	if (hash_file(part, &f, msg, sizeof(msg)) < 0)
		return agent_fail("selfupdate", "%s", msg);
	if (agent_download_path(work, &f, cab, sizeof(cab)) < 0 ||
	    rename(part, cab) < 0)
		return agent_fail("selfupdate", "%s: cannot rename: %s", part,
		    strerror(errno));
	vcf = *cf;
	snprintf(vcf.state_dir, sizeof(vcf.state_dir), "%s", work);
	memset(&pkg, 0, sizeof(pkg));
	pkg.files = &f;
	pkg.n_files = 1;
	if ((hr = agent_pkg_verify(&vcf, &pkg, msg, sizeof(msg))) != 0)
		return agent_fail("selfupdate",
		    "signature not trusted: %s (0x%08X); nothing replaced", msg,
		    (unsigned)hr);

	if (extract(cab, xdir, msg, sizeof(msg)) < 0 ||
	    extracted_file(xdir, "VERSION", vfile, &sb, msg, sizeof(msg)) < 0 ||
	    read_version(vfile, &offered, msg, sizeof(msg)) < 0 ||
	    extracted_file(xdir, "wuagent", bin, &sb, msg, sizeof(msg)) < 0)
		return agent_fail("selfupdate", "%s: %s; nothing replaced", url,
		    msg);
	version_str(&offered, offered_s, sizeof(offered_s));
	if (version_cmp(&offered, &own) <= 0) {
		printf("selfupdate: up to date: this agent is %s, the server "
		       "offers %s\n",
		    own_s, offered_s);
		return 0;
	}
	if (o->check) {
		printf("selfupdate: update available: %s (this agent is %s)\n",
		    offered_s, own_s);
		return 0;
	}
	if (!is_elf(bin))
		return agent_fail("selfupdate",
		    "refused: the offered wuagent is not an ELF executable; "
		    "nothing replaced");
	if (o->install_to != NULL) {
		if (strlen(o->install_to) >= sizeof(dest))
			return agent_fail("selfupdate",
			    "--install-to: path too long");
		snprintf(dest, sizeof(dest), "%s", o->install_to);
	} else if (self_path(dest, sizeof(dest), msg, sizeof(msg)) < 0)
		return agent_fail("selfupdate", "%s", msg);
	msg[0] = '\0';
	if (install_binary(bin, dest, msg, sizeof(msg)) < 0)
		return agent_fail("selfupdate", "%s", msg);
	printf("selfupdate: installed wuagent %s at %s (%" PRIu64
	       " bytes; this agent was %s); it takes effect at the next "
	       "start\n",
	    offered_s, dest, (uint64_t)sb.st_size, own_s);
	return 0;
}

int
agent_cmd_selfupdate(struct agent_config *cf, int argc, char **argv)
{
	char work[AGENT_PATH_MAX];
	struct su_opts o = { NULL, false };
	const char *why;
	int w, rc;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--check") == 0)
			o.check = true;
		else if (strcmp(argv[i], "--install-to") == 0 && i + 1 < argc &&
		    argv[i + 1][0] != '\0')
			o.install_to = argv[++i];
		else
			return su_usage();
	}
	if (agent_config_check(cf, &why) < 0)
		return agent_fail("selfupdate", "%s", why);
	/* Nothing unsigned is ever looked at, not even its VERSION. */
	if (cf->trusted_publishers[0] == '\0')
		return agent_fail("selfupdate",
		    "selfupdate needs TrustedPublishers (--trusted-publishers "
		    "DIR): the agent installs only an agent signed by a "
		    "publisher it trusts");
	signal(SIGPIPE, SIG_IGN);
	if (mkdir(cf->state_dir, 0700) < 0 && errno != EEXIST)
		return agent_fail("selfupdate", "%s: %s", cf->state_dir,
		    strerror(errno));
	/* Room beneath it for downloads/<SHA-1 hex> and the rest. */
	w = snprintf(work, sizeof(work), "%s/selfupdate-XXXXXX", cf->state_dir);
	if (w < 0 || w >= AGENT_PATH_MAX - 64)
		return agent_fail("selfupdate",
		    "state directory path too long");
	if (mkdtemp(work) == NULL)
		return agent_fail("selfupdate", "%s: cannot create: %s", work,
		    strerror(errno));
	rc = selfupdate(cf, &o, work);
	remove_tree(work);
	return rc;
}
