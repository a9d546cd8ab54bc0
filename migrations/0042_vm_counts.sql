-- How many VMs (not expunged) each account has: an unfiltered listVirtualMachines counts from
-- here instead of reading every VM's index entry (100,000 VMs cost ~13 ms per page).
CREATE TABLE vm_counts (
    account_id TEXT PRIMARY KEY,
    n BIGINT NOT NULL
);
INSERT INTO vm_counts (account_id, n)
SELECT account_id, count(*) FROM virtual_machines WHERE removed = 0 GROUP BY account_id;
