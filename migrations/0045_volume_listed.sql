-- A listed volume's JSON as the API last rendered it, with slots for names, valid for one
-- `revision` of the row: the projection clears it and bumps `revision` with every change of
-- the row, and the first listing after fills it again. Existing rows start empty.
ALTER TABLE volumes ADD COLUMN listed TEXT;
ALTER TABLE volumes ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
