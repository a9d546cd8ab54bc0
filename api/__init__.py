"""The CloudStack HTTP API: wire format, authentication and the command tables."""
