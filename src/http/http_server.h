/*
 * The HTTP server: worker threads, each with its own epoll loop, sharing
 * the listening sockets (EPOLLEXCLUSIVE), as nginx's workers do.
 *
 * A struct srv_runtime is one configuration generation: config, TLS
 * context, listeners, content directory and access log. It is
 * reference-counted: each worker holds the current one, and each
 * connection holds the one its request started under, so SIGHUP swaps in
 * a new generation without touching requests in flight. The main thread
 * owns the listening sockets' lifetime (srv_publish closes the ones a new
 * generation dropped only after every worker has let go of them).
 */
#ifndef WSUSD_HTTP_HTTP_SERVER_H
#define WSUSD_HTTP_HTTP_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>

#include <openssl/ssl.h>

#include "common/wsd_err.h"
#include "common/wsd_limits.h"
#include "auth/negotiate.h"
#include "config/config.h"
#include "cookie/cookie.h"
#include "net/listen.h"

struct authz_list;
struct tls_ca;

struct srv_runtime {
	atomic_int rt_refs;
	struct config *rt_cf; /* owned */
	SSL_CTX *rt_ssl;      /* owned reference; NULL without TLS */
	/* admin_client_ca: ApiRemoting30's CAs (owned); NULL: rt_ssl's. */
	struct tls_ca *rt_admin_ca;
	bool rt_tls;          /* SSL configured: the five roots need it */
	int rt_content_fd;    /* DATADIR/content, O_DIRECTORY; -1 if none */
	int rt_selfupdate_fd; /* DATADIR/selfupdate; -1 if none */
	int rt_access_fd;     /* O_APPEND; -1 when off; 1 for stdout */
	struct cookie_keys rt_cookies; /* cookie keys, loaded per generation */
	/* ServerSyncWebService (docs/CHAINING.md): the authorization list
	 * (never NULL once built: no file is an empty list), the Kerberos
	 * acceptor (NULL without a keytab: no one can authenticate), the
	 * realm map. Read-only once built. */
	struct authz_list *rt_authz;
	struct negotiate_server *rt_negotiate;
	struct negotiate_realm_map rt_realm_map;
	unsigned rt_nlisten;
	/* Listening sockets are closed by srv_publish/srv_stop, never by
	 * freeing a runtime: a new generation may carry the same fds on. */
	struct listener rt_listen[2 * WSD_MAX_LISTEN];
};

struct srv;

/* Takes one reference. */
void srv_runtime_ref(struct srv_runtime *rt);
/* Drops one reference; the last frees everything the runtime owns. */
void srv_runtime_unref(struct srv_runtime *rt);

/* Starts NWORKERS threads serving RT; takes over the caller's reference. */
int srv_start(struct srv_runtime *rt, unsigned nworkers, struct srv **out,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Makes NEWRT current (takes over the caller's reference), waits until
 * every worker has switched, then closes listening sockets that NEWRT
 * does not have. The old generation lives on in its connections.
 */
void srv_publish(struct srv *s, struct srv_runtime *newrt);

/* The current generation (borrowed: valid until the next srv_publish). */
struct srv_runtime *srv_current(struct srv *s);

/*
 * Graceful stop: stop accepting, let requests in flight finish for up to
 * GRACE seconds, close idle connections, join the workers, free all.
 */
void srv_stop(struct srv *s, unsigned grace);

#endif
