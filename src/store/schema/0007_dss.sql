-- 0007: wsusd as upstream server (MS-WSUSSS, issue #7): the downstream
-- servers that asked for an authorization cookie, and the change marks
-- the anchors of GetRevisionIdList and GetDeployments compare against.
--
-- An anchor carries the catalog generation (0005) it was made at. A
-- revision's sss_gen is the generation at which it became something a
-- DSS should fetch (inserted, made the latest again, or its update
-- un-declined); an approval's changed_gen (0005) the generation of its
-- last change; a dead deployment's dead_gen the generation at which its
-- approval was removed or changed action. Every trigger here bumps the
-- generation itself before reading it, so the mark is greater than the
-- generation any reader saw before this transaction committed, whatever
-- order SQLite fires the triggers of one event in.

CREATE TABLE downstream_server (
	server_id TEXT PRIMARY KEY CHECK (length(server_id) = 36 AND server_id = lower(server_id)),
	fqdn TEXT NOT NULL,
	first_seen TEXT NOT NULL,
	last_seen TEXT NOT NULL
) STRICT;

ALTER TABLE revision ADD COLUMN sss_gen INTEGER NOT NULL DEFAULT 0;
CREATE INDEX revision_sss_gen ON revision (sss_gen) WHERE is_latest = 1;

CREATE TRIGGER revision_sss_ins AFTER INSERT ON revision BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
	UPDATE revision SET sss_gen = (SELECT generation FROM
	    catalog_generation) WHERE revision_id = NEW.revision_id;
END;
CREATE TRIGGER revision_sss_latest AFTER UPDATE OF is_latest ON revision
    WHEN NEW.is_latest = 1 AND OLD.is_latest = 0 BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
	UPDATE revision SET sss_gen = (SELECT generation FROM
	    catalog_generation) WHERE revision_id = NEW.revision_id;
END;
CREATE TRIGGER update_sss_undecline AFTER UPDATE OF declined ON update_
    WHEN NEW.declined = 0 AND OLD.declined = 1 BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
	UPDATE revision SET sss_gen = (SELECT generation FROM
	    catalog_generation) WHERE update_pk = NEW.update_pk AND
	    is_latest = 1;
END;

-- A deployment (ServerSyncDeployment) is one approval row for as long as
-- its action stays the same: a new action is a new deployment, and the
-- old one is dead, as is the deployment of a removed approval. NotApproved
-- on the root group is sent as no deployment (sss_getdeployments.c), so
-- it leaves no dead one either.
ALTER TABLE approval ADD COLUMN deployment_guid TEXT;
UPDATE approval SET deployment_guid = (SELECT lower(substr(h, 1, 8) || '-' ||
    substr(h, 9, 4) || '-' || substr(h, 13, 4) || '-' || substr(h, 17, 4) ||
    '-' || substr(h, 21, 12)) FROM (SELECT hex(randomblob(16)) AS h));

CREATE TABLE dead_deployment (
	deployment_guid TEXT PRIMARY KEY,
	dead_gen INTEGER NOT NULL
) STRICT;
CREATE INDEX dead_deployment_gen ON dead_deployment (dead_gen);

CREATE TRIGGER approval_sss_ins AFTER INSERT ON approval BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
	UPDATE approval SET deployment_guid = (SELECT lower(substr(h, 1, 8) ||
	    '-' || substr(h, 9, 4) || '-' || substr(h, 13, 4) || '-' ||
	    substr(h, 17, 4) || '-' || substr(h, 21, 12)) FROM (SELECT
	    hex(randomblob(16)) AS h)), changed_gen = (SELECT generation FROM
	    catalog_generation) WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER approval_sss_upd AFTER UPDATE OF action ON approval
    WHEN NEW.action IS NOT OLD.action BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
	INSERT OR REPLACE INTO dead_deployment (deployment_guid, dead_gen)
	    SELECT OLD.deployment_guid, generation FROM catalog_generation
	    WHERE OLD.deployment_guid IS NOT NULL AND NOT (OLD.action =
	    'NotApproved' AND (SELECT parent_pk FROM target_group WHERE
	    group_pk = OLD.group_pk) IS NULL);
	UPDATE approval SET deployment_guid = (SELECT lower(substr(h, 1, 8) ||
	    '-' || substr(h, 9, 4) || '-' || substr(h, 13, 4) || '-' ||
	    substr(h, 17, 4) || '-' || substr(h, 21, 12)) FROM (SELECT
	    hex(randomblob(16)) AS h)), changed_gen = (SELECT generation FROM
	    catalog_generation) WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER approval_sss_del AFTER DELETE ON approval BEGIN
	UPDATE catalog_generation SET generation = generation + 1;
	INSERT OR REPLACE INTO dead_deployment (deployment_guid, dead_gen)
	    SELECT OLD.deployment_guid, generation FROM catalog_generation
	    WHERE OLD.deployment_guid IS NOT NULL AND NOT (OLD.action =
	    'NotApproved' AND (SELECT parent_pk FROM target_group WHERE
	    group_pk = OLD.group_pk) IS NULL);
END;
