-- Site-to-site VPN: VPCs' VPN gateways (listVpnGateways) and their connections to customer
-- gateways (listVpnConnections); no pre-shared key is kept here.
CREATE TABLE vpn_gateways (
    id TEXT PRIMARY KEY,
    vpc_id TEXT NOT NULL,
    public_ip_id TEXT NOT NULL,
    public_ip TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX vpn_gateways_owner ON vpn_gateways (removed, account_id, created);
CREATE INDEX vpn_gateways_vpc ON vpn_gateways (vpc_id);

CREATE TABLE vpn_connections (
    id TEXT PRIMARY KEY,
    gateway_id TEXT NOT NULL,
    vpc_id TEXT NOT NULL,
    customer_gateway_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    public_ip TEXT NOT NULL,
    peer_ip TEXT NOT NULL,
    peer_cidrs TEXT NOT NULL,
    ike_policy TEXT NOT NULL,
    esp_policy TEXT NOT NULL,
    ike_lifetime BIGINT NOT NULL,
    esp_lifetime BIGINT NOT NULL,
    dpd INTEGER NOT NULL,
    passive INTEGER NOT NULL,
    state TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX vpn_connections_owner ON vpn_connections (account_id, created);
CREATE INDEX vpn_connections_vpc ON vpn_connections (vpc_id);
