/*
 * The chained-server authorization list (issue #7 item 3, WSUSSS.md 7.2):
 * which downstream servers may call ServerSyncWebService. It is the
 * ASP.NET URL-authorization list the Windows WSUS guide has the
 * administrator write into ServerSyncWebService's web.config, read from
 * DIR/ServerSyncWebService/web.config so that an existing list can be
 * pasted as it is:
 *
 *   <configuration><system.web><authorization>
 *     <allow users="CORP\ds1$,CORP\ds2$"/>
 *     <deny users="*"/>
 *   </authorization></system.web></configuration>
 *
 * What callers may rely on:
 * - A parsed list is immutable: authz_check may run on any number of
 *   threads at once. A reload (SIGHUP) parses a new list and swaps it in;
 *   a list that fails to parse leaves the old one in place (the caller's
 *   job). authz_free releases it; only the edit functions below change
 *   one, and only wsusutil calls them.
 * - Semantics are ASP.NET's (<system.web>, not IIS's <system.webServer>):
 *   rules in document order, the first rule that matches decides, and
 *   when none matches the request is allowed (the root web.config's
 *   <allow users="*"/>). No file, no <authorization> element and an empty
 *   one all mean "no rule": every caller is admitted (the guide's "absent
 *   or empty allow list admits every server"). Refusing anonymous callers
 *   before the list is consulted (401 + WWW-Authenticate: Negotiate) is
 *   the HTTP layer's job, as IIS's anonymous-off is.
 * - A rule matches when its verbs are absent or name the request method
 *   (case-insensitive) and the caller matches one users entry: "*" is
 *   everyone (anonymous too), "?" the anonymous caller only, any other
 *   entry a DOMAIN\name compared case-insensitively. Entries are the
 *   comma-separated parts of the attribute with surrounding whitespace
 *   removed; empty parts are skipped.
 * - Two deviations from ASP.NET, both documented in docs/CHAINING.md:
 *   1. A machine account matches with or without its '$' (issue #7:
 *      "DS1$@CORP.EXAMPLE matches CORP\DS1 and CORP\DS1$"): identity
 *      CORP\DS1$ matches entries CORP\DS1$ and CORP\DS1; identity CORP\DS1
 *      (a user account) matches CORP\DS1 only. ASP.NET compares exactly.
 *   2. roles (Windows groups) cannot be resolved without a directory:
 *      a roles entry never matches, except "*" (everyone). A rule naming
 *      only roles therefore never matches; parsing logs a warning for
 *      it, and a louder one for a deny rule (members of the group are
 *      NOT denied by it).
 * - Parsing refuses, with the line in the log and in *errline: a file over
 *   WSD_MAX_AUTHZ_FILE, NUL bytes (the file must be UTF-8), any DOCTYPE or
 *   entity declaration, undeclared entities, malformed XML, a root other
 *   than <configuration>, more than one <authorization> section, an
 *   <authorization> inside <location> or with configSource (not followed),
 *   anything inside <authorization> but <allow>, <deny>, comments and
 *   whitespace, unknown attributes on a rule (a typo must not silently
 *   change a security list), a rule with neither users nor roles, control
 *   characters in an entry, more than WSD_MAX_AUTHZ_RULES rules, more than
 *   WSD_MAX_AUTHZ_NAMES entries in one attribute or an entry longer than
 *   WSD_MAX_AUTHZ_NAME bytes. Everything else in a web.config (other
 *   sections, <location>s without authorization, config-lock attributes)
 *   is ignored.
 */
#ifndef WSUSD_AUTH_AUTHZ_H
#define WSUSD_AUTH_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>

#include "common/wsd_err.h"

struct sbuf;

/* Where the list lives, relative to the data directory. */
#define AUTHZ_DIR       "ServerSyncWebService"
#define AUTHZ_FILE      "web.config"
#define AUTHZ_WEBCONFIG AUTHZ_DIR "/" AUTHZ_FILE

/*
 * Limits (candidates for common/wsd_limits.h). A web.config from a real
 * WSUS is a few KiB; 1 MiB bounds what is read into memory and parsed.
 * 10,000 rules is far beyond any chained deployment (Microsoft documents
 * hundreds of downstream servers at most) and keeps a linear scan per
 * request cheap. 1,000 entries per attribute and 256 bytes per entry
 * (DOMAIN is at most 15, a SAM account name 20, a UPN-ish name far less
 * than 256) bound one rule; a list of more servers is split over rules.
 */
#define WSD_MAX_AUTHZ_FILE  (1024 * 1024)
#define WSD_MAX_AUTHZ_RULES 10000
#define WSD_MAX_AUTHZ_NAMES 1000
#define WSD_MAX_AUTHZ_NAME  256

/* What the list was read from; all but AUTHZ_SECTION mean "no rule". */
enum authz_source {
	AUTHZ_NO_FILE,    /* no web.config */
	AUTHZ_NO_SECTION, /* a web.config without <authorization> */
	AUTHZ_SECTION,    /* an <authorization> element, maybe empty */
};

/* One comma-separated attribute (users, roles or verbs). */
struct authz_names {
	bool an_present; /* the attribute was there (even empty) */
	char *an_raw;    /* its value as written; NULL when absent */
	size_t an_n;     /* entries, trimmed, none empty */
	char **an_v;
};

struct authz_rule {
	bool ar_allow;
	unsigned long ar_line; /* in the file; 0 for a rule an edit made */
	struct authz_names ar_users;
	struct authz_names ar_roles;
	struct authz_names ar_verbs;
};

/* Owned by whoever parsed it; authz_free releases it. */
struct authz_list {
	enum authz_source al_source;
	size_t al_nrules; /* <= WSD_MAX_AUTHZ_RULES */
	size_t al_cap;    /* slots allocated in al_rules */
	struct authz_rule *al_rules;
};

enum authz_decision {
	AUTHZ_DENY = 0,
	AUTHZ_ALLOW = 1,
};

/* "No rule matched" in authz_check's *rule. */
#define AUTHZ_NO_RULE ((size_t)-1)

/*
 * Parses LEN bytes of web.config text (NAME is only for messages) into a
 * new list in *OUT. On failure *OUT is NULL, "NAME:LINE: problem" is
 * logged, *ERRLINE (when not NULL) gets the line (0 when none applies)
 * and ERR a static text. Warnings (roles, rules matching nobody) are
 * logged with their line.
 */
int authz_parse(const char *buf, size_t len, const char *name,
    struct authz_list **out, unsigned long *errline,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Reads PATH and parses it as above. A missing file is not an error: the
 * result is an empty list with al_source AUTHZ_NO_FILE.
 */
int authz_load_file(const char *path, struct authz_list **out,
    unsigned long *errline, struct wsd_err *err) WSD_MUST_CHECK;

/* authz_load_file on DATADIR/ServerSyncWebService/web.config. */
int authz_load(const char *datadir, struct authz_list **out,
    unsigned long *errline, struct wsd_err *err) WSD_MUST_CHECK;

/* An empty list (AUTHZ_NO_FILE) in *OUT, or WSD_ENOMEM. */
int authz_new(struct authz_list **out, struct wsd_err *err) WSD_MUST_CHECK;

/* Releases LIST and everything in it. NULL-safe. */
void authz_free(struct authz_list *list);

/*
 * The decision for IDENTITY ("DOMAIN\name"; NULL or "" = anonymous)
 * calling with METHOD (an HTTP method, e.g. "POST"; NULL matches only
 * rules without verbs). LIST NULL = no list = allow. *RULE (when not NULL)
 * gets the index of the deciding rule in al_rules, or AUTHZ_NO_RULE.
 * Never allocates, never fails.
 */
enum authz_decision authz_check(const struct authz_list *list,
    const char *identity, const char *method, size_t *rule);

/*
 * Appends to OUT one line for the log (no newline), e.g.
 *   CORP\DS1$ allowed: rule 1 <allow users="CORP\ds1,CORP\ds2"/> (line 12)
 *   CORP\DS9$ denied: rule 2 <deny users="*"/> (line 13)
 *   (anonymous) allowed: no rule matched
 *   CORP\DS9$ allowed: no authorization list
 * The rule is printed from the attribute values as written; bytes outside
 * printable ASCII in it or in IDENTITY are shown as \xHH, so a name
 * cannot forge a log line, and IDENTITY and each attribute value are cut
 * after 256 bytes ("..."), so the line stays under 6 KiB (an OUT capped
 * at 8192 always suffices). Returns 0 or sbuf's error (OUT is
 * then released, as sbuf does).
 */
int authz_describe(const struct authz_list *list, const char *identity,
    enum authz_decision d, size_t rule, struct sbuf *out) WSD_MUST_CHECK;

/* Appends rule R as "<allow users="..." verbs="..."/>" (escaped as above). */
int authz_rule_xml(const struct authz_rule *r, struct sbuf *out) WSD_MUST_CHECK;

/*
 * Appends rule R as wsusutil downstream list shows it, entries as parsed:
 * "allow users=CORP\DS1$,CORP\DS2$" (then " roles=..." and " verbs=..."
 * when present), escaped as above.
 */
int authz_rule_text(const struct authz_rule *r,
    struct sbuf *out) WSD_MUST_CHECK;

/*
 * wsusutil's names: "*", "?" or DOMAIN\name with exactly one backslash,
 * DOMAIN 1-15 of [A-Za-z0-9._-], name 1-64 printable ASCII bytes other
 * than , " < > & and backslash, not starting or ending with a space.
 * Returns NULL when NAME is one, else a static text saying what is wrong.
 */
const char *authz_name_invalid(const char *name);

/*
 * Edits, for wsusutil downstream (NAME must pass authz_name_invalid).
 * Entries are compared with NAME case-insensitively and exactly (no '$'
 * folding: "remove CORP\DS1" leaves CORP\DS1$). A rule whose users an
 * edit empties is dropped unless it still names roles.
 *
 * authz_allow_name: NAME leaves every deny rule; then it joins the first
 *   allow rule that has users, no verbs and no roles, if no deny rule
 *   precedes that rule; otherwise a new <allow users="NAME"/> goes first.
 * authz_deny_name: NAME leaves every allow rule; then it joins the first
 *   rule if that is a deny rule with users, no verbs and no roles;
 *   otherwise a new <deny users="NAME"/> goes first.
 * authz_remove_name: NAME leaves every rule; WSD_ENOTFOUND if it was in
 *   none.
 *
 * Afterwards authz_check(NAME) is allow (deny) for every method, which
 * the functions verify. *CHANGED says whether the list changed (an allow
 * of a name already allowed that way does not). The edit is made on a
 * copy, so on any failure (WSD_EINVAL bad name, WSD_ETOOBIG a limit,
 * WSD_ENOTFOUND, WSD_ENOMEM) LIST is exactly as it was. A changed list
 * becomes AUTHZ_SECTION.
 */
int authz_allow_name(struct authz_list *list, const char *name, bool *changed,
    struct wsd_err *err) WSD_MUST_CHECK;
int authz_deny_name(struct authz_list *list, const char *name, bool *changed,
    struct wsd_err *err) WSD_MUST_CHECK;
int authz_remove_name(struct authz_list *list, const char *name, bool *changed,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Writes LIST to the web.config at PATH, atomically (temporary file,
 * fsync, rename, directory fsync; see common/fileio.h).
 *
 * An existing file is parsed again (same rules as authz_parse) and only
 * the content of its <authorization> element is replaced (created under
 * <system.web>, itself created if needed, when missing); the rest of the
 * document is kept: other sections, comments, attributes, whitespace. It
 * is serialised again by libxml2, so the XML declaration is normalised to
 * UTF-8, a byte-order mark and character references are not kept, and
 * comments inside <authorization> are dropped. The file keeps its owner
 * (when we may) and its mode less anything beyond 0640.
 *
 * A missing file is created as a minimal <configuration><system.web>
 * <authorization>, mode 0640, owned like its directory (best effort: only
 * root may give a file away); a missing DATADIR/ServerSyncWebService
 * directory is created, mode 0750.
 *
 * The new text is parsed back and must give exactly LIST's rules before
 * anything is written; otherwise WSD_EINTERNAL and PATH is untouched.
 */
int authz_write(const char *path, const struct authz_list *list,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Serialises edits between wsusutil processes: creates
 * DATADIR/ServerSyncWebService when missing (mode 0750, owned like
 * DATADIR when we may) and takes an exclusive flock on it, waiting up to
 * 5 s (then WSD_EAGAIN). *FD is the lock; close it when done.
 */
int authz_lock(const char *datadir, int *fd,
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
