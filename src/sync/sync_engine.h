/*
 * sync_engine: one synchronization of a downstream server from its
 * upstream (issue #7 item 2; WSUSSS.md 8):
 *
 *   authorize -> GetConfigData -> config pass (categories, classifi-
 *   cations, detectoids) -> updates pass -> [replica: GetDeployments,
 *   reporting roll-up] -> content
 *
 * Each pass lists what is new since its anchor (GetRevisionIdList),
 * fetches the documents in batches (GetUpdateData) into the staging
 * table, one transaction per batch, then moves every staged document
 * into the catalog and advances the anchor in ONE transaction: clients
 * never see half a pass, and a synchronization killed at any point
 * resumes with the next batch (the staged list and its anchor are kept)
 * and stores nothing twice. A document that does not parse, or that
 * names another revision than the one asked for, is refused and the
 * pass fails (the anchor does not move).
 *
 * Content: every file the catalog needs and does not have comes from
 * the upstream's content port (plain HTTP, WSUSSS.md 6), is checked
 * against the SHA-1 and SHA-256 of its metadata by the content store,
 * and a file that does not match goes to quarantine (DATADIR/quarantine)
 * and stays 'quarantined' in the catalog: never served.
 *
 * One synchronization at a time (DATADIR/sync.lock). Every run leaves a
 * sync_history row (store_upstream.h) with its progress and result.
 */
#ifndef WSUSD_SYNC_SYNC_ENGINE_H
#define WSUSD_SYNC_SYNC_ENGINE_H

#include <stdbool.h>

#include "common/wsd_err.h"
#include "store/store_upstream.h"

struct sync_opts {
	const char *trigger; /* "manual" or "schedule" */
	/* Metadata only: no content phase (a server whose clients get
	 * content elsewhere, and the sync benchmark). */
	bool metadata_only;
	/* Called after each step with the running totals; may be NULL. */
	void (*progress)(void *, const struct store_sync_progress *);
	void *arg;
};

/*
 * Runs one synchronization of DATADIR. Returns 0 when it succeeded; < 0
 * with MSG (MSG_SIZE bytes) saying why not, which is also what
 * `wsusutil sync status` shows. WSD_EAGAIN: another synchronization
 * holds the lock.
 */
int sync_run(const char *datadir, const struct sync_opts *opts, char *msg,
    size_t msg_size);

#endif
