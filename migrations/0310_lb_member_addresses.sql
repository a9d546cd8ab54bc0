-- A VM may sit behind one load balancer rule by several of its addresses (its NIC's own and
-- secondary ones: assignToLoadBalancerRule vmidipmap), so a member is (rule, VM, address).
CREATE TABLE load_balancer_members_by_ip (
    rule_id TEXT NOT NULL,
    vm_id TEXT NOT NULL,
    vm_ip TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (rule_id, vm_id, vm_ip)
);
INSERT INTO load_balancer_members_by_ip (rule_id, vm_id, vm_ip, state)
    SELECT rule_id, vm_id, vm_ip, state FROM load_balancer_members;
DROP TABLE load_balancer_members;
ALTER TABLE load_balancer_members_by_ip RENAME TO load_balancer_members;
