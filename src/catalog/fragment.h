/*
 * fragment: the XML fragments a WSUS update revision carries (WUSP.md 6):
 * core (SyncUpdates UpdateInfo/Xml), extended and localized (one per
 * language) (GetExtendedUpdateInfo Update/Xml).
 *
 * Two directions:
 *
 * - Builders write the fragments of locally published updates and of
 *   categories in the exact shape real WSUS sends and Windows Update Agents
 *   accept: one line, no XML declaration, no root, no namespace
 *   declarations, attributes in double quotes, empty elements as " />",
 *   element and attribute order as WUSP.md 6 and the captures show, rule
 *   elements with dotted prefixes (b.WindowsVersion). Every text and
 *   attribute value is escaped (& < > "); tab, LF and CR become character
 *   references so the fragment stays on one line; other control
 *   characters, C1 controls and invalid UTF-8 are refused. GUIDs are
 *   written in lower case.
 *
 * - Parsers read fragments received from elsewhere (import, MS-WSUSSS
 *   sync) as hostile input: at most WSD_MAX_FRAGMENT_BYTES, wrapped in a
 *   dummy root and parsed by libxml2 with XML_PARSE_NONET only (never
 *   NOENT, DTDLOAD or HUGE); any DOCTYPE, entity declaration or reference,
 *   XML declaration, processing instruction, comment, namespace
 *   declaration or colon-prefixed name is refused, as is nesting deeper
 *   than WSD_MAX_FRAGMENT_DEPTH. Parsers only extract fields: the caller
 *   stores the received bytes themselves, byte-exact. GUIDs come out in
 *   lower case whatever case the fragment used (WSUS mixes both).
 *
 * Errors follow wsd_err.h: WSD_EINVAL for malformed input, WSD_ETOOBIG for
 * a bound exceeded (the message names the limit), WSD_ENOMEM.
 *
 * Builders append to a caller's sbuf. On failure the sbuf is either
 * released (WSD_ETOOBIG/WSD_ENOMEM from sbuf itself, see sbuf.h) or cut
 * back to the length it had on entry: never half a fragment.
 *
 * Parser output is owned by the *_info struct: strings and arrays are
 * malloc'd and freed by the matching fragment_*_info_release, which is
 * NULL-safe and leaves the struct empty. On failure a parser has already
 * released its output.
 *
 * libxml2: wsusd and wsusutil should call xmlInitParser() once at start,
 * before threads (libxml2 2.9's lazy initialisation is not thread-safe);
 * the parsers call it too, which is then a no-op.
 */
#ifndef WSUSD_CATALOG_FRAGMENT_H
#define WSUSD_CATALOG_FRAGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wsd_err.h"

struct sbuf;

/*
 * Bounds for one fragment (SECURITY.md S10, S11). They belong with the
 * others in wsd_limits.h; kept here until that file takes them.
 * - Bytes: the largest captured fragment (flow/000012, a Defender bundle
 *   parent with 124 bundled members) is 12 KiB; 1 MiB is the S10 body
 *   cap for client operations and leaves room for far bigger bundles.
 * - Depth: element nesting counted from the fragment's top-level
 *   elements (depth 1); the deepest captured fragment nests 12.
 * - Relationship entries: UpdateIdentity elements under Relationships
 *   (superseded + prerequisites + bundled); captured bundles have ~140.
 * - Files: File elements in one extended fragment; real updates have 1-50.
 * - Attributes per element: S10.
 */
#define WSD_MAX_FRAGMENT_BYTES         (1024 * 1024)
#define WSD_MAX_FRAGMENT_DEPTH         64
#define WSD_MAX_FRAGMENT_RELATIONSHIPS 10000
#define WSD_MAX_FRAGMENT_FILES         1000
#define WSD_MAX_FRAGMENT_ATTRS         64

#define FRAGMENT_HANDLER_CMDLINE                                               \
	"http://schemas.microsoft.com/msus/2002/12/UpdateHandlers/"            \
	"CommandLineInstallation"
#define FRAGMENT_HANDLER_CATEGORY                                              \
	"http://schemas.microsoft.com/msus/2002/12/UpdateHandlers/Category"
#define FRAGMENT_HANDLER_DRIVER                                                \
	"http://schemas.microsoft.com/msus/2002/12/UpdateHandlers/WindowsDriver"

enum fragment_update_type {
	FRAGMENT_TYPE_NONE = 0,
	FRAGMENT_TYPE_SOFTWARE,
	FRAGMENT_TYPE_DRIVER,
	FRAGMENT_TYPE_DETECTOID,
	FRAGMENT_TYPE_CATEGORY,
};

enum fragment_category_type {
	FRAGMENT_CAT_NONE = 0,
	FRAGMENT_CAT_COMPANY,
	FRAGMENT_CAT_PRODUCT_FAMILY,
	FRAGMENT_CAT_PRODUCT,
	FRAGMENT_CAT_CLASSIFICATION, /* "UpdateClassification" */
};

/* An optional boolean attribute: UNSET is not written. */
enum fragment_tristate {
	FRAGMENT_UNSET = 0,
	FRAGMENT_FALSE,
	FRAGMENT_TRUE,
};

enum fragment_severity {
	FRAGMENT_SEVERITY_UNSET = 0,
	FRAGMENT_SEVERITY_CRITICAL,
	FRAGMENT_SEVERITY_IMPORTANT,
	FRAGMENT_SEVERITY_MODERATE,
	FRAGMENT_SEVERITY_LOW,
};

enum fragment_reboot {
	FRAGMENT_REBOOT_UNSET = 0,
	FRAGMENT_REBOOT_NEVER,       /* NeverReboots */
	FRAGMENT_REBOOT_ALWAYS,      /* AlwaysRequiresReboot */
	FRAGMENT_REBOOT_CAN_REQUEST, /* CanRequestReboot */
};

enum fragment_impact {
	FRAGMENT_IMPACT_UNSET = 0,
	FRAGMENT_IMPACT_NORMAL,
	FRAGMENT_IMPACT_MINOR,
	FRAGMENT_IMPACT_EXCLUSIVE, /* RequiresExclusiveHandling */
};

enum fragment_result {
	FRAGMENT_RESULT_UNSET = 0,
	FRAGMENT_RESULT_SUCCEEDED,
	FRAGMENT_RESULT_FAILED,
	FRAGMENT_RESULT_CANCELLED,
};

/* How fragment_build_core writes ApplicabilityRules. */
enum fragment_rules {
	/* IsInstalled <False />, IsInstallable <True /> (issue #4). */
	FRAGMENT_RULES_DEFAULT = 0,
	/* is_installed / is_installable as given; NULL omits that one. */
	FRAGMENT_RULES_CUSTOM,
	/* No ApplicabilityRules (a bundle parent, flow/000012). */
	FRAGMENT_RULES_NONE,
};

/* ---- Builder input (all pointers borrowed from the caller) ---- */

/* One member of a prerequisite clause. */
struct fragment_prereq {
	const char *guid;
	bool is_category; /* every member of a clause must agree */
};

/*
 * One OR clause of the prerequisites (an AND of ORs). A clause of one
 * non-category member is written as a direct UpdateIdentity child, any
 * other as <AtLeastOne> or <AtLeastOne IsCategory="true">; direct members
 * come first, as WSUS writes them, otherwise clauses keep their order.
 */
struct fragment_clause {
	const struct fragment_prereq *members;
	size_t n_members; /* >= 1 */
};

/*
 * A bundled member. Consecutive members with the same clause value share
 * one <AtLeastOne> (the WSUS form, flow/000012); leaving clause 0
 * everywhere puts all members in one group.
 */
struct fragment_bundled {
	const char *guid;
	uint32_t revision;
	uint32_t clause;
};

struct fragment_file {
	const char *name;          /* no '/', '\\' or control characters */
	uint64_t size;             /* <= INT64_MAX */
	int64_t modified;          /* Unix time, UTC; years 1601..9999 */
	unsigned char sha1[20];    /* Digest, DigestAlgorithm="SHA1" */
	unsigned char sha256[32];  /* AdditionalDigest Algorithm="SHA256" */
	const char *patching_type; /* NULL: not written */
};

/*
 * ReturnCode. The reboot flag is written as Reboot="...", the attribute
 * name real publishing tools and WSUS itself use (WUSP.md 6.2 shows
 * IsRebootRequired, which no captured or published metadata has).
 */
struct fragment_return_code {
	int32_t code;
	enum fragment_result result; /* required */
	enum fragment_tristate reboot;
};

/* HandlerSpecificData type="cmd:CommandLineInstallation". */
struct fragment_cmdline {
	const char *program;   /* required */
	const char *arguments; /* NULL: not written */
	enum fragment_tristate reboot_by_default;
	enum fragment_result default_result;
	const struct fragment_return_code *codes;
	size_t n_codes;
};

/*
 * Driver metadata: one d.WindowsDriverMetaData element of a driver's core
 * fragment, under ApplicabilityRules/Metadata (WUSP.md 6.1; MS-WUSP
 * 3.1.1.1). The server matches SyncUpdates driver passes on it.
 */
#define FRAGMENT_DRIVER_MAX_ENTRIES 1000 /* WindowsDriverMetaData per revision */
#define FRAGMENT_DRIVER_MAX_CHIDS   256  /* CHIDs (each list) per entry */
#define FRAGMENT_DRIVER_MAX_SCORES  64   /* FeatureScore per entry */
#define FRAGMENT_DRIVER_ID_MAX      200  /* HardwareID, as the schema says */
#define FRAGMENT_DRIVER_STR_MAX     256  /* Class, Company, Provider, ... */
#define FRAGMENT_DRIVER_OS_MAX      32   /* FeatureScore OperatingSystem */

struct fragment_driver_score {
	char os[FRAGMENT_DRIVER_OS_MAX + 1]; /* "amd64.10.0", lower case */
	uint8_t score;                       /* FeatureScore="FF": 0-255 */
};

/* Builder input (borrowed) and parser output (owned, see
 * fragment_drivers_release) share this struct. */
struct fragment_driver {
	char *hardware_id;    /* HardwareID as written, 1-200 bytes */
	int32_t date;         /* DriverVerDate yyyy-mm-dd as yyyymmdd */
	uint64_t version;     /* DriverVerVersion a.b.c.d, 16 bits each:
				 a << 48 | b << 32 | c << 16 | d */
	uint32_t whql_id;     /* WhqlDriverID */
	char *driver_class;   /* Class (catalog class, e.g. "Printers") */
	char *company, *provider, *manufacturer, *model; /* "" allowed */
	struct fragment_guid *target_chids; /* TargetComputerHardwareId */
	size_t n_target_chids;
	struct fragment_guid *dist_chids; /* DistributionComputerHardwareId */
	size_t n_dist_chids;
	struct fragment_driver_score *scores; /* FeatureScore */
	size_t n_scores;
};

/* "a.b.c.d" (each 0-65535, decimal) to the packed form above. */
int fragment_driver_version_parse(const char *s, uint64_t *out)
    WSD_MUST_CHECK;
/* Writes the packed VERSION as "a.b.c.d" into BUF (>= 24 bytes). */
void fragment_driver_version_format(uint64_t version, char *buf,
    size_t size);
/* "yyyy-mm-dd" (a real date, years 0001-9999) to yyyymmdd. */
int fragment_driver_date_parse(const char *s, int32_t *out) WSD_MUST_CHECK;
/* Writes yyyymmdd as "yyyy-mm-dd" into BUF (>= 11 bytes); -1 (BUF "")
 * if DATE is not a real date. */
int fragment_driver_date_format(int32_t date, char *buf, size_t size);

/* A locally published update: its core and extended fragments. */
struct fragment_update {
	/* core */
	const char *update_id;    /* GUID, either case; written lower case */
	uint32_t revision_number; /* <= INT32_MAX */
	enum fragment_update_type type; /* SOFTWARE, DRIVER or DETECTOID */
	bool explicitly_deployable;     /* written only when true */
	bool auto_select_on_web_sites;  /* written only when true */
	const char *const *supersedes;
	size_t n_supersedes;
	const struct fragment_clause *prereqs;
	size_t n_prereqs;
	const struct fragment_bundled *bundled;
	size_t n_bundled;
	enum fragment_rules rules;
	/*
	 * FRAGMENT_RULES_CUSTOM: each one boolean expression (<True />,
	 * <And>...</And>, <b.RegDword ... />), checked and re-written as
	 * fragment_check_expression says.
	 */
	const char *is_installed;
	const char *is_installable;
	/*
	 * DRIVER (needs n_drivers >= 1; rules must be DEFAULT): the
	 * ApplicabilityRules are the WindowsDriver handler's
	 * (d.WindowsDriverInstalled, d.WindowsDriverSuperseded,
	 * d.WindowsDriverInstallable) and Metadata holds one
	 * d.WindowsDriverMetaData per entry, attributes in the order
	 * Microsoft's metadata has them, then its d.FeatureScore,
	 * d.DistributionComputerHardwareId, d.TargetComputerHardwareId.
	 */
	const struct fragment_driver *drivers;
	size_t n_drivers;

	/* extended: ExtendedProperties attributes */
	const char *default_language; /* NULL: "en" */
	const char *handler;          /* URI; NULL: not written */
	bool has_download_sizes;
	uint64_t max_download_size;
	uint64_t min_download_size;
	enum fragment_severity msrc_severity; /* an attribute, as WSUS has it */
	/*
	 * InstallationBehavior is written when handler is set or either of
	 * these is; UNSET attributes are left out.
	 */
	enum fragment_reboot reboot_behavior;
	enum fragment_impact impact;
	/* child elements, in this order; NULL or "" not written */
	const char *support_url;
	const char *security_bulletin_id;
	const char *kb_article_id;
	/* then Files and HandlerSpecificData */
	const struct fragment_file *files;
	size_t n_files;
	const struct fragment_cmdline *cmdline; /* needs the cmdline handler */
};

/* One LocalizedProperties fragment. NULL or "" optional fields are not
 * written; language ([A-Za-z0-9-], 1-35) and title are required. */
struct fragment_localized {
	const char *language;
	const char *title;
	const char *description;
	const char *uninstall_notes;
	const char *more_info_url;
	const char *support_url;
};

/* A category revision (WUSP.md 6.4, captures scan/000006-10). */
struct fragment_category {
	const char *update_id;
	uint32_t revision_number;
	enum fragment_category_type type;
	/* Parent category, written as an AtLeastOne IsCategory="true"
	 * prerequisite; NULL for a top-level category (Company). */
	const char *parent_id;
	/* One expression; NULL: <True />. */
	const char *is_installed;
	const char *default_language; /* NULL: "en" */
	enum fragment_tristate prohibits_subcategories;
	enum fragment_tristate prohibits_updates;
	enum fragment_tristate excluded_by_default;
	bool has_display_order;
	uint32_t display_order;
};

int fragment_build_core(struct sbuf *sb, const struct fragment_update *u,
    struct wsd_err *err) WSD_MUST_CHECK;
int fragment_build_extended(struct sbuf *sb, const struct fragment_update *u,
    struct wsd_err *err) WSD_MUST_CHECK;
int fragment_build_localized(struct sbuf *sb,
    const struct fragment_localized *l, struct wsd_err *err) WSD_MUST_CHECK;

int fragment_build_category_core(struct sbuf *sb,
    const struct fragment_category *c, struct wsd_err *err) WSD_MUST_CHECK;
int fragment_build_category_extended(struct sbuf *sb,
    const struct fragment_category *c, struct wsd_err *err) WSD_MUST_CHECK;
/* A category's LocalizedProperties: Language, Title, Description. */
int fragment_build_category_localized(struct sbuf *sb, const char *language,
    const char *title, const char *description,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Checks a caller-provided applicability expression: at most
 * WSD_MAX_FRAGMENT_BYTES, well-formed when wrapped in a dummy root,
 * exactly one top-level element, nesting at most WSD_MAX_FRAGMENT_DEPTH - 2
 * (it sits under ApplicabilityRules/IsInstalled), no DOCTYPE, entity,
 * CDATA, comment, processing instruction, namespace declaration or
 * colon-prefixed name. The builders re-write an accepted expression in
 * the WSUS form (double quotes, " />", whitespace-only text dropped,
 * values re-escaped), so pretty-printed rule files are fine.
 */
int fragment_check_expression(const char *xml, size_t len,
    struct wsd_err *err) WSD_MUST_CHECK;

/* ---- Parser output (owned; see fragment_*_info_release) ---- */

struct fragment_guid {
	char s[37]; /* lower case */
};

/* A prerequisite member; members of one clause are adjacent. */
struct fragment_ref_info {
	char guid[37];
	uint32_t clause; /* 0, 1, ... in document order */
	bool is_category;
};

struct fragment_bundled_info {
	char guid[37];
	uint32_t revision;
	uint32_t clause; /* which AtLeastOne group, 0, 1, ... */
};

struct fragment_core_info {
	char update_id[37];
	uint32_t revision_number;
	enum fragment_update_type type;
	bool explicitly_deployable;
	bool auto_select_on_web_sites;
	struct fragment_guid *supersedes;
	size_t n_supersedes;
	struct fragment_ref_info *prereqs;
	size_t n_prereqs;
	uint32_t n_prereq_clauses;
	struct fragment_bundled_info *bundled;
	size_t n_bundled;
	bool has_applicability;
	bool has_is_installed;
	bool has_is_installable;
};

struct fragment_file_info {
	char *name;
	uint64_t size;
	int64_t modified; /* Unix time; fractions of a second dropped */
	unsigned char sha1[20];
	unsigned char sha256[32];
	bool has_sha256;
	char *patching_type; /* NULL if absent */
};

/* NULL strings were absent. */
struct fragment_extended_info {
	char *default_language;
	char *handler;
	bool has_download_sizes; /* MaxDownloadSize present */
	uint64_t max_download_size;
	uint64_t min_download_size;
	enum fragment_severity msrc_severity;
	enum fragment_reboot reboot_behavior;
	enum fragment_impact impact;
	char *support_url;
	char *security_bulletin_id;
	char *kb_article_id;
	char *handler_data_type; /* HandlerSpecificData type, e.g.
				    "cat:Category" */
	enum fragment_category_type category_type; /* NONE unless a category */
	struct fragment_file_info *files;
	size_t n_files;
};

struct fragment_localized_info {
	char *language;
	char *title;
	char *description;
	char *uninstall_notes;
	char *more_info_url;
	char *support_url;
};

/*
 * Core: UpdateIdentity, Properties, then optional Relationships
 * (SupersededUpdates, Prerequisites, BundledUpdates, in that order) and
 * ApplicabilityRules; anything else at the top level is refused.
 */
int fragment_parse_core(const char *xml, size_t len,
    struct fragment_core_info *out, struct wsd_err *err) WSD_MUST_CHECK;
/*
 * Extended: ExtendedProperties, then optional Files and
 * HandlerSpecificData. A File needs a valid 20-byte SHA-1 Digest with
 * DigestAlgorithm="SHA1", a FileName, Size and Modified; a SHA256
 * AdditionalDigest must be 32 bytes. Unknown children of
 * ExtendedProperties, File and HandlerSpecificData are skipped.
 */
int fragment_parse_extended(const char *xml, size_t len,
    struct fragment_extended_info *out, struct wsd_err *err) WSD_MUST_CHECK;
/* Localized: one LocalizedProperties with a Language and a Title. */
int fragment_parse_localized(const char *xml, size_t len,
    struct fragment_localized_info *out, struct wsd_err *err) WSD_MUST_CHECK;

/*
 * The d.WindowsDriverMetaData entries of a core fragment (checked as
 * fragment_parse_core checks it) into *OUT (*N entries; none is 0 with
 * *OUT NULL). Each entry needs a HardwareID, a DriverVerDate (xs:date,
 * real calendar date), a four-part DriverVerVersion and the bounds
 * above; FeatureScore needs OperatingSystem and a one- or two-digit hex
 * FeatureScore; CHIDs are GUIDs (braces allowed). Unknown attributes and
 * children (e.g. CompatibleProvider) are skipped, and so is a
 * d.WindowsDriverMetaData anywhere but under ApplicabilityRules/Metadata.
 * A bound exceeded (an over-long HardwareID included) is WSD_ETOOBIG.
 * On failure *OUT is NULL and *N 0. Documented in docs/DRIVERS.md.
 */
int fragment_parse_drivers(const char *xml, size_t len,
    struct fragment_driver **out, size_t *n, struct wsd_err *err)
    WSD_MUST_CHECK;
/* NULL-safe. */
void fragment_drivers_release(struct fragment_driver *d, size_t n);

/*
 * Evaluating a core fragment's ApplicabilityRules (an agent's job,
 * wuagent's agent_eval.c): IsInstalled and IsInstallable are boolean
 * expressions of True, False, And, Or, Not and rule elements; RULE
 * decides each rule element (its name as written, e.g. "b.FileExists",
 * and its attributes). Empty And is true, empty Or false. Nesting is
 * bounded by the reader (WSD_MAX_FRAGMENT_DEPTH).
 */
struct fragment_rule {
	const char *name;
	size_t n_attrs;
	const char *const *attrs; /* name, value, name, value, ... */
};

struct fragment_applicability {
	bool has_is_installed, is_installed;
	bool has_is_installable, is_installable;
	/* IsInstallable holds Not(b.WindowsVersion ...): the publisher
	 * marked the update as not for Windows (docs/AGENT.md). */
	bool not_windows;
};

int fragment_eval_applicability(const char *xml, size_t len,
    bool (*rule)(void *, const struct fragment_rule *), void *arg,
    struct fragment_applicability *out, struct wsd_err *err)
    WSD_MUST_CHECK;

/*
 * The install command of an extended fragment (fragment_cmdline.c): its
 * HandlerSpecificData type="cmd:CommandLineInstallation" InstallCommand,
 * as e_cmdline writes it (Program, Arguments, RebootByDefault,
 * DefaultResult, ReturnCode Code/Result/Reboot). The fragment is read
 * as fragment_parse_extended reads it; WSD_ENOTFOUND when it has no such
 * HandlerSpecificData. Program must be non-empty; Code is a decimal
 * int32; at most WSD_MAX_FRAGMENT_RETURN_CODES ReturnCode elements.
 * Output owned by OUT (fragment_cmdline_info_release, NULL-safe).
 */
#define WSD_MAX_FRAGMENT_RETURN_CODES 256

struct fragment_cmdline_info {
	char *program;
	char *arguments; /* NULL if absent */
	enum fragment_tristate reboot_by_default;
	enum fragment_result default_result; /* UNSET if absent */
	struct fragment_return_code *codes;
	size_t n_codes;
};

int fragment_parse_cmdline(const char *xml, size_t len,
    struct fragment_cmdline_info *out, struct wsd_err *err) WSD_MUST_CHECK;
void fragment_cmdline_info_release(struct fragment_cmdline_info *ci);

void fragment_core_info_release(struct fragment_core_info *ci);
void fragment_extended_info_release(struct fragment_extended_info *ei);
void fragment_localized_info_release(struct fragment_localized_info *li);

const char *fragment_update_type_name(enum fragment_update_type t);
const char *fragment_category_type_name(enum fragment_category_type t);

#endif
