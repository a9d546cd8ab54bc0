-- Instance groups (listInstanceGroups), and the group each VM is in (listVirtualMachines
-- groupid=, and a VM's `group`/`groupid`: `vm_group` keeps the group's name beside its id).
CREATE TABLE instance_groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX instance_groups_owner ON instance_groups (removed, account_id, name);

ALTER TABLE virtual_machines ADD COLUMN group_id TEXT;
CREATE INDEX virtual_machines_group ON virtual_machines (group_id);
