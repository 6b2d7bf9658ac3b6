/*
 * wuagent's HTTP(S) client (agent_http.h): one libcurl easy handle, so
 * its connection cache keeps one TLS connection alive across calls.
 *
 * Header order: curl writes the request line and Host first and appends
 * the headers it is given in the order given, so every header but Host
 * is passed explicitly (curl's own Accept and Expect suppressed), in the
 * order the Windows agent sends them (protocol/vectors/native-capture-
 * wsus-rs: scan/ for SOAP, content-headers/ for content GETs).
 */
#include "wuagent/agent_http.h"

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

#include <curl/curl.h>
#include <openssl/rand.h>
#include <openssl/x509_vfy.h>

#include "common/encode.h"
#include "common/strparse.h"
#include "common/xpress.h"
#include "net/curl_tls.h"

/* As the captures show: WUA for SOAP, Delivery Optimization for content. */
#define SOAP_USER_AGENT                                                        \
	"Windows-Update-Agent/1507.2601.30012.0 Client-Protocol/2.90"
#define CONTENT_USER_AGENT "Microsoft-Delivery-Optimization/10.1"

#define CONNECT_TIMEOUT_S 30L
/* Abort a transfer slower than LOW_SPEED_BPS for LOW_SPEED_S seconds:
 * content travels over plain HTTP, and a peer trickling a byte a second
 * must not hold the agent (and its next scans) for ever. */
#define LOW_SPEED_BPS 1024L
#define LOW_SPEED_S   60L
/*
 * A whole SOAP exchange: the largest answer (AGENT_HTTP_MAX_ANSWER) at a
 * slow but working 256 KiB/s takes 256 s.
 */
#define SOAP_TIMEOUT_S  300L
#define HEADER_LINE_MAX 8192

struct agent_http {
	CURL *ah_curl;
	bool ah_allow_http; /* SOAP over http:// (content is always allowed) */
	char ah_errbuf[CURL_ERROR_SIZE];
	char ah_cv[20];   /* MS-CV base: 16 base64 characters */
	unsigned ah_cv_n; /* MS-CV counter, one per request */
};

CURLcode
agent_curl_tls(CURL *curl, const struct agent_config *cf)
{
	CURLcode c = curl_tls_setup(curl, cf->ca_file);

	/* S4 (CVE-2020-1013): the proxy is the configuration's, never one
	 * from the environment of whoever started us ("" turns
	 * http_proxy, HTTPS_PROXY and ALL_PROXY off). */
	if (c == CURLE_OK)
		c = curl_easy_setopt(curl, CURLOPT_PROXY, cf->proxy);
	if (c == CURLE_OK && cf->pinned_key[0] != '\0')
		c = curl_easy_setopt(curl, CURLOPT_PINNEDPUBLICKEY,
		    cf->pinned_key);
	return c;
}

int
agent_http_open(const struct agent_config *cf, struct agent_http **out,
    struct wsd_err *err)
{
	struct agent_http *h;
	unsigned char cv[12];
	CURLcode c = CURLE_OK;

	*out = NULL;
	if (cf->ca_file[0] != '\0' && access(cf->ca_file, R_OK) != 0)
		return wsd_fail(err, WSD_ETLS, "CA file is not readable");
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	if (RAND_bytes(cv, sizeof(cv)) != 1) {
		free(h);
		return wsd_fail(err, WSD_ETLS, "no random bytes");
	}
	b64_encode(cv, sizeof(cv), h->ah_cv);
	h->ah_allow_http = cf->allow_insecure_http;
	if ((h->ah_curl = curl_easy_init()) == NULL) {
		free(h);
		return wsd_fail(err, WSD_ENOMEM, "cannot create a curl handle");
	}
	/*
	 * Settings for the handle's life. Verification is on whatever the
	 * configuration says; with a CA file only that file is trusted
	 * (curl's default CA path, /etc/ssl/certs on Debian, is cleared).
	 */
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_ERRORBUFFER,
		    h->ah_errbuf);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_NOSIGNAL, 1L);
	if (c == CURLE_OK)
		c = agent_curl_tls(h->ah_curl, cf);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_PROTOCOLS_STR,
		    "http,https");
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_FOLLOWLOCATION, 0L);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_CONNECTTIMEOUT,
		    CONNECT_TIMEOUT_S);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_LOW_SPEED_LIMIT,
		    LOW_SPEED_BPS);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_LOW_SPEED_TIME,
		    LOW_SPEED_S);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_TCP_KEEPALIVE, 1L);
	/* As Windows: HTTP/1.1, no h2 offered in ALPN. */
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_HTTP_VERSION,
		    (long)CURL_HTTP_VERSION_1_1);
	/* xpress is decoded here; curl must hand over the coded bytes. */
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_HTTP_CONTENT_DECODING,
		    0L);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_HTTP_TRANSFER_DECODING,
		    1L);
	if (c != CURLE_OK) {
		curl_easy_cleanup(h->ah_curl);
		free(h);
		return wsd_fail(err, WSD_EINTERNAL,
		    "libcurl lacks a required option (TLS, protocols)");
	}
	*out = h;
	return 0;
}

void
agent_http_close(struct agent_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->ah_curl);
	free(h);
}

void
agent_http_set_max_rate(struct agent_http *h, uint64_t bytes_per_sec)
{
	curl_off_t r =
	    bytes_per_sec > INT64_MAX ? INT64_MAX : (curl_off_t)bytes_per_sec;

	/* Cannot fail: a known option with a value >= 0. */
	(void)curl_easy_setopt(h->ah_curl, CURLOPT_MAX_RECV_SPEED_LARGE, r);
}

/* ------------------------------------------------------------------ */

static int
transfer_cause(struct agent_http *h, CURLcode c, const char *host, char *msg,
    size_t msg_size)
{
	return curl_transfer_cause(h->ah_curl, c, h->ah_errbuf, host, msg,
	    msg_size);
}

/* The next "MS-CV: ..." header line. */
static void
next_cv(struct agent_http *h, char *line, size_t size)
{
	snprintf(line, size, "MS-CV: %s.1.%u", h->ah_cv, ++h->ah_cv_n);
}

static int
add_headers(struct curl_slist **list, const char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct curl_slist *l = curl_slist_append(*list, lines[i]);

		if (l == NULL)
			return WSD_ENOMEM;
		*list = l;
	}
	return 0;
}

/* "HTTP/1.1 206 Partial Content" -> 206; 0 if not a status line. */
static long
status_line(const char *p, size_t n)
{
	long st = 0;
	size_t i;

	if (n < 12 || strncmp(p, "HTTP/", 5) != 0)
		return 0;
	for (i = 5; i < n && p[i] != ' '; i++)
		;
	if (i + 4 > n)
		return 0;
	for (size_t k = i + 1; k < i + 4; k++) {
		if (p[k] < '0' || p[k] > '9')
			return 0;
		st = st * 10 + (p[k] - '0');
	}
	return st;
}

/* If line P..N is "NAME: value", the trimmed value into *V. */
static bool
header_value(const char *p, size_t n, const char *name, struct sv *v)
{
	size_t ln = strlen(name);

	if (n <= ln || p[ln] != ':' || strncasecmp(p, name, ln) != 0)
		return false;
	v->p = p + ln + 1;
	v->n = n - ln - 1;
	while (v->n > 0 && (v->p[v->n - 1] == '\r' || v->p[v->n - 1] == '\n'))
		v->n--;
	*v = sv_trim_ows(*v);
	return true;
}

/* ------------------------------------------------------------ SOAP */

struct soap_rx {
	struct sbuf *out; /* identity-coded answer: the caller's */
	struct sbuf raw;  /* xpress-coded answer, decoded at the end */
	bool xpress;
	bool bad_coding; /* a Content-Encoding we do not speak */
	bool too_big;
};

static size_t
soap_header_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct soap_rx *rx = arg;
	size_t n = size * nmemb;
	struct sv v;

	if (status_line(p, n) != 0) {
		/* A new answer (after a 100 Continue): start over. */
		rx->xpress = false;
		rx->bad_coding = false;
	} else if (header_value(p, n, "Content-Encoding", &v)) {
		if (sv_eq_cstr_ci(v, "xpress"))
			rx->xpress = true;
		else if (v.n != 0 && !sv_eq_cstr_ci(v, "identity"))
			rx->bad_coding = true;
	}
	return n;
}

static size_t
soap_write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct soap_rx *rx = arg;
	size_t n = size * nmemb;

	if (rx->bad_coding)
		return 0;
	if (sbuf_add(rx->xpress ? &rx->raw : rx->out, p, n) < 0) {
		rx->too_big = true;
		return 0;
	}
	return n;
}

/* SOAPAction values are URIs: no quotes, no control characters. */
static bool
action_ok(const char *a)
{
	if (*a == '\0' || strlen(a) > 1024)
		return false;
	for (; *a != '\0'; a++)
		if ((unsigned char)*a < 0x21 || *a == 0x7f || *a == '"')
			return false;
	return true;
}

int
agent_http_soap(struct agent_http *h, const char *url, const char *action,
    const char *body, size_t len, long *status, struct sbuf *out, char *msg,
    size_t msg_size)
{
	char host[256], soapaction[1100], cv[64];
	const char *lines[] = {
		"Cache-Control: no-cache",
		"Connection: Keep-Alive",
		"Pragma: no-cache",
		"Content-Type: text/xml; charset=utf-8",
		"Accept-Encoding: xpress",
		"User-Agent: " SOAP_USER_AGENT,
		soapaction,
		cv,
		"Accept:",
		"Expect:",
	};
	struct curl_slist *hdrs = NULL;
	struct soap_rx rx;
	struct wsd_err e;
	CURLcode c = CURLE_OK;
	int rc;

	*status = 0;
	if ((rc = curl_check_url(url, h->ah_allow_http,
		 "the Secure WSUS guide: only an https URL keeps the client on "
		 "a secure channel (--allow-insecure-http overrides)",
		 host, sizeof(host), msg, msg_size)) < 0)
		return rc;
	if (!action_ok(action)) {
		snprintf(msg, msg_size, "invalid SOAPAction");
		return WSD_EINVAL;
	}
	if (len > (size_t)INT64_MAX) {
		snprintf(msg, msg_size, "request too large");
		return WSD_ETOOBIG;
	}
	snprintf(soapaction, sizeof(soapaction), "SOAPAction: \"%s\"", action);
	next_cv(h, cv, sizeof(cv));
	if (add_headers(&hdrs, lines, sizeof(lines) / sizeof(lines[0])) < 0) {
		curl_slist_free_all(hdrs);
		snprintf(msg, msg_size, "out of memory");
		return WSD_ENOMEM;
	}
	memset(&rx, 0, sizeof(rx));
	rx.out = out;
	sbuf_init(&rx.raw, AGENT_HTTP_MAX_ANSWER);
	h->ah_errbuf[0] = '\0';
	/* The protocols SOAP may use, checked again by curl itself. */
	c = curl_easy_setopt(h->ah_curl, CURLOPT_PROTOCOLS_STR,
	    h->ah_allow_http ? "http,https" : "https");
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_URL, url);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_POST, 1L);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_POSTFIELDS, body);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_HTTPHEADER, hdrs);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_TIMEOUT,
		    SOAP_TIMEOUT_S);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_HEADERFUNCTION,
		    soap_header_cb);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_HEADERDATA, &rx);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_WRITEFUNCTION,
		    soap_write_cb);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_WRITEDATA, &rx);
	if (c == CURLE_OK)
		c = curl_easy_perform(h->ah_curl);
	/* Nothing set for this request may outlive it. */
	(void)curl_easy_setopt(h->ah_curl, CURLOPT_HTTPHEADER, NULL);
	(void)curl_easy_setopt(h->ah_curl, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(hdrs);
	if (rx.too_big) {
		snprintf(msg, msg_size, "%s: answer larger than %lu bytes",
		    host, AGENT_HTTP_MAX_ANSWER);
		rc = WSD_ETOOBIG;
		goto fail;
	}
	if (rx.bad_coding) {
		snprintf(msg, msg_size,
		    "%s: answer in a Content-Encoding other than xpress", host);
		rc = WSD_EINVAL;
		goto fail;
	}
	if (c != CURLE_OK) {
		rc = transfer_cause(h, c, host, msg, msg_size);
		goto fail;
	}
	if (curl_easy_getinfo(h->ah_curl, CURLINFO_RESPONSE_CODE, status) !=
	    CURLE_OK) {
		snprintf(msg, msg_size, "%s: no HTTP status", host);
		rc = WSD_EINTERNAL;
		goto fail;
	}
	if (rx.xpress) {
		if ((rc = xpress_decode((const unsigned char *)rx.raw.sb_buf,
			 rx.raw.sb_len, AGENT_HTTP_MAX_ANSWER, out, &e)) < 0) {
			snprintf(msg, msg_size, "%s: bad xpress answer: %s",
			    host, e.what);
			goto fail;
		}
	}
	sbuf_release(&rx.raw);
	return 0;
fail:
	sbuf_release(&rx.raw);
	sbuf_release(out);
	return rc;
}

/* ----------------------------------------------------------- fetch */

enum fetch_stop {
	FS_NONE,
	FS_STATUS,   /* not 200 or 206: the body is not written */
	FS_MISMATCH, /* the server's file is not the metadata's */
	FS_PROTO,    /* an answer that does not fit the request */
	FS_IO,       /* writing the file failed */
};

struct fetch_rx {
	int fd;
	uint64_t expect; /* the metadata's size */
	uint64_t first;  /* first byte asked for */
	uint64_t last;   /* last byte asked for (inclusive) */
	uint64_t off;    /* where the next body byte goes */
	bool ranged;     /* a Range header was sent */
	/* the answer's head */
	long status;
	bool have_cr; /* Content-Range: bytes a-b/total */
	uint64_t cr_first, cr_last, cr_total;
	bool cr_total_known;
	bool have_clen;
	uint64_t clen;
	bool started; /* the head was checked at the first body byte */
	enum fetch_stop stop;
	int saved_errno;
	char why[200];
};

/* "bytes A-B/T" or "bytes A-B/\*". */
static bool
parse_content_range(struct sv v, struct fetch_rx *rx)
{
	uint64_t a, b, t = 0;
	bool known = true;

	if (strparse_lit_ci(&v, "bytes") < 0)
		return false;
	strparse_ows(&v);
	if (strparse_u64(&v, UINT64_MAX, &a) < 0 ||
	    strparse_char(&v, '-') < 0 ||
	    strparse_u64(&v, UINT64_MAX, &b) < 0 || strparse_char(&v, '/') < 0)
		return false;
	if (strparse_char(&v, '*') == 0)
		known = false;
	else if (strparse_u64(&v, UINT64_MAX, &t) < 0)
		return false;
	if (v.n != 0 || a > b || (known && b >= t))
		return false;
	rx->have_cr = true;
	rx->cr_first = a;
	rx->cr_last = b;
	rx->cr_total = t;
	rx->cr_total_known = known;
	return true;
}

static size_t
fetch_header_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct fetch_rx *rx = arg;
	size_t n = size * nmemb;
	struct sv v;
	long st;

	if ((st = status_line(p, n)) != 0) {
		rx->status = st;
		rx->have_cr = false;
		rx->have_clen = false;
	} else if (header_value(p, n, "Content-Range", &v)) {
		if (!parse_content_range(v, rx)) {
			snprintf(rx->why, sizeof(rx->why),
			    "malformed Content-Range");
			rx->stop = FS_PROTO;
			return 0;
		}
	} else if (header_value(p, n, "Content-Length", &v)) {
		if (strparse_u64(&v, UINT64_MAX, &rx->clen) < 0 || v.n != 0) {
			snprintf(rx->why, sizeof(rx->why),
			    "malformed Content-Length");
			rx->stop = FS_PROTO;
			return 0;
		}
		rx->have_clen = true;
	}
	return n;
}

/* At the first body byte: does this answer fit what was asked? */
static bool
fetch_check_head(struct fetch_rx *rx)
{
	if (rx->status == 200) {
		/* The whole file: a server ignoring Range restarts it. */
		if (rx->have_clen && rx->clen != rx->expect) {
			snprintf(rx->why, sizeof(rx->why),
			    "the server's file has %" PRIu64
			    " bytes, the metadata says %" PRIu64,
			    rx->clen, rx->expect);
			rx->stop = FS_MISMATCH;
			return false;
		}
		if (rx->off != 0 && ftruncate(rx->fd, 0) < 0) {
			rx->saved_errno = errno;
			rx->stop = FS_IO;
			return false;
		}
		rx->off = 0;
		rx->first = 0;
		rx->last = rx->expect - 1;
		return true;
	}
	if (rx->status == 206) {
		if (!rx->ranged || !rx->have_cr) {
			snprintf(rx->why, sizeof(rx->why), "206 without %s",
			    rx->ranged ? "Content-Range" : "a Range request");
			rx->stop = FS_PROTO;
			return false;
		}
		if (rx->cr_total_known && rx->cr_total != rx->expect) {
			snprintf(rx->why, sizeof(rx->why),
			    "the server's file has %" PRIu64
			    " bytes, the metadata says %" PRIu64,
			    rx->cr_total, rx->expect);
			rx->stop = FS_MISMATCH;
			return false;
		}
		if (rx->cr_first != rx->first || rx->cr_last > rx->last) {
			snprintf(rx->why, sizeof(rx->why),
			    "Content-Range %" PRIu64 "-%" PRIu64
			    " for a Range %" PRIu64 "-%" PRIu64,
			    rx->cr_first, rx->cr_last, rx->first, rx->last);
			rx->stop = FS_PROTO;
			return false;
		}
		rx->last = rx->cr_last;
		return true;
	}
	rx->stop = FS_STATUS;
	return false;
}

static size_t
fetch_write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct fetch_rx *rx = arg;
	size_t n = size * nmemb, done = 0;

	if (!rx->started) {
		rx->started = true;
		if (!fetch_check_head(rx))
			return 0;
	}
	if (rx->stop != FS_NONE)
		return 0;
	if (n > rx->last + 1 - rx->off) {
		/* More than asked for, or than the file has. */
		snprintf(rx->why, sizeof(rx->why),
		    "the server sent more than %" PRIu64 " bytes",
		    rx->status == 200 ? rx->expect : rx->last + 1 - rx->first);
		rx->stop = rx->status == 200 ? FS_MISMATCH : FS_PROTO;
		n = (size_t)(rx->last + 1 - rx->off);
	}
	while (done < n) {
		ssize_t w =
		    pwrite(rx->fd, p + done, n - done, (off_t)(rx->off + done));

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rx->saved_errno = w < 0 ? errno : ENOSPC;
			rx->stop = FS_IO;
			break;
		}
		done += (size_t)w;
	}
	rx->off += done;
	return rx->stop == FS_NONE ? n : 0;
}

/* One GET of [rx->first, rx->last], ranged or not. */
static CURLcode
fetch_once(struct agent_http *h, const char *url, struct fetch_rx *rx)
{
	char range[80], cv[64];
	const char *lines[8];
	size_t nl = 0;
	struct curl_slist *hdrs = NULL;
	CURLcode c;

	lines[nl++] = "Connection: Keep-Alive";
	lines[nl++] = "Accept: */*";
	if (rx->ranged) {
		snprintf(range, sizeof(range),
		    "Range: bytes=%" PRIu64 "-%" PRIu64, rx->first, rx->last);
		lines[nl++] = range;
	}
	lines[nl++] = "User-Agent: " CONTENT_USER_AGENT;
	lines[nl++] = cv;
	lines[nl++] = "Content-Length: 0";
	lines[nl++] = "Expect:";
	next_cv(h, cv, sizeof(cv));
	if (add_headers(&hdrs, lines, nl) < 0) {
		curl_slist_free_all(hdrs);
		return CURLE_OUT_OF_MEMORY;
	}
	h->ah_errbuf[0] = '\0';
	c = curl_easy_setopt(h->ah_curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_URL, url);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_HTTPGET, 1L);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_HTTPHEADER, hdrs);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_TIMEOUT, 0L);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_HEADERFUNCTION,
		    fetch_header_cb);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_HEADERDATA, rx);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_WRITEFUNCTION,
		    fetch_write_cb);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h->ah_curl, CURLOPT_WRITEDATA, rx);
	if (c == CURLE_OK)
		c = curl_easy_perform(h->ah_curl);
	(void)curl_easy_setopt(h->ah_curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	return c;
}

int
agent_http_fetch_fd(struct agent_http *h, const char *url, int fd,
    uint64_t expect_size, uint64_t range_size, char *msg, size_t msg_size)
{
	char host[256];
	struct fetch_rx rx;
	struct stat st;
	uint64_t have;
	int rc;

	if ((rc = curl_check_url(url, true, "", host, sizeof(host), msg, msg_size)) <
	    0)
		return rc;
	if (fstat(fd, &st) < 0) {
		snprintf(msg, msg_size, "cannot stat the download: %s",
		    strerror(errno));
		return WSD_EIO;
	}
	have = (uint64_t)st.st_size;
	if (have > expect_size) {
		/* Not a prefix of this file: start over. */
		if (ftruncate(fd, 0) < 0) {
			snprintf(msg, msg_size,
			    "cannot truncate the download: %s",
			    strerror(errno));
			return WSD_EIO;
		}
		have = 0;
	}
	/*
	 * Each round asks for what is missing (or the next RANGE_SIZE of
	 * it) and must add at least one byte, so the loop ends: bytes or an
	 * error, and curl's low-speed limit bounds each round's time.
	 */
	while (have < expect_size) {
		CURLcode c;

		memset(&rx, 0, sizeof(rx));
		rx.fd = fd;
		rx.expect = expect_size;
		rx.first = have;
		rx.off = have;
		rx.last = expect_size - 1;
		if (range_size > 0 && range_size < expect_size - have)
			rx.last = have + range_size - 1;
		rx.ranged = have > 0 || rx.last != expect_size - 1;
		c = fetch_once(h, url, &rx);
		switch (rx.stop) {
		case FS_NONE:
			break;
		case FS_STATUS:
			goto status;
		case FS_MISMATCH:
			snprintf(msg, msg_size, "%s: %s", host, rx.why);
			return WSD_EUNSAT;
		case FS_PROTO:
			snprintf(msg, msg_size, "%s: %s", host, rx.why);
			return WSD_EAGAIN;
		case FS_IO:
			errno = rx.saved_errno;
			snprintf(msg, msg_size, "cannot write the download: %s",
			    strerror(errno));
			return WSD_EIO;
		}
		if (c != CURLE_OK)
			return transfer_cause(h, c, host, msg, msg_size);
		if (!rx.started && (rx.status == 200 || rx.status == 206)) {
			/* An empty body: the head is checked all the same. */
			rx.started = true;
			if (!fetch_check_head(&rx)) {
				if (rx.stop == FS_IO) {
					errno = rx.saved_errno;
					snprintf(msg, msg_size,
					    "cannot truncate the download: %s",
					    strerror(errno));
					return WSD_EIO;
				}
				snprintf(msg, msg_size, "%s: %s", host, rx.why);
				return rx.stop == FS_MISMATCH ? WSD_EUNSAT
							      : WSD_EAGAIN;
			}
		}
		if (rx.status != 200 && rx.status != 206)
			goto status;
		if (rx.status == 206 && rx.off != rx.last + 1) {
			snprintf(msg, msg_size,
			    "%s: range ended after %" PRIu64 " of %" PRIu64
			    " bytes",
			    host, rx.off - rx.first, rx.last + 1 - rx.first);
			return WSD_EAGAIN;
		}
		if (rx.status == 200 && rx.off != expect_size) {
			snprintf(msg, msg_size,
			    "%s: the server's file has %" PRIu64
			    " bytes, the metadata says %" PRIu64,
			    host, rx.off, expect_size);
			return WSD_EUNSAT;
		}
		have = rx.off;
	}
	if (fdatasync(fd) < 0) {
		snprintf(msg, msg_size, "cannot sync the download: %s",
		    strerror(errno));
		return WSD_EIO;
	}
	return 0;
status:
	if (rx.status == 416) {
		/* Bytes from RX.FIRST on do not exist there: a shorter file. */
		snprintf(msg, msg_size,
		    "%s: the server's file is shorter than the metadata's "
		    "%" PRIu64 " bytes (416)",
		    host, expect_size);
		return WSD_EUNSAT;
	}
	snprintf(msg, msg_size, "%s: HTTP %ld for %.200s", host, rx.status,
	    url);
	return WSD_EAGAIN;
}

int
agent_http_fetch(struct agent_http *h, const char *url, const char *path,
    uint64_t expect_size, uint64_t range_size, char *msg, size_t msg_size)
{
	int fd, rc;

	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) <
	    0) {
		snprintf(msg, msg_size, "%s: cannot open: %s", path,
		    strerror(errno));
		return WSD_EIO;
	}
	rc = agent_http_fetch_fd(h, url, fd, expect_size, range_size, msg,
	    msg_size);
	if (close(fd) < 0 && rc == 0) {
		snprintf(msg, msg_size, "%s: cannot close: %s", path,
		    strerror(errno));
		rc = WSD_EIO;
	}
	return rc;
}
