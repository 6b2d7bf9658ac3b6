#include "catalog/applicability.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/sbuf.h"
#include "common/strparse.h"
#include "common/wsd_err.h"
#include "common/xmlesc.h"

/*
 * Quoted strings one line may hold. The longest rules (file-version-regsz,
 * registry-expand-sz) have three; one more lets a fourth be reported as
 * "unexpected text" by the rule instead of as an overflow here.
 */
#define APPL_MAX_STRINGS 4
/* Fields on one line: any:, not, the rule name and at most eight more. */
#define APPL_MAX_TOKENS 16

/* The only hive accepted (see get_hive). */
#define APPL_HKLM "HKEY_LOCAL_MACHINE"

enum tok_kind {
	TOK_WORD,   /* bare word: rule name, hive, number, version */
	TOK_STRING, /* "quoted", escapes undone */
	TOK_OP,     /* < <= = >= > */
};

struct tok {
	enum tok_kind kind;
	struct sv sv; /* into the input, or into line.str for strings */
};

/* One tokenized line. Strings are decoded into str[]. */
struct line {
	struct tok tk[APPL_MAX_TOKENS];
	size_t ntk;
	size_t pos; /* next token to consume */
	char str[APPL_MAX_STRINGS][WSD_MAX_APPL_STRING];
	size_t nstr;
	const char *what; /* static message of the syntax error, or NULL */
};

/* One of [installed] / [installable] while it is being built. */
struct section {
	struct sbuf body;  /* the AND members so far */
	size_t n_members;  /* members in body */
	struct sbuf group; /* the current run of "any:" rules */
	size_t n_group;    /* rules in group */
	bool seen;         /* its header was read */
};

static int
line_fail(struct line *l, enum wsd_errc code, const char *what)
{
	l->what = what;
	return code;
}

/* ------------------------------------------------------------------ */
/* Characters and tokens                                               */

/*
 * A line must be UTF-8 (no overlong forms, no surrogates) without control
 * characters: C0 other than TAB, DEL and C1. U+FFFE and U+FFFF are not
 * XML characters either. NUL is a control character like any other.
 */
static const char *
check_chars(struct sv s)
{
	return xmlesc_bad_what(
	    xmlesc_check(s.p, s.n, XMLESC_NO_C1 | XMLESC_NO_NL));
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_opch(char c)
{
	return c == '<' || c == '>' || c == '=';
}

/*
 * Decodes the quoted string starting at s.p[*ip] (the opening quote) into
 * OUT. Only \\ and \" are escapes, so a Windows path written with single
 * backslashes is an error rather than silently something else.
 */
static int
tok_string(struct line *l, struct sv s, size_t *ip, char *out, size_t *outn)
{
	size_t i = *ip + 1, o = 0;

	for (;;) {
		char c;

		if (i >= s.n)
			return line_fail(l, WSD_EINVAL, "unterminated quote");
		c = s.p[i];
		if (c == '"')
			break;
		if (c == '\t')
			return line_fail(l, WSD_EINVAL, "control character");
		if (c == '\\') {
			if (i + 1 >= s.n)
				return line_fail(l, WSD_EINVAL,
				    "unterminated quote");
			c = s.p[i + 1];
			if (c != '\\' && c != '"')
				return line_fail(l, WSD_EINVAL,
				    "invalid escape in quoted string "
				    "(write \\\\ for a backslash, \\\" for a "
				    "quote)");
			i++;
		}
		if (o == WSD_MAX_APPL_STRING)
			return line_fail(l, WSD_ETOOBIG,
			    "string too long (at most 1024 bytes)");
		out[o++] = c;
		i++;
	}
	*ip = i + 1;
	*outn = o;
	return 0;
}

/* Splits one line (already checked by check_chars) into tokens. */
static int
tokenize(struct line *l, struct sv s)
{
	size_t i = 0;
	int rc;

	l->ntk = l->pos = l->nstr = 0;
	for (;;) {
		struct tok *t;
		size_t st;

		while (i < s.n && is_space(s.p[i]))
			i++;
		if (i == s.n || s.p[i] == '#')
			return 0;
		if (l->ntk == APPL_MAX_TOKENS)
			return line_fail(l, WSD_EINVAL,
			    "unexpected text after the rule");
		t = &l->tk[l->ntk];
		st = i;
		if (s.p[i] == '"') {
			size_t n;

			if (l->nstr == APPL_MAX_STRINGS)
				return line_fail(l, WSD_EINVAL,
				    "unexpected text after the rule");
			if ((rc = tok_string(l, s, &i, l->str[l->nstr], &n)) <
			    0)
				return rc;
			t->kind = TOK_STRING;
			t->sv = (struct sv){ l->str[l->nstr], n };
			l->nstr++;
		} else if (is_opch(s.p[i])) {
			i++;
			if (i < s.n && s.p[i] == '=' && s.p[st] != '=')
				i++;
			t->kind = TOK_OP;
			t->sv = (struct sv){ s.p + st, i - st };
		} else {
			while (i < s.n && !is_space(s.p[i]) && s.p[i] != '"' &&
			    s.p[i] != '#' && !is_opch(s.p[i]))
				i++;
			t->kind = TOK_WORD;
			t->sv = (struct sv){ s.p + st, i - st };
		}
		l->ntk++;
	}
}

static const struct tok *
peek(const struct line *l)
{
	return l->pos < l->ntk ? &l->tk[l->pos] : NULL;
}

static bool
peek_word(const struct line *l, const char *w)
{
	const struct tok *t = peek(l);

	return t != NULL && t->kind == TOK_WORD && sv_eq_cstr_ci(t->sv, w);
}

/* ------------------------------------------------------------------ */
/* Fields                                                              */

static int
end_of_rule(struct line *l)
{
	if (l->pos != l->ntk)
		return line_fail(l, WSD_EINVAL,
		    "unexpected text after the rule");
	return 0;
}

static int
get_string(struct line *l, struct sv *out)
{
	const struct tok *t = peek(l);

	if (t == NULL || t->kind != TOK_STRING)
		return line_fail(l, WSD_EINVAL, "expected a quoted string");
	l->pos++;
	*out = t->sv;
	return 0;
}

/*
 * Only HKEY_LOCAL_MACHINE: it is the only Key value in the captures
 * (all 1,435 captured rules with a Key), and the agent evaluates rules as
 * LocalSystem, for which HKEY_CURRENT_USER means nothing useful.
 */
static int
get_hive(struct line *l)
{
	const struct tok *t = peek(l);

	if (t == NULL)
		return line_fail(l, WSD_EINVAL, "missing registry hive (HKLM)");
	if (t->kind != TOK_WORD ||
	    !(sv_eq_cstr_ci(t->sv, "HKLM") || sv_eq_cstr_ci(t->sv, APPL_HKLM)))
		return line_fail(l, WSD_EINVAL,
		    "unknown registry hive (only HKLM / HKEY_LOCAL_MACHINE)");
	l->pos++;
	return 0;
}

/* A subkey below the hive: not empty, no leading backslash. */
static int
get_subkey(struct line *l, struct sv *out)
{
	int rc;

	if ((rc = get_string(l, out)) < 0)
		return rc;
	if (out->n == 0)
		return line_fail(l, WSD_EINVAL, "empty registry subkey");
	if (out->p[0] == '\\')
		return line_fail(l, WSD_EINVAL,
		    "registry subkey must not start with a backslash");
	return 0;
}

static int
get_value_name(struct line *l, struct sv *out)
{
	int rc;

	if ((rc = get_string(l, out)) < 0)
		return rc;
	if (out->n == 0)
		return line_fail(l, WSD_EINVAL, "empty registry value name");
	return 0;
}

/* bt:ScalarComparison (BaseTypes schema). */
static int
get_scalar_op(struct line *l, const char **out)
{
	static const struct {
		const char *op, *name;
	} ops[] = {
		{ "<", "LessThan" },
		{ "<=", "LessThanOrEqualTo" },
		{ "=", "EqualTo" },
		{ ">=", "GreaterThanOrEqualTo" },
		{ ">", "GreaterThan" },
	};
	const struct tok *t = peek(l);

	if (t != NULL && t->kind == TOK_OP)
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			if (sv_eq(t->sv, sv_from_cstr(ops[i].op))) {
				l->pos++;
				*out = ops[i].name;
				return 0;
			}
	return line_fail(l, WSD_EINVAL,
	    "expected a comparison operator (<, <=, =, >=, >)");
}

/* bt:StringComparison (BaseTypes schema). */
static int
get_string_op(struct line *l, const char **out)
{
	static const struct {
		const char *word, *name;
	} ops[] = {
		{ "begins-with", "BeginsWith" },
		{ "contains", "Contains" },
		{ "ends-with", "EndsWith" },
	};
	const struct tok *t = peek(l);

	if (t != NULL && t->kind == TOK_OP && sv_eq(t->sv, sv_from_cstr("="))) {
		l->pos++;
		*out = "EqualTo";
		return 0;
	}
	if (t != NULL && t->kind == TOK_WORD)
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			if (sv_eq_cstr_ci(t->sv, ops[i].word)) {
				l->pos++;
				*out = ops[i].name;
				return 0;
			}
	return line_fail(l, WSD_EINVAL,
	    "expected a string comparison (=, begins-with, contains, "
	    "ends-with)");
}

/*
 * Dot-separated decimal numbers 0-65535, 1 to MAXPARTS of them; missing
 * parts are 0. File versions are four 16-bit fields (VS_FIXEDFILEINFO)
 * and bt:Version is exactly four parts.
 */
static int
get_version(struct line *l, size_t maxparts, const char *what, uint32_t v[4],
    size_t *nparts)
{
	const struct tok *t = peek(l);
	struct sv s;
	size_t n = 0;

	if (t == NULL || t->kind != TOK_WORD)
		return line_fail(l, WSD_EINVAL, what);
	s = t->sv;
	v[0] = v[1] = v[2] = v[3] = 0;
	for (;;) {
		uint64_t x;

		if (n == maxparts || strparse_u64(&s, 65535, &x) < 0)
			return line_fail(l, WSD_EINVAL, what);
		v[n++] = (uint32_t)x;
		if (s.n == 0)
			break;
		if (strparse_char(&s, '.') < 0)
			return line_fail(l, WSD_EINVAL, what);
	}
	l->pos++;
	*nparts = n;
	return 0;
}

static int
get_dword(struct line *l, uint32_t *out)
{
	static const char what[] =
	    "dword must be a decimal number 0-4294967295";
	const struct tok *t = peek(l);
	struct sv s;
	uint64_t x;

	if (t == NULL || t->kind != TOK_WORD)
		return line_fail(l, WSD_EINVAL, what);
	s = t->sv;
	if (strparse_u64(&s, UINT32_MAX, &x) < 0 || s.n != 0)
		return line_fail(l, WSD_EINVAL, what);
	l->pos++;
	*out = (uint32_t)x;
	return 0;
}

/*
 * Known folders a path may start with, and their CSIDL (shlobj.h): the
 * agent calls SHGetFolderPath(Csidl) and prepends it to Path
 * (BaseApplicabilityRules FileExists). 37 and 38 occur in the captures
 * (flow/000012, flow/000001).
 */
static const struct folder {
	const char *var;
	int csidl;
} folders[] = {
	{ "%SystemRoot%", 36 },         /* CSIDL_WINDOWS */
	{ "%windir%", 36 },             /* CSIDL_WINDOWS */
	{ "%System32%", 37 },           /* CSIDL_SYSTEM */
	{ "%ProgramFiles%", 38 },       /* CSIDL_PROGRAM_FILES */
	{ "%ProgramFiles(x86)%", 42 },  /* CSIDL_PROGRAM_FILESX86 */
	{ "%CommonProgramFiles%", 43 }, /* CSIDL_PROGRAM_FILES_COMMON */
	{ "%ProgramData%", 35 },        /* CSIDL_COMMON_APPDATA */
};

static const char posix_only_exists_what[] =
    "a Linux path (/...) is only allowed in file-exists (wuagent evaluates "
    "no other file rule)";

/*
 * A Linux path for wuagent, which tests it with access(F_OK) as written
 * (docs/AGENT.md): absolute, in canonical enough form that what the
 * publisher reads is what is tested. check_chars and tok_string already
 * refuse control characters and strings over 1024 bytes; both are checked
 * again so that this rule does not rest on the tokenizer (a Linux file
 * name may legally hold any byte but '/' and NUL).
 */
static int
check_posix_path(struct line *l, struct sv s)
{
	size_t i, start;

	assert(s.n > 0 && s.p[0] == '/');
	if (s.n > WSD_MAX_APPL_STRING)
		return line_fail(l, WSD_ETOOBIG,
		    "string too long (at most 1024 bytes)");
	for (i = 0; i < s.n; i++)
		if ((unsigned char)s.p[i] < 0x20 || s.p[i] == 0x7f)
			return line_fail(l, WSD_EINVAL, "control character");
	for (start = 1; start <= s.n; start = i + 1) {
		for (i = start; i < s.n && s.p[i] != '/'; i++)
			;
		if (i == start && i < s.n)
			return line_fail(l, WSD_EINVAL,
			    "'//' in a Linux path (write one /)");
		if (i - start == 2 && s.p[start] == '.' &&
		    s.p[start + 1] == '.')
			return line_fail(l, WSD_EINVAL,
			    "'..' in a Linux path (write the path without it)");
	}
	return 0;
}

/*
 * A file path: %Folder%\rest becomes Path="rest" Csidl="n"; X:\rest stays
 * as written, without Csidl; with POSIX_OK, /rest (a Linux path for
 * wuagent) stays as written, without Csidl. Anything else (relative, UNC,
 * \rest) is refused: its meaning on the client would be a guess.
 */
static int
get_file_path(struct line *l, bool posix_ok, struct sv *path, int *csidl)
{
	struct sv s;
	int rc;

	if ((rc = get_string(l, &s)) < 0)
		return rc;
	if (s.n == 0)
		return line_fail(l, WSD_EINVAL, "empty path");
	if (s.p[0] == '/') {
		if (!posix_ok)
			return line_fail(l, WSD_EINVAL, posix_only_exists_what);
		if ((rc = check_posix_path(l, s)) < 0)
			return rc;
		*path = s;
		*csidl = -1;
		return 0;
	}
	if (s.p[0] == '%') {
		const char *close = memchr(s.p + 1, '%', s.n - 1);
		struct sv var;
		size_t i;

		if (close == NULL)
			return line_fail(l, WSD_EINVAL,
			    "unknown folder variable");
		var = (struct sv){ s.p, (size_t)(close - s.p) + 1 };
		for (i = 0; i < sizeof(folders) / sizeof(folders[0]); i++)
			if (sv_eq_cstr_ci(var, folders[i].var))
				break;
		if (i == sizeof(folders) / sizeof(folders[0]))
			return line_fail(l, WSD_EINVAL,
			    "unknown folder variable");
		s.p += var.n;
		s.n -= var.n;
		if (s.n < 2 || s.p[0] != '\\' || s.p[1] == '\\')
			return line_fail(l, WSD_EINVAL,
			    "expected \\ and a path after the folder variable");
		*path = (struct sv){ s.p + 1, s.n - 1 };
		*csidl = folders[i].csidl;
		return 0;
	}
	if (s.n >= 4 &&
	    ((s.p[0] >= 'A' && s.p[0] <= 'Z') ||
		(s.p[0] >= 'a' && s.p[0] <= 'z')) &&
	    s.p[1] == ':' && s.p[2] == '\\' && s.p[3] != '\\') {
		*path = s;
		*csidl = -1;
		return 0;
	}
	/*
	 * "opt/x", "./x": meant for Linux, but relative. A string with a
	 * drive or a backslash gets the Windows message.
	 */
	if (posix_ok && memchr(s.p, '/', s.n) != NULL &&
	    memchr(s.p, '\\', s.n) == NULL && (s.n < 2 || s.p[1] != ':'))
		return line_fail(l, WSD_EINVAL,
		    "a Linux path must be absolute (start with /)");
	return line_fail(l, WSD_EINVAL,
	    "path must be absolute (C:\\...) or start with a known folder "
	    "(%ProgramFiles%\\...)");
}

/* A path appended to a registry value (...PrependRegSz). */
static int
get_rel_path(struct line *l, struct sv *path)
{
	int rc;

	if ((rc = get_string(l, path)) < 0)
		return rc;
	if (path->n == 0)
		return line_fail(l, WSD_EINVAL, "empty path");
	if (path->p[0] == '/')
		return line_fail(l, WSD_EINVAL, posix_only_exists_what);
	if (path->p[0] == '\\' || path->p[0] == '%' ||
	    memchr(path->p, ':', path->n) != NULL)
		return line_fail(l, WSD_EINVAL,
		    "path must be relative to the registry value (no drive, "
		    "leading backslash or folder variable)");
	return 0;
}

/* ------------------------------------------------------------------ */
/* XML                                                                 */

/* Name="value" with & < > " escaped; values never hold control chars. */
static int
xml_attr(struct sbuf *sb, const char *name, struct sv v)
{
	int rc;

	if ((rc = sbuf_addf(sb, " %s=\"", name)) < 0 ||
	    (rc = xmlesc_add(sb, v.p, v.n, XMLESC_QUOT, NULL)) < 0)
		return rc;
	return sbuf_add(sb, "\"", 1);
}

static int
xml_attr_s(struct sbuf *sb, const char *name, const char *v)
{
	return xml_attr(sb, name, sv_from_cstr(v));
}

static int
xml_attr_u(struct sbuf *sb, const char *name, unsigned long v)
{
	return sbuf_addf(sb, " %s=\"%lu\"", name, v);
}

static int
xml_attr_version(struct sbuf *sb, const uint32_t v[4])
{
	return sbuf_addf(sb, " Version=\"%u.%u.%u.%u\"", (unsigned)v[0],
	    (unsigned)v[1], (unsigned)v[2], (unsigned)v[3]);
}

/* Key="HKEY_LOCAL_MACHINE" Subkey="..." [Value="..."] */
static int
xml_reg(struct sbuf *sb, struct sv subkey, const struct sv *value)
{
	int rc;

	if ((rc = xml_attr_s(sb, "Key", APPL_HKLM)) < 0 ||
	    (rc = xml_attr(sb, "Subkey", subkey)) < 0)
		return rc;
	if (value != NULL)
		return xml_attr(sb, "Value", *value);
	return 0;
}

/*
 * <b.WindowsVersion Comparison [MajorVersion] [MinorVersion] [BuildNumber]
 * [ProductType] />: the first NV parts of V, ProductType when PTYPE > 0.
 * Attribute order as in flow/000001 and scan/000008.
 */
static int
xml_windows_version(struct sbuf *sb, const char *cmp, const uint32_t v[4],
    size_t nv, unsigned long ptype)
{
	int rc;

	if ((rc = sbuf_adds(sb, "<b.WindowsVersion")) < 0 ||
	    (rc = xml_attr_s(sb, "Comparison", cmp)) < 0 ||
	    (nv > 0 && (rc = xml_attr_u(sb, "MajorVersion", v[0])) < 0) ||
	    (nv > 1 && (rc = xml_attr_u(sb, "MinorVersion", v[1])) < 0) ||
	    (nv > 2 && (rc = xml_attr_u(sb, "BuildNumber", v[2])) < 0) ||
	    (ptype > 0 && (rc = xml_attr_u(sb, "ProductType", ptype)) < 0))
		return rc;
	return sbuf_adds(sb, " />");
}

/* ------------------------------------------------------------------ */
/* Rules: each consumes the rest of the line and writes one element.   */

/* windows [OP VERSION] [product-type T] -> b.WindowsVersion */
static int
rule_windows(struct line *l, struct sbuf *sb)
{
	static const struct {
		const char *word;
		unsigned long type;
	} types[] = {
		{ "workstation", 1 },
		{ "domain-controller", 2 },
		{ "server", 3 },
		{ "1", 1 },
		{ "2", 2 },
		{ "3", 3 },
	};
	const char *cmp = "EqualTo";
	uint32_t v[4];
	size_t nv = 0;
	unsigned long ptype = 0;
	const struct tok *t;
	int rc;

	t = peek(l);
	if (t != NULL && t->kind == TOK_OP &&
	    ((rc = get_scalar_op(l, &cmp)) < 0 ||
		(rc = get_version(l, 3,
		     "windows version must be 1-3 dot-separated numbers "
		     "0-65535 (major.minor.build)",
		     v, &nv)) < 0))
		return rc;
	if (peek_word(l, "product-type")) {
		l->pos++;
		t = peek(l);
		for (size_t i = 0; t != NULL && t->kind == TOK_WORD &&
		     i < sizeof(types) / sizeof(types[0]);
		     i++)
			if (sv_eq_cstr_ci(t->sv, types[i].word))
				ptype = types[i].type;
		if (ptype == 0)
			return line_fail(l, WSD_EINVAL,
			    "unknown product type (workstation, "
			    "domain-controller, server)");
		l->pos++;
	}
	if (nv == 0 && ptype == 0)
		return line_fail(l, WSD_EINVAL,
		    "expected a comparison operator (<, <=, =, >=, >)");
	if ((rc = end_of_rule(l)) < 0)
		return rc;
	return xml_windows_version(sb, cmp, v, nv, ptype);
}

/*
 * linux -> <Not><b.WindowsVersion Comparison="GreaterThanOrEqualTo"
 * MajorVersion="0" /></Not>, the element `not windows >= 0` writes (the
 * same writer): false on every Windows, and the marker by which wuagent
 * takes an update as meant for Linux (docs/AGENT.md). `not linux` is
 * refused in compile_rule.
 */
static int
rule_linux(struct line *l, struct sbuf *sb)
{
	static const uint32_t v0[4] = { 0, 0, 0, 0 };
	int rc;

	if ((rc = end_of_rule(l)) < 0)
		return rc;
	if ((rc = sbuf_adds(sb, "<Not>")) < 0 ||
	    (rc = xml_windows_version(sb, "GreaterThanOrEqualTo", v0, 1, 0)) <
		0)
		return rc;
	return sbuf_adds(sb, "</Not>");
}

static const char version_what[] =
    "version must be 1-4 dot-separated numbers 0-65535";

/* file-exists PATH -> b.FileExists Path [Csidl] (flow/000001) */
static int
rule_file_exists(struct line *l, struct sbuf *sb)
{
	struct sv path;
	int csidl, rc;

	if ((rc = get_file_path(l, true, &path, &csidl)) < 0 ||
	    (rc = end_of_rule(l)) < 0)
		return rc;
	if ((rc = sbuf_adds(sb, "<b.FileExists")) < 0 ||
	    (rc = xml_attr(sb, "Path", path)) < 0 ||
	    (csidl >= 0 &&
		(rc = xml_attr_u(sb, "Csidl", (unsigned long)csidl)) < 0))
		return rc;
	return sbuf_adds(sb, " />");
}

/* file-version PATH OP VERSION -> b.FileVersion (flow/000012) */
static int
rule_file_version(struct line *l, struct sbuf *sb)
{
	struct sv path;
	const char *cmp;
	uint32_t v[4];
	size_t nv;
	int csidl, rc;

	if ((rc = get_file_path(l, false, &path, &csidl)) < 0 ||
	    (rc = get_scalar_op(l, &cmp)) < 0 ||
	    (rc = get_version(l, 4, version_what, v, &nv)) < 0 ||
	    (rc = end_of_rule(l)) < 0)
		return rc;
	if ((rc = sbuf_adds(sb, "<b.FileVersion")) < 0 ||
	    (rc = xml_attr(sb, "Path", path)) < 0 ||
	    (rc = xml_attr_s(sb, "Comparison", cmp)) < 0 ||
	    (rc = xml_attr_version(sb, v)) < 0 ||
	    (csidl >= 0 &&
		(rc = xml_attr_u(sb, "Csidl", (unsigned long)csidl)) < 0))
		return rc;
	return sbuf_adds(sb, " />");
}

/* file-exists-regsz HIVE SUBKEY VALUE PATH -> b.FileExistsPrependRegSz */
static int
rule_file_exists_regsz(struct line *l, struct sbuf *sb)
{
	struct sv subkey, value, path;
	int rc;

	if ((rc = get_hive(l)) < 0 || (rc = get_subkey(l, &subkey)) < 0 ||
	    (rc = get_value_name(l, &value)) < 0 ||
	    (rc = get_rel_path(l, &path)) < 0 || (rc = end_of_rule(l)) < 0)
		return rc;
	if ((rc = sbuf_adds(sb, "<b.FileExistsPrependRegSz")) < 0 ||
	    (rc = xml_attr(sb, "Path", path)) < 0 ||
	    (rc = xml_reg(sb, subkey, &value)) < 0)
		return rc;
	return sbuf_adds(sb, " />");
}

/* file-version-regsz HIVE SUBKEY VALUE PATH OP VERSION (flow/000003) */
static int
rule_file_version_regsz(struct line *l, struct sbuf *sb)
{
	struct sv subkey, value, path;
	const char *cmp;
	uint32_t v[4];
	size_t nv;
	int rc;

	if ((rc = get_hive(l)) < 0 || (rc = get_subkey(l, &subkey)) < 0 ||
	    (rc = get_value_name(l, &value)) < 0 ||
	    (rc = get_rel_path(l, &path)) < 0 ||
	    (rc = get_scalar_op(l, &cmp)) < 0 ||
	    (rc = get_version(l, 4, version_what, v, &nv)) < 0 ||
	    (rc = end_of_rule(l)) < 0)
		return rc;
	if ((rc = sbuf_adds(sb, "<b.FileVersionPrependRegSz")) < 0 ||
	    (rc = xml_attr(sb, "Path", path)) < 0 ||
	    (rc = xml_attr_s(sb, "Comparison", cmp)) < 0 ||
	    (rc = xml_attr_version(sb, v)) < 0 ||
	    (rc = xml_reg(sb, subkey, &value)) < 0)
		return rc;
	return sbuf_adds(sb, " />");
}

/* registry-key HIVE SUBKEY -> b.RegKeyExists (flow/000001) */
static int
rule_registry_key(struct line *l, struct sbuf *sb)
{
	struct sv subkey;
	int rc;

	if ((rc = get_hive(l)) < 0 || (rc = get_subkey(l, &subkey)) < 0 ||
	    (rc = end_of_rule(l)) < 0)
		return rc;
	if ((rc = sbuf_adds(sb, "<b.RegKeyExists")) < 0 ||
	    (rc = xml_reg(sb, subkey, NULL)) < 0)
		return rc;
	return sbuf_adds(sb, " />");
}

/*
 * registry-value HIVE SUBKEY VALUE [TYPE] -> b.RegValueExists. Type only
 * takes the two values the captures show (flow/000001).
 */
static int
rule_registry_value(struct line *l, struct sbuf *sb)
{
	static const char *const types[] = { "REG_DWORD", "REG_BINARY" };
	struct sv subkey, value;
	const char *type = NULL;
	const struct tok *t;
	int rc;

	if ((rc = get_hive(l)) < 0 || (rc = get_subkey(l, &subkey)) < 0 ||
	    (rc = get_value_name(l, &value)) < 0)
		return rc;
	if ((t = peek(l)) != NULL) {
		for (size_t i = 0; t->kind == TOK_WORD &&
		     i < sizeof(types) / sizeof(types[0]);
		     i++)
			if (sv_eq_cstr_ci(t->sv, types[i]))
				type = types[i];
		if (type == NULL)
			return line_fail(l, WSD_EINVAL,
			    "unknown registry value type (REG_DWORD or "
			    "REG_BINARY)");
		l->pos++;
	}
	if ((rc = end_of_rule(l)) < 0)
		return rc;
	if ((rc = sbuf_adds(sb, "<b.RegValueExists")) < 0 ||
	    (rc = xml_reg(sb, subkey, &value)) < 0 ||
	    (type != NULL && (rc = xml_attr_s(sb, "Type", type)) < 0))
		return rc;
	return sbuf_adds(sb, " />");
}

/* registry-dword HIVE SUBKEY VALUE OP N -> b.RegDword (flow/000001) */
static int
rule_registry_dword(struct line *l, struct sbuf *sb)
{
	struct sv subkey, value;
	const char *cmp;
	uint32_t data;
	int rc;

	if ((rc = get_hive(l)) < 0 || (rc = get_subkey(l, &subkey)) < 0 ||
	    (rc = get_value_name(l, &value)) < 0 ||
	    (rc = get_scalar_op(l, &cmp)) < 0 ||
	    (rc = get_dword(l, &data)) < 0 || (rc = end_of_rule(l)) < 0)
		return rc;
	if ((rc = sbuf_adds(sb, "<b.RegDword")) < 0 ||
	    (rc = xml_reg(sb, subkey, &value)) < 0 ||
	    (rc = xml_attr_s(sb, "Comparison", cmp)) < 0 ||
	    (rc = xml_attr_u(sb, "Data", data)) < 0)
		return rc;
	return sbuf_adds(sb, " />");
}

/* registry-expand-sz HIVE SUBKEY VALUE SOP "DATA" (flow/000013) */
static int
rule_registry_expand_sz(struct line *l, struct sbuf *sb)
{
	struct sv subkey, value, data;
	const char *cmp;
	int rc;

	if ((rc = get_hive(l)) < 0 || (rc = get_subkey(l, &subkey)) < 0 ||
	    (rc = get_value_name(l, &value)) < 0 ||
	    (rc = get_string_op(l, &cmp)) < 0 ||
	    (rc = get_string(l, &data)) < 0 || (rc = end_of_rule(l)) < 0)
		return rc;
	if ((rc = sbuf_adds(sb, "<b.RegExpandSz")) < 0 ||
	    (rc = xml_reg(sb, subkey, &value)) < 0 ||
	    (rc = xml_attr_s(sb, "Comparison", cmp)) < 0 ||
	    (rc = xml_attr(sb, "Data", data)) < 0)
		return rc;
	return sbuf_adds(sb, " />");
}

static const char not_linux_what[] =
    "'not linux' is refused: an update only for Windows says so with a "
    "windows rule (windows >= 6.1)";

static const struct rule_type {
	const char *name;
	int (*compile)(struct line *, struct sbuf *);
	const char *not_what; /* why `not NAME` is refused, or NULL */
} rule_types[] = {
	{ "windows", rule_windows, NULL },
	/*
	 * Not(Not(WindowsVersion >= 0)) would be "any Windows", and wuagent
	 * would still find its Not(b.WindowsVersion) marker inside it.
	 */
	{ "linux", rule_linux, not_linux_what },
	{ "file-exists", rule_file_exists, NULL },
	{ "file-version", rule_file_version, NULL },
	{ "file-exists-regsz", rule_file_exists_regsz, NULL },
	{ "file-version-regsz", rule_file_version_regsz, NULL },
	{ "registry-key", rule_registry_key, NULL },
	{ "registry-value", rule_registry_value, NULL },
	{ "registry-dword", rule_registry_dword, NULL },
	{ "registry-expand-sz", rule_registry_expand_sz, NULL },
};

/* ------------------------------------------------------------------ */
/* Lines and sections                                                  */

/*
 * [any:] [not] RULE FIELDS... -> one element (wrapped in <Not>) in RULE.
 * *IS_ANY tells whether it joins the current "any:" run.
 */
static int
compile_rule(struct line *l, struct sbuf *rule, bool *is_any)
{
	const struct tok *t;
	bool neg = false;
	size_t i;
	int rc;

	*is_any = false;
	if (peek_word(l, "any:")) {
		*is_any = true;
		l->pos++;
	}
	if (peek_word(l, "not")) {
		neg = true;
		l->pos++;
		if (peek_word(l, "not"))
			return line_fail(l, WSD_EINVAL, "'not' twice");
	}
	if (peek_word(l, "any:"))
		return line_fail(l, WSD_EINVAL,
		    "'any:' must come before 'not'");
	t = peek(l);
	if (t == NULL)
		return line_fail(l, WSD_EINVAL, "missing rule type");
	for (i = 0; i < sizeof(rule_types) / sizeof(rule_types[0]); i++)
		if (t->kind == TOK_WORD &&
		    sv_eq_cstr_ci(t->sv, rule_types[i].name))
			break;
	if (i == sizeof(rule_types) / sizeof(rule_types[0]))
		return line_fail(l, WSD_EINVAL, "unknown rule type");
	if (neg && rule_types[i].not_what != NULL)
		return line_fail(l, WSD_EINVAL, rule_types[i].not_what);
	l->pos++;
	sbuf_reset(rule);
	if ((neg && (rc = sbuf_adds(rule, "<Not>")) < 0) ||
	    (rc = rule_types[i].compile(l, rule)) < 0 ||
	    (neg && (rc = sbuf_adds(rule, "</Not>")) < 0))
		return rc;
	return 0;
}

/* Ends the current "any:" run: it becomes one AND member. */
static int
flush_group(struct section *s)
{
	int rc;

	if (s->n_group == 0)
		return 0;
	if (s->n_group == 1)
		rc = sbuf_add(&s->body, s->group.sb_buf, s->group.sb_len);
	else if ((rc = sbuf_adds(&s->body, "<Or>")) == 0 &&
	    (rc = sbuf_add(&s->body, s->group.sb_buf, s->group.sb_len)) == 0)
		rc = sbuf_adds(&s->body, "</Or>");
	if (rc < 0)
		return rc;
	s->n_members++;
	s->n_group = 0;
	sbuf_reset(&s->group);
	return 0;
}

/* The section's one expression, into OUT (an empty internal sbuf). */
static int
finish_section(struct section *s, const char *dflt, struct sbuf *out)
{
	int rc;

	if ((rc = flush_group(s)) < 0)
		return rc;
	if (s->n_members == 0)
		return sbuf_adds(out, dflt);
	if (s->n_members == 1)
		return sbuf_add(out, s->body.sb_buf, s->body.sb_len);
	if ((rc = sbuf_adds(out, "<And>")) < 0 ||
	    (rc = sbuf_add(out, s->body.sb_buf, s->body.sb_len)) < 0)
		return rc;
	return sbuf_adds(out, "</And>");
}

/* "[installed]" or "[installable]", optionally followed by a comment. */
static const char *
section_header(struct sv s, int *which)
{
	const char *close = memchr(s.p, ']', s.n);
	struct sv name, rest;

	if (close == NULL)
		return "malformed section header";
	name = sv_trim_ows((struct sv){ s.p + 1, (size_t)(close - s.p) - 1 });
	rest = sv_trim_ows(
	    (struct sv){ close + 1, s.n - (size_t)(close - s.p) - 1 });
	if (rest.n > 0 && rest.p[0] != '#')
		return "malformed section header";
	if (sv_eq_cstr_ci(name, "installed"))
		*which = 0;
	else if (sv_eq_cstr_ci(name, "installable"))
		*which = 1;
	else
		return "unknown section (installed or installable)";
	return NULL;
}

static const char *
sbuf_what(int rc)
{
	return rc == WSD_ENOMEM ? "out of memory" : "rules too large";
}

int
applicability_compile(const char *text, size_t len, struct sbuf *installed_xml,
    struct sbuf *installable_xml, size_t *errline, struct wsd_err *err)
{
	static const char *const dflt[2] = { "<False />", "<True />" };
	struct section sec[2];
	struct sbuf rule, out[2];
	struct line l;
	size_t lineno = 0, off = 0, nrules = 0, entry0;
	const char *what = NULL;
	int cur = -1, rc = 0;

	assert(installed_xml != NULL && installable_xml != NULL);
	if (errline != NULL)
		*errline = 0;
	if (text == NULL && len > 0)
		return wsd_fail(err, WSD_EINVAL, "no rule text");
	if (len > WSD_MAX_APPL_FILE)
		return wsd_fail(err, WSD_ETOOBIG,
		    "file too large (at most 64 KiB)");
	for (int i = 0; i < 2; i++) {
		sbuf_init(&sec[i].body, WSD_APPL_XML_CAP);
		sbuf_init(&sec[i].group, WSD_APPL_XML_CAP);
		sec[i].n_members = sec[i].n_group = 0;
		sec[i].seen = false;
		sbuf_init(&out[i], WSD_APPL_XML_CAP);
	}
	sbuf_init(&rule, WSD_APPL_XML_CAP);
	l.what = NULL;

	/* A UTF-8 byte order mark, as some Windows editors write. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		off = 3;
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		struct sv raw = { text + off, end - off }, s;
		bool is_any;

		off = nl != NULL ? end + 1 : len;
		lineno++;
		l.what = NULL;
		if (raw.n > 0 && raw.p[raw.n - 1] == '\r')
			raw.n--;
		if ((what = check_chars(raw)) != NULL) {
			rc = WSD_EINVAL;
			goto fail;
		}
		s = sv_trim_ows(raw);
		if (s.n == 0) {
			/* A blank line ends an "any:" run. */
			if (cur >= 0 && (rc = flush_group(&sec[cur])) < 0)
				goto fail;
			continue;
		}
		if (s.p[0] == '#')
			continue;
		if (s.p[0] == '[') {
			int which = 0;

			if ((what = section_header(s, &which)) != NULL) {
				rc = WSD_EINVAL;
				goto fail;
			}
			if (sec[which].seen) {
				what = "duplicate section";
				rc = WSD_EINVAL;
				goto fail;
			}
			if (cur >= 0 && (rc = flush_group(&sec[cur])) < 0)
				goto fail;
			sec[which].seen = true;
			cur = which;
			continue;
		}
		if (cur < 0) {
			what = "rule outside a section ([installed] or "
			       "[installable])";
			rc = WSD_EINVAL;
			goto fail;
		}
		if (++nrules > WSD_MAX_APPL_RULES) {
			what = "too many rules (at most 256)";
			rc = WSD_ETOOBIG;
			goto fail;
		}
		if ((rc = tokenize(&l, s)) < 0 ||
		    (rc = compile_rule(&l, &rule, &is_any)) < 0)
			goto fail;
		if (is_any) {
			rc =
			    sbuf_add(&sec[cur].group, rule.sb_buf, rule.sb_len);
			sec[cur].n_group++;
		} else if ((rc = flush_group(&sec[cur])) == 0) {
			rc = sbuf_add(&sec[cur].body, rule.sb_buf, rule.sb_len);
			sec[cur].n_members++;
		}
		if (rc < 0)
			goto fail;
	}
	lineno = 0; /* what follows concerns the whole file */
	for (int i = 0; i < 2; i++)
		if ((rc = finish_section(&sec[i], dflt[i], &out[i])) < 0)
			goto fail;

	/* Both or neither: the first is cut back if the second fails. */
	entry0 = installed_xml->sb_len;
	if ((rc = sbuf_add(installed_xml, out[0].sb_buf, out[0].sb_len)) < 0)
		goto fail;
	if ((rc = sbuf_add(installable_xml, out[1].sb_buf, out[1].sb_len)) <
	    0) {
		if (installed_xml->sb_buf != NULL) {
			installed_xml->sb_len = entry0;
			installed_xml->sb_buf[entry0] = '\0';
		}
		goto fail;
	}
	goto done;

fail:
	if (what == NULL)
		what = l.what != NULL ? l.what : sbuf_what(rc);
	if (errline != NULL)
		*errline = lineno;
	(void)wsd_fail(err, rc, what); /* rc is returned below */
done:
	for (int i = 0; i < 2; i++) {
		sbuf_release(&sec[i].body);
		sbuf_release(&sec[i].group);
		sbuf_release(&out[i]);
	}
	sbuf_release(&rule);
	return rc;
}
