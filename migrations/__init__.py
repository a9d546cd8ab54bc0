"""Numbered SQL migrations for the read-model and bookkeeping schemas (applied by stratus.migrate)."""
