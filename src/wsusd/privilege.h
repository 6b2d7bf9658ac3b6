/*
 * What wsusd may do once its ports are bound (SECURITY.md S17, S18).
 *
 * privilege_harden() runs first: no core file, not dumpable, so no key
 * ever reaches a dump or a ptrace peer of the same uid. Then, in order:
 *
 *   privilege_prepare()  as started: resolves the service user (the
 *                        "user" key or --user) and refuses a data
 *                        directory that account does not own;
 *   privilege_switch()   before touching the data directory: started
 *                        as root, becomes the user, keeping only
 *                        CAP_NET_BIND_SERVICE; started as the user (with
 *                        that capability from systemd), keeps only it;
 *   runtime_build()      database, keys, content, and the listeners
 *                        (ports below 1024 need the capability);
 *   privilege_drop()     before any thread starts and before one
 *                        network byte is read: no capability at all,
 *                        no_new_privs, and each step checked.
 *
 * So everything created in the data directory belongs to the user, and
 * the listening ports open only once wsusd is ready (the order every
 * client and test relies on). Nothing is ever chowned: a compromised
 * wsusd could have planted links for root to follow.
 *
 * Started as root without a user, wsusd keeps running as root, with a
 * warning, and keeps its capabilities (it only sets no_new_privs).
 */
#ifndef WSUSD_WSUSD_PRIVILEGE_H
#define WSUSD_WSUSD_PRIVILEGE_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/wsd_err.h"

struct privilege {
	char pv_user[64]; /* "" = no user: stay as started */
	uid_t pv_uid;
	gid_t pv_gid;    /* the user's primary group */
	bool pv_switch;  /* started as root: setresuid to pv_uid */
	bool pv_keep;    /* root without a user: keep capabilities */
	bool pv_dropped; /* privilege_drop() done: no capabilities left */
};

/* Core dumps off (RLIMIT_CORE 0) and PR_SET_DUMPABLE 0. */
int privilege_harden(struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Resolves USER (NULL: none) and checks DATADIR is a directory it owns,
 * logging the problem and the fix ("chown -R USER: DIR"). Started as
 * root without USER: logs once that wsusd runs as root.
 */
int privilege_prepare(const char *user, const char *datadir,
    struct privilege *pv, struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Started as root with a user: drops the bounding set, then setgroups/
 * setresgid/setresuid to the user keeping CAP_NET_BIND_SERVICE only (if
 * the kernel let root have it). Started as another user: every other
 * capability goes. Root without a user: nothing. Each step is verified.
 */
int privilege_switch(struct privilege *pv, struct wsd_err *err) WSD_MUST_CHECK;

/*
 * After binding, before any thread starts (capabilities are per thread)
 * and before reading one network byte: no capabilities (unless root
 * without a user), no new privileges, not dumpable; verified. Any
 * failure is an error: the caller must not go on serving.
 */
int privilege_drop(struct privilege *pv, struct wsd_err *err) WSD_MUST_CHECK;

/* True when USER (NULL: none) is the user PV was prepared with. */
bool privilege_same_user(const struct privilege *pv, const char *user);

#endif
