/* wsusutil: the administrator's command line, as on Windows. */
#include "wsusutil/wsusutil.h"

#include "store/store.h"
#include "store/store_upstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

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
	{ "computers", cmd_computers, "list [--json] | move COMPUTER GROUP",
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
	{ "report", cmd_report, "[--computer NAME] [--update ID] [--json]",
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
	fprintf(fp, "usage: wsusutil [--data DIR] COMMAND [ARGS]\n"
		    "       (DIR defaults to $WSUSD_DATA)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(fp, "  %s %s\n      %s\n", cmds[i].name, cmds[i].usage,
		    cmds[i].help);
}

int
main(int argc, char **argv)
{
	const char *datadir = getenv("WSUSD_DATA");
	int i = 1;

	log_set_prefix("wsusutil");
	/* libxml2 2.9 must be set up before any thread parses. */
	xmlInitParser();
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
			datadir = argv[i + 1];
			i += 2;
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
		if (datadir == NULL || *datadir == '\0') {
			fprintf(stderr, "wsusutil: no data directory: pass "
					"--data DIR or set WSUSD_DATA\n");
			return 2;
		}
		return cmds[c].run(datadir, argc - i, argv + i);
	}
	fprintf(stderr, "wsusutil: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
