/*
 * wsusutil upstream set URL [--replica | --autonomous] [--ca FILE]
 *     [--no-ssl] [--client-cert FILE [--client-key FILE]]
 * wsusutil upstream show | remove
 * wsusutil sync [--wait] [--metadata-only]
 * wsusutil sync status [--json]
 *
 * WSUS's "Update Source": synchronize from another update server
 * (issue #7 item 2, docs/CHAINING.md). "Use SSL when synchronizing" is
 * on unless --no-ssl: the URL must be https://, and --ca copies the CA
 * that issued the upstream's certificate into DATADIR/tls/trust/, the
 * downstream's own trust store (without one there, the system store).
 *
 * `sync` starts a synchronization in the background (its log goes to
 * DATADIR/sync.log) and returns; --wait runs it here and prints its
 * progress. Either way only one runs at a time (DATADIR/sync.lock) and
 * `sync status` shows the last ones from the database.
 */
#include "wsusutil/wsusutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/fileio.h"
#include "common/json.h"
#include "common/log.h"
#include "config/config.h"
#include "store/store.h"
#include "store/store_upstream.h"
#include "sync/sync_engine.h"

#define TRUST_DIR  "tls/trust"
#define TRUST_FILE "tls/trust/upstream-ca.pem"
#define CA_MAX     (1024 * 1024)

static int
upstream_usage(void)
{
	fprintf(stderr,
	    "usage: wsusutil upstream set URL [--replica | --autonomous] "
	    "[--ca FILE] [--no-ssl]\n"
	    "                             [--client-cert FILE "
	    "[--client-key FILE]]\n"
	    "       wsusutil upstream show\n");
	return 2;
}

/* FILE must hold only PEM certificates, at least one CA. */
static int
install_ca(const char *datadir, const char *file)
{
	char path[4096], dir[4096];
	char *buf = NULL;
	size_t len = 0, n = 0;
	struct wsd_err err;
	BIO *b;
	X509 *x;
	int rc;

	if (fileio_read_small(file, CA_MAX, &buf, &len, NULL, &err) < 0) {
		fprintf(stderr, "wsusutil: upstream: cannot read %s: %s\n",
		    file, err.what);
		return 1;
	}
	if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		free(buf);
		return wsusutil_fail("upstream", "out of memory");
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		n++;
		X509_free(x);
	}
	BIO_free(b);
	if (n == 0) {
		free(buf);
		fprintf(stderr,
		    "wsusutil: upstream: %s holds no PEM certificate\n", file);
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/tls", datadir);
	/* DIR/tls holds keys: 0700 when it is made here. */
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		free(buf);
		fprintf(stderr, "wsusutil: upstream: cannot create %s: %s\n",
		    dir, strerror(errno));
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/%s", datadir, TRUST_DIR);
	snprintf(path, sizeof(path), "%s/%s", datadir, TRUST_FILE);
	if ((mkdir(dir, 0755) < 0 && errno != EEXIST)) {
		free(buf);
		fprintf(stderr, "wsusutil: upstream: cannot create %s: %s\n",
		    dir, strerror(errno));
		return 1;
	}
	rc = fileio_write_atomic(AT_FDCWD, path, buf, len, 0644, NULL, 0, &err);
	free(buf);
	if (rc < 0) {
		fprintf(stderr, "wsusutil: upstream: cannot write %s: %s\n",
		    path, err.what);
		return 1;
	}
	printf("trusted for the upstream: %zu certificate(s) in %s\n", n,
	    path);
	return 0;
}

static int
upstream_set(const char *datadir, int argc, char **argv)
{
	struct store_upstream up;
	struct store *st = NULL;
	struct wsd_err err;
	const char *ca = NULL, *url = NULL;
	bool no_ssl = false;
	int rc;

	memset(&up, 0, sizeof(up));
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--replica") == 0)
			up.replica = true;
		else if (strcmp(a, "--autonomous") == 0)
			up.replica = false;
		else if (strcmp(a, "--no-ssl") == 0)
			no_ssl = true;
		else if (strcmp(a, "--ca") == 0 && i + 1 < argc)
			ca = argv[++i];
		else if (strcmp(a, "--client-cert") == 0 && i + 1 < argc)
			snprintf(up.client_cert, sizeof(up.client_cert), "%s",
			    argv[++i]);
		else if (strcmp(a, "--client-key") == 0 && i + 1 < argc)
			snprintf(up.client_key, sizeof(up.client_key), "%s",
			    argv[++i]);
		else if (a[0] != '-' && url == NULL)
			url = a;
		else
			return upstream_usage();
	}
	if (url == NULL)
		return upstream_usage();
	if (strlen(url) >= sizeof(up.url) - 1)
		return wsusutil_fail("upstream", "URL too long");
	if (no_ssl ? strncasecmp(url, "http://", 7) != 0 :
		     strncasecmp(url, "https://", 8) != 0) {
		fprintf(stderr,
		    "wsusutil: upstream: %s: %s\n", url,
		    no_ssl ? "with --no-ssl the URL is http://HOST:PORT" :
			     "\"Use SSL when synchronizing\" is on: the URL "
			     "must be https://HOST:PORT (or give --no-ssl)");
		return 1;
	}
	if (no_ssl && (ca != NULL || up.client_cert[0] != '\0')) {
		fprintf(stderr, "wsusutil: upstream: --ca and --client-cert "
				"need SSL (drop --no-ssl)\n");
		return 2;
	}
	for (int k = 0; k < 2; k++) {
		const char *p = k == 0 ? up.client_cert : up.client_key;

		if (p[0] != '\0' && (p[0] != '/' || access(p, R_OK) != 0)) {
			fprintf(stderr,
			    "wsusutil: upstream: %s: not a readable absolute "
			    "path\n",
			    p);
			return 1;
		}
	}
	snprintf(up.url, sizeof(up.url), "%s", url);
	up.use_tls = !no_ssl;
	if (ca != NULL && (rc = install_ca(datadir, ca)) != 0)
		return rc;
	if (wsusutil_open_store("upstream", datadir, &st) < 0)
		return 1;
	rc = store_upstream_set(st, &up, &err);
	store_close(st);
	if (rc < 0)
		return wsusutil_fail("upstream", err.what);
	printf("upstream: %s (%s, %s)\n", up.url,
	    up.replica ? "replica" : "autonomous",
	    up.use_tls ? "SSL" : "no SSL: metadata travels in the clear");
	return 0;
}

static int
upstream_show(const char *datadir)
{
	struct store_upstream up;
	struct store *st = NULL;
	struct wsd_err err;
	int rc;

	if (wsusutil_open_store("upstream", datadir, &st) < 0)
		return 1;
	rc = store_upstream_get(st, &up, &err);
	store_close(st);
	if (rc == WSD_ENOTFOUND) {
		printf("no upstream: this server synchronizes from nowhere\n");
		return 0;
	}
	if (rc < 0)
		return wsusutil_fail("upstream", err.what);
	printf("url: %s\nmode: %s\nssl: %s\n", up.url,
	    up.replica ? "replica" : "autonomous", up.use_tls ? "yes" : "no");
	if (up.client_cert[0])
		printf("client certificate: %s\n", up.client_cert);
	printf("anchors: config %s, updates %s, deployments %s\n",
	    up.anchor_config[0] ? up.anchor_config : "-",
	    up.anchor_updates[0] ? up.anchor_updates : "-",
	    up.deployment_anchor[0] ? up.deployment_anchor : "-");
	return 0;
}

int
cmd_upstream(const char *datadir, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "set") == 0)
		return upstream_set(datadir, argc, argv);
	if (argc == 2 && strcmp(argv[1], "show") == 0)
		return upstream_show(datadir);
	return upstream_usage();
}

/* ------------------------------------------------------------------ */

static void
print_progress(void *arg, const struct store_sync_progress *p)
{
	(void)arg;
	printf("%s: metadata %" PRId64 "/%" PRId64 " (%" PRId64
	       " bytes), files %" PRId64 "/%" PRId64 " (%" PRId64
	       " bytes, %" PRId64 " quarantined)\n",
	    p->phase, p->items_done, p->items_total, p->metadata_bytes,
	    p->files_done, p->files_total, p->content_bytes,
	    p->files_quarantined);
	fflush(stdout);
}

/*
 * What the synchronization takes from wsusd.conf: its log_level (a
 * synchronization logs like the daemon would), and its Kerberos
 * identity: sync_keytab (a client keytab, e.g. the machine account's)
 * with a private memory cache; else whatever the environment's
 * credential cache holds.
 */
static void
sync_settings(const char *datadir)
{
	struct config_overrides ov = { 0 };
	struct config *cf = NULL;
	struct wsd_err err;

	if (config_load(datadir, &ov, &cf, &err) < 0)
		return;
	log_set_level(cf->cf_log_level);
	if (cf->cf_sync_keytab != NULL) {
		setenv("KRB5_CLIENT_KTNAME", cf->cf_sync_keytab, 1);
		setenv("KRB5CCNAME", "MEMORY:wsusd-sync", 1);
	}
	config_free(cf);
}

static int
sync_now(const char *datadir, bool wait, bool scheduled, bool meta_only)
{
	struct sync_opts o = { .trigger = scheduled ? "schedule" : "manual",
		.metadata_only = meta_only };
	char msg[1024];
	pid_t pid;
	int rc;

	sync_settings(datadir);
	if (wait) {
		o.progress = print_progress;
		rc = sync_run(datadir, &o, msg, sizeof(msg));
		if (rc < 0) {
			fprintf(stderr, "wsusutil: sync: %s\n", msg);
			return 1;
		}
		printf("synchronization succeeded: %s\n", msg);
		return 0;
	}
	/* In the background, detached; the log goes to DATADIR/sync.log. */
	fflush(stdout);
	if ((pid = fork()) < 0)
		return wsusutil_fail("sync", "cannot fork");
	if (pid == 0) {
		char path[4096];
		int fd;

		setsid();
		snprintf(path, sizeof(path), "%s/sync.log", datadir);
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			close(fd);
		}
		if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			 0640)) >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		rc = sync_run(datadir, &o, msg, sizeof(msg));
		_exit(rc < 0 ? 1 : 0);
	}
	printf("synchronization started (pid %ld); `wsusutil sync status` "
	       "shows its progress\n",
	    (long)pid);
	return 0;
}

struct status_ctx {
	bool json;
	unsigned n;
};

static int
status_row(void *arg, const struct store_sync_row *r)
{
	struct status_ctx *c = arg;

	if (c->json) {
		printf("%s{\"id\":%" PRId64 ",\"started\":", c->n ? "," : "",
		    r->sync_id);
		json_str(stdout, r->started);
		printf(",\"finished\":");
		json_str(stdout, r->finished);
		printf(",\"trigger\":");
		json_str(stdout, r->trigger);
		printf(",\"result\":");
		json_str(stdout, r->result);
		printf(",\"phase\":");
		json_str(stdout, r->phase);
		printf(",\"message\":");
		json_str(stdout, r->message);
		printf(",\"items_total\":%" PRId64 ",\"items_done\":%" PRId64
		       ",\"new_revisions\":%" PRId64
		       ",\"metadata_bytes\":%" PRId64
		       ",\"files_total\":%" PRId64 ",\"files_done\":%" PRId64
		       ",\"files_quarantined\":%" PRId64
		       ",\"content_bytes\":%" PRId64
		       ",\"revisions_vanished\":%" PRId64 "}",
		    r->items_total, r->items_done, r->new_revisions,
		    r->metadata_bytes, r->files_total, r->files_done,
		    r->files_quarantined, r->content_bytes,
		    r->revisions_vanished);
	} else {
		printf("#%" PRId64 " %s %s (%s) started %s%s%s\n", r->sync_id,
		    r->result, r->phase, r->trigger, r->started,
		    r->finished[0] ? ", finished " : "", r->finished);
		printf("  metadata %" PRId64 "/%" PRId64 ", %" PRId64
		       " new revisions, %" PRId64 " bytes; files %" PRId64
		       "/%" PRId64 ", %" PRId64 " bytes, %" PRId64
		       " quarantined\n",
		    r->items_done, r->items_total, r->new_revisions,
		    r->metadata_bytes, r->files_done, r->files_total,
		    r->content_bytes, r->files_quarantined);
		if (r->revisions_vanished > 0)
			printf("  %" PRId64 " revisions the upstream listed "
			       "were not delivered (expired or removed "
			       "upstream?)\n",
			    r->revisions_vanished);
		if (r->message[0])
			printf("  %s\n", r->message);
	}
	c->n++;
	return 0;
}

static int
sync_status(const char *datadir, bool json)
{
	struct status_ctx c = { .json = json };
	struct store *st = NULL;
	struct wsd_err err;
	int rc;

	if (wsusutil_open_store("sync", datadir, &st) < 0)
		return 1;
	if (json)
		printf("[");
	rc = store_sync_history(st, 10, status_row, &c, &err);
	store_close(st);
	if (json)
		printf("]\n");
	if (rc < 0)
		return wsusutil_fail("sync", err.what);
	if (!json && c.n == 0)
		printf("no synchronization yet\n");
	return 0;
}

int
cmd_sync(const char *datadir, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "status") == 0) {
		if (argc == 2)
			return sync_status(datadir, false);
		if (argc == 3 && strcmp(argv[2], "--json") == 0)
			return sync_status(datadir, true);
	} else {
		bool wait = false, sched = false, meta = false, bad = false;

		for (int i = 1; i < argc; i++)
			if (strcmp(argv[i], "--wait") == 0)
				wait = true;
			/* What wsusd's schedule runs (wsusd/sync_sched.c). */
			else if (strcmp(argv[i], "--scheduled") == 0)
				sched = true;
			else if (strcmp(argv[i], "--metadata-only") == 0)
				meta = true;
			else
				bad = true;
		if (!bad)
			return sync_now(datadir, wait, sched, meta);
	}
	fprintf(stderr, "usage: wsusutil sync [--wait] [--metadata-only] | "
			"sync status [--json]\n");
	return 2;
}
