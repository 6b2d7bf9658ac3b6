/*
 * One detection cycle (wuagent scan; also what `simulate` runs per
 * client): session, software pass, extended metadata for what is
 * needed, local evaluation into the state, events 147 + 156 reported.
 */
#ifndef WSUSD_WUAGENT_AGENT_SCAN_H
#define WSUSD_WUAGENT_AGENT_SCAN_H

#include <stddef.h>

#include "wuagent/agent_proto.h"

struct agent_scan_result {
	size_t pages;      /* SyncUpdates round trips */
	size_t needed, installed, not_applicable;
	size_t reported;   /* events the server accepted */
	char report_error[1024]; /* why reporting failed, "" if it did not */
};

/* An enum agent_rc; S->msg says what failed. */
int agent_scan(struct agent_session *s, struct agent_scan_result *out)
    WSD_MUST_CHECK;

#endif
