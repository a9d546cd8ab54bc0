-- updateVirtualMachine's flags, shown on every VM: `isdynamicallyscalable` (the guest has the
-- tools to take a new size while running) and `displayvm` (whether end users are shown it).
ALTER TABLE virtual_machines ADD COLUMN dynamically_scalable INTEGER NOT NULL DEFAULT 0;
ALTER TABLE virtual_machines ADD COLUMN display_vm INTEGER NOT NULL DEFAULT 1;
