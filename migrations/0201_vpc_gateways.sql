-- A VPC's private gateways and static routes (listPrivateGateways, listStaticRoutes).
CREATE TABLE private_gateways (
    id TEXT PRIMARY KEY,
    vpc_id TEXT NOT NULL,
    physical_network_id TEXT NOT NULL,
    vlan TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    gateway TEXT NOT NULL,
    netmask TEXT NOT NULL,
    source_nat INTEGER NOT NULL DEFAULT 0,
    acl_id TEXT NOT NULL,
    state TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX private_gateways_vpc ON private_gateways (vpc_id);

CREATE TABLE static_routes (
    id TEXT PRIMARY KEY,
    vpc_id TEXT NOT NULL,
    gateway_id TEXT NOT NULL,
    cidr TEXT NOT NULL,
    state TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX static_routes_vpc ON static_routes (vpc_id);
