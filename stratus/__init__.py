"""Stratus: the composition root and infrastructure (event store, read-model database, bus, CLI)."""
