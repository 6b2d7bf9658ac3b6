/*
 * struct config: wsusd.conf parsed once into an immutable, validated value.
 * A reload builds a new one and swaps it in; a failed reload keeps the old.
 * Owned by whoever called config_load; released with config_free.
 *
 * Every key, its default and its range is documented in docs/CONFIG.md;
 * keep the table in config.c and that file in step.
 */
#ifndef WSUSD_CONFIG_CONFIG_H
#define WSUSD_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "common/vroot.h"
#include "common/wsd_err.h"
#include "common/wsd_limits.h"

#define WSD_DEFAULT_HTTPS_PORT 8531
#define WSD_CONF_NAME "wsusd.conf"

/* WSUS allows up to 24 synchronizations a day. */
#define CONFIG_MAX_SYNC_TIMES 24

struct config {
	char *cf_datadir;     /* absolute, no trailing slash */
	char *cf_server_name; /* host name used in every URL we generate */
	uint16_t cf_https_port;
	uint16_t cf_http_port; /* derived: config_http_port_for() */
	unsigned cf_nlisten;
	char *cf_listen[WSD_MAX_LISTEN]; /* numeric addresses */
	bool cf_listen_default;          /* nothing configured: any v4+v6 */
	bool cf_allow_insecure_http;
	bool cf_client_side_targeting; /* groups from the client (GPO) */
	bool cf_detect_unapproved; /* offer unapproved software for detection */
	/* ServerSyncWebService (issue #7, docs/CHAINING.md): anonymous
	 * access (default off: Negotiate required), the Kerberos keytab
	 * (NULL: DATADIR/tls/http.keytab), realm -> NetBIOS domain map
	 * ("CORP.EXAMPLE = CORP, ..."), replay cache (NULL: DATADIR/tls/
	 * krb5.rcache). */
	bool cf_serversync_anonymous;
	char *cf_krb_keytab;
	char *cf_krb_realm_map;
	char *cf_krb_rcache;
	/* PEM file of the CAs whose client certificates identify downstream
	 * servers on ServerSyncWebService (absolute; NULL: no certificate is
	 * requested). docs/CHAINING.md. */
	char *cf_serversync_client_ca;
	/* CAs of administrators' client certificates on ApiRemoting30;
	 * NULL: serversync_client_ca's (absolute path). */
	char *cf_admin_client_ca;
	/* Downstream synchronization (docs/CHAINING.md): the client keytab
	 * its Negotiate uses (absolute, NULL: the environment's cache) and
	 * the times of day (minutes after local midnight) of scheduled
	 * synchronizations, ascending; none: manual only. */
	char *cf_sync_keytab;
	/* The FQDN this server names itself with to its upstream (NULL:
	 * server_name); the upstream checks it against the account that
	 * authenticated (ds1.corp.example for CORP\DS1$). */
	char *cf_sync_account_name;
	/* WSUS's "Use a proxy server when synchronizing": an http:// URL,
	 * NULL for none; never the environment's (SECURITY.md S4). */
	char *cf_sync_proxy;
	char *cf_sync_schedule;
	unsigned cf_nsync_times;
	uint16_t cf_sync_times[CONFIG_MAX_SYNC_TIMES];
	char *cf_tls_cert; /* absolute path: leaf certificate + chain */
	char *cf_tls_key;  /* absolute path: private key, mode 0600 */
	unsigned cf_workers;
	unsigned cf_max_connections;
	unsigned cf_max_connections_per_ip;
	unsigned cf_header_timeout;
	unsigned cf_body_timeout;
	unsigned cf_idle_timeout;
	unsigned cf_handshake_timeout;
	unsigned cf_send_timeout;
	unsigned cf_shutdown_timeout;
	/* Seconds a client's server cookie (GetCookie) is valid; then the
	 * client is told CookieExpired and asks again (WUSP.md). */
	unsigned cf_cookie_lifetime;
	/* New computers one address may register (wusp/reg_limit.h):
	 * a minute's refill (0: no limit) and the burst. */
	unsigned cf_registrations_per_minute;
	unsigned cf_registration_burst;
	uint64_t cf_max_body[VROOT_COUNT];
	char *cf_access_log; /* absolute path, "-" for stdout, NULL when off */
	/* Administration (docs/ADMIN.md): absolute paths; no socket (NULL)
	 * with admin_socket = off. */
	char *cf_admin_socket;
	char *cf_audit_log;
	/* The account wsusd serves as once its ports are bound (--user or
	 * user =; NULL: stay as started). Read at start only: a reload
	 * that names another one is refused. docs/SECURITY.md. */
	char *cf_user;
	enum log_level cf_log_level;
};

/* Command-line values that win over wsusd.conf. */
struct config_overrides {
	int port; /* 0 = not given */
	unsigned nlisten;
	const char *listen[WSD_MAX_LISTEN];
	const char *user; /* NULL = not given */
};

/*
 * Reads DATADIR/wsusd.conf (absent is fine: all defaults) and returns a
 * new config in *out. On error logs "FILE:LINE: key: problem" and fails.
 */
int config_load(const char *datadir, const struct config_overrides *ov,
    struct config **out, struct wsd_err *err) WSD_MUST_CHECK;
void config_free(struct config *cf);

/* The guide's port rule: 443 -> 80, any other N -> N-1. 0 if none. */
uint16_t config_http_port_for(uint16_t https_port);

/* True when a certificate is installed (SSL configured). */
bool config_tls_configured(const struct config *cf);

/*
 * Sets KEY = VALUE in the file at PATH, replacing the key's line or
 * appending one, keeping every other line. Atomic: temp file, fsync,
 * rename. Used by wsusutil.
 */
int config_file_set(const char *path, const char *key, const char *value,
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
