-- Each zone's vCenter datacenter (listVmwareDcs); the vCenter login is not kept here.
CREATE TABLE vmware_datacenters (
    id TEXT PRIMARY KEY,
    zone_id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    vcenter TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL
);
CREATE INDEX vmware_datacenters_zone ON vmware_datacenters (zone_id);
