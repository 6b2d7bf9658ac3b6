#include "wsusd/privilege.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "common/log.h"

/*
 * getpwnam_r's buffer. glibc asks for 1 KiB (_SC_GETPW_R_SIZE_MAX); 16
 * KiB leaves room for long GECOS fields and NSS modules. A bigger entry
 * is refused (ERANGE) rather than grown: it is a system account.
 */
#define PRIV_PWBUF 16384

/* The highest capability number we try to drop from the bounding set:
 * CAP_LAST_CAP is 40 on Linux 6.x; 63 covers kernels newer than the
 * headers (PR_CAPBSET_READ answers EINVAL past the last one). */
#define PRIV_MAX_CAP 63

int
privilege_harden(struct wsd_err *err)
{
	static const struct rlimit zero = { 0, 0 };
	struct rlimit cur;

	/* systemd's LimitCORE=0 already did it, and a unit that filters
	 * @resources would kill us for asking again. */
	if (getrlimit(RLIMIT_CORE, &cur) < 0 || cur.rlim_cur != 0 ||
	    cur.rlim_max != 0) {
		if (setrlimit(RLIMIT_CORE, &zero) < 0) {
			log_warn("setrlimit RLIMIT_CORE 0");
			return wsd_fail(err, WSD_EIO,
			    "cannot turn core dumps off");
		}
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		log_warn("prctl PR_SET_DUMPABLE 0");
		return wsd_fail(err, WSD_EIO, "cannot make wsusd non-dumpable");
	}
	return 0;
}

static int
lookup_user(const char *user, struct privilege *pv, struct wsd_err *err)
{
	static char buf[PRIV_PWBUF]; /* main thread only, at start */
	struct passwd pw, *res = NULL;
	int rc;

	rc = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (rc != 0) {
		errno = rc;
		log_warn("user %s: cannot look it up", user);
		return wsd_fail(err, WSD_EIO, "cannot look up the user");
	}
	if (res == NULL) {
		log_warnx("user %s: no such user; create it (useradd --system "
			  "--home-dir DIR --shell /usr/sbin/nologin %s) or "
			  "name another with --user or user = in wsusd.conf",
		    user, user);
		return wsd_fail(err, WSD_ENOTFOUND, "no such user");
	}
	if (pw.pw_uid == 0) {
		log_warnx("user %s: has uid 0; name an unprivileged account",
		    user);
		return wsd_fail(err, WSD_EPERM, "user is root");
	}
	snprintf(pv->pv_user, sizeof(pv->pv_user), "%s", user);
	pv->pv_uid = pw.pw_uid;
	pv->pv_gid = pw.pw_gid;
	return 0;
}

int
privilege_prepare(const char *user, const char *datadir, struct privilege *pv,
    struct wsd_err *err)
{
	struct stat st;
	int rc;

	memset(pv, 0, sizeof(*pv));
	if (user == NULL) {
		pv->pv_keep = geteuid() == 0;
		if (pv->pv_keep)
			log_warnx(
			    "running as root: start wsusd with --user "
			    "NAME (or user = NAME in wsusd.conf) to serve "
			    "as that account once its ports are bound "
			    "(docs/SECURITY.md S18)");
		return 0;
	}
	if ((rc = lookup_user(user, pv, err)) < 0)
		return rc;
	if (geteuid() == 0) {
		pv->pv_switch = true;
	} else if (geteuid() != pv->pv_uid) {
		log_warnx("user %s: only root can become another user "
			  "(running as uid %lu)",
		    user, (unsigned long)geteuid());
		return wsd_fail(err, WSD_EPERM, "cannot switch user");
	}
	/* The account must own what it will write; we never chown. */
	if (stat(datadir, &st) < 0) {
		log_warn("%s", datadir);
		return wsd_fail(err, WSD_EIO, "cannot inspect data directory");
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("%s: not a directory", datadir);
		return wsd_fail(err, WSD_EINVAL,
		    "data directory not a directory");
	}
	if (st.st_uid != pv->pv_uid) {
		log_warnx("%s is owned by uid %lu, not by %s (uid %lu); "
			  "refusing to start: chown -R %s: %s",
		    datadir, (unsigned long)st.st_uid, user,
		    (unsigned long)pv->pv_uid, user, datadir);
		return wsd_fail(err, WSD_EPERM,
		    "data directory not owned by the user");
	}
	return 0;
}

/* Empties the bounding set, so nothing exec'd can regain a capability
 * even without no_new_privs. Needs CAP_SETPCAP: only as root. It does
 * not touch the permitted set. */
static void
drop_bounding(void)
{
	for (int c = 0; c <= PRIV_MAX_CAP; c++) {
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) < 0)
			break; /* past the kernel's last capability */
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			/* A container without CAP_SETPCAP: the capset and
			 * no_new_privs still hold. */
			log_debug("cannot empty the capability bounding set: "
				  "%s",
			    strerror(errno));
			return;
		}
	}
}

/*
 * Limits this thread's permitted and effective sets to KEEP (a mask of
 * capabilities 0-31) and what it already has, and empties the
 * inheritable and ambient sets; then reads them back. The raw syscalls
 * keep libcap out of the dependencies.
 */
static int
limit_caps(uint32_t keep, struct wsd_err *err)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	/* EINVAL on kernels before 4.3, which have no ambient set. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL) {
		log_warn("prctl PR_CAP_AMBIENT_CLEAR_ALL");
		return wsd_fail(err, WSD_EIO,
		    "cannot clear ambient capabilities");
	}
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) < 0) {
		log_warn("capget");
		return wsd_fail(err, WSD_EIO, "cannot read capabilities");
	}
	data[0].permitted &= keep;
	data[0].effective = data[0].permitted;
	data[0].inheritable = 0;
	memset(&data[1], 0, sizeof(data) - sizeof(data[0]));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	hdr.pid = 0;
	if (syscall(SYS_capset, &hdr, data) < 0) {
		log_warn("capset");
		return wsd_fail(err, WSD_EIO, "cannot drop capabilities");
	}
	memset(data, 0xff, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0) {
		log_warn("capget");
		return wsd_fail(err, WSD_EIO, "cannot read capabilities");
	}
	for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		uint32_t allowed = i == 0 ? keep : 0;

		if ((data[i].permitted & ~allowed) != 0 ||
		    (data[i].effective & ~allowed) != 0 ||
		    data[i].inheritable != 0) {
			log_warnx("capabilities left after dropping them");
			return wsd_fail(err, WSD_EINTERNAL,
			    "capabilities not dropped");
		}
	}
	return 0;
}

static int
switch_user(const struct privilege *pv, struct wsd_err *err)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	int rc;

	drop_bounding();
	/* Keep the permitted set across setresuid for the one capability
	 * runtime_build still needs; limit_caps trims the rest at once. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
		log_warn("prctl PR_SET_KEEPCAPS");
		return wsd_fail(err, WSD_EIO, "cannot keep capabilities");
	}
	if (setgroups(0, NULL) < 0) {
		log_warn("setgroups");
		return wsd_fail(err, WSD_EIO,
		    "cannot drop supplementary groups");
	}
	if (setresgid(pv->pv_gid, pv->pv_gid, pv->pv_gid) < 0) {
		log_warn("setresgid %lu", (unsigned long)pv->pv_gid);
		return wsd_fail(err, WSD_EIO, "cannot change group");
	}
	if (setresuid(pv->pv_uid, pv->pv_uid, pv->pv_uid) < 0) {
		log_warn("setresuid %lu", (unsigned long)pv->pv_uid);
		return wsd_fail(err, WSD_EIO, "cannot change user");
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) {
		log_warn("prctl PR_SET_KEEPCAPS");
		return wsd_fail(err, WSD_EIO, "cannot clear keep-capabilities");
	}
	if ((rc = limit_caps(UINT32_C(1) << CAP_NET_BIND_SERVICE, err)) < 0)
		return rc;
	/* Trust nothing: read every id back, and root must be gone. */
	if (getresuid(&r, &e, &s) < 0 || r != pv->pv_uid || e != pv->pv_uid ||
	    s != pv->pv_uid || getresgid(&rg, &eg, &sg) < 0 ||
	    rg != pv->pv_gid || eg != pv->pv_gid || sg != pv->pv_gid ||
	    getgroups(0, NULL) != 0) {
		log_warnx("user %s: ids not what was asked for after the "
			  "switch",
		    pv->pv_user);
		return wsd_fail(err, WSD_EINTERNAL, "user switch did not take");
	}
	if (setuid(0) == 0 || setgid(0) == 0) {
		log_warnx("user %s: could become root again after the switch",
		    pv->pv_user);
		return wsd_fail(err, WSD_EINTERNAL, "root could be regained");
	}
	return 0;
}

int
privilege_switch(struct privilege *pv, struct wsd_err *err)
{
	if (pv->pv_keep)
		return 0;
	if (pv->pv_switch)
		return switch_user(pv, err);
	return limit_caps(UINT32_C(1) << CAP_NET_BIND_SERVICE, err);
}

int
privilege_drop(struct privilege *pv, struct wsd_err *err)
{
	int rc;

	if (!pv->pv_keep && (rc = limit_caps(0, err)) < 0)
		return rc;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		log_warn("prctl PR_SET_NO_NEW_PRIVS");
		return wsd_fail(err, WSD_EIO, "cannot set no_new_privs");
	}
	/* A uid change resets it to fs.suid_dumpable: set it again. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) {
		log_warn("prctl PR_SET_DUMPABLE 0");
		return wsd_fail(err, WSD_EIO, "cannot make wsusd non-dumpable");
	}
	pv->pv_dropped = !pv->pv_keep;
	if (pv->pv_switch)
		log_info("serving as %s (uid %lu, gid %lu), no capabilities",
		    pv->pv_user, (unsigned long)pv->pv_uid,
		    (unsigned long)pv->pv_gid);
	else if (pv->pv_dropped)
		log_info("serving as uid %lu, no capabilities",
		    (unsigned long)geteuid());
	return 0;
}

bool
privilege_same_user(const struct privilege *pv, const char *user)
{
	if (user == NULL)
		return pv->pv_user[0] == '\0';
	return strcmp(pv->pv_user, user) == 0;
}
