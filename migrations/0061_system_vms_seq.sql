-- listRouters reads a page's keys on (role, removed, seq), then the page's rows by seq: without
-- an index on seq alone that join scanned the whole table for every page.
CREATE INDEX system_vms_seq ON system_vms (seq);
-- The first network a router serves, on its row: listRouters shows it as guestnetworkid without
-- a second query per page (router_networks keeps them all, for the networkid filter).
ALTER TABLE system_vms ADD COLUMN guest_network_id TEXT;
