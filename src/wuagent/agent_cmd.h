/*
 * wuagent's commands (issue #6 item 1). Each gets the configuration
 * after the file and the global flags were applied, and the arguments
 * after its name; returns the process exit status (0 success, 1 failure
 * with a message on stderr, 2 usage).
 */
#ifndef WSUSD_WUAGENT_AGENT_CMD_H
#define WSUSD_WUAGENT_AGENT_CMD_H

#include "wuagent/agent_config.h"

typedef int agent_cmd_fn(struct agent_config *cf, int argc, char **argv);

agent_cmd_fn agent_cmd_fetch;
agent_cmd_fn agent_cmd_scan;
agent_cmd_fn agent_cmd_status;
agent_cmd_fn agent_cmd_report;
agent_cmd_fn agent_cmd_download;
agent_cmd_fn agent_cmd_install;
agent_cmd_fn agent_cmd_simulate;
agent_cmd_fn agent_cmd_selfupdate;
agent_cmd_fn agent_cmd_run;

/* "wuagent: CMD: WHAT" on stderr; returns 1. */
int agent_fail(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
