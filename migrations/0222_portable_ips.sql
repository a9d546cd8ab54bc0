-- Portable public addresses (createPortableIpRange, listPortableIpRanges; associateIpAddress
-- with isportable): a region's ranges and a row per address of every live range.
CREATE TABLE portable_ip_ranges (
    id TEXT PRIMARY KEY,
    region_id INTEGER NOT NULL,
    gateway TEXT NOT NULL,
    netmask TEXT NOT NULL,
    start_ip TEXT NOT NULL,
    end_ip TEXT NOT NULL,
    vlan TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX portable_ip_ranges_region ON portable_ip_ranges (region_id, created);

CREATE TABLE portable_ips (
    id TEXT PRIMARY KEY,
    range_id TEXT NOT NULL,
    region_id INTEGER NOT NULL,
    address TEXT NOT NULL,
    ordinal BIGINT NOT NULL,
    state TEXT NOT NULL,
    account_id TEXT,
    domain_id TEXT,
    zone_id TEXT,
    network_id TEXT,
    allocated TEXT
);
CREATE INDEX portable_ips_range ON portable_ips (range_id, state, ordinal);
CREATE INDEX portable_ips_free ON portable_ips (region_id, state, ordinal);
