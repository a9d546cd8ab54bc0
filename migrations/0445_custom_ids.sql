-- The custom id each resource answers to now (4.3's `customid` on updates): the API takes it
-- for the resource's own id and answers it in its place.
CREATE TABLE custom_ids (
    resource_id TEXT PRIMARY KEY,
    custom_id TEXT NOT NULL UNIQUE,
    resource_type TEXT NOT NULL
);
