-- Tags on NICs. A NIC's row says when it was plugged (a NIC taken off and plugged again on the
-- same network has the same id, and starts without the tags it had); a tags aggregate's owner
-- row names what its resource goes with (a NIC's VM), so the VM's expunge takes the NIC's tags.
ALTER TABLE vm_nics ADD COLUMN plugged TEXT;
ALTER TABLE resource_tag_owners ADD COLUMN parent_id TEXT;
CREATE INDEX resource_tag_owners_parent ON resource_tag_owners (parent_id);
