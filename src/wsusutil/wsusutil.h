/*
 * wsusutil subcommands, one file each (git builtin/ style). Each returns the
 * process exit status: 0 on success, 1 when it refused or failed (with a
 * message naming the problem on stderr), 2 on a usage error.
 */
#ifndef WSUSD_WSUSUTIL_WSUSUTIL_H
#define WSUSD_WSUSUTIL_WSUSUTIL_H

struct wsusutil_cmd {
	const char *name;
	int (*run)(const char *datadir, int argc, char **argv);
	const char *usage; /* arguments after the command name */
	const char *help;  /* one line */
};

struct config_overrides;

/*
 * The HTTPS port a running wsusd uses when it was started with --port:
 * ARG if not NULL, else $WSUSD_PORT (as make run sets it), else none.
 * Returns 0, or -1 after printing a message naming the bad value.
 */
int wsusutil_port_override(const char *cmd, const char *arg,
    struct config_overrides *ov);

struct store;

/*
 * Opens DATADIR's database for a command, printing "wsusutil: CMD:
 * <problem>" on failure. Returns 0 or -1.
 */
int wsusutil_open_store(const char *cmd, const char *datadir,
    struct store **out);
/*
 * Replica mode (docs/CHAINING.md): groups, approvals and declines are
 * the upstream's. Returns 1 after saying so when ST's server is a
 * replica, else 0.
 */
int wsusutil_replica_refuses(const char *cmd, struct store *st);
/*
 * Run as root on a DATADIR owned by another user: becomes that user (its
 * uid, DATADIR's group, no supplementary groups) before any command
 * touches the data, or exits 1 saying why (SECURITY.md S17). A missing
 * or root-owned DATADIR, or not root: no change.
 */
void wsusutil_as_owner(const char *datadir);
/* Prints "wsusutil: CMD: PATH:LINE: <why>" (no LINE when 0) for a file
 * that did not load, and returns 1. */
struct wsd_err;
int wsusutil_load_fail(const char *cmd, const char *path, unsigned long line,
    const struct wsd_err *err);
/* Prints "wsusutil: CMD: WHAT" and returns 1 (the refusal exit status). */
int wsusutil_fail(const char *cmd, const char *what);

/* Updates per status (catalog/status.h enum update_status as index). */
#define STATUS_COUNT_SLOTS 7
struct wsd_err;
int wsusutil_status_counts(struct store *st, const char *computer_id,
    unsigned counts[STATUS_COUNT_SLOTS], struct wsd_err *err);

/* argv[0] is the command name; options follow. */
int cmd_testca(const char *datadir, int argc, char **argv);
int cmd_configuressl(const char *datadir, int argc, char **argv);
int cmd_checkhealth(const char *datadir, int argc, char **argv);
int cmd_groups(const char *datadir, int argc, char **argv);
int cmd_computers(const char *datadir, int argc, char **argv);
int cmd_approve(const char *datadir, int argc, char **argv);
int cmd_decline(const char *datadir, int argc, char **argv);
int cmd_updates(const char *datadir, int argc, char **argv);
int cmd_publish(const char *datadir, int argc, char **argv);
int cmd_publishingcert(const char *datadir, int argc, char **argv);
int cmd_reset(const char *datadir, int argc, char **argv);
int cmd_admins(const char *datadir, int argc, char **argv);
int cmd_cleanup(const char *datadir, int argc, char **argv);
int cmd_deleteunneededrevisions(const char *datadir, int argc, char **argv);
int cmd_report(const char *datadir, int argc, char **argv);
int cmd_report_events(const char *datadir, int argc, char **argv);
int cmd_cookiekey(const char *datadir, int argc, char **argv);
int cmd_export(const char *datadir, int argc, char **argv);
int cmd_import(const char *datadir, int argc, char **argv);
int cmd_downstream(const char *datadir, int argc, char **argv);
int cmd_upstream(const char *datadir, int argc, char **argv);
int cmd_sync(const char *datadir, int argc, char **argv);

#endif
