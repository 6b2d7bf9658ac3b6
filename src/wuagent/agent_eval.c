/*
 * Linux meanings of applicability rules (agent_eval.h).
 */
#include "wuagent/agent_eval.h"

#include <string.h>
#include <unistd.h>

#include "catalog/fragment.h"

static const char *
attr(const struct fragment_rule *r, const char *name)
{
	for (size_t i = 0; i < r->n_attrs; i++)
		if (strcmp(r->attrs[2 * i], name) == 0)
			return r->attrs[2 * i + 1];
	return NULL;
}

static bool
linux_rule(void *arg, const struct fragment_rule *r)
{
	const char *path;

	(void)arg;
	if (strcmp(r->name, "b.FileExists") == 0) {
		path = attr(r, "Path");
		return path != NULL && path[0] == '/' &&
		    attr(r, "Csidl") == NULL && access(path, F_OK) == 0;
	}
	/* b.WindowsVersion and every Windows-only rule. */
	return false;
}

int
agent_eval(const struct agent_revision *r, struct agent_verdict *out,
    struct wsd_err *err)
{
	struct fragment_applicability a;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = fragment_eval_applicability(r->xml_core, r->xml_core_len,
		 linux_rule, NULL, &a, err)) < 0)
		return rc;
	out->for_linux = a.has_is_installable && a.not_windows;
	out->installed = a.has_is_installed && a.is_installed;
	out->installable = out->for_linux && a.is_installable;
	return 0;
}
