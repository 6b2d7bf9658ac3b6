-- 0012: revisions the upstream listed but would not deliver (expired or
-- removed there between GetRevisionIdList and GetUpdateData, or never
-- there at all): counted per synchronization so an administrator sees
-- them (SECURITY.md S8), not only the log.
ALTER TABLE sync_history ADD COLUMN revisions_vanished INTEGER NOT NULL
    DEFAULT 0;
