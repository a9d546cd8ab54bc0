-- A zone's details (updateZone details, and its DNS search order kept as 4.3's
-- `network.guestnetwork.dns.search.order` detail), as a JSON object answered in listZones'
-- `resourcedetails`.
ALTER TABLE zones ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
