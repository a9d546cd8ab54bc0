"""Usage records rebuilt from the event log: the replay, its wire form and the `usage` CLI."""
