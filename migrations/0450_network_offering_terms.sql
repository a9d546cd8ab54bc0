-- What a network offering keeps beyond its services (4.3's createNetworkOffering and
-- updateNetworkOffering): its load balancers' connection limit (NULL: the router's default)
-- and keep-alive, whether its networks are persistent, the system offering of its routers,
-- its details (JSON: which Lb provider balances which scheme) and its place in listings.
ALTER TABLE network_offerings ADD COLUMN max_connections INTEGER;
ALTER TABLE network_offerings ADD COLUMN keep_alive INTEGER NOT NULL DEFAULT 0;
ALTER TABLE network_offerings ADD COLUMN is_persistent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE network_offerings ADD COLUMN router_offering_id TEXT;
ALTER TABLE network_offerings ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
ALTER TABLE network_offerings ADD COLUMN sort_key INTEGER NOT NULL DEFAULT 0;
