-- The volumes read model behind listVolumes: ROOT disks made with their VMs and data disks.
-- Sizes are whole GiB; the owner's account name and domain path come from `accounts`.
CREATE TABLE volumes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    vm_id TEXT,
    device_id INTEGER,
    size_gb BIGINT NOT NULL,
    disk_offering_id TEXT,
    template_id TEXT,
    state TEXT NOT NULL,
    created TEXT NOT NULL,
    attached TEXT,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX volumes_owner ON volumes (removed, account_id, created, id);
CREATE INDEX volumes_page_order ON volumes (removed, created, id);
CREATE INDEX volumes_vm ON volumes (vm_id);
