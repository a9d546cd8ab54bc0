-- The machines whose planner reservation of their host an administrator released
-- (releaseHostReservation): placement no longer counts them as holding the host.
CREATE TABLE host_reservation_releases (
    host_id TEXT NOT NULL,
    machine_id TEXT NOT NULL,
    PRIMARY KEY (host_id, machine_id)
);
