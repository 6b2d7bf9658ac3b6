/*
 * Who may administer this server, and what each command needs
 * (issue #8 item 3, SECURITY.md S6: whoever can approve updates owns
 * every client). Read from DIR/admins, a text file an administrator edits
 * with `wsusutil admins add|remove` (written atomically), one rule per
 * line:
 *
 *   # comment
 *   administrator user:alice
 *   approver      group:wsus-approvers
 *   reporter      group:helpdesk
 *   approver      cert:CORP\ops1
 *
 * ROLE is reporter, approver or administrator; each includes the one
 * before it. NAME is a local account (user:NAME, matched against the
 * name of the caller's uid, case-sensitively as Unix names are), a local
 * group (group:NAME, matched against the caller's primary and
 * supplementary groups), a TLS client certificate's identity
 * (cert:DOMAIN\name, as auth/certid.h maps it) or a Kerberos ticket's
 * (kerberos:DOMAIN\name, as negotiate_map_principal maps it), both
 * compared case-insensitively. A caller's role is the highest any matching rule
 * gives; no rule is ROLE_NONE. No file is an empty list. Root and the
 * owner of the data directory are administrators whatever the file says
 * (they own the database); that is the caller's job, not this module's.
 *
 * Parsing refuses, naming the line: an unknown role, a name without one
 * of the three prefixes, an empty name, a name over
 * ADMIN_ROLES_MAX_NAME bytes or with control characters or whitespace,
 * more than ADMIN_ROLES_MAX_RULES rules, a file over 64 KiB or holding
 * NUL. A parsed list is immutable and may be read by several threads.
 */
#ifndef WSUSD_AUTH_ADMIN_ROLES_H
#define WSUSD_AUTH_ADMIN_ROLES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/wsd_err.h"

#define ADMIN_ROLES_FILE "admins"
#define ADMIN_ROLES_MAX_RULES 256
#define ADMIN_ROLES_MAX_NAME 128
#define ADMIN_ROLES_MAX_FILE (64 * 1024)

enum admin_role {
	ROLE_NONE = 0,
	ROLE_REPORTER,
	ROLE_APPROVER,
	ROLE_ADMINISTRATOR,
};

enum admin_principal_kind {
	PRINCIPAL_USER,
	PRINCIPAL_GROUP,
	PRINCIPAL_CERT,
	PRINCIPAL_KERBEROS,
};

struct admin_rule {
	enum admin_role ar_role;
	enum admin_principal_kind ar_kind;
	char ar_name[ADMIN_ROLES_MAX_NAME + 1];
};

struct admin_roles {
	size_t n;
	struct admin_rule rules[]; /* n of them, in file order */
};

/* "reporter", ..., "none". */
const char *admin_role_name(enum admin_role r);
/* The role named S (case-insensitive), or ROLE_NONE. */
enum admin_role admin_role_parse(const char *s);

/*
 * Parses TEXT (LEN bytes) into *OUT. On failure *OUT is NULL, *ERRLINE
 * the 1-based line (0: not line-specific) and ERR says why.
 */
int admin_roles_parse(const char *text, size_t len, struct admin_roles **out,
    unsigned long *errline, struct wsd_err *err) WSD_MUST_CHECK;
/* Reads DATADIR/admins (absent: an empty list) and parses it. */
int admin_roles_load(const char *datadir, struct admin_roles **out,
    unsigned long *errline, struct wsd_err *err) WSD_MUST_CHECK;
void admin_roles_free(struct admin_roles *r);

/*
 * The role of a local caller: user name USER (may be NULL when the uid
 * has no name) and the group names GROUPS[0..NGROUPS) (primary first).
 */
enum admin_role admin_role_for_local(const struct admin_roles *r,
    const char *user, const char *const *groups, size_t ngroups);
/* The role of a TLS client certificate identity ("CORP\ops1"). */
enum admin_role admin_role_for_cert(const struct admin_roles *r,
    const char *identity);
/* The role of a remote caller PRINCIPAL, "cert:CORP\ops1" or
 * "kerberos:CORP\ops1"; ROLE_NONE for anything else. */
enum admin_role admin_role_for_remote(const struct admin_roles *r,
    const char *principal);

/*
 * The role command ARGV[0..ARGC) of wsusutil needs (argv[0] is the
 * command name, case-insensitive; its options and subcommand follow):
 * reporter for those that only read (report, updates list|approvals,
 * computers list, groups list, sync status, checkhealth, downstream
 * list|servers, upstream show, admins list), approver for approve,
 * decline and computers move, administrator for every other command
 * and anything unknown.
 */
enum admin_role admin_cmd_role(int argc, char *const *argv);

/*
 * Whether command ARGV names files on the caller's machine (publish,
 * import, export, configuressl, testca, upstream set --ca/--client-cert,
 * publishingcert export, ...): those run only for a local administrator,
 * never through the admin socket or ApiRemoting30, because the daemon
 * would read or write the path with its own rights.
 */
bool admin_cmd_takes_paths(int argc, char *const *argv);

/*
 * Edits for `wsusutil admins`: a new file text with RULE added (or its
 * role changed when the name is already listed) or removed, into *OUT
 * (malloc'd, NUL-terminated), keeping comments and order.
 * admin_roles_edit_remove fails with WSD_ENOTFOUND when NAME is absent.
 */
int admin_roles_edit_set(const char *text, size_t len,
    const struct admin_rule *rule, char **out, struct wsd_err *err)
    WSD_MUST_CHECK;
int admin_roles_edit_remove(const char *text, size_t len,
    enum admin_principal_kind kind, const char *name, char **out,
    struct wsd_err *err) WSD_MUST_CHECK;

/* "user:alice" into *RULE's kind and name; -1 when malformed. */
int admin_principal_parse(const char *s, struct admin_rule *rule);
/* Why S is no KIND:NAME the file takes (static text), or NULL. */
const char *admin_principal_invalid(const char *s);

#endif
