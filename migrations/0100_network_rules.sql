-- Rules on public addresses (listPortForwardingRules, listFirewallRules, listLoadBalancerRules,
-- static NAT in listPublicIpAddresses): one row per rule, and the VMs behind load balancers.
CREATE TABLE network_rules (
    id TEXT PRIMARY KEY,
    network_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    public_ip_id TEXT NOT NULL,
    address TEXT NOT NULL,
    protocol TEXT NOT NULL,
    start_port INTEGER,
    end_port INTEGER,
    private_start INTEGER,
    private_end INTEGER,
    vm_id TEXT,
    vm_ip TEXT,
    cidrs TEXT NOT NULL DEFAULT '',
    icmp_type INTEGER,
    icmp_code INTEGER,
    name TEXT NOT NULL DEFAULT '',
    algorithm TEXT NOT NULL DEFAULT '',
    related TEXT,
    state TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX network_rules_kind ON network_rules (kind, account_id, created, id);
CREATE INDEX network_rules_address ON network_rules (public_ip_id, kind);

CREATE TABLE load_balancer_members (
    rule_id TEXT NOT NULL,
    vm_id TEXT NOT NULL,
    vm_ip TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (rule_id, vm_id)
);
