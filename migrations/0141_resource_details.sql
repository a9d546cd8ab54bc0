-- Resource details (listResourceDetails), one row per key of a resource, with the resource's
-- owner for the list's scope.
CREATE TABLE resource_details (
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    display INTEGER NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    PRIMARY KEY (resource_type, resource_id, name)
);
CREATE INDEX resource_details_owner ON resource_details (resource_type, account_id);

CREATE TABLE resource_detail_owners (
    id TEXT PRIMARY KEY,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL
);
