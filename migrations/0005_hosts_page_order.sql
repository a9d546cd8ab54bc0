-- listHosts pages through hosts in creation order; without this index every page sorted every host
-- (hosts_listing puts the hypervisor before the creation time, so it only serves filtered lists).
CREATE INDEX hosts_page_order ON hosts (removed, created, id);
