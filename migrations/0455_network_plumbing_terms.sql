-- A physical network's dedication to a domain and its broadcast domain range (ZONE or POD);
-- a guest network's DNS domain, its IP reservation (the whole CIDR, `network_cidr`, when the
-- VMs' `cidr` is narrower), whether a shared network reaches its domain's subdomains, and the
-- isolated private VLAN of a shared network.
ALTER TABLE physical_networks ADD COLUMN domain_id TEXT;
ALTER TABLE physical_networks ADD COLUMN broadcast_domain_range TEXT NOT NULL DEFAULT 'ZONE';
ALTER TABLE networks ADD COLUMN network_domain TEXT;
ALTER TABLE networks ADD COLUMN network_cidr TEXT;
ALTER TABLE networks ADD COLUMN subdomain_access INTEGER NOT NULL DEFAULT 1;
ALTER TABLE networks ADD COLUMN isolated_pvlan TEXT;
