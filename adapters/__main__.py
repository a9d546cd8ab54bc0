"""`python -m adapters <kind>`: run one hypervisor adapter worker (see adapters.cli)."""

from adapters.cli import main

raise SystemExit(main())
