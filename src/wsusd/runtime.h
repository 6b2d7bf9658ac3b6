/*
 * Building a configuration generation (struct srv_runtime) from a
 * struct config: TLS context, listeners, content directory, access log.
 * Used at start and on every SIGHUP.
 */
#ifndef WSUSD_WSUSD_RUNTIME_H
#define WSUSD_WSUSD_RUNTIME_H

#include "http/http_server.h"

/*
 * Takes ownership of CF (freed on failure too). Listening sockets that
 * OLD (may be NULL) already has for the same address, port and scheme are
 * carried over rather than bound again, so a reload never drops queued
 * connections. Returns a runtime holding one reference.
 */
int runtime_build(struct config *cf, const struct srv_runtime *old,
    struct srv_runtime **out, struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Refuses a data directory others may write (or its group, for the
 * directory itself and tls/), or a key others may read (S17).
 */
int runtime_check_modes(const struct config *cf, struct wsd_err *err)
    WSD_MUST_CHECK;

#endif
