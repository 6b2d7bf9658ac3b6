/*
 * wsusutil computers list|move|delete. The list shows this server's own
 * computers and, after them, the computers downstream servers rolled up
 * (MS-WSUSSS reporting rollup, store_rollup.h), each with the downstream
 * server it reports through ("via").
 */
#include "wsusutil/wsusutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/status.h"
#include "common/json.h"
#include "store/store.h"
#include "store/store_rollup.h"

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
	printf(", \"via\": \"\", \"via_server_id\": \"\"");
	printf(", \"installed\": %u, \"needed\": %u, \"failed\": %u, "
	       "\"not_applicable\": %u, \"unknown\": %u}",
	    k[STATUS_INSTALLED] + k[STATUS_INSTALLED_PENDING_REBOOT],
	    k[STATUS_NEEDED] + k[STATUS_DOWNLOADED], k[STATUS_FAILED],
	    k[STATUS_NOT_APPLICABLE], k[STATUS_UNKNOWN]);
	return 0;
}

/* SummarizationState (MS-WSUSSS) as the status names reports use; 6,
 * installed pending reboot, stays distinct as for our own clients. */
static enum update_status
state_status(int32_t state)
{
	static const enum update_status map[] = { STATUS_UNKNOWN,
		STATUS_NOT_APPLICABLE, STATUS_NEEDED, STATUS_DOWNLOADED,
		STATUS_INSTALLED, STATUS_FAILED,
		STATUS_INSTALLED_PENDING_REBOOT };

	return state >= 0 && state <= 6 ? map[state] : STATUS_UNKNOWN;
}

struct rcount {
	struct {
		char id[37];
		int32_t state;
	} *v;
	size_t n, cap;
	unsigned *k;
	bool reported;
};

static int
rstat_cb(void *arg, const struct store_rollup_status *r)
{
	struct rcount *rc = arg;

	if (rc->n == rc->cap) {
		size_t cap = rc->cap ? rc->cap * 2 : 64;
		void *v = realloc(rc->v, cap * sizeof(*rc->v));

		if (v == NULL)
			return 1;
		rc->v = v;
		rc->cap = cap;
	}
	snprintf(rc->v[rc->n].id, 37, "%s", r->update_id);
	rc->v[rc->n].state = r->state;
	rc->n++;
	return 0;
}

/* Rows come ordered by update id: a binary search per update. */
static int
rupd_cb(void *arg, const struct store_update_row *u)
{
	struct rcount *rc = arg;
	size_t lo = 0, hi = rc->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(rc->v[mid].id, u->update_id);

		if (c == 0) {
			rc->k[state_status(rc->v[mid].state)]++;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	rc->k[rc->reported ? STATUS_NOT_APPLICABLE : STATUS_UNKNOWN]++;
	return 0;
}

static int
rollup_counts(struct store *st, const char *computer_id, bool reported,
    unsigned k[STATUS_COUNT_SLOTS], struct wsd_err *err)
{
	struct store_update_filter f = { 0 };
	struct rcount rc = { .k = k, .reported = reported };
	int r;

	memset(k, 0, STATUS_COUNT_SLOTS * sizeof(k[0]));
	if ((r = store_rollup_status_each(st, computer_id, rstat_cb, &rc,
		 err)) == 0)
		r = store_updates_list(st, &f, rupd_cb, &rc, err);
	free(rc.v);
	return r;
}

/* A rolled-up computer: status counts from what its server sent. */
static int
print_rollup(void *arg, const struct store_rollup_computer_row *r)
{
	struct list_ctx *lc = arg;
	const struct store_rollup_computer *c = &r->c;
	const char *via = r->via_name[0] ? r->via_name : c->parent_server_id;
	unsigned k[STATUS_COUNT_SLOTS];
	struct wsd_err err;

	if (rollup_counts(lc->st, c->computer_id,
		r->last_detection_time[0] != '\0' || r->n_status > 0, k,
		&err) < 0)
		memset(k, 0, sizeof(k));
	if (!lc->json) {
		printf("%s  %-40s  via: %s  last contact: %s  installed: %u"
		       "  needed: %u  failed: %u\n",
		    c->computer_id,
		    c->full_domain_name[0] ? c->full_domain_name : "-", via,
		    c->last_sync_time[0] ? c->last_sync_time : "never",
		    k[STATUS_INSTALLED] + k[STATUS_INSTALLED_PENDING_REBOOT],
		    k[STATUS_NEEDED] + k[STATUS_DOWNLOADED], k[STATUS_FAILED]);
		return 0;
	}
	printf("%s\n  {\"id\": ", lc->n++ ? "," : "");
	json_str(stdout, c->computer_id);
	printf(", \"name\": ");
	json_str(stdout, c->full_domain_name);
	printf(", \"groups\": \"\", \"last_sync\": ");
	json_str(stdout, c->last_sync_time);
	printf(", \"os\": ");
	json_str(stdout, c->os_description);
	printf(", \"manufacturer\": ");
	json_str(stdout, c->manufacturer);
	printf(", \"model\": ");
	json_str(stdout, c->model);
	printf(", \"via\": ");
	json_str(stdout, via);
	printf(", \"via_server_id\": ");
	json_str(stdout, c->parent_server_id);
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
			"       wsusutil computers move COMPUTER GROUP\n"
			"       wsusutil computers delete COMPUTER\n");
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
		if (rc == 0)
			rc = store_rollup_computers_each(st, print_rollup, &lc,
			    &err);
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
	if (argc == 3 && strcmp(argv[1], "delete") == 0) {
		char id[37] = "";

		if (wsusutil_open_store("computers", datadir, &st) < 0)
			return 1;
		rc = store_computer_delete(st, argv[2], id, &err);
		if (rc == 0)
			(void)!store_event_add(st, "computer-delete", id,
			    argv[2], &err);
		store_close(st);
		if (rc < 0) {
			fprintf(stderr, "wsusutil: computers delete: %s: %s\n",
			    argv[2], err.what);
			return 1;
		}
		/* As WSUS: it reappears when it next registers, under a new
		 * cookie; the ones it holds now are refused. */
		printf("computer '%s' (%s) deleted; the cookies it holds are "
		       "revoked\n",
		    argv[2], id);
		return 0;
	}
	return usage();
}
