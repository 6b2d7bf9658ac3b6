#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

static enum log_level log_level = LOG_LVL_INFO;
static const char *log_prog = "wsusd";

void
log_set_level(enum log_level lvl)
{
	log_level = lvl;
}

void
log_set_prefix(const char *prog)
{
	log_prog = prog;
}

int
log_parse_level(const char *s, enum log_level *out)
{
	static const char *const names[] = { "error", "warn", "info",
		"debug" };

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void vlog(enum log_level lvl, const char *tag, int errnum,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void
vlog(enum log_level lvl, const char *tag, int errnum, const char *fmt,
    va_list ap)
{
	char msg[1024];
	int saved = errno;

	if (lvl > log_level) {
		errno = saved;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* One fprintf per line so lines from threads do not interleave. */
	if (errnum != 0)
		fprintf(stderr, "%s: %s%s: %s\n", log_prog, tag, msg,
		    strerror(errnum));
	else
		fprintf(stderr, "%s: %s%s\n", log_prog, tag, msg);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vlog(LOG_LVL_WARN, "warning: ", e, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_WARN, "warning: ", 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_INFO, "", 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_DEBUG, "debug: ", 0, fmt, ap);
	va_end(ap);
}

void
log_ssl(const char *fmt, ...)
{
	char msg[768], ebuf[256];
	unsigned long e;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e = ERR_get_error();
	if (e == 0) {
		log_warnx("%s", msg);
		return;
	}
	ERR_error_string_n(e, ebuf, sizeof(ebuf));
	log_warnx("%s: %s", msg, ebuf);
	ERR_clear_error();
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, "error: ", 0, fmt, ap);
	va_end(ap);
	exit(1);
}
