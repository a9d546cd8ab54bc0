-- The primary storage pool an appliance's root disk lives on, recorded when it starts
-- (listSystemVms storageid); NULL while it is on its host's own storage or never started.
ALTER TABLE system_vms ADD COLUMN root_pool_id TEXT;
