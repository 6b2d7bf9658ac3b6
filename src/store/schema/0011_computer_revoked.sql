-- 0011: computers that were deleted (wsusutil computers delete, cleanup
-- --computers-inactive). A cookie issued to one of them up to the second
-- of its deletion is refused with InvalidCookie (SECURITY.md S9), so
-- whoever holds it must authenticate and register again; what the
-- computer reported goes with it, as WSUS's Delete does. Rows older than
-- the longest cookie lifetime guard nothing and go at cleanup.
CREATE TABLE computer_revoked (
	computer_id TEXT PRIMARY KEY NOT NULL,  -- GUID, lower case
	deleted INTEGER NOT NULL                -- Unix time, seconds
) WITHOUT ROWID;

CREATE TRIGGER computer_revoke AFTER DELETE ON computer BEGIN
	INSERT INTO computer_revoked (computer_id, deleted)
	VALUES (old.computer_id, CAST(strftime('%s', 'now') AS INTEGER))
	ON CONFLICT (computer_id) DO UPDATE SET deleted = excluded.deleted;
	DELETE FROM client_event WHERE computer_id = old.computer_id;
END;
