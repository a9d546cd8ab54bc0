"""The fault campaign: a cloud under concurrent deploys, a fault injected, and the invariants
checked once it has recovered (`bench/faults.py` runs it whole, the e2e suite a short version)."""
