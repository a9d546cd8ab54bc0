-- Hypervisor capabilities (listHypervisorCapabilities): one row per hypervisor and version,
-- filled from the rows 4.3 seeds when they are recorded (commands.hypervisor_capabilities).
CREATE TABLE hypervisor_capabilities (
    id TEXT PRIMARY KEY,
    hypervisor TEXT NOT NULL,
    version TEXT NOT NULL,
    max_guests INTEGER,
    max_data_volumes INTEGER,
    max_hosts_per_cluster INTEGER,
    security_group_enabled INTEGER NOT NULL DEFAULT 0,
    storage_motion INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX hypervisor_capabilities_kind ON hypervisor_capabilities (hypervisor, version);
