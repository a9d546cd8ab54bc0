-- The volume snapshot a data disk was made from (createVolume snapshotid), answered as its
-- `snapshotid`; NULL for every other volume.
ALTER TABLE volumes ADD COLUMN snapshot_id TEXT;
