/*
 * sync_proto: the MS-WSUSSS messages a downstream server sends and the
 * answers it reads (WSUSSS.md 5, element order schema/ORDER.md), over
 * sync_client. Every value read from an answer is bounded and checked
 * (GUIDs, ints, anchors) before the engine sees it.
 */
#ifndef WSUSD_SYNC_SYNC_PROTO_H
#define WSUSD_SYNC_SYNC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wsd_err.h"
#include "store/store_upstream.h"
#include "sync/sync_client.h"

/* The protocol version wsusd speaks as a DSS (WSUSSS.md 5.3). */
#define SYNC_PROTOCOL_VERSION "1.20"
/* Cookie fields are echoed verbatim; Windows' are ~200 characters. */
#define SYNC_COOKIE_MAX 8192

struct sync_session {
	struct sync_client *client;
	char expiration[64];
	char encrypted[SYNC_COOKIE_MAX];
};

/* GetAuthConfig, GetAuthorizationCookie, GetCookie (WSUSSS.md 7.1). */
int sync_authorize(struct sync_session *s, const char *account_name,
    const char *account_guid, struct wsd_err *err) WSD_MUST_CHECK;

struct sync_config_data {
	bool catalog_only;
	bool lazy;
	int32_t max_updates; /* per GetUpdateData, 1..100 here */
	char new_anchor[STORE_ANCHOR_MAX];
	char protocol_version[32];
};
int sync_get_config_data(struct sync_session *s, const char *anchor,
    struct sync_config_data *out, struct wsd_err *err) WSD_MUST_CHECK;

/* One id of a filter (IdAndDelta). */
struct sync_filter_id {
	char id[37];
	bool delta;
};

/*
 * GetRevisionIdList; CB gets each listed revision (a non-zero return
 * stops with that value), ANCHOR the new anchor. The answer is read with
 * a streaming parser: a large catalog's list is tens of MB.
 */
int sync_get_revision_ids(struct sync_session *s, bool config,
    const char *anchor, const struct sync_filter_id *categories, size_t nc,
    const struct sync_filter_id *classifications, size_t ncl,
    int (*cb)(void *, const char *update_id, int revision), void *arg,
    char anchor_out[STORE_ANCHOR_MAX], struct wsd_err *err) WSD_MUST_CHECK;

/*
 * The answer-reading half of sync_get_revision_ids, apart from the
 * exchange so the fuzzer (fuzz/fuzz_sync_answers.c) can feed it hostile
 * answers: ANSWER is a whole GetRevisionIdList response envelope. A DTD,
 * an entity reference or nesting deeper than 32 refuses it.
 */
int sync_parse_revision_ids(const struct sbuf *answer,
    int (*cb)(void *, const char *update_id, int revision), void *arg,
    char anchor_out[STORE_ANCHOR_MAX], struct wsd_err *err) WSD_MUST_CHECK;

struct sync_revision_id {
	char update_id[37];
	int revision;
};

/*
 * GetUpdateData for IDS; CB gets each returned revision's document
 * (XmlUpdateBlob, unescaped). Revisions asked for but not returned are
 * simply not reported (the caller asks again, WSUSSS.md 5.6).
 */
int sync_get_update_data(struct sync_session *s,
    const struct sync_revision_id *ids, size_t n,
    int (*cb)(void *, const char *update_id, int revision, const char *doc,
	size_t len),
    void *arg, struct wsd_err *err) WSD_MUST_CHECK;
/* The answer-reading half of sync_get_update_data: ANSWER is a whole
 * GetUpdateData response envelope. */
int sync_parse_update_data(const struct sbuf *answer,
    int (*cb)(void *, const char *update_id, int revision, const char *doc,
	size_t len),
    void *arg, struct wsd_err *err) WSD_MUST_CHECK;

/* GetDeployments (replica), read into callbacks. */
struct sync_group {
	char id[37];
	char parent[37];
	char name[256];
	bool builtin;
};
struct sync_deployment {
	char update_id[37];
	int revision;
	int action; /* 0 install, 1 uninstall, 2 detect only, 3 block */
	char deadline[64]; /* "" when none */
	char deployment_id[37];
	char group_id[37];
	char admin[256];
};
struct sync_deployments_cb {
	int (*group)(void *, const struct sync_group *);
	int (*deployment)(void *, const struct sync_deployment *);
	int (*hidden)(void *, const char *update_id);
	void *arg;
};
int sync_get_deployments(struct sync_session *s, const char *sync_anchor,
    const struct sync_deployments_cb *cb, char anchor_out[STORE_ANCHOR_MAX],
    struct wsd_err *err) WSD_MUST_CHECK;
/* The answer-reading half of sync_get_deployments: ANSWER is a whole
 * GetDeployments response envelope; CB's three callbacks are all called
 * (none may be NULL). */
int sync_parse_deployments(const struct sbuf *answer,
    const struct sync_deployments_cb *cb, char anchor_out[STORE_ANCHOR_MAX],
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
