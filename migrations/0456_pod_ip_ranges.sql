-- A basic zone's guest range for one pod (createVlanIpRange podid): the pod it serves.
ALTER TABLE vlan_ip_ranges ADD COLUMN pod_id TEXT;
