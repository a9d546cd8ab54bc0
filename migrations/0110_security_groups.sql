-- Security groups (listSecurityGroups): the groups, their rules (one row per CIDR or allowed
-- group, as CloudStack keeps them) and the VMs in each group.
CREATE TABLE security_groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX security_groups_owner ON security_groups (removed, account_id, name);

CREATE TABLE security_group_rules (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    protocol TEXT NOT NULL,
    start_port INTEGER NOT NULL,
    end_port INTEGER NOT NULL,
    cidr TEXT,
    allowed_group_id TEXT,
    allowed_group_name TEXT,
    allowed_account TEXT,
    created TEXT NOT NULL
);
CREATE INDEX security_group_rules_group ON security_group_rules (group_id, created, id);
CREATE INDEX security_group_rules_allowed ON security_group_rules (allowed_group_id);

CREATE TABLE security_group_members (
    group_id TEXT NOT NULL,
    vm_id TEXT NOT NULL,
    PRIMARY KEY (group_id, vm_id)
);
CREATE INDEX security_group_members_vm ON security_group_members (vm_id);
