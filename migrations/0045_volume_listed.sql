-- A listed volume's JSON as the API last rendered it, with slots for names, valid for one
-- `revision` of the row (as virtual_machines.listed, migration 0044): cleared by the projection
-- with every change, filled by the first listing after. Existing rows start empty.
ALTER TABLE volumes ADD COLUMN listed TEXT;
ALTER TABLE volumes ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
