/*
 * Logging to stderr, one line per message, journal-friendly
 * ("<N>" priority prefix when stderr is not a terminal is left to systemd:
 * we print "LEVEL: message"). log_warn appends strerror(errno); log_warnx
 * does not (OpenBSD log.c). Every function preserves errno.
 *
 * Never pass cookies, Authorization values, keys or whole SOAP bodies.
 */
#ifndef WSUSD_COMMON_LOG_H
#define WSUSD_COMMON_LOG_H

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_set_level(enum log_level lvl);
int log_parse_level(const char *s, enum log_level *out);
void log_set_prefix(const char *prog);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs the OpenSSL error queue (and clears it) after fmt. */
void log_ssl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Startup only: logs and exits(1). Never for anything a peer causes. */
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
