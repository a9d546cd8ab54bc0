-- IPv6 ranges added to a shared network (createVlanIpRange networkid startipv6 endipv6
-- ip6cidr ip6gateway), listed and deleted with the zone's ranges: the network a range
-- belongs to and its IPv6 plan ('' where a range has no IPv4 part).
ALTER TABLE vlan_ip_ranges ADD COLUMN network_id TEXT;
ALTER TABLE vlan_ip_ranges ADD COLUMN ip6_cidr TEXT;
ALTER TABLE vlan_ip_ranges ADD COLUMN ip6_gateway TEXT;
ALTER TABLE vlan_ip_ranges ADD COLUMN start_ipv6 TEXT;
ALTER TABLE vlan_ip_ranges ADD COLUMN end_ipv6 TEXT;
