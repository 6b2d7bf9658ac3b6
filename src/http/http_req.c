#include "http/http_req.h"

#include <string.h>

/* RFC 9110 5.6.2 tchar. */
static bool
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar / SP / HTAB; obs-text (0x80-0xFF) allowed, CTLs not. */
static bool
is_value_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Finds the end of the head ("\r\n\r\n"); returns its length or 0. */
static size_t
head_end(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while (p + 3 < end) {
		const char *cr = memchr(p, '\r', (size_t)(end - p));

		if (cr == NULL || cr + 3 >= end)
			return 0;
		if (cr[1] == '\n' && cr[2] == '\r' && cr[3] == '\n')
			return (size_t)(cr + 4 - buf);
		p = cr + 1;
	}
	return 0;
}

static int
fail(int *status, int code)
{
	*status = code;
	return -1;
}

static enum http_method
method_of(struct sv m)
{
	if (sv_eq(m, SV_LIT("GET")))
		return HTTP_GET;
	if (sv_eq(m, SV_LIT("HEAD")))
		return HTTP_HEAD;
	if (sv_eq(m, SV_LIT("POST")))
		return HTTP_POST;
	return HTTP_OTHER;
}

/* Comma-separated tokens of a Connection header. */
static void
connection_tokens(struct sv v, bool *close, bool *keepalive)
{
	while (v.n > 0) {
		const char *comma = memchr(v.p, ',', v.n);
		size_t n = comma ? (size_t)(comma - v.p) : v.n;
		struct sv tok = sv_trim_ows((struct sv){ v.p, n });

		if (sv_eq_cstr_ci(tok, "close"))
			*close = true;
		else if (sv_eq_cstr_ci(tok, "keep-alive"))
			*keepalive = true;
		v.p += n;
		v.n -= n;
		if (v.n > 0) {
			v.p++;
			v.n--;
		}
	}
}

static int
parse_request_line(struct sv *s, struct http_req *rq, int *status)
{
	const char *eol = NULL;
	struct sv line, m, t;
	size_t i;

	for (i = 0; i < s->n && i <= WSD_MAX_REQUEST_LINE; i++) {
		if (s->p[i] == '\r') {
			eol = s->p + i;
			break;
		}
	}
	if (eol == NULL)
		return fail(status, i > WSD_MAX_REQUEST_LINE ? 414 : 400);
	line = (struct sv){ s->p, (size_t)(eol - s->p) };
	if (line.n + 1 >= s->n || eol[1] != '\n')
		return fail(status, 400);

	/* method SP request-target SP HTTP-version, single spaces only. */
	m.p = line.p;
	for (i = 0; i < line.n && is_tchar((unsigned char)line.p[i]); i++)
		;
	if (i == 0 || i >= line.n || line.p[i] != ' ')
		return fail(status, 400);
	m.n = i;
	t.p = line.p + i + 1;
	for (i = 0; t.p + i < eol && t.p[i] > 0x20 && t.p[i] < 0x7f; i++)
		;
	t.n = i;
	if (t.n == 0 || t.p + t.n >= eol || t.p[t.n] != ' ')
		return fail(status, 400);
	{
		struct sv v = { t.p + t.n + 1, (size_t)(eol - (t.p + t.n + 1)) };

		if (v.n != 8 || memcmp(v.p, "HTTP/", 5) != 0 ||
		    v.p[6] != '.' || v.p[5] < '0' || v.p[5] > '9' ||
		    v.p[7] < '0' || v.p[7] > '9')
			return fail(status, 400);
		if (v.p[5] != '1')
			return fail(status, 505);
		rq->rq_minor = (unsigned)(v.p[7] - '0');
	}
	rq->rq_method_str = m;
	rq->rq_method = method_of(m);
	rq->rq_target = t;
	s->p = eol + 2;
	s->n -= line.n + 2;
	return 0;
}

int
http_req_parse(const char *buf, size_t len, struct http_req *rq, int *status)
{
	bool conn_close = false, conn_keepalive = false, has_te = false;
	bool has_host = false;
	size_t hlen, skip = 0;
	struct sv s;

	/* RFC 9112 2.2: ignore empty lines before the request-line. */
	while (skip + 1 < len && buf[skip] == '\r' && buf[skip + 1] == '\n' &&
	    skip < 8)
		skip += 2;
	hlen = head_end(buf + skip, len - skip);
	if (hlen == 0) {
		if (len >= WSD_MAX_HEADER_BYTES) {
			/* Tell a long request-line from a big header block. */
			if (memchr(buf, '\n', len < WSD_MAX_REQUEST_LINE ?
					len : WSD_MAX_REQUEST_LINE) == NULL)
				return fail(status, 414);
			return fail(status, 431);
		}
		return 0;
	}
	if (skip + hlen > WSD_MAX_HEADER_BYTES)
		return fail(status, 431);

	memset(rq, 0, offsetof(struct http_req, rq_headers));
	rq->rq_nheaders = 0;
	rq->rq_has_length = false;
	rq->rq_content_length = 0;
	rq->rq_chunked = false;
	rq->rq_expect_continue = false;
	rq->rq_host = (struct sv){ "", 0 };
	s = (struct sv){ buf + skip, hlen };
	if (parse_request_line(&s, rq, status) < 0)
		return -1;

	while (!(s.n >= 2 && s.p[0] == '\r' && s.p[1] == '\n')) {
		struct http_header *h;
		const char *eol;
		struct sv name, value;
		size_t i;

		if (s.p[0] == ' ' || s.p[0] == '\t')
			return fail(status, 400); /* obs-fold */
		for (i = 0; i < s.n && is_tchar((unsigned char)s.p[i]); i++)
			;
		if (i == 0 || i >= s.n || s.p[i] != ':')
			return fail(status, 400);
		name = (struct sv){ s.p, i };
		value.p = s.p + i + 1;
		for (eol = value.p; eol < s.p + s.n && *eol != '\r'; eol++)
			if (!is_value_char((unsigned char)*eol))
				return fail(status, 400);
		if (eol + 1 >= s.p + s.n || eol[1] != '\n')
			return fail(status, 400);
		value.n = (size_t)(eol - value.p);
		value = sv_trim_ows(value);
		if (rq->rq_nheaders == WSD_MAX_HEADERS)
			return fail(status, 431);
		h = &rq->rq_headers[rq->rq_nheaders++];
		h->name = name;
		h->value = value;
		s.n -= (size_t)(eol + 2 - s.p);
		s.p = eol + 2;

		if (sv_eq_cstr_ci(name, "content-length")) {
			struct sv v = value;

			if (rq->rq_has_length)
				return fail(status, 400);
			if (strparse_u64(&v, UINT64_MAX, &rq->rq_content_length) <
				0 ||
			    v.n != 0)
				return fail(status, 400);
			rq->rq_has_length = true;
		} else if (sv_eq_cstr_ci(name, "transfer-encoding")) {
			if (has_te)
				return fail(status, 400);
			has_te = true;
			if (!sv_eq_cstr_ci(value, "chunked"))
				return fail(status, 501);
			rq->rq_chunked = true;
		} else if (sv_eq_cstr_ci(name, "host")) {
			if (has_host)
				return fail(status, 400);
			has_host = true;
			rq->rq_host = value;
		} else if (sv_eq_cstr_ci(name, "connection")) {
			connection_tokens(value, &conn_close, &conn_keepalive);
		} else if (sv_eq_cstr_ci(name, "expect")) {
			if (!sv_eq_cstr_ci(value, "100-continue"))
				return fail(status, 417);
			rq->rq_expect_continue = rq->rq_minor >= 1;
		}
	}
	/* RFC 9112 6.1: CL with TE is a smuggling attempt; close. */
	if (rq->rq_chunked && rq->rq_has_length)
		return fail(status, 400);
	if (rq->rq_chunked && rq->rq_minor == 0)
		return fail(status, 400);
	if (rq->rq_minor >= 1 && !has_host)
		return fail(status, 400);
	if (rq->rq_minor >= 1)
		rq->rq_keepalive = !conn_close;
	else
		rq->rq_keepalive = conn_keepalive && !conn_close;
	rq->rq_head_len = skip + hlen;
	return 1;
}

const struct http_header *
http_req_header(const struct http_req *rq, const char *name)
{
	for (unsigned i = 0; i < rq->rq_nheaders; i++)
		if (sv_eq_cstr_ci(rq->rq_headers[i].name, name))
			return &rq->rq_headers[i];
	return NULL;
}

enum ck_state {
	CK_SIZE,      /* hex digits of chunk-size */
	CK_EXT,       /* chunk extension up to CR */
	CK_SIZE_LF,   /* LF after the size line */
	CK_DATA,      /* chunk data */
	CK_DATA_CR,   /* CR after data */
	CK_DATA_LF,   /* LF after data */
	CK_TRAILER,   /* start of a trailer line or final CRLF */
	CK_TRAILER_LINE,
	CK_TRAILER_LF,
	CK_FINAL_LF,
	CK_DONE
};

void
http_chunked_init(struct http_chunked *ck)
{
	memset(ck, 0, sizeof(*ck));
	ck->ck_state = CK_SIZE;
}

long
http_chunked_decode(struct http_chunked *ck, const char *in, size_t len,
    char *out, size_t *outlen, bool *done)
{
	size_t i = 0, room = *outlen, w = 0;

	*done = false;
	while (i < len && ck->ck_state != CK_DONE) {
		unsigned char c = (unsigned char)in[i];

		switch (ck->ck_state) {
		case CK_SIZE: {
			int h = hex_digit(c);

			if (h >= 0) {
				/* 15 hex digits: far above any body limit. */
				if (++ck->ck_digits > 15)
					return -1;
				ck->ck_left = ck->ck_left * 16 + (uint64_t)h;
				i++;
				break;
			}
			if (ck->ck_digits == 0)
				return -1;
			if (c == ';' || c == ' ' || c == '\t') {
				ck->ck_state = CK_EXT;
			} else if (c == '\r') {
				ck->ck_state = CK_SIZE_LF;
			} else {
				return -1;
			}
			ck->ck_linelen = ck->ck_digits;
			i++;
			break;
		}
		case CK_EXT:
			if (++ck->ck_linelen > WSD_MAX_REQUEST_LINE)
				return -1;
			if (c == '\r')
				ck->ck_state = CK_SIZE_LF;
			else if (c == '\n' || c == 0)
				return -1;
			i++;
			break;
		case CK_SIZE_LF:
			if (c != '\n')
				return -1;
			i++;
			ck->ck_digits = 0;
			ck->ck_state = ck->ck_left ? CK_DATA : CK_TRAILER;
			break;
		case CK_DATA: {
			size_t n = len - i;

			if (n > ck->ck_left)
				n = (size_t)ck->ck_left;
			if (n > room - w)
				n = room - w;
			if (n == 0)
				goto out; /* output full */
			memcpy(out + w, in + i, n);
			w += n;
			i += n;
			ck->ck_left -= n;
			if (ck->ck_left == 0)
				ck->ck_state = CK_DATA_CR;
			break;
		}
		case CK_DATA_CR:
			if (c != '\r')
				return -1;
			ck->ck_state = CK_DATA_LF;
			i++;
			break;
		case CK_DATA_LF:
			if (c != '\n')
				return -1;
			ck->ck_state = CK_SIZE;
			i++;
			break;
		case CK_TRAILER:
			if (c == '\r') {
				ck->ck_state = CK_FINAL_LF;
			} else {
				ck->ck_state = CK_TRAILER_LINE;
				ck->ck_linelen = 1;
			}
			i++;
			break;
		case CK_TRAILER_LINE:
			if (++ck->ck_linelen > WSD_MAX_HEADER_BYTES)
				return -1;
			if (c == '\r')
				ck->ck_state = CK_TRAILER_LF;
			else if (c == '\n' || c == 0)
				return -1;
			i++;
			break;
		case CK_TRAILER_LF:
			if (c != '\n')
				return -1;
			ck->ck_state = CK_TRAILER;
			i++;
			break;
		case CK_FINAL_LF:
			if (c != '\n')
				return -1;
			ck->ck_state = CK_DONE;
			i++;
			break;
		default:
			return -1;
		}
	}
out:
	*outlen = w;
	*done = ck->ck_state == CK_DONE;
	return (long)i;
}
