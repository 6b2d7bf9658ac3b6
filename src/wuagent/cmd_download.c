/*
 * wuagent download: the content of every update this machine needs
 * (state Needed, or Failed to retry it) whose deployment is Install or
 * OptionalInstall and which is for Linux: its files and its bundled
 * members', fetched in parallel (agent_download_all), resumed, checked
 * against both digests. All verified: Downloaded and event 162 (MiscData
 * B=bytes). Otherwise event 161 with the HRESULT; a digest or size
 * mismatch makes the update Failed (WU_E_DM_INCORRECTFILEHASH), any
 * other failure leaves its state as it was, so the next run retries.
 * Then the events are reported. Exit 1 when any file failed.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wuagent/agent_cmd.h"
#include "wuagent/agent_eval.h"
#include "wuagent/agent_install.h"

struct offer {
	bool found;
	bool install; /* Install or OptionalInstall */
	bool for_linux;
	int rc;
	struct wsd_err err;
};

static int
check_offer(void *arg, const struct agent_revision *r)
{
	struct offer *o = arg;
	struct agent_verdict v;

	o->found = true;
	o->install = strcmp(r->action, "Install") == 0 ||
	    strcmp(r->action, "OptionalInstall") == 0;
	if ((o->rc = agent_eval(r, &v, &o->err)) == 0)
		o->for_linux = v.for_linux && v.installable;
	return 1;
}

/* A download result's HRESULT (agent_install.h). */
static uint32_t
hr_of(enum agent_dl_result r)
{
	switch (r) {
	case AGENT_DL_OK:
		return 0;
	case AGENT_DL_MISMATCH:
		return AGENT_HR_INCORRECT_HASH;
	case AGENT_DL_NETWORK:
		return AGENT_HR_NO_NETWORK;
	default:
		return AGENT_HR_DM_UNEXPECTED;
	}
}

/* Without its extended fragment a revision's files are unknown. */
static bool
have_extended(const struct agent_pkg *p)
{
	for (size_t i = 0; i < p->n_units; i++)
		if (p->units[i].xml_extended == NULL)
			return false;
	return true;
}

int
agent_cmd_download(struct agent_config *cf, int argc, char **argv)
{
	struct agent_update_ref *todo = NULL;
	size_t n_todo = 0;
	struct agent_pkg *pkgs = NULL;
	struct agent_file *files = NULL;
	enum agent_dl_result *results = NULL;
	char(*msgs)[AGENT_MSG_MAX] = NULL;
	size_t *owner = NULL, n_pkgs = 0, n_files = 0, failed = 0, sent;
	struct agent_state *st = NULL;
	struct wsd_err err;
	const char *why;
	char msg[AGENT_MSG_MAX];
	int status = 1;

	(void)argv;
	if (argc != 0)
		return agent_fail("download", "takes no arguments");
	if (agent_config_check(cf, &why) < 0)
		return agent_fail("download", "%s", why);
	/* A peer closing a connection must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (agent_state_open(cf->state_dir, &st, &err) < 0)
		return agent_fail("download", "%s: %s", cf->state_dir,
		    err.what);
	if (agent_state_updates_in(st,
		AGENT_STATE_BIT(AGENT_NEEDED) | AGENT_STATE_BIT(AGENT_FAILED),
		&todo, &n_todo, &err) < 0) {
		(void)agent_fail("download", "state: %s", err.what);
		goto out;
	}
	if (n_todo > 0 && (pkgs = calloc(n_todo, sizeof(*pkgs))) == NULL) {
		(void)agent_fail("download", "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n_todo; i++) {
		struct offer o;

		memset(&o, 0, sizeof(o));
		if (agent_state_revision(st, todo[i].revision_id, check_offer,
			&o, &err) < 0 ||
		    o.rc < 0) {
			/* The revision left the cache (out of scope). */
			continue;
		}
		if (!o.install || !o.for_linux)
			continue;
		if (agent_pkg_load(st, cf, todo[i].revision_id, &pkgs[n_pkgs],
			msg, sizeof(msg)) < 0) {
			(void)agent_fail("download", "%s: %s", todo[i].update_id,
			    msg);
			failed++;
			continue;
		}
		if (!have_extended(&pkgs[n_pkgs])) {
			(void)agent_fail("download",
			    "%s: no extended metadata cached (files unknown): "
			    "run scan",
			    todo[i].update_id);
			agent_pkg_release(&pkgs[n_pkgs]);
			failed++;
			continue;
		}
		n_files += pkgs[n_pkgs].n_files;
		n_pkgs++;
	}
	if (n_files > 0 &&
	    ((files = calloc(n_files, sizeof(*files))) == NULL ||
		(owner = calloc(n_files, sizeof(*owner))) == NULL ||
		(results = calloc(n_files, sizeof(*results))) == NULL ||
		(msgs = calloc(n_files, sizeof(*msgs))) == NULL)) {
		(void)agent_fail("download", "out of memory");
		goto out;
	}
	/* A file without a URL cannot be fetched: not even tried. */
	n_files = 0;
	for (size_t i = 0; i < n_pkgs; i++)
		for (size_t k = 0; k < pkgs[i].n_files; k++)
			if (pkgs[i].files[k].url[0] != '\0') {
				files[n_files] = pkgs[i].files[k];
				owner[n_files++] = i;
			}
	(void)agent_download_all(cf, files, n_files, cf->max_parallel_downloads,
	    results, msgs);
	for (size_t i = 0; i < n_pkgs; i++) {
		struct agent_pkg *p = &pkgs[i];
		enum agent_dl_result worst = AGENT_DL_OK;
		uint64_t bytes = 0;
		uint32_t hr = 0;
		char misc[40];
		int rc;

		for (size_t k = 0; k < p->n_files; k++)
			if (p->files[k].url[0] == '\0') {
				(void)agent_fail("download",
				    "%s: no URL known for this file "
				    "(the server sent no FileLocation)",
				    p->files[k].name);
				hr = AGENT_HR_URL_NOT_AVAILABLE;
			}
		for (size_t k = 0; k < n_files; k++) {
			size_t nl = strlen(files[k].name);

			if (owner[k] != i)
				continue;
			if (results[k] == AGENT_DL_OK) {
				bytes += files[k].size;
				continue;
			}
			/* Name the file unless the cause already does. */
			if (strncmp(msgs[k], files[k].name, nl) == 0 &&
			    msgs[k][nl] == ':')
				(void)agent_fail("download", "%s", msgs[k]);
			else
				(void)agent_fail("download", "%s: %s",
				    files[k].name, msgs[k]);
			/* A mismatch decides the update's fate. */
			if (hr == 0 || results[k] == AGENT_DL_MISMATCH)
				hr = hr_of(results[k]);
			if (worst != AGENT_DL_MISMATCH)
				worst = results[k];
		}
		if (hr == 0) {
			snprintf(misc, sizeof(misc), "B=%" PRIu64, bytes);
			rc = agent_pkg_record(st, p, AGENT_DOWNLOADED, 0, 162,
			    misc, &err);
			printf("downloaded %s (%zu files, %" PRIu64
			       " bytes)  %s\n",
			    p->update_id, p->n_files, bytes, p->title);
		} else {
			failed++;
			rc = agent_pkg_record(st, p,
			    worst == AGENT_DL_MISMATCH ? AGENT_FAILED
						       : AGENT_UNKNOWN,
			    (int32_t)hr, 161, NULL, &err);
			printf("download failed %s (0x%08X)  %s\n",
			    p->update_id, (unsigned)hr, p->title);
		}
		if (rc < 0) {
			(void)agent_fail("download", "state: %s", err.what);
			goto out;
		}
	}
	if (n_pkgs == 0 && failed == 0)
		printf("download: nothing to download\n");
	if (agent_report_queued(cf, st, &sent, msg, sizeof(msg)) < 0) {
		(void)agent_fail("download",
		    "cannot report (the events stay queued): %s", msg);
		goto out;
	}
	status = failed > 0 ? 1 : 0;
out:
	for (size_t i = 0; i < n_pkgs; i++)
		agent_pkg_release(&pkgs[i]);
	free(pkgs);
	free(files);
	free(owner);
	free(results);
	free(msgs);
	free(todo);
	agent_state_close(st);
	return status;
}
