-- Which hosts a primary storage pool was connected to (or failed to connect to), and what the
-- last host to connect it reported of its size.
CREATE TABLE storage_pool_hosts (
    pool_id TEXT NOT NULL,
    host_id TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    PRIMARY KEY (pool_id, host_id)
);
ALTER TABLE storage_pools ADD COLUMN reported_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE storage_pools ADD COLUMN used_bytes BIGINT NOT NULL DEFAULT 0;
