/* wsusutil approve and decline. */
#include "wsusutil/wsusutil.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/encode.h"
#include "store/store.h"

int
cmd_approve(const char *datadir, int argc, char **argv)
{
	const char *update = NULL, *group = NULL, *deadline = NULL;
	const char *action = "Install";
	struct store *st;
	struct wsd_err err;
	char msg[256];
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--group") == 0 && i + 1 < argc)
			group = argv[++i];
		else if (strcmp(argv[i], "--deadline") == 0 && i + 1 < argc)
			deadline = argv[++i];
		else if (strcmp(argv[i], "--action") == 0 && i + 1 < argc) {
			const char *a = argv[++i];

			if (strcasecmp(a, "install") == 0)
				action = "Install";
			else if (strcasecmp(a, "uninstall") == 0)
				action = "Uninstall";
			else if (strcasecmp(a, "notapproved") == 0)
				action = "NotApproved";
			else
				return wsusutil_fail("approve",
				    "--action must be install, uninstall or "
				    "notapproved");
		} else if (argv[i][0] != '-' && update == NULL)
			update = argv[i];
		else {
			fprintf(stderr, "usage: wsusutil approve UPDATEID "
					"--group NAME [--action install|"
					"uninstall|notapproved] [--deadline "
					"ISO-8601]\n");
			return 2;
		}
	}
	if (update == NULL || group == NULL) {
		fprintf(stderr, "usage: wsusutil approve UPDATEID --group NAME "
				"[--action ...] [--deadline ...]\n");
		return 2;
	}
	if (wsusutil_open_store("approve", datadir, &st) < 0)
		return 1;
	if (wsusutil_replica_refuses("approve", st)) {
		store_close(st);
		return 1;
	}
	if ((rc = store_begin(st, &err)) == 0) {
		rc = store_approval_set(st, update, group, action, deadline,
		    "wsusutil", &err);
		snprintf(msg, sizeof(msg), "%s for %s%s%s", action, group,
		    deadline ? ", deadline " : "", deadline ? deadline : "");
		if (rc == 0)
			rc = store_event_add(st, "approve", update, msg, &err);
		if (rc == 0)
			rc = store_commit(st, &err);
		else
			store_rollback(st);
	}
	store_close(st);
	if (rc < 0)
		return wsusutil_fail("approve", err.what);
	printf("update %s: %s\n", update, msg);
	return 0;
}

int
cmd_decline(const char *datadir, int argc, char **argv)
{
	struct store *st;
	struct wsd_err err;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: wsusutil decline UPDATEID\n");
		return 2;
	}
	if (wsusutil_open_store("decline", datadir, &st) < 0)
		return 1;
	if (wsusutil_replica_refuses("decline", st)) {
		store_close(st);
		return 1;
	}
	if ((rc = store_begin(st, &err)) == 0) {
		rc = store_update_decline(st, argv[1], &err);
		if (rc == 0)
			rc = store_event_add(st, "decline", argv[1],
			    "declined; approvals removed", &err);
		if (rc == 0)
			rc = store_commit(st, &err);
		else
			store_rollback(st);
	}
	store_close(st);
	if (rc < 0)
		return wsusutil_fail("decline", err.what);
	printf("update %s declined\n", argv[1]);
	return 0;
}
