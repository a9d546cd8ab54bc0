-- Read models of networking: physical networks, network offerings, guest networks, the claims
-- on guest VLANs/VNIs and guest IPs, VMs' NICs, public ip ranges and their addresses.
-- Owners' names and domain paths come from `accounts` and `domains`.
CREATE TABLE physical_networks (
    id TEXT PRIMARY KEY,
    zone_id TEXT NOT NULL,
    name TEXT NOT NULL,
    isolation TEXT NOT NULL,
    vlan TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    speed TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX physical_networks_zone ON physical_networks (zone_id, removed);

CREATE TABLE network_offerings (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    display_text TEXT NOT NULL,
    guest_type TEXT NOT NULL,
    services TEXT NOT NULL DEFAULT '{}',
    specify_vlan INTEGER NOT NULL DEFAULT 0,
    specify_ip_ranges INTEGER NOT NULL DEFAULT 0,
    conserve_mode INTEGER NOT NULL DEFAULT 1,
    availability TEXT NOT NULL,
    network_rate INTEGER,
    tags TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE networks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    display_text TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    physical_network_id TEXT,
    offering_id TEXT NOT NULL,
    guest_type TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    cidr TEXT NOT NULL,
    gateway TEXT NOT NULL,
    netmask TEXT NOT NULL,
    start_ip TEXT NOT NULL,
    end_ip TEXT NOT NULL,
    broadcast_uri TEXT,
    vnet TEXT,
    state TEXT NOT NULL,
    source_nat_ip TEXT,
    restarted TEXT,
    created TEXT NOT NULL,
    seq BIGINT NOT NULL DEFAULT 0,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX networks_owner ON networks (removed, account_id, seq);
CREATE INDEX networks_page_order ON networks (removed, seq);
CREATE INDEX networks_zone ON networks (zone_id, guest_type, removed);
CREATE INDEX networks_physical ON networks (physical_network_id, removed);

-- Who holds each claimed guest VLAN/VNI (scope: physical network) and guest IP (scope: network):
-- what a new allocation should try first. The claims in the event log decide, not this table.
CREATE TABLE network_claims (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    scope TEXT NOT NULL,
    value TEXT NOT NULL,
    holder_id TEXT
);
CREATE INDEX network_claims_held ON network_claims (kind, scope, holder_id);

CREATE TABLE vm_nics (
    vm_id TEXT NOT NULL,
    network_id TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    mac_address TEXT NOT NULL,
    gateway TEXT NOT NULL,
    netmask TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    broadcast_uri TEXT NOT NULL DEFAULT '',
    network_offering_id TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (vm_id, network_id)
);
CREATE INDEX vm_nics_network ON vm_nics (network_id, removed);

CREATE TABLE vlan_ip_ranges (
    id TEXT PRIMARY KEY,
    zone_id TEXT NOT NULL,
    physical_network_id TEXT,
    vlan TEXT NOT NULL,
    gateway TEXT NOT NULL,
    netmask TEXT NOT NULL,
    start_ip TEXT NOT NULL,
    end_ip TEXT NOT NULL,
    for_virtual_network INTEGER NOT NULL DEFAULT 1,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX vlan_ip_ranges_zone ON vlan_ip_ranges (zone_id, removed);

-- One row per address of every live range (Free or Allocated); `ordinal` is the address as a
-- number, so the lowest free one is an index scan.
CREATE TABLE public_ips (
    id TEXT PRIMARY KEY,
    zone_id TEXT NOT NULL,
    address TEXT NOT NULL,
    ordinal BIGINT NOT NULL,
    vlan_range_id TEXT NOT NULL,
    state TEXT NOT NULL,
    account_id TEXT,
    domain_id TEXT,
    network_id TEXT,
    source_nat INTEGER NOT NULL DEFAULT 0,
    is_system INTEGER NOT NULL DEFAULT 0,
    allocated TEXT
);
CREATE INDEX public_ips_free ON public_ips (zone_id, state, ordinal);
CREATE INDEX public_ips_range ON public_ips (vlan_range_id, state);
CREATE INDEX public_ips_account ON public_ips (account_id, state);
CREATE INDEX public_ips_network ON public_ips (network_id);
