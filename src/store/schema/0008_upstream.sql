-- 0008: this server as a downstream server (issue #7 item 2,
-- WSUSSS.md 8): the one upstream it synchronizes from, the anchors it
-- got back, what the pass in progress has fetched, and the history of
-- synchronizations.

-- "Synchronize from another server": one row, absent while this server
-- synchronizes from nowhere. Anchors are echoed verbatim (WSUSSS.md 11);
-- they move only in the transaction that stores what they cover.
CREATE TABLE upstream (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	url TEXT NOT NULL,
	mode TEXT NOT NULL CHECK (mode IN ('autonomous', 'replica')),
	use_tls INTEGER NOT NULL CHECK (use_tls IN (0, 1)),
	client_cert TEXT NOT NULL DEFAULT '',
	client_key TEXT NOT NULL DEFAULT '',
	config_anchor TEXT,
	anchor_config TEXT,
	anchor_updates TEXT,
	deployment_anchor TEXT,
	-- The anchors GetRevisionIdList gave the staged lists (below).
	stage_anchor_config TEXT,
	stage_anchor_updates TEXT,
	changed TEXT NOT NULL
) STRICT;

-- Revisions a synchronization listed and is fetching: the documents
-- are kept here, committed batch by batch, so a synchronization killed
-- half-way resumes where it stopped; they enter the catalog together,
-- in one transaction, when every one has arrived (clients never see
-- half of a synchronization).
CREATE TABLE sync_stage (
	update_id TEXT NOT NULL,
	revision_number INTEGER NOT NULL,
	pass TEXT NOT NULL CHECK (pass IN ('config', 'updates')),
	doc BLOB,
	PRIMARY KEY (update_id, revision_number)
) STRICT;
CREATE INDEX sync_stage_pending ON sync_stage (pass) WHERE doc IS NULL;

CREATE TABLE sync_history (
	sync_id INTEGER PRIMARY KEY,
	started TEXT NOT NULL,
	finished TEXT,
	trigger_ TEXT NOT NULL CHECK (trigger_ IN ('manual', 'schedule')),
	result TEXT NOT NULL CHECK (result IN ('running', 'succeeded',
	    'failed', 'interrupted')),
	message TEXT NOT NULL DEFAULT '',
	phase TEXT NOT NULL DEFAULT '',
	items_total INTEGER NOT NULL DEFAULT 0,
	items_done INTEGER NOT NULL DEFAULT 0,
	new_revisions INTEGER NOT NULL DEFAULT 0,
	metadata_bytes INTEGER NOT NULL DEFAULT 0,
	files_total INTEGER NOT NULL DEFAULT 0,
	files_done INTEGER NOT NULL DEFAULT 0,
	files_quarantined INTEGER NOT NULL DEFAULT 0,
	content_bytes INTEGER NOT NULL DEFAULT 0
) STRICT;
