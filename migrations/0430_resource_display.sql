-- The display flag a root administrator set on a resource (4.3's `fordisplay`,
-- `displaynetwork`): 0 hides it from its end users. A resource with no row is shown.
CREATE TABLE resource_display (
    id TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL UNIQUE,
    resource_type TEXT NOT NULL,
    display INTEGER NOT NULL
);
