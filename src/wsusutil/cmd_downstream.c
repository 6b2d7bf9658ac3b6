/*
 * wsusutil downstream list | allow NAME | deny NAME | remove NAME: the
 * list of downstream servers that may synchronize from this one, kept in
 * DIR/ServerSyncWebService/web.config in the ASP.NET <authorization>
 * format the WSUS guide uses (auth/authz.h, docs/CHAINING.md).
 *
 * NAME is DOMAIN\computer (a machine account is DOMAIN\computer$), "*"
 * (everyone) or "?" (anonymous). The edits, their placement rules and
 * the rewrite are authz.h's; here: checking NAME before anything is
 * touched, one edit at a time (authz_lock), and telling the operator
 * what changed and that a running wsusd needs SIGHUP to apply it.
 *
 * wsusutil downstream servers: the downstream servers that asked for
 * authorization (GetAuthorizationCookie), with the name each gave.
 */
#include "wsusutil/wsusutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth/authz.h"
#include "common/sbuf.h"
#include "config/config.h"
#include "store/store.h"
#include "store/store_sss.h"

#define CMD "downstream"

static int
usage(void)
{
	fprintf(stderr,
	    "usage: wsusutil downstream list | allow NAME | "
	    "deny NAME | remove NAME | servers\n"
	    "       NAME: DOMAIN\\computer$ (machine account), "
	    "DOMAIN\\name, * (everyone) or ? (anonymous)\n");
	return 2;
}

/* Prints the rules, one per line, or what "no rule" means here. */
static int
print_list(const struct authz_list *l)
{
	struct sbuf sb;

	if (l->al_nrules == 0) {
		printf("no rules (%s): every authenticated downstream server "
		       "is admitted\n",
		    l->al_source == AUTHZ_NO_FILE ? "no " AUTHZ_WEBCONFIG
			: l->al_source == AUTHZ_NO_SECTION
			? AUTHZ_WEBCONFIG " has no <authorization>"
			: "<authorization> is empty");
		return 0;
	}
	for (size_t i = 0; i < l->al_nrules; i++) {
		sbuf_init(&sb, 4 * 1024 * 1024);
		if (authz_rule_text(&l->al_rules[i], &sb) < 0)
			return wsusutil_fail(CMD, "out of memory");
		printf("%zu %s\n", i + 1, sbuf_str(&sb));
		sbuf_release(&sb);
	}
	/* The classic mistake: "deny *" above the allows. */
	for (size_t i = 0; i + 1 < l->al_nrules; i++) {
		const struct authz_rule *r = &l->al_rules[i];
		bool all = false;

		for (size_t k = 0; k < r->ar_users.an_n; k++)
			all |= strcmp(r->ar_users.an_v[k], "*") == 0;
		if (all && r->ar_verbs.an_n == 0) {
			printf("note: rule %zu matches everyone: the rules "
			       "after it never apply\n",
			    i + 1);
			break;
		}
	}
	return 0;
}


static int
run_edit(const char *datadir, const char *path, const char *op,
    const char *name)
{
	struct authz_list *l = NULL;
	unsigned long line;
	struct wsd_err err;
	bool changed;
	int fd, rc;

	if ((rc = authz_lock(datadir, &fd, &err)) < 0)
		return wsusutil_fail(CMD, err.what);
	if ((rc = authz_load_file(path, &l, &line, &err)) < 0) {
		close(fd);
		return wsusutil_load_fail(CMD, path, line, &err);
	}
	if (strcmp(op, "allow") == 0)
		rc = authz_allow_name(l, name, &changed, &err);
	else if (strcmp(op, "deny") == 0)
		rc = authz_deny_name(l, name, &changed, &err);
	else
		rc = authz_remove_name(l, name, &changed, &err);
	if (rc < 0) {
		fprintf(stderr, "wsusutil: " CMD ": %s %s: %s; %s unchanged\n",
		    op, name, err.what, path);
		goto out;
	}
	if (!changed) {
		printf("%s is already %sed: %s unchanged\n", name,
		    strcmp(op, "allow") == 0 ? "allow" : "deni", path);
		goto out;
	}
	if ((rc = authz_write(path, l, &err)) < 0) {
		fprintf(stderr, "wsusutil: " CMD ": %s: %s\n", path, err.what);
		goto out;
	}
	printf("%s %s: %s written\n", name,
	    strcmp(op, "allow") == 0      ? "allowed"
		: strcmp(op, "deny") == 0 ? "denied"
					  : "removed",
	    path);
	if ((rc = print_list(l)) == 0)
		printf("send SIGHUP to a running wsusd to apply it (systemctl "
		       "reload wsusd)\n");
out:
	authz_free(l);
	close(fd);
	return rc < 0 ? 1 : rc;
}

static int
seen_cb(void *arg, const struct store_sss_dss_row *r)
{
	unsigned *n = arg;

	if ((*n)++ == 0)
		printf("downstream servers seen (GetAuthorizationCookie; the "
		       "name is what each one said):\n");
	printf("  %s  %s  first %s  last %s\n", r->server_id, r->fqdn,
	    r->first_seen, r->last_seen);
	return 0;
}

/* The downstream servers that asked for authorization so far. */
static int
print_seen(const char *datadir)
{
	struct store *st;
	struct wsd_err err;
	unsigned n = 0;
	int rc;

	if (wsusutil_open_store(CMD, datadir, &st) < 0)
		return 1;
	rc = store_sss_dss_list(st, seen_cb, &n, &err);
	store_close(st);
	if (rc < 0)
		return wsusutil_fail(CMD, err.what);
	if (n == 0)
		printf("no downstream server has asked for authorization yet\n");
	return 0;
}

int
cmd_downstream(const char *datadir, int argc, char **argv)
{
	struct authz_list *l = NULL;
	struct config *cf;
	struct wsd_err err;
	unsigned long line;
	struct sbuf path;
	const char *why;
	int rc;

	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "servers") == 0) {
		if (argc != 2)
			return usage();
		return print_seen(datadir);
	}
	if (strcmp(argv[1], "list") == 0) {
		if (argc != 2)
			return usage();
	} else if (strcmp(argv[1], "allow") == 0 ||
	    strcmp(argv[1], "deny") == 0 || strcmp(argv[1], "remove") == 0) {
		if (argc != 3)
			return usage();
		/* Before anything is read or created. */
		if ((why = authz_name_invalid(argv[2])) != NULL) {
			fprintf(stderr,
			    "wsusutil: " CMD ": bad name \"%s\": %s\n", argv[2],
			    why);
			return 1;
		}
	} else {
		return usage();
	}
	if (config_load(datadir, NULL, &cf, &err) < 0)
		return wsusutil_fail(CMD, err.what);
	sbuf_init(&path, 4096);
	if (sbuf_addf(&path, "%s/%s", cf->cf_datadir, AUTHZ_WEBCONFIG) < 0) {
		config_free(cf);
		return wsusutil_fail(CMD, "data directory path too long");
	}
	if (strcmp(argv[1], "list") == 0) {
		if (authz_load_file(sbuf_str(&path), &l, &line, &err) < 0)
			rc = wsusutil_load_fail(CMD, sbuf_str(&path), line,
			    &err);
		else
			rc = print_list(l);
		authz_free(l);
	} else {
		rc =
		    run_edit(cf->cf_datadir, sbuf_str(&path), argv[1], argv[2]);
	}
	sbuf_release(&path);
	config_free(cf);
	return rc;
}
