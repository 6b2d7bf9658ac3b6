/*
 * MS-WUSP as the Windows Update Agent speaks it (issue #6 item 2;
 * WUSP.md 3, 4.1): requests in the captured shapes (element order of
 * schema/ORDER.md, the Windows envelope, quoted SOAPAction, protocol
 * 2.90), answers parsed once with soap/ into what the scan needs.
 *
 * A session holds the cookie. agent_session_call-style recovery: every
 * cookie-bearing call that gets InvalidCookie or CookieExpired takes a
 * new cookie (GetAuthorizationCookie + GetCookie) and is retried once;
 * ConfigChanged reads GetConfig first; RegistrationRequired registers;
 * ServerChanged drops the whole cache (another server, or its database
 * was reset) before starting over. Other faults end the operation with
 * their ErrorCode in the message.
 */
#ifndef WSUSD_WUAGENT_AGENT_PROTO_H
#define WSUSD_WUAGENT_AGENT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wuagent/agent_config.h"
#include "wuagent/agent_http.h"
#include "wuagent/agent_msg.h"
#include "wuagent/agent_state.h"

struct agent_session {
	const struct agent_config *cf;
	struct agent_http *http;
	struct agent_state *st;
	struct agent_identity id;
	char dns_name[256];
	char client_url[AGENT_URL_MAX + 64];
	char auth_url[AGENT_URL_MAX + 64];
	char report_url[AGENT_URL_MAX + 64];
	struct agent_cookie ck;
	bool have_cookie;
	unsigned calls;        /* SOAP calls made, for reports */
	char fault[AGENT_FAULT_MAX]; /* ErrorCode of the last fault */
	char msg[1024];        /* what went wrong, for the user */
};

/* Opens the state and the HTTP client; loads the identity. */
int agent_session_open(struct agent_session *s, const struct agent_config *cf,
    struct agent_state *st) WSD_MUST_CHECK;
void agent_session_close(struct agent_session *s);

/* GetConfig, GetAuthorizationCookie, GetCookie (and RegisterComputer
 * when this computer is not registered): a usable cookie. */
int agent_session_start(struct agent_session *s) WSD_MUST_CHECK;

/* One page of SyncUpdates, with what the state caches. */
struct agent_sync_result {
	size_t n_new, n_changed, n_out_of_scope;
	bool truncated;
	bool new_non_leaf; /* a NewUpdates revision with IsLeaf=false */
};

/*
 * The software pass: SyncUpdates pages until the server has nothing
 * more (Truncated=false and no new non-leaf revision), at most
 * MAX_PAGES round trips. NewUpdates, ChangedUpdates and
 * OutOfScopeRevisionIDs go to the state as they come. INSTALLED_NONLEAF
 * decides which cached non-leaf revisions are reported in
 * InstalledNonLeafUpdateIDs (the client's evaluation of IsInstalled).
 */
int agent_sync_software(struct agent_session *s,
    bool (*installed_nonleaf)(void *, const struct agent_revision *),
    void *arg, unsigned max_pages, size_t *n_pages) WSD_MUST_CHECK;

/*
 * GetExtendedUpdateInfo (Extended, LocalizedProperties for "en") for
 * REVISION_IDS, stored in the state, files included; then
 * GetFileLocations for files without a URL.
 */
int agent_ext_info(struct agent_session *s, const int32_t *revision_ids,
    size_t n) WSD_MUST_CHECK;

/* ReportEventBatch of the queued events (in batches); accepted ones
 * leave the queue. *SENT how many. */
int agent_report_events(struct agent_session *s, size_t *sent)
    WSD_MUST_CHECK;

#endif
