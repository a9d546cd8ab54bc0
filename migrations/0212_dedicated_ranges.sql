-- Guest VLAN ranges dedicated to accounts (listDedicatedGuestVlanRanges), and the account or
-- domain a public IP range is dedicated to (dedicatePublicIpRange).
CREATE TABLE dedicated_guest_vlan_ranges (
    id TEXT PRIMARY KEY,
    physical_network_id TEXT NOT NULL,
    account_id TEXT,
    domain_id TEXT NOT NULL,
    first_vnet BIGINT NOT NULL,
    last_vnet BIGINT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX dedicated_guest_vlan_ranges_network ON dedicated_guest_vlan_ranges (physical_network_id, removed);

ALTER TABLE vlan_ip_ranges ADD COLUMN account_id TEXT;
ALTER TABLE vlan_ip_ranges ADD COLUMN domain_id TEXT;
