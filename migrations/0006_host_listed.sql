-- A listed host's JSON as the API last rendered it, with slots for its zone's, pod's and
-- cluster's names and the room VMs hold on it, valid for one `revision` of the row (as
-- volumes.listed, migration 0045): cleared by the projection with every change,
-- filled by the first listing after. Existing rows start empty.
ALTER TABLE hosts ADD COLUMN listed TEXT;
ALTER TABLE hosts ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
