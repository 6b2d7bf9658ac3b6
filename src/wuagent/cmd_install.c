/*
 * wuagent install [--timeout SECONDS]: installs every Downloaded update
 * that is for Linux (docs/AGENT.md). For each: its files are verified
 * again as they are on disk now (digests; signatures when
 * TrustedPublishers is set) and nothing runs unless all pass; then
 * event 181, the CommandLineInstallation handler (agent_pkg_install),
 * and 183 (Installed), 184 (InstalledPendingReboot) or 182 (Failed, with
 * the HRESULT). IsInstalled is evaluated again afterwards. The events
 * are reported at the end. Exit 1 when any update failed.
 *
 * One install at a time per state directory (STATE_DIR/install.lock).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/strparse.h"
#include "wuagent/agent_cmd.h"
#include "wuagent/agent_eval.h"
#include "wuagent/agent_install.h"


struct verdict_cb {
	bool found;
	bool install; /* deployment Install or OptionalInstall */
	int32_t revision_number;
	struct agent_verdict v;
	int rc;
	struct wsd_err err;
};

static int
take_verdict(void *arg, const struct agent_revision *r)
{
	struct verdict_cb *c = arg;

	c->found = true;
	c->install = strcmp(r->action, "Install") == 0 ||
	    strcmp(r->action, "OptionalInstall") == 0;
	c->revision_number = r->revision_number;
	c->rc = agent_eval(r, &c->v, &c->err);
	return 1;
}

static int
install_usage(void)
{
	fprintf(stderr, "usage: wuagent install [--timeout SECONDS]\n");
	return 2;
}

/* Takes STATE_DIR/install.lock; the descriptor is the lock. */
static int
lock_installs(const char *state_dir)
{
	char path[AGENT_PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/install.lock", state_dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) <
	    0) {
		(void)agent_fail("install", "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		(void)agent_fail("install",
		    "another wuagent install is running on %s", state_dir);
		return -1;
	}
	return fd;
}

/* One update: verify, run, record. Returns true when it succeeded. */
static bool
install_one(const struct agent_config *cf, struct agent_state *st,
    const struct agent_update_ref *t, unsigned timeout, bool *fatal)
{
	struct agent_install_result res;
	struct verdict_cb vc;
	struct agent_pkg p;
	struct wsd_err err;
	char msg[AGENT_MSG_MAX];
	enum agent_update_state state;
	int32_t hr;
	int event, rrc;

	memset(&vc, 0, sizeof(vc));
	rrc = agent_state_revision(st, t->revision_id, take_verdict, &vc, &err);
	if (rrc == WSD_ENOTFOUND) {
		/* The revision left the cache (another server, a reset):
		 * nothing is known to run; the next scan says what is
		 * needed. Not a failure to repeat on every run. */
		printf("revision %d of %s no longer cached: scan again\n",
		    (int)t->revision_id, t->update_id);
		if (agent_state_set_update(st, t->update_id, 0, t->revision_id,
			AGENT_NEEDED, 0, &err) < 0) {
			(void)agent_fail("install", "state: %s", err.what);
			*fatal = true;
		}
		return true;
	}
	if (rrc < 0 || vc.rc < 0) {
		(void)agent_fail("install", "%s: revision %d not usable: %s",
		    t->update_id, (int)t->revision_id,
		    vc.rc < 0 ? vc.err.what : err.what);
		return false;
	}
	/* Never run what is not for Linux, whatever the state says. */
	if (!vc.v.for_linux || !vc.v.installable) {
		printf("not for Linux, not run: %s\n", t->update_id);
		if (agent_state_set_update(st, t->update_id, vc.revision_number,
			t->revision_id, AGENT_NOT_APPLICABLE, 0, &err) < 0) {
			(void)agent_fail("install", "state: %s", err.what);
			*fatal = true;
		}
		return true;
	}
	/* The approval changed since the download (Uninstall, ...). */
	if (!vc.install) {
		printf("no longer approved for install, not run: %s\n",
		    t->update_id);
		return true;
	}
	if (agent_pkg_load(st, cf, t->revision_id, &p, msg, sizeof(msg)) < 0) {
		(void)agent_fail("install", "%s: %s", t->update_id, msg);
		return false;
	}
	/* As the files are now, not as they were when downloaded. */
	if ((hr = agent_pkg_verify(cf, &p, msg, sizeof(msg))) != 0) {
		(void)agent_fail("install", "%s: not installed: %s",
		    p.update_id, msg);
		printf("install failed %s (0x%08X)  %s\n", p.update_id,
		    (unsigned)hr, p.title);
		if (agent_pkg_record(st, &p, AGENT_FAILED, hr, 182, NULL,
			&err) < 0) {
			(void)agent_fail("install", "state: %s", err.what);
			*fatal = true;
		}
		agent_pkg_release(&p);
		return false;
	}
	if (agent_pkg_record(st, &p, AGENT_UNKNOWN, 0, 181, NULL, &err) < 0) {
		(void)agent_fail("install", "state: %s", err.what);
		*fatal = true;
		agent_pkg_release(&p);
		return false;
	}
	agent_pkg_install(cf, &p, timeout, &res);
	switch (res.outcome) {
	case AGENT_INSTALL_SUCCEEDED:
		state = AGENT_INSTALLED;
		event = 183;
		break;
	case AGENT_INSTALL_REBOOT:
		state = AGENT_INSTALLED_PENDING_REBOOT;
		event = 184;
		break;
	default:
		state = AGENT_FAILED;
		event = 182;
		break;
	}
	if (event == 182) {
		(void)agent_fail("install", "%s: %s", p.update_id, res.msg);
		printf("install failed %s (0x%08X)  %s\n", p.update_id,
		    (unsigned)res.hresult, p.title);
	} else {
		struct agent_revision r;
		struct agent_verdict v;

		printf("installed %s%s  %s\n", p.update_id,
		    event == 184 ? " (restart required)" : "", p.title);
		/* What detection says now (docs/AGENT.md: the state keeps
		 * the installer's word when IsInstalled cannot tell). */
		memset(&r, 0, sizeof(r));
		r.xml_core = p.xml_core;
		r.xml_core_len = p.xml_core_len;
		if (agent_eval(&r, &v, &err) == 0 && !v.installed)
			printf("  note: IsInstalled does not detect %s; the "
			       "agent's state records it installed\n",
			    p.update_id);
	}
	if (agent_pkg_record(st, &p, state, res.hresult, event, NULL, &err) <
	    0) {
		(void)agent_fail("install", "state: %s", err.what);
		*fatal = true;
	}
	agent_pkg_release(&p);
	return event != 182;
}

int
agent_cmd_install(struct agent_config *cf, int argc, char **argv)
{
	struct agent_update_ref *todo = NULL;
	size_t n_todo = 0;
	unsigned timeout = AGENT_INSTALL_TIMEOUT;
	struct agent_state *st = NULL;
	size_t failed = 0, done = 0, sent;
	struct wsd_err err;
	const char *why;
	char msg[AGENT_MSG_MAX];
	bool fatal = false;
	int status = 1, lock;

	for (int i = 0; i < argc; i++) {
		uint64_t v;

		if (strcmp(argv[i], "--timeout") != 0 || i + 1 >= argc)
			return install_usage();
		if (strparse_u64_all(argv[++i], 1, AGENT_INSTALL_TIMEOUT_MAX,
			&v) < 0)
			return agent_fail("install",
			    "--timeout: not a number of seconds from 1 to "
			    "%d: %s",
			    AGENT_INSTALL_TIMEOUT_MAX, argv[i]);
		timeout = (unsigned)v;
	}
	if (agent_config_check(cf, &why) < 0)
		return agent_fail("install", "%s", why);
	signal(SIGPIPE, SIG_IGN);
	if (agent_state_open(cf->state_dir, &st, &err) < 0)
		return agent_fail("install", "%s: %s", cf->state_dir, err.what);
	if ((lock = lock_installs(cf->state_dir)) < 0) {
		agent_state_close(st);
		return 1;
	}
	if (agent_state_updates_in(st, AGENT_STATE_BIT(AGENT_DOWNLOADED), &todo,
	    &n_todo, &err) < 0) {
		(void)agent_fail("install", "state: %s", err.what);
		goto out;
	}
	for (size_t i = 0; i < n_todo && !fatal; i++) {
		if (install_one(cf, st, &todo[i], timeout, &fatal))
			done++;
		else
			failed++;
	}
	if (fatal)
		goto out;
	if (n_todo == 0)
		printf("install: nothing to install\n");
	if (agent_report_queued(cf, st, &sent, msg, sizeof(msg)) < 0) {
		(void)agent_fail("install",
		    "cannot report (the events stay queued): %s", msg);
		goto out;
	}
	status = failed > 0 ? 1 : 0;
out:
	free(todo);
	close(lock);
	agent_state_close(st);
	return status;
}
