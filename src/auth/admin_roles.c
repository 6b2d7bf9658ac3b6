/*
 * Who may administer this server (admin_roles.h): DIR/admins parsed
 * once into an immutable list, the role of a local or certificate
 * caller, the role and path rule of every wsusutil command, and the
 * text edits `wsusutil admins` makes.
 *
 * The command table is the one place that knows which wsusutil command
 * only reads; anything it does not list needs an administrator and is
 * taken to name files, so a new command is refused remotely until it is
 * added here (fail closed).
 */
#include "auth/admin_roles.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fileio.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "common/strparse.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

/* "administrator" is the longest role name: rules line up after it. */
#define ROLE_COLUMN 13

static const char *const role_names[] = {
	[ROLE_NONE] = "none",
	[ROLE_REPORTER] = "reporter",
	[ROLE_APPROVER] = "approver",
	[ROLE_ADMINISTRATOR] = "administrator",
};

static const char *const kind_prefix[] = {
	[PRINCIPAL_USER] = "user",
	[PRINCIPAL_GROUP] = "group",
	[PRINCIPAL_CERT] = "cert",
	[PRINCIPAL_KERBEROS] = "kerberos",
};

/* Remote identities: DOMAIN\name, compared case-insensitively. */
static bool
remote_kind(int kind)
{
	return kind == PRINCIPAL_CERT || kind == PRINCIPAL_KERBEROS;
}

const char *
admin_role_name(enum admin_role r)
{
	if ((unsigned)r < sizeof(role_names) / sizeof(role_names[0]))
		return role_names[r];
	return "none";
}

enum admin_role
admin_role_parse(const char *s)
{
	if (s == NULL)
		return ROLE_NONE;
	for (int r = ROLE_REPORTER; r <= ROLE_ADMINISTRATOR; r++)
		if (sv_eq_cstr_ci(sv_from_cstr(s), role_names[r]))
			return (enum admin_role)r;
	return ROLE_NONE;
}

static bool
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* ASCII-only case folding: locale never changes who matches. */
static bool
eq_ci(const char *a, const char *b)
{
	return sv_eq_ci(sv_from_cstr(a), sv_from_cstr(b));
}

/*
 * KIND:NAME in S into RULE's kind and name. NULL, or why not (static).
 */
static const char *
principal_sv(struct sv s, struct admin_rule *rule)
{
	struct sv name = { NULL, 0 };
	const char *bs;
	int kind = -1;

	for (int k = PRINCIPAL_USER; k <= PRINCIPAL_KERBEROS; k++) {
		size_t pl = strlen(kind_prefix[k]);

		if (s.n > pl && s.p[pl] == ':' &&
		    sv_eq_ci((struct sv){ s.p, pl },
			sv_from_cstr(kind_prefix[k]))) {
			kind = k;
			name = (struct sv){ s.p + pl + 1, s.n - pl - 1 };
			break;
		}
	}
	if (kind < 0)
		return "a name starts with user:, group:, cert: or kerberos:";
	if (name.n == 0)
		return "empty name";
	if (name.n > ADMIN_ROLES_MAX_NAME)
		return "name longer than " STR(ADMIN_ROLES_MAX_NAME) " bytes";
	for (size_t i = 0; i < name.n; i++) {
		if (name.p[i] == '\0')
			return "NUL byte in a name";
		if (is_ws(name.p[i]))
			return "whitespace in a name";
		if (is_ctl((unsigned char)name.p[i]))
			return "control character in a name";
	}
	if (remote_kind(kind)) {
		/* The identity certid.h and negotiate_map_principal make:
		 * one '\', both sides set. */
		bs = memchr(name.p, '\\', name.n);
		if (bs == NULL || bs == name.p || bs == name.p + name.n - 1 ||
		    memchr(bs + 1, '\\', name.n - (size_t)(bs + 1 - name.p)) !=
			NULL)
			return "a cert: or kerberos: name is DOMAIN\\name";
	}
	rule->ar_kind = (enum admin_principal_kind)kind;
	memcpy(rule->ar_name, name.p, name.n);
	rule->ar_name[name.n] = '\0';
	return NULL;
}

const char *
admin_principal_invalid(const char *s)
{
	struct admin_rule r;

	if (s == NULL)
		return "empty name";
	return principal_sv(sv_from_cstr(s), &r);
}

int
admin_principal_parse(const char *s, struct admin_rule *rule)
{
	struct admin_rule r;

	if (s == NULL || principal_sv(sv_from_cstr(s), &r) != NULL)
		return -1;
	rule->ar_kind = r.ar_kind;
	memcpy(rule->ar_name, r.ar_name, sizeof(r.ar_name));
	return 0;
}

/* One line of the file, without its terminator. */
enum line_kind { LINE_BLANK, LINE_RULE };

/*
 * LINE (its '\n' cut off) into RULE. Returns 0 with *KIND, or a negative
 * wsd_errc with ERR set.
 */
static int
parse_line(struct sv line, enum line_kind *kind, struct admin_rule *rule,
    struct wsd_err *err)
{
	struct sv role, name;
	char rbuf[16];
	const char *why;
	size_t i;

	if (memchr(line.p, '\0', line.n) != NULL)
		return wsd_fail(err, WSD_EINVAL, "NUL byte in the file");
	if (line.n > 0 && line.p[line.n - 1] == '\r')
		line.n--; /* CRLF */
	line = sv_trim_ows(line);
	if (line.n == 0 || line.p[0] == '#') {
		*kind = LINE_BLANK;
		return 0;
	}
	for (i = 0; i < line.n && !is_ws(line.p[i]); i++)
		;
	role = (struct sv){ line.p, i };
	name = sv_trim_ows((struct sv){ line.p + i, line.n - i });
	if (role.n >= sizeof(rbuf))
		return wsd_fail(err, WSD_EINVAL,
		    "unknown role (reporter, approver or administrator)");
	memcpy(rbuf, role.p, role.n);
	rbuf[role.n] = '\0';
	if ((rule->ar_role = admin_role_parse(rbuf)) == ROLE_NONE)
		return wsd_fail(err, WSD_EINVAL,
		    "unknown role (reporter, approver or administrator)");
	if (name.n == 0)
		return wsd_fail(err, WSD_EINVAL, "a role without a name");
	if ((why = principal_sv(name, rule)) != NULL)
		return wsd_fail(err, WSD_EINVAL, why);
	*kind = LINE_RULE;
	return 0;
}

/* The next line of TEXT from *POS: its bytes (no '\n') and whether a
 * '\n' ended it. False at the end. */
static bool
next_line(const char *text, size_t len, size_t *pos, struct sv *line, bool *nl)
{
	const char *end;

	if (*pos >= len)
		return false;
	line->p = text + *pos;
	end = memchr(line->p, '\n', len - *pos);
	if (end != NULL) {
		line->n = (size_t)(end - line->p);
		*nl = true;
		*pos += line->n + 1;
	} else {
		line->n = len - *pos;
		*nl = false;
		*pos = len;
	}
	return true;
}

int
admin_roles_parse(const char *text, size_t len, struct admin_roles **out,
    unsigned long *errline, struct wsd_err *err)
{
	struct admin_roles *r, *small;
	struct admin_rule rule;
	enum line_kind kind;
	unsigned long lineno = 0;
	struct sv line;
	size_t pos = 0;
	bool nl;
	int rc;

	*out = NULL;
	*errline = 0;
	if (len > ADMIN_ROLES_MAX_FILE)
		return wsd_fail(err, WSD_ETOOBIG,
		    "file larger than " STR(ADMIN_ROLES_MAX_FILE) " bytes");
	if (len > 0 && text == NULL)
		return wsd_fail(err, WSD_EINVAL, "no text");
	r = malloc(sizeof(*r) + ADMIN_ROLES_MAX_RULES * sizeof(r->rules[0]));
	if (r == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	r->n = 0;
	while (next_line(text, len, &pos, &line, &nl)) {
		lineno++;
		memset(&rule, 0, sizeof(rule));
		if ((rc = parse_line(line, &kind, &rule, err)) < 0)
			goto fail;
		if (kind != LINE_RULE)
			continue;
		if (r->n == ADMIN_ROLES_MAX_RULES) {
			rc = wsd_fail(err, WSD_ETOOBIG,
			    "more than " STR(ADMIN_ROLES_MAX_RULES) " rules");
			goto fail;
		}
		r->rules[r->n++] = rule;
	}
	/* Give back what the rules did not use; keeping R is fine too. */
	small = realloc(r, sizeof(*r) + r->n * sizeof(r->rules[0]));
	*out = small != NULL ? small : r;
	return 0;
fail:
	free(r);
	*errline = lineno;
	return rc;
}

int
admin_roles_load(const char *datadir, struct admin_roles **out,
    unsigned long *errline, struct wsd_err *err)
{
	struct stat st;
	struct sbuf path;
	size_t len = 0;
	char *buf = NULL;
	int rc;

	*out = NULL;
	*errline = 0;
	sbuf_init(&path, 4096);
	if (sbuf_addf(&path, "%s/%s", datadir, ADMIN_ROLES_FILE) < 0)
		return wsd_fail(err, WSD_ETOOBIG,
		    "data directory path too long");
	if (lstat(sbuf_str(&path), &st) < 0 && errno == ENOENT) {
		sbuf_release(&path);
		return admin_roles_parse("", 0, out, errline, err);
	}
	if ((rc = fileio_read_small(sbuf_str(&path), ADMIN_ROLES_MAX_FILE, &buf,
		 &len, &st, err)) < 0) {
		sbuf_release(&path);
		return rc;
	}
	/* Whoever may write the file may make himself administrator. */
	if (st.st_mode & S_IWOTH) {
		log_warnx("%s: writable by everyone: no rule applies",
		    sbuf_str(&path));
		rc = wsd_fail(err, WSD_EPERM,
		    "the file is writable by everyone");
	} else {
		rc = admin_roles_parse(buf, len, out, errline, err);
		if (rc < 0)
			log_warnx("%s:%lu: %s", sbuf_str(&path), *errline,
			    err->what);
	}
	free(buf);
	sbuf_release(&path);
	return rc;
}

void
admin_roles_free(struct admin_roles *r)
{
	free(r);
}

enum admin_role
admin_role_for_local(const struct admin_roles *r, const char *user,
    const char *const *groups, size_t ngroups)
{
	enum admin_role best = ROLE_NONE;

	if (r == NULL)
		return ROLE_NONE;
	for (size_t i = 0; i < r->n; i++) {
		const struct admin_rule *x = &r->rules[i];
		bool match = false;

		if (x->ar_role <= best)
			continue;
		if (x->ar_kind == PRINCIPAL_USER)
			match = user != NULL && strcmp(x->ar_name, user) == 0;
		else if (x->ar_kind == PRINCIPAL_GROUP && groups != NULL)
			for (size_t g = 0; g < ngroups && !match; g++)
				match = groups[g] != NULL &&
				    strcmp(x->ar_name, groups[g]) == 0;
		if (match)
			best = x->ar_role;
	}
	return best;
}

static enum admin_role
role_for(const struct admin_roles *r, enum admin_principal_kind kind,
    const char *identity)
{
	enum admin_role best = ROLE_NONE;

	if (r == NULL || identity == NULL)
		return ROLE_NONE;
	for (size_t i = 0; i < r->n; i++) {
		const struct admin_rule *x = &r->rules[i];

		/* Case-insensitive as Windows names are; "D\X$" (the
		 * machine) is not "D\X" (a user): '$' compares exactly. */
		if (x->ar_kind == kind && x->ar_role > best &&
		    eq_ci(x->ar_name, identity))
			best = x->ar_role;
	}
	return best;
}

enum admin_role
admin_role_for_cert(const struct admin_roles *r, const char *identity)
{
	return role_for(r, PRINCIPAL_CERT, identity);
}

enum admin_role
admin_role_for_remote(const struct admin_roles *r, const char *principal)
{
	struct admin_rule p;

	/* A principal the parser takes, of a kind a remote caller has:
	 * never user: or group:, which only the admin socket proves. */
	if (principal == NULL || principal_sv(sv_from_cstr(principal), &p) ||
	    !remote_kind(p.ar_kind))
		return ROLE_NONE;
	return role_for(r, p.ar_kind, p.ar_name);
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */

enum cmd_paths {
	PATHS_NEVER,  /* no argument is a file */
	PATHS_ALWAYS, /* positional files (publish FILE..., export PACKAGE) */
	PATHS_OPTS,   /* when one of OPTS is given */
};

struct cmd_spec {
	const char *cs_cmd; /* case-insensitive, as wsusutil's main.c */
	const char *cs_sub; /* exact, as each cmd_*.c; NULL: none */
	enum admin_role cs_role;
	enum cmd_paths cs_paths;
	const char *const *cs_opts; /* PATHS_OPTS: options taking a file */
};

static const char *const upstream_opts[] = { "--ca", "--client-cert",
	"--client-key", NULL };
static const char *const configuressl_opts[] = { "--cert", "--key", "--chain",
	NULL };
static const char *const testca_opts[] = { "--out", NULL };

/*
 * Every wsusutil command (src/wsusutil/main.c cmds[]) and subcommand.
 * An entry with a subcommand matches only that argv[1]; an entry without
 * one matches the command whatever follows, when no entry with a
 * subcommand did.
 */
static const struct cmd_spec cmd_specs[] = {
	{ "report", NULL, ROLE_REPORTER, PATHS_NEVER, NULL },
	{ "checkhealth", NULL, ROLE_REPORTER, PATHS_NEVER, NULL },
	{ "updates", "list", ROLE_REPORTER, PATHS_NEVER, NULL },
	{ "updates", "approvals", ROLE_REPORTER, PATHS_NEVER, NULL },
	{ "computers", "list", ROLE_REPORTER, PATHS_NEVER, NULL },
	{ "computers", "move", ROLE_APPROVER, PATHS_NEVER, NULL },
	{ "computers", "delete", ROLE_ADMINISTRATOR, PATHS_NEVER, NULL },
	{ "groups", "list", ROLE_REPORTER, PATHS_NEVER, NULL },
	{ "groups", "add", ROLE_ADMINISTRATOR, PATHS_NEVER, NULL },
	{ "groups", "remove", ROLE_ADMINISTRATOR, PATHS_NEVER, NULL },
	{ "sync", "status", ROLE_REPORTER, PATHS_NEVER, NULL },
	{ "sync", NULL, ROLE_ADMINISTRATOR, PATHS_NEVER, NULL },
	{ "downstream", "list", ROLE_REPORTER, PATHS_NEVER, NULL },
	{ "downstream", "servers", ROLE_REPORTER, PATHS_NEVER, NULL },
	{ "downstream", "allow", ROLE_ADMINISTRATOR, PATHS_NEVER, NULL },
	{ "downstream", "deny", ROLE_ADMINISTRATOR, PATHS_NEVER, NULL },
	{ "downstream", "remove", ROLE_ADMINISTRATOR, PATHS_NEVER, NULL },
	{ "upstream", "show", ROLE_REPORTER, PATHS_NEVER, NULL },
	{ "upstream", "set", ROLE_ADMINISTRATOR, PATHS_OPTS, upstream_opts },
	{ "admins", "list", ROLE_REPORTER, PATHS_NEVER, NULL },
	{ "admins", "add", ROLE_ADMINISTRATOR, PATHS_NEVER, NULL },
	{ "admins", "remove", ROLE_ADMINISTRATOR, PATHS_NEVER, NULL },
	{ "approve", NULL, ROLE_APPROVER, PATHS_NEVER, NULL },
	{ "decline", NULL, ROLE_APPROVER, PATHS_NEVER, NULL },
	{ "publishingcert", "create", ROLE_ADMINISTRATOR, PATHS_NEVER, NULL },
	{ "publishingcert", "export", ROLE_ADMINISTRATOR, PATHS_ALWAYS, NULL },
	{ "cookiekey", "rotate", ROLE_ADMINISTRATOR, PATHS_NEVER, NULL },
	{ "cleanup", NULL, ROLE_ADMINISTRATOR, PATHS_NEVER, NULL },
	{ "reset", NULL, ROLE_ADMINISTRATOR, PATHS_NEVER, NULL },
	{ "deleteunneededrevisions", NULL, ROLE_ADMINISTRATOR, PATHS_NEVER,
	    NULL },
	{ "export", NULL, ROLE_ADMINISTRATOR, PATHS_ALWAYS, NULL },
	{ "import", NULL, ROLE_ADMINISTRATOR, PATHS_ALWAYS, NULL },
	{ "publish", NULL, ROLE_ADMINISTRATOR, PATHS_ALWAYS, NULL },
	{ "configuressl", NULL, ROLE_ADMINISTRATOR, PATHS_OPTS,
	    configuressl_opts },
	{ "testca", NULL, ROLE_ADMINISTRATOR, PATHS_OPTS, testca_opts },
};

/* The spec ARGV runs under, or NULL when wsusutil has no such command. */
static const struct cmd_spec *
find_cmd(int argc, char *const *argv)
{
	const struct cmd_spec *fallback = NULL;
	bool known = false;

	if (argc < 1 || argv == NULL || argv[0] == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(cmd_specs) / sizeof(cmd_specs[0]); i++) {
		const struct cmd_spec *c = &cmd_specs[i];

		if (!eq_ci(c->cs_cmd, argv[0]))
			continue;
		known = true;
		if (c->cs_sub == NULL)
			fallback = c;
		else if (argc >= 2 && argv[1] != NULL &&
		    strcmp(c->cs_sub, argv[1]) == 0)
			return c;
	}
	return known ? fallback : NULL;
}

enum admin_role
admin_cmd_role(int argc, char *const *argv)
{
	const struct cmd_spec *c = find_cmd(argc, argv);

	return c != NULL ? c->cs_role : ROLE_ADMINISTRATOR;
}

/* Whether ARG is option OPT, alone or as OPT=VALUE. */
static bool
is_opt(const char *arg, const char *opt)
{
	size_t n = strlen(opt);

	return strncmp(arg, opt, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

bool
admin_cmd_takes_paths(int argc, char *const *argv)
{
	const struct cmd_spec *c = find_cmd(argc, argv);

	if (c == NULL)
		return true;
	switch (c->cs_paths) {
	case PATHS_NEVER:
		return false;
	case PATHS_OPTS:
		/* Anywhere, even after "--": a false yes only sends the
		 * caller to a local shell. */
		for (int i = 1; i < argc; i++) {
			if (argv[i] == NULL)
				return true;
			for (const char *const *o = c->cs_opts; *o != NULL; o++)
				if (is_opt(argv[i], *o))
					return true;
		}
		return false;
	case PATHS_ALWAYS:
	default:
		return true;
	}
}

/* ------------------------------------------------------------------ */
/* Edits                                                               */

static bool
same_principal(const struct admin_rule *a, enum admin_principal_kind kind,
    const char *name)
{
	if (a->ar_kind != kind)
		return false;
	if (remote_kind(kind))
		return eq_ci(a->ar_name, name);
	return strcmp(a->ar_name, name) == 0;
}

static int
add_rule_line(struct sbuf *sb, const struct admin_rule *rule)
{
	return sbuf_addf(sb, "%-*s %s:%s", ROLE_COLUMN,
	    admin_role_name(rule->ar_role), kind_prefix[rule->ar_kind],
	    rule->ar_name);
}

/*
 * TEXT with the rules for KIND:NAME replaced by SET (the first of them
 * rewritten in place, later duplicates dropped, so the role becomes
 * exactly SET's: the highest rule would otherwise still win) or, with
 * SET NULL, dropped. Every other line is copied byte for byte.
 */
static int
edit(const char *text, size_t len, enum admin_principal_kind kind,
    const char *name, const struct admin_rule *set, char **out,
    struct wsd_err *err)
{
	struct admin_roles *check = NULL;
	struct admin_rule rule;
	enum line_kind lk;
	unsigned long line_no;
	bool found = false, nl;
	struct sv line;
	size_t pos = 0, nrules = 0;
	struct sbuf sb;
	int rc;

	*out = NULL;
	if ((rc = admin_roles_parse(text, len, &check, &line_no, err)) < 0)
		return rc;
	nrules = check->n;
	admin_roles_free(check);
	sbuf_init(&sb, ADMIN_ROLES_MAX_FILE);
	while (next_line(text, len, &pos, &line, &nl)) {
		memset(&rule, 0, sizeof(rule));
		if ((rc = parse_line(line, &lk, &rule, err)) < 0)
			goto fail; /* cannot happen: parsed above */
		if (lk == LINE_RULE && same_principal(&rule, kind, name)) {
			bool first = !found;

			found = true;
			if (set == NULL || !first)
				continue;
			/* The line keeps its end: CRLF, LF or none. */
			if ((rc = add_rule_line(&sb, set)) < 0 ||
			    (line.n > 0 && line.p[line.n - 1] == '\r' &&
				(rc = sbuf_add(&sb, "\r", 1)) < 0) ||
			    (nl && (rc = sbuf_add(&sb, "\n", 1)) < 0))
				goto fail_sb;
			continue;
		}
		if ((line.n > 0 && (rc = sbuf_add(&sb, line.p, line.n)) < 0) ||
		    (nl && (rc = sbuf_add(&sb, "\n", 1)) < 0))
			goto fail_sb;
	}
	if (set == NULL && !found) {
		rc = wsd_fail(err, WSD_ENOTFOUND, "no rule for that name");
		goto fail;
	}
	if (set != NULL && !found) {
		if (nrules >= ADMIN_ROLES_MAX_RULES) {
			rc = wsd_fail(err, WSD_ETOOBIG,
			    "more than " STR(ADMIN_ROLES_MAX_RULES) " rules");
			goto fail;
		}
		if ((sb.sb_len > 0 && sb.sb_buf[sb.sb_len - 1] != '\n' &&
			(rc = sbuf_add(&sb, "\n", 1)) < 0) ||
		    (rc = add_rule_line(&sb, set)) < 0 ||
		    (rc = sbuf_add(&sb, "\n", 1)) < 0)
			goto fail_sb;
	}
	/* What we write must read back. */
	if ((rc = admin_roles_parse(sbuf_str(&sb), sb.sb_len, &check, &line_no,
		 err)) < 0) {
		rc = wsd_fail(err, WSD_EINTERNAL,
		    "the edited file does not read back");
		goto fail;
	}
	admin_roles_free(check);
	*out = sbuf_detach(&sb, NULL);
	return 0;
fail_sb:
	/* sbuf released itself. */
	return wsd_fail(err, rc,
	    rc == WSD_ETOOBIG
		? "file would exceed " STR(ADMIN_ROLES_MAX_FILE) " bytes"
		: "out of memory");
fail:
	sbuf_release(&sb);
	return rc;
}

int
admin_roles_edit_set(const char *text, size_t len,
    const struct admin_rule *rule, char **out, struct wsd_err *err)
{
	struct admin_rule r;
	struct sbuf sb;
	const char *why;

	*out = NULL;
	if (rule->ar_role < ROLE_REPORTER || rule->ar_role > ROLE_ADMINISTRATOR)
		return wsd_fail(err, WSD_EINVAL,
		    "unknown role (reporter, approver or administrator)");
	if ((unsigned)rule->ar_kind > PRINCIPAL_KERBEROS ||
	    memchr(rule->ar_name, '\0', sizeof(rule->ar_name)) == NULL)
		return wsd_fail(err, WSD_EINVAL, "malformed rule");
	/* The name must be one the parser takes back. */
	sbuf_init(&sb, 4 * ADMIN_ROLES_MAX_NAME);
	if (sbuf_addf(&sb, "%s:%s", kind_prefix[rule->ar_kind], rule->ar_name) <
	    0)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	why = principal_sv((struct sv){ sb.sb_buf, sb.sb_len }, &r);
	sbuf_release(&sb);
	if (why != NULL)
		return wsd_fail(err, WSD_EINVAL, why);
	r.ar_role = rule->ar_role;
	return edit(text, len, r.ar_kind, r.ar_name, &r, out, err);
}

int
admin_roles_edit_remove(const char *text, size_t len,
    enum admin_principal_kind kind, const char *name, char **out,
    struct wsd_err *err)
{
	*out = NULL;
	if ((unsigned)kind > PRINCIPAL_KERBEROS || name == NULL)
		return wsd_fail(err, WSD_EINVAL, "malformed rule");
	return edit(text, len, kind, name, NULL, out, err);
}
