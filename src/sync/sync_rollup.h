/*
 * sync_rollup: a downstream server's reporting rollup to its upstream
 * (MS-WSUSSS ReportingWebService, WSUSSS.md 9), run by the sync engine
 * after a replica synchronization:
 *
 *   1. GetRollupConfiguration: batch sizes, and the upstream's ServerId
 *      and RollupResetGuid; either differing from what was last seen
 *      forgets what was sent (full rollup).
 *   2. RollupDownstreamServers: the servers that rolled up to us
 *      (parents first), then our own entry with its summary counters.
 *   3. DoDetailedRollup only: RollupComputers (every computer; Details
 *      only when they changed or the upstream asks with NewParent),
 *      GetOutOfSyncComputers (our last RollupNumber per computer; the
 *      ids named are resent in full), RollupComputerStatus (computers
 *      whose status changed, IsFullRollup, RollupNumber = last + 1).
 *
 * Requests are SOAP 1.1 with the dummy cookie (Expiration
 * 9999-12-31T23:59:59.9999999, empty EncryptedData). Answers are hostile
 * input: parsed with soap_parse.h, sizes and GUIDs checked. A SOAP fault
 * from any of these operations stops the rollup with an error naming the
 * operation (no ErrorCode is defined for them; WSUSSS.md 3).
 *
 * Status sent per computer: what its own clients reported
 * (catalog/status.h) mapped to SummarizationState: Unknown 0,
 * NotApplicable 1, Needed 2, Downloaded 3, Installed 4, Failed 5,
 * InstalledPendingReboot 6. Only the updates the reports name are sent;
 * EffectiveLastDetectionTime is the time of the computer's last status
 * report (null when it never reported), from which the upstream derives
 * NotApplicable (reported, update not named) and Unknown (never).
 *
 * Rollup state lives in the store (store_rollup.h): the upstream's ids
 * and, per computer, the last RollupNumber and digests of what was sent.
 */
#ifndef WSUSD_SYNC_SYNC_ROLLUP_H
#define WSUSD_SYNC_SYNC_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>

#include "common/wsd_err.h"

struct sbuf;
struct store;

/*
 * The transport, supplied by the caller: POST BODY (LEN bytes) to the
 * upstream's ReportingWebService with SOAPAction "ACTION" (the full
 * action URI, without quotes). Returns 0 when an HTTP answer came back,
 * with its status in *HTTP_STATUS and its body appended to ANSWER (an
 * empty sbuf the module initialised with its cap), or < 0 with ERR
 * filled when nothing did. A SOAP fault is HTTP 500 with the fault in
 * ANSWER; returning SYNC_EFAULT-style errors instead is accepted too.
 */
struct sync_rollup_io {
	int (*call)(void *arg, const char *action, const char *body,
	    size_t len, long *http_status, struct sbuf *answer,
	    struct wsd_err *err);
	void *arg;
};

struct sync_rollup_stats {
	bool full;               /* upstream changed: everything resent */
	bool detailed;           /* the upstream asked for DoDetailedRollup */
	unsigned requests;       /* SOAP calls made */
	unsigned servers;        /* DownstreamServerRollupInfo sent */
	unsigned computers;      /* ComputerRollupInfo sent */
	unsigned details;        /* of which with Details */
	unsigned new_parent;     /* ChangedComputer answers */
	unsigned out_of_sync;    /* ids GetOutOfSyncComputers named */
	unsigned status_computers; /* ComputerStatusRollupInfo sent */
	unsigned status_rows;      /* UpdateStatus items sent */
};

/*
 * Runs one rollup against the upstream behind IO, reading and updating
 * ST (not inside a caller's transaction). Returns 0, or < 0 with ERR
 * naming the operation and the problem; WSD_EAGAIN when the upstream
 * answered RollupComputerStatus false (busy: try again in a few minutes,
 * WSUSSS.md 9). OUT is filled in either case.
 */
int sync_rollup_run(struct store *st, const struct sync_rollup_io *io,
    struct sync_rollup_stats *out, struct wsd_err *err) WSD_MUST_CHECK;

#endif
