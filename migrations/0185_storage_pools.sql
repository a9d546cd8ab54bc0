-- Primary storage pools (listStoragePools, findStoragePoolsForMigration): where each pool is,
-- its kind, its URL without credentials, capacity, tags and state. No credential is kept here.
CREATE TABLE storage_pools (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    pod_id TEXT,
    cluster_id TEXT,
    scope TEXT NOT NULL,
    hypervisor TEXT NOT NULL,
    pool_type TEXT NOT NULL,
    url TEXT NOT NULL,
    host TEXT NOT NULL,
    path TEXT NOT NULL,
    provider TEXT NOT NULL,
    capacity_bytes BIGINT NOT NULL DEFAULT 0,
    capacity_iops BIGINT,
    allocated_bytes BIGINT NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    volumes INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX storage_pools_place ON storage_pools (removed, zone_id, cluster_id);
