-- Global load balancer rules (listGlobalLoadBalancerRules) and the load balancer rules behind
-- each, with their weights.
CREATE TABLE global_load_balancers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    region_id INTEGER NOT NULL,
    gslb_domain TEXT NOT NULL,
    service_type TEXT NOT NULL,
    lb_method TEXT NOT NULL,
    sticky_method TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX global_load_balancers_account ON global_load_balancers (account_id, created, id);

CREATE TABLE global_load_balancer_members (
    gslb_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    weight INTEGER NOT NULL,
    PRIMARY KEY (gslb_id, rule_id)
);
