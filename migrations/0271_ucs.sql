-- UCS managers and their blades (listUcsManagers, listUcsBlades); no password is kept here.
CREATE TABLE ucs_managers (
    id TEXT PRIMARY KEY,
    zone_id TEXT NOT NULL,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ucs_managers_zone ON ucs_managers (removed, zone_id, created);
CREATE TABLE ucs_blades (
    id TEXT PRIMARY KEY,
    manager_id TEXT NOT NULL,
    dn TEXT NOT NULL,
    profile_dn TEXT NOT NULL DEFAULT '',
    host_id TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL
);
CREATE INDEX ucs_blades_manager ON ucs_blades (manager_id, position);
