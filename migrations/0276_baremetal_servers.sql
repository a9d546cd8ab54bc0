-- Bare-metal DHCP and PXE servers (listBaremetalDhcp, listBaremetalPxeServers); no login here.
CREATE TABLE baremetal_servers (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    server_type TEXT NOT NULL,
    physical_network_id TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    pod_id TEXT,
    address TEXT NOT NULL,
    tftp_dir TEXT NOT NULL DEFAULT '',
    ping_dir TEXT NOT NULL DEFAULT '',
    ping_storage_server_ip TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL
);
CREATE INDEX baremetal_servers_kind ON baremetal_servers (kind, created, id);
