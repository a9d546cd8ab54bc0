"""Small test-only aggregates and read models used to exercise the core machinery."""
