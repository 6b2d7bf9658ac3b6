/*
 * Listening sockets: numeric address + port, IPv4 or IPv6 (v6only, so
 * "0.0.0.0" and "::" can both be bound), non-blocking, close-on-exec.
 */
#ifndef WSUSD_NET_LISTEN_H
#define WSUSD_NET_LISTEN_H

#include <stdbool.h>
#include <stdint.h>

#include "common/wsd_err.h"

struct listener {
	int ls_fd;
	bool ls_tls;      /* the HTTPS port */
	uint16_t ls_port;
	char ls_addr[64]; /* numeric, for logs and matching on reload */
};

/* Binds and listens; on failure logs "ADDR port N: reason". */
int listener_open(struct listener *ls, const char *addr, uint16_t port,
    bool tls, struct wsd_err *err) WSD_MUST_CHECK;
bool listener_same(const struct listener *a, const char *addr,
    uint16_t port, bool tls);

#endif
