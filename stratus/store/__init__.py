"""The event store: the only source of truth, on SQLite (embedded) or PostgreSQL."""
