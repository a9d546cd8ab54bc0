-- Image stores and staging stores (listImageStores, listSecondaryStagingStores, listS3s,
-- listSwifts): provider, protocol, URL without credentials, scope and the details that are not
-- secret. Secret keys and passwords are kept only sealed, in the store's events.
CREATE TABLE image_stores (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    provider TEXT NOT NULL,
    protocol TEXT NOT NULL,
    url TEXT NOT NULL,
    zone_id TEXT,
    scope TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX image_stores_role ON image_stores (removed, role, created, id);
