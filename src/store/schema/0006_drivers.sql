-- 0006: the driver table (MS-WUSP 3.1.1.1): one row per
-- d.WindowsDriverMetaData entry of a driver revision's core fragment,
-- derived from the fragment when the revision is stored, so the
-- SyncUpdates driver pass matches devices on indexed rows instead of
-- parsing XML (issue #5 item 5). Lists are stored as text: chids as
-- comma-separated lower-case GUIDs (the effective set: Target and
-- Distribution intersected when both are given), feature scores as
-- comma-separated "os=HH" (os lower case, HH hex).
CREATE TABLE driver_metadata (
	revision_id INTEGER NOT NULL REFERENCES revision (revision_id)
	    ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	hardware_id TEXT NOT NULL,
	driver_date INTEGER NOT NULL,
	driver_version INTEGER NOT NULL,
	driver_class TEXT NOT NULL,
	provider TEXT NOT NULL,
	manufacturer TEXT NOT NULL,
	chids TEXT NOT NULL,
	chid_targeted INTEGER NOT NULL,
	feature_scores TEXT NOT NULL,
	PRIMARY KEY (revision_id, seq)
) STRICT;

-- Written together with its revision (whose insert bumps the catalog
-- generation); deleted with it.
