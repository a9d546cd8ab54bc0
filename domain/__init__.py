"""The domain model: aggregates, their events and invariants.

No I/O, no clock reads, no CloudStack spellings.
"""
