-- Infrastructure read models: zones, pods, clusters, hosts (with their inventory), and alerts.
CREATE TABLE zones (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    network_type TEXT NOT NULL,
    dns1 TEXT NOT NULL DEFAULT '',
    dns2 TEXT NOT NULL DEFAULT '',
    internal_dns1 TEXT NOT NULL DEFAULT '',
    internal_dns2 TEXT NOT NULL DEFAULT '',
    guest_cidr TEXT NOT NULL DEFAULT '',
    domain_id TEXT,
    allocation_state TEXT NOT NULL,
    local_storage INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE pods (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    gateway TEXT NOT NULL,
    netmask TEXT NOT NULL,
    start_ip TEXT NOT NULL,
    end_ip TEXT NOT NULL,
    allocation_state TEXT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX pods_zone ON pods (zone_id);

CREATE TABLE clusters (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    pod_id TEXT NOT NULL,
    hypervisor TEXT NOT NULL,
    cluster_type TEXT NOT NULL,
    allocation_state TEXT NOT NULL,
    managed_state TEXT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX clusters_pod ON clusters (pod_id);

CREATE TABLE hosts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    pod_id TEXT NOT NULL,
    cluster_id TEXT NOT NULL,
    hypervisor TEXT NOT NULL,
    url TEXT NOT NULL,
    state TEXT NOT NULL,
    resource_state TEXT NOT NULL,
    host_tags TEXT NOT NULL DEFAULT '',
    hypervisor_version TEXT NOT NULL DEFAULT '',
    cpu_sockets INTEGER NOT NULL DEFAULT 0,
    cpu_number INTEGER NOT NULL DEFAULT 0,
    cpu_speed INTEGER NOT NULL DEFAULT 0,
    memory_total BIGINT NOT NULL DEFAULT 0,
    local_storage_total BIGINT NOT NULL DEFAULT 0,
    capabilities TEXT NOT NULL DEFAULT '',
    state_reason TEXT NOT NULL DEFAULT '',
    last_state_change TEXT,
    disconnected TEXT,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX hosts_listing ON hosts (removed, hypervisor, created, id);
CREATE INDEX hosts_cluster ON hosts (cluster_id);

CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    type INTEGER NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    zone_id TEXT,
    pod_id TEXT,
    resource_id TEXT,
    sent TEXT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alerts_sent ON alerts (sent);
