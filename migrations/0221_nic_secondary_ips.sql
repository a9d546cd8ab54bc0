-- Secondary addresses of VMs' NICs (addIpToNic, removeIpFromNic; listNics' `secondaryip`).
CREATE TABLE nic_secondary_ips (
    id TEXT PRIMARY KEY,
    vm_id TEXT NOT NULL,
    network_id TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX nic_secondary_ips_vm ON nic_secondary_ips (vm_id, network_id);

-- A NIC's id (uuid5 of its VM and network), so a command naming a NIC finds it. Rows from
-- before it have none until `stratus projections rebuild networks`; lookups compute those.
ALTER TABLE vm_nics ADD COLUMN nic_id TEXT;
CREATE INDEX vm_nics_nic_id ON vm_nics (nic_id);
