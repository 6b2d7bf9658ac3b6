/* wsusutil's side of remote and socket administration (admin_client.h). */
#include "wsusutil/admin_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "auth/negotiate.h"
#include "common/admin_proto.h"
#include "common/sbuf.h"
#include "common/wsd_limits.h"
#include "net/curl_tls.h"

#define REMOTE_TIMEOUT_S 3700 /* the server's own limit, and a margin */

static int
print_frame(void *arg, char chan, const void *p, size_t n)
{
	(void)arg;
	return fwrite(p, 1, n, chan == 'o' ? stdout : stderr) == n ? 0 : -1;
}

static int
finish(struct admin_frames *f, const char *where)
{
	int st;

	fflush(stdout);
	if (!f->done) {
		fprintf(stderr, "wsusutil: %s: the server closed the "
				"connection before the command finished\n",
		    where);
		admin_frames_release(f);
		return 1;
	}
	st = f->status;
	admin_frames_release(f);
	return st;
}

int
admin_client_socket(const char *path, int argc, char **argv)
{
	struct sockaddr_un sa;
	struct admin_frames f;
	struct wsd_err err;
	struct sbuf req;
	char buf[16384];
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "wsusutil: admin socket path too long: %s\n",
		    path);
		return 1;
	}
	sbuf_init(&req, ADMIN_MAX_REQUEST);
	if (admin_request_encode(argc, argv, &req, &err) < 0) {
		fprintf(stderr, "wsusutil: %s\n", err.what);
		sbuf_release(&req);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr,
		    "wsusutil: cannot reach the running server at %s: %s "
		    "(you do not own the data directory, so commands go "
		    "through the server: is wsusd running?)\n",
		    path, strerror(errno));
		if (fd >= 0)
			close(fd);
		sbuf_release(&req);
		return 1;
	}
	if (admin_send_all(fd, req.sb_buf, req.sb_len) < 0 ||
	    shutdown(fd, SHUT_WR) < 0) {
		fprintf(stderr, "wsusutil: %s: %s\n", path, strerror(errno));
		close(fd);
		sbuf_release(&req);
		return 1;
	}
	sbuf_release(&req);
	admin_frames_init(&f);
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (admin_frames_feed(&f, buf, (size_t)r, print_frame, NULL,
			&err) < 0) {
			fprintf(stderr, "wsusutil: %s: %s\n", path, err.what);
			close(fd);
			admin_frames_release(&f);
			return 1;
		}
	}
	close(fd);
	return finish(&f, path);
}

struct remote_rx {
	struct admin_frames f;
	struct sbuf other; /* a body that is not frames (401, 404, ...) */
	long status;
	bool bad;
	/* Negotiate: the exchange, and whether the server's reply proved
	 * it holds HTTP/host's key (checked before any output is shown). */
	struct negotiate_client *nc;
	bool mutual_ok;
	const char *mutual_why;
};

static size_t
on_data(char *p, size_t sz, size_t n, void *arg)
{
	struct remote_rx *rx = arg;
	struct wsd_err err;

	if (rx->status != 200 && rx->status != 403) {
		/* Kept for the message, up to its bound. */
		(void)!sbuf_add(&rx->other, p, n);
		return n;
	}
	if (rx->nc != NULL && !rx->mutual_ok) {
		/* Nothing from a server that did not prove who it is. */
		rx->bad = true;
		return 0;
	}
	if (admin_frames_feed(&rx->f, p, n, print_frame, NULL, &err) < 0) {
		rx->bad = true;
		return 0;
	}
	(void)sz;
	return n;
}

static size_t
on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct remote_rx *rx = arg;
	long st;

	(void)sz;
	if (n > 9 && strncmp(p, "HTTP/", 5) == 0 &&
	    sscanf(p, "HTTP/%*s %ld", &st) == 1)
		rx->status = st;
	/* "WWW-Authenticate: Negotiate <token>" on the answer. */
	if (rx->nc != NULL && n > 27 &&
	    strncasecmp(p, "WWW-Authenticate:", 17) == 0) {
		const char *v = p + 17, *end = p + n;
		struct wsd_err err;

		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		if (end - v > 10 && strncasecmp(v, "Negotiate ", 10) == 0) {
			v += 10;
			while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
					      end[-1] == ' '))
				end--;
			if (negotiate_client_verify(rx->nc, v, (size_t)(end - v),
				&err) == 0)
				rx->mutual_ok = true;
			else
				rx->mutual_why = err.what;
		}
	}
	return n;
}

int
admin_client_remote(const struct admin_remote *r, int argc, char **argv)
{
	char host[256], msg[512], url[2048], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = NULL;
	struct remote_rx rx;
	struct wsd_err err;
	struct sbuf req;
	CURLcode c;
	CURL *curl = NULL;
	int st = 1;

	if (curl_check_url(r->url, false,
		"administration travels over TLS only", host, sizeof(host),
		msg, sizeof(msg)) < 0) {
		fprintf(stderr, "wsusutil: --server %s: %s\n", r->url, msg);
		return 2;
	}
	if ((r->cert == NULL) == !r->negotiate) {
		fprintf(stderr, "wsusutil: --server needs --cert FILE (an "
				"administrator's client certificate) or "
				"--negotiate (a Kerberos ticket), not both\n");
		return 2;
	}
	snprintf(url, sizeof(url), "%s%sApiRemoting30/WebService.asmx",
	    r->url, r->url[strlen(r->url) - 1] == '/' ? "" : "/");
	sbuf_init(&req, ADMIN_MAX_REQUEST);
	if (admin_request_encode(argc, argv, &req, &err) < 0) {
		fprintf(stderr, "wsusutil: %s\n", err.what);
		sbuf_release(&req);
		return 2;
	}
	memset(&rx, 0, sizeof(rx));
	admin_frames_init(&rx.f);
	sbuf_init(&rx.other, 4096);
	if (r->negotiate) {
		const struct negotiate_client_cfg cfg = { 0 };
		const char *tok;
		char *line;

		/* HTTP/host: the name in the URL, as the server's keytab
		 * must hold it. */
		if (negotiate_client_token(host, &cfg, &rx.nc, &tok, &err) < 0) {
			fprintf(stderr, "wsusutil: --negotiate: HTTP/%s: %s\n",
			    host, err.what);
			goto out;
		}
		if ((line = malloc(strlen(tok) + 32)) == NULL) {
			fprintf(stderr, "wsusutil: out of memory\n");
			goto out;
		}
		sprintf(line, "Authorization: Negotiate %s", tok);
		h = curl_slist_append(h, line);
		free(line);
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((curl = curl_easy_init()) == NULL) {
		fprintf(stderr, "wsusutil: out of memory\n");
		goto out;
	}
	h = curl_slist_append(h, "Content-Type: application/x-wsusd-admin");
	if ((c = curl_tls_setup(curl, r->ca)) != CURLE_OK ||
	    (c = curl_easy_setopt(curl, CURLOPT_URL, url)) != CURLE_OK ||
	    (r->cert != NULL &&
		(c = curl_easy_setopt(curl, CURLOPT_SSLCERT, r->cert)) !=
		    CURLE_OK) ||
	    (r->key != NULL &&
		(c = curl_easy_setopt(curl, CURLOPT_SSLKEY, r->key)) !=
		    CURLE_OK) ||
	    (c = curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h)) != CURLE_OK ||
	    (c = curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.sb_buf)) !=
		CURLE_OK ||
	    (c = curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
		 (curl_off_t)req.sb_len)) != CURLE_OK ||
	    (c = curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L)) !=
		CURLE_OK ||
	    (c = curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
	    (c = curl_easy_setopt(curl, CURLOPT_TIMEOUT,
		 (long)REMOTE_TIMEOUT_S)) != CURLE_OK ||
	    (c = curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf)) !=
		CURLE_OK ||
	    (c = curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header)) !=
		CURLE_OK ||
	    (c = curl_easy_setopt(curl, CURLOPT_HEADERDATA, &rx)) !=
		CURLE_OK ||
	    (c = curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data)) !=
		CURLE_OK ||
	    (c = curl_easy_setopt(curl, CURLOPT_WRITEDATA, &rx)) != CURLE_OK) {
		fprintf(stderr, "wsusutil: %s\n", curl_easy_strerror(c));
		goto out;
	}
	if ((c = curl_easy_perform(curl)) != CURLE_OK && !rx.bad) {
		(void)curl_transfer_cause(curl, c, errbuf, host, msg,
		    sizeof(msg));
		fprintf(stderr, "wsusutil: %s: %s\n", url, msg);
		goto out;
	}
	if (rx.nc != NULL && (rx.status == 200 || rx.status == 403) &&
	    !rx.mutual_ok) {
		fprintf(stderr, "wsusutil: %s: the server did not prove its "
				"Kerberos identity (mutual authentication%s%s); "
				"its answer is not shown\n",
		    url, rx.mutual_why ? ": " : "",
		    rx.mutual_why ? rx.mutual_why : "");
		goto out;
	}
	if (rx.bad) {
		fprintf(stderr, "wsusutil: %s: malformed answer\n", url);
		goto out;
	}
	if (rx.status != 200 && rx.status != 403) {
		fprintf(stderr, "wsusutil: %s: HTTP %ld: %.*s", url,
		    rx.status, (int)(rx.other.sb_len > 400 ? 400 :
							 rx.other.sb_len),
		    rx.other.sb_buf ? rx.other.sb_buf : "");
		if (rx.other.sb_len == 0)
			fputc('\n', stderr);
		goto out;
	}
	st = finish(&rx.f, url);
out:
	admin_frames_release(&rx.f);
	sbuf_release(&rx.other);
	sbuf_release(&req);
	curl_slist_free_all(h);
	negotiate_client_free(rx.nc);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	return st;
}
