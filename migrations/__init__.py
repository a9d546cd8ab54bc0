"""Numbered SQL migrations for the read-model and bookkeeping schemas (see stratus.migrate)."""
