-- A listed VM's JSON as the API last rendered it (`listed`, its caller-independent part with
-- slots for names and caller-dependent fields), valid for one `revision` of the row: the
-- projection bumps `revision` and clears `listed` with every change of the row, and the API
-- fills it again, for that revision only, the first time it lists the VM after. Existing rows
-- start empty and are filled the same way.
ALTER TABLE virtual_machines ADD COLUMN listed TEXT;
ALTER TABLE virtual_machines ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
