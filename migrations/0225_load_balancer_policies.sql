-- Load balancers' descriptions, stickiness policies and SSL certificates
-- (updateLoadBalancerRule, listLBStickinessPolicies, listSslCerts). No private key is kept here.
ALTER TABLE network_rules ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE network_rules ADD COLUMN cert_id TEXT;

CREATE TABLE lb_stickiness_policies (
    id TEXT PRIMARY KEY,
    rule_id TEXT NOT NULL,
    name TEXT NOT NULL,
    method TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '[]',
    description TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL
);
CREATE INDEX lb_stickiness_policies_rule ON lb_stickiness_policies (rule_id);

CREATE TABLE ssl_certs (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    certificate TEXT NOT NULL,
    chain TEXT NOT NULL DEFAULT '',
    fingerprint TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX ssl_certs_account ON ssl_certs (account_id, created, id);
