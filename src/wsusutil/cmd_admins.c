/*
 * wsusutil admins list [--json] | add NAME ROLE | remove NAME: who may
 * administer this server through the admin socket and ApiRemoting30
 * (SECURITY.md S6), kept in DIR/admins (auth/admin_roles.h).
 *
 * NAME is user:NAME, group:NAME or cert:DOMAIN\name; ROLE is reporter,
 * approver or administrator. Both are checked before anything is read
 * or created. One edit at a time (an flock on DIR); the file is read,
 * edited as text (comments and order kept), checked to read back, and
 * replaced atomically (common/fileio.h: temporary file in DIR, fsync,
 * rename), mode 0640, owned as before (a new file: as DIR). A broken
 * file is never edited: the refusal names its line. wsusd reads the file
 * on every admin call, so there is nothing to reload.
 */
#include "wsusutil/wsusutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/admin_roles.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/log.h"
#include "config/config.h"

#define CMD "admins"

/* Waiting for another wsusutil editing the file: 100 tries, 50 ms. */
#define ADMINS_LOCK_TRIES 100

static const char *const kind_names[] = { "user", "group", "cert",
	"kerberos" };

static const char new_file_head[] =
    "# Who may administer wsusd (wsusutil admins add|remove; "
    "auth/admin_roles.h).\n"
    "# ROLE NAME: ROLE is reporter, approver or administrator; NAME is\n"
    "# user:NAME, group:NAME, cert:DOMAIN\\name or "
    "kerberos:DOMAIN\\name.\n"
    "# Root and the owner of this directory are always "
    "administrators.\n";

static int
usage(void)
{
	fprintf(stderr,
	    "usage: wsusutil admins list [--json] | add NAME ROLE | "
	    "remove NAME\n"
	    "       NAME: user:NAME, group:NAME, cert:DOMAIN\\name or "
	    "kerberos:DOMAIN\\name\n"
	    "       ROLE: reporter, approver or administrator\n");
	return 2;
}

static int
bad_name(const char *name)
{
	const char *why = admin_principal_invalid(name);

	fprintf(stderr, "wsusutil: " CMD ": bad name \"%s\": %s\n", name,
	    why != NULL ? why : "malformed");
	return 1;
}


/* The owner of DATADIR by name ("uid 1234" without one) into OUT. */
static void
dir_owner(const char *datadir, char *out, size_t n)
{
	struct passwd *pw;
	struct stat st;

	if (stat(datadir, &st) < 0) {
		snprintf(out, n, "?");
		return;
	}
	if ((pw = getpwuid(st.st_uid)) != NULL)
		snprintf(out, n, "%s", pw->pw_name);
	else
		snprintf(out, n, "uid %lu", (unsigned long)st.st_uid);
}

static int
list(const char *datadir, const char *path, bool json)
{
	struct admin_roles *r = NULL;
	unsigned long line;
	struct wsd_err err;
	char owner[64];

	if (admin_roles_load(datadir, &r, &line, &err) < 0)
		return wsusutil_load_fail(CMD, path, line, &err);
	dir_owner(datadir, owner, sizeof(owner));
	if (json) {
		printf("{\"file\":");
		json_str(stdout, path);
		printf(",\"rules\":[");
		for (size_t i = 0; i < r->n; i++) {
			printf("%s{\"role\":\"%s\",\"kind\":\"%s\",\"name\":",
			    i > 0 ? "," : "",
			    admin_role_name(r->rules[i].ar_role),
			    kind_names[r->rules[i].ar_kind]);
			json_str(stdout, r->rules[i].ar_name);
			printf("}");
		}
		printf("],\"always_administrators\":[\"root\",");
		json_str(stdout, owner);
		printf("]}\n");
		admin_roles_free(r);
		return 0;
	}
	if (r->n == 0)
		printf("no rules in %s: only the two below may administer "
		       "this server\n",
		    path);
	for (size_t i = 0; i < r->n; i++)
		printf("%-13s %s:%s\n", admin_role_name(r->rules[i].ar_role),
		    kind_names[r->rules[i].ar_kind], r->rules[i].ar_name);
	printf("note: root and %s (the owner of %s) are always "
	       "administrators\n",
	    owner, datadir);
	admin_roles_free(r);
	return 0;
}

/* An exclusive flock on DIRFD, waiting up to 5 s. */
static int
lock_dir(int dirfd)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };

	for (int i = 0; flock(dirfd, LOCK_EX | LOCK_NB) < 0; i++) {
		if ((errno != EWOULDBLOCK && errno != EINTR) ||
		    i >= ADMINS_LOCK_TRIES) {
			if (errno != EWOULDBLOCK)
				log_warn("%s: lock", CMD);
			return wsusutil_fail(CMD,
			    "another wsusutil is editing the list");
		}
		nanosleep(&pause, NULL);
	}
	return 0;
}

/*
 * The edit: RULE set (ROLE != ROLE_NONE) or removed. Under the lock,
 * from reading the file to renaming the new one over it.
 */
static int
edit(const char *datadir, const char *path, const struct admin_rule *rule,
    const char *name)
{
	struct fileio_owner owner = { .fo_best_effort = true };
	struct admin_roles *cur = NULL;
	char *text = NULL, *out = NULL;
	size_t len = 0;
	unsigned long line;
	struct wsd_err err;
	struct stat st;
	bool exists;
	int dirfd, rc = 1;

	dirfd = open(datadir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		log_warn("%s", datadir);
		return wsusutil_fail(CMD, "cannot open the data directory");
	}
	if (lock_dir(dirfd) != 0)
		goto out;
	exists =
	    !(fstatat(dirfd, ADMIN_ROLES_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
		errno == ENOENT);
	if (exists) {
		if (fileio_read_small(path, ADMIN_ROLES_MAX_FILE, &text, &len,
			&st, &err) < 0) {
			wsusutil_load_fail(CMD, path, 0, &err);
			goto out;
		}
		owner.fo_uid = st.st_uid;
		owner.fo_gid = st.st_gid;
	} else {
		if (rule->ar_role == ROLE_NONE) {
			fprintf(stderr,
			    "wsusutil: " CMD ": %s is not listed (no %s)\n",
			    name, path);
			goto out;
		}
		if ((text = strdup(new_file_head)) == NULL) {
			wsusutil_fail(CMD, "out of memory");
			goto out;
		}
		len = strlen(text);
		if (fstat(dirfd, &st) == 0) {
			owner.fo_uid = st.st_uid;
			owner.fo_gid = st.st_gid;
		} else {
			owner.fo_uid = getuid();
			owner.fo_gid = getgid();
		}
	}
	/* A broken file is reported with its line, never edited. */
	if (admin_roles_parse(text, len, &cur, &line, &err) < 0) {
		wsusutil_load_fail(CMD, path, line, &err);
		fprintf(stderr, "wsusutil: " CMD ": %s unchanged\n", path);
		goto out;
	}
	admin_roles_free(cur);
	if (rule->ar_role == ROLE_NONE)
		rc = admin_roles_edit_remove(text, len, rule->ar_kind,
		    rule->ar_name, &out, &err);
	else
		rc = admin_roles_edit_set(text, len, rule, &out, &err);
	if (rc < 0) {
		fprintf(stderr, "wsusutil: " CMD ": %s: %s; %s unchanged\n",
		    name, rc == WSD_ENOTFOUND ? "not listed" : err.what, path);
		rc = 1;
		goto out;
	}
	if (exists && strlen(out) == len && memcmp(out, text, len) == 0) {
		printf("%s is already %s: %s unchanged\n", name,
		    admin_role_name(rule->ar_role), path);
		rc = 0;
		goto out;
	}
	if (fileio_write_atomic(dirfd, ADMIN_ROLES_FILE, out, strlen(out), 0640,
		&owner, 0, &err) < 0) {
		fprintf(stderr, "wsusutil: " CMD ": %s: %s; unchanged\n", path,
		    err.what);
		rc = 1;
		goto out;
	}
	if (rule->ar_role == ROLE_NONE)
		printf("%s removed: %s written\n", name, path);
	else
		printf("%s is %s: %s written\n", name,
		    admin_role_name(rule->ar_role), path);
	rc = 0;
out:
	free(out);
	free(text);
	close(dirfd); /* releases the lock */
	return rc;
}

int
cmd_admins(const char *datadir, int argc, char **argv)
{
	struct admin_rule rule;
	struct config *cf;
	struct wsd_err err;
	char path[4096];
	bool json = false;
	int rc;

	memset(&rule, 0, sizeof(rule));
	if (argc < 2)
		return usage();
	/* Everything checked before anything is read or created. */
	if (strcmp(argv[1], "list") == 0) {
		if (argc == 3 && strcmp(argv[2], "--json") == 0)
			json = true;
		else if (argc != 2)
			return usage();
	} else if (strcmp(argv[1], "add") == 0) {
		if (argc != 4)
			return usage();
		if (admin_principal_parse(argv[2], &rule) < 0)
			return bad_name(argv[2]);
		if ((rule.ar_role = admin_role_parse(argv[3])) == ROLE_NONE) {
			fprintf(stderr,
			    "wsusutil: " CMD ": bad role \"%s\": reporter, "
			    "approver or administrator\n",
			    argv[3]);
			return 1;
		}
	} else if (strcmp(argv[1], "remove") == 0) {
		if (argc != 3)
			return usage();
		if (admin_principal_parse(argv[2], &rule) < 0)
			return bad_name(argv[2]);
		rule.ar_role = ROLE_NONE;
	} else {
		return usage();
	}
	if (config_load(datadir, NULL, &cf, &err) < 0)
		return wsusutil_fail(CMD, err.what);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", cf->cf_datadir,
		ADMIN_ROLES_FILE) >= sizeof(path)) {
		config_free(cf);
		return wsusutil_fail(CMD, "data directory path too long");
	}
	if (strcmp(argv[1], "list") == 0)
		rc = list(cf->cf_datadir, path, json);
	else
		rc = edit(cf->cf_datadir, path, &rule, argv[2]);
	config_free(cf);
	return rc;
}
