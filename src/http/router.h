/*
 * Maps a request-target to one of the nine virtual roots. The path is
 * percent-decoded exactly once, here, and checked before anything else
 * looks at it (OpenBSD httpd canonicalize_path): no NUL, no encoded or
 * raw backslash, no encoded slash, no non-ASCII byte (overlong UTF-8 and
 * the IIS Unicode traversal), no "." or ".." segment. Repeated slashes
 * collapse (Windows DSS requests "//DssAuthWebService/...").
 */
#ifndef WSUSD_HTTP_ROUTER_H
#define WSUSD_HTTP_ROUTER_H

#include "common/strparse.h"
#include "common/vroot.h"
#include "common/wsd_limits.h"

struct route {
	enum vroot rt_vroot;    /* VROOT_NONE: no such root (404) */
	struct sv rt_path;      /* whole decoded path, in the caller's buf */
	struct sv rt_rest;      /* after "/<vroot>", starts with '/' or empty */
	struct sv rt_query;     /* raw query without '?', may be empty */
};

/*
 * Decodes TARGET into BUF (at least WSD_MAX_REQUEST_LINE + 1 bytes).
 * Returns 0 with OUT filled, or an HTTP status (400) to answer.
 */
int router_match(struct sv target, char *buf, size_t bufsize,
    struct route *out);

#endif
