-- 0009_rollup: reporting rollup (MS-WSUSSS 3.1.4.x, WSUSSS.md 9).
--
-- Upstream side: what downstream servers pushed. Everything here came
-- from an unauthenticated peer (the ReportingWebService is anonymous, as
-- on Windows), was validated before it was stored, and is shown to the
-- administrator as text only.
CREATE TABLE rollup_server (
	server_id TEXT PRIMARY KEY NOT NULL,       -- GUID, lower case
	parent_server_id TEXT NOT NULL,            -- all zero: reports to us
	full_domain_name TEXT NOT NULL DEFAULT '',
	version TEXT NOT NULL DEFAULT '',
	is_replica INTEGER NOT NULL CHECK (is_replica IN (0, 1)),
	last_sync_time TEXT NOT NULL DEFAULT '',   -- '' when null
	last_rollup_time TEXT NOT NULL DEFAULT '',
	-- the 18 ServerSummary counters in WSDL order, comma separated
	summary TEXT NOT NULL DEFAULT '',
	client_summaries INTEGER NOT NULL DEFAULT 0,
	received TEXT NOT NULL
) STRICT;

CREATE TABLE rollup_computer (
	computer_id TEXT PRIMARY KEY NOT NULL,     -- GUID, lower case
	parent_server_id TEXT NOT NULL,            -- the server it reports to
	full_domain_name TEXT NOT NULL DEFAULT '',
	ip_address TEXT NOT NULL DEFAULT '',
	os_major INTEGER NOT NULL DEFAULT 0,
	os_minor INTEGER NOT NULL DEFAULT 0,
	os_build INTEGER NOT NULL DEFAULT 0,
	os_locale TEXT NOT NULL DEFAULT '',
	os_description TEXT NOT NULL DEFAULT '',
	manufacturer TEXT NOT NULL DEFAULT '',
	model TEXT NOT NULL DEFAULT '',
	bios_version TEXT NOT NULL DEFAULT '',
	processor TEXT NOT NULL DEFAULT '',
	client_version TEXT NOT NULL DEFAULT '',
	has_details INTEGER NOT NULL DEFAULT 0 CHECK (has_details IN (0, 1)),
	last_sync_time TEXT NOT NULL DEFAULT '',
	last_sync_result INTEGER NOT NULL DEFAULT 0,
	last_reported_status_time TEXT NOT NULL DEFAULT '',
	last_detection_time TEXT NOT NULL DEFAULT '',
	rollup_number INTEGER NOT NULL DEFAULT 0,  -- last status rollup taken
	received TEXT NOT NULL
) STRICT;

-- Per computer, per update: SummarizationState 0..6 as sent.
CREATE TABLE rollup_status (
	computer_id TEXT NOT NULL REFERENCES rollup_computer (computer_id) ON DELETE CASCADE,
	update_id TEXT NOT NULL,
	state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 6),
	last_change TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (computer_id, update_id)
) STRICT, WITHOUT ROWID;

-- Downstream side: what this server last rolled up to its upstream.
CREATE TABLE rollup_upstream (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	uss_server_id TEXT NOT NULL DEFAULT '',
	rollup_reset_guid TEXT NOT NULL DEFAULT '',
	last_rollup TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE rollup_sent (
	computer_id TEXT PRIMARY KEY NOT NULL,
	rollup_number INTEGER NOT NULL DEFAULT 0,
	details_digest TEXT NOT NULL DEFAULT '',   -- of the Details last sent
	status_digest TEXT NOT NULL DEFAULT ''     -- of the statuses last sent
) STRICT;
