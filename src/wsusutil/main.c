/* wsusutil: the administrator's command line, as on Windows. */
#include "wsusutil/wsusutil.h"

#include "store/store.h"
#include "store/store_upstream.h"
#include "wsusutil/admin_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "auth/admin_roles.h"
#include "common/audit.h"
#include "common/log.h"
#include "config/config.h"
#include "store/store.h"

static const struct wsusutil_cmd cmds[] = {
	{ "testca", cmd_testca, "[--rsa] [--days N] [--out PREFIX] NAME...",
	    "make a local test CA and a server certificate for NAMEs" },
	{ "configuressl", cmd_configuressl,
	    "CERTIFICATENAME [--cert PEM --key PEM [--chain PEM]]",
	    "check and install the TLS certificate; set the server name" },
	{ "checkhealth", cmd_checkhealth, "[--port N] [--content]",
	    "check listeners, certificate, database and content store" },
	{ "groups", cmd_groups, "add NAME [--parent NAME] | remove NAME | "
				"list [--json]",
	    "computer target groups" },
	{ "computers", cmd_computers,
	    "list [--json] | move COMPUTER GROUP | delete COMPUTER",
	    "computers and their groups" },
	{ "approve", cmd_approve,
	    "UPDATEID --group NAME [--action install|uninstall|notapproved] "
	    "[--deadline ISO-8601]",
	    "approve an update for a group (children inherit it)" },
	{ "decline", cmd_decline, "UPDATEID",
	    "decline an update: its approvals go, it is never offered" },
	{ "updates", cmd_updates,
	    "list [--classification C] [--product P] [--declined] "
	    "[--categories] [--json] | approvals [UPDATEID] [--json]",
	    "the catalog" },
	{ "publish", cmd_publish,
	    "FILE... --title T --product P --classification C [--kb N] "
	    "[--severity S] [--description D] [--supersedes ID]... "
	    "[--prerequisite ID]... [--applicability FILE] [--arguments A] "
	    "[--vendor V] | --driver HWID... --driver-date D --driver-version V "
	    "[--driver-class C] [--driver-provider P] ... (docs/DRIVERS.md)",
	    "sign packages and publish them as a Software or Driver update" },
	{ "publishingcert", cmd_publishingcert,
	    "create [--subject CN] [--days N] [--force] | export FILE [--der]",
	    "the certificate published packages are signed with" },
	{ "reset", cmd_reset, "",
	    "re-check every content file; quarantine and re-queue bad ones" },
	{ "cleanup", cmd_cleanup,
	    "[--superseded] [--expired] [--obsolete-revisions] "
	    "[--unneeded-content] [--computers-inactive DAYS]",
	    "the Server Cleanup Wizard (no option: all but computers)" },
	{ "cookiekey", cmd_cookiekey, "rotate",
	    "new cookie key; the previous one stays valid for one rotation" },
	{ "report", cmd_report,
	    "[--computer NAME] [--update ID] [--json] | events [--last N] "
	    "[--computer NAME|ID] [--json]",
	    "update status per computer, from what the computers reported" },
	{ "deleteunneededrevisions", cmd_deleteunneededrevisions, "",
	    "delete revisions that are not the latest" },
	{ "export", cmd_export, "PACKAGE LOGFILE [--with-approvals] [--with-content]", "export the catalog (WSUS's wsusutil export)" },
	{ "import", cmd_import, "PACKAGE LOGFILE", "import a package made by export; refuses anything that does not verify" },
	{ "downstream", cmd_downstream, "list | allow NAME | deny NAME | remove NAME | servers",
	    "downstream servers allowed to synchronize (docs/CHAINING.md)" },
	{ "upstream", cmd_upstream,
	    "set URL [--replica | --autonomous] [--ca FILE] [--no-ssl] "
	    "[--client-cert FILE [--client-key FILE]] | show",
	    "the server this one synchronizes from (docs/CHAINING.md)" },
	{ "admins", cmd_admins, "list [--json] | add NAME ROLE | remove NAME",
	    "who may administer this server (NAME: user:X, group:X, "
	    "cert:DOMAIN\\name, kerberos:DOMAIN\\name; docs/ADMIN.md)" },
	{ "sync", cmd_sync, "[--wait] [--metadata-only] | status [--json]",
	    "synchronize from the upstream server now, or show how it went" },
};

int
wsusutil_port_override(const char *cmd, const char *arg,
    struct config_overrides *ov)
{
	const char *port = arg != NULL ? arg : getenv("WSUSD_PORT");
	char *end;
	long v;

	if (port == NULL || *port == '\0')
		return 0;
	v = strtol(port, &end, 10);
	if (*end != '\0' || v < 2 || v > 65535) {
		fprintf(stderr, "wsusutil: %s: bad port %s (expected 2-65535)\n",
		    cmd, port);
		return -1;
	}
	ov->port = (int)v;
	return 0;
}

int
wsusutil_load_fail(const char *cmd, const char *path, unsigned long line,
    const struct wsd_err *err)
{
	if (line > 0)
		fprintf(stderr, "wsusutil: %s: %s:%lu: %s\n", cmd, path, line,
		    err->what);
	else
		fprintf(stderr, "wsusutil: %s: %s: %s\n", cmd, path,
		    err->what);
	return 1;
}

int
wsusutil_fail(const char *cmd, const char *what)
{
	fprintf(stderr, "wsusutil: %s: %s\n", cmd, what);
	return 1;
}

int
wsusutil_open_store(const char *cmd, const char *datadir, struct store **out)
{
	struct wsd_err err;
	struct config *cf;
	int rc;

	/* Through config_load: it resolves DATADIR and checks wsusd.conf. */
	if (config_load(datadir, NULL, &cf, &err) < 0) {
		wsusutil_fail(cmd, err.what);
		return -1;
	}
	rc = store_open(out, cf->cf_datadir, &err);
	config_free(cf);
	if (rc < 0) {
		wsusutil_fail(cmd, err.what);
		return -1;
	}
	return 0;
}

int
wsusutil_replica_refuses(const char *cmd, struct store *st)
{
	struct store_upstream up;
	struct wsd_err err;

	if (store_upstream_get(st, &up, &err) < 0 || !up.replica)
		return 0;
	fprintf(stderr,
	    "wsusutil: %s: this server is a replica of %s: its groups, "
	    "approvals and declines come from there (change them on the "
	    "upstream, or `wsusutil upstream set URL --autonomous`)\n",
	    cmd, up.url);
	return 1;
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: wsusutil [--data DIR] [--socket PATH] COMMAND "
		    "[ARGS]\n"
		    "       wsusutil --server https://HOST:PORT --cert PEM "
		    "[--key PEM] [--ca PEM] COMMAND [ARGS]\n"
		    "       wsusutil --server https://HOST:PORT --negotiate "
		    "[--ca PEM] COMMAND [ARGS]\n"
		    "       (DIR defaults to $WSUSD_DATA; someone who does not "
		    "own DIR goes\n"
		    "       through the running server's admin socket, "
		    "DIR/admin.sock or\n"
		    "       $WSUSD_ADMIN_SOCKET; --server administers a remote "
		    "server with an\n"
		    "       administrator's certificate or Kerberos ticket: "
		    "docs/ADMIN.md)\n"
		    "\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(fp, "  %s %s\n      %s\n", cmds[i].name, cmds[i].usage,
		    cmds[i].help);
}

/*
 * Who is running this, for the audit log: the login name of the real
 * uid, and the sudo caller behind root ("root (sudo alice)").
 */
static void
principal_name(char *out, size_t n)
{
	struct passwd pw, *res = NULL;
	const char *sudo = getenv("SUDO_USER");
	char buf[4096];

	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL)
		snprintf(out, n, "%s", pw.pw_name);
	else
		snprintf(out, n, "uid:%ld", (long)getuid());
	if (getuid() == 0 && sudo != NULL && *sudo != '\0' &&
	    strlen(out) + strlen(sudo) + 8 < n) {
		strcat(out, " (sudo ");
		strcat(out, sudo);
		strcat(out, ")");
	}
}

/*
 * Where the audit lines of a change made directly on the data (root or
 * the owner) go: DATADIR's audit_log, into OUT; false when none is due.
 * Reading commands are not logged, nor commands the server ran for
 * someone (it wrote the lines), nor a data directory without a readable
 * configuration yet.
 */
static bool
direct_audit_log(const char *datadir, int argc, char **argv, char *out,
    size_t n)
{
	struct wsd_err err;
	struct config *cf;

	if (admin_cmd_role(argc, argv) <= ROLE_REPORTER ||
	    getenv("WSUSUTIL_AUDITED") != NULL ||
	    config_load(datadir, NULL, &cf, &err) < 0)
		return false;
	snprintf(out, n, "%s", cf->cf_audit_log);
	config_free(cf);
	return true;
}

/*
 * One audit line to LOG: "allowed" before the command runs (STATUS < 0) —
 * when it cannot be written nothing runs (SECURITY.md S6), -1 after
 * saying so — or "result" after it.
 */
static int
audit_direct(const char *log, const char *principal, int argc, char **argv,
    int status)
{
	struct audit_entry e;
	struct wsd_err err;

	memset(&e, 0, sizeof(e));
	e.event = status < 0 ? "allowed" : "result";
	e.exit_status = status;
	e.principal = principal;
	e.role = admin_role_name(ROLE_ADMINISTRATOR);
	e.via = "local";
	e.argc = argc;
	e.argv = argv;
	if (audit_append(log, &e, &err) == 0)
		return 0;
	if (status < 0) {
		fprintf(stderr, "wsusutil: %s: refused: cannot write the audit "
				"log %s (%s), so no change is made\n",
		    argv[0], log, err.what);
		return -1;
	}
	fprintf(stderr, "wsusutil: %s: warning: the audit log %s: %s\n",
	    argv[0], log, err.what);
	return 0;
}

/* Whether the caller must go through the running server: not root, and
 * DATADIR exists but is another's (or out of reach: not ours either). */
static bool
not_owner(const char *datadir)
{
	struct stat st;

	if (getuid() == 0)
		return false;
	if (stat(datadir, &st) < 0)
		return errno == EACCES;
	return st.st_uid != getuid();
}

int
main(int argc, char **argv)
{
	const char *datadir = getenv("WSUSD_DATA");
	const char *sock = getenv("WSUSD_ADMIN_SOCKET");
	struct admin_remote remote = { NULL, NULL, NULL, NULL, false };
	bool use_socket = false;
	char principal[160], sockpath[4200], auditlog[4096];
	bool audited;
	int i = 1, rc;

	log_set_prefix("wsusutil");
	/* libxml2 2.9 must be set up before any thread parses. */
	xmlInitParser();
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
			datadir = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			sock = argv[i + 1];
			use_socket = true;
			i += 2;
		} else if (strcmp(argv[i], "--server") == 0 && i + 1 < argc) {
			remote.url = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc) {
			remote.cert = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
			remote.key = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc) {
			remote.ca = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--negotiate") == 0) {
			remote.negotiate = true;
			i++;
		} else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("wsusutil %s\n", WSUSD_VERSION);
			return 0;
		} else {
			fprintf(stderr, "wsusutil: unknown option %s\n",
			    argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		/* Windows wsusutil is case-insensitive: ConfigureSSL works. */
		if (strcasecmp(argv[i], cmds[c].name) != 0)
			continue;
		if (remote.url != NULL)
			return admin_client_remote(&remote, argc - i, argv + i);
		if (use_socket) /* --socket: no data directory needed */
			return admin_client_socket(sock, argc - i, argv + i);
		if (datadir == NULL || *datadir == '\0') {
			fprintf(stderr, "wsusutil: no data directory: pass "
					"--data DIR or set WSUSD_DATA\n");
			return 2;
		}
		if (not_owner(datadir)) {
			if (sock == NULL || *sock == '\0') {
				snprintf(sockpath, sizeof(sockpath),
				    "%s/admin.sock", datadir);
				sock = sockpath;
			}
			return admin_client_socket(sock, argc - i, argv + i);
		}
		principal_name(principal, sizeof(principal));
		/* configuressl reads a key root alone may read, and gives
		 * what it installs to the directory's owner itself
		 * (cmd_configuressl.c); every other command becomes the
		 * owner first. */
		if (strcasecmp(cmds[c].name, "configuressl") != 0)
			wsusutil_as_owner(datadir);
		audited = direct_audit_log(datadir, argc - i, argv + i,
		    auditlog, sizeof(auditlog));
		if (audited && audit_direct(auditlog, principal, argc - i,
				   argv + i, -1) < 0)
			return 1;
		rc = cmds[c].run(datadir, argc - i, argv + i);
		if (audited)
			(void)audit_direct(auditlog, principal, argc - i,
			    argv + i, rc);
		return rc;
	}
	fprintf(stderr, "wsusutil: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
