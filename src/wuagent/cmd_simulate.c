/*
 * wuagent simulate (issue #6 item 7): thousands of agents from one
 * process, each with its own computer id, cookie and revision cache,
 * each on its own kept-alive connection, driven by one libcurl multi
 * loop. Every agent does what `wuagent scan` does on the wire
 * (agent_msg.h: GetConfig, GetAuthorizationCookie, GetCookie,
 * RegisterComputer, then SyncUpdates pages until the server has nothing
 * more), then rescans with its whole cache until the time is up. The
 * first full pass of an agent is a cold scan, every later one a warm
 * rescan. Nothing is written to disk: the cache is revision ids only.
 *
 * The summary gives scans/s, SyncUpdates latency p50/p99, errors by
 * kind, and the simulator's own CPU per scan, so that server figures can
 * be read net of the driver (bench/scan.sh).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>

#include "common/encode.h"
#include "common/strparse.h"
#include "common/xpress.h"
#include "wuagent/agent_cmd.h"
#include "wuagent/agent_http.h"
#include "wuagent/agent_msg.h"

#define SIM_MAX_CLIENTS 20000
#define SIM_MAX_DURATION 86400
#define SIM_MAX_SAMPLES (1u << 21) /* latencies kept for percentiles */
#define SIM_MAX_PAGES 200
#define SIM_MAX_ERRKINDS 32

enum sim_step { S_CONFIG, S_AUTH, S_COOKIE, S_REGISTER, S_SYNC };

struct sim_client {
	CURL *easy;
	struct curl_slist *headers;
	enum sim_step step;
	char id[37];
	char dns[64];
	char last_change[40];
	char *auth; /* authorization cookie (AGENT_COOKIE_MAX) */
	struct agent_cookie ck;
	int32_t *nonleaf, *other; /* the cache: revision ids */
	size_t n_nonleaf, n_other, cap;
	bool warm;          /* finished one full pass */
	unsigned pages;     /* of this pass */
	bool page_nonleaf;  /* this page brought a non-leaf revision */
	struct sbuf req, resp;
	bool xpress;        /* answer is Content-Encoding: xpress */
	uint64_t started_ns;
	/* after an error: wait before the next request, doubling */
	unsigned backoff_ms;
	uint64_t wake_ns;
	bool sleeping;
};

/* A failing server is not hammered: 0.1 s doubling to 5 s, jittered. */
#define SIM_BACKOFF_MIN_MS 100
#define SIM_BACKOFF_MAX_MS 5000
/* A response buffer grown past this is given back after use. */
#define SIM_KEEP_BUFFER (1024 * 1024)

struct sim_err {
	char kind[80];
	uint64_t n;
};

struct sim {
	const struct agent_config *cf;
	char client_url[AGENT_URL_MAX + 64];
	char auth_url[AGENT_URL_MAX + 64];
	CURLM *multi;
	struct sim_client *c;
	size_t n;
	uint64_t cold, warm, requests, sync_requests;
	uint32_t *lat_us; /* SyncUpdates latencies */
	size_t n_lat;
	struct sim_err errs[SIM_MAX_ERRKINDS];
	size_t n_errs;
	uint64_t errors;
	bool stop;
};

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
count_error(struct sim *sm, const char *kind)
{
	size_t i;

	sm->errors++;
	for (i = 0; i < sm->n_errs; i++)
		if (strcmp(sm->errs[i].kind, kind) == 0)
			break;
	if (i == sm->n_errs) {
		if (sm->n_errs == SIM_MAX_ERRKINDS)
			i = SIM_MAX_ERRKINDS - 1; /* "other" bucket */
		else
			snprintf(sm->errs[sm->n_errs++].kind,
			    sizeof(sm->errs[0].kind), "%s", kind);
	}
	sm->errs[i].n++;
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sim_client *c = arg;

	if (sbuf_add(&c->resp, p, size * nmemb) < 0)
		return 0; /* too big: curl fails the transfer */
	return size * nmemb;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sim_client *c = arg;
	size_t n = size * nmemb;

	if (n >= 17 && strncasecmp(p, "Content-Encoding:", 17) == 0) {
		struct sv v = { p + 17, n - 17 };

		while (v.n > 0 && (v.p[v.n - 1] == '\n' || v.p[v.n - 1] == '\r'))
			v.n--;
		c->xpress = sv_eq_ci(sv_trim_ows(v), SV_LIT("xpress"));
	}
	return n;
}

/* Queues the client's next request (already written in c->req). */
static int
post(struct sim *sm, struct sim_client *c, const char *url, const char *ns,
    const char *op)
{
	char action[256];

	curl_slist_free_all(c->headers);
	c->headers = NULL;
	snprintf(action, sizeof(action), "SOAPAction: \"%s/%s\"", ns, op);
	if ((c->headers = curl_slist_append(c->headers,
		 "Content-Type: text/xml; charset=utf-8")) == NULL ||
	    curl_slist_append(c->headers, action) == NULL ||
	    curl_slist_append(c->headers, "Accept-Encoding: xpress") == NULL ||
	    curl_slist_append(c->headers, "Expect:") == NULL)
		return -1;
	sbuf_reset(&c->resp);
	c->xpress = false;
	curl_easy_setopt(c->easy, CURLOPT_URL, url);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, sbuf_str(&c->req));
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)c->req.sb_len);
	c->started_ns = now_ns();
	sm->requests++;
	return curl_multi_add_handle(sm->multi, c->easy) == CURLM_OK ? 0 : -1;
}

/* Writes and queues the request of C's current step. */
static int
next_request(struct sim *sm, struct sim_client *c)
{
	struct agent_sysinfo si;
	int rc = -1;

	sbuf_reset(&c->req);
	switch (c->step) {
	case S_CONFIG:
		if (agent_msg_get_config(&c->req) == 0)
			rc = post(sm, c, sm->client_url, SOAP_NS_CLIENT,
			    "GetConfig");
		break;
	case S_AUTH:
		if (agent_msg_get_auth_cookie(&c->req, c->id, NULL, c->dns) ==
		    0)
			rc = post(sm, c, sm->auth_url, SOAP_NS_SIMPLEAUTH,
			    "GetAuthorizationCookie");
		break;
	case S_COOKIE:
		if (agent_msg_get_cookie(&c->req, c->auth, NULL,
			c->last_change) == 0)
			rc = post(sm, c, sm->client_url, SOAP_NS_CLIENT,
			    "GetCookie");
		break;
	case S_REGISTER:
		memset(&si, 0, sizeof(si));
		snprintf(si.os_locale, sizeof(si.os_locale), "en-US");
		snprintf(si.manufacturer, sizeof(si.manufacturer), "wuagent");
		snprintf(si.model, sizeof(si.model), "simulated");
		snprintf(si.bios_version, sizeof(si.bios_version), "unknown");
		snprintf(si.bios_date, sizeof(si.bios_date),
		    "2000-01-01T00:00:00Z");
		snprintf(si.processor, sizeof(si.processor), "AMD64");
		snprintf(si.os_description, sizeof(si.os_description),
		    "Linux (wuagent simulate)");
		if (agent_msg_register(&c->req, &c->ck, c->dns, &si) == 0)
			rc = post(sm, c, sm->client_url, SOAP_NS_CLIENT,
			    "RegisterComputer");
		break;
	case S_SYNC:
		if (agent_msg_sync(&c->req, &c->ck, c->nonleaf, c->n_nonleaf,
			c->other, c->n_other) == 0)
			rc = post(sm, c, sm->client_url, SOAP_NS_CLIENT,
			    "SyncUpdates");
		break;
	}
	return rc;
}

static int
cache_add(struct sim_client *c, int32_t id, bool nonleaf)
{
	if (c->n_nonleaf + c->n_other == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		int32_t *a = realloc(c->nonleaf, ncap * sizeof(*a));
		int32_t *b;

		if (a == NULL)
			return -1;
		c->nonleaf = a;
		if ((b = realloc(c->other, ncap * sizeof(*b))) == NULL)
			return -1;
		c->other = b;
		c->cap = ncap;
	}
	/* A server repeating an id does not grow the cache. */
	for (size_t i = 0; i < c->n_nonleaf; i++)
		if (c->nonleaf[i] == id)
			return 0;
	for (size_t i = 0; i < c->n_other; i++)
		if (c->other[i] == id)
			return 0;
	/* As the native client files them (OBSERVED 23), at most 400
	 * non-leaf ids (WUSP.md 4.2 item 14). */
	if (nonleaf && c->n_nonleaf < 400)
		c->nonleaf[c->n_nonleaf++] = id;
	else
		c->other[c->n_other++] = id;
	return 0;
}

static int
sim_new(void *arg, const struct agent_update_info *u)
{
	struct sim_client *c = arg;

	if (!u->is_leaf)
		c->page_nonleaf = true;
	return cache_add(c, u->revision_id, !u->is_leaf) < 0 ? AGENT_ERR_LOCAL :
								0;
}

static void
drop_id(int32_t *v, size_t *n, int32_t id)
{
	for (size_t i = 0; i < *n; i++)
		if (v[i] == id) {
			v[i] = v[--*n];
			return;
		}
}

static int
sim_gone(void *arg, int32_t id)
{
	struct sim_client *c = arg;

	drop_id(c->nonleaf, &c->n_nonleaf, id);
	drop_id(c->other, &c->n_other, id);
	return 0;
}

static void
sample(struct sim *sm, uint64_t ns)
{
	uint64_t us = ns / 1000;

	if (sm->n_lat < SIM_MAX_SAMPLES)
		sm->lat_us[sm->n_lat++] = us > UINT32_MAX ? UINT32_MAX :
							     (uint32_t)us;
}

/* A finished transfer of C: read the answer, pick the next step. */
static void
done(struct sim *sm, struct sim_client *c, CURLcode cc)
{
	static const char *const ops[] = { "GetConfig",
		"GetAuthorizationCookie", "GetCookie", "RegisterComputer",
		"SyncUpdates" };
	const char *op = ops[c->step];
	const char *ns = c->step == S_AUTH ? SOAP_NS_SIMPLEAUTH :
					     SOAP_NS_CLIENT;
	struct agent_sync_visitor v = { sim_new, NULL, sim_gone, c };
	struct agent_answer a;
	struct sbuf plain;
	struct wsd_err err;
	char msg[256], kind[96];
	const char *body;
	size_t len;
	long status = 0;
	bool truncated, failed = false;
	int rc;

	curl_multi_remove_handle(sm->multi, c->easy);
	if (c->step == S_SYNC) {
		sm->sync_requests++;
		sample(sm, now_ns() - c->started_ns);
	}
	if (cc != CURLE_OK) {
		snprintf(kind, sizeof(kind), "%s: network: %s", op,
		    curl_easy_strerror(cc));
		count_error(sm, kind);
		failed = true;
		/* A new connection and a new session. */
		c->step = S_CONFIG;
		goto next;
	}
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	sbuf_init(&plain, AGENT_HTTP_MAX_ANSWER);
	body = sbuf_str(&c->resp);
	len = c->resp.sb_len;
	if (c->xpress) {
		if (xpress_decode((const unsigned char *)body, len,
			AGENT_HTTP_MAX_ANSWER, &plain, &err) < 0) {
			snprintf(kind, sizeof(kind), "%s: bad xpress", op);
			count_error(sm, kind);
			failed = true;
			c->step = S_CONFIG;
			goto next;
		}
		body = sbuf_str(&plain);
		len = plain.sb_len;
	}
	agent_answer_init(&a);
	rc = agent_msg_read(body, len, status, op, ns, &a, msg, sizeof(msg));
	if (rc == AGENT_OK) {
		switch (c->step) {
		case S_CONFIG:
			rc = agent_msg_str(&a, a.result, "LastChange",
			    c->last_change, sizeof(c->last_change)) < 0 ?
			    AGENT_ERR_PROTO :
			    AGENT_OK;
			c->step = S_AUTH;
			break;
		case S_AUTH:
			rc = agent_msg_str(&a, a.result, "CookieData", c->auth,
			    AGENT_COOKIE_MAX) < 0 ?
			    AGENT_ERR_PROTO :
			    AGENT_OK;
			c->step = S_COOKIE;
			break;
		case S_COOKIE:
			rc = agent_msg_take_cookie(&a, a.result, &c->ck);
			c->step = c->ck.expiration[0] != '\0' && c->warm ?
			    S_SYNC :
			    S_REGISTER;
			break;
		case S_REGISTER:
			c->step = S_SYNC;
			c->pages = 0;
			break;
		case S_SYNC:
			c->page_nonleaf = false;
			rc = agent_msg_sync_page(&a, &v, &truncated, &c->ck,
			    msg, sizeof(msg));
			if (rc != AGENT_OK)
				break;
			if (++c->pages < SIM_MAX_PAGES &&
			    (truncated || c->page_nonleaf))
				break;
			/* One pass done: a scan. */
			if (c->warm)
				sm->warm++;
			else
				sm->cold++;
			c->warm = true;
			c->pages = 0;
			break;
		}
		if (rc != AGENT_OK) {
			snprintf(kind, sizeof(kind), "%s: malformed answer",
			    op);
			count_error(sm, kind);
			failed = true;
			c->step = S_CONFIG;
		}
	} else if (rc == AGENT_ERR_FAULT) {
		snprintf(kind, sizeof(kind), "%s: fault %s", op,
		    a.fault[0] ? a.fault : "(none)");
		count_error(sm, kind);
		failed = true;
		/* What the agent does (agent_proto.c recover()). */
		if (strcmp(a.fault, "RegistrationRequired") == 0)
			c->step = S_REGISTER;
		else if (strcmp(a.fault, "ServerBusy") == 0)
			; /* the same request again */
		else
			c->step = S_CONFIG;
	} else {
		snprintf(kind, sizeof(kind), "%s: bad answer (HTTP %ld)", op,
		    status);
		count_error(sm, kind);
		failed = true;
		c->step = S_CONFIG;
	}
	agent_answer_release(&a);
	sbuf_release(&plain);
	if (!failed)
		c->backoff_ms = 0;
next:
	if (c->resp.sb_alloc > SIM_KEEP_BUFFER)
		sbuf_release(&c->resp);
	if (failed) {
		c->backoff_ms = c->backoff_ms == 0 ? SIM_BACKOFF_MIN_MS :
		    c->backoff_ms * 2 > SIM_BACKOFF_MAX_MS ?
						    SIM_BACKOFF_MAX_MS :
						    c->backoff_ms * 2;
		c->wake_ns = now_ns() +
		    (uint64_t)(c->backoff_ms / 2 +
			(unsigned)random() % (c->backoff_ms / 2 + 1)) *
			1000000u;
		c->sleeping = true;
		return;
	}
	if (!sm->stop && next_request(sm, c) < 0)
		count_error(sm, "local: cannot write a request");
}

/* Clients whose backoff is over send their next request. */
static void
wake(struct sim *sm)
{
	uint64_t now = now_ns();

	for (size_t i = 0; i < sm->n; i++) {
		struct sim_client *c = &sm->c[i];

		if (!c->sleeping || c->wake_ns > now)
			continue;
		c->sleeping = false;
		if (!sm->stop && next_request(sm, c) < 0)
			count_error(sm, "local: cannot write a request");
	}
}

static int
client_init(struct sim *sm, struct sim_client *c, size_t i)
{
	struct wsd_err err;

	sbuf_init(&c->req, AGENT_REQUEST_MAX);
	sbuf_init(&c->resp, AGENT_HTTP_MAX_ANSWER);
	if ((c->auth = calloc(1, AGENT_COOKIE_MAX)) == NULL ||
	    guid_generate(c->id, &err) < 0 ||
	    (c->easy = curl_easy_init()) == NULL)
		return -1;
	snprintf(c->dns, sizeof(c->dns), "sim-%zu.wuagent.test", i);
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_USERAGENT,
	    "Windows-Update-Agent/1507.2601.30012.0 Client-Protocol/2.90");
	curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (agent_curl_tls(c->easy, sm->cf) != CURLE_OK)
		return -1;
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	c->step = S_CONFIG;
	return 0;
}

static void
client_free(struct sim_client *c)
{
	if (c->easy != NULL)
		curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->headers);
	sbuf_release(&c->req);
	sbuf_release(&c->resp);
	free(c->auth);
	free(c->nonleaf);
	free(c->other);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static double
pct(const uint32_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)((p * (double)n + 99.999) / 100.0);
	if (i > n)
		i = n;
	return v[i == 0 ? 0 : i - 1] / 1000.0;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
summary(struct sim *sm, double secs, double cpu)
{
	uint64_t scans = sm->cold + sm->warm;

	qsort(sm->lat_us, sm->n_lat, sizeof(*sm->lat_us), cmp_u32);
	printf("simulate: %zu clients, %.1f s\n", sm->n, secs);
	printf("  scans: %" PRIu64 " (cold %" PRIu64 ", warm %" PRIu64
	       "), %.1f scans/s (warm %.1f/s)\n",
	    scans, sm->cold, sm->warm, scans / secs, sm->warm / secs);
	printf("  requests: %" PRIu64 " (SyncUpdates %" PRIu64
	       "), %.1f requests/s\n",
	    sm->requests, sm->sync_requests, sm->requests / secs);
	printf("  SyncUpdates latency ms: p50 %.1f, p99 %.1f, max %.1f\n",
	    pct(sm->lat_us, sm->n_lat, 50), pct(sm->lat_us, sm->n_lat, 99),
	    pct(sm->lat_us, sm->n_lat, 100));
	printf("  client CPU: %.2f s, %.3f ms per scan\n", cpu,
	    scans ? cpu * 1000.0 / (double)scans : 0.0);
	printf("  errors: %" PRIu64 "\n", sm->errors);
	for (size_t i = 0; i < sm->n_errs; i++)
		printf("    %" PRIu64 "  %s\n", sm->errs[i].n,
		    sm->errs[i].kind);
}

static int
usage(void)
{
	fprintf(stderr, "usage: wuagent [--server URL] [--ca-file F] "
			"simulate --clients N --duration SECONDS "
			"[--server URL]\n");
	return 2;
}

int
agent_cmd_simulate(struct agent_config *cf, int argc, char **argv)
{
	uint64_t clients = 100, duration = 10, deadline;
	struct sim sm;
	const char *why;
	double t0, cpu0;
	int rc = 0;

	/* Flags come in pairs: FLAG VALUE. */
	for (int i = 0; i < argc; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			return usage();
		if (strcmp(argv[i], "--clients") == 0) {
			if (strparse_u64_all(v, 1, SIM_MAX_CLIENTS, &clients) <
			    0)
				return agent_fail("simulate",
				    "--clients must be 1-%d", SIM_MAX_CLIENTS);
		} else if (strcmp(argv[i], "--duration") == 0) {
			if (strparse_u64_all(v, 1, SIM_MAX_DURATION,
				&duration) < 0)
				return agent_fail("simulate",
				    "--duration must be 1-%d seconds",
				    SIM_MAX_DURATION);
		} else if (strcmp(argv[i], "--server") == 0) {
			if (agent_config_set(cf, "WUServer", v, &why) < 0)
				return agent_fail("simulate", "--server: %s",
				    why);
		} else
			return usage();
	}
	if (agent_config_check(cf, &why) < 0)
		return agent_fail("simulate", "%s", why);
	memset(&sm, 0, sizeof(sm));
	sm.cf = cf;
	snprintf(sm.client_url, sizeof(sm.client_url),
	    "%s/ClientWebService/client.asmx", cf->wu_server);
	snprintf(sm.auth_url, sizeof(sm.auth_url),
	    "%s/SimpleAuthWebService/SimpleAuth.asmx", cf->wu_server);
	sm.n = (size_t)clients;
	sm.c = calloc(sm.n, sizeof(*sm.c));
	sm.lat_us = calloc(SIM_MAX_SAMPLES, sizeof(*sm.lat_us));
	if (sm.c == NULL || sm.lat_us == NULL ||
	    (sm.multi = curl_multi_init()) == NULL) {
		rc = agent_fail("simulate", "out of memory");
		goto out;
	}
	curl_multi_setopt(sm.multi, CURLMOPT_MAXCONNECTS, (long)sm.n);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = (double)now_ns() / 1e9;
	cpu0 = cpu_seconds();
	for (size_t i = 0; i < sm.n; i++)
		if (client_init(&sm, &sm.c[i], i) < 0 ||
		    next_request(&sm, &sm.c[i]) < 0) {
			rc = agent_fail("simulate", "cannot start client %zu",
			    i);
			goto out;
		}
	deadline = now_ns() + duration * 1000000000u;
	/* Bounded by the deadline: no new request once it passed, and the
	 * requests in flight get at most 30 s more. */
	while (!interrupted) {
		int running = 0, left;
		CURLMsg *m;

		if (!sm.stop && now_ns() >= deadline)
			sm.stop = true;
		curl_multi_perform(sm.multi, &running);
		while ((m = curl_multi_info_read(sm.multi, &left)) != NULL) {
			struct sim_client *c;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			    (char **)&c);
			done(&sm, c, m->data.result);
		}
		if (sm.stop && (running == 0 ||
				   now_ns() >= deadline + 30000000000u))
			break;
		wake(&sm);
		curl_multi_poll(sm.multi, NULL, 0, 100, NULL);
	}
	summary(&sm, (double)now_ns() / 1e9 - t0, cpu_seconds() - cpu0);
	rc = sm.cold + sm.warm > 0 ? 0 : 1;
	if (rc != 0)
		fprintf(stderr, "wuagent: simulate: no scan completed\n");
out:
	for (size_t i = 0; sm.c != NULL && i < sm.n; i++) {
		if (sm.c[i].easy != NULL && sm.multi != NULL)
			curl_multi_remove_handle(sm.multi, sm.c[i].easy);
		client_free(&sm.c[i]);
	}
	if (sm.multi != NULL)
		curl_multi_cleanup(sm.multi);
	free(sm.c);
	free(sm.lat_us);
	return rc;
}
