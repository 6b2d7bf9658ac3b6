/*
 * wsusutil checkhealth: one line per finding, "ok" or "PROBLEM", and a
 * non-zero exit when any problem was found. Checks the listeners (a TCP
 * connect, a TLS handshake and an HTTP answer), the certificate (validity,
 * days left, name, key), the database (PRAGMA integrity_check) and the
 * content directory (writable, free space).
 */
#include "wsusutil/wsusutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/sbuf.h"
#include "auth/authz.h"
#include "config/config.h"
#include "content/content_store.h"
#include "net/tls_cert.h"
#include "store/store.h"
#include "store/store_upstream.h"

/* Warn this long before a certificate expires (clients stop trusting
 * it at expiry, and a renewal takes an administrator's time). */
#define CERT_WARN_DAYS 30
/* Below this the content store cannot take a cumulative update. */
#define MIN_FREE_BYTES (1024ULL * 1024 * 1024)
#define PROBE_TIMEOUT_SECS 3

static int problems;

static void
finding(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
finding(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", ok ? "ok     " : "PROBLEM");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		problems++;
}

/* What is worth knowing but not broken: printed, not counted. */
static void
warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
warning(const char *fmt, ...)
{
	va_list ap;

	printf("warning ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int
connect_to(const char *addr, uint16_t port)
{
	struct timeval tv = { PROBE_TIMEOUT_SECS, 0 };
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) ==
	    1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, addr,
		       &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		len = sizeof(struct sockaddr_in6);
	} else {
		return -1;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends a HEAD for the content root and wants any HTTP/1.1 status line. */
static bool
http_answers(int fd, SSL *ssl)
{
	static const char req[] = "HEAD /Content/ HTTP/1.1\r\nHost: "
				  "checkhealth\r\nConnection: close\r\n\r\n";
	char buf[16];
	int n;

	if (ssl != NULL) {
		if (SSL_write(ssl, req, sizeof(req) - 1) <= 0)
			return false;
		n = SSL_read(ssl, buf, sizeof(buf));
	} else {
		if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
			return false;
		n = (int)read(fd, buf, sizeof(buf));
	}
	return n >= 9 && memcmp(buf, "HTTP/1.1 ", 9) == 0;
}

static void
check_listener(const char *addr, uint16_t port, bool tls, const char *name)
{
	bool v6 = strchr(addr, ':') != NULL;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	bool ok = false;
	char sni[256];
	int fd;

	if ((fd = connect_to(addr, port)) < 0) {
		finding(false, "listener %s%s%s:%u (%s) does not answer: %s",
		    v6 ? "[" : "", addr, v6 ? "]" : "", port,
		    tls ? "https" : "http", strerror(errno));
		return;
	}
	if (tls) {
		/* Only "does it answer TLS": the certificate is checked
		 * against the files below. */
		/* A copy: the OpenSSL macro casts away const. */
		snprintf(sni, sizeof(sni), "%s", name ? name : "localhost");
		if ((ctx = SSL_CTX_new(TLS_client_method())) != NULL &&
		    (ssl = SSL_new(ctx)) != NULL && SSL_set_fd(ssl, fd) == 1 &&
		    SSL_set_tlsext_host_name(ssl, sni) == 1 &&
		    SSL_connect(ssl) == 1)
			ok = http_answers(fd, ssl);
		ERR_clear_error();
	} else {
		ok = http_answers(fd, NULL);
	}
	finding(ok, "listener %s%s%s:%u (%s) %s", v6 ? "[" : "", addr,
	    v6 ? "]" : "", port, tls ? "https" : "http",
	    ok ? "answers" : "accepts connections but does not answer HTTP");
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
}

static void
check_listeners(const struct config *cf, bool tls)
{
	static const char *const loopback[] = { "127.0.0.1" };
	const char *const *addrs = loopback;
	unsigned n = 1;

	if (!cf->cf_listen_default) {
		addrs = (const char *const *)cf->cf_listen;
		n = cf->cf_nlisten;
	}
	for (unsigned i = 0; i < n; i++) {
		/* "Any" addresses are probed on loopback. */
		const char *a = addrs[i];

		if (strcmp(a, "0.0.0.0") == 0)
			a = "127.0.0.1";
		else if (strcmp(a, "::") == 0)
			a = "::1";
		if (tls)
			check_listener(a, cf->cf_https_port, true,
			    cf->cf_server_name);
		check_listener(a, cf->cf_http_port, false, NULL);
	}
}

static void
check_certificate(const struct config *cf)
{
	struct tls_cert_info info;
	struct wsd_err err;
	char ca[4096], until[64];
	time_t now = time(NULL);
	struct tm tm;
	long days;

	snprintf(ca, sizeof(ca), "%s/tls/ca.pem", cf->cf_datadir);
	if (tls_cert_check(cf->cf_tls_cert, cf->cf_tls_key, NULL,
		access(ca, R_OK) == 0 ? ca : NULL, cf->cf_server_name, now,
		&info, &err) < 0) {
		finding(false, "certificate %s for %s: %s", cf->cf_tls_cert,
		    cf->cf_server_name, err.what);
		return;
	}
	gmtime_r(&info.not_after, &tm);
	strftime(until, sizeof(until), "%Y-%m-%d %H:%M:%S UTC", &tm);
	days = (long)((info.not_after - now) / 86400);
	finding(days >= CERT_WARN_DAYS,
	    "certificate for %s valid until %s (%ld days left%s)",
	    cf->cf_server_name, until, days,
	    days >= CERT_WARN_DAYS ? "" : ": renew it soon");
}

static void
check_database(const struct config *cf)
{
	struct store *st;
	struct wsd_err err;
	struct sbuf detail;
	bool ok = false;
	int version = 0;

	if (store_open(&st, cf->cf_datadir, &err) < 0) {
		finding(false, "database %s/wsusd.db: %s", cf->cf_datadir,
		    err.what);
		return;
	}
	sbuf_init(&detail, 64 * 1024);
	if (store_integrity_check(st, &ok, &detail, &err) < 0) {
		finding(false, "database integrity check: %s", err.what);
	} else if (!ok) {
		finding(false, "database integrity check: %s",
		    sbuf_str(&detail));
	} else {
		if (store_schema_version(st, &version, &err) < 0)
			version = -1;
		finding(true, "database integrity check: ok (schema version %d)",
		    version);
	}
	sbuf_release(&detail);
	store_close(st);
}

/*
 * Who may synchronize from this server (docs/CHAINING.md; SECURITY.md
 * S8: an empty allow list admits every authenticated server by design,
 * and checkhealth says so).
 */
static void
check_serversync(const struct config *cf)
{
	struct authz_list *l = NULL;
	unsigned long line = 0;
	struct wsd_err err;
	char kt[PATH_MAX];

	if (authz_load(cf->cf_datadir, &l, &line, &err) < 0) {
		finding(false, "ServerSyncWebService/web.config: line %lu: %s",
		    line, err.what);
		return;
	}
	if (l->al_nrules == 0)
		warning("ServerSyncWebService: no authorization list: every "
			"authenticated downstream server may synchronize "
			"(wsusutil downstream allow DOMAIN\\NAME$, then deny *)");
	else
		finding(true, "ServerSyncWebService: authorization list of %zu "
			      "rule%s",
		    l->al_nrules, l->al_nrules == 1 ? "" : "s");
	authz_free(l);
	if (cf->cf_serversync_anonymous)
		warning("ServerSyncWebService: anonymous access is on "
			"(serversync_anonymous = yes)");
	snprintf(kt, sizeof(kt), "%s/tls/http.keytab", cf->cf_datadir);
	if (!cf->cf_serversync_anonymous &&
	    access(cf->cf_krb_keytab ? cf->cf_krb_keytab : kt, R_OK) != 0 &&
	    cf->cf_serversync_client_ca == NULL)
		warning("ServerSyncWebService: no Kerberos keytab and no "
			"serversync_client_ca: no downstream server can "
			"authenticate");
	/* Shared CAs: only DIR/admins and the authorization list tell an
	 * administrator's certificate from a downstream server's. */
	if (cf->cf_serversync_client_ca != NULL &&
	    cf->cf_admin_client_ca == NULL)
		warning("ApiRemoting30: administrators' client certificates "
			"come from serversync_client_ca, the downstream "
			"servers' CAs (set admin_client_ca to keep them apart)");
}

/*
 * What a SharpWSUS-style takeover leaves behind (SECURITY.md S6): an
 * update approved for a group of one computer, and updates published
 * here rather than synchronized. Neither is wrong in itself; both are
 * listed so that an administrator looks at them.
 */
#define RISK_GROUPS_MAX 4096
#define RISK_LIST_MAX 20

struct risk_groups {
	size_t n;
	struct {
		char name[256];
		unsigned computers;
		bool builtin;
	} g[RISK_GROUPS_MAX];
};

struct risk_walk {
	const struct risk_groups *groups;
	unsigned single, local, shown;
};

static int
risk_group_cb(void *arg, const struct store_group_row *r)
{
	struct risk_groups *rg = arg;

	if (rg->n == RISK_GROUPS_MAX)
		return 1;
	snprintf(rg->g[rg->n].name, sizeof(rg->g[rg->n].name), "%s", r->name);
	rg->g[rg->n].computers = r->n_computers;
	rg->g[rg->n].builtin = r->builtin;
	rg->n++;
	return 0;
}

static int
risk_approval_cb(void *arg, const struct store_approval_row *r)
{
	struct risk_walk *w = arg;

	if (strcmp(r->action, "Install") != 0)
		return 0;
	for (size_t i = 0; i < w->groups->n; i++) {
		if (strcmp(w->groups->g[i].name, r->group) != 0)
			continue;
		if (w->groups->g[i].builtin || w->groups->g[i].computers != 1)
			return 0;
		if (w->shown++ < RISK_LIST_MAX)
			warning("approval: %s is approved for install to "
				"\"%s\", a group of one computer: check it was "
				"meant (SECURITY.md S6)",
			    r->update_id, r->group);
		w->single++;
		return 0;
	}
	return 0;
}

static int
risk_update_cb(void *arg, const struct store_update_row *r)
{
	struct risk_walk *w = arg;

	if (strcmp(r->origin, "local") == 0)
		w->local++;
	return 0;
}

static void
check_admin_risks(const struct config *cf)
{
	struct store_update_filter f = { NULL, NULL, NULL, true };
	struct risk_groups *rg;
	struct risk_walk w = { NULL, 0, 0, 0 };
	struct store *st;
	struct wsd_err err;

	if (store_open(&st, cf->cf_datadir, &err) < 0)
		return; /* check_database said why */
	if ((rg = calloc(1, sizeof(*rg))) == NULL) {
		store_close(st);
		return;
	}
	w.groups = rg;
	if (store_groups_list(st, risk_group_cb, rg, &err) < 0 ||
	    store_approvals_list(st, NULL, risk_approval_cb, &w, &err) < 0 ||
	    store_updates_list(st, &f, risk_update_cb, &w, &err) < 0)
		finding(false, "approvals and publications: %s", err.what);
	if (w.single > RISK_LIST_MAX)
		warning("approval: %u more approvals to a group of one "
			"computer (wsusutil updates approvals)",
		    w.single - RISK_LIST_MAX);
	if (w.local > 0)
		warning("%u update%s published on this server (wsusutil "
			"publish), not synchronized: review them "
			"(wsusutil updates list --json, origin \"local\"; "
			"SECURITY.md S6)",
		    w.local, w.local == 1 ? "" : "s");
	free(rg);
	store_close(st);
}

/* The last synchronization from the upstream, when there is one. */
struct last_sync {
	bool seen;
	char result[16];
	char message[512];
	char started[40];
};

static int
last_sync_cb(void *arg, const struct store_sync_row *r)
{
	struct last_sync *l = arg;

	l->seen = true;
	snprintf(l->result, sizeof(l->result), "%s", r->result);
	snprintf(l->message, sizeof(l->message), "%s", r->message);
	snprintf(l->started, sizeof(l->started), "%s", r->started);
	return 1;
}

static void
check_upstream(const struct config *cf)
{
	struct store_upstream up;
	struct last_sync ls = { 0 };
	struct store *st;
	struct wsd_err err;

	if (store_open(&st, cf->cf_datadir, &err) < 0)
		return; /* check_database said why */
	if (store_upstream_get(st, &up, &err) == 0) {
		if (store_sync_history(st, 1, last_sync_cb, &ls, &err) < 0 ||
		    !ls.seen)
			warning("upstream %s: never synchronized (wsusutil sync)",
			    up.url);
		else if (strcmp(ls.result, "succeeded") == 0)
			finding(true, "upstream %s: last synchronization %s "
				      "succeeded",
			    up.url, ls.started);
		else
			finding(strcmp(ls.result, "running") == 0,
			    "upstream %s: last synchronization %s %s: %s",
			    up.url, ls.started, ls.result, ls.message);
		if (!up.use_tls)
			warning("upstream %s: synchronizing without SSL: "
				"metadata travels in the clear",
			    up.url);
	}
	store_close(st);
}

static void
check_content(const struct config *cf)
{
	char dir[4096], probe[4160];
	struct statvfs vfs;
	unsigned long long avail;
	int fd;

	snprintf(dir, sizeof(dir), "%s/content", cf->cf_datadir);
	snprintf(probe, sizeof(probe), "%s/.checkhealth-%ld", dir,
	    (long)getpid());
	fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		finding(false, "content directory %s is not writable: %s", dir,
		    strerror(errno));
	} else {
		close(fd);
		unlink(probe);
		finding(true, "content directory %s is writable", dir);
	}
	if (statvfs(dir, &vfs) < 0) {
		finding(false, "content directory %s: %s", dir,
		    strerror(errno));
		return;
	}
	avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
	finding(avail >= MIN_FREE_BYTES,
	    "content directory free space: %llu MiB%s", avail >> 20,
	    avail >= MIN_FREE_BYTES ? "" : " (below 1024 MiB)");
}

struct content_check {
	const char *datadir;
	unsigned ok, bad;
};

/* Re-hashes every stored file against the catalog (S14); read-only. */
static int
verify_one(void *arg, const struct store_file_row *r)
{
	struct content_check *cc = arg;
	struct content_verified cv;
	struct content_expect ce;
	struct wsd_err err;
	char rel[CONTENT_REL_PATH_MAX];
	int rc;

	if (strcmp(r->state, "present") != 0)
		return 0;
	memset(&ce, 0, sizeof(ce));
	memcpy(ce.sha1, r->sha1, 20);
	if (r->sha256) {
		memcpy(ce.sha256, r->sha256, 32);
		ce.has_sha256 = true;
	}
	ce.size = r->size;
	ce.has_size = true;
	ce.filename = r->file_name;
	if (content_rel_path(&ce, rel, sizeof(rel)) < 0)
		snprintf(rel, sizeof(rel), "?");
	rc = content_store_verify(cc->datadir, &ce, false, &cv, &err);
	if (rc == 0) {
		cc->ok++;
		return 0;
	}
	cc->bad++;
	finding(false, "content file content/%s (%s): %s", rel, r->file_name,
	    rc == WSD_ENOTFOUND ? "missing" : err.what);
	return 0;
}

static void
check_content_files(const struct config *cf)
{
	struct content_check cc = { cf->cf_datadir, 0, 0 };
	struct store *st;
	struct wsd_err err;

	if (store_open(&st, cf->cf_datadir, &err) < 0) {
		finding(false, "database: %s", err.what);
		return;
	}
	if (store_files_list(st, verify_one, &cc, &err) < 0)
		finding(false, "content files: %s", err.what);
	else if (cc.bad == 0)
		finding(true, "content files: %u verified against their digests",
		    cc.ok);
	store_close(st);
}

int
cmd_checkhealth(const char *datadir, int argc, char **argv)
{
	struct config_overrides ov = { 0 };
	const char *port_arg = NULL;
	bool content = false;
	struct config *cf;
	struct wsd_err err;
	bool tls;

	/* The daemon may run with --port: take the same value here. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			port_arg = argv[++i];
		} else if (strcmp(argv[i], "--content") == 0) {
			content = true;
		} else {
			fprintf(stderr, "usage: wsusutil checkhealth [--port N] "
					"[--content]\n");
			return 2;
		}
	}
	if (wsusutil_port_override("checkhealth", port_arg, &ov) < 0)
		return 2;
	if (config_load(datadir, &ov, &cf, &err) < 0) {
		finding(false, "configuration %s/wsusd.conf: %s", datadir,
		    err.what);
		return 1;
	}
	tls = config_tls_configured(cf);
	if (tls) {
		check_certificate(cf);
	} else {
		/* S3: running without TLS is itself a finding. */
		finding(false, "TLS is not configured: metadata travels "
			       "unprotected (run wsusutil configuressl)");
	}
	check_listeners(cf, tls);
	check_database(cf);
	check_serversync(cf);
	check_admin_risks(cf);
	check_upstream(cf);
	check_content(cf);
	if (content)
		check_content_files(cf);
	config_free(cf);
	if (problems > 0)
		printf("%d problem%s found\n", problems, problems == 1 ? "" : "s");
	return problems > 0 ? 1 : 0;
}
