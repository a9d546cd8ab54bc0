-- Live statistics in list answers. vm_disk_figures: the latest counters of each volume of a VM
-- in the VM's current run (listVirtualMachines diskio*/diskkbs*). router_traffic: the bytes a
-- router moved for its guest network, summed over all its runs (listAccounts sentbytes and
-- receivedbytes, by the router's owner), with its last reading to take the next one from.
CREATE TABLE vm_disk_figures (
    vm_id TEXT NOT NULL,
    volume_id TEXT NOT NULL,
    epoch TEXT NOT NULL,
    io_read BIGINT NOT NULL,
    io_write BIGINT NOT NULL,
    bytes_read BIGINT NOT NULL,
    bytes_write BIGINT NOT NULL,
    PRIMARY KEY (vm_id, volume_id)
);

CREATE TABLE router_traffic (
    router_id TEXT PRIMARY KEY,
    network_id TEXT NOT NULL,
    epoch TEXT NOT NULL,
    last_sent BIGINT NOT NULL,
    last_received BIGINT NOT NULL,
    total_sent BIGINT NOT NULL,
    total_received BIGINT NOT NULL
);
