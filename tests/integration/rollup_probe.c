/*
 * Test-only driver for src/sync/sync_rollup.c (test_rollup.py): opens a
 * downstream data directory's store and runs one reporting rollup to an
 * upstream over HTTPS with libcurl.
 *
 *   rollup_probe DATADIR UPSTREAM_URL CAFILE
 *
 * Prints the stats as one JSON object; exit 0 on success, 1 with
 * "rollup_probe: <error>" on stderr otherwise.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "common/sbuf.h"
#include "common/wsd_err.h"
#include "store/store.h"
#include "sync/sync_rollup.h"

struct probe {
	CURL *curl;
	const char *url;
	const char *ca;
	char url_buf[1024];
};

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct sbuf *sb = arg;

	return sbuf_add(sb, p, size * n) < 0 ? 0 : size * n;
}

static int
probe_call(void *arg, const char *action, const char *body, size_t len,
    long *http_status, struct sbuf *answer, struct wsd_err *err)
{
	struct probe *p = arg;
	struct curl_slist *h = NULL;
	char sa[512];
	CURLcode cc;

	snprintf(sa, sizeof(sa), "SOAPAction: \"%s\"", action);
	h = curl_slist_append(h, "Content-Type: text/xml; charset=utf-8");
	h = curl_slist_append(h, sa);
	curl_easy_reset(p->curl);
	curl_easy_setopt(p->curl, CURLOPT_URL, p->url_buf);
	curl_easy_setopt(p->curl, CURLOPT_CAINFO, p->ca);
	curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)len);
	curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(p->curl, CURLOPT_WRITEDATA, answer);
	curl_easy_setopt(p->curl, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
	cc = curl_easy_perform(p->curl);
	curl_slist_free_all(h);
	if (cc != CURLE_OK) {
		fprintf(stderr, "rollup_probe: curl: %s\n",
		    curl_easy_strerror(cc));
		return wsd_fail(err, WSD_EIO, "HTTP request failed");
	}
	curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, http_status);
	return 0;
}

int
main(int argc, char **argv)
{
	struct sync_rollup_stats stats;
	struct sync_rollup_io io;
	struct probe p;
	struct store *st;
	struct wsd_err err;
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: rollup_probe DATADIR URL CAFILE\n");
		return 2;
	}
	memset(&p, 0, sizeof(p));
	snprintf(p.url_buf, sizeof(p.url_buf),
	    "%s/ReportingWebService/ReportingWebService.asmx", argv[2]);
	p.ca = argv[3];
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((p.curl = curl_easy_init()) == NULL) {
		fprintf(stderr, "rollup_probe: curl_easy_init failed\n");
		return 1;
	}
	if (store_open(&st, argv[1], &err) < 0) {
		fprintf(stderr, "rollup_probe: %s\n", err.what);
		return 1;
	}
	io.call = probe_call;
	io.arg = &p;
	rc = sync_rollup_run(st, &io, &stats, &err);
	store_close(st);
	curl_easy_cleanup(p.curl);
	curl_global_cleanup();
	printf("{\"full\": %s, \"detailed\": %s, \"requests\": %u, "
	       "\"servers\": %u, \"computers\": %u, \"details\": %u, "
	       "\"new_parent\": %u, \"out_of_sync\": %u, "
	       "\"status_computers\": %u, \"status_rows\": %u}\n",
	    stats.full ? "true" : "false", stats.detailed ? "true" : "false",
	    stats.requests, stats.servers, stats.computers, stats.details,
	    stats.new_parent, stats.out_of_sync, stats.status_computers,
	    stats.status_rows);
	if (rc < 0) {
		fprintf(stderr, "rollup_probe: %s\n", err.what);
		return 1;
	}
	return 0;
}
