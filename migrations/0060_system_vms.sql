-- System VMs (virtual routers, secondary storage VMs, console proxies) behind listRouters and
-- listSystemVms, told apart by `role`; `router_networks` says which networks a router serves.
-- `version_key` sorts as versions compare (domain.router.version_key), so "below the minimum"
-- is one indexed comparison; '' is a router whose version is unknown.
CREATE TABLE system_vms (
    id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    instance_name TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    pod_id TEXT,
    cluster_id TEXT,
    host_id TEXT,
    last_host_id TEXT,
    vpc_id TEXT,
    state TEXT NOT NULL,
    template_id TEXT NOT NULL,
    service_offering_id TEXT NOT NULL,
    hypervisor TEXT NOT NULL,
    cpu_number INTEGER NOT NULL,
    cpu_speed INTEGER NOT NULL,
    memory INTEGER NOT NULL,
    version TEXT,
    version_key TEXT NOT NULL DEFAULT '',
    services TEXT NOT NULL DEFAULT '',
    failed_services TEXT NOT NULL DEFAULT '',
    upgrading INTEGER NOT NULL DEFAULT 0,
    pending_job_id TEXT,
    state_reason TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0,
    seq BIGINT NOT NULL
);
CREATE INDEX system_vms_page ON system_vms (role, removed, seq);
CREATE INDEX system_vms_zone ON system_vms (zone_id, role);
CREATE INDEX system_vms_pod ON system_vms (pod_id);
CREATE INDEX system_vms_cluster ON system_vms (cluster_id);
CREATE INDEX system_vms_host ON system_vms (host_id);
CREATE INDEX system_vms_account ON system_vms (account_id);
CREATE INDEX system_vms_version ON system_vms (role, version_key);

CREATE TABLE router_networks (
    router_id TEXT NOT NULL,
    network_id TEXT NOT NULL,
    PRIMARY KEY (router_id, network_id)
);
CREATE INDEX router_networks_network ON router_networks (network_id);
