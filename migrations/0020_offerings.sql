-- Offering read models behind listServiceOfferings and listDiskOfferings. `domain_path` is ''
-- for a public offering, else the path of the domain it is limited to, so "visible to a caller"
-- is a prefix test of the caller's path. NULL cpu/speed/memory mark a custom (dynamic) offering.
CREATE TABLE service_offerings (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    display_text TEXT NOT NULL,
    cpu_number INTEGER,
    cpu_speed INTEGER,
    memory INTEGER,
    custom INTEGER NOT NULL DEFAULT 0,
    storage_type TEXT NOT NULL,
    offer_ha INTEGER NOT NULL DEFAULT 0,
    limit_cpu_use INTEGER NOT NULL DEFAULT 0,
    is_volatile INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '',
    host_tags TEXT NOT NULL DEFAULT '',
    system_vm_type TEXT,
    is_system INTEGER NOT NULL DEFAULT 0,
    network_rate INTEGER,
    deployment_planner TEXT NOT NULL DEFAULT '',
    io_limits TEXT NOT NULL DEFAULT '{}',
    details TEXT NOT NULL DEFAULT '{}',
    default_use INTEGER NOT NULL DEFAULT 0,
    sort_key INTEGER NOT NULL DEFAULT 0,
    domain_id TEXT,
    domain_path TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX service_offerings_listing ON service_offerings (removed, is_system, sort_key, created, id);

CREATE TABLE disk_offerings (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    display_text TEXT NOT NULL,
    disk_size INTEGER,
    customized INTEGER NOT NULL DEFAULT 0,
    storage_type TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '',
    io_limits TEXT NOT NULL DEFAULT '{}',
    display_offering INTEGER NOT NULL DEFAULT 1,
    sort_key INTEGER NOT NULL DEFAULT 0,
    domain_id TEXT,
    domain_path TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX disk_offerings_listing ON disk_offerings (removed, sort_key, created, id);
