-- 0010: the staging's pending documents are read in UpdateID order, one
-- batch at a time (store_sync_stage_pending); indexing them in that
-- order lets each batch read its rows instead of sorting every pending
-- row again (a 100,000-update synchronization asked 1,000 times).
DROP INDEX sync_stage_pending;
CREATE INDEX sync_stage_pending ON sync_stage (pass, update_id,
    revision_number) WHERE doc IS NULL;
