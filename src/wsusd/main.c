/*
 * wsusd: wiring only. Parse the command line, load the configuration,
 * become the service user (privilege.h), build the first generation
 * (database, TLS, cookie keys, content, listeners), give up the last
 * capability, start the workers, then wait for signals: SIGHUP reloads,
 * SIGTERM/SIGINT stop gracefully. Nothing is created in the data
 * directory as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "common/log.h"
#include "common/wsd_err.h"
#include "config/config.h"
#include "content/content_store.h"
#include "net/tls_bufpool.h"
#include "soap/soap_parse.h"
#include "http/http_server.h"
#include "store/store.h"
#include "wsusd/privilege.h"
#include "admin/admin_exec.h"
#include "wsusd/admin_socket.h"
#include "wsusd/runtime.h"
#include "wsusd/sync_sched.h"

/* Without TLS, say so again this often (SECURITY.md S3). */
#define INSECURE_WARN_SECS 3600

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: wsusd --data DIR [--port N] [--listen ADDR]... "
	    "[--user NAME]\n"
	    "             [--foreground] [--check]\n"
	    "\n"
	    "  --data DIR      data directory (wsusd.conf, wsusd.db, content/, "
	    "tls/)\n"
	    "  --port N        HTTPS port (default 8531); plain HTTP listens "
	    "on N-1,\n"
	    "                  or on 80 when N is 443\n"
	    "  --listen ADDR   numeric IPv4/IPv6 address to listen on; "
	    "repeatable\n"
	    "                  (default: every address, IPv4 and IPv6)\n"
	    "  --user NAME     started as root: serve as NAME once the ports "
	    "are bound\n"
	    "                  (DIR must be owned by NAME; same as user = in "
	    "wsusd.conf)\n"
	    "  --foreground    do not detach; log to stderr\n"
	    "  --check, -n     check the configuration and exit\n"
	    "  --help, --version\n"
	    "\n"
	    "Signals: SIGHUP reloads wsusd.conf and the certificate; SIGTERM "
	    "stops\n"
	    "after requests in flight finish (shutdown_timeout).\n");
}

static void
warn_insecure(const struct srv_runtime *rt)
{
	if (!rt->rt_tls)
		log_warnx("TLS is not configured: update metadata is served "
			  "over plain HTTP, unprotected, and anyone on the "
			  "network path can inject updates (WSUSpect). Run "
			  "'wsusutil configuressl'.");
}

static void
announce(const struct srv_runtime *rt)
{
	const struct config *cf = rt->rt_cf;

	for (unsigned i = 0; i < rt->rt_nlisten; i++) {
		const struct listener *ls = &rt->rt_listen[i];
		bool v6 = strchr(ls->ls_addr, ':') != NULL;

		log_info("listening on %s%s%s:%u (%s)", v6 ? "[" : "",
		    ls->ls_addr, v6 ? "]" : "", ls->ls_port,
		    ls->ls_tls ? "https" : "http");
	}
	if (rt->rt_tls)
		log_info("web services: https://%s:%u/  content: "
			 "http://%s:%u/Content/",
		    cf->cf_server_name, cf->cf_https_port, cf->cf_server_name,
		    cf->cf_http_port);
	else
		log_info("web services and content: http://%s:%u/",
		    cf->cf_server_name, cf->cf_http_port);
}

static int
write_pidfile(const char *datadir, char *path, size_t n)
{
	char buf[32];
	int fd, len;

	snprintf(path, n, "%s/wsusd.pid", datadir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0644);
	if (fd < 0) {
		log_warn("%s", path);
		return -1;
	}
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)len) != len) {
		log_warn("%s", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void
detach(const char *datadir)
{
	char path[4096];
	pid_t pid;
	int fd;

	snprintf(path, sizeof(path), "%s/wsusd.log", datadir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0640);
	if (fd < 0)
		fatalx("%s: %s", path, strerror(errno));
	if ((pid = fork()) < 0)
		fatalx("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	setsid();
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	if ((fd = open("/dev/null", O_RDONLY)) >= 0) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
}

static unsigned
worker_count(const struct config *cf)
{
	long n;

	if (cf->cf_workers > 0)
		return cf->cf_workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : (n > WSD_MAX_WORKERS ? WSD_MAX_WORKERS : (unsigned)n);
}

static void
reload(struct srv *s, const char *datadir, const struct config_overrides *ov,
    const struct privilege *pv)
{
	struct srv_runtime *rt;
	struct config *cf;
	struct wsd_err err;
	const char *why = "";

	log_info("SIGHUP: reloading configuration and certificate");
	if (config_load(datadir, ov, &cf, &err) < 0) {
		log_warnx("reload failed (%s); keeping the running "
			  "configuration",
		    err.what);
		return;
	}
	/* The switch happened once, at start, and cannot be redone. */
	if (!privilege_same_user(pv, cf->cf_user)) {
		log_warnx("reload refused: user = %s, but wsusd started as "
			  "%s; restart wsusd to change the account; keeping "
			  "the running configuration",
		    cf->cf_user != NULL ? cf->cf_user : "(none)",
		    pv->pv_user[0] != '\0' ? pv->pv_user : "(none)");
		config_free(cf);
		return;
	}
	/* cf is freed when runtime_build fails. */
	if (pv->pv_dropped &&
	    (cf->cf_https_port < 1024 || cf->cf_http_port < 1024))
		why = ": a port below 1024 not bound at start needs root or "
		      "CAP_NET_BIND_SERVICE, which wsusd gave up once started; "
		      "restart wsusd to listen on it";
	if (runtime_build(cf, srv_current(s), &rt, &err) < 0) {
		log_warnx("reload failed (%s)%s; keeping the running "
			  "configuration",
		    err.what, err.code == WSD_EIO ? why : "");
		return;
	}
	log_set_level(rt->rt_cf->cf_log_level);
	srv_publish(s, rt);
	announce(rt);
	warn_insecure(rt);
	log_info("reloaded");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'p' },
		{ "listen", required_argument, NULL, 'l' },
		{ "user", required_argument, NULL, 'u' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct config_overrides ov = { 0 };
	const char *datadir = NULL;
	bool foreground = false, check = false, pool_ok;
	char pidpath[4096] = "";
	struct srv_runtime *rt;
	struct privilege pv;
	struct store *st;
	struct config *cf;
	struct wsd_err err;
	struct srv *s;
	sigset_t set;
	int c;

	log_set_prefix("wsusd");
	/* Before anything allocates through OpenSSL. */
	pool_ok = tls_bufpool_init(TLS_BUFPOOL_DEFAULT_BLOCKS) == 0;
	admin_exec_init();
	/* First: no core file may ever hold a key. */
	if (privilege_harden(&err) < 0)
		fatalx("%s", err.what);
	/* libxml2 2.9 must be set up before any thread parses. */
	xmlInitParser();
	soap_global_init();
	while ((c = getopt_long(argc, argv, "d:p:l:u:fnhV", opts, NULL)) !=
	    -1) {
		switch (c) {
		case 'd':
			datadir = optarg;
			break;
		case 'p': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*optarg == '\0' || *end != '\0' || v < 2 ||
			    v > 65535) {
				fprintf(stderr, "wsusd: --port %s: expected a "
						"port from 2 to 65535\n",
				    optarg);
				return 2;
			}
			ov.port = (int)v;
			break;
		}
		case 'l':
			if (ov.nlisten == WSD_MAX_LISTEN) {
				fprintf(stderr, "wsusd: at most %d --listen\n",
				    WSD_MAX_LISTEN);
				return 2;
			}
			ov.listen[ov.nlisten++] = optarg;
			break;
		case 'u':
			ov.user = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("wsusd %s\n", WSUSD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || datadir == NULL) {
		if (datadir == NULL)
			fprintf(stderr, "wsusd: --data DIR is required\n");
		usage(stderr);
		return 2;
	}

	if (config_load(datadir, &ov, &cf, &err) < 0)
		fatalx("cannot load configuration: %s", err.what);
	log_set_level(cf->cf_log_level);
	if (!pool_ok)
		log_warnx("TLS buffer pool unavailable; using malloc");
	if (check) {
		int rc = privilege_prepare(cf->cf_user, cf->cf_datadir, &pv,
		    &err);

		if (rc == 0)
			rc = runtime_check_modes(cf, &err);
		config_free(cf);
		if (rc < 0)
			fatalx("%s", err.what);
		printf("configuration OK\n");
		return 0;
	}

	/*
	 * Become the user, keeping only CAP_NET_BIND_SERVICE, before the
	 * data directory is touched: whatever is created there belongs to
	 * the user (S17). The capability goes once the ports are bound.
	 */
	if (privilege_prepare(cf->cf_user, cf->cf_datadir, &pv, &err) < 0 ||
	    runtime_check_modes(cf, &err) < 0 ||
	    privilege_switch(&pv, &err) < 0)
		fatalx("cannot start: %s", err.what);

	if (store_open(&st, cf->cf_datadir, &err) < 0)
		fatalx("cannot open the database: %s", err.what);
	store_close(st);
	{
		/* Temporary files a crashed import or publish left behind. */
		unsigned swept = 0;

		if (content_store_sweep_tmp(cf->cf_datadir, &swept, &err) < 0)
			log_warnx("content/.tmp: %s", err.what);
		else if (swept > 0)
			log_info("removed %u stale temporary content files",
			    swept);
	}

	signal(SIGPIPE, SIG_IGN);
	if (runtime_build(cf, NULL, &rt, &err) < 0)
		fatalx("cannot start: %s", err.what);
	/* Before any thread starts and any byte is read (S18). */
	if (privilege_drop(&pv, &err) < 0)
		fatalx("cannot start: %s", err.what);
	if (!foreground)
		detach(rt->rt_cf->cf_datadir);
	announce(rt);
	warn_insecure(rt);
	(void)write_pidfile(rt->rt_cf->cf_datadir, pidpath, sizeof(pidpath));

	/* Workers inherit this mask: only the main thread takes signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	datadir = rt->rt_cf->cf_datadir;
	{
		/* srv owns rt from here; keep our own copy of the path. */
		char *dd = strdup(datadir);
		struct sync_sched sched;
		struct admin_socket *admin;
		time_t last_warn;
		unsigned grace;

		if (dd == NULL)
			fatalx("out of memory");
		if (srv_start(rt, worker_count(rt->rt_cf), &s, &err) < 0)
			fatalx("cannot start: %s", err.what);
		if (admin_socket_start(srv_current(s)->rt_cf, &admin, &err) <
		    0)
			fatalx("cannot start: %s", err.what);
		log_info("wsusd %s started (pid %ld)", WSUSD_VERSION,
		    (long)getpid());
		sync_sched_init(&sched, time(NULL));
		last_warn = time(NULL);
		for (;;) {
			time_t now = time(NULL);
			struct timespec ts = { sync_sched_tick(&sched,
						   srv_current(s)->rt_cf, now,
						   INSECURE_WARN_SECS),
				0 };
			int sig = sigtimedwait(&set, NULL, &ts);

			if (sig < 0) {
				if (errno == EAGAIN &&
				    time(NULL) - last_warn >= INSECURE_WARN_SECS) {
					warn_insecure(srv_current(s));
					last_warn = time(NULL);
				}
				continue;
			}
			if (sig == SIGHUP) {
				reload(s, dd, &ov, &pv);
				admin_socket_update(admin,
				    srv_current(s)->rt_cf);
				continue;
			}
			break;
		}
		grace = srv_current(s)->rt_cf->cf_shutdown_timeout;
		log_info("stopping: finishing requests in flight (up to %us)",
		    grace);
		admin_socket_stop(admin);
		srv_stop(s, grace);
		free(dd);
	}
	if (pidpath[0] != '\0')
		unlink(pidpath);
	log_info("stopped");
	return 0;
}
