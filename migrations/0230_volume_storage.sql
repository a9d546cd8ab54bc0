-- Where each volume lives and what updateVolume and uploadVolume record of it: its primary
-- storage pool (id and name, as placement or updateVolume set them), its path there, whether it
-- is displayed, and, for an uploaded volume, the image's URL, format and the upload's status.
-- Offers of volumes for download (extractVolume) are kept beside, as templates' are.
ALTER TABLE volumes ADD COLUMN storage_id TEXT;
ALTER TABLE volumes ADD COLUMN storage_name TEXT;
ALTER TABLE volumes ADD COLUMN path TEXT;
ALTER TABLE volumes ADD COLUMN chain_info TEXT;
ALTER TABLE volumes ADD COLUMN display INTEGER NOT NULL DEFAULT 1;
ALTER TABLE volumes ADD COLUMN upload_url TEXT;
ALTER TABLE volumes ADD COLUMN upload_format TEXT;
ALTER TABLE volumes ADD COLUMN upload_status TEXT;
CREATE INDEX volumes_storage ON volumes (storage_id);
CREATE INDEX volumes_hidden ON volumes (display, removed);
CREATE TABLE volume_extracts (
    id TEXT PRIMARY KEY,
    volume_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    created TEXT NOT NULL,
    expires TEXT NOT NULL
);
CREATE INDEX volume_extracts_volume ON volume_extracts (volume_id);
