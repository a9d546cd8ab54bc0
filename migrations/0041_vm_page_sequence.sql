-- listVirtualMachines pages in creation order on a narrow integer key: with 100,000 VMs a deep
-- OFFSET scanned (created, id) text index entries and a count read every row. `seq` is given by
-- the projection in log order (max + 1); rows from before this migration are numbered here.
ALTER TABLE virtual_machines ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
UPDATE virtual_machines SET seq = ordered.n
FROM (SELECT id, row_number() OVER (ORDER BY created, id) AS n FROM virtual_machines) AS ordered
WHERE ordered.id = virtual_machines.id;
CREATE INDEX virtual_machines_seq_order ON virtual_machines (removed, seq);
CREATE INDEX virtual_machines_seq ON virtual_machines (seq);
