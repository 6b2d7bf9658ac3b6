/*
 * One error convention for the whole project (see STYLE.md): fallible
 * functions return 0 or a negative enum wsd_errc and fill a caller-owned
 * struct wsd_err with static text. Error paths never allocate.
 */
#ifndef WSUSD_COMMON_WSD_ERR_H
#define WSUSD_COMMON_WSD_ERR_H

#include <stddef.h>

#define WSD_MUST_CHECK __attribute__((warn_unused_result))

enum wsd_errc {
	WSD_OK = 0,
	WSD_EINVAL = -1,    /* malformed input */
	WSD_ETOOBIG = -2,   /* a bound was exceeded */
	WSD_ENOMEM = -3,    /* allocation failed */
	WSD_EIO = -4,       /* system call failed; errno in the log */
	WSD_ENOTFOUND = -5, /* no such object */
	WSD_EINTERNAL = -6, /* "cannot happen": a bug, failing safe */
	WSD_EUNSAT = -7,    /* well-formed but unsatisfiable (HTTP 416) */
	WSD_EPERM = -8,     /* refused by policy (modes, ownership) */
	WSD_EAGAIN = -9,    /* would block; try again later */
	WSD_ETLS = -10,     /* certificate, key or TLS library failure */
};

struct wsd_err {
	enum wsd_errc code;
	const char *what; /* static string, never freed */
};

static inline int
wsd_fail(struct wsd_err *e, enum wsd_errc code, const char *what)
{
	if (e != NULL) {
		e->code = code;
		e->what = what;
	}
	return code;
}

const char *wsd_strerror(int code);

#endif
