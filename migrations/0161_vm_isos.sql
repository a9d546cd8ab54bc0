-- The ISO in a VM's CD drive (attachIso), shown as `isoid`, `isoname`, `isodisplaytext` and
-- filtered on by listVirtualMachines isoid=.
ALTER TABLE virtual_machines ADD COLUMN iso_id TEXT;
ALTER TABLE virtual_machines ADD COLUMN iso_name TEXT NOT NULL DEFAULT '';
ALTER TABLE virtual_machines ADD COLUMN iso_display_text TEXT NOT NULL DEFAULT '';
CREATE INDEX virtual_machines_iso ON virtual_machines (iso_id);
