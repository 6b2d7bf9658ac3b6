/*
 * wsusutil run as root works as the data directory's owner (SECURITY.md
 * S17): whatever it creates there belongs to the account wsusd serves
 * as, and root never follows a link that account may have planted.
 */
#include "wsusutil/wsusutil.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ERRNO 0: a check failed rather than a call. */
static void
refuse(const char *datadir, const char *what)
{
	fprintf(stderr,
	    "wsusutil: %s: cannot switch to the data directory's "
	    "owner (%s%s%s); refusing to work on it as root\n",
	    datadir, what, errno != 0 ? ": " : "",
	    errno != 0 ? strerror(errno) : "");
	exit(1);
}

void
wsusutil_as_owner(const char *datadir)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	struct stat st;

	/* Not root, no directory yet (testca makes it), or root's own:
	 * nothing to change. */
	if (geteuid() != 0 || stat(datadir, &st) < 0 || st.st_uid == 0)
		return;
	if (setgroups(0, NULL) < 0)
		refuse(datadir, "setgroups");
	if (setgid(st.st_gid) < 0)
		refuse(datadir, "setgid");
	if (setuid(st.st_uid) < 0)
		refuse(datadir, "setuid");
	errno = 0;
	if (getresuid(&r, &e, &s) < 0 || r != st.st_uid || e != st.st_uid ||
	    s != st.st_uid)
		refuse(datadir, "user ids not changed");
	if (getresgid(&rg, &eg, &sg) < 0 || rg != st.st_gid ||
	    eg != st.st_gid || sg != st.st_gid || getgroups(0, NULL) != 0)
		refuse(datadir, "group ids not changed");
	if (setuid(0) == 0) {
		errno = 0;
		refuse(datadir, "root could be regained");
	}
}
