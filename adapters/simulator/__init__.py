"""The simulator adapter: an in-memory hypervisor for the embedded mode and for tests."""
