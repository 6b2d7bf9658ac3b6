/*
 * wsusutil report: per-(computer, update) status as WSUS's reports show
 * it (Installed, Needed, Downloaded, Failed, NotApplicable, Unknown),
 * derived from the events each computer reported (catalog/status.h).
 * Computers downstream servers rolled up (MS-WSUSSS, store_rollup.h)
 * follow, their status as their server summarised it: SummarizationState
 * 0..6 maps to Unknown, NotApplicable, Needed, Downloaded, Installed,
 * Failed, InstalledPendingReboot; an update their server did not name is
 * NotApplicable once the computer reported status, else Unknown. JSON
 * rows carry "via" (the downstream server's name, "" for our own
 * computers) and "via_server_id".
 */
#include "wsusutil/wsusutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/status.h"
#include "common/encode.h"
#include "common/json.h"
#include "store/store.h"
#include "store/store_rollup.h"

struct upd {
	char id[37];
	char title[256];
};

struct comp {
	char id[37];
	char dns[256];
	char last[32];
	bool rolled;     /* rolled up by a downstream server */
	bool reported;   /* rolled up: it reported status */
	char via[256];   /* rolled up: its server's name or id */
	char via_id[37];
};

/* A rolled-up computer's status rows, ordered by update id. */
struct rrow {
	char id[37];
	int32_t state;
};

struct vec {
	void *v;
	size_t n, cap, size;
};

static void *
vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		void *nv = realloc(v->v, cap * v->size);

		if (nv == NULL)
			return NULL;
		v->v = nv;
		v->cap = cap;
	}
	return (char *)v->v + v->size * v->n++;
}

static int
upd_cb(void *arg, const struct store_update_row *r)
{
	struct upd *u = vec_push(arg);

	if (u == NULL)
		return 1;
	snprintf(u->id, sizeof(u->id), "%s", r->update_id);
	snprintf(u->title, sizeof(u->title), "%s", r->title);
	return 0;
}

static int
comp_cb(void *arg, const struct store_computer_row *r)
{
	struct comp *c = vec_push(arg);

	if (c == NULL)
		return 1;
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", r->computer_id);
	snprintf(c->dns, sizeof(c->dns), "%s", r->dns_name);
	snprintf(c->last, sizeof(c->last), "%s", r->last_sync);
	return 0;
}

static int
rcomp_cb(void *arg, const struct store_rollup_computer_row *r)
{
	struct comp *c = vec_push(arg);

	if (c == NULL)
		return 1;
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", r->c.computer_id);
	snprintf(c->dns, sizeof(c->dns), "%s", r->c.full_domain_name);
	snprintf(c->last, sizeof(c->last), "%s", r->c.last_sync_time);
	c->rolled = true;
	c->reported = r->last_detection_time[0] != '\0' || r->n_status > 0;
	snprintf(c->via, sizeof(c->via), "%s",
	    r->via_name[0] ? r->via_name : r->c.parent_server_id);
	snprintf(c->via_id, sizeof(c->via_id), "%s", r->c.parent_server_id);
	return 0;
}

static int
rrow_cb(void *arg, const struct store_rollup_status *r)
{
	struct rrow *x = vec_push(arg);

	if (x == NULL)
		return 1;
	snprintf(x->id, sizeof(x->id), "%s", r->update_id);
	x->state = r->state;
	return 0;
}

/* A rolled-up computer's status of update ID (rows sorted by id). */
static enum update_status
rolled_status(const struct comp *c, const struct vec *rows, const char *id)
{
	static const enum update_status map[] = { STATUS_UNKNOWN,
		STATUS_NOT_APPLICABLE, STATUS_NEEDED, STATUS_DOWNLOADED,
		STATUS_INSTALLED, STATUS_FAILED,
		STATUS_INSTALLED_PENDING_REBOOT };
	const struct rrow *v = rows->v;
	size_t lo = 0, hi = rows->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(v[mid].id, id);

		if (d == 0)
			return v[mid].state >= 0 && v[mid].state <= 6 ?
			    map[v[mid].state] :
			    STATUS_UNKNOWN;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return c->reported ? STATUS_NOT_APPLICABLE : STATUS_UNKNOWN;
}

static int
feed_cb(void *arg, const struct store_client_event_row *r)
{
	return status_feed(arg, r->event_id, r->update_id, r->misc_data) < 0;
}

/* What COMPUTER reported, fed into S (initialised by the caller). */
static int
load_status(struct store *st, const char *computer, struct status_state *s,
    struct wsd_err *err)
{
	return store_client_events_each(st, computer, feed_cb, s, err);
}

int
wsusutil_status_counts(struct store *st, const char *computer_id,
    unsigned counts[STATUS_COUNT_SLOTS], struct wsd_err *err)
{
	struct store_update_filter f = { 0 };
	struct vec ups = { .size = sizeof(struct upd) };
	struct status_state s;
	int rc;

	memset(counts, 0, STATUS_COUNT_SLOTS * sizeof(counts[0]));
	status_init(&s);
	if ((rc = store_updates_list(st, &f, upd_cb, &ups, err)) == 0 &&
	    (rc = load_status(st, computer_id, &s, err)) == 0)
		for (size_t i = 0; i < ups.n; i++)
			counts[status_of(&s, ((struct upd *)ups.v)[i].id)]++;
	status_release(&s);
	free(ups.v);
	return rc;
}

int
cmd_report(const char *datadir, int argc, char **argv)
{
	const char *want_c = NULL, *want_u = NULL;
	struct store_update_filter f = { 0 };
	struct vec ups = { .size = sizeof(struct upd) };
	struct vec cs = { .size = sizeof(struct comp) };
	bool json = false, any_c = false, any_u = false;
	char uid[37] = "";
	struct store *st;
	struct wsd_err err;
	unsigned rows = 0;
	int rc = 0;

	if (argc >= 2 && strcmp(argv[1], "events") == 0)
		return cmd_report_events(datadir, argc - 1, argv + 1);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--computer") == 0 && i + 1 < argc)
			want_c = argv[++i];
		else if (strcmp(argv[i], "--update") == 0 && i + 1 < argc)
			want_u = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else {
			fprintf(stderr, "usage: wsusutil report [--computer "
					"NAME] [--update ID] [--json]\n"
					"       wsusutil report events [--last N] "
					"[--computer NAME|ID] [--json]\n");
			return 2;
		}
	}
	if (want_u != NULL && guid_normalize(want_u, uid) < 0)
		return wsusutil_fail("report", "malformed UpdateID");
	if (wsusutil_open_store("report", datadir, &st) < 0)
		return 1;
	if (store_updates_list(st, &f, upd_cb, &ups, &err) < 0 ||
	    store_computers_list(st, comp_cb, &cs, &err) < 0 ||
	    store_rollup_computers_each(st, rcomp_cb, &cs, &err) < 0) {
		rc = wsusutil_fail("report", err.what);
		goto out;
	}
	for (size_t i = 0; i < cs.n; i++) {
		struct comp *c = &((struct comp *)cs.v)[i];

		any_c |= want_c == NULL || strcasecmp(want_c, c->dns) == 0 ||
		    strcasecmp(want_c, c->id) == 0;
	}
	for (size_t i = 0; i < ups.n; i++)
		any_u |= want_u == NULL ||
		    strcmp(uid, ((struct upd *)ups.v)[i].id) == 0;
	if (!any_c) {
		rc = wsusutil_fail("report", "unknown computer");
		goto out;
	}
	if (!any_u) {
		rc = wsusutil_fail("report", "unknown update");
		goto out;
	}
	if (json)
		printf("[");
	for (size_t i = 0; i < cs.n; i++) {
		struct comp *c = &((struct comp *)cs.v)[i];
		struct vec rrows = { .size = sizeof(struct rrow) };
		struct status_state s;

		if (want_c != NULL && strcasecmp(want_c, c->dns) != 0 &&
		    strcasecmp(want_c, c->id) != 0)
			continue;
		status_init(&s);
		if ((c->rolled ? store_rollup_status_each(st, c->id, rrow_cb,
				     &rrows, &err) :
				 load_status(st, c->id, &s, &err)) < 0) {
			status_release(&s);
			free(rrows.v);
			rc = wsusutil_fail("report", err.what);
			break;
		}
		for (size_t j = 0; j < ups.n; j++) {
			struct upd *u = &((struct upd *)ups.v)[j];
			const char *status = update_status_name(c->rolled ?
				rolled_status(c, &rrows, u->id) :
				status_of(&s, u->id));

			if (want_u != NULL && strcmp(uid, u->id) != 0)
				continue;
			if (!json && c->rolled) {
				printf("%-30s %s  %-22s %s  (via %s)\n",
				    c->dns, u->id, status, u->title, c->via);
				continue;
			}
			if (!json) {
				printf("%-30s %s  %-22s %s\n", c->dns, u->id,
				    status, u->title);
				continue;
			}
			printf("%s\n  {\"computer\": ", rows++ ? "," : "");
			json_str(stdout, c->dns);
			printf(", \"computer_id\": ");
			json_str(stdout, c->id);
			printf(", \"update_id\": ");
			json_str(stdout, u->id);
			printf(", \"title\": ");
			json_str(stdout, u->title);
			printf(", \"status\": ");
			json_str(stdout, status);
			printf(", \"via\": ");
			json_str(stdout, c->rolled ? c->via : "");
			printf(", \"via_server_id\": ");
			json_str(stdout, c->rolled ? c->via_id : "");
			printf("}");
		}
		status_release(&s);
		free(rrows.v);
	}
	if (json)
		printf("\n]\n");
out:
	free(ups.v);
	free(cs.v);
	store_close(st);
	return rc;
}
