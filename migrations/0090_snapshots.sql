-- Volume snapshots (listSnapshots) and VM snapshots (listVMSnapshot). A volume snapshot keeps
-- the volume's name and type: it outlives the volume. `current` marks the VM snapshot that the
-- VM's next snapshot descends from (created or reverted to last).
CREATE TABLE snapshots (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    volume_id TEXT NOT NULL,
    volume_name TEXT NOT NULL,
    volume_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    state TEXT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX snapshots_owner ON snapshots (removed, account_id, created, id);
CREATE INDEX snapshots_page_order ON snapshots (removed, created, id);
CREATE INDEX snapshots_volume ON snapshots (volume_id);

CREATE TABLE vm_snapshots (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    description TEXT NOT NULL,
    vm_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    memory INTEGER NOT NULL,
    parent_id TEXT,
    state TEXT NOT NULL,
    current INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX vm_snapshots_owner ON vm_snapshots (removed, account_id, created, id);
CREATE INDEX vm_snapshots_page_order ON vm_snapshots (removed, created, id);
CREATE INDEX vm_snapshots_vm ON vm_snapshots (vm_id, removed);
