-- IPv6 of shared networks (their plan) and of the NICs on them (createNetwork ip6cidr,
-- ip6gateway, startipv6, endipv6; listNetworks, listNics and VMs' nic ip6 fields).
ALTER TABLE networks ADD COLUMN ip6_cidr TEXT;
ALTER TABLE networks ADD COLUMN ip6_gateway TEXT;
ALTER TABLE networks ADD COLUMN start_ipv6 TEXT;
ALTER TABLE networks ADD COLUMN end_ipv6 TEXT;
ALTER TABLE vm_nics ADD COLUMN ip6_address TEXT;
ALTER TABLE vm_nics ADD COLUMN ip6_gateway TEXT;
ALTER TABLE vm_nics ADD COLUMN ip6_cidr TEXT;
