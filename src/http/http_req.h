/*
 * Strict HTTP/1.1 request-head parser (RFC 9112), made for wsusd and fuzzed
 * (fuzz/fuzz_http_req.c). It never allocates: every field is a slice of
 * the caller's buffer, valid while that buffer is.
 *
 * Strict means: CRLF line endings only; no whitespace before a header
 * colon; no obs-fold; no CR, LF or NUL inside a value; one Content-Length
 * at most (even repeated identical values are refused: no smuggling);
 * Transfer-Encoding only as exactly "chunked", and never with
 * Content-Length; Host required on HTTP/1.1.
 */
#ifndef WSUSD_HTTP_HTTP_REQ_H
#define WSUSD_HTTP_HTTP_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include "common/strparse.h"
#include "common/wsd_limits.h"

enum http_method { HTTP_OTHER, HTTP_GET, HTTP_HEAD, HTTP_POST };

struct http_header {
	struct sv name;
	struct sv value; /* OWS trimmed */
};

struct http_req {
	enum http_method rq_method;
	struct sv rq_method_str;
	struct sv rq_target; /* raw request-target, not decoded */
	unsigned rq_minor;   /* HTTP/1.rq_minor */
	unsigned rq_nheaders;
	struct http_header rq_headers[WSD_MAX_HEADERS];
	/* Derived while parsing. */
	bool rq_has_length;
	uint64_t rq_content_length;
	bool rq_chunked;
	bool rq_keepalive;
	bool rq_expect_continue;
	struct sv rq_host;
	size_t rq_head_len; /* bytes of the head including the blank line */
};

/*
 * Parses the head at the start of BUF. Returns 1 when a whole head was
 * parsed into RQ, 0 when more bytes are needed (BUF holds no complete
 * head yet and is within limits), or -1 with *STATUS set to the HTTP
 * status to answer (400, 414, 417, 431, 501, 505) before closing.
 */
int http_req_parse(const char *buf, size_t len, struct http_req *rq,
    int *status);

/* First header named NAME (case-insensitive), or NULL. */
const struct http_header *http_req_header(const struct http_req *rq,
    const char *name);

/*
 * Incremental chunked-body decoder (RFC 9112 7.1). Trailers are read and
 * discarded. Chunk extensions are skipped within WSD_MAX_REQUEST_LINE.
 */
struct http_chunked {
	int ck_state;
	uint64_t ck_left;  /* bytes left in the current chunk */
	size_t ck_linelen; /* bytes of the current size/trailer line */
	unsigned ck_digits;
};

void http_chunked_init(struct http_chunked *ck);
/*
 * Consumes up to LEN bytes of IN, appending decoded data to OUT (at most
 * *OUTLEN bytes, the room there; on return *OUTLEN is what was written).
 * Returns bytes consumed, with *DONE set once the final chunk and trailers
 * are consumed; or -1 on a framing error (answer 400 and close).
 */
long http_chunked_decode(struct http_chunked *ck, const char *in,
    size_t len, char *out, size_t *outlen, bool *done);

#endif
