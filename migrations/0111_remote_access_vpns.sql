-- Remote access VPNs (listRemoteAccessVpns) and VPN users (listVpnUsers). No secret is kept
-- here: the pre-shared key and the passwords live sealed in the event store only.
CREATE TABLE remote_access_vpns (
    id TEXT PRIMARY KEY,
    public_ip_id TEXT NOT NULL,
    public_ip TEXT NOT NULL,
    network_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    ip_range TEXT NOT NULL,
    state TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX remote_access_vpns_owner ON remote_access_vpns (state, account_id);
CREATE INDEX remote_access_vpns_ip ON remote_access_vpns (public_ip_id);

CREATE TABLE vpn_users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    state TEXT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX vpn_users_owner ON vpn_users (removed, account_id, username);
