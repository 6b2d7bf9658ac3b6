/*
 * wuagent's state (issue #6 item 5): one SQLite database,
 * STATE_DIR/state.db (0600, directory 0700), so the next scan sends the
 * right installed and cached revision lists and commands see what the
 * previous ones did. Tables (agent_state.c has the schema):
 *
 *   identity  the computer id (SusClientId, a random GUID made once),
 *             the server it belongs to, the cookie (Expiration and
 *             EncryptedData as received), GetConfig's LastChange
 *   revision  every revision the server sent (id, UpdateID, number,
 *             type, IsLeaf, deployment action/id/deadline, core and
 *             extended fragments, title) -- the client cache
 *   file      files of revisions (digests, size, name, url), from the
 *             extended fragments and FileLocations
 *   update_state  per UpdateID what this machine knows: NotApplicable,
 *             Needed, Downloaded, Installed, InstalledPendingReboot,
 *             Failed, with the revision, HRESULT and time
 *   event     reporting events not yet accepted by the server
 *
 * Every function runs inside the caller's transaction if one is open.
 * Strings handed to callbacks are valid during the call only.
 */
#ifndef WSUSD_WUAGENT_AGENT_STATE_H
#define WSUSD_WUAGENT_AGENT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wsd_err.h"

struct agent_state;

int agent_state_open(const char *dir, struct agent_state **out,
    struct wsd_err *err) WSD_MUST_CHECK;
void agent_state_close(struct agent_state *st);
int agent_state_begin(struct agent_state *st, struct wsd_err *err)
    WSD_MUST_CHECK;
int agent_state_commit(struct agent_state *st, struct wsd_err *err)
    WSD_MUST_CHECK;
void agent_state_rollback(struct agent_state *st);

/* ---- identity ---- */

struct agent_identity {
	char computer_id[37];
	char server[1024];       /* WUServer the cache belongs to */
	char last_change[40];    /* GetConfig LastChange, "" none */
	char cookie_expiration[40];
	char *cookie_data;       /* base64; NULL none (owned) */
	bool registered;
};

/* The identity (a new computer id is made and stored on first use). */
int agent_state_identity(struct agent_state *st,
    struct agent_identity *out, struct wsd_err *err) WSD_MUST_CHECK;
void agent_identity_release(struct agent_identity *id);
int agent_state_set_config(struct agent_state *st, const char *server,
    const char *last_change, struct wsd_err *err) WSD_MUST_CHECK;
/* EXPIRATION NULL forgets the cookie. */
int agent_state_set_cookie(struct agent_state *st, const char *expiration,
    const char *data, struct wsd_err *err) WSD_MUST_CHECK;
int agent_state_set_registered(struct agent_state *st, bool registered,
    struct wsd_err *err) WSD_MUST_CHECK;
/* Another server, or ServerChanged: everything cached is dropped. */
int agent_state_forget_cache(struct agent_state *st, struct wsd_err *err)
    WSD_MUST_CHECK;

/* ---- the revision cache ---- */

struct agent_revision {
	int32_t revision_id;
	char update_id[37];
	int32_t revision_number;
	char update_type[16]; /* Software, Driver, Category, Detectoid */
	bool is_leaf;
	char action[24];      /* Install, Evaluate, Bundle, ... */
	int64_t deployment_id;
	char deadline[40];    /* "" none */
	const char *xml_core;     /* the core fragment */
	size_t xml_core_len;
	const char *xml_extended; /* NULL until GetExtendedUpdateInfo */
	size_t xml_extended_len;
	const char *title;        /* "" until known */
};

/* Adds or replaces a revision (NewUpdates); the extended fragment and
 * title are kept when R has none. */
int agent_state_put_revision(struct agent_state *st,
    const struct agent_revision *r, struct wsd_err *err) WSD_MUST_CHECK;
/* ChangedUpdates: a new deployment for a cached revision. */
int agent_state_set_deployment(struct agent_state *st, int32_t revision_id,
    const char *action, int64_t deployment_id, const char *deadline,
    bool is_leaf, struct wsd_err *err) WSD_MUST_CHECK;
int agent_state_set_extended(struct agent_state *st, int32_t revision_id,
    const char *xml, size_t len, const char *title,
    struct wsd_err *err) WSD_MUST_CHECK;
/* OutOfScopeRevisionIDs. */
int agent_state_drop_revision(struct agent_state *st, int32_t revision_id,
    struct wsd_err *err) WSD_MUST_CHECK;
/* Every cached revision, ascending id; FN returning non-zero stops. */
int agent_state_revisions(struct agent_state *st,
    int (*fn)(void *, const struct agent_revision *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;
/* One revision by id: WSD_ENOTFOUND when not cached. */
int agent_state_revision(struct agent_state *st, int32_t revision_id,
    int (*fn)(void *, const struct agent_revision *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;

/* ---- files ---- */

struct agent_file_row {
	int32_t revision_id;
	char name[256];
	uint64_t size;
	unsigned char sha1[20];
	unsigned char sha256[32];
	bool has_sha256;
	char url[1024]; /* "" until known */
};

int agent_state_put_file(struct agent_state *st,
    const struct agent_file_row *f, struct wsd_err *err) WSD_MUST_CHECK;
/* Sets the URL of every file with this SHA-1. */
int agent_state_set_file_url(struct agent_state *st,
    const unsigned char sha1[20], const char *url,
    struct wsd_err *err) WSD_MUST_CHECK;
int agent_state_files(struct agent_state *st, int32_t revision_id,
    int (*fn)(void *, const struct agent_file_row *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;

/* ---- what this machine knows about each update ---- */

enum agent_update_state {
	AGENT_UNKNOWN = 0,
	AGENT_NOT_APPLICABLE,
	AGENT_NEEDED,
	AGENT_DOWNLOADED,
	AGENT_INSTALLED,
	AGENT_INSTALLED_PENDING_REBOOT,
	AGENT_FAILED,
};

const char *agent_update_state_name(enum agent_update_state s);

struct agent_update_row {
	char update_id[37];
	int32_t revision_number;
	int32_t revision_id;
	enum agent_update_state state;
	int32_t hresult;
	const char *title;
	const char *time; /* ISO-8601 UTC of the last change */
};

int agent_state_set_update(struct agent_state *st, const char *update_id,
    int32_t revision_number, int32_t revision_id,
    enum agent_update_state state, int32_t hresult,
    struct wsd_err *err) WSD_MUST_CHECK;
/* AGENT_UNKNOWN when never set. */
int agent_state_get_update(struct agent_state *st, const char *update_id,
    enum agent_update_state *state, struct wsd_err *err) WSD_MUST_CHECK;
int agent_state_updates(struct agent_state *st,
    int (*fn)(void *, const struct agent_update_row *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;

/* An update to act on (download, install). */
struct agent_update_ref {
	char update_id[37];
	int32_t revision_id;
	enum agent_update_state state;
};

/* Bit of agent_state_updates_in's STATES for state S. */
#define AGENT_STATE_BIT(s) (1u << (unsigned)(s))
/* Updates more than any server offers one machine. */
#define AGENT_MAX_UPDATES 10000

/* The updates in one of STATES (AGENT_STATE_BIT ORed), in UpdateID
 * order, at most AGENT_MAX_UPDATES, into *OUT (free() it). */
int agent_state_updates_in(struct agent_state *st, unsigned states,
    struct agent_update_ref **out, size_t *n, struct wsd_err *err)
    WSD_MUST_CHECK;

/* ---- events to report ---- */

struct agent_event {
	int64_t id;              /* row id (output of agent_state_events) */
	char instance_id[37];    /* EventInstanceID, made when queued */
	int32_t event_id;        /* 147, 156, 161, 162, 181, 182, 183, ... */
	char update_id[37];      /* all zero for non-update events */
	int32_t revision_number;
	int32_t hresult;
	char time[40];           /* TimeAtTarget */
	const char *replacement; /* ReplacementStrings, '\n'-separated */
	const char *misc;        /* MiscData, '\n'-separated k=v */
};

/* Queues an event (instance id and time are filled in). */
int agent_state_queue_event(struct agent_state *st,
    const struct agent_event *e, struct wsd_err *err) WSD_MUST_CHECK;
/* The oldest queued events, at most MAX. */
int agent_state_events(struct agent_state *st, size_t max,
    int (*fn)(void *, const struct agent_event *), void *arg,
    struct wsd_err *err) WSD_MUST_CHECK;
/* Deletes queued events up to and including row id LAST. */
int agent_state_events_done(struct agent_state *st, int64_t last,
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
