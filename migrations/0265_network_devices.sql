-- External network devices (load balancers, firewalls, SDN controllers, Cisco VNMC and ASA
-- 1000v, Nexus VSMs, traffic monitors) and the guest networks placed on them. No password.
CREATE TABLE network_devices (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    provider TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    physical_network_id TEXT,
    cluster_id TEXT,
    host TEXT NOT NULL,
    options TEXT NOT NULL,
    username TEXT NOT NULL,
    state TEXT NOT NULL,
    capacity BIGINT NOT NULL,
    dedicated INTEGER NOT NULL,
    inline INTEGER NOT NULL,
    pod_ids TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX network_devices_kind ON network_devices (removed, kind, physical_network_id);
CREATE TABLE network_device_networks (
    device_id TEXT NOT NULL,
    network_id TEXT NOT NULL,
    PRIMARY KEY (device_id, network_id)
);
