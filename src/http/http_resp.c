#include "http/http_resp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WSD_SERVER_HEADER "wsusd"

void
http_resp_init(struct http_resp *rs)
{
	memset(rs, 0, sizeof(*rs));
	sbuf_init(&rs->rs_buf, WSD_MAX_RESPONSE_MEM);
	rs->rs_fd = -1;
}

void
http_resp_release(struct http_resp *rs)
{
	if (rs->rs_fd >= 0)
		close(rs->rs_fd);
	sbuf_release(&rs->rs_buf);
	http_resp_init(rs);
}

const char *
http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

int
http_resp_start(struct http_resp *rs, int status, const char *date)
{
	rs->rs_status = status;
	/* nosniff: a browser pointed at the server never renders a SOAP
	 * answer or a content file as something else (testssl's
	 * security_headers check; Windows clients ignore it). */
	return sbuf_addf(&rs->rs_buf,
	    "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: " WSD_SERVER_HEADER
	    "\r\nX-Content-Type-Options: nosniff\r\n",
	    status, http_reason(status), date);
}

int
http_resp_header(struct http_resp *rs, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return WSD_ETOOBIG;
	memcpy(line + n, "\r\n", 2);
	return sbuf_add(&rs->rs_buf, line, (size_t)n + 2);
}

static int
add_seg(struct http_resp *rs, bool file, uint64_t off, uint64_t len)
{
	struct http_seg *last;

	if (len == 0)
		return 0;
	last = rs->rs_nseg ? &rs->rs_seg[rs->rs_nseg - 1] : NULL;
	if (!file && last != NULL && !last->sg_file &&
	    last->sg_off + last->sg_len == off) {
		last->sg_len += len; /* adjacent memory: one segment */
		return 0;
	}
	if (rs->rs_nseg == HTTP_MAX_SEGS)
		return WSD_ETOOBIG;
	rs->rs_seg[rs->rs_nseg++] = (struct http_seg){ file, off, len };
	return 0;
}

int
http_resp_end_head(struct http_resp *rs, uint64_t bodylen)
{
	int rc;

	rs->rs_body = bodylen;
	if ((rc = sbuf_addf(&rs->rs_buf, "%sContent-Length: %llu\r\n%s\r\n",
		 rs->rs_extra != NULL ? rs->rs_extra : "",
		 (unsigned long long)bodylen,
		 rs->rs_close ? "Connection: close\r\n" : "")) < 0)
		return rc;
	return add_seg(rs, false, 0, rs->rs_buf.sb_len);
}

int
http_resp_add_mem(struct http_resp *rs, const void *p, size_t n)
{
	size_t off = rs->rs_buf.sb_len;
	int rc;

	if (rs->rs_head_only)
		return 0;
	if ((rc = sbuf_add(&rs->rs_buf, p, n)) < 0)
		return rc;
	return add_seg(rs, false, off, n);
}

int
http_resp_addf(struct http_resp *rs, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return WSD_ETOOBIG;
	return http_resp_add_mem(rs, buf, (size_t)n);
}

int
http_resp_add_file(struct http_resp *rs, uint64_t off, uint64_t len)
{
	if (rs->rs_head_only)
		return 0;
	return add_seg(rs, true, off, len);
}

int
http_resp_simple(struct http_resp *rs, int status, const char *date,
    const char *extra, const char *ctype, const char *body)
{
	size_t n = body ? strlen(body) : 0;
	int rc;

	if ((rc = http_resp_start(rs, status, date)) < 0 ||
	    (extra && (rc = sbuf_adds(&rs->rs_buf, extra)) < 0) ||
	    (n > 0 && (rc = http_resp_header(rs, "Content-Type: %s",
			   ctype)) < 0) ||
	    (rc = http_resp_end_head(rs, n)) < 0 ||
	    (rc = http_resp_add_mem(rs, body, n)) < 0)
		return rc;
	return 0;
}

static const char *const wday[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	"Fri", "Sat" };
static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

void
http_date(long long t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(buf, n, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    wday[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
}

long long
http_date_parse(const char *s, size_t n)
{
	struct tm tm;
	char tmp[40];
	int m;

	/* "Sun, 06 Nov 1994 08:49:37 GMT" is exactly 29 bytes. */
	if (n != 29)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	memset(&tm, 0, sizeof(tm));
	{
		char mname[4], zone[4], wd[4];
		int d, y, hh, mm, ss;

		if (sscanf(tmp, "%3s, %2d %3s %4d %2d:%2d:%2d %3s", wd, &d,
			mname, &y, &hh, &mm, &ss, zone) != 8 ||
		    strcmp(zone, "GMT") != 0)
			return -1;
		for (m = 0; m < 12; m++)
			if (strcmp(mname, mon[m]) == 0)
				break;
		if (m == 12 || d < 1 || d > 31 || hh > 23 || mm > 59 ||
		    ss > 60 || y < 1970)
			return -1;
		tm.tm_mday = d;
		tm.tm_mon = m;
		tm.tm_year = y - 1900;
		tm.tm_hour = hh;
		tm.tm_min = mm;
		tm.tm_sec = ss;
	}
	return (long long)timegm(&tm);
}
