-- 0005: a catalog generation, so SyncUpdates can keep the catalog and
-- each group set's deployments in memory and know when they went stale
-- (issue #5 item 7), and change marks for ChangedUpdates (WUSP.md 4.2
-- item 8). Every write to what a scan reads bumps the generation; an
-- approval remembers the generation of its last change, a revision the
-- generation at which something started to require it (IsLeaf false).
CREATE TABLE catalog_generation (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	generation INTEGER NOT NULL
) STRICT;
INSERT INTO catalog_generation (id, generation) VALUES (1, 1);

ALTER TABLE approval ADD COLUMN changed_gen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE revision ADD COLUMN leaf_gen INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER approval_gen_ins AFTER INSERT ON approval BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
	UPDATE approval SET changed_gen = (SELECT generation FROM
	    catalog_generation) WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER approval_gen_upd AFTER UPDATE OF action, deadline ON approval
BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
	UPDATE approval SET changed_gen = (SELECT generation FROM
	    catalog_generation) WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER approval_gen_del AFTER DELETE ON approval BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
END;

CREATE TRIGGER update_gen_ins AFTER INSERT ON update_ BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
END;
CREATE TRIGGER update_gen_upd AFTER UPDATE ON update_ BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
END;
CREATE TRIGGER update_gen_del AFTER DELETE ON update_ BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
END;

CREATE TRIGGER revision_gen_ins AFTER INSERT ON revision BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
END;
CREATE TRIGGER revision_gen_upd AFTER UPDATE OF is_latest, expired,
    xml_core, update_pk ON revision BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
END;
CREATE TRIGGER revision_gen_del AFTER DELETE ON revision BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
END;

-- The first prerequisite naming an update makes it non-leaf, removing
-- the last makes it a leaf again: mark its latest revision so clients
-- that cache it hear of the change.
CREATE INDEX prerequisite_update ON prerequisite (update_id);
CREATE TRIGGER prerequisite_gen_ins AFTER INSERT ON prerequisite BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
	UPDATE revision SET leaf_gen = (SELECT generation FROM
	    catalog_generation) WHERE is_latest = 1 AND update_pk = (SELECT
	    update_pk FROM update_ WHERE update_id = NEW.update_id)
	    AND NOT EXISTS (SELECT 1 FROM prerequisite p WHERE
	    p.update_id = NEW.update_id AND p.rowid <> NEW.rowid);
END;
CREATE TRIGGER prerequisite_gen_del AFTER DELETE ON prerequisite BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
	UPDATE revision SET leaf_gen = (SELECT generation FROM
	    catalog_generation) WHERE is_latest = 1 AND update_pk = (SELECT
	    update_pk FROM update_ WHERE update_id = OLD.update_id)
	    AND NOT EXISTS (SELECT 1 FROM prerequisite p WHERE
	    p.update_id = OLD.update_id);
END;

CREATE TRIGGER bundle_gen_ins AFTER INSERT ON bundle_member BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
END;
CREATE TRIGGER bundle_gen_del AFTER DELETE ON bundle_member BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
END;

CREATE TRIGGER revision_category_gen_ins AFTER INSERT ON revision_category
BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
END;
CREATE TRIGGER revision_category_gen_del AFTER DELETE ON revision_category
BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
END;

CREATE TRIGGER target_group_gen_ins AFTER INSERT ON target_group BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
END;
CREATE TRIGGER target_group_gen_upd AFTER UPDATE OF parent_pk ON
    target_group BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
END;
CREATE TRIGGER target_group_gen_del AFTER DELETE ON target_group BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
END;
