-- Internal load balancer VMs (listInternalLoadBalancerVMs): the address each one balances on
-- its tier; the rest of the appliance is in `system_vms`.
CREATE TABLE internal_lb_vms (
    id TEXT PRIMARY KEY,
    network_id TEXT NOT NULL,
    guest_ip TEXT NOT NULL
);
CREATE INDEX internal_lb_vms_network ON internal_lb_vms (network_id, guest_ip);
