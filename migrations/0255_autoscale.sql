-- Autoscale (listCounters, listConditions, listAutoScalePolicies, listAutoScaleVmProfiles,
-- listAutoScaleVmGroups) and the disk readings the scaler weighs.
CREATE TABLE autoscale_counters (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    value TEXT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE autoscale_conditions (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    counter_id TEXT NOT NULL,
    operator TEXT NOT NULL,
    threshold BIGINT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX autoscale_conditions_owner ON autoscale_conditions (removed, account_id);
CREATE TABLE autoscale_policies (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    action TEXT NOT NULL,
    duration BIGINT NOT NULL,
    quiet_time BIGINT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX autoscale_policies_owner ON autoscale_policies (removed, account_id);
CREATE TABLE autoscale_policy_conditions (
    policy_id TEXT NOT NULL,
    condition_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (policy_id, condition_id)
);
CREATE INDEX autoscale_policy_conditions_condition ON autoscale_policy_conditions (condition_id);
CREATE TABLE autoscale_vm_profiles (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    service_offering_id TEXT NOT NULL,
    template_id TEXT NOT NULL,
    other_deploy_params TEXT NOT NULL,
    destroy_grace BIGINT NOT NULL,
    autoscale_user_id TEXT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX autoscale_vm_profiles_owner ON autoscale_vm_profiles (removed, account_id);
CREATE TABLE autoscale_vm_groups (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    lb_rule_id TEXT NOT NULL,
    network_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    min_members INTEGER NOT NULL,
    max_members INTEGER NOT NULL,
    interval_seconds INTEGER NOT NULL,
    state TEXT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX autoscale_vm_groups_owner ON autoscale_vm_groups (removed, account_id);
CREATE TABLE autoscale_group_policies (
    group_id TEXT NOT NULL,
    policy_id TEXT NOT NULL,
    action TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (group_id, policy_id)
);
CREATE INDEX autoscale_group_policies_policy ON autoscale_group_policies (policy_id);
CREATE TABLE autoscale_group_members (
    group_id TEXT NOT NULL,
    vm_id TEXT NOT NULL,
    destroy_at_ms BIGINT,
    PRIMARY KEY (group_id, vm_id)
);
-- A volume's disk readings (cumulative counters within an epoch), kept a day back and the
-- last one before that, for the rates the scaler weighs.
CREATE TABLE autoscale_disk_readings (
    vm_id TEXT NOT NULL,
    volume_id TEXT NOT NULL,
    read_at_ms BIGINT NOT NULL,
    epoch TEXT NOT NULL,
    io_read BIGINT NOT NULL,
    io_write BIGINT NOT NULL,
    bytes_read BIGINT NOT NULL,
    bytes_write BIGINT NOT NULL,
    PRIMARY KEY (vm_id, volume_id, read_at_ms)
);
