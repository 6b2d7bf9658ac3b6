#include "sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
sbuf_init(struct sbuf *sb, size_t cap)
{
	sb->sb_buf = NULL;
	sb->sb_len = 0;
	sb->sb_alloc = 0;
	sb->sb_cap = cap;
}

void
sbuf_release(struct sbuf *sb)
{
	free(sb->sb_buf);
	sb->sb_buf = NULL;
	sb->sb_len = 0;
	sb->sb_alloc = 0;
}

void
sbuf_reset(struct sbuf *sb)
{
	sb->sb_len = 0;
	if (sb->sb_buf != NULL)
		sb->sb_buf[0] = '\0';
}

static int
sbuf_grow(struct sbuf *sb, size_t extra)
{
	size_t need, n;
	char *p;

	if (extra > sb->sb_cap || sb->sb_len > sb->sb_cap - extra) {
		sbuf_release(sb);
		return WSD_ETOOBIG;
	}
	need = sb->sb_len + extra + 1;
	if (need <= sb->sb_alloc)
		return 0;
	n = sb->sb_alloc ? sb->sb_alloc : 64;
	while (n < need)
		n *= 2;
	if (n > sb->sb_cap + 1)
		n = sb->sb_cap + 1;
	p = realloc(sb->sb_buf, n);
	if (p == NULL) {
		sbuf_release(sb);
		return WSD_ENOMEM;
	}
	sb->sb_buf = p;
	sb->sb_alloc = n;
	return 0;
}

int
sbuf_add(struct sbuf *sb, const void *p, size_t n)
{
	int rc;

	if ((rc = sbuf_grow(sb, n)) < 0)
		return rc;
	if (n > 0)
		memcpy(sb->sb_buf + sb->sb_len, p, n);
	sb->sb_len += n;
	sb->sb_buf[sb->sb_len] = '\0';
	return 0;
}

int
sbuf_adds(struct sbuf *sb, const char *s)
{
	return sbuf_add(sb, s, strlen(s));
}

int
sbuf_addf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sbuf_release(sb);
		return WSD_EINVAL;
	}
	if ((rc = sbuf_grow(sb, (size_t)n)) < 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(sb->sb_buf + sb->sb_len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->sb_len += (size_t)n;
	return 0;
}

char *
sbuf_detach(struct sbuf *sb, size_t *len)
{
	char *p = sb->sb_buf;

	if (p == NULL)
		p = calloc(1, 1);
	if (len != NULL)
		*len = sb->sb_len;
	sb->sb_buf = NULL;
	sb->sb_len = 0;
	sb->sb_alloc = 0;
	return p;
}
