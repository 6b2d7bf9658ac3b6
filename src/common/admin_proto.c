/* The administration wire format (admin_proto.h). */
#include "common/admin_proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void
put_u32(unsigned char b[4], uint32_t v)
{
	b[0] = (unsigned char)(v >> 24);
	b[1] = (unsigned char)(v >> 16);
	b[2] = (unsigned char)(v >> 8);
	b[3] = (unsigned char)v;
}

static uint32_t
get_u32(const unsigned char b[4])
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

int
admin_request_encode(int argc, char *const *argv, struct sbuf *out,
    struct wsd_err *err)
{
	unsigned char b[4];

	if (argc < 1 || argc > ADMIN_MAX_ARGS)
		return wsd_fail(err, WSD_EINVAL, "too many arguments");
	put_u32(b, (uint32_t)argc);
	if (sbuf_add(out, ADMIN_MAGIC, ADMIN_MAGIC_LEN) < 0 ||
	    sbuf_add(out, b, 4) < 0)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (n > ADMIN_MAX_ARG)
			return wsd_fail(err, WSD_EINVAL, "argument too long");
		put_u32(b, (uint32_t)n);
		if (sbuf_add(out, b, 4) < 0 || sbuf_add(out, argv[i], n) < 0)
			return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	return 0;
}

int
admin_request_decode(const void *p, size_t n, struct admin_request *rq,
    struct wsd_err *err)
{
	const unsigned char *s = p;
	size_t off, need = 0;
	uint32_t argc;
	char *w;

	memset(rq, 0, sizeof(*rq));
	if (n < ADMIN_MAGIC_LEN + 4 || n > ADMIN_MAX_REQUEST ||
	    memcmp(s, ADMIN_MAGIC, ADMIN_MAGIC_LEN) != 0)
		return wsd_fail(err, WSD_EINVAL, "not an administration request");
	argc = get_u32(s + ADMIN_MAGIC_LEN);
	if (argc < 1 || argc > ADMIN_MAX_ARGS)
		return wsd_fail(err, WSD_EINVAL, "bad argument count");
	/* First pass: bounds, and the size of the strings. */
	off = ADMIN_MAGIC_LEN + 4;
	for (uint32_t i = 0; i < argc; i++) {
		uint32_t len;

		if (n - off < 4)
			return wsd_fail(err, WSD_EINVAL, "request cut short");
		len = get_u32(s + off);
		off += 4;
		if (len > ADMIN_MAX_ARG || n - off < len)
			return wsd_fail(err, WSD_EINVAL,
			    "argument too long or cut short");
		if (memchr(s + off, '\0', len) != NULL)
			return wsd_fail(err, WSD_EINVAL, "NUL in an argument");
		off += len;
		need += len + 1;
	}
	if (off != n)
		return wsd_fail(err, WSD_EINVAL, "bytes after the request");
	if ((rq->buf = malloc(need)) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	off = ADMIN_MAGIC_LEN + 4;
	w = rq->buf;
	for (uint32_t i = 0; i < argc; i++) {
		uint32_t len = get_u32(s + off);

		off += 4;
		memcpy(w, s + off, len);
		w[len] = '\0';
		rq->argv[i] = w;
		w += len + 1;
		off += len;
	}
	rq->argc = (int)argc;
	rq->argv[argc] = NULL;
	return 0;
}

void
admin_request_release(struct admin_request *rq)
{
	free(rq->buf);
	memset(rq, 0, sizeof(*rq));
}

int
admin_send_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int
admin_frame_add(struct sbuf *out, char chan, const void *p, size_t n)
{
	const char *s = p;

	do {
		size_t k = n > ADMIN_MAX_FRAME ? ADMIN_MAX_FRAME : n;
		unsigned char h[5];

		h[0] = (unsigned char)chan;
		put_u32(h + 1, (uint32_t)k);
		if (sbuf_add(out, h, 5) < 0 || sbuf_add(out, s, k) < 0)
			return -1;
		s += k;
		n -= k;
	} while (n > 0);
	return 0;
}

int
admin_frame_exit(struct sbuf *out, int status)
{
	unsigned char b[4];

	put_u32(b, (uint32_t)status);
	return admin_frame_add(out, 'x', b, 4);
}

void
admin_frames_init(struct admin_frames *f)
{
	memset(f, 0, sizeof(*f));
}

void
admin_frames_release(struct admin_frames *f)
{
	free(f->payload);
	memset(f, 0, sizeof(*f));
}

int
admin_frames_feed(struct admin_frames *f, const void *p, size_t n,
    int (*cb)(void *, char, const void *, size_t), void *arg,
    struct wsd_err *err)
{
	const unsigned char *s = p;

	while (n > 0) {
		size_t k;

		if (f->done)
			return wsd_fail(err, WSD_EINVAL,
			    "data after the exit status");
		if (f->hlen < 5) {
			k = 5 - f->hlen < n ? 5 - f->hlen : n;
			memcpy(f->hdr + f->hlen, s, k);
			f->hlen += k;
			s += k;
			n -= k;
			if (f->hlen < 5)
				break;
			f->plen = get_u32(f->hdr + 1);
			f->pgot = 0;
			if (f->plen > ADMIN_MAX_FRAME ||
			    (f->hdr[0] != 'o' && f->hdr[0] != 'e' &&
				f->hdr[0] != 'x') ||
			    (f->hdr[0] == 'x' && f->plen != 4))
				return wsd_fail(err, WSD_EINVAL,
				    "malformed answer frame");
			if (f->payload == NULL &&
			    (f->payload = malloc(ADMIN_MAX_FRAME)) == NULL)
				return wsd_fail(err, WSD_ENOMEM,
				    "out of memory");
		}
		k = f->plen - f->pgot < n ? f->plen - f->pgot : n;
		memcpy(f->payload + f->pgot, s, k);
		f->pgot += k;
		s += k;
		n -= k;
		if (f->pgot < f->plen)
			break;
		f->hlen = 0;
		if (f->hdr[0] == 'x') {
			f->done = 1;
			f->status = (int)get_u32(f->payload);
			continue;
		}
		if (cb(arg, (char)f->hdr[0], f->payload, f->plen) < 0)
			return wsd_fail(err, WSD_EIO, "cannot write the answer");
	}
	return 0;
}
