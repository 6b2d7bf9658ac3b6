/*
 * wsusutil configuressl CERTIFICATENAME [--cert PEM --key PEM [--chain PEM]]
 *
 * As on Windows, CERTIFICATENAME is the DNS name clients connect to. The
 * certificate (given, or the one already installed) is checked with
 * tls_cert_check for that name; only when every check passes is anything
 * written: DATADIR/tls/server.key (0600) and server.crt (certificate, then
 * chain; 0644), each through a temporary file, fsync and rename; then
 * server_name in wsusd.conf; then a running wsusd gets SIGHUP. A refusal
 * leaves the data directory byte-for-byte as it was.
 */
#include "wsusutil/wsusutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/dnsname.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "common/strparse.h"
#include "common/wsd_limits.h"
#include "config/config.h"
#include "net/tls_cert.h"

/* Warn when the certificate has fewer days left than this. */
#define CONFSSL_WARN_DAYS 30
/* Linux pid_max ceiling (PID_MAX_LIMIT on 64-bit). */
#define CONFSSL_PID_MAX 4194304

/* One input file: stat before the check, bytes after it. */
struct input {
	const char *in_path;
	const char *in_too_big;   /* message when over WSD_MAX_PEM_FILE */
	const char *in_cant_read; /* message when it cannot be read */
	const char *in_has_key;   /* message when it holds a private key */
	struct stat in_st;
	bool in_have_st;
	char *in_buf; /* wiped before free: may be a key */
	size_t in_len;
};

static int
problem(const char *what)
{
	fprintf(stderr, "wsusutil: configuressl: %s\n", what);
	return 1;
}

static int
usage_err(const char *msg, const char *arg)
{
	if (arg != NULL)
		fprintf(stderr, "wsusutil: configuressl: %s: %s\n", msg, arg);
	else
		fprintf(stderr, "wsusutil: configuressl: %s\n", msg);
	fprintf(stderr,
	    "usage: wsusutil [--data DIR] configuressl "
	    "CERTIFICATENAME [--cert PEM --key PEM [--chain PEM]]\n");
	return 2;
}

/*
 * The rule config_load applies to server_name (so the file we write loads
 * again): a DNS host name (common/dnsname.h) of at most
 * WSD_MAX_SERVER_NAME bytes. A dotted IPv4 address passes; IPv6 does not.
 */
static bool
valid_server_name(const char *s)
{
	return strlen(s) <= WSD_MAX_SERVER_NAME && dnsname_valid(s);
}

/* Before the check: a size limit with its own message. */
static int
input_prestat(struct input *in)
{
	if (stat(in->in_path, &in->in_st) < 0)
		return 0; /* tls_cert_check names the problem */
	in->in_have_st = true;
	if (S_ISREG(in->in_st.st_mode) && in->in_st.st_size > WSD_MAX_PEM_FILE)
		return problem(in->in_too_big);
	return 0;
}

/*
 * After the check: the bytes to install. Refuses a file that is not the
 * one just checked (replaced or modified in between).
 */
static int
input_read(struct input *in)
{
	struct stat st;
	int rc;

	rc = fileio_read_small(in->in_path, WSD_MAX_PEM_FILE, &in->in_buf,
	    &in->in_len, &st, NULL);
	if (rc == WSD_ENOMEM)
		return problem("out of memory");
	if (rc < 0 && rc != WSD_EAGAIN)
		return problem(in->in_cant_read);
	if (rc == 0 &&
	    (!in->in_have_st || st.st_dev != in->in_st.st_dev ||
		st.st_ino != in->in_st.st_ino ||
		st.st_size != in->in_st.st_size ||
		st.st_mtim.tv_sec != in->in_st.st_mtim.tv_sec ||
		st.st_mtim.tv_nsec != in->in_st.st_mtim.tv_nsec)) {
		log_warnx("%s: changed while being checked", in->in_path);
		rc = WSD_EAGAIN;
	} else if (rc == 0 && in->in_len != (size_t)st.st_size) {
		log_warnx("%s: changed while being read", in->in_path);
		rc = WSD_EAGAIN;
	}
	if (rc < 0)
		return problem("an input file changed while being checked; "
			       "run again");
	/* A key inside the certificate would be installed world-readable. */
	if (in->in_has_key != NULL &&
	    memmem(in->in_buf, in->in_len, "PRIVATE KEY-----", 16) != NULL)
		return problem(in->in_has_key);
	return 0;
}

static void
input_release(struct input *in)
{
	if (in->in_buf != NULL)
		fileio_free_secret(in->in_buf, in->in_len + 1);
	in->in_buf = NULL;
	in->in_len = 0;
}

/* Sends SIGHUP to the wsusd named in DATADIR/wsusd.pid, if it runs. */
static void
reload_wsusd(const char *datadir)
{
	char buf[32], comm[32];
	struct sbuf path;
	uint64_t pid;
	ssize_t n;
	int fd;

	sbuf_init(&path, PATH_MAX);
	if (sbuf_addf(&path, "%s/wsusd.pid", datadir) < 0)
		return;
	fd = open(path.sb_buf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("%s", path.sb_buf);
		printf("wsusd is not running; it uses the certificate when it "
		       "starts\n");
		sbuf_release(&path);
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, " \t\r\n")] = '\0';
	if (strparse_u64_all(buf, 2, CONFSSL_PID_MAX, &pid) < 0) {
		log_warnx("%s: no process id in it", path.sb_buf);
		sbuf_release(&path);
		return;
	}
	sbuf_reset(&path);
	if (sbuf_addf(&path, "/proc/%llu/comm", (unsigned long long)pid) < 0)
		return;
	fd = open(path.sb_buf, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, comm, sizeof(comm) - 1) : -1;
	if (fd >= 0)
		close(fd);
	comm[n > 0 ? n : 0] = '\0';
	sbuf_release(&path);
	if (strcmp(comm, "wsusd\n") != 0) {
		printf("wsusd is not running (stale wsusd.pid); it uses the "
		       "certificate when it starts\n");
		return;
	}
	if (kill((pid_t)pid, SIGHUP) < 0) {
		log_warn("cannot signal wsusd (pid %llu); restart it",
		    (unsigned long long)pid);
		return;
	}
	printf("wsusd (pid %llu) reloaded\n", (unsigned long long)pid);
}

/*
 * Installs KEY and CERT (+ CHAIN) as DATADIR/tls/server.key and server.crt:
 * both temporary files first, then the key renamed, then the certificate.
 */
static int
install(const char *datadir, const char *tlsdir, struct input *cert,
    struct input *chain, struct input *key)
{
	struct fileio_owner ow = { 0 };
	const struct fileio_owner *owp = NULL;
	struct fileio_tmp tkey, tcrt;
	struct wsd_err e;
	struct sbuf crt;
	struct stat st;
	int dfd = -1, rc = 1;

	sbuf_init(&crt, 2 * WSD_MAX_PEM_FILE + 1);
	fileio_tmp_init(&tkey);
	fileio_tmp_init(&tcrt);
	if (sbuf_add(&crt, cert->in_buf, cert->in_len) < 0 ||
	    (cert->in_len > 0 && cert->in_buf[cert->in_len - 1] != '\n' &&
		sbuf_adds(&crt, "\n") < 0) ||
	    (chain->in_buf != NULL &&
		sbuf_add(&crt, chain->in_buf, chain->in_len) < 0)) {
		problem("out of memory");
		goto out;
	}
	/*
	 * Run as root, new files belong to the data directory's owner, or
	 * wsusd (running as that user) could not read its own key.
	 */
	if (geteuid() == 0 && stat(datadir, &st) == 0 && st.st_uid != 0) {
		ow.fo_uid = st.st_uid;
		ow.fo_gid = st.st_gid;
		owp = &ow;
	}
	if (mkdir(tlsdir, 0700) < 0 && errno != EEXIST) {
		log_warn("%s", tlsdir);
		problem("cannot create the tls directory");
		goto out;
	}
	dfd = open(tlsdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		log_warn("%s", tlsdir);
		problem("cannot open the tls directory");
		goto out;
	}
	if (owp != NULL && fstat(dfd, &st) == 0 && st.st_uid == 0 &&
	    fchown(dfd, ow.fo_uid, ow.fo_gid) < 0)
		log_warn("%s", tlsdir);
	/* Both written first, then the key renamed, then the certificate. */
	if (fileio_tmp_write(&tkey, dfd, "server.key", key->in_buf, key->in_len,
		0600, owp, 0, &e) < 0 ||
	    fileio_tmp_write(&tcrt, dfd, "server.crt", crt.sb_buf, crt.sb_len,
		0644, owp, 0, &e) < 0) {
		problem("cannot write to the tls directory");
		goto out;
	}
	if (fileio_tmp_commit(&tkey, &e) < 0) {
		problem("cannot install the private key");
		goto out;
	}
	if (fileio_tmp_commit(&tcrt, &e) < 0) {
		problem("installed the new private key but not the "
			"certificate; run again");
		goto out;
	}
	rc = 0;
out:
	/* Before close(dfd): the temporary names are relative to it. */
	fileio_tmp_abort(&tkey);
	fileio_tmp_abort(&tcrt);
	if (dfd >= 0)
		close(dfd);
	sbuf_release(&crt);
	return rc;
}

int
cmd_configuressl(const char *datadir, int argc, char **argv)
{
	const char *name = NULL, *cert_arg = NULL, *key_arg = NULL;
	const char *chain_arg = NULL;
	struct config_overrides ov = { 0 };
	struct input cert = { .in_too_big = "certificate file is larger "
					    "than 1 MiB",
		.in_cant_read = "cannot read certificate file",
		.in_has_key = "certificate file contains a private key; "
			      "pass it with --key only" };
	struct input chain = { .in_too_big = "chain file is larger than 1 MiB",
		.in_cant_read = "cannot read chain file",
		.in_has_key = "chain file contains a private key" };
	struct input key = { .in_too_big = "private key file is larger than "
					   "1 MiB",
		.in_cant_read = "cannot read private key file" };
	struct sbuf tlsdir, icrt, ikey, ca, conf;
	struct tls_cert_info info;
	struct config *cf = NULL;
	struct wsd_err e = { 0 };
	struct stat st;
	char until[64];
	struct tm tm;
	time_t now;
	bool opts = true;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;

		if (opts && strcmp(a, "--") == 0) {
			opts = false;
			continue;
		}
		if (opts && strcmp(a, "--cert") == 0)
			dst = &cert_arg;
		else if (opts && strcmp(a, "--key") == 0)
			dst = &key_arg;
		else if (opts && strcmp(a, "--chain") == 0)
			dst = &chain_arg;
		else if (opts && a[0] == '-')
			return usage_err("unknown option", a);
		if (dst != NULL) {
			if (i + 1 >= argc || argv[i + 1][0] == '\0')
				return usage_err("option needs a file", a);
			*dst = argv[++i];
		} else if (name == NULL) {
			name = a;
		} else {
			return usage_err("more than one CERTIFICATENAME", a);
		}
	}
	if (name == NULL)
		return usage_err("no CERTIFICATENAME given", NULL);
	if ((cert_arg == NULL) != (key_arg == NULL))
		return usage_err("--cert and --key go together", NULL);
	if (chain_arg != NULL && cert_arg == NULL)
		return usage_err("--chain needs --cert and --key", NULL);
	if (!valid_server_name(name))
		return usage_err("CERTIFICATENAME is not a DNS name", name);

	/* WSUSD_PORT: the port make run starts wsusd on, for the URL. */
	if (wsusutil_port_override("configuressl", NULL, &ov) < 0)
		return 2;
	if (config_load(datadir, &ov, &cf, &e) < 0)
		return problem(e.what);

	sbuf_init(&tlsdir, PATH_MAX);
	sbuf_init(&icrt, PATH_MAX);
	sbuf_init(&ikey, PATH_MAX);
	sbuf_init(&ca, PATH_MAX);
	sbuf_init(&conf, PATH_MAX);
	if (sbuf_addf(&tlsdir, "%s/tls", cf->cf_datadir) < 0 ||
	    sbuf_addf(&icrt, "%s/server.crt", tlsdir.sb_buf) < 0 ||
	    sbuf_addf(&ikey, "%s/server.key", tlsdir.sb_buf) < 0 ||
	    sbuf_addf(&ca, "%s/ca.pem", tlsdir.sb_buf) < 0 ||
	    sbuf_addf(&conf, "%s/%s", cf->cf_datadir, WSD_CONF_NAME) < 0) {
		problem("data directory path too long");
		goto out;
	}
	if (cert_arg == NULL) {
		if (lstat(icrt.sb_buf, &st) < 0 ||
		    lstat(ikey.sb_buf, &st) < 0) {
			problem("no certificate installed; pass --cert and "
				"--key");
			goto out;
		}
		cert.in_path = icrt.sb_buf;
		key.in_path = ikey.sb_buf;
	} else {
		cert.in_path = cert_arg;
		key.in_path = key_arg;
		chain.in_path = chain_arg;
	}
	if (input_prestat(&cert) != 0 || input_prestat(&key) != 0 ||
	    (chain.in_path != NULL && input_prestat(&chain) != 0))
		goto out;

	now = time(NULL);
	if (tls_cert_check(cert.in_path, key.in_path, chain.in_path,
		stat(ca.sb_buf, &st) == 0 ? ca.sb_buf : NULL, name, now, &info,
		&e) < 0) {
		problem(e.what);
		goto out;
	}

	if (cert_arg == NULL) {
		/* Already installed: it must already be private. */
		if (stat(ikey.sb_buf, &st) < 0 || (st.st_mode & 077) != 0) {
			problem("installed private key is accessible by group "
				"or others; chmod 600 it");
			goto out;
		}
	} else {
		if (input_read(&cert) != 0 || input_read(&key) != 0 ||
		    (chain.in_path != NULL && input_read(&chain) != 0))
			goto out;
		if (install(cf->cf_datadir, tlsdir.sb_buf, &cert, &chain,
			&key) != 0)
			goto out;
	}
	if (config_file_set(conf.sb_buf, "server_name", name, &e) < 0) {
		problem(e.what);
		goto out;
	}
	if (strcmp(cf->cf_tls_cert, icrt.sb_buf) != 0 ||
	    strcmp(cf->cf_tls_key, ikey.sb_buf) != 0)
		log_warnx("%s sets tls_certificate or tls_key elsewhere; "
			  "wsusd will not use %s",
		    conf.sb_buf, icrt.sb_buf);
	reload_wsusd(cf->cf_datadir);

	if (gmtime_r(&info.not_after, &tm) == NULL ||
	    strftime(until, sizeof(until), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(until, sizeof(until), "%lld",
		    (long long)info.not_after);
	printf("SSL configured for %s: https://%s:%u/ (certificate valid "
	       "until %s)\n",
	    name, name, (unsigned)cf->cf_https_port, until);
	if (cf->cf_http_port != 0)
		printf("content URL: http://%s:%u/Content/\n", name,
		    (unsigned)cf->cf_http_port);
	if (info.not_after - now < (time_t)CONFSSL_WARN_DAYS * 86400)
		log_warnx("the certificate expires in %lld days",
		    (long long)((info.not_after - now) / 86400));
	rc = 0;
out:
	input_release(&cert);
	input_release(&chain);
	input_release(&key);
	sbuf_release(&tlsdir);
	sbuf_release(&icrt);
	sbuf_release(&ikey);
	sbuf_release(&ca);
	sbuf_release(&conf);
	config_free(cf);
	return rc;
}
