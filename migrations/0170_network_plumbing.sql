-- What physical networks carry: their traffic types with each hypervisor's label, their
-- network service providers (state and services) and the router elements of those providers.
CREATE TABLE physical_network_traffic_types (
    id TEXT PRIMARY KEY,
    physical_network_id TEXT NOT NULL,
    traffic_type TEXT NOT NULL,
    kvm_label TEXT,
    xen_label TEXT,
    vmware_label TEXT,
    hyperv_label TEXT,
    vlan TEXT NOT NULL DEFAULT '',
    isolation TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    ordinal INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX physical_network_traffic_types_network
    ON physical_network_traffic_types (physical_network_id, created, ordinal);

CREATE TABLE network_service_providers (
    id TEXT PRIMARY KEY,
    physical_network_id TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    services TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    ordinal INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX network_service_providers_network
    ON network_service_providers (physical_network_id, created, ordinal);

CREATE TABLE virtual_router_elements (
    id TEXT PRIMARY KEY,
    physical_network_id TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    ordinal INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX virtual_router_elements_provider ON virtual_router_elements (provider_id);

-- Pods' storage network ranges (listStorageNetworkIpRange).
CREATE TABLE storage_ip_ranges (
    id TEXT PRIMARY KEY,
    pod_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    start_ip TEXT NOT NULL,
    end_ip TEXT NOT NULL,
    gateway TEXT NOT NULL,
    netmask TEXT NOT NULL,
    vlan INTEGER,
    created TEXT NOT NULL
);
CREATE INDEX storage_ip_ranges_pod ON storage_ip_ranges (pod_id, created);
