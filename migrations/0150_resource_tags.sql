-- Resource tags (listTags, the `tags` of tagged resources and the `tags` filter of their lists):
-- one row per key of a resource, owned by the resource's owner; resource_tag_owners says whose
-- resource each tags aggregate is about.
CREATE TABLE resource_tags (
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    value TEXT NOT NULL,
    customer TEXT NOT NULL DEFAULT '',
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (resource_id, tag_key)
);
CREATE INDEX resource_tags_match ON resource_tags (resource_type, tag_key, value);
CREATE INDEX resource_tags_owner ON resource_tags (account_id, resource_type);

CREATE TABLE resource_tag_owners (
    id TEXT PRIMARY KEY,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL
);
