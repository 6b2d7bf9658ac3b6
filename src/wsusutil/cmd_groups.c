/* wsusutil groups add|remove|list: computer target groups. */
#include "wsusutil/wsusutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "store/store.h"

struct list_ctx {
	bool json;
	unsigned n;
};

static int
print_group(void *arg, const struct store_group_row *g)
{
	struct list_ctx *lc = arg;

	if (!lc->json) {
		printf("%s  %-30s  parent: %-22s  computers: %u%s\n",
		    g->group_id, g->name, g->parent[0] ? g->parent : "-",
		    g->n_computers, g->builtin ? "  (built-in)" : "");
		return 0;
	}
	printf("%s\n  {\"id\": ", lc->n++ ? "," : "");
	json_str(stdout, g->group_id);
	printf(", \"name\": ");
	json_str(stdout, g->name);
	printf(", \"parent\": ");
	json_str(stdout, g->parent);
	printf(", \"builtin\": %s, \"computers\": %u}",
	    g->builtin ? "true" : "false", g->n_computers);
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: wsusutil groups add NAME [--parent NAME]\n"
			"       wsusutil groups remove NAME\n"
			"       wsusutil groups list [--json]\n");
	return 2;
}

int
cmd_groups(const char *datadir, int argc, char **argv)
{
	struct store *st;
	struct wsd_err err;
	int rc;

	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "add") == 0) {
		const char *parent = NULL;
		char id[37];

		if (argc == 5 && strcmp(argv[3], "--parent") == 0)
			parent = argv[4];
		else if (argc != 3)
			return usage();
		if (wsusutil_open_store("groups", datadir, &st) < 0)
			return 1;
		if (wsusutil_replica_refuses("groups add", st)) {
			store_close(st);
			return 1;
		}
		rc = store_group_add(st, argv[2], parent, id, &err);
		if (rc == 0)
			(void)!store_event_add(st, "group-add", argv[2],
			    "computer group added", &err);
		store_close(st);
		if (rc < 0)
			return wsusutil_fail("groups add", err.what);
		printf("group '%s' added: %s\n", argv[2], id);
		return 0;
	}
	if (strcmp(argv[1], "remove") == 0) {
		if (argc != 3)
			return usage();
		if (wsusutil_open_store("groups", datadir, &st) < 0)
			return 1;
		if (wsusutil_replica_refuses("groups remove", st)) {
			store_close(st);
			return 1;
		}
		rc = store_group_remove(st, argv[2], &err);
		if (rc == 0)
			(void)!store_event_add(st, "group-remove", argv[2],
			    "computer group removed", &err);
		store_close(st);
		if (rc < 0)
			return wsusutil_fail("groups remove", err.what);
		printf("group '%s' removed\n", argv[2]);
		return 0;
	}
	if (strcmp(argv[1], "list") == 0) {
		struct list_ctx lc = { 0 };

		if (argc == 3 && strcmp(argv[2], "--json") == 0)
			lc.json = true;
		else if (argc != 2)
			return usage();
		if (wsusutil_open_store("groups", datadir, &st) < 0)
			return 1;
		if (lc.json)
			printf("[");
		rc = store_groups_list(st, print_group, &lc, &err);
		store_close(st);
		if (lc.json)
			printf("\n]\n");
		if (rc < 0)
			return wsusutil_fail("groups list", err.what);
		return 0;
	}
	return usage();
}
