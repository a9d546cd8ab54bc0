-- The virtual machines read model behind listVirtualMachines, and the room each VM holds on its
-- host (summed by listHosts). The owner's account name and domain path come from `accounts`.
CREATE TABLE virtual_machines (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    instance_name TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    host_id TEXT,
    last_host_id TEXT,
    state TEXT NOT NULL,
    template_id TEXT NOT NULL,
    service_offering_id TEXT NOT NULL,
    hypervisor TEXT NOT NULL,
    guest_os_id TEXT NOT NULL DEFAULT '',
    cpu_number INTEGER NOT NULL,
    cpu_speed INTEGER NOT NULL,
    memory INTEGER NOT NULL,
    custom INTEGER NOT NULL DEFAULT 0,
    root_disk_size INTEGER NOT NULL DEFAULT 0,
    ha_enable INTEGER NOT NULL DEFAULT 0,
    vm_group TEXT NOT NULL DEFAULT '',
    pending_job_id TEXT,
    state_reason TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX virtual_machines_owner ON virtual_machines (removed, account_id, created, id);
CREATE INDEX virtual_machines_page_order ON virtual_machines (removed, created, id);
CREATE INDEX virtual_machines_host ON virtual_machines (host_id);

CREATE TABLE host_capacities (
    id TEXT PRIMARY KEY,
    host_id TEXT NOT NULL
);

CREATE TABLE host_reservations (
    host_id TEXT NOT NULL,
    reservation_id TEXT NOT NULL,
    cpu_mhz BIGINT NOT NULL,
    memory_mb BIGINT NOT NULL,
    PRIMARY KEY (host_id, reservation_id)
);
