-- A network offering's egress default (createNetworkOffering's egressdefaultpolicy): 1 allows
-- what no egress firewall rule denies, 0 denies what none allows (the seeded offerings' policy).
ALTER TABLE network_offerings ADD COLUMN egress_default_policy INTEGER NOT NULL DEFAULT 0;
