/*
 * Packages and the CommandLineInstallation handler for Linux
 * (agent_install.h, docs/AGENT.md).
 */
#include "wuagent/agent_install.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mspack.h>

#include "catalog/fragment.h"
#include "catalog/sign.h"
#include "common/sbuf.h"
#include "wuagent/agent_proto.h"

/* Files of one package, members included: far more than any real one. */
#define PKG_MAX_FILES 10000
/* gcab's listing of one CAB (names, one a line). */
#define LIST_MAX (1024 * 1024)
/* Arguments of one install command. */
#define MAX_ARGS 256
/* Longest gcab may take on one CAB. */
#define GCAB_TIMEOUT 600
/* One PEM of the TrustedPublishers directory. */
#define PEM_MAX (1024 * 1024)
/* What the CABs of one update may unpack to, all together (SECURITY.md
 * S16: a few KiB of MSZIP can declare gigabytes of zeros). */
#define EXTRACT_MAX (4ULL * 1024 * 1024 * 1024)
/* Room left on the state directory's file system after extracting. */
#define EXTRACT_SPARE (16ULL * 1024 * 1024)

/* The fixed search path of installers, and of gcab itself. */
static const char INSTALL_PATH[] = "/usr/sbin:/usr/bin:/sbin:/bin";

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

/* ------------------------------------------------------------ package */

void
agent_pkg_release(struct agent_pkg *p)
{
	if (p == NULL)
		return;
	free(p->xml_core);
	for (size_t i = 0; i < p->n_units; i++)
		free(p->units[i].xml_extended);
	free(p->units);
	free(p->files);
	memset(p, 0, sizeof(*p));
}

/* Authority end: the first '/', '?' or '#' after "scheme://". */
static int
split_origin(const char *url, size_t *origin_len)
{
	const char *s = strstr(url, "://"), *e;

	if (s == NULL || s == url || s[3] == '\0' || s[3] == '/')
		return WSD_EINVAL;
	for (const char *p = url; p < s; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(p > url &&
			    ((*p >= '0' && *p <= '9') || *p == '+' ||
				*p == '-' || *p == '.'))))
			return WSD_EINVAL;
	e = s + 3 + strcspn(s + 3, "/?#");
	*origin_len = (size_t)(e - url);
	return 0;
}

int
agent_alternate_url(const char *url, const char *alt, char *out, size_t n)
{
	size_t ul, al;
	int w;

	if (split_origin(url, &ul) < 0 || split_origin(alt, &al) < 0)
		return WSD_EINVAL;
	w = snprintf(out, n, "%.*s%s", (int)al, alt, url + ul);
	if (w < 0 || (size_t)w >= n)
		return WSD_ETOOBIG;
	return 0;
}

struct rev_copy {
	struct agent_unit *u;
	char *title;
	size_t title_size;
	char **core;
	size_t *core_len;
	bool nomem;
};

static char *
dup_bytes(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static int
copy_rev(void *arg, const struct agent_revision *r)
{
	struct rev_copy *c = arg;

	memcpy(c->u->update_id, r->update_id, sizeof(c->u->update_id));
	c->u->revision_id = r->revision_id;
	c->u->revision_number = r->revision_number;
	if (r->xml_extended != NULL) {
		c->u->xml_extended =
		    dup_bytes(r->xml_extended, r->xml_extended_len);
		c->u->xml_extended_len = r->xml_extended_len;
		if (c->u->xml_extended == NULL)
			c->nomem = true;
	}
	if (c->title != NULL)
		snprintf(c->title, c->title_size, "%s", r->title);
	if (c->core != NULL) {
		if ((*c->core = dup_bytes(r->xml_core, r->xml_core_len)) ==
		    NULL)
			c->nomem = true;
		*c->core_len = r->xml_core_len;
	}
	return 1;
}

/* The cached revisions of the bundled members, by UpdateID. */
struct member_find {
	const struct fragment_bundled_info *want;
	size_t n;
	int32_t *rev_id;     /* per member: chosen revision id, 0 none */
	int32_t *rev_number; /* and its number */
	bool *exact;
};

static int
find_members(void *arg, const struct agent_revision *r)
{
	struct member_find *m = arg;

	for (size_t i = 0; i < m->n; i++) {
		if (strcmp(m->want[i].guid, r->update_id) != 0 || m->exact[i])
			continue;
		if ((uint32_t)r->revision_number == m->want[i].revision) {
			m->rev_id[i] = r->revision_id;
			m->rev_number[i] = r->revision_number;
			m->exact[i] = true;
		} else if (m->rev_id[i] == 0 ||
		    r->revision_number > m->rev_number[i]) {
			m->rev_id[i] = r->revision_id;
			m->rev_number[i] = r->revision_number;
		}
	}
	return 0;
}

struct file_add {
	struct agent_pkg *p;
	const struct agent_config *cf;
	int rc;
	const char *why;
};

static int
add_file(void *arg, const struct agent_file_row *row)
{
	struct file_add *a = arg;
	struct agent_pkg *p = a->p;
	struct agent_file *f, *nf;

	if (p->n_files == PKG_MAX_FILES) {
		a->rc = WSD_ETOOBIG;
		a->why = "more than 10000 files in one package";
		return 1;
	}
	if ((nf = realloc(p->files, (p->n_files + 1) * sizeof(*nf))) == NULL) {
		a->rc = WSD_ENOMEM;
		a->why = "out of memory";
		return 1;
	}
	p->files = nf;
	f = &p->files[p->n_files];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", row->name);
	f->size = row->size;
	memcpy(f->sha1, row->sha1, sizeof(f->sha1));
	memcpy(f->sha256, row->sha256, sizeof(f->sha256));
	f->has_sha256 = row->has_sha256;
	if (row->url[0] != '\0' && a->cf->alternate_url[0] != '\0') {
		if (agent_alternate_url(row->url, a->cf->alternate_url, f->url,
			sizeof(f->url)) < 0) {
			a->rc = WSD_EINVAL;
			a->why = "a file URL cannot be moved onto "
				 "UpdateServiceUrlAlternate";
			return 1;
		}
	} else
		snprintf(f->url, sizeof(f->url), "%s", row->url);
	p->n_files++;
	return 0;
}

static int
load_unit(struct agent_state *st, const struct agent_config *cf,
    struct agent_pkg *p, int32_t revision_id, bool first, char *msg,
    size_t msg_size)
{
	struct agent_unit *u = &p->units[p->n_units];
	struct rev_copy rc = { u, NULL, 0, NULL, NULL, false };
	struct file_add fa = { p, cf, 0, NULL };
	struct wsd_err err;

	memset(u, 0, sizeof(*u));
	if (first) {
		rc.title = p->title;
		rc.title_size = sizeof(p->title);
		rc.core = &p->xml_core;
		rc.core_len = &p->xml_core_len;
	}
	if (agent_state_revision(st, revision_id, copy_rev, &rc, &err) < 0) {
		free(u->xml_extended);
		say(msg, msg_size, "revision %d: %s", (int)revision_id,
		    err.what);
		return -1;
	}
	p->n_units++; /* owns what copy_rev allocated from here on */
	if (rc.nomem) {
		say(msg, msg_size, "out of memory");
		return -1;
	}
	u->first_file = p->n_files;
	if (agent_state_files(st, revision_id, add_file, &fa, &err) < 0) {
		say(msg, msg_size, "files of revision %d: %s", (int)revision_id,
		    err.what);
		return -1;
	}
	if (fa.rc < 0) {
		say(msg, msg_size, "%s", fa.why);
		return -1;
	}
	u->n_files = p->n_files - u->first_file;
	return 0;
}

int
agent_pkg_load(struct agent_state *st, const struct agent_config *cf,
    int32_t revision_id, struct agent_pkg *out, char *msg, size_t msg_size)
{
	struct fragment_core_info ci;
	struct member_find mf;
	struct wsd_err err;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&mf, 0, sizeof(mf));
	if ((out->units = calloc(1, sizeof(*out->units))) == NULL) {
		say(msg, msg_size, "out of memory");
		return WSD_ENOMEM;
	}
	if (load_unit(st, cf, out, revision_id, true, msg, msg_size) < 0)
		goto fail;
	memcpy(out->update_id, out->units[0].update_id, sizeof(out->update_id));
	out->revision_id = revision_id;
	out->revision_number = out->units[0].revision_number;
	if (fragment_parse_core(out->xml_core, out->xml_core_len, &ci, &err) <
	    0) {
		say(msg, msg_size, "core fragment: %s", err.what);
		goto fail;
	}
	if (ci.n_bundled == 0) {
		fragment_core_info_release(&ci);
		return 0;
	}
	mf.want = ci.bundled;
	mf.n = ci.n_bundled;
	mf.rev_id = calloc(ci.n_bundled, sizeof(*mf.rev_id));
	mf.rev_number = calloc(ci.n_bundled, sizeof(*mf.rev_number));
	mf.exact = calloc(ci.n_bundled, sizeof(*mf.exact));
	if (mf.rev_id == NULL || mf.rev_number == NULL || mf.exact == NULL) {
		say(msg, msg_size, "out of memory");
		goto fail_ci;
	}
	{
		struct agent_unit *nu =
		    realloc(out->units, (1 + ci.n_bundled) * sizeof(*nu));

		if (nu == NULL) {
			say(msg, msg_size, "out of memory");
			goto fail_ci;
		}
		out->units = nu;
	}
	if (agent_state_revisions(st, find_members, &mf, &err) < 0) {
		say(msg, msg_size, "state: %s", err.what);
		goto fail_ci;
	}
	for (size_t i = 0; i < ci.n_bundled; i++) {
		if (mf.rev_id[i] == 0) {
			say(msg, msg_size,
			    "bundled update %s is not cached: run scan",
			    ci.bundled[i].guid);
			goto fail_ci;
		}
		if (load_unit(st, cf, out, mf.rev_id[i], false, msg, msg_size) <
		    0)
			goto fail_ci;
	}
	rc = 0;
fail_ci:
	free(mf.rev_id);
	free(mf.rev_number);
	free(mf.exact);
	fragment_core_info_release(&ci);
	if (rc == 0)
		return 0;
fail:
	agent_pkg_release(out);
	return WSD_EINVAL;
}

/* ------------------------------------------------------ verification */

static int
mkdir_private(const char *path)
{
	struct stat sb;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -1;
	if (lstat(path, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/* Appends the file NAME in directory DIRFD to OUT (a 0600 temp file). */
static int
append_pem(int dfd, const char *name, int out)
{
	char buf[8192];
	size_t total = 0;
	ssize_t n;
	int fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		total += (size_t)n;
		if (total > PEM_MAX || write(out, buf, (size_t)n) != n) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	/* A file without a final newline must not glue two PEMs. */
	return n < 0 || write(out, "\n", 1) != 1 ? -1 : 0;
}

static bool
pem_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 4 &&
	    (strcasecmp(name + n - 4, ".pem") == 0 ||
		strcasecmp(name + n - 4, ".crt") == 0);
}

/*
 * The certificates of the TrustedPublishers directory (*.pem, *.crt)
 * concatenated into a fresh file under STATE_DIR, PATH (AGENT_PATH_MAX):
 * osslsigncode takes one CA file. The caller unlinks PATH.
 */
static int
publishers_file(const struct agent_config *cf, char *path, char *msg,
    size_t msg_size)
{
	struct dirent **names = NULL;
	int dfd, out, n = 0, w, count = 0, rc = -1;

	path[0] = '\0';
	if ((dfd = open(cf->trusted_publishers,
		 O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		say(msg, msg_size, "TrustedPublishers %s: %s",
		    cf->trusted_publishers, strerror(errno));
		return -1;
	}
	w = snprintf(path, AGENT_PATH_MAX, "%s/publishers-XXXXXX",
	    cf->state_dir);
	if (w < 0 || w >= AGENT_PATH_MAX) {
		say(msg, msg_size, "state directory path too long");
		path[0] = '\0';
		close(dfd);
		return -1;
	}
	if ((out = mkostemp(path, O_CLOEXEC)) < 0) {
		say(msg, msg_size, "%s: cannot create: %s", path,
		    strerror(errno));
		path[0] = '\0';
		close(dfd);
		return -1;
	}
	if ((n = scandirat(dfd, ".", &names, NULL, alphasort)) < 0) {
		say(msg, msg_size, "TrustedPublishers %s: %s",
		    cf->trusted_publishers, strerror(errno));
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (!pem_name(names[i]->d_name))
			continue;
		if (append_pem(dfd, names[i]->d_name, out) < 0) {
			say(msg, msg_size, "TrustedPublishers: cannot read %s",
			    names[i]->d_name);
			goto out;
		}
		count++;
	}
	if (count == 0) {
		say(msg, msg_size,
		    "TrustedPublishers %s holds no certificate "
		    "(*.pem, *.crt)",
		    cf->trusted_publishers);
		goto out;
	}
	rc = 0;
out:
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (close(out) < 0)
		rc = -1;
	close(dfd);
	if (rc < 0) {
		unlink(path);
		path[0] = '\0';
	}
	return rc;
}

int32_t
agent_pkg_verify(const struct agent_config *cf, const struct agent_pkg *p,
    char *msg, size_t msg_size)
{
	char path[AGENT_PATH_MAX], cafile[AGENT_PATH_MAX] = "";
	int32_t hr = 0;

	for (size_t i = 0; i < p->n_files; i++) {
		const struct agent_file *f = &p->files[i];
		enum agent_dl_result r;

		if (agent_download_path(cf->state_dir, f, path, sizeof(path)) <
		    0) {
			say(msg, msg_size, "state directory path too long");
			return (int32_t)AGENT_HR_DM_UNEXPECTED;
		}
		r = agent_verify_file(path, f, msg, msg_size);
		if (r == AGENT_DL_MISMATCH)
			return (int32_t)AGENT_HR_INCORRECT_HASH;
		if (r != AGENT_DL_OK) {
			size_t l = strlen(msg);

			snprintf(msg + l, msg_size - l, " (%s: not downloaded)",
			    f->name);
			return (int32_t)AGENT_HR_NOT_DOWNLOADED;
		}
	}
	if (p->n_files == 0)
		return 0;
	/* The digests come from the same server as the command: without a
	 * publisher check, a compromised server runs what it likes as root
	 * (SECURITY.md S3, S15). Only an administrator's explicit choice
	 * skips it. */
	if (cf->trusted_publishers[0] == '\0') {
		if (cf->allow_unsigned_packages)
			return 0;
		say(msg, msg_size,
		    "no TrustedPublishers configured: packages are not run "
		    "without a publisher check (set TrustedPublishers, or "
		    "AllowUnsignedPackages = 1 to trust the server's digests "
		    "alone)");
		return (int32_t)AGENT_HR_NOT_TRUSTED;
	}
	if (publishers_file(cf, cafile, msg, msg_size) < 0)
		return (int32_t)AGENT_HR_NOT_TRUSTED;
	for (size_t i = 0; i < p->n_files && hr == 0; i++) {
		const struct agent_file *f = &p->files[i];
		struct wsd_err err = { WSD_EINTERNAL, "path too long" };

		if (agent_download_path(cf->state_dir, f, path, sizeof(path)) <
			0 ||
		    sign_verify(path, cafile, &err) < 0) {
			/* err says "cannot run osslsigncode" when it is
			 * missing: not the same as a bad signature. */
			say(msg, msg_size,
			    "%s: the Authenticode signature does not verify "
			    "against TrustedPublishers %s (%s)",
			    f->name, cf->trusted_publishers, err.what);
			hr = (int32_t)AGENT_HR_NOT_TRUSTED;
		}
	}
	unlink(cafile);
	return hr;
}

/* ------------------------------------------------------------ running */

struct run_spec {
	const char *path; /* absolute */
	char **argv;
	const char *cwd;      /* NULL: unchanged */
	int out_fd;           /* stdout and stderr; -1: /dev/null */
	struct sbuf *capture; /* non-NULL: stdout captured here instead */
	unsigned timeout;     /* seconds */
};

struct run_result {
	bool started;
	bool timed_out;
	bool overflow; /* capture exceeded its cap */
	int status;    /* waitpid status */
};

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Runs RS->path with execve: no shell, environment PATH and LANG=C only,
 * stdin /dev/null, every other descriptor closed, in a process group of
 * its own which is killed when the time is up and once the program has
 * exited (nothing it started outlives the install). Returns 0 when the
 * program ran to an exit status (or was killed: RES says), -1 with MSG
 * when it could not be started.
 */
static int
run_program(const struct run_spec *rs, struct run_result *res, char *msg,
    size_t msg_size)
{
	static char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	static char env_lang[] = "LANG=C";
	char *envp[] = { env_path, env_lang, NULL };
	int pfd[2] = { -1, -1 }, devnull;
	double deadline;
	pid_t pid, w;

	memset(res, 0, sizeof(*res));
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		say(msg, msg_size, "/dev/null: %s", strerror(errno));
		return -1;
	}
	if (rs->capture != NULL && pipe2(pfd, O_CLOEXEC) < 0) {
		say(msg, msg_size, "pipe: %s", strerror(errno));
		close(devnull);
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		say(msg, msg_size, "fork: %s", strerror(errno));
		close(devnull);
		if (pfd[0] >= 0) {
			close(pfd[0]);
			close(pfd[1]);
		}
		return -1;
	}
	if (pid == 0) {
		int out = rs->out_fd >= 0 ? rs->out_fd : devnull;

		/* Only async-signal-safe calls from here on. */
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		if ((rs->cwd != NULL && chdir(rs->cwd) < 0) ||
		    dup2(devnull, STDIN_FILENO) < 0 ||
		    dup2(pfd[1] >= 0 ? pfd[1] : out, STDOUT_FILENO) < 0 ||
		    dup2(out, STDERR_FILENO) < 0)
			_exit(127);
		close_range(3, ~0U, 0);
		execve(rs->path, rs->argv, envp);
		_exit(127);
	}
	/* Both sides race to put the child in its group: no window in
	 * which a kill of the group would miss it. */
	(void)setpgid(pid, pid);
	res->started = true;
	close(devnull);
	if (pfd[1] >= 0)
		close(pfd[1]);
	deadline = now_mono() + rs->timeout;
	/* Reading the capture until EOF, then the exit status; each step
	 * bounded by the deadline. */
	while (pfd[0] >= 0) {
		struct pollfd pf = { .fd = pfd[0], .events = POLLIN };
		double left = deadline - now_mono();
		char buf[4096];
		ssize_t n;

		if (left <= 0) {
			res->timed_out = true;
			break;
		}
		if (poll(&pf, 1, left > 1 ? 1000 : (int)(left * 1000) + 1) <= 0)
			continue;
		n = read(pfd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (sbuf_add(rs->capture, buf, (size_t)n) < 0) {
			res->overflow = true; /* sbuf released itself */
			break;
		}
	}
	if (pfd[0] >= 0)
		close(pfd[0]);
	/*
	 * The leader is waited for without being reaped (WNOWAIT): while it
	 * is a zombie its pid, and so the group id, cannot be reused, and
	 * killing the group hits only what the program started.
	 */
	while (!res->timed_out && !res->overflow) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) <
		    0) {
			if (errno == EINTR)
				continue;
			say(msg, msg_size, "waitid: %s", strerror(errno));
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			(void)waitpid(pid, &res->status, 0);
			return -1;
		}
		if (si.si_pid == pid)
			break;
		if (now_mono() >= deadline)
			res->timed_out = true;
		else
			usleep(20000);
	}
	/* Whatever the program left running in its group goes with it. */
	kill(-pid, SIGKILL);
	if (res->timed_out || res->overflow)
		kill(pid, SIGKILL);
	while ((w = waitpid(pid, &res->status, 0)) < 0 && errno == EINTR)
		;
	if (w != pid) {
		say(msg, msg_size, "waitpid: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The first executable NAME on INSTALL_PATH into OUT. */
static int
find_tool(const char *name, char *out, size_t n)
{
	const char *p = INSTALL_PATH;

	while (*p != '\0') {
		size_t len = strcspn(p, ":");

		snprintf(out, n, "%.*s/%s", (int)len, p, name);
		if (access(out, X_OK) == 0)
			return 0;
		p += len;
		if (*p == ':')
			p++;
	}
	return -1;
}

/* ------------------------------------------------------ CAB extraction */

/* A CAB entry name the agent accepts: one plain file name. */
static bool
safe_entry(const char *s, size_t n)
{
	if (n == 0 || n > 255 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == ':')
			return false;
	}
	return memmem(s, n, "..", 2) == NULL;
}

static bool
is_cab(const char *path)
{
	unsigned char magic[4];
	bool ok = false;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return false;
	ok = read(fd, magic, 4) == 4 && memcmp(magic, "MSCF", 4) == 0;
	close(fd);
	return ok;
}

/*
 * What CAB declares it unpacks to, read from its headers with libmspack
 * (nothing is decompressed), added to *TOTAL for the update's CABs so
 * far: refused over EXTRACT_MAX or over the free space of DIR's file
 * system less EXTRACT_SPARE, before gcab writes a byte.
 */
static int32_t
check_cab_size(const char *cab, const char *name, const char *dir,
    uint64_t *total, char *msg, size_t msg_size)
{
	struct mscab_decompressor *d;
	struct mscabd_cabinet *c;
	struct mscabd_file *f;
	struct statvfs vfs;
	uint64_t sum = 0, avail;
	int32_t hr = 0;

	if ((d = mspack_create_cab_decompressor(NULL)) == NULL) {
		say(msg, msg_size, "out of memory");
		return (int32_t)AGENT_HR_UH_UNEXPECTED;
	}
	if ((c = d->open(d, cab)) == NULL) {
		say(msg, msg_size, "%s: not a readable CAB (%d)", name,
		    d->last_error(d));
		mspack_destroy_cab_decompressor(d);
		return (int32_t)AGENT_HR_INVALID_METADATA;
	}
	for (f = c->files; f != NULL; f = f->next)
		sum += (uint64_t)f->length;
	d->close(d, c);
	mspack_destroy_cab_decompressor(d);
	*total += sum;
	if (*total > EXTRACT_MAX) {
		say(msg, msg_size,
		    "%s: refused: the update's CABs unpack to %llu bytes, "
		    "over the %llu-byte limit",
		    name, (unsigned long long)*total,
		    (unsigned long long)EXTRACT_MAX);
		return (int32_t)AGENT_HR_INVALID_METADATA;
	}
	if (statvfs(dir, &vfs) == 0) {
		avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		if (sum + EXTRACT_SPARE > avail) {
			say(msg, msg_size,
			    "%s: refused: it unpacks to %llu bytes and %s has "
			    "%llu bytes free",
			    name, (unsigned long long)sum, dir,
			    (unsigned long long)avail);
			hr = (int32_t)AGENT_HR_UH_UNEXPECTED;
		}
	}
	return hr;
}

/*
 * Lists CAB (gcab -t), refuses it unless every entry is a safe plain
 * name not seen in an earlier CAB of the unit (SEEN, newline-joined),
 * then extracts it into DIR (gcab -x -C DIR).
 */
static int32_t
extract_cab(const char *gcab, const char *cab, const char *name,
    const char *dir, int log_fd, struct sbuf *seen, uint64_t *total,
    char *msg, size_t msg_size)
{
	char *argv[6];
	struct run_result rr;
	struct run_spec rs;
	struct sbuf list;
	const char *p;
	int32_t hr = 0;

	if (!is_cab(cab)) {
		say(msg, msg_size,
		    "%s: not a CAB file (the Linux handler installs "
		    "CABs only)",
		    name);
		return (int32_t)AGENT_HR_INVALID_METADATA;
	}
	if ((hr = check_cab_size(cab, name, dir, total, msg, msg_size)) != 0)
		return hr;
	sbuf_init(&list, LIST_MAX);
	argv[0] = (char *)(uintptr_t) "gcab";
	argv[1] = (char *)(uintptr_t) "-t";
	argv[2] = (char *)(uintptr_t)cab;
	argv[3] = NULL;
	rs = (struct run_spec){ gcab, argv, NULL, -1, &list, GCAB_TIMEOUT };
	if (run_program(&rs, &rr, msg, msg_size) < 0) {
		sbuf_release(&list);
		return (int32_t)AGENT_HR_UH_UNEXPECTED;
	}
	if (rr.timed_out || rr.overflow || !WIFEXITED(rr.status) ||
	    WEXITSTATUS(rr.status) != 0) {
		say(msg, msg_size, "%s: gcab cannot list it%s", name,
		    rr.timed_out      ? " (timed out)"
			: rr.overflow ? " (listing too long)"
				      : "");
		sbuf_release(&list);
		return (int32_t)AGENT_HR_INVALID_METADATA;
	}
	for (p = sbuf_str(&list); *p != '\0';) {
		size_t len = strcspn(p, "\n");
		size_t k;

		if (!safe_entry(p, len)) {
			say(msg, msg_size,
			    "%s: refused: entry \"%.*s\" is not a plain "
			    "file name (no path, '/', '\\', '..' or "
			    "control characters)",
			    name, (int)(len > 100 ? 100 : len), p);
			hr = (int32_t)AGENT_HR_INVALID_METADATA;
			break;
		}
		/* Two CABs of one revision must not overwrite each other. */
		for (const char *q = sbuf_str(seen); *q != '\0';) {
			k = strcspn(q, "\n");
			if (k == len && memcmp(q, p, len) == 0) {
				say(msg, msg_size,
				    "%s: refused: entry \"%.*s\" is also in "
				    "another file of the update",
				    name, (int)len, p);
				hr = (int32_t)AGENT_HR_INVALID_METADATA;
				break;
			}
			q += k + (q[k] == '\n');
		}
		if (hr != 0)
			break;
		if (sbuf_add(seen, p, len) < 0 || sbuf_adds(seen, "\n") < 0) {
			say(msg, msg_size, "too many CAB entries");
			hr = (int32_t)AGENT_HR_INVALID_METADATA;
			break;
		}
		p += len + (p[len] == '\n');
	}
	sbuf_release(&list);
	if (hr != 0)
		return hr;
	argv[1] = (char *)(uintptr_t) "-x";
	argv[2] = (char *)(uintptr_t) "-C";
	argv[3] = (char *)(uintptr_t)dir;
	argv[4] = (char *)(uintptr_t)cab;
	argv[5] = NULL;
	rs = (struct run_spec){ gcab, argv, NULL, log_fd, NULL, GCAB_TIMEOUT };
	if (run_program(&rs, &rr, msg, msg_size) < 0)
		return (int32_t)AGENT_HR_UH_UNEXPECTED;
	if (rr.timed_out || !WIFEXITED(rr.status) ||
	    WEXITSTATUS(rr.status) != 0) {
		say(msg, msg_size, "%s: gcab cannot extract it%s", name,
		    rr.timed_out ? " (timed out)" : "");
		return (int32_t)AGENT_HR_INVALID_METADATA;
	}
	return 0;
}

/* After extraction DIR holds exactly plain regular files, no more
 * entries than SEEN names. */
static int32_t
check_extracted(const char *dir, const struct sbuf *seen, char *msg,
    size_t msg_size)
{
	size_t want = 0, have = 0;
	struct dirent *de;
	int32_t hr = 0;
	DIR *d;

	for (const char *q = sbuf_str(seen); *q != '\0'; q++)
		want += *q == '\n';
	if ((d = opendir(dir)) == NULL) {
		say(msg, msg_size, "%s: %s", dir, strerror(errno));
		return (int32_t)AGENT_HR_UH_UNEXPECTED;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat sb;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		have++;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) <
			0 ||
		    !S_ISREG(sb.st_mode)) {
			say(msg, msg_size,
			    "refused: the CAB extracted \"%s\", which is not "
			    "a regular file",
			    de->d_name);
			hr = (int32_t)AGENT_HR_INVALID_METADATA;
			break;
		}
	}
	closedir(d);
	if (hr == 0 && have > want) {
		say(msg, msg_size,
		    "refused: the CABs extracted more entries than they "
		    "list");
		hr = (int32_t)AGENT_HR_INVALID_METADATA;
	}
	return hr;
}

static int
rm_entry(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)f;
	if (type == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* rm -r DIR without following symbolic links. */
static void
remove_tree(const char *dir)
{
	if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "wuagent: cannot remove %s: %s\n", dir,
		    strerror(errno));
}

/* ------------------------------------------------------ the handler */

/* HRESULT_FROM_WIN32 of an exit status, as Windows reports an
 * installer's failing exit code (1603 -> 0x80070643). */
static int32_t
hr_of_exit(int code)
{
	if (code <= 0)
		return (int32_t)AGENT_HR_INSTALLER_FAILURE;
	return (int32_t)(0x80070000u | ((unsigned)code & 0xFFFFu));
}

/*
 * The install command's argument vector: ENTRY, then ARGS split on
 * spaces (runs of spaces are one separator). Strings point into BUF (a
 * copy of ARGS); ARGV has MAX_ARGS + 2 slots.
 */
static int
split_args(char *buf, char **argv, size_t *argc)
{
	size_t n = *argc;

	for (char *p = buf; *p != '\0';) {
		while (*p == ' ')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (n == MAX_ARGS + 1)
			return -1;
		argv[n++] = p;
		p += strcspn(p, " ");
	}
	argv[n] = NULL;
	*argc = n;
	return 0;
}

/* Maps exit CODE through CI's ReturnCodes (docs/AGENT.md). */
static void
map_exit(const struct fragment_cmdline_info *ci, int code,
    struct agent_install_result *res)
{
	enum fragment_result r = FRAGMENT_RESULT_UNSET;
	enum fragment_tristate reboot = FRAGMENT_UNSET;

	for (size_t i = 0; i < ci->n_codes; i++)
		if (ci->codes[i].code == code) {
			r = ci->codes[i].result;
			reboot = ci->codes[i].reboot;
			break;
		}
	if (r == FRAGMENT_RESULT_UNSET &&
	    ci->default_result != FRAGMENT_RESULT_UNSET) {
		r = ci->default_result;
		reboot = ci->reboot_by_default;
	}
	if (r == FRAGMENT_RESULT_UNSET)
		r = code == 0 ? FRAGMENT_RESULT_SUCCEEDED
			      : FRAGMENT_RESULT_FAILED;
	switch (r) {
	case FRAGMENT_RESULT_SUCCEEDED:
		res->outcome = reboot == FRAGMENT_TRUE
		    ? AGENT_INSTALL_REBOOT
		    : AGENT_INSTALL_SUCCEEDED;
		res->hresult = 0;
		break;
	case FRAGMENT_RESULT_CANCELLED:
		res->outcome = AGENT_INSTALL_CANCELLED;
		res->hresult = (int32_t)AGENT_HR_CANCELLED;
		say(res->msg, sizeof(res->msg),
		    "the installer exited with %d: Cancelled", code);
		break;
	default:
		res->outcome = AGENT_INSTALL_FAILED;
		res->hresult = hr_of_exit(code);
		say(res->msg, sizeof(res->msg),
		    "the installer exited with %d: Failed (0x%08X)", code,
		    (unsigned)res->hresult);
		break;
	}
}

static void
fail_res(struct agent_install_result *res, uint32_t hr)
{
	res->outcome = AGENT_INSTALL_FAILED;
	res->hresult = (int32_t)hr;
}

/* Is NAME the FileName of one of U's files? */
static bool
is_package_name(const struct agent_pkg *p, const struct agent_unit *u,
    const char *name)
{
	for (size_t i = 0; i < u->n_files; i++)
		if (strcmp(p->files[u->first_file + i].name, name) == 0)
			return true;
	return false;
}

static void log_line(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
log_line(int fd, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	/* The log is informational: a short write loses only log text. */
	if (write(fd, line, (size_t)n) < 0)
		return;
}

/*
 * One unit: CI's command with U's CABs extracted into a fresh directory
 * under STATE_DIR. RES is set; returns nothing.
 */
static void
install_unit(const struct agent_config *cf, const struct agent_pkg *p,
    const struct agent_unit *u, const struct fragment_cmdline_info *ci,
    unsigned timeout, int log_fd, struct agent_install_result *res)
{
	char dir[AGENT_PATH_MAX], gcab[AGENT_PATH_MAX];
	char path[AGENT_PATH_MAX], entry_path[AGENT_PATH_MAX + 256];
	char *argv[MAX_ARGS + 2], *args = NULL;
	const char *entry;
	struct run_result rr;
	struct run_spec rs;
	struct sbuf seen;
	struct stat sb;
	uint64_t unpacked = 0;
	size_t argc = 1;
	int32_t hr = 0;
	int n;

	sbuf_init(&seen, LIST_MAX);
	n = snprintf(dir, sizeof(dir), "%s/install-XXXXXX", cf->state_dir);
	if (n < 0 || (size_t)n >= sizeof(dir) || mkdtemp(dir) == NULL) {
		say(res->msg, sizeof(res->msg),
		    "cannot create a work directory in %s: %s", cf->state_dir,
		    strerror(errno));
		fail_res(res, AGENT_HR_UH_UNEXPECTED);
		return;
	}
	if (find_tool("gcab", gcab, sizeof(gcab)) < 0) {
		say(res->msg, sizeof(res->msg),
		    "gcab is not installed (needed to extract CABs)");
		fail_res(res, AGENT_HR_UH_UNEXPECTED);
		goto out;
	}
	for (size_t i = 0; i < u->n_files && hr == 0; i++) {
		const struct agent_file *f = &p->files[u->first_file + i];

		if (agent_download_path(cf->state_dir, f, path, sizeof(path)) <
		    0) {
			say(res->msg, sizeof(res->msg), "path too long");
			hr = (int32_t)AGENT_HR_UH_UNEXPECTED;
			break;
		}
		log_line(log_fd, "wuagent: extracting %s\n", f->name);
		hr = extract_cab(gcab, path, f->name, dir, log_fd, &seen,
		    &unpacked, res->msg, sizeof(res->msg));
	}
	if (hr == 0)
		hr = check_extracted(dir, &seen, res->msg, sizeof(res->msg));
	if (hr != 0) {
		fail_res(res, (uint32_t)hr);
		goto out;
	}
	if ((args = strdup(ci->arguments != NULL ? ci->arguments : "")) ==
	    NULL) {
		say(res->msg, sizeof(res->msg), "out of memory");
		fail_res(res, AGENT_HR_UH_UNEXPECTED);
		goto out;
	}
	if (split_args(args, argv, &argc) < 0) {
		say(res->msg, sizeof(res->msg),
		    "more than %d arguments in the install command", MAX_ARGS);
		fail_res(res, AGENT_HR_INVALID_METADATA);
		goto out;
	}
	/*
	 * Program names a file of the package's contents; when it names the
	 * package file itself (what `wsusutil publish` writes, as Windows
	 * runs the downloaded file), the first argument names the entry.
	 */
	entry = ci->program;
	if (is_package_name(p, u, entry)) {
		snprintf(entry_path, sizeof(entry_path), "%s/%s", dir, entry);
		if (!safe_entry(entry, strlen(entry)) ||
		    lstat(entry_path, &sb) < 0) {
			if (argc < 2) {
				say(res->msg, sizeof(res->msg),
				    "Program is the package %s and Arguments "
				    "name no file to run",
				    entry);
				fail_res(res, AGENT_HR_INVALID_METADATA);
				goto out;
			}
			entry = argv[1];
			memmove(&argv[1], &argv[2],
			    (argc - 1) * sizeof(argv[0]));
			argc--;
		}
	}
	if (!safe_entry(entry, strlen(entry))) {
		say(res->msg, sizeof(res->msg),
		    "refused: the program \"%.100s\" is not a plain file name "
		    "in the package",
		    entry);
		fail_res(res, AGENT_HR_INVALID_METADATA);
		goto out;
	}
	snprintf(entry_path, sizeof(entry_path), "%s/%s", dir, entry);
	if (lstat(entry_path, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		say(res->msg, sizeof(res->msg),
		    "the program %s is not a regular file of the package",
		    entry);
		fail_res(res, AGENT_HR_INVALID_METADATA);
		goto out;
	}
	/* CABs carry no mode bits: the verified entry is made runnable. */
	if (chmod(entry_path, 0700) < 0) {
		say(res->msg, sizeof(res->msg), "%s: chmod: %s", entry,
		    strerror(errno));
		fail_res(res, AGENT_HR_UH_UNEXPECTED);
		goto out;
	}
	argv[0] = (char *)(uintptr_t)entry;
	log_line(log_fd, "wuagent: running %s (%zu arguments, timeout %u s)\n",
	    entry, argc - 1, timeout);
	rs = (struct run_spec){ entry_path, argv, dir, log_fd, NULL, timeout };
	if (run_program(&rs, &rr, res->msg, sizeof(res->msg)) < 0) {
		fail_res(res, AGENT_HR_UH_UNEXPECTED);
		goto out;
	}
	res->ran = true;
	if (rr.timed_out) {
		say(res->msg, sizeof(res->msg),
		    "%s did not finish within %u seconds: killed", entry,
		    timeout);
		fail_res(res, AGENT_HR_INSTALLER_HUNG);
	} else if (WIFSIGNALED(rr.status)) {
		say(res->msg, sizeof(res->msg), "%s was killed by signal %d",
		    entry, WTERMSIG(rr.status));
		fail_res(res, AGENT_HR_INSTALLER_FAILURE);
	} else {
		res->exit_code = WEXITSTATUS(rr.status);
		map_exit(ci, res->exit_code, res);
	}
	log_line(log_fd, "wuagent: %s: %s\n", entry,
	    res->outcome == AGENT_INSTALL_SUCCEEDED ? "succeeded"
		: res->outcome == AGENT_INSTALL_REBOOT
		? "succeeded, restart required"
		: res->msg);
out:
	free(args);
	sbuf_release(&seen);
	remove_tree(dir);
}

void
agent_pkg_install(const struct agent_config *cf, const struct agent_pkg *p,
    unsigned timeout_secs, struct agent_install_result *res)
{
	char logs[AGENT_PATH_MAX], log[AGENT_PATH_MAX + 64];
	bool any = false, reboot = false;
	int log_fd, n;

	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
	n = snprintf(logs, sizeof(logs), "%s/logs", cf->state_dir);
	if (n < 0 || (size_t)n >= sizeof(logs) || mkdir_private(logs) < 0) {
		say(res->msg, sizeof(res->msg), "%s: cannot create: %s", logs,
		    strerror(errno));
		fail_res(res, AGENT_HR_UH_UNEXPECTED);
		return;
	}
	snprintf(log, sizeof(log), "%s/%s.log", logs, p->update_id);
	if ((log_fd = open(log,
		 O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
		 0600)) < 0) {
		say(res->msg, sizeof(res->msg), "%s: %s", log, strerror(errno));
		fail_res(res, AGENT_HR_UH_UNEXPECTED);
		return;
	}
	log_line(log_fd, "wuagent: installing %s (%s)\n", p->update_id,
	    p->title);
	for (size_t i = 0; i < p->n_units; i++) {
		const struct agent_unit *u = &p->units[i];
		struct fragment_extended_info ei;
		struct fragment_cmdline_info ci;
		struct wsd_err err;
		bool cmdline;
		int rc;

		if (u->xml_extended == NULL)
			continue; /* no metadata: nothing it could run */
		if (fragment_parse_extended(u->xml_extended,
			u->xml_extended_len, &ei, &err) < 0) {
			say(res->msg, sizeof(res->msg),
			    "%s: extended fragment: %s", u->update_id,
			    err.what);
			fail_res(res, AGENT_HR_INVALID_METADATA);
			break;
		}
		cmdline = ei.handler != NULL &&
		    strcmp(ei.handler, FRAGMENT_HANDLER_CMDLINE) == 0;
		if (ei.handler != NULL && !cmdline) {
			say(res->msg, sizeof(res->msg),
			    "%s: handler %s is not supported on Linux "
			    "(only CommandLineInstallation)",
			    u->update_id, ei.handler);
			fragment_extended_info_release(&ei);
			fail_res(res, AGENT_HR_UNKNOWN_HANDLER);
			break;
		}
		fragment_extended_info_release(&ei);
		if (!cmdline)
			continue; /* a bundle parent: its members install */
		if ((rc = fragment_parse_cmdline(u->xml_extended,
			 u->xml_extended_len, &ci, &err)) < 0) {
			say(res->msg, sizeof(res->msg),
			    "%s: CommandLineInstallation data: %s",
			    u->update_id, err.what);
			fail_res(res, AGENT_HR_INVALID_METADATA);
			break;
		}
		any = true;
		install_unit(cf, p, u, &ci, timeout_secs, log_fd, res);
		fragment_cmdline_info_release(&ci);
		if (res->outcome == AGENT_INSTALL_REBOOT)
			reboot = true;
		else if (res->outcome != AGENT_INSTALL_SUCCEEDED)
			break;
	}
	if (res->outcome == AGENT_INSTALL_SUCCEEDED ||
	    res->outcome == AGENT_INSTALL_REBOOT) {
		if (!any) {
			say(res->msg, sizeof(res->msg),
			    "no revision of the update has the "
			    "CommandLineInstallation handler");
			fail_res(res, AGENT_HR_UNKNOWN_HANDLER);
		} else if (reboot)
			res->outcome = AGENT_INSTALL_REBOOT;
	}
	if (res->outcome != AGENT_INSTALL_SUCCEEDED &&
	    res->outcome != AGENT_INSTALL_REBOOT)
		log_line(log_fd, "wuagent: failed: %s\n", res->msg);
	close(log_fd);
}

/* ------------------------------------------------- state and events */

int
agent_pkg_record(struct agent_state *st, const struct agent_pkg *p,
    enum agent_update_state state, int32_t hresult, int32_t event_id,
    const char *misc, struct wsd_err *err)
{
	struct agent_event ev;
	struct sbuf repl;
	int rc;

	memset(&ev, 0, sizeof(ev));
	sbuf_init(&repl, 4096);
	/* 182 carries the HRESULT in hex before the title (flow/000018);
	 * the others the title alone (flow/000017). */
	if ((event_id == 182 &&
		sbuf_addf(&repl, "0x%08X\n", (unsigned)hresult) < 0) ||
	    sbuf_adds(&repl, p->title[0] != '\0' ? p->title : p->update_id) < 0)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	ev.event_id = event_id;
	memcpy(ev.update_id, p->update_id, sizeof(ev.update_id));
	ev.revision_number = p->revision_number;
	ev.hresult = hresult;
	ev.replacement = sbuf_str(&repl);
	ev.misc = misc != NULL ? misc : "";
	if ((rc = agent_state_begin(st, err)) < 0) {
		sbuf_release(&repl);
		return rc;
	}
	if ((state != AGENT_UNKNOWN &&
		(rc = agent_state_set_update(st, p->update_id,
		     p->revision_number, p->revision_id, state, hresult, err)) <
		    0) ||
	    (rc = agent_state_queue_event(st, &ev, err)) < 0 ||
	    (rc = agent_state_commit(st, err)) < 0) {
		agent_state_rollback(st);
		sbuf_release(&repl);
		return rc;
	}
	sbuf_release(&repl);
	return 0;
}

int
agent_report_queued(const struct agent_config *cf, struct agent_state *st,
    size_t *sent, char *msg, size_t msg_size)
{
	struct agent_session s;
	int rc;

	*sent = 0;
	if ((rc = agent_session_open(&s, cf, st)) == AGENT_OK &&
	    (!s.have_cookie || !s.id.registered))
		rc = agent_session_start(&s);
	if (rc == AGENT_OK)
		rc = agent_report_events(&s, sent);
	if (rc != AGENT_OK)
		say(msg, msg_size, "%s", s.msg);
	agent_session_close(&s);
	return rc == AGENT_OK ? 0 : -1;
}
