-- The zone an account's users start in (markDefaultZoneForAccount).
ALTER TABLE accounts ADD COLUMN default_zone_id TEXT;
