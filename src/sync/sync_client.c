/* A downstream server's MS-WSUSSS client: sync_client.h. */
#include "sync/sync_client.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/fileio.h"
#include "common/log.h"
#include "net/curl_tls.h"

#define CONNECT_TIMEOUT_S 30L
/* A GetRevisionIdList of a large catalog is tens of MB (WSUSSS.md 11);
 * abort only a transfer that stalls. */
#define LOW_SPEED_BPS 1024L
#define LOW_SPEED_S   120L
#define SOAP_TIMEOUT_S 1800L
/* Trusted certificates read from DATADIR/tls/trust/. */
#define TRUST_MAX_BYTES (4UL * 1024 * 1024)
#define USER_AGENT      "wsusd/" WSUSD_VERSION " (MS-WSUSSS downstream)"

struct sync_client {
	CURL *curl;
	char root[1024];
	char host[256];
	bool use_tls;
	struct sbuf trust; /* PEM bundle; empty: the system store */
	char errbuf[CURL_ERROR_SIZE];
	char msg[768];
	char fault[64];
	char fault_msg[512];
	uint64_t bytes;
};

struct sink {
	struct sbuf *sb;
	int fd;
	uint64_t max, got;
	bool over;
};

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct sink *k = arg;
	size_t len = size * n;

	if (k->got + len > k->max) {
		k->over = true;
		return 0;
	}
	if (k->sb != NULL) {
		if (sbuf_add(k->sb, p, len) < 0) {
			k->over = true;
			return 0;
		}
	} else {
		for (size_t off = 0; off < len;) {
			ssize_t w = write(k->fd, p + off, len - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return 0;
			off += (size_t)w;
		}
	}
	k->got += len;
	return len;
}

static bool
cert_name(const char *n)
{
	size_t l = strlen(n);

	return n[0] != '.' && l > 4 &&
	    (strcasecmp(n + l - 4, ".pem") == 0 ||
		strcasecmp(n + l - 4, ".crt") == 0);
}

/* Every certificate file of DIR, concatenated; none is fine. */
static int
load_trust(struct sync_client *c, const char *dir, struct wsd_err *err)
{
	struct dirent **names = NULL;
	int n, rc = 0;

	if (dir == NULL || (n = scandir(dir, &names, NULL, alphasort)) < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		char path[4096], *buf = NULL;
		size_t len = 0;

		if (rc == 0 && cert_name(names[i]->d_name) &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
			names[i]->d_name) < sizeof(path)) {
			if (fileio_read_small(path, TRUST_MAX_BYTES, &buf, &len,
				NULL, err) < 0 ||
			    sbuf_add(&c->trust, buf, len) < 0 ||
			    sbuf_add(&c->trust, "\n", 1) < 0)
				rc = wsd_fail(err, WSD_ETLS,
				    "cannot read the trust store "
				    "(DATADIR/tls/trust)");
			free(buf);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int
sync_client_open(const struct sync_client_cfg *cfg, struct sync_client **out,
    struct wsd_err *err)
{
	struct sync_client *c;
	CURLcode e = CURLE_OK;
	size_t n;
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	sbuf_init(&c->trust, TRUST_MAX_BYTES);
	c->use_tls = cfg->use_tls;
	n = strlen(cfg->url);
	while (n > 0 && cfg->url[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(c->root)) {
		free(c);
		return wsd_fail(err, WSD_EINVAL, "bad upstream URL");
	}
	memcpy(c->root, cfg->url, n);
	if ((rc = curl_check_url(c->root, !cfg->use_tls,
		 "\"Use SSL when synchronizing\" is on: the upstream URL must "
		 "be https:// (or set it with --no-ssl)",
		 c->host, sizeof(c->host), c->msg, sizeof(c->msg))) < 0) {
		sync_client_close(c);
		return wsd_fail(err, rc, "bad upstream URL");
	}
	if (cfg->use_tls && strncasecmp(c->root, "https://", 8) != 0) {
		snprintf(c->msg, sizeof(c->msg),
		    "%.300s is not an https:// URL, and \"Use SSL when "
		    "synchronizing\" is on",
		    c->root);
		*out = NULL;
		if (err != NULL) {
			err->code = WSD_EPERM;
			err->what = "the upstream URL must be https:// (or use "
				    "--no-ssl)";
		}
		sync_client_close(c);
		return WSD_EPERM;
	}
	if ((rc = load_trust(c, cfg->trust_dir, err)) < 0) {
		sync_client_close(c);
		return rc;
	}
	if ((c->curl = curl_easy_init()) == NULL) {
		sync_client_close(c);
		return wsd_fail(err, WSD_ENOMEM, "cannot create a curl handle");
	}
	e = curl_tls_setup(c->curl, NULL);
	if (e == CURLE_OK && c->trust.sb_len > 0) {
		struct curl_blob b = { .data = c->trust.sb_buf,
			.len = c->trust.sb_len,
			.flags = CURL_BLOB_NOCOPY };

		/* Only the trust store: no system CA file or path. */
		if ((e = curl_easy_setopt(c->curl, CURLOPT_CAINFO, NULL)) ==
			CURLE_OK &&
		    (e = curl_easy_setopt(c->curl, CURLOPT_CAPATH, NULL)) ==
			CURLE_OK)
			e = curl_easy_setopt(c->curl, CURLOPT_CAINFO_BLOB, &b);
	}
	if (e == CURLE_OK && cfg->client_cert != NULL &&
	    cfg->client_cert[0] != '\0') {
		if ((e = curl_easy_setopt(c->curl, CURLOPT_SSLCERT,
			 cfg->client_cert)) == CURLE_OK)
			e = curl_easy_setopt(c->curl, CURLOPT_SSLKEY,
			    cfg->client_key && cfg->client_key[0] ?
				cfg->client_key :
				cfg->client_cert);
	}
	/* Negotiate when the upstream asks for it (401): a Windows DSS
	 * authenticates as its machine account (WSUSSS.md 7.2). */
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH,
		    (long)CURLAUTH_NEGOTIATE);
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_USERPWD, ":");
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR,
		    "http,https");
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
	/* The configured proxy or none: never one from the environment of
	 * whoever runs the synchronization ("" turns them off). */
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_PROXY,
		    cfg->proxy != NULL ? cfg->proxy : "");
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT,
		    CONNECT_TIMEOUT_S);
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT,
		    LOW_SPEED_BPS);
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME,
		    LOW_SPEED_S);
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_USERAGENT, USER_AGENT);
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_HTTP_VERSION,
		    (long)CURL_HTTP_VERSION_1_1);
	/* identity or gzip (WSUSSS.md 2: never ask for xpress here). */
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_ACCEPT_ENCODING, "gzip");
	if (e != CURLE_OK) {
		sync_client_close(c);
		return wsd_fail(err, WSD_EINTERNAL,
		    "libcurl lacks a required option (TLS, Negotiate)");
	}
	*out = c;
	return 0;
}

void
sync_client_close(struct sync_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	sbuf_release(&c->trust);
	free(c);
}

static int
fail_msg(struct sync_client *c, struct wsd_err *err, int code)
{
	if (err != NULL) {
		err->code = code;
		err->what = c->msg;
	}
	return code;
}

/*
 * A redirect is never followed (SECURITY.md S5, S8): it would let
 * whoever answers for the upstream send the sync to another server, or
 * down to plain HTTP where anyone on the path writes the metadata. True
 * (with the reason in c->msg) when STATUS is one.
 */
static bool
redirected(struct sync_client *c, const char *what, long status)
{
	char *to = NULL;

	if (status != 301 && status != 302 && status != 303 &&
	    status != 307 && status != 308)
		return false;
	(void)curl_easy_getinfo(c->curl, CURLINFO_REDIRECT_URL, &to);
	if (to != NULL && strncasecmp(to, "http:", 5) == 0)
		snprintf(c->msg, sizeof(c->msg),
		    "%s redirects (HTTP %ld) to %.300s: refusing downgrade to "
		    "plain HTTP",
		    what, status, to);
	else
		snprintf(c->msg, sizeof(c->msg),
		    "%s redirects (HTTP %ld) to %.300s: redirects are not "
		    "followed; point the upstream URL there if it is right",
		    what, status, to != NULL ? to : "(no Location)");
	return true;
}

/* A fault's ErrorCode and Message (WSUSSS.md 3), by local name. */
static void
read_fault(struct sync_client *c, const struct sbuf *answer)
{
	struct soap_doc doc;
	struct wsd_err err;
	const struct soap_elem *f, *d, *e;
	struct sv s;

	c->fault[0] = c->fault_msg[0] = '\0';
	soap_doc_init(&doc);
	if (soap_parse(answer->sb_buf ? answer->sb_buf : "", answer->sb_len,
		&doc, &err) < 0) {
		soap_doc_release(&doc);
		return;
	}
	f = soap_op(&doc);
	if (f != NULL && strcmp(soap_elem_name(f), "Fault") == 0) {
		for (d = soap_elem_first(f); d != NULL; d = soap_elem_next(d))
			if (strcasecmp(soap_elem_name(d), "detail") == 0)
				break;
		if ((e = soap_child_unq(d, "ErrorCode")) != NULL &&
		    soap_get_str(e, 63, &s, &err) == 0)
			snprintf(c->fault, sizeof(c->fault), "%s", s.p);
		if ((e = soap_child_unq(d, "Message")) != NULL &&
		    soap_get_str(e, 4096, &s, &err) == 0)
			snprintf(c->fault_msg, sizeof(c->fault_msg), "%s", s.p);
		if (c->fault[0] == '\0' &&
		    (e = soap_child_unq(f, "faultstring")) != NULL &&
		    soap_get_str(e, 4096, &s, &err) == 0)
			snprintf(c->fault_msg, sizeof(c->fault_msg), "%s", s.p);
	}
	soap_doc_release(&doc);
}

int
sync_client_call(struct sync_client *c, const char *path, const char *action,
    const struct sbuf *body, struct sbuf *answer, struct wsd_err *err)
{
	struct curl_slist *h = NULL, *t;
	struct sink k = { .sb = answer, .fd = -1, .max = SYNC_MAX_ANSWER };
	char url[1400], sa[512];
	long status = 0;
	CURLcode e;
	int rc;

	c->fault[0] = c->fault_msg[0] = '\0';
	c->errbuf[0] = '\0';
	if ((size_t)snprintf(url, sizeof(url), "%s/%s", c->root, path) >=
		sizeof(url) ||
	    (size_t)snprintf(sa, sizeof(sa), "SOAPAction: \"%s\"", action) >=
		sizeof(sa))
		return wsd_fail(err, WSD_EINVAL, "URL or SOAPAction too long");
	if ((t = curl_slist_append(h, "Content-Type: text/xml; charset=utf-8")) ==
		NULL ||
	    (h = t, (t = curl_slist_append(h, sa)) == NULL) ||
	    (h = t, (t = curl_slist_append(h, "Expect:")) == NULL)) {
		curl_slist_free_all(h);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	h = t;
	e = curl_easy_setopt(c->curl, CURLOPT_URL, url);
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS,
		    body->sb_buf ? body->sb_buf : "");
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)body->sb_len);
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &k);
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, SOAP_TIMEOUT_S);
	if (e == CURLE_OK)
		e = curl_easy_perform(c->curl);
	curl_slist_free_all(h);
	(void)curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	c->bytes += k.got;
	if (k.over) {
		snprintf(c->msg, sizeof(c->msg),
		    "%s: the answer is larger than %lu MiB", c->host,
		    SYNC_MAX_ANSWER >> 20);
		return fail_msg(c, err, WSD_ETOOBIG);
	}
	if (e != CURLE_OK) {
		rc = curl_transfer_cause(c->curl, e, c->errbuf, c->host, c->msg,
		    sizeof(c->msg));
		return fail_msg(c, err, rc);
	}
	(void)curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	/* Where and what, never a header or body: those carry the
	 * Negotiate token and the cookie (S19). */
	log_debug("sync: POST %s (%s): HTTP %ld, %llu bytes", url, action,
	    status, (unsigned long long)k.got);
	if (redirected(c, c->host, status))
		return fail_msg(c, err, WSD_EPERM);
	switch (status) {
	case 200:
		return 0;
	case 401:
		snprintf(c->msg, sizeof(c->msg),
		    "%s refused to authenticate this server (HTTP 401): it "
		    "requires Windows (Negotiate) authentication or a client "
		    "certificate it trusts",
		    c->host);
		return fail_msg(c, err, WSD_EPERM);
	case 403:
		snprintf(c->msg, sizeof(c->msg),
		    "%s refused this server (HTTP 403): not on its "
		    "authorization list, or SSL required",
		    c->host);
		return fail_msg(c, err, WSD_EPERM);
	case 500:
		read_fault(c, answer);
		if (c->fault[0] != '\0') {
			snprintf(c->msg, sizeof(c->msg), "%.200s: fault %s: %.400s",
			    c->host, c->fault, c->fault_msg);
			return fail_msg(c, err, SYNC_EFAULT);
		}
		snprintf(c->msg, sizeof(c->msg), "%s: HTTP 500 without a SOAP "
		    "fault from %s", c->host, path);
		return fail_msg(c, err, WSD_EAGAIN);
	default:
		snprintf(c->msg, sizeof(c->msg), "%s: HTTP %ld from %s",
		    c->host, status, path);
		return fail_msg(c, err, WSD_EAGAIN);
	}
}

const char *
sync_client_fault(const struct sync_client *c)
{
	return c->fault;
}

const char *
sync_client_fault_message(const struct sync_client *c)
{
	return c->fault_msg;
}

uint64_t
sync_client_bytes(const struct sync_client *c)
{
	return c->bytes;
}

const char *
sync_client_root(const struct sync_client *c)
{
	return c->root;
}

int
sync_parse_answer(const struct sbuf *answer, const char *op,
    struct soap_doc *doc, struct wsd_err *err)
{
	char want[96];
	int rc;

	if ((rc = soap_parse(answer->sb_buf ? answer->sb_buf : "",
		 answer->sb_len, doc, err)) < 0)
		return rc;
	snprintf(want, sizeof(want), "%sResponse", op);
	if (strcmp(doc->sd_op_name, want) != 0) {
		soap_doc_release(doc);
		return wsd_fail(err, WSD_EINVAL,
		    "the upstream answered another operation");
	}
	return 0;
}

int
sync_client_fetch(struct sync_client *c, const char *url, int fd,
    uint64_t max, uint64_t *got, struct wsd_err *err)
{
	struct sink k = { .fd = fd, .max = max };
	long status = 0;
	CURLcode e;
	int rc;

	*got = 0;
	c->errbuf[0] = '\0';
	e = curl_easy_setopt(c->curl, CURLOPT_URL, url);
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &k);
	/* Content: large files at any working speed. */
	if (e == CURLE_OK)
		e = curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 0L);
	if (e == CURLE_OK)
		e = curl_easy_perform(c->curl);
	*got = k.got;
	c->bytes += k.got;
	if (k.over) {
		snprintf(c->msg, sizeof(c->msg),
		    "%s: more bytes than the metadata says", url);
		return fail_msg(c, err, WSD_EAGAIN);
	}
	if (e != CURLE_OK) {
		char host[256];

		snprintf(host, sizeof(host), "%s", url);
		rc = curl_transfer_cause(c->curl, e, c->errbuf, host, c->msg,
		    sizeof(c->msg));
		return fail_msg(c, err, rc);
	}
	(void)curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200)
		return 0;
	if (redirected(c, url, status))
		return fail_msg(c, err, WSD_EPERM);
	snprintf(c->msg, sizeof(c->msg), "%s: HTTP %ld", url, status);
	return fail_msg(c, err, status == 404 ? WSD_ENOTFOUND : WSD_EAGAIN);
}
