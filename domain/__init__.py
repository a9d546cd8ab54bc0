"""The domain model: aggregates, their events and invariants. No I/O, no clock, no wire spellings."""
