/* wsusutil updates list|approvals: the catalog. */
#include "wsusutil/wsusutil.h"

#include <inttypes.h>
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
print_update(void *arg, const struct store_update_row *u)
{
	struct list_ctx *lc = arg;

	if (!lc->json) {
		printf("%s  rev %-4d %-9s %-22s %s%s%s%s\n", u->update_id,
		    u->revision_number, u->update_type,
		    u->classification[0] ? u->classification :
		    u->category_type[0] ? u->category_type : "-",
		    u->title, u->kb_article[0] ? " (KB" : "",
		    u->kb_article, u->kb_article[0] ? ")" : "");
		if (u->declined)
			printf("    declined\n");
		lc->n++;
		return 0;
	}
	printf("%s\n  {\"update_id\": ", lc->n++ ? "," : "");
	json_str(stdout, u->update_id);
	printf(", \"revision\": %d, \"revision_id\": %" PRId64
	       ", \"type\": ",
	    u->revision_number, u->revision_id);
	json_str(stdout, u->update_type);
	printf(", \"category_type\": ");
	json_str(stdout, u->category_type);
	printf(", \"title\": ");
	json_str(stdout, u->title);
	printf(", \"kb\": ");
	json_str(stdout, u->kb_article);
	printf(", \"msrc_severity\": ");
	json_str(stdout, u->msrc_severity);
	printf(", \"classification\": ");
	json_str(stdout, u->classification);
	printf(", \"product\": ");
	json_str(stdout, u->product);
	printf(", \"origin\": ");
	json_str(stdout, u->origin);
	printf(", \"declined\": %s, \"files\": %u, \"bytes\": %" PRIu64
	       ", \"superseded_by\": %u}",
	    u->declined ? "true" : "false", u->n_files, u->bytes,
	    u->n_superseded_by);
	return 0;
}

static int
print_approval(void *arg, const struct store_approval_row *a)
{
	struct list_ctx *lc = arg;

	if (!lc->json) {
		printf("%s  %-30s %-12s %s\n", a->update_id, a->group,
		    a->action, a->deadline[0] ? a->deadline : "-");
		return 0;
	}
	printf("%s\n  {\"update_id\": ", lc->n++ ? "," : "");
	json_str(stdout, a->update_id);
	printf(", \"group\": ");
	json_str(stdout, a->group);
	printf(", \"action\": ");
	json_str(stdout, a->action);
	printf(", \"deadline\": ");
	json_str(stdout, a->deadline);
	printf(", \"created\": ");
	json_str(stdout, a->created);
	printf("}");
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: wsusutil updates list [--classification C] "
			"[--product P] [--declined] [--categories] [--json]\n"
			"       wsusutil updates approvals [UPDATEID] "
			"[--json]\n");
	return 2;
}

/* C is a category GUID or title of TYPE. */
static int
resolve(struct store *st, const char *type, const char *c, char out[37])
{
	struct wsd_err err;

	if (store_category_find(st, type, c, out, &err) < 0) {
		fprintf(stderr, "wsusutil: updates list: unknown %s '%s'\n",
		    strcmp(type, "Product") == 0 ? "product" : "classification",
		    c);
		return -1;
	}
	return 0;
}

int
cmd_updates(const char *datadir, int argc, char **argv)
{
	struct store_update_filter f = { 0 };
	const char *cls = NULL, *prod = NULL, *update = NULL;
	struct list_ctx lc = { 0 };
	char cls_id[37], prod_id[37];
	bool approvals;
	struct store *st;
	struct wsd_err err;
	int rc;

	if (argc < 2)
		return usage();
	approvals = strcmp(argv[1], "approvals") == 0;
	if (!approvals && strcmp(argv[1], "list") != 0)
		return usage();
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			lc.json = true;
		else if (!approvals && strcmp(argv[i], "--classification") ==
		    0 && i + 1 < argc)
			cls = argv[++i];
		else if (!approvals && strcmp(argv[i], "--product") == 0 &&
		    i + 1 < argc)
			prod = argv[++i];
		else if (!approvals && strcmp(argv[i], "--declined") == 0)
			f.include_declined = true;
		else if (!approvals && strcmp(argv[i], "--categories") == 0)
			f.update_type = "Category";
		else if (approvals && argv[i][0] != '-' && update == NULL)
			update = argv[i];
		else
			return usage();
	}
	if (wsusutil_open_store("updates", datadir, &st) < 0)
		return 1;
	if ((cls && resolve(st, "UpdateClassification", cls, cls_id) < 0) ||
	    (prod && resolve(st, "Product", prod, prod_id) < 0)) {
		store_close(st);
		return 1;
	}
	f.classification = cls ? cls_id : NULL;
	f.product = prod ? prod_id : NULL;
	if (lc.json)
		printf("[");
	if (approvals)
		rc = store_approvals_list(st, update, print_approval, &lc,
		    &err);
	else
		rc = store_updates_list(st, &f, print_update, &lc, &err);
	store_close(st);
	if (lc.json)
		printf("\n]\n");
	if (rc < 0)
		return wsusutil_fail("updates", err.what);
	return 0;
}
