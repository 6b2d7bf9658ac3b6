-- 0003: events clients report (ReportEventBatch), stored as sent: the
-- status of each (computer, update) is derived from them. Strings are
-- text, never parsed into behaviour (SECURITY.md S2).
CREATE TABLE client_event (
	event_instance_id TEXT PRIMARY KEY NOT NULL,
	computer_id TEXT NOT NULL,
	time_at_target TEXT NOT NULL,
	event_id INTEGER NOT NULL,
	source_id INTEGER NOT NULL,
	update_id TEXT NOT NULL,
	revision_number INTEGER NOT NULL,
	hresult INTEGER NOT NULL,
	app_name TEXT NOT NULL DEFAULT '',
	replacement_strings TEXT NOT NULL DEFAULT '',
	misc_data TEXT NOT NULL DEFAULT '',
	received TEXT NOT NULL
) STRICT;
CREATE INDEX client_event_computer ON client_event (computer_id, update_id);
