"""Read models: one module per read model, owning its tables, event handlers and query functions."""
