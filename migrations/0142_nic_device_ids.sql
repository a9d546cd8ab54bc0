-- A NIC's device number in its VM: NICs are numbered in the order they were plugged, the first
-- 0. Existing rows are numbered default first, then by network; `stratus projections rebuild
-- networks` gives them their plug order.
ALTER TABLE vm_nics ADD COLUMN device_id INTEGER NOT NULL DEFAULT 0;
UPDATE vm_nics SET device_id = (
    SELECT count(*) FROM vm_nics AS o
    WHERE o.vm_id = vm_nics.vm_id
    AND (o.is_default > vm_nics.is_default
         OR (o.is_default = vm_nics.is_default AND o.network_id < vm_nics.network_id))
);
