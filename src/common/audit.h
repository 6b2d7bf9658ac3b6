/*
 * The audit log (SECURITY.md S6, Appendix E): one line for every
 * administrative change and every refusal, written and flushed to disk
 * BEFORE the change takes effect; when the line cannot be written the
 * change is refused. Kept apart from the daemon's log, at audit_log in
 * wsusd.conf (default DIR/audit.log), 0640, O_APPEND, never followed
 * through a symbolic link.
 *
 * A line is tab-free text, fields as key=value separated by spaces, values
 * with a space, quote, backslash or control byte written in double
 * quotes with \" \\ and \xHH escapes:
 *
 *   2026-11-30T16:02:11Z event=allowed principal=alice role=approver
 *   via=socket peer=uid:1001 cmd="approve 5c1b... --group Servers"
 *
 * Events: allowed (before the command runs), denied (role too low,
 * unknown caller), result (after it ran: exit=N).
 */
#ifndef WSUSD_COMMON_AUDIT_H
#define WSUSD_COMMON_AUDIT_H

#include "common/wsd_err.h"

#define AUDIT_MAX_LINE 8192

struct audit_entry {
	const char *event;     /* "allowed", "denied", "result" */
	const char *principal; /* "alice", "cert:CORP\ops1", "root" */
	const char *role;      /* admin_role_name(), or NULL */
	const char *via;       /* "local", "socket", "remote" */
	const char *peer;      /* "uid:1001", "127.0.0.1", NULL */
	int argc;              /* the command, argv[0] its name */
	char *const *argv;
	int exit_status;       /* "result" only */
	const char *reason;    /* "denied": why; may be NULL */
};

/*
 * Appends E as one line to PATH and fsyncs it. 0, or WSD_EIO with the
 * cause in the daemon's log: the caller must then refuse the change.
 */
int audit_append(const char *path, const struct audit_entry *e,
    struct wsd_err *err) WSD_MUST_CHECK;

/* E as one line (no newline) into OUT (AUDIT_MAX_LINE bytes); long
 * commands are cut with "...". */
void audit_format(const struct audit_entry *e, long long unix_time,
    char *out);

#endif
