-- A listed router's JSON as the API last rendered it, with slots for names and its zone's
-- minimum version, valid for one `revision` of the row
-- (as volumes.listed, migration 0045): cleared by the projection with every change, filled by
-- the first listing after.
ALTER TABLE system_vms ADD COLUMN listed TEXT;
ALTER TABLE system_vms ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
