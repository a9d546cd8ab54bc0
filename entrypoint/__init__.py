"""The entry point: the `stratus` command, the server roles and the wiring of the product."""
