/*
 * The local administration socket (docs/ADMIN.md; SECURITY.md S6):
 * wsusutil run by someone who does not own the data directory reaches
 * the running server here. The kernel says who is calling (SO_PEERCRED);
 * root and the data directory's owner are administrators, anyone else
 * has the role DIR/admins gives their user or groups, read again for
 * every request. One request per connection (admin_proto.h); at most
 * ADMIN_SOCKET_MAX_CALLS run at once.
 */
#ifndef WSUSD_WSUSD_ADMIN_SOCKET_H
#define WSUSD_WSUSD_ADMIN_SOCKET_H

#include "common/wsd_err.h"
#include "config/config.h"

#define ADMIN_SOCKET_MAX_CALLS 4
/* A request must have arrived whole within this. */
#define ADMIN_SOCKET_READ_SECS 10

struct admin_socket;

/*
 * Listens on CF's admin_socket path (none when it is off: *OUT NULL,
 * 0), mode 0666 (the roles decide, not the mode), replacing a stale
 * socket but never another kind of file, and serves it on a thread of
 * its own.
 */
int admin_socket_start(const struct config *cf, struct admin_socket **out,
    struct wsd_err *err) WSD_MUST_CHECK;
/* After a reload: the audit log and port of CF apply to the next
 * request (the socket path itself is kept until a restart). */
void admin_socket_update(struct admin_socket *as, const struct config *cf);
/* Stops accepting and removes the socket; calls in flight finish. */
void admin_socket_stop(struct admin_socket *as);

#endif
