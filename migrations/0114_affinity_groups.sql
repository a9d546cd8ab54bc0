-- Affinity groups (listAffinityGroups): the groups and the VMs in each.
CREATE TABLE affinity_groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    type TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX affinity_groups_owner ON affinity_groups (removed, account_id, name);

CREATE TABLE affinity_group_members (
    group_id TEXT NOT NULL,
    vm_id TEXT NOT NULL,
    PRIMARY KEY (group_id, vm_id)
);
CREATE INDEX affinity_group_members_vm ON affinity_group_members (vm_id);
