/*
 * wuagent scan: the Windows agent's detection (WUSP.md 4.1): a cookie,
 * the SyncUpdates software pass, GetExtendedUpdateInfo for what is
 * needed, local evaluation, then events 147 (detection finished) and 156
 * (status: needed and installed UpdateIDs) reported to WUStatusServer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/sbuf.h"
#include "wuagent/agent_cmd.h"
#include "wuagent/agent_eval.h"
#include "wuagent/agent_proto.h"
#include "wuagent/agent_scan.h"

/* WUA gives up after 200 round trips (OBSERVED 34). */
#define SCAN_MAX_PAGES 200

static bool
installed_nonleaf(void *arg, const struct agent_revision *r)
{
	struct agent_state *st = arg;
	struct agent_verdict v;
	enum agent_update_state s;
	struct wsd_err err;

	if (agent_eval(r, &v, &err) < 0)
		return false;
	if (v.installed)
		return true;
	return agent_state_get_update(st, r->update_id, &s, &err) == 0 &&
	    (s == AGENT_INSTALLED || s == AGENT_INSTALLED_PENDING_REBOOT);
}

struct evaluation {
	struct agent_state *st;
	int32_t *need_ext;
	size_t n_need_ext, cap;
	/* ';'-joined UpdateIDs per 156 MiscData list (WUSP.md 8): U=
	 * needed, h= downloaded, g= failed, V= installed, W= installed
	 * pending reboot */
	struct sbuf needed, downloaded, failed, installed, pending;
	size_t n_needed, n_installed, n_na;
	int rc;
	struct wsd_err err;
};

static bool
offered(const char *action)
{
	return strcmp(action, "Install") == 0 ||
	    strcmp(action, "OptionalInstall") == 0 ||
	    strcmp(action, "PreDeploymentCheck") == 0;
}

static int
add_id(struct sbuf *sb, const char *id)
{
	return (sb->sb_len > 0 && sbuf_adds(sb, ";") < 0) ||
		sbuf_adds(sb, id) < 0 ?
	    -1 :
	    0;
}

static int
want_ext(struct evaluation *e, int32_t id)
{
	if (e->n_need_ext == e->cap) {
		size_t ncap = e->cap ? e->cap * 2 : 64;
		int32_t *p = realloc(e->need_ext, ncap * sizeof(*p));

		if (p == NULL)
			return -1;
		e->need_ext = p;
		e->cap = ncap;
	}
	e->need_ext[e->n_need_ext++] = id;
	return 0;
}

static int
evaluate(void *arg, const struct agent_revision *r)
{
	struct evaluation *e = arg;
	enum agent_update_state have, now;
	struct agent_verdict v;

	/* Bundle members come with their parent; what the server only
	 * wants evaluated (categories, detectoids) has no status. */
	if (strcmp(r->action, "Bundle") == 0) {
		if (r->xml_extended == NULL && want_ext(e, r->revision_id) < 0)
			goto nomem;
		return 0;
	}
	if (!offered(r->action) || strcmp(r->update_type, "Category") == 0 ||
	    strcmp(r->update_type, "Detectoid") == 0)
		return 0;
	if (agent_eval(r, &v, &e->err) < 0 ||
	    agent_state_get_update(e->st, r->update_id, &have, &e->err) < 0) {
		e->rc = -1;
		return 1;
	}
	if (v.installed || have == AGENT_INSTALLED ||
	    have == AGENT_INSTALLED_PENDING_REBOOT)
		now = have == AGENT_INSTALLED_PENDING_REBOOT ? have :
							      AGENT_INSTALLED;
	else if (!v.installable)
		now = AGENT_NOT_APPLICABLE;
	else if (have == AGENT_DOWNLOADED || have == AGENT_FAILED)
		now = have;
	else
		now = AGENT_NEEDED;
	if (agent_state_set_update(e->st, r->update_id, r->revision_number,
		r->revision_id, now, 0, &e->err) < 0) {
		e->rc = -1;
		return 1;
	}
	switch (now) {
	case AGENT_NOT_APPLICABLE:
		e->n_na++;
		break;
	case AGENT_INSTALLED:
	case AGENT_INSTALLED_PENDING_REBOOT:
		e->n_installed++;
		if (add_id(now == AGENT_INSTALLED ? &e->installed : &e->pending,
			r->update_id) < 0)
			goto nomem;
		break;
	default:
		e->n_needed++;
		if (add_id(now == AGENT_DOWNLOADED ? &e->downloaded :
			    now == AGENT_FAILED    ? &e->failed :
						     &e->needed,
			r->update_id) < 0)
			goto nomem;
		if (r->xml_extended == NULL && want_ext(e, r->revision_id) < 0)
			goto nomem;
		break;
	}
	return 0;
nomem:
	e->rc = -1;
	e->err.what = "out of memory";
	return 1;
}

/* The 156 event's MiscData stays under what a server takes for one
 * event (wsusd: 64 KiB, SECURITY.md S2): about 1,500 UpdateIDs. */
#define STATUS_MISC_MAX (60 * 1024)

/* "KEY=id;id" as one MiscData line; nothing when LIST is empty. Ids
 * that would pass STATUS_MISC_MAX are left out (*CUT counts them). */
static int
misc_list(struct sbuf *misc, const char *key, const struct sbuf *list,
    size_t *cut)
{
	const char *p = sbuf_str(list);
	bool first = true;

	if (list->sb_len == 0)
		return 0;
	if ((misc->sb_len > 0 && sbuf_adds(misc, "\n") < 0) ||
	    sbuf_adds(misc, key) < 0)
		return -1;
	while (*p != '\0') {
		const char *e = strchr(p, ';');
		size_t n = e != NULL ? (size_t)(e - p) : strlen(p);

		if (misc->sb_len + n + 1 > STATUS_MISC_MAX)
			(*cut)++;
		else if ((!first && sbuf_adds(misc, ";") < 0) ||
		    sbuf_add(misc, p, n) < 0)
			return -1;
		else
			first = false;
		p += n + (e != NULL);
	}
	return 0;
}

/* Events 147 and 156 as Windows sends them after a scan (flow/000016-17;
 * WUSP.md 8). */
static int
queue_scan_events(struct evaluation *e, struct wsd_err *err)
{
	struct agent_event ev;
	struct sbuf misc;
	char found[24];
	size_t cut = 0;
	int rc;

	memset(&ev, 0, sizeof(ev));
	snprintf(found, sizeof(found), "%zu", e->n_needed);
	ev.event_id = 147;
	ev.replacement = found;
	ev.misc = "";
	if ((rc = agent_state_queue_event(e->st, &ev, err)) < 0)
		return rc;
	sbuf_init(&misc, 4 * 1024 * 1024);
	if (misc_list(&misc, "U=", &e->needed, &cut) < 0 ||
	    misc_list(&misc, "h=", &e->downloaded, &cut) < 0 ||
	    misc_list(&misc, "g=", &e->failed, &cut) < 0 ||
	    misc_list(&misc, "V=", &e->installed, &cut) < 0 ||
	    misc_list(&misc, "W=", &e->pending, &cut) < 0) {
		sbuf_release(&misc);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	if (cut > 0)
		log_warnx("status event: %zu update ids left out (more than "
			  "%d bytes)",
		    cut, STATUS_MISC_MAX);
	ev.event_id = 156;
	ev.replacement = "";
	ev.misc = sbuf_str(&misc);
	rc = agent_state_queue_event(e->st, &ev, err);
	sbuf_release(&misc);
	return rc;
}

/* The five MiscData lists: fresh (INIT) or released. */
static void
evaluation_lists(struct evaluation *e, bool init)
{
	struct sbuf *l[] = { &e->needed, &e->downloaded, &e->failed,
		&e->installed, &e->pending };

	for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++)
		if (init)
			sbuf_init(l[i], 4 * 1024 * 1024);
		else
			sbuf_release(l[i]);
}

int
agent_scan(struct agent_session *s, struct agent_scan_result *out)
{
	struct evaluation e;
	struct wsd_err err;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&e, 0, sizeof(e));
	e.st = s->st;
	if ((rc = agent_session_start(s)) != AGENT_OK ||
	    (rc = agent_sync_software(s, installed_nonleaf, s->st,
		 SCAN_MAX_PAGES, &out->pages)) != AGENT_OK)
		return rc;
	for (int round = 0; round < 2; round++) {
		evaluation_lists(&e, true);
		e.n_need_ext = e.n_needed = e.n_installed = e.n_na = 0;
		if (agent_state_revisions(s->st, evaluate, &e, &err) < 0 ||
		    e.rc < 0) {
			snprintf(s->msg, sizeof(s->msg), "state: %s",
			    e.rc < 0 ? e.err.what : err.what);
			rc = AGENT_ERR_LOCAL;
			break;
		}
		/* The second round evaluates with the titles and files
		 * the first one fetched. */
		if (round == 1 || e.n_need_ext == 0)
			break;
		if ((rc = agent_ext_info(s, e.need_ext, e.n_need_ext)) !=
		    AGENT_OK)
			break;
		evaluation_lists(&e, false);
	}
	if (rc == AGENT_OK && queue_scan_events(&e, &err) < 0) {
		snprintf(s->msg, sizeof(s->msg), "state: %s", err.what);
		rc = AGENT_ERR_LOCAL;
	}
	out->needed = e.n_needed;
	out->installed = e.n_installed;
	out->not_applicable = e.n_na;
	evaluation_lists(&e, false);
	free(e.need_ext);
	/* A server that cannot take the events now does not make the scan
	 * fail: they stay queued for the next report, and what the scan
	 * found is in the state for download and install. */
	if (rc == AGENT_OK &&
	    agent_report_events(s, &out->reported) != AGENT_OK) {
		snprintf(out->report_error, sizeof(out->report_error), "%s",
		    s->msg);
		s->msg[0] = '\0';
	}
	return rc;
}

int
agent_cmd_scan(struct agent_config *cf, int argc, char **argv)
{
	struct agent_scan_result res;
	struct agent_session s;
	struct agent_state *st;
	struct wsd_err err;
	const char *why;
	int rc;

	(void)argv;
	if (argc != 0)
		return agent_fail("scan", "takes no arguments");
	if (agent_config_check(cf, &why) < 0)
		return agent_fail("scan", "%s", why);
	if (agent_state_open(cf->state_dir, &st, &err) < 0)
		return agent_fail("scan", "%s: %s", cf->state_dir, err.what);
	if ((rc = agent_session_open(&s, cf, st)) == AGENT_OK)
		rc = agent_scan(&s, &res);
	if (rc == AGENT_OK && res.report_error[0] != '\0')
		fprintf(stderr,
		    "wuagent: scan: events not reported (kept for the next "
		    "report): %s\n",
		    res.report_error);
	if (rc == AGENT_OK)
		printf("scan: %zu needed, %zu installed, %zu not applicable "
		       "(%zu SyncUpdates pages, %u calls, %zu events "
		       "reported)\n",
		    res.needed, res.installed, res.not_applicable, res.pages,
		    s.calls, res.reported);
	else
		(void)agent_fail("scan", "%s", s.msg);
	agent_session_close(&s);
	agent_state_close(st);
	return rc == AGENT_OK ? 0 : 1;
}
