-- NetApp pools, filer volumes and LUNs (listPools, listVolumesOnFiler, listLunsOnFiler); a
-- volume's filer password is not kept here.
CREATE TABLE netapp_pools (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    algorithm TEXT NOT NULL,
    position BIGINT NOT NULL
);
CREATE TABLE netapp_volumes (
    id TEXT PRIMARY KEY,
    pool_id TEXT NOT NULL,
    pool_name TEXT NOT NULL,
    address TEXT NOT NULL,
    aggregate TEXT NOT NULL,
    name TEXT NOT NULL,
    size TEXT NOT NULL,
    username TEXT NOT NULL,
    snapshot_policy TEXT NOT NULL,
    snapshot_reservation INTEGER NOT NULL,
    position BIGINT NOT NULL
);
CREATE INDEX netapp_volumes_pool ON netapp_volumes (pool_name, position);
CREATE TABLE netapp_luns (
    number BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    volume_id TEXT NOT NULL,
    path TEXT NOT NULL,
    target_iqn TEXT NOT NULL
);
CREATE INDEX netapp_luns_volume ON netapp_luns (volume_id, number);
