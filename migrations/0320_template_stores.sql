-- Which image store holds each zone's copy of a template or ISO (and which staging store
-- keeps a cached copy of it, in front of an object store): listTemplates and listIsos answer
-- per zone and store.
ALTER TABLE template_zones ADD COLUMN store_id TEXT;
ALTER TABLE template_zones ADD COLUMN cache_store_id TEXT;
