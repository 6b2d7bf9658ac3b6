/*
 * store_upstream: this server as a downstream server (schema 0008):
 * its upstream, the anchors, the staging of a synchronization in
 * progress and the synchronization history. Used by src/sync/ and
 * wsusutil; WSUSSS.md 8 is the algorithm these rows serve.
 */
#ifndef WSUSD_STORE_STORE_UPSTREAM_H
#define WSUSD_STORE_STORE_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wsd_err.h"

struct store;
struct sbuf;

#define STORE_UPSTREAM_URL_MAX  512
#define STORE_UPSTREAM_PATH_MAX 1024
#define STORE_ANCHOR_MAX        128

struct store_upstream {
	char url[STORE_UPSTREAM_URL_MAX]; /* https://uss.example:8531 */
	bool replica;
	bool use_tls;
	char client_cert[STORE_UPSTREAM_PATH_MAX]; /* "" when none */
	char client_key[STORE_UPSTREAM_PATH_MAX];
	/* "" when none yet */
	char config_anchor[STORE_ANCHOR_MAX];
	char anchor_config[STORE_ANCHOR_MAX];
	char anchor_updates[STORE_ANCHOR_MAX];
	char deployment_anchor[STORE_ANCHOR_MAX];
	char stage_anchor_config[STORE_ANCHOR_MAX];
	char stage_anchor_updates[STORE_ANCHOR_MAX];
	char changed[40];
};

/* Which anchor store_upstream_anchor_set writes. */
enum store_anchor {
	STORE_ANCHOR_CONFIG_DATA,   /* GetConfigData's NewConfigAnchor */
	STORE_ANCHOR_CONFIG_PASS,   /* GetRevisionIdList GetConfig=true */
	STORE_ANCHOR_UPDATES_PASS,  /* GetRevisionIdList GetConfig=false */
	STORE_ANCHOR_DEPLOYMENTS,   /* GetDeployments */
	STORE_ANCHOR_STAGE_CONFIG,  /* the staged config list's */
	STORE_ANCHOR_STAGE_UPDATES, /* the staged updates list's */
};

enum store_sync_pass { STORE_PASS_CONFIG, STORE_PASS_UPDATES };

struct store_sync_row {
	int64_t sync_id;
	const char *started;
	const char *finished; /* "" while running */
	const char *trigger;  /* manual, schedule */
	const char *result;   /* running, succeeded, failed, interrupted */
	const char *message;
	const char *phase;
	int64_t items_total, items_done, new_revisions, metadata_bytes;
	int64_t files_total, files_done, files_quarantined, content_bytes;
	int64_t revisions_vanished; /* listed upstream, never delivered */
};

/* Progress written during a synchronization; the counters are totals. */
struct store_sync_progress {
	const char *phase;
	int64_t items_total, items_done, new_revisions, metadata_bytes;
	int64_t files_total, files_done, files_quarantined, content_bytes;
	int64_t revisions_vanished; /* listed upstream, never delivered */
};

struct store_upstream_ops {
	int (*get)(struct store *, struct store_upstream *, struct wsd_err *);
	int (*set)(struct store *, const struct store_upstream *,
	    struct wsd_err *);
	int (*anchor_set)(struct store *, enum store_anchor, const char *,
	    struct wsd_err *);
	int (*stage_add)(struct store *, enum store_sync_pass, const char *,
	    int, struct wsd_err *);
	int (*stage_pending)(struct store *, enum store_sync_pass, size_t,
	    int (*)(void *, const char *, int), void *, struct wsd_err *);
	int (*stage_put)(struct store *, const char *, int, const char *,
	    size_t, struct wsd_err *);
	int (*stage_drop)(struct store *, const char *, int, struct wsd_err *);
	int (*stage_each)(struct store *, enum store_sync_pass,
	    int (*)(void *, const char *, int, const char *, size_t), void *,
	    struct wsd_err *);
	int (*stage_count)(struct store *, int64_t *, int64_t *,
	    struct wsd_err *);
	int (*stage_clear)(struct store *, struct wsd_err *);
	int (*stage_clear_pass)(struct store *, enum store_sync_pass,
	    struct wsd_err *);
	int (*replica_group)(struct store *, const char *, const char *,
	    const char *, struct wsd_err *);
	int (*replica_clear)(struct store *, struct wsd_err *);
	int (*replica_prune)(struct store *, const char (*)[37], size_t,
	    struct wsd_err *);
	int (*have_revision)(struct store *, const char *, int, bool *,
	    struct wsd_err *);
	int (*sync_begin)(struct store *, const char *, int64_t *,
	    struct wsd_err *);
	int (*sync_progress)(struct store *, int64_t,
	    const struct store_sync_progress *, struct wsd_err *);
	int (*sync_end)(struct store *, int64_t, const char *, const char *,
	    struct wsd_err *);
	int (*sync_history)(struct store *, unsigned,
	    int (*)(void *, const struct store_sync_row *), void *,
	    struct wsd_err *);
};

extern const struct store_upstream_ops store_sqlite_upstream_ops;

/* WSD_ENOTFOUND when no upstream is set. */
int store_upstream_get(struct store *st, struct store_upstream *out,
    struct wsd_err *err) WSD_MUST_CHECK;
/*
 * Sets the upstream (URL, mode, TLS, client certificate). Another URL
 * than before forgets every anchor and the staged lists: the next
 * synchronization is a full one from the new server.
 */
int store_upstream_set(struct store *st, const struct store_upstream *in,
    struct wsd_err *err) WSD_MUST_CHECK;
/* VALUE NULL or "" clears it. */
int store_upstream_anchor_set(struct store *st, enum store_anchor which,
    const char *value, struct wsd_err *err) WSD_MUST_CHECK;

/* Lists a revision to fetch (nothing if already listed). */
int store_sync_stage_add(struct store *st, enum store_sync_pass pass,
    const char *update_id, int revision_number, struct wsd_err *err)
    WSD_MUST_CHECK;
/* Up to MAX listed revisions of PASS not fetched yet. */
int store_sync_stage_pending(struct store *st, enum store_sync_pass pass,
    size_t max, int (*cb)(void *, const char *update_id, int revision),
    void *arg, struct wsd_err *err) WSD_MUST_CHECK;
/* Keeps the fetched document of a listed revision. */
int store_sync_stage_put(struct store *st, const char *update_id,
    int revision_number, const char *doc, size_t len, struct wsd_err *err)
    WSD_MUST_CHECK;
/* Forgets a listed revision the upstream no longer has. */
int store_sync_stage_drop(struct store *st, const char *update_id,
    int revision_number, struct wsd_err *err) WSD_MUST_CHECK;
/* Every fetched document of PASS, in UpdateID order. */
int store_sync_stage_each(struct store *st, enum store_sync_pass pass,
    int (*cb)(void *, const char *update_id, int revision, const char *doc,
	size_t len),
    void *arg, struct wsd_err *err) WSD_MUST_CHECK;
/* Listed and fetched revisions, both passes. */
int store_sync_stage_count(struct store *st, int64_t *listed,
    int64_t *fetched, struct wsd_err *err) WSD_MUST_CHECK;
/* Empties the staging and both staged anchors. */
int store_sync_stage_clear(struct store *st, struct wsd_err *err)
    WSD_MUST_CHECK;
/* Empties one pass's staging. */
int store_sync_stage_clear_pass(struct store *st, enum store_sync_pass pass,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Replica mode (WSUSSS.md 5.8). A group by the upstream's GUID: created,
 * or renamed and moved; a local group of the same name is adopted (takes
 * the GUID). PARENT "" or the all-zero GUID: under All Computers.
 */
int store_upstream_replica_group(struct store *st, const char *group_id,
    const char *name, const char *parent_id, struct wsd_err *err)
    WSD_MUST_CHECK;
/* Forgets every approval (the upstream's list replaces them). */
int store_upstream_replica_clear(struct store *st, struct wsd_err *err)
    WSD_MUST_CHECK;
/* Removes the groups not in KEEP (built-in ones stay); their computers
 * go to Unassigned Computers. */
int store_upstream_replica_prune(struct store *st, const char (*keep)[37],
    size_t n, struct wsd_err *err) WSD_MUST_CHECK;

/* Whether the catalog has this revision. */
int store_upstream_have_revision(struct store *st, const char *update_id,
    int revision_number, bool *have, struct wsd_err *err) WSD_MUST_CHECK;

/* A synchronization starts (TRIGGER manual or schedule): a history row.
 * Rows left 'running' by a crash become 'interrupted'. */
int store_sync_begin(struct store *st, const char *trigger, int64_t *sync_id,
    struct wsd_err *err) WSD_MUST_CHECK;
int store_sync_progress(struct store *st, int64_t sync_id,
    const struct store_sync_progress *p, struct wsd_err *err) WSD_MUST_CHECK;
/* RESULT succeeded or failed; MESSAGE says what happened. */
int store_sync_end(struct store *st, int64_t sync_id, const char *result,
    const char *message, struct wsd_err *err) WSD_MUST_CHECK;
/* The last N synchronizations, newest first. */
int store_sync_history(struct store *st, unsigned n,
    int (*cb)(void *, const struct store_sync_row *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
