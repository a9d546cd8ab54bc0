-- A zone's network domain and IPv6 DNS servers (createZone, updateZone, listZones).
ALTER TABLE zones ADD COLUMN network_domain TEXT NOT NULL DEFAULT '';
ALTER TABLE zones ADD COLUMN ip6_dns1 TEXT NOT NULL DEFAULT '';
ALTER TABLE zones ADD COLUMN ip6_dns2 TEXT NOT NULL DEFAULT '';
