/*
 * What an update is to this Linux machine (issue #6 item 5): its
 * ApplicabilityRules evaluated with Linux meanings (docs/AGENT.md):
 *
 *   b.WindowsVersion        false: this is not Windows
 *   b.FileExists Path="/p"  true when the absolute path /p exists (no
 *                           Csidl; a Windows path is false)
 *   anything else           false (registry, MSI, WMI, CBS rules ...)
 *
 * An update is for Linux only when its IsInstallable says so with
 * Not(b.WindowsVersion ...) (what `wsusutil publish` writes for the
 * rule-file word `linux`, docs/AGENT.md); any other update is
 * NotApplicable here,
 * whatever its rules, so an update meant for Windows is never run.
 */
#ifndef WSUSD_WUAGENT_AGENT_EVAL_H
#define WSUSD_WUAGENT_AGENT_EVAL_H

#include <stdbool.h>

#include "common/wsd_err.h"
#include "wuagent/agent_state.h"

struct agent_verdict {
	bool for_linux;
	bool installed;   /* IsInstalled evaluated true */
	bool installable; /* for Linux and IsInstallable true */
};

int agent_eval(const struct agent_revision *r, struct agent_verdict *out,
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
