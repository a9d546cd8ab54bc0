-- Snapshot policies (listSnapshotPolicies, and what the snapshot scheduler reads): one row per
-- volume and interval type. `last_due` is the due time of the last snapshot the policy took and
-- `held` how many of its snapshots it counts towards `max_snaps`. A snapshot a policy took names
-- it, and is of its interval type.
CREATE TABLE snapshot_policies (
    id TEXT PRIMARY KEY,
    volume_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    interval_type TEXT NOT NULL,
    schedule TEXT NOT NULL,
    timezone TEXT NOT NULL,
    max_snaps INTEGER NOT NULL,
    defined_at TEXT NOT NULL,
    last_due TEXT,
    held INTEGER NOT NULL DEFAULT 0,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX snapshot_policies_volume ON snapshot_policies (volume_id, removed);
CREATE INDEX snapshot_policies_live ON snapshot_policies (removed);

ALTER TABLE snapshots ADD COLUMN policy_id TEXT;
ALTER TABLE snapshots ADD COLUMN interval_type TEXT NOT NULL DEFAULT 'MANUAL';
