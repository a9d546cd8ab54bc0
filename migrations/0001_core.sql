-- Bookkeeping shared by every read model: how far each projection (and the outbox relay) has
-- followed the notification log, and which rebuild generation its tables belong to.
CREATE TABLE projection_positions (
    name TEXT PRIMARY KEY,
    position BIGINT NOT NULL DEFAULT 0,
    generation INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT
);
