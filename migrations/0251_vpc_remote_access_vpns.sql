-- The VPC whose router serves a remote access VPN on its source NAT address (network_id '').
ALTER TABLE remote_access_vpns ADD COLUMN vpc_id TEXT;
