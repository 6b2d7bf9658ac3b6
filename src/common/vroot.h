/*
 * The nine virtual roots of a WSUS site. The router maps paths to these;
 * config keys and access-log lines use vroot_name().
 */
#ifndef WSUSD_COMMON_VROOT_H
#define WSUSD_COMMON_VROOT_H

#include <stdbool.h>

enum vroot {
	VROOT_NONE = -1,
	VROOT_SIMPLEAUTH = 0,
	VROOT_DSSAUTH,
	VROOT_SERVERSYNC,
	VROOT_APIREMOTING,
	VROOT_CLIENT,
	VROOT_CONTENT,
	VROOT_INVENTORY,
	VROOT_REPORTING,
	VROOT_SELFUPDATE,
	VROOT_COUNT
};

/* Canonical IIS spelling, e.g. "ClientWebService". */
const char *vroot_name(enum vroot v);
/* True for the five roots that answer only over TLS once TLS is set up. */
bool vroot_requires_tls(enum vroot v);

#endif
