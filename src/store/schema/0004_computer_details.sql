-- 0004: what RegisterComputer reports about a computer's hardware and
-- operating system, for the administrator's computer list.
ALTER TABLE computer ADD COLUMN os_build INTEGER NOT NULL DEFAULT 0;
ALTER TABLE computer ADD COLUMN os_locale TEXT NOT NULL DEFAULT '';
ALTER TABLE computer ADD COLUMN manufacturer TEXT NOT NULL DEFAULT '';
ALTER TABLE computer ADD COLUMN model TEXT NOT NULL DEFAULT '';
ALTER TABLE computer ADD COLUMN bios_version TEXT NOT NULL DEFAULT '';
ALTER TABLE computer ADD COLUMN processor TEXT NOT NULL DEFAULT '';
ALTER TABLE computer ADD COLUMN client_version TEXT NOT NULL DEFAULT '';
