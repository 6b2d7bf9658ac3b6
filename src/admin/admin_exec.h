/*
 * Runs one wsusutil command for an authenticated administrator of a
 * running server (docs/ADMIN.md; SECURITY.md S6): the role check, the
 * audit line written before anything happens, then the wsusutil binary
 * next to wsusd run as wsusd itself on the server's data directory, its
 * output relayed as admin_proto frames. Used by the admin socket
 * (admin_socket.c) and by ApiRemoting30 (http/handler_admin.c).
 */
#ifndef WSUSD_ADMIN_ADMIN_EXEC_H
#define WSUSD_ADMIN_ADMIN_EXEC_H

#include <stdbool.h>

#include "auth/admin_roles.h"
#include "common/admin_proto.h"
#include "common/wsd_err.h"

/* Longest a command may run before it is killed (sync --wait included). */
#define ADMIN_EXEC_TIMEOUT_SECS 3600
/* wsusutil, --data, DIR, the command (ADMIN_MAX_ARGS), NULL. */
#define ADMIN_ARGV_MAX (ADMIN_MAX_ARGS + 4)

/* What of the server's configuration a command needs. */
struct admin_site {
	const char *datadir;
	const char *audit_log;
	unsigned https_port;
};

struct admin_caller {
	const char *principal; /* "alice", "uid:1001", "CORP\ops1" */
	enum admin_role role;
	const char *via;       /* "socket", "remote" */
	const char *peer;      /* "uid:1001 pid:77", "127.0.0.1" */
};

/* Finds the wsusutil binary beside this executable. Call once at start,
 * before dropping privileges. */
void admin_exec_init(void);

/*
 * Runs ARGV[0..ARGC) (argv[0] the command) for CALLER on SITE's data
 * directory, handing every output frame to SINK (channel 'o' or 'e').
 * *STATUS is the exit status to report: the command's, or 77 when the
 * role does not allow the command or it names local files, 75 when the
 * audit line cannot be written (nothing runs then), 70 when wsusutil
 * cannot be started. *DENIED is set for the first two. Returns 0, or < 0
 * when SINK failed (the caller's connection is gone).
 */
int admin_exec(const struct admin_site *site,
    const struct admin_caller *caller,
    int argc, char *const *argv,
    int (*sink)(void *arg, char chan, const void *p, size_t n), void *arg,
    int *status, bool *denied);

#endif
