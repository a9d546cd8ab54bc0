-- VPCs (listVPCOfferings, listVPCs, listNetworkACLLists, listNetworkACLs): VPC offerings, VPCs,
-- their ACL lists and items; the two default ACL lists of 4.3 are seeded with their items.
CREATE TABLE vpc_offerings (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    display_text TEXT NOT NULL,
    services TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE vpcs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    display_text TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    offering_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    cidr TEXT NOT NULL,
    network_domain TEXT NOT NULL,
    services TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX vpcs_owner ON vpcs (account_id, removed, created);

CREATE TABLE network_acl_lists (
    id TEXT PRIMARY KEY,
    vpc_id TEXT,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX network_acl_lists_vpc ON network_acl_lists (vpc_id);

CREATE TABLE network_acl_items (
    id TEXT PRIMARY KEY,
    acl_id TEXT NOT NULL,
    vpc_id TEXT,
    number INTEGER NOT NULL,
    protocol TEXT NOT NULL,
    traffic_type TEXT NOT NULL,
    action TEXT NOT NULL,
    start_port INTEGER,
    end_port INTEGER,
    cidrs TEXT NOT NULL,
    icmp_type INTEGER,
    icmp_code INTEGER,
    state TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX network_acl_items_list ON network_acl_items (acl_id, number);

ALTER TABLE network_offerings ADD COLUMN for_vpc INTEGER NOT NULL DEFAULT 0;
ALTER TABLE networks ADD COLUMN vpc_id TEXT;
ALTER TABLE networks ADD COLUMN acl_id TEXT;

INSERT INTO network_acl_lists (id, vpc_id, name, description, created) VALUES
    ('ccd94114-d7e8-59e1-837a-26371216da03', NULL, 'default_deny',
     'Default Network ACL Deny All', '1970-01-01T00:00:00+00:00'),
    ('c637d5c7-5b29-566b-9649-6e01af8300b6', NULL, 'default_allow',
     'Default Network ACL Allow All', '1970-01-01T00:00:00+00:00');
INSERT INTO network_acl_items (id, acl_id, vpc_id, number, protocol, traffic_type, action,
    cidrs, state, created) VALUES
    ('a36f013e-b7cf-5b6a-8aca-7b4d252eaa56', 'ccd94114-d7e8-59e1-837a-26371216da03', NULL, 1,
     'all', 'Ingress', 'Deny', '0.0.0.0/0', 'Active', '1970-01-01T00:00:00+00:00'),
    ('5c2ad54b-6189-53b7-b4ee-fd115c069591', 'ccd94114-d7e8-59e1-837a-26371216da03', NULL, 2,
     'all', 'Egress', 'Deny', '0.0.0.0/0', 'Active', '1970-01-01T00:00:00+00:00'),
    ('94f96d0c-630e-5900-94b7-ed0a9c88cb77', 'c637d5c7-5b29-566b-9649-6e01af8300b6', NULL, 1,
     'all', 'Ingress', 'Allow', '0.0.0.0/0', 'Active', '1970-01-01T00:00:00+00:00'),
    ('f3386753-119e-554b-b3a4-049941a80d8b', 'c637d5c7-5b29-566b-9649-6e01af8300b6', NULL, 2,
     'all', 'Egress', 'Allow', '0.0.0.0/0', 'Active', '1970-01-01T00:00:00+00:00');
