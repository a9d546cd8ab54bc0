-- Regions (listRegions), the local region seeded as 4.3 seeds it: id 1, "Local".
CREATE TABLE regions (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    gslb_service_enabled INTEGER NOT NULL DEFAULT 1,
    portable_ip_service_enabled INTEGER NOT NULL DEFAULT 0
);
INSERT INTO regions (id, name, endpoint) VALUES (1, 'Local', 'http://localhost:8080/client/');
