-- VPN customer gateways (listVpnCustomerGateways); the pre-shared key is not kept here.
CREATE TABLE vpn_customer_gateways (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    name TEXT NOT NULL,
    gateway TEXT NOT NULL,
    cidr_list TEXT NOT NULL,
    ike_policy TEXT NOT NULL,
    esp_policy TEXT NOT NULL,
    ike_lifetime BIGINT NOT NULL,
    esp_lifetime BIGINT NOT NULL,
    dpd INTEGER NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX vpn_customer_gateways_owner ON vpn_customer_gateways (removed, account_id, created);
