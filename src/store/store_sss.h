/*
 * The store's upstream-server area (MS-WSUSSS, issue #7): what
 * ServerSyncWebService reads to answer downstream servers, and the
 * downstream servers it has met.
 *
 * Change marks: every anchor wsusd hands a DSS carries the catalog
 * generation (schema 0005) it was made at. A revision's mark is the
 * generation at which it became one a DSS should fetch (stored, made the
 * latest again, its update un-declined); an approval's the generation of
 * its last change; a dead deployment's the generation it died at (schema
 * 0007). Read the generation BEFORE the rows: a change committed in
 * between is then sent twice, never lost.
 *
 * Strings passed to callbacks are valid during the callback only; a
 * callback returning non-zero stops the walk (the function returns 0).
 */
#ifndef WSUSD_STORE_STORE_SSS_H
#define WSUSD_STORE_STORE_SSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wsd_err.h"

struct store;
struct store_revision_out;

/* One IdAndDelta of a GetRevisionIdList filter. */
struct store_sss_idd {
	char id[37]; /* lower-case GUID */
	bool delta;  /* false: everything of this category, whatever AFTER */
};

struct store_sss_filter {
	bool config; /* categories and detectoids, else Software and Driver */
	/* Revisions marked after this generation; -1 for all. */
	int64_t after;
	/* Products/product families and classifications (update pass
	 * only); an empty list does not restrict. */
	size_t n_categories;
	const struct store_sss_idd *categories;
	size_t n_classifications;
	const struct store_sss_idd *classifications;
};

struct store_sss_group {
	const char *group_id;
	const char *parent_id; /* "" for the root, All Computers */
	const char *name;
	bool builtin;
};

struct store_sss_deployment {
	const char *update_id;
	int32_t revision_number; /* the latest */
	const char *action;      /* Install, Uninstall, NotApproved */
	const char *admin;
	const char *deadline;    /* normalised ISO-8601 UTC, "" when none */
	const char *created;     /* ISO-8601 UTC: when it was last set */
	const char *deployment_guid;
	const char *group_id;
	bool group_is_root;
};

struct store_sss_dss_row {
	const char *server_id;
	const char *fqdn;
	const char *first_seen;
	const char *last_seen;
};

struct store_sss_ops {
	int (*generation)(struct store *, uint64_t *, struct wsd_err *);
	int (*revisions)(struct store *, const struct store_sss_filter *,
	    int (*)(void *, const char *, int32_t), void *, struct wsd_err *);
	int (*revision_get)(struct store *, const char *, int32_t,
	    int (*)(void *, const struct store_revision_out *), void *,
	    struct wsd_err *);
	int (*file_known)(struct store *, const unsigned char *, bool *,
	    struct wsd_err *);
	int (*groups)(struct store *,
	    int (*)(void *, const struct store_sss_group *), void *,
	    struct wsd_err *);
	int (*deployments)(struct store *, int64_t, int64_t,
	    int (*)(void *, const struct store_sss_deployment *), void *,
	    struct wsd_err *);
	int (*dead_deployments)(struct store *, int64_t, int64_t,
	    int (*)(void *, const char *), void *, struct wsd_err *);
	int (*declined)(struct store *, int (*)(void *, const char *), void *,
	    struct wsd_err *);
	int (*dss_seen)(struct store *, const char *, const char *,
	    struct wsd_err *);
	int (*dss_list)(struct store *,
	    int (*)(void *, const struct store_sss_dss_row *), void *,
	    struct wsd_err *);
};

extern const struct store_sss_ops store_sqlite_sss_ops;

/* The catalog generation now. */
int store_sss_generation(struct store *st, uint64_t *gen,
    struct wsd_err *err) WSD_MUST_CHECK;
/*
 * GetRevisionIdList's rows: the latest revision of every update of the
 * pass that F selects, once each, with (update pass) the latest
 * revisions of the Software/Driver updates the selected ones bundle or
 * require, transitively, whatever their marks. Declined updates are not
 * selected (they may still come in as a bundle member or prerequisite).
 * An update is selected when it is in one listed category (when any is
 * listed), in one listed classification (likewise), and either marked
 * after F->after or in a listed item with delta false. Membership is a
 * category among the revision's categories or category prerequisites,
 * or an ancestor of one.
 */
int store_sss_revisions(struct store *st, const struct store_sss_filter *f,
    int (*cb)(void *, const char *update_id, int32_t revision_number),
    void *arg, struct wsd_err *err) WSD_MUST_CHECK;
/* One revision by UpdateID (any case) and number; WSD_ENOTFOUND if none. */
int store_sss_revision_get(struct store *st, const char *update_id,
    int32_t revision_number,
    int (*cb)(void *, const struct store_revision_out *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;
/* *KNOWN true when a file of this SHA-1 is in the catalog. */
int store_sss_file_known(struct store *st, const unsigned char sha1[20],
    bool *known, struct wsd_err *err) WSD_MUST_CHECK;
/* Every target group, parents before children. */
int store_sss_groups(struct store *st,
    int (*cb)(void *, const struct store_sss_group *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;
/* Approvals whose mark is in (AFTER, UPTO]. AFTER -1: from the start. */
int store_sss_deployments(struct store *st, int64_t after, int64_t upto,
    int (*cb)(void *, const struct store_sss_deployment *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;
/* Deployment GUIDs that died in (AFTER, UPTO]. */
int store_sss_dead_deployments(struct store *st, int64_t after,
    int64_t upto, int (*cb)(void *, const char *guid), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;
/* The UpdateIDs of every declined update (not categories). */
int store_sss_declined(struct store *st,
    int (*cb)(void *, const char *update_id), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;
/*
 * Records that the DSS SERVER_ID (lower-case GUID) named itself FQDN
 * now: a new row, or the name and last-seen time of the known one.
 */
int store_sss_dss_seen(struct store *st, const char *server_id,
    const char *fqdn, struct wsd_err *err) WSD_MUST_CHECK;
/* The downstream servers met, by server ID. */
int store_sss_dss_list(struct store *st,
    int (*cb)(void *, const struct store_sss_dss_row *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
