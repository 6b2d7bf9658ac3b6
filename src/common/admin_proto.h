/*
 * The wire format between wsusutil and a running wsusd for
 * administration (docs/ADMIN.md): the same bytes over the local admin
 * socket and in the body of a POST to ApiRemoting30.
 *
 * Request: "WSUSADM1", then a 4-byte big-endian argument count (1 to
 * ADMIN_MAX_ARGS), then each argument as a 4-byte big-endian length (at
 * most ADMIN_MAX_ARG) and its bytes (no NUL). Argument 0 is the wsusutil
 * command name; the data directory is the server's own, never sent.
 *
 * Answer: frames of a channel byte, a 4-byte big-endian length and that
 * many bytes: 'o' the command's standard output, 'e' its standard error,
 * and last 'x' with 4 bytes, the exit status (big-endian). Frames are at
 * most ADMIN_MAX_FRAME bytes of payload.
 */
#ifndef WSUSD_COMMON_ADMIN_PROTO_H
#define WSUSD_COMMON_ADMIN_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "common/sbuf.h"
#include "common/wsd_err.h"

#define ADMIN_MAGIC "WSUSADM1"
#define ADMIN_MAGIC_LEN 8
#define ADMIN_MAX_ARGS 64
#define ADMIN_MAX_ARG 4096
#define ADMIN_MAX_REQUEST \
	(ADMIN_MAGIC_LEN + 4 + ADMIN_MAX_ARGS * (4 + ADMIN_MAX_ARG))
#define ADMIN_MAX_FRAME 65536

/* A decoded request: ARGV[0..ARGC) point into the owned BUF. */
struct admin_request {
	int argc;
	char *argv[ADMIN_MAX_ARGS + 1]; /* NULL-terminated */
	char *buf;
};

/* ARGV[0..ARGC) appended to OUT as a request. */
int admin_request_encode(int argc, char *const *argv, struct sbuf *out,
    struct wsd_err *err) WSD_MUST_CHECK;
/*
 * Decodes the whole request P[0..N) (nothing may follow it). WSD_EINVAL
 * with a static reason on anything malformed or over the bounds;
 * release with admin_request_release either way.
 */
int admin_request_decode(const void *p, size_t n, struct admin_request *rq,
    struct wsd_err *err) WSD_MUST_CHECK;
void admin_request_release(struct admin_request *rq);

/* Sends all of P[0..N) on socket FD (no SIGPIPE): 0 or -1 (errno). */
int admin_send_all(int fd, const void *p, size_t n) WSD_MUST_CHECK;

/* One frame appended to OUT. */
int admin_frame_add(struct sbuf *out, char chan, const void *p, size_t n)
    WSD_MUST_CHECK;
/* The 'x' frame for STATUS appended to OUT. */
int admin_frame_exit(struct sbuf *out, int status) WSD_MUST_CHECK;

/*
 * Reads frames from a stream: feed bytes as they come; each whole frame
 * is handed to CB (channel, payload, length). After an 'x' frame DONE is
 * set and STATUS holds the exit status; anything after it is an error.
 */
struct admin_frames {
	unsigned char hdr[5];
	size_t hlen;
	unsigned char *payload;
	size_t plen, pgot;
	int done;
	int status;
};

void admin_frames_init(struct admin_frames *f);
void admin_frames_release(struct admin_frames *f);
int admin_frames_feed(struct admin_frames *f, const void *p, size_t n,
    int (*cb)(void *arg, char chan, const void *p, size_t n), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
