-- listVolumes pages in creation order on a narrow integer key, as listVirtualMachines does
-- (migration 0041): a deep OFFSET walked (created, id) text index entries. `seq` is given by the
-- projection in log order (max + 1); rows from before this migration are numbered here.
ALTER TABLE volumes ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
UPDATE volumes SET seq = ordered.n
FROM (SELECT id, row_number() OVER (ORDER BY created, id) AS n FROM volumes) AS ordered
WHERE ordered.id = volumes.id;
CREATE INDEX volumes_seq_order ON volumes (removed, seq);
CREATE INDEX volumes_seq ON volumes (seq);
