/*
 * wuagent status: what this machine knows about each update, from the
 * state alone (no network). wuagent report: sends the queued events.
 */
#include <stdio.h>
#include <string.h>

#include "wuagent/agent_cmd.h"
#include "wuagent/agent_proto.h"

static int
print_update(void *arg, const struct agent_update_row *u)
{
	(void)arg;
	printf("%s  %-22s  %-9d  %s\n", u->update_id,
	    agent_update_state_name(u->state), u->revision_id,
	    u->title[0] ? u->title : "-");
	return 0;
}

int
agent_cmd_status(struct agent_config *cf, int argc, char **argv)
{
	struct agent_identity id;
	struct agent_state *st;
	struct wsd_err err;
	int rc;

	(void)argv;
	if (argc != 0)
		return agent_fail("status", "takes no arguments");
	if (agent_state_open(cf->state_dir, &st, &err) < 0)
		return agent_fail("status", "%s: %s", cf->state_dir, err.what);
	if ((rc = agent_state_identity(st, &id, &err)) == 0) {
		printf("computer %s  server %s  %s\n", id.computer_id,
		    id.server[0] ? id.server : "-",
		    id.registered ? "registered" : "not registered");
		agent_identity_release(&id);
		rc = agent_state_updates(st, print_update, NULL, &err);
	}
	agent_state_close(st);
	return rc < 0 ? agent_fail("status", "%s", err.what) : 0;
}

int
agent_cmd_report(struct agent_config *cf, int argc, char **argv)
{
	struct agent_session s;
	struct agent_state *st;
	struct wsd_err err;
	const char *why;
	size_t sent = 0;
	int rc;

	(void)argv;
	if (argc != 0)
		return agent_fail("report", "takes no arguments");
	if (agent_config_check(cf, &why) < 0)
		return agent_fail("report", "%s", why);
	if (agent_state_open(cf->state_dir, &st, &err) < 0)
		return agent_fail("report", "%s: %s", cf->state_dir, err.what);
	if ((rc = agent_session_open(&s, cf, st)) == AGENT_OK &&
	    (!s.have_cookie || !s.id.registered))
		rc = agent_session_start(&s);
	if (rc == AGENT_OK)
		rc = agent_report_events(&s, &sent);
	if (rc == AGENT_OK)
		printf("report: %zu events sent\n", sent);
	else
		(void)agent_fail("report", "%s", s.msg);
	agent_session_close(&s);
	agent_state_close(st);
	return rc == AGENT_OK ? 0 : 1;
}
