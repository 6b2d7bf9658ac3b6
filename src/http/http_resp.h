/*
 * A response under construction: the head and any small body pieces live
 * in one sbuf; the body is a list of segments, each a slice of that sbuf
 * or a byte range of rs_fd (sent with sendfile on plain TCP). Segments
 * hold offsets, not pointers, because the sbuf may move while it grows.
 */
#ifndef WSUSD_HTTP_HTTP_RESP_H
#define WSUSD_HTTP_HTTP_RESP_H

#include <stdbool.h>
#include <stdint.h>

#include "common/sbuf.h"
#include "common/wsd_limits.h"

/* Multipart: an intro and a file range per part, plus the closing line. */
#define HTTP_MAX_SEGS (2 * WSD_MAX_RANGES + 2)

struct http_seg {
	bool sg_file;
	uint64_t sg_off; /* in rs_buf, or in rs_fd */
	uint64_t sg_len;
};

struct http_resp {
	int rs_status;
	struct sbuf rs_buf;
	unsigned rs_nseg;
	unsigned rs_cur;   /* segment being sent */
	uint64_t rs_sent;  /* bytes of rs_seg[rs_cur] already sent */
	struct http_seg rs_seg[HTTP_MAX_SEGS];
	int rs_fd;           /* body file, owned; -1 when none */
	uint64_t rs_body;    /* body bytes, for the access log */
	bool rs_close;       /* close the connection after sending */
	bool rs_head_only;   /* HEAD: the head's Content-Length, no body */
	/* Header lines ("Name: value\r\n") the head ends with whatever
	 * the handler writes: the Negotiate reply of an authenticated
	 * request. Borrowed; NULL when none. */
	const char *rs_extra;
};

void http_resp_init(struct http_resp *rs);
/* Closes rs_fd, frees the buffer, back to the init state. */
void http_resp_release(struct http_resp *rs);

const char *http_reason(int status);

/* "HTTP/1.1 N Reason", Date and Server. DATE is an IMF-fixdate. */
int http_resp_start(struct http_resp *rs, int status, const char *date)
    WSD_MUST_CHECK;
int http_resp_header(struct http_resp *rs, const char *fmt, ...)
    WSD_MUST_CHECK __attribute__((format(printf, 2, 3)));
/*
 * Ends the head with Content-Length BODYLEN and, when the connection is
 * to close, "Connection: close"; the head becomes the first segment.
 */
int http_resp_end_head(struct http_resp *rs, uint64_t bodylen)
    WSD_MUST_CHECK;
/* Appends body bytes from memory, or a range of rs_fd. */
int http_resp_add_mem(struct http_resp *rs, const void *p, size_t n)
    WSD_MUST_CHECK;
int http_resp_addf(struct http_resp *rs, const char *fmt, ...)
    WSD_MUST_CHECK __attribute__((format(printf, 2, 3)));
int http_resp_add_file(struct http_resp *rs, uint64_t off, uint64_t len)
    WSD_MUST_CHECK;

/*
 * A complete small response: status, optional extra header lines
 * (EXTRA: "Name: value\r\n..." or NULL), content type and body.
 */
int http_resp_simple(struct http_resp *rs, int status, const char *date,
    const char *extra, const char *ctype, const char *body) WSD_MUST_CHECK;

/* IMF-fixdate (RFC 9110 5.6.7) of T into BUF (at least 30 bytes). */
void http_date(long long t, char *buf, size_t n);
/* Parses an IMF-fixdate; -1 if it is not one. */
long long http_date_parse(const char *s, size_t n);

#endif
