/* wsusutil computers list|move. */
#include "wsusutil/wsusutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "catalog/status.h"
#include "common/json.h"
#include "store/store.h"

struct list_ctx {
	bool json;
	unsigned n;
	struct store *st;
};

static int
print_computer(void *arg, const struct store_computer_row *c)
{
	struct list_ctx *lc = arg;
	unsigned k[STATUS_COUNT_SLOTS];
	struct wsd_err err;

	/* Status counts as WSUS's computer view shows them. */
	if (wsusutil_status_counts(lc->st, c->computer_id, k, &err) < 0)
		memset(k, 0, sizeof(k));
	if (!lc->json) {
		printf("%s  %-40s  groups: %s  last contact: %s  installed: %u"
		       "  needed: %u  failed: %u\n",
		    c->computer_id, c->dns_name[0] ? c->dns_name : "-",
		    c->groups, c->last_sync[0] ? c->last_sync : "never",
		    k[STATUS_INSTALLED] + k[STATUS_INSTALLED_PENDING_REBOOT],
		    k[STATUS_NEEDED] + k[STATUS_DOWNLOADED], k[STATUS_FAILED]);
		return 0;
	}
	printf("%s\n  {\"id\": ", lc->n++ ? "," : "");
	json_str(stdout, c->computer_id);
	printf(", \"name\": ");
	json_str(stdout, c->dns_name);
	printf(", \"groups\": ");
	json_str(stdout, c->groups);
	printf(", \"last_sync\": ");
	json_str(stdout, c->last_sync);
	printf(", \"os\": ");
	json_str(stdout, c->os_description);
	printf(", \"manufacturer\": ");
	json_str(stdout, c->manufacturer);
	printf(", \"model\": ");
	json_str(stdout, c->model);
	printf(", \"installed\": %u, \"needed\": %u, \"failed\": %u, "
	       "\"not_applicable\": %u, \"unknown\": %u}",
	    k[STATUS_INSTALLED] + k[STATUS_INSTALLED_PENDING_REBOOT],
	    k[STATUS_NEEDED] + k[STATUS_DOWNLOADED], k[STATUS_FAILED],
	    k[STATUS_NOT_APPLICABLE], k[STATUS_UNKNOWN]);
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: wsusutil computers list [--json]\n"
			"       wsusutil computers move COMPUTER GROUP\n");
	return 2;
}

int
cmd_computers(const char *datadir, int argc, char **argv)
{
	struct store *st;
	struct wsd_err err;
	int rc;

	if (argc >= 2 && strcmp(argv[1], "list") == 0) {
		struct list_ctx lc = { 0 };

		if (argc == 3 && strcmp(argv[2], "--json") == 0)
			lc.json = true;
		else if (argc != 2)
			return usage();
		if (wsusutil_open_store("computers", datadir, &st) < 0)
			return 1;
		lc.st = st;
		if (lc.json)
			printf("[");
		rc = store_computers_list(st, print_computer, &lc, &err);
		store_close(st);
		if (lc.json)
			printf("\n]\n");
		return rc < 0 ? wsusutil_fail("computers list", err.what) : 0;
	}
	if (argc == 4 && strcmp(argv[1], "move") == 0) {
		if (wsusutil_open_store("computers", datadir, &st) < 0)
			return 1;
		rc = store_computer_move(st, argv[2], argv[3], &err);
		if (rc == 0)
			(void)!store_event_add(st, "computer-move", argv[2],
			    argv[3], &err);
		store_close(st);
		if (rc < 0)
			return wsusutil_fail("computers move", err.what);
		printf("computer '%s' moved to '%s'\n", argv[2], argv[3]);
		return 0;
	}
	return usage();
}
