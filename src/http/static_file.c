#include "http/static_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <openssl/rand.h>

#include "http/http_range.h"

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static char
upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
}

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

int
static_file_canon(struct sv rest, char *out, size_t outsize)
{
	size_t i, hex, ext, w = 0;

	/* "/XX/" + 64 hex + "." + 8 = 78 bytes at most. */
	if (rest.n < 4 + 40 || rest.n > 78 || outsize < 80)
		return -1;
	if (rest.p[0] != '/' || !is_hex(rest.p[1]) || !is_hex(rest.p[2]) ||
	    rest.p[3] != '/')
		return -1;
	out[w++] = upper(rest.p[1]);
	out[w++] = upper(rest.p[2]);
	out[w++] = '/';
	for (i = 4; i < rest.n && is_hex(rest.p[i]); i++)
		out[w++] = upper(rest.p[i]);
	hex = i - 4;
	if (hex != 40 && hex != 64)
		return -1;
	if (i < rest.n) {
		if (rest.p[i] != '.')
			return -1;
		out[w++] = '.';
		for (i++, ext = 0; i < rest.n; i++, ext++) {
			char c = lower(rest.p[i]);

			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
				return -1;
			out[w++] = c;
		}
		if (ext < 1 || ext > 8)
			return -1;
	}
	out[w] = '\0';
	return 0;
}

int
static_file_canon_selfupdate(struct sv rest, char *out, size_t outsize)
{
	size_t w = 0, seg = 0, nseg = 0;

	/* "/a/b.cab": 1-4 segments of [a-z0-9._-], none starting with a
	 * dot (so no "." or ".." either), folded to lower case as IIS
	 * serves them in any case. */
	if (rest.n < 2 || rest.n >= outsize || rest.p[0] != '/')
		return -1;
	for (size_t i = 1; i < rest.n; i++) {
		char c = lower(rest.p[i]);

		if (c == '/') {
			if (seg == 0 || ++nseg >= 4)
				return -1;
			seg = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-' || (c == '.' && seg > 0)) {
			seg++;
		} else {
			return -1;
		}
		out[w++] = c;
	}
	if (seg == 0)
		return -1;
	out[w] = '\0';
	return 0;
}

/* Beneath DIRFD, never through a symlink (S12, S17). */
static int
open_beneath(int dirfd, const char *rel)
{
	struct open_how how = {
		/* O_NONBLOCK: a FIFO planted in the store must not block a
		 * worker in open(2); fstat then refuses anything not regular. */
		.flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		    RESOLVE_NO_MAGICLINKS,
	};
	const char *slash;
	char sub[3];
	int fd, dfd;

	fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
	if (fd >= 0 || errno != ENOSYS)
		return fd;
	/* Kernels before 5.6: the name has exactly one slash and no dots. */
	if ((slash = strchr(rel, '/')) == NULL || slash - rel != 2)
		return -1;
	memcpy(sub, rel, 2);
	sub[2] = '\0';
	dfd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		O_CLOEXEC);
	if (dfd < 0)
		return -1;
	fd = openat(dfd, slash + 1, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	close(dfd);
	return fd;
}

/* RFC 9110 13.1.2: weak comparison, list or "*". */
static bool
etag_in_list(struct sv list, const char *etag)
{
	struct sv want = sv_from_cstr(etag);

	while (list.n > 0) {
		const char *comma = memchr(list.p, ',', list.n);
		size_t n = comma ? (size_t)(comma - list.p) : list.n;
		struct sv tok = sv_trim_ows((struct sv){ list.p, n });

		if (tok.n == 1 && tok.p[0] == '*')
			return true;
		if (tok.n > 2 && tok.p[0] == 'W' && tok.p[1] == '/') {
			tok.p += 2;
			tok.n -= 2;
		}
		if (sv_eq(tok, want))
			return true;
		list.p += n;
		list.n -= n;
		if (list.n > 0) {
			list.p++;
			list.n--;
		}
	}
	return false;
}

/* A file range as the body: small ones inline behind the head. */
static int
add_body(struct http_resp *rs, uint64_t off, uint64_t len)
{
	char buf[WSD_INLINE_FILE];
	ssize_t n;

	if (rs->rs_head_only || len > sizeof(buf))
		return http_resp_add_file(rs, off, len);
	n = pread(rs->rs_fd, buf, (size_t)len, (off_t)off);
	if (n != (ssize_t)len)
		return WSD_EIO; /* file changed under us: answer 500 */
	return http_resp_add_mem(rs, buf, (size_t)len);
}

static int
not_found(struct http_resp *rs, const char *date)
{
	return http_resp_simple(rs, 404, date, NULL, "text/plain",
	    "Not Found\n");
}

static int
validators(struct http_resp *rs, const char *etag, const char *lastmod)
{
	int rc;

	if ((rc = http_resp_header(rs, "Accept-Ranges: bytes")) < 0 ||
	    (rc = http_resp_header(rs, "ETag: %s", etag)) < 0 ||
	    (rc = http_resp_header(rs, "Last-Modified: %s", lastmod)) < 0)
		return rc;
	return 0;
}

static int
serve_multipart(struct http_resp *rs, const struct http_range_set *set,
    uint64_t size, const char *date, const char *etag, const char *lastmod)
{
	static const char part_fmt[] = "\r\n--%s\r\nContent-Type: "
				       "application/octet-stream\r\n"
				       "Content-Range: bytes %llu-%llu/%llu"
				       "\r\n\r\n";
	unsigned char rnd[10];
	char boundary[24], part[256];
	uint64_t total = 0;
	int rc, n;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return WSD_EINTERNAL;
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(boundary + 2 * i, 3, "%02x", rnd[i]);
	for (unsigned i = 0; i < set->hr_count; i++) {
		const struct http_range *r = &set->hr_r[i];

		n = snprintf(part, sizeof(part), part_fmt, boundary,
		    (unsigned long long)r->first, (unsigned long long)r->last,
		    (unsigned long long)size);
		total += (uint64_t)n + (r->last - r->first + 1);
	}
	total += strlen(boundary) + 8; /* "\r\n--" B "--\r\n" */
	if ((rc = http_resp_start(rs, 206, date)) < 0 ||
	    (rc = http_resp_header(rs,
		 "Content-Type: multipart/byteranges; boundary=%s",
		 boundary)) < 0 ||
	    (rc = validators(rs, etag, lastmod)) < 0 ||
	    (rc = http_resp_end_head(rs, total)) < 0)
		return rc;
	for (unsigned i = 0; i < set->hr_count; i++) {
		const struct http_range *r = &set->hr_r[i];

		if ((rc = http_resp_addf(rs, part_fmt, boundary,
			 (unsigned long long)r->first,
			 (unsigned long long)r->last,
			 (unsigned long long)size)) < 0 ||
		    (rc = http_resp_add_file(rs, r->first,
			 r->last - r->first + 1)) < 0)
			return rc;
	}
	return http_resp_addf(rs, "\r\n--%s--\r\n", boundary);
}

/* If-Range (RFC 9110 13.1.5): strong ETag match or exact date. */
static bool
if_range_holds(const struct http_header *h, const char *etag,
    long long mtime)
{
	if (h->value.n > 0 && (h->value.p[0] == '"' || h->value.p[0] == 'W'))
		return sv_eq(h->value, sv_from_cstr(etag));
	return http_date_parse(h->value.p, h->value.n) == mtime;
}

int
static_file_serve(int content_dirfd, struct sv rest,
    const struct http_req *rq, const char *date, struct http_resp *rs)
{
	char rel[80];

	rs->rs_head_only = rq->rq_method == HTTP_HEAD;
	if (content_dirfd < 0 || static_file_canon(rest, rel, sizeof(rel)) < 0)
		return not_found(rs, date);
	return static_file_serve_rel(content_dirfd, rel, rq, date, rs);
}

int
static_file_serve_rel(int dirfd, const char *rel, const struct http_req *rq,
    const char *date, struct http_resp *rs)
{
	const struct http_header *h;
	struct http_range_set set;
	char etag[64], lastmod[40];
	struct wsd_err err;
	struct stat st;
	uint64_t size;
	int fd, rc;

	rs->rs_head_only = rq->rq_method == HTTP_HEAD;
	if (dirfd < 0 || (fd = open_beneath(dirfd, rel)) < 0)
		return not_found(rs, date);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return not_found(rs, date);
	}
	rs->rs_fd = fd; /* rs owns it from here */
	size = (uint64_t)st.st_size;
	snprintf(etag, sizeof(etag), "\"%llx%09lx-%llx\"",
	    (unsigned long long)st.st_mtim.tv_sec,
	    (unsigned long)st.st_mtim.tv_nsec, (unsigned long long)size);
	http_date(st.st_mtim.tv_sec, lastmod, sizeof(lastmod));

	/* RFC 9110 13.2.2: If-None-Match first; If-Modified-Since only
	 * without it. */
	if ((h = http_req_header(rq, "If-None-Match")) != NULL) {
		if (etag_in_list(h->value, etag))
			goto not_modified;
	} else if ((h = http_req_header(rq, "If-Modified-Since")) != NULL) {
		long long ims = http_date_parse(h->value.p, h->value.n);

		if (ims >= 0 && st.st_mtim.tv_sec <= ims)
			goto not_modified;
	}

	set.hr_count = 0;
	if (rq->rq_method == HTTP_GET &&
	    (h = http_req_header(rq, "Range")) != NULL) {
		const struct http_header *ir = http_req_header(rq, "If-Range");

		if (ir == NULL || if_range_holds(ir, etag, st.st_mtim.tv_sec)) {
			rc = http_range_parse(h->value, size, &set, &err);
			if (rc == WSD_EUNSAT) {
				char cr[64];

				snprintf(cr, sizeof(cr),
				    "Content-Range: bytes */%llu\r\n",
				    (unsigned long long)size);
				return http_resp_simple(rs, 416, date, cr,
				    "text/plain", "Range Not Satisfiable\n");
			}
			if (rc < 0)
				set.hr_count = 0;
		}
	}
	if (set.hr_count > 1)
		return serve_multipart(rs, &set, size, date, etag, lastmod);
	if (set.hr_count == 1) {
		const struct http_range *r = &set.hr_r[0];
		uint64_t len = r->last - r->first + 1;

		if ((rc = http_resp_start(rs, 206, date)) < 0 ||
		    (rc = http_resp_header(rs,
			 "Content-Type: application/octet-stream")) < 0 ||
		    (rc = validators(rs, etag, lastmod)) < 0 ||
		    (rc = http_resp_header(rs, "Content-Range: bytes %llu-%llu/%llu",
			 (unsigned long long)r->first,
			 (unsigned long long)r->last,
			 (unsigned long long)size)) < 0 ||
		    (rc = http_resp_end_head(rs, len)) < 0)
			return rc;
		return add_body(rs, r->first, len);
	}
	if ((rc = http_resp_start(rs, 200, date)) < 0 ||
	    (rc = http_resp_header(rs,
		 "Content-Type: application/octet-stream")) < 0 ||
	    (rc = validators(rs, etag, lastmod)) < 0 ||
	    (rc = http_resp_end_head(rs, size)) < 0)
		return rc;
	return add_body(rs, 0, size);

not_modified:
	if ((rc = http_resp_start(rs, 304, date)) < 0 ||
	    (rc = validators(rs, etag, lastmod)) < 0)
		return rc;
	/* 304 has no body and no Content-Length of the representation. */
	rs->rs_head_only = true;
	if ((rc = sbuf_addf(&rs->rs_buf, "%s\r\n",
		 rs->rs_close ? "Connection: close\r\n" : "")) < 0)
		return rc;
	rs->rs_body = 0;
	rs->rs_seg[0] = (struct http_seg){ false, 0, rs->rs_buf.sb_len };
	rs->rs_nseg = 1;
	return 0;
}
