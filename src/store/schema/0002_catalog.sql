-- 0002: the WSUS update model (updates, revisions and what each revision
-- carries), computer target groups, computers, approvals and events.
-- GUIDs are stored lower case (WSUS compares them case-insensitively);
-- XML fragments are BLOBs so they stay byte-exact; digests are raw bytes.

-- One row per UpdateID. "update" is an SQL keyword, hence update_.
CREATE TABLE update_ (
	update_pk INTEGER PRIMARY KEY,
	update_id TEXT NOT NULL UNIQUE CHECK (length(update_id) = 36 AND update_id = lower(update_id)),
	update_type TEXT NOT NULL CHECK (update_type IN ('Software', 'Driver', 'Category', 'Detectoid')),
	category_type TEXT CHECK (category_type IN ('Company', 'ProductFamily', 'Product', 'UpdateClassification')),
	declined INTEGER NOT NULL DEFAULT 0 CHECK (declined IN (0, 1)),
	origin TEXT NOT NULL CHECK (origin IN ('seed', 'local', 'import', 'upstream')),
	created TEXT NOT NULL
) STRICT;

-- Every revision ever received (revision history); revision_id is the
-- server-local RevisionID that MS-WUSP hands to clients.
CREATE TABLE revision (
	revision_id INTEGER PRIMARY KEY,
	update_pk INTEGER NOT NULL REFERENCES update_ (update_pk) ON DELETE CASCADE,
	revision_number INTEGER NOT NULL CHECK (revision_number >= 0),
	is_latest INTEGER NOT NULL DEFAULT 1 CHECK (is_latest IN (0, 1)),
	expired INTEGER NOT NULL DEFAULT 0 CHECK (expired IN (0, 1)),
	explicitly_deployable INTEGER NOT NULL DEFAULT 0 CHECK (explicitly_deployable IN (0, 1)),
	is_leaf INTEGER NOT NULL DEFAULT 1 CHECK (is_leaf IN (0, 1)),
	is_bundle INTEGER NOT NULL DEFAULT 0 CHECK (is_bundle IN (0, 1)),
	kb_article TEXT,
	msrc_severity TEXT,
	eula_id TEXT,
	title TEXT NOT NULL DEFAULT '',
	xml_core BLOB NOT NULL,
	xml_extended BLOB,
	created TEXT NOT NULL,
	UNIQUE (update_pk, revision_number)
) STRICT;
CREATE INDEX revision_latest ON revision (update_pk) WHERE is_latest = 1;

-- One LocalizedProperties fragment per language.
CREATE TABLE revision_localized (
	revision_id INTEGER NOT NULL REFERENCES revision (revision_id) ON DELETE CASCADE,
	language TEXT NOT NULL,
	title TEXT NOT NULL DEFAULT '',
	xml BLOB NOT NULL,
	PRIMARY KEY (revision_id, language)
) STRICT;

-- Files by SHA-1 (the WsusContent name); state says whether content/ has
-- a verified copy.
CREATE TABLE file (
	sha1 BLOB PRIMARY KEY CHECK (length(sha1) = 20),
	sha256 BLOB CHECK (sha256 IS NULL OR length(sha256) = 32),
	size INTEGER NOT NULL CHECK (size >= 0),
	file_name TEXT NOT NULL,
	modified TEXT NOT NULL DEFAULT '',
	patching_type TEXT,
	state TEXT NOT NULL DEFAULT 'missing' CHECK (state IN ('missing', 'present', 'quarantined'))
) STRICT;

CREATE TABLE revision_file (
	revision_id INTEGER NOT NULL REFERENCES revision (revision_id) ON DELETE CASCADE,
	sha1 BLOB NOT NULL REFERENCES file (sha1),
	PRIMARY KEY (revision_id, sha1)
) STRICT;
CREATE INDEX revision_file_sha1 ON revision_file (sha1);

-- Categories a revision belongs to (Product, UpdateClassification; for a
-- category, its parent).
CREATE TABLE revision_category (
	revision_id INTEGER NOT NULL REFERENCES revision (revision_id) ON DELETE CASCADE,
	category_id TEXT NOT NULL,
	PRIMARY KEY (revision_id, category_id)
) STRICT;
CREATE INDEX revision_category_cat ON revision_category (category_id);

-- Prerequisites in conjunctive normal form: the rows of one clause are
-- ORed, the clauses ANDed (MS-WUSP 3.1.1.1).
CREATE TABLE prerequisite (
	revision_id INTEGER NOT NULL REFERENCES revision (revision_id) ON DELETE CASCADE,
	clause INTEGER NOT NULL CHECK (clause >= 0),
	update_id TEXT NOT NULL,
	is_category INTEGER NOT NULL DEFAULT 0 CHECK (is_category IN (0, 1)),
	PRIMARY KEY (revision_id, clause, update_id)
) STRICT;

-- Members of a bundle, in the same clause form, with their revision.
CREATE TABLE bundle_member (
	revision_id INTEGER NOT NULL REFERENCES revision (revision_id) ON DELETE CASCADE,
	clause INTEGER NOT NULL CHECK (clause >= 0),
	update_id TEXT NOT NULL,
	revision_number INTEGER NOT NULL,
	PRIMARY KEY (revision_id, clause, update_id)
) STRICT;

CREATE TABLE supersedes (
	revision_id INTEGER NOT NULL REFERENCES revision (revision_id) ON DELETE CASCADE,
	superseded_id TEXT NOT NULL,
	PRIMARY KEY (revision_id, superseded_id)
) STRICT;
CREATE INDEX supersedes_superseded ON supersedes (superseded_id);

CREATE TABLE eula (
	eula_id TEXT NOT NULL,
	language TEXT NOT NULL,
	body BLOB NOT NULL,
	PRIMARY KEY (eula_id, language)
) STRICT;

-- Computer target groups: a tree under "All Computers".
CREATE TABLE target_group (
	group_pk INTEGER PRIMARY KEY,
	group_id TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL UNIQUE COLLATE NOCASE,
	parent_pk INTEGER REFERENCES target_group (group_pk),
	builtin INTEGER NOT NULL DEFAULT 0 CHECK (builtin IN (0, 1)),
	created TEXT NOT NULL
) STRICT;

CREATE TABLE computer (
	computer_pk INTEGER PRIMARY KEY,
	computer_id TEXT NOT NULL UNIQUE,
	dns_name TEXT NOT NULL DEFAULT '',
	os_description TEXT NOT NULL DEFAULT '',
	created TEXT NOT NULL,
	last_sync TEXT,
	last_report TEXT
) STRICT;

CREATE TABLE computer_group_member (
	computer_pk INTEGER NOT NULL REFERENCES computer (computer_pk) ON DELETE CASCADE,
	group_pk INTEGER NOT NULL REFERENCES target_group (group_pk) ON DELETE CASCADE,
	PRIMARY KEY (computer_pk, group_pk)
) STRICT;

-- Approvals per update and group; children inherit their parent's unless
-- they have their own (NotApproved stops inheritance).
CREATE TABLE approval (
	update_pk INTEGER NOT NULL REFERENCES update_ (update_pk) ON DELETE CASCADE,
	group_pk INTEGER NOT NULL REFERENCES target_group (group_pk) ON DELETE CASCADE,
	action TEXT NOT NULL CHECK (action IN ('Install', 'Uninstall', 'NotApproved')),
	deadline TEXT,
	admin TEXT NOT NULL DEFAULT '',
	created TEXT NOT NULL,
	PRIMARY KEY (update_pk, group_pk)
) STRICT;

CREATE TABLE event (
	event_pk INTEGER PRIMARY KEY,
	time TEXT NOT NULL,
	kind TEXT NOT NULL,
	subject TEXT NOT NULL DEFAULT '',
	message TEXT NOT NULL
) STRICT;

-- Built-in groups with WSUS's well-known GUIDs.
INSERT INTO target_group (group_id, name, parent_pk, builtin, created) VALUES
	('a0a08746-4dbe-4a37-9adf-9e7652c0b421', 'All Computers', NULL, 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
INSERT INTO target_group (group_id, name, parent_pk, builtin, created) VALUES
	('b73ca6ed-5727-47f3-84de-015e03f6a88a', 'Unassigned Computers', 1, 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));

-- Standard categories: the Microsoft company and the update
-- classifications, with fragments shaped as WSUS sends them (WUSP.md 6.4).
-- Revision 1: a synchronised Microsoft revision (higher number) replaces
-- it as the latest.
CREATE TEMP TABLE seed (id TEXT, type TEXT, title TEXT, description TEXT, ord INTEGER);
INSERT INTO seed VALUES
	('56309036-4c77-4dd9-951a-99ee9c246a94', 'Company', 'Microsoft', 'Microsoft', 1),
	('e6cf1350-c01b-414d-a61f-263d14d133b4', 'UpdateClassification', 'Critical Updates', 'A broadly released fix for a specific problem addressing a critical, non-security related bug.', 1),
	('0fa1201d-4330-4fa8-8ae9-b877473b6441', 'UpdateClassification', 'Security Updates', 'A broadly released fix for a product-specific security-related vulnerability.', 2),
	('e0789628-ce08-4437-be74-2495b842f43b', 'UpdateClassification', 'Definition Updates', 'A broadly-released and frequent software update containing additions to a product''s definition database.', 3),
	('cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83', 'UpdateClassification', 'Updates', 'A broadly released fix for a specific problem addressing a noncritical, non-security-related bug.', 4),
	('28bc880e-0592-4cbf-8f95-c79b17911d5f', 'UpdateClassification', 'Update Rollups', 'A tested, cumulative set of hotfixes, security updates, critical updates, and updates packaged together for easy deployment.', 5),
	('68c5b0a3-d1a6-4553-ae49-01d3a7827828', 'UpdateClassification', 'Service Packs', 'A tested, cumulative set of all hotfixes, security updates, critical updates, and updates.', 6),
	('b4832bd8-e735-4761-8daf-37f882276dab', 'UpdateClassification', 'Tools', 'A utility or feature that helps to complete a task or set of tasks.', 7),
	('b54e7d24-7add-428f-8b75-90a396fa584f', 'UpdateClassification', 'Feature Packs', 'New product functionality that is first distributed outside the context of a product release.', 8),
	('ebfc1fc5-71a4-4f7b-9aca-3b9a503104a0', 'UpdateClassification', 'Drivers', 'A software component necessary to control or support another device.', 9),
	('3689bdc8-b205-4af4-8d4a-a63924c5e9d5', 'UpdateClassification', 'Upgrades', 'A new product release bringing a device to the next version.', 10);

INSERT INTO update_ (update_id, update_type, category_type, origin, created)
	SELECT id, 'Category', type, 'seed', strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM seed;

INSERT INTO revision (update_pk, revision_number, title, xml_core, xml_extended, created)
	SELECT u.update_pk, 1, s.title,
		CAST('<UpdateIdentity UpdateID="' || s.id || '" RevisionNumber="1" /><Properties UpdateType="Category" /><ApplicabilityRules><IsInstalled><True /></IsInstalled></ApplicabilityRules>' AS BLOB),
		CAST('<ExtendedProperties DefaultPropertiesLanguage="en" Handler="http://schemas.microsoft.com/msus/2002/12/UpdateHandlers/Category" /><HandlerSpecificData type="cat:Category"><CategoryInformation CategoryType="' || s.type || '" ProhibitsSubcategories="' || CASE s.type WHEN 'Company' THEN 'false' ELSE 'true' END || '" ProhibitsUpdates="' || CASE s.type WHEN 'Company' THEN 'true' ELSE 'false' END || '" DisplayOrder="' || s.ord || '" /></HandlerSpecificData>' AS BLOB),
		strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
	FROM seed s JOIN update_ u ON u.update_id = s.id;

INSERT INTO revision_localized (revision_id, language, title, xml)
	SELECT r.revision_id, 'en', s.title,
		CAST('<LocalizedProperties><Language>en</Language><Title>' || s.title || '</Title><Description>' || s.description || '</Description></LocalizedProperties>' AS BLOB)
	FROM seed s JOIN update_ u ON u.update_id = s.id JOIN revision r ON r.update_pk = u.update_pk;

DROP TABLE seed;
