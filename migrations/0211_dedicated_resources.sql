-- Dedicated zones, pods, clusters and hosts (listDedicated*, and what placement avoids): one
-- row per resource ever dedicated, `removed` once released.
CREATE TABLE dedicated_resources (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    zone_id TEXT,
    pod_id TEXT,
    cluster_id TEXT,
    domain_id TEXT NOT NULL,
    account_id TEXT,
    affinity_group_id TEXT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX dedicated_resources_kind ON dedicated_resources (removed, kind, resource_id);
CREATE INDEX dedicated_resources_zone ON dedicated_resources (removed, zone_id);
CREATE INDEX dedicated_resources_group ON dedicated_resources (affinity_group_id, removed);
