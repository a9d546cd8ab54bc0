-- Storage QoS (4.3): an offering's IOPS (fixed, or customizable per disk) and hypervisor snapshot
-- reserve, and what each volume carries of them and of its offering's I/O throttling rates
-- (a JSON object: min_iops, max_iops, hypervisor_snapshot_reserve and the rates; {} for none).
ALTER TABLE service_offerings ADD COLUMN customized_iops INTEGER NOT NULL DEFAULT 0;
ALTER TABLE service_offerings ADD COLUMN min_iops BIGINT;
ALTER TABLE service_offerings ADD COLUMN max_iops BIGINT;
ALTER TABLE service_offerings ADD COLUMN hypervisor_snapshot_reserve INTEGER;
ALTER TABLE disk_offerings ADD COLUMN customized_iops INTEGER NOT NULL DEFAULT 0;
ALTER TABLE disk_offerings ADD COLUMN min_iops BIGINT;
ALTER TABLE disk_offerings ADD COLUMN max_iops BIGINT;
ALTER TABLE disk_offerings ADD COLUMN hypervisor_snapshot_reserve INTEGER;
ALTER TABLE volumes ADD COLUMN qos TEXT NOT NULL DEFAULT '{}';
