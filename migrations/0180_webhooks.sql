-- Webhook endpoints of the event feed (stratus/feed/webhooks.py): where to POST, the signing
-- secret sealed with the installation's key, and the event types wanted (empty: all). Each
-- endpoint's delivery position is the `feed:webhook:<name>` row of projection_positions.
CREATE TABLE webhooks (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    event_types TEXT NOT NULL,
    created TEXT NOT NULL
);
