/*
 * wsusutil report: per-(computer, update) status as WSUS's reports show
 * it (Installed, Needed, Downloaded, Failed, NotApplicable, Unknown),
 * derived from the events each computer reported (catalog/status.h).
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

struct upd {
	char id[37];
	char title[256];
};

struct comp {
	char id[37];
	char dns[256];
	char last[32];
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
	snprintf(c->id, sizeof(c->id), "%s", r->computer_id);
	snprintf(c->dns, sizeof(c->dns), "%s", r->dns_name);
	snprintf(c->last, sizeof(c->last), "%s", r->last_sync);
	return 0;
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

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--computer") == 0 && i + 1 < argc)
			want_c = argv[++i];
		else if (strcmp(argv[i], "--update") == 0 && i + 1 < argc)
			want_u = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else {
			fprintf(stderr, "usage: wsusutil report [--computer "
					"NAME] [--update ID] [--json]\n");
			return 2;
		}
	}
	if (want_u != NULL && guid_normalize(want_u, uid) < 0)
		return wsusutil_fail("report", "malformed UpdateID");
	if (wsusutil_open_store("report", datadir, &st) < 0)
		return 1;
	if (store_updates_list(st, &f, upd_cb, &ups, &err) < 0 ||
	    store_computers_list(st, comp_cb, &cs, &err) < 0) {
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
		struct status_state s;

		if (want_c != NULL && strcasecmp(want_c, c->dns) != 0 &&
		    strcasecmp(want_c, c->id) != 0)
			continue;
		status_init(&s);
		if (load_status(st, c->id, &s, &err) < 0) {
			status_release(&s);
			rc = wsusutil_fail("report", err.what);
			break;
		}
		for (size_t j = 0; j < ups.n; j++) {
			struct upd *u = &((struct upd *)ups.v)[j];
			const char *status =
			    update_status_name(status_of(&s, u->id));

			if (want_u != NULL && strcmp(uid, u->id) != 0)
				continue;
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
			printf("}");
		}
		status_release(&s);
	}
	if (json)
		printf("\n]\n");
out:
	free(ups.v);
	free(cs.v);
	store_close(st);
	return rc;
}
