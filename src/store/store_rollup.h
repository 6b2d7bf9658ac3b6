/*
 * Reporting rollup (MS-WSUSSS ReportingWebService, WSUSSS.md 9): the
 * store's half of both sides.
 *
 * Upstream (USS) side: what downstream servers pushed, i.e. their
 * summary rows (rollup_server), their computers (rollup_computer) and
 * those computers' per-update SummarizationState (rollup_status). The
 * caller validated every value (GUIDs lower case, states 0..6, lengths
 * bounded); the store keeps them as text and integers, never interprets
 * them.
 *
 * Downstream (DSS) side: what this server last rolled up to its own
 * upstream: the upstream's ServerId and RollupResetGuid, and per local
 * computer the last RollupNumber and digests of the details and status
 * sent, so unchanged computers are not resent.
 *
 * Timestamps are xs:dateTime text as soap_datetime_format writes it, ""
 * for null (the rollup's 1753-01-01T00:00:00 sentinel). Strings handed
 * to callbacks are valid during the callback only.
 */
#ifndef WSUSD_STORE_STORE_ROLLUP_H
#define WSUSD_STORE_STORE_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wsd_err.h"

struct store;

/* The ServerSummary counters of DownstreamServerRollupInfo. */
#define STORE_ROLLUP_SUMMARY_N 18

/* One DownstreamServerRollupInfo. */
struct store_rollup_server {
	const char *server_id;        /* GUID */
	const char *parent_server_id; /* GUID; all zero: reports to us */
	const char *full_domain_name;
	const char *version;
	bool is_replica;
	const char *last_sync_time;
	const char *last_rollup_time;
	bool has_summary;
	int32_t summary[STORE_ROLLUP_SUMMARY_N]; /* WSDL order */
	unsigned client_summaries; /* how many were sent (not stored) */
};

/* One ComputerRollupInfo; the detail fields only with has_details. */
struct store_rollup_computer {
	const char *computer_id;      /* GUID */
	const char *parent_server_id; /* GUID of the server it reports to */
	const char *last_sync_time;
	int32_t last_sync_result;
	const char *last_reported_status_time;
	bool has_details;
	const char *full_domain_name;
	const char *ip_address;
	int32_t os_major, os_minor, os_build;
	const char *os_locale;
	const char *os_description;
	const char *manufacturer;
	const char *model;
	const char *bios_version;
	const char *processor;
	const char *client_version;
};

/* A rolled-up computer as listings show it. */
struct store_rollup_computer_row {
	struct store_rollup_computer c;
	const char *via_name;  /* name of parent_server_id, "" if unknown */
	int32_t rollup_number; /* last status rollup taken */
	const char *last_detection_time;
	unsigned n_status;     /* status rows stored */
};

/* One ComputerStatusRollupUpdateStatus. */
struct store_rollup_status {
	const char *update_id; /* GUID */
	int32_t state;         /* SummarizationState 0..6 */
	const char *last_change;
};

/* A computer of this server's own table, for rolling it up. */
struct store_rollup_local {
	const char *computer_id;
	const char *dns_name;
	const char *os_description;
	int32_t os_build;
	const char *os_locale;
	const char *manufacturer;
	const char *model;
	const char *bios_version;
	const char *processor;
	const char *client_version;
	const char *last_sync;   /* "" when never */
	const char *group_ids;   /* GUIDs of its groups, ',' separated */
};

/* Digest text of what was last sent: SHA-256 in hex, "" none. */
#define STORE_ROLLUP_DIGEST 65

struct store_rollup_ops {
	int (*server_put)(struct store *, const struct store_rollup_server *,
	    struct wsd_err *);
	int (*servers_each)(struct store *,
	    int (*)(void *, const struct store_rollup_server *), void *,
	    struct wsd_err *);
	int (*computer_put)(struct store *,
	    const struct store_rollup_computer *, bool *, struct wsd_err *);
	int (*computer_rollup_number)(struct store *, const char *, int32_t *,
	    char[37], struct wsd_err *);
	int (*status_put)(struct store *, const char *, int32_t, bool,
	    const char *, const struct store_rollup_status *, size_t,
	    struct wsd_err *);
	int (*computers_each)(struct store *,
	    int (*)(void *, const struct store_rollup_computer_row *), void *,
	    struct wsd_err *);
	int (*status_each)(struct store *, const char *,
	    int (*)(void *, const struct store_rollup_status *), void *,
	    struct wsd_err *);
	int (*upstream_get)(struct store *, char[37], char[37],
	    struct wsd_err *);
	int (*upstream_set)(struct store *, const char *, const char *,
	    struct wsd_err *);
	int (*sent_get)(struct store *, const char *, int32_t *,
	    char[STORE_ROLLUP_DIGEST], char[STORE_ROLLUP_DIGEST],
	    struct wsd_err *);
	int (*sent_set)(struct store *, const char *, int32_t, const char *,
	    const char *, struct wsd_err *);
	int (*sent_clear)(struct store *, struct wsd_err *);
	int (*local_computers_each)(struct store *,
	    int (*)(void *, const struct store_rollup_local *), void *,
	    struct wsd_err *);
};

extern const struct store_rollup_ops store_sqlite_rollup_ops;

/* ---------------------------------------------------- upstream side */

/* Creates or replaces the server's row (by server_id). */
int store_rollup_server_put(struct store *st,
    const struct store_rollup_server *s, struct wsd_err *err) WSD_MUST_CHECK;
/* Every stored server, parents before children where the tree allows
 * (ordered by depth below us, then ServerId). CB non-zero stops. */
int store_rollup_servers_each(struct store *st,
    int (*cb)(void *, const struct store_rollup_server *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;
/*
 * Creates or refreshes a computer. Without details, known details are
 * kept. *NEED_DETAILS is true when the computer came without details
 * and none are stored (new, or it moved to another parent): the caller
 * answers ChangedComputer NewParent so the downstream resends them.
 */
int store_rollup_computer_put(struct store *st,
    const struct store_rollup_computer *c, bool *need_details,
    struct wsd_err *err) WSD_MUST_CHECK;
/* The last RollupNumber taken for COMPUTER_ID and its parent;
 * WSD_ENOTFOUND when the computer is not known. */
int store_rollup_computer_rollup_number(struct store *st,
    const char *computer_id, int32_t *number, char parent[37],
    struct wsd_err *err) WSD_MUST_CHECK;
/*
 * Takes one ComputerStatusRollupInfo: with FULL the computer's status
 * rows are replaced by V, else V's rows are merged in. Records NUMBER
 * and DETECTION_TIME. WSD_ENOTFOUND when the computer is not known
 * (nothing changes).
 */
int store_rollup_status_put(struct store *st, const char *computer_id,
    int32_t number, bool full, const char *detection_time,
    const struct store_rollup_status *v, size_t n, struct wsd_err *err)
    WSD_MUST_CHECK;
/* Rolled-up computers by name, then id. */
int store_rollup_computers_each(struct store *st,
    int (*cb)(void *, const struct store_rollup_computer_row *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;
/* One rolled-up computer's status rows, by update id. */
int store_rollup_status_each(struct store *st, const char *computer_id,
    int (*cb)(void *, const struct store_rollup_status *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;

/* -------------------------------------------------- downstream side */

/* The upstream's ServerId and RollupResetGuid last seen ("" never). */
int store_rollup_upstream_get(struct store *st, char uss_id[37],
    char reset_guid[37], struct wsd_err *err) WSD_MUST_CHECK;
int store_rollup_upstream_set(struct store *st, const char *uss_id,
    const char *reset_guid, struct wsd_err *err) WSD_MUST_CHECK;
/* What was last sent for COMPUTER_ID; WSD_ENOTFOUND when nothing. */
int store_rollup_sent_get(struct store *st, const char *computer_id,
    int32_t *number, char details[STORE_ROLLUP_DIGEST],
    char status[STORE_ROLLUP_DIGEST], struct wsd_err *err) WSD_MUST_CHECK;
int store_rollup_sent_set(struct store *st, const char *computer_id,
    int32_t number, const char *details, const char *status,
    struct wsd_err *err) WSD_MUST_CHECK;
/* Forgets what was sent: the next rollup is a full one. */
int store_rollup_sent_clear(struct store *st, struct wsd_err *err)
    WSD_MUST_CHECK;
/* This server's own computers (table computer), by computer id. */
int store_rollup_local_computers_each(struct store *st,
    int (*cb)(void *, const struct store_rollup_local *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
