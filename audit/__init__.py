"""Audit tooling over the event log: read it directly, rebuild past states, verify, export."""
