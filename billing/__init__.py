"""Usage from the event log: fast fact reading, the billing run, replay, verify and their CLI."""
