/*
 * The storage interface: the only way any module reaches the database.
 * No SQL outside store_*.c. One implementation per backend exports a
 * const struct store_ops (SQLite now; PostgreSQL later), and callers use
 * the store_* wrappers below, so adding a backend touches no caller.
 *
 * A struct store is used by one thread at a time; each thread that needs
 * the database opens its own.
 */
#ifndef WSUSD_STORE_STORE_H
#define WSUSD_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wsd_err.h"

struct store;
struct sbuf;
struct store_catalog_ops; /* store_int.h */

struct store_ops {
	const char *name;
	int (*open)(struct store **, const char *datadir, struct wsd_err *);
	void (*close)(struct store *);
	int (*schema_version)(struct store *, int *, struct wsd_err *);
	/* "ok", or the first problems found, one per line, into OUT. */
	int (*integrity_check)(struct store *, struct sbuf *out,
	    struct wsd_err *);
	int (*meta_get)(struct store *, const char *key, struct sbuf *out,
	    struct wsd_err *);
	int (*meta_set)(struct store *, const char *key, const char *value,
	    struct wsd_err *);
	const struct store_catalog_ops *catalog;
	/* Server-server sync: each area's table in its own header. */
	const struct store_sss_ops *sss;           /* store_sss.h: the USS */
	const struct store_upstream_ops *upstream; /* store_upstream.h: DSS */
	const struct store_rollup_ops *rollup;     /* store_rollup.h */
};

extern const struct store_ops store_sqlite_ops;

/* Opens DATADIR/wsusd.db (created if missing) and applies migrations. */
int store_open(struct store **out, const char *datadir, struct wsd_err *err)
    WSD_MUST_CHECK;
void store_close(struct store *st);
int store_schema_version(struct store *st, int *version,
    struct wsd_err *err) WSD_MUST_CHECK;
/* *OK true when the database passes PRAGMA integrity_check. */
int store_integrity_check(struct store *st, bool *ok, struct sbuf *detail,
    struct wsd_err *err) WSD_MUST_CHECK;
/* WSD_ENOTFOUND when KEY has no value. */
/*
 * A 64-bit identity of this database, from its server_id (0 when it has
 * none): cookies carry it, so those of another database (a reset data
 * directory under the same key) are refused, in MS-WUSP and MS-WSUSSS
 * alike.
 */
uint64_t store_instance_id(struct store *st);

int store_meta_get(struct store *st, const char *key, struct sbuf *out,
    struct wsd_err *err) WSD_MUST_CHECK;
int store_meta_set(struct store *st, const char *key, const char *value,
    struct wsd_err *err) WSD_MUST_CHECK;
/*
 * The GUID kept under KEY (lower case, into OUT), made and stored on first
 * need: this server's ServerId, the roll-up reset GUID. A value that is no
 * GUID is WSD_EINVAL.
 */
int store_meta_guid(struct store *st, const char *key, char out[37],
    struct wsd_err *err) WSD_MUST_CHECK;

/* ----------------------------------------------------------- catalog */


/* Maximum lengths of names an administrator gives (group names, etc.). */
#define STORE_MAX_NAME 256

struct store_localized {
	const char *language; /* "en", "de", ... */
	const char *title;
	const char *xml;      /* the LocalizedProperties fragment, byte-exact */
	size_t xml_len;
};

struct store_file {
	unsigned char sha1[20];
	unsigned char sha256[32];
	bool has_sha256;
	uint64_t size;
	const char *file_name; /* metadata FileName */
	const char *modified;  /* xs:dateTime as in the metadata */
	const char *patching_type; /* NULL when none */
};

struct store_prereq {
	unsigned clause; /* rows of one clause are ORed, clauses ANDed */
	const char *update_id;
	bool is_category;
};

struct store_bundle_member {
	unsigned clause;
	const char *update_id;
	int revision_number;
};

/* One revision of one update, with everything it carries. */
struct store_revision_in {
	const char *update_id; /* GUID, any case: stored lower case */
	int revision_number;
	const char *update_type;   /* Software, Driver, Category, Detectoid */
	const char *category_type; /* Categories only: Company, ... */
	const char *origin;        /* local, import, upstream */
	bool explicitly_deployable;
	bool is_leaf;
	bool is_bundle;
	const char *kb_article;    /* NULL when none */
	const char *msrc_severity; /* NULL when none */
	const char *eula_id;       /* NULL when none */
	const char *title;         /* default-language title, for listings */
	const char *xml_core;
	size_t xml_core_len;
	const char *xml_extended; /* NULL when none */
	size_t xml_extended_len;
	unsigned n_localized;
	const struct store_localized *localized;
	unsigned n_files;
	const struct store_file *files;
	unsigned n_categories; /* Product, UpdateClassification, parent */
	const char *const *categories;
	unsigned n_prereqs;
	const struct store_prereq *prereqs;
	unsigned n_bundle;
	const struct store_bundle_member *bundle;
	unsigned n_supersedes;
	const char *const *supersedes;
};

/* What a listing row shows; strings valid during the callback only. */
struct store_update_row {
	const char *update_id;
	int revision_number;
	int64_t revision_id;
	const char *update_type;
	const char *category_type; /* "" unless a category */
	const char *title;
	const char *kb_article;    /* "" when none */
	const char *msrc_severity; /* "" when none */
	const char *classification; /* title of its classification, or "" */
	const char *product;        /* title of its first product, or "" */
	bool declined;
	const char *origin;
	unsigned n_files;
	uint64_t bytes;             /* total size of its files */
	unsigned n_superseded_by;   /* latest revisions that supersede it */
};

struct store_update_filter {
	const char *classification; /* category GUID (any case) or NULL */
	const char *product;        /* category GUID or NULL */
	const char *update_type;    /* or NULL for all but categories */
	bool include_declined;
};

struct store_group_row {
	const char *group_id;
	const char *name;
	const char *parent;  /* parent's name, "" for All Computers */
	bool builtin;
	unsigned n_computers;
};

struct store_computer_row {
	const char *computer_id;
	const char *dns_name;
	const char *groups; /* names, comma separated */
	const char *last_sync; /* "" when never */
	const char *os_description;
	const char *manufacturer;
	const char *model;
};

/* What RegisterComputer reports; strings bounded by the caller. */
struct store_computer_details {
	int32_t os_build;
	const char *os_locale;
	const char *manufacturer;
	const char *model;
	const char *bios_version;
	const char *processor;
	const char *client_version;
};

struct store_approval_row {
	const char *update_id;
	const char *group;
	const char *action;   /* Install, Uninstall, NotApproved */
	const char *deadline; /* "" when none */
	const char *created;
};

/* All run inside the caller's transaction when one is open. */
int store_begin(struct store *st, struct wsd_err *err) WSD_MUST_CHECK;
int store_commit(struct store *st, struct wsd_err *err) WSD_MUST_CHECK;
void store_rollback(struct store *st);

/*
 * Adds a revision. If the same UpdateID and RevisionNumber exist with the
 * same core fragment, nothing changes and *EXISTED is true; with a
 * different one, WSD_EINVAL ("revision exists with other metadata").
 * The highest revision number of an update is its latest.
 */
int store_revision_put(struct store *st, const struct store_revision_in *in,
    int64_t *revision_id, bool *existed, struct wsd_err *err) WSD_MUST_CHECK;

/* Lists the latest revision of each update (categories only if asked for
 * by FILTER->update_type). CB returning non-zero stops the listing. */
int store_updates_list(struct store *st, const struct store_update_filter *f,
    int (*cb)(void *, const struct store_update_row *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;
/* A category's GUID from its GUID or (case-insensitive) title, of TYPE
 * (e.g. "UpdateClassification"); WSD_ENOTFOUND if none. */
int store_category_find(struct store *st, const char *type,
    const char *name_or_id, char out_id[37], struct wsd_err *err)
    WSD_MUST_CHECK;

/* Declining removes the update's approvals; it is never offered again. */
int store_update_decline(struct store *st, const char *update_id,
    struct wsd_err *err) WSD_MUST_CHECK;

int store_group_add(struct store *st, const char *name, const char *parent,
    char out_id[37], struct wsd_err *err) WSD_MUST_CHECK;
/* Refuses the built-in groups and groups with child groups; computers
 * left in no group go to Unassigned Computers. */
int store_group_remove(struct store *st, const char *name,
    struct wsd_err *err) WSD_MUST_CHECK;
int store_groups_list(struct store *st,
    int (*cb)(void *, const struct store_group_row *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;

/* Creates or refreshes a computer; a new one joins Unassigned Computers. */
int store_computer_upsert(struct store *st, const char *computer_id,
    const char *dns_name, const char *os_description, struct wsd_err *err)
    WSD_MUST_CHECK;
/*
 * Client-side targeting: the computer's groups become the existing
 * groups NAMES lists (separated by ';', as the TargetGroup policy
 * writes them); names that match no group are ignored, and a computer
 * left in none is in Unassigned Computers. *MATCHED gets how many
 * matched. The computer must exist.
 */
int store_computer_set_groups(struct store *st, const char *computer_id,
    const char *names, unsigned *matched, struct wsd_err *err)
    WSD_MUST_CHECK;
/* Makes GROUP the computer's only group (by ID or DNS name). */
int store_computer_move(struct store *st, const char *computer,
    const char *group, struct wsd_err *err) WSD_MUST_CHECK;
int store_computers_list(struct store *st,
    int (*cb)(void *, const struct store_computer_row *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;
/*
 * Deletes one computer (by ID, or by DNS name when one computer has it;
 * WSD_EINVAL when several do) with its groups and reported events; its
 * ID goes to ID_OUT. Cookies issued to it until now are revoked
 * (store_cookie_revoked), as are those of computers cleanup deletes.
 */
int store_computer_delete(struct store *st, const char *computer,
    char id_out[37], struct wsd_err *err) WSD_MUST_CHECK;
/*
 * 1 when a cookie ISSUED (Unix seconds) for COMPUTER_ID (lower-case
 * GUID) predates or shares the second of that computer's deletion; 0 if
 * not; < 0 on error. A computer that registers again keeps its older
 * cookies revoked.
 */
int store_cookie_revoked(struct store *st, const char *computer_id,
    int64_t issued, struct wsd_err *err) WSD_MUST_CHECK;

/* ACTION: Install, Uninstall or NotApproved; DEADLINE NULL or ISO-8601. */
int store_approval_set(struct store *st, const char *update_id,
    const char *group, const char *action, const char *deadline,
    const char *admin, struct wsd_err *err) WSD_MUST_CHECK;
/*
 * The approval GROUP gets for UPDATE_ID: its own, else its nearest
 * ancestor's. *ACTION "NotApproved" when none; DEADLINE "" when none.
 */
int store_approval_effective(struct store *st, const char *update_id,
    const char *group, char action[16], char deadline[40],
    struct wsd_err *err) WSD_MUST_CHECK;
int store_approvals_list(struct store *st, const char *update_id,
    int (*cb)(void *, const struct store_approval_row *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Calls CB with every revision (or only the latest of each update), with
 * everything store_revision_put took, in UpdateID and revision order. The
 * revision's memory is valid during the callback only. Also fills the
 * update's DECLINED and ORIGIN. CB returning non-zero stops the walk.
 */
struct store_revision_out {
	struct store_revision_in rv;
	int64_t revision_id;
	bool declined;
};
int store_revisions_each(struct store *st, bool latest_only,
    int (*cb)(void *, const struct store_revision_out *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;
/* One revision by its server-local RevisionID (any, not only the
 * latest); WSD_ENOTFOUND if none. */
int store_revision_by_id(struct store *st, int64_t revision_id,
    int (*cb)(void *, const struct store_revision_out *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;
/* One update's latest revision (by UpdateID); WSD_ENOTFOUND if none. */
int store_revision_latest(struct store *st, const char *update_id,
    int (*cb)(void *, const struct store_revision_out *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;

struct store_file_row {
	const unsigned char *sha1; /* 20 bytes */
	const unsigned char *sha256; /* 32 bytes, or NULL */
	uint64_t size;
	const char *file_name;
	const char *state;  /* missing, present, quarantined */
	unsigned needed;    /* latest, not declined revisions using it */
	unsigned refs;      /* revisions of any kind using it */
};
int store_files_list(struct store *st,
    int (*cb)(void *, const struct store_file_row *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;
/* STATE: missing, present or quarantined. */
int store_file_set_state(struct store *st, const unsigned char sha1[20],
    const char *state, struct wsd_err *err) WSD_MUST_CHECK;
/* Forgets a file no revision references (after cleanup removed it). */
int store_file_forget(struct store *st, const unsigned char sha1[20],
    struct wsd_err *err) WSD_MUST_CHECK;

/* What cleanup did; each count is of rows changed. */
struct store_cleanup_counts {
	unsigned declined_superseded;
	unsigned declined_expired;
	unsigned revisions_deleted;
	unsigned computers_deleted;
};
/*
 * The Server Cleanup Wizard's database half. SUPERSEDED: decline updates
 * that a non-declined latest revision supersedes and that no group has
 * approved for install. EXPIRED: decline updates whose latest revision
 * expired. OBSOLETE: delete revisions that are not the latest. INACTIVE
 * (> 0): delete computers not synchronised for that many days.
 */
int store_cleanup(struct store *st, bool superseded, bool expired,
    bool obsolete, unsigned inactive_days, struct store_cleanup_counts *out,
    struct wsd_err *err) WSD_MUST_CHECK;

/* One event a client reported (ReportEventBatch); strings as sent. */
struct store_client_event {
	const char *event_instance_id; /* GUID, lower case */
	const char *computer_id;       /* GUID, lower case */
	const char *time_at_target;    /* xs:dateTime as sent */
	int32_t event_id;
	int32_t source_id;
	const char *update_id; /* GUID; all zero for non-update events */
	int32_t revision_number;
	int32_t hresult;
	const char *app_name;
	const char *replacement_strings; /* joined with newlines */
	const char *misc_data;           /* joined with newlines */
};
/*
 * Stores N events in one transaction; an EventInstanceID already stored
 * is skipped (clients resend). *ADDED gets how many were new.
 */
int store_client_events_add(struct store *st,
    const struct store_client_event *ev, size_t n, size_t *added,
    struct wsd_err *err) WSD_MUST_CHECK;

/* A stored client event, for status (strings valid in the callback). */
struct store_client_event_row {
	int32_t event_id;
	const char *update_id;
	const char *misc_data;
	const char *time_at_target;
};
/* COMPUTER_ID's events in the order they happened (time at the target,
 * then arrival). */
int store_client_events_each(struct store *st, const char *computer_id,
    int (*cb)(void *, const struct store_client_event_row *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;
/* A stored event whole, for `wsusutil report events`. */
struct store_client_event_full {
	struct store_client_event ev;
	const char *received; /* xs:dateTime, when we stored it */
	const char *dns_name; /* the computer's, "" if not registered */
};
/*
 * The LIMIT events stored last (of COMPUTER, an ID or DNS name, when not
 * NULL), newest first; strings valid in the callback. WSD_ENOTFOUND when
 * COMPUTER names no computer and no event.
 */
int store_client_events_recent(struct store *st, const char *computer,
    unsigned limit,
    int (*cb)(void *, const struct store_client_event_full *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;
/* Records what the computer reported about itself. */
int store_computer_details_set(struct store *st, const char *computer_id,
    const struct store_computer_details *d, struct wsd_err *err)
    WSD_MUST_CHECK;
/* Records that COMPUTER_ID talked to us now (last contact). */
int store_computer_touch(struct store *st, const char *computer_id,
    struct wsd_err *err) WSD_MUST_CHECK;

/* Appends to the event log (quarantines, imports, approvals, ...). */
int store_event_add(struct store *st, const char *kind, const char *subject,
    const char *message, struct wsd_err *err) WSD_MUST_CHECK;

/* ------------------------------------------------------------- sync */

/*
 * What SyncUpdates reads (WUSP.md 4.2), in three parts so the daemon can
 * keep the first two in memory (wusp/sync_cache.h): the catalog as of a
 * generation, the deployments one set of target groups gets, and per
 * request only the computer's groups and the current generation. Every
 * write to what a scan reads bumps the generation (schema 0005).
 */

/* Groups a computer may belong to directly. */
#define STORE_SYNC_MAX_GROUPS 16

struct store_sync_head {
	uint64_t generation;
	int64_t groups[STORE_SYNC_MAX_GROUPS]; /* ascending group keys */
	size_t n_groups;
	/* last contact recorded more than a minute ago (or never): the
	 * caller records this one (store_computer_touch) */
	bool contact_stale;
};

/* WSD_ENOTFOUND when COMPUTER_ID is not registered. */
int store_sync_head(struct store *st, const char *computer_id,
    struct store_sync_head *out, struct wsd_err *err) WSD_MUST_CHECK;

/* A prerequisite, bundle member or category of a catalog revision. */
struct store_sync_ref {
	unsigned clause; /* rows of one clause are ORed, clauses ANDed */
	bool is_category;
	char update_id[37]; /* lower case */
};

enum store_sync_type {
	STORE_SYNC_SOFTWARE,
	STORE_SYNC_DRIVER,
	STORE_SYNC_CATEGORY,
	STORE_SYNC_DETECTOID,
};

/* One latest revision of a non-declined update. */
struct store_sync_rev {
	int64_t revision_id;
	char update_id[37];
	enum store_sync_type type;
	bool is_bundle;
	/* false when some revision of the catalog lists this UpdateID as a
	 * prerequisite (WUSP.md 4.2 item 6); true as read, set by
	 * wusp/sync_cache.c from the prerequisites */
	bool is_leaf;
	uint64_t leaf_gen; /* generation at which a prerequisite named it */
	char created[11];  /* YYYY-MM-DD */
	size_t pre_first, n_pre; /* its prerequisites in catalog->pre */
	size_t bun_first, n_bun; /* its bundle members in catalog->bun */
	size_t cat_first, n_cat; /* its categories in catalog->cat */
};

/*
 * One row of the driver table (schema 0006): a d.WindowsDriverMetaData
 * entry of a driver revision. Strings are offsets into the catalog's
 * pool (NUL-terminated).
 */
struct store_sync_driver {
	size_t rev;          /* index into the catalog's revs */
	uint32_t hwid;       /* HardwareID as written */
	uint32_t hwid_key;   /* the same, ASCII lower case */
	uint32_t drv_class, provider, manufacturer;
	uint32_t chids;      /* "guid,guid" lower case, "" none */
	uint32_t scores;     /* "os=HH,os=HH", "" none */
	bool chid_targeted;  /* CHIDs were given (chids may still be "") */
	int32_t date;        /* yyyymmdd */
	uint64_t version;    /* a << 48 | b << 32 | c << 16 | d */
};

/* Owned by the caller; store_sync_catalog_release frees it. */
struct store_sync_catalog {
	uint64_t generation;
	struct store_sync_rev *revs; /* ascending revision_id */
	size_t n_revs;
	struct store_sync_ref *pre, *bun, *cat;
	size_t n_pre, n_bun, n_cat;
	struct store_sync_driver *drv; /* by revision, then document order */
	size_t n_drv;
	char *pool; /* the drivers' strings */
	size_t pool_len;
};

int store_sync_catalog(struct store *st, struct store_sync_catalog *out,
    struct wsd_err *err) WSD_MUST_CHECK;
/* NULL-safe, idempotent. */
void store_sync_catalog_release(struct store_sync_catalog *c);

/*
 * The approval state of one update for a set of groups: the strongest
 * effective approval of any of the groups (a group's own, else its
 * nearest ancestor's; NotApproved stops inheritance; Install before
 * Uninstall), and the latest change to any approval row on the way up.
 */
struct store_sync_deploy {
	int64_t revision_id; /* its latest revision */
	int64_t approval_id; /* 0: not deployed (only NotApproved rows) */
	char action[16];     /* Install, Uninstall; "" when not deployed */
	char deadline[40];   /* "" when none */
	char changed[11];    /* YYYY-MM-DD of the approval */
	uint64_t changed_gen;
};

/* Every non-declined update with an approval row in GROUPS' chains,
 * ascending revision_id, into *OUT (free() it); *GENERATION as read. */
int store_sync_deployments(struct store *st, const int64_t *groups,
    size_t n_groups, uint64_t *generation, struct store_sync_deploy **out,
    size_t *n_out, struct wsd_err *err) WSD_MUST_CHECK;

/* Calls FN with the core fragment of REVISION_ID (read in place: valid
 * during the call only). WSD_ENOTFOUND when there is no such revision. */
int store_revision_core(struct store *st, int64_t revision_id,
    int (*fn)(void *, const char *, size_t), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
