/*
 * sbuf: a growable byte buffer with a cap per use (curl dynbuf, git strbuf).
 *
 * Invariants: sb_buf is NULL until the first add, then always
 * NUL-terminated; sb_len never exceeds sb_cap. On overflow or OOM an add
 * releases the buffer and returns WSD_ETOOBIG/WSD_ENOMEM, so a buffer is
 * never left half-written. sbuf_detach is the only way to take ownership.
 */
#ifndef WSUSD_COMMON_SBUF_H
#define WSUSD_COMMON_SBUF_H

#include <stddef.h>

#include "wsd_err.h"

struct sbuf {
	char *sb_buf;
	size_t sb_len;
	size_t sb_alloc;
	size_t sb_cap; /* most bytes this buffer may hold */
};

void sbuf_init(struct sbuf *sb, size_t cap);
void sbuf_release(struct sbuf *sb);
void sbuf_reset(struct sbuf *sb); /* length 0, keeps memory */
int sbuf_add(struct sbuf *sb, const void *p, size_t n) WSD_MUST_CHECK;
int sbuf_adds(struct sbuf *sb, const char *s) WSD_MUST_CHECK;
int sbuf_addf(struct sbuf *sb, const char *fmt, ...) WSD_MUST_CHECK
    __attribute__((format(printf, 2, 3)));
/* Returns the buffer (caller frees) and leaves sb empty. Never NULL. */
char *sbuf_detach(struct sbuf *sb, size_t *len);

static inline const char *
sbuf_str(const struct sbuf *sb)
{
	return sb->sb_buf != NULL ? sb->sb_buf : "";
}

#endif
