"""Load balancing to a VM's secondary addresses, and global load balancer rules losing a
deleted load balancer, through the `cs` client on every leg: an owner gives a VM a secondary
address, puts it behind a load balancer by that address (`vmidipmap`), and the network's
simulated router runs haproxy with that address as a backend; a load balancer behind a global
rule is deleted and the global rule no longer has it."""

from __future__ import annotations

from tests.e2e.test_load_balancer_policies import balancer_config
from tests.e2e.test_network_rules import job_refused, refused, tenant_with_network
from tests.e2e.test_routers import wait_for


def _balancer(user, ip_id: str, name: str, port: int) -> dict:
    return user.createLoadBalancerRule(
        publicipid=ip_id,
        name=name,
        algorithm="roundrobin",
        publicport=port,
        privateport=8080,
        fetch_result=True,
    )["loadbalancer"]


def test_a_balancer_sends_to_a_vms_secondary_address(sandbox) -> None:
    _admin, alice, bob, network, (web, db) = tenant_with_network(sandbox)
    user, router = alice.client, network["router"]
    (nic,) = user.listNics(virtualmachineid=web["id"])["nic"]
    extra = user.addIpToNic(nicid=nic["id"], fetch_result=True)["nicsecondaryip"]["ipaddress"]
    ip = user.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]
    balancer = _balancer(user, ip["id"], "web", 80)

    # Only the VM's own addresses on the network; another account's VM is not reachable
    prefix = network["gateway"].rsplit(".", 1)[0]
    for bad in (f"{prefix}.201", "not-an-ip", db["nic"][0]["ipaddress"]):
        refused(
            user.assignToLoadBalancerRule,
            431,
            id=balancer["id"],
            vmidipmap=[{"vmid": web["id"], "vmip": bad}],
        )
    refused(user.assignToLoadBalancerRule, 431, id=balancer["id"])
    refused(
        bob.client.assignToLoadBalancerRule,
        531,
        id=balancer["id"],
        vmidipmap=[{"vmid": web["id"], "vmip": extra}],
    )

    user.assignToLoadBalancerRule(
        id=balancer["id"],
        vmidipmap=[
            {"vmid": web["id"], "vmip": extra},
            {"vmid": web["id"], "vmip": nic["ipaddress"]},
        ],
        virtualmachineids=db["id"],
        fetch_result=True,
    )
    job_refused(  # the same address twice
        user.assignToLoadBalancerRule,
        431,
        id=balancer["id"],
        vmidipmap=[{"vmid": web["id"], "vmip": extra}],
    )
    wanted = [f"{extra}:8080", f"{nic['ipaddress']}:8080", f"{db['nic'][0]['ipaddress']}:8080"]
    assert wait_for(lambda: all(w in balancer_config(sandbox, router)[0] for w in wanted), 10)

    listed = user.listLoadBalancerRuleInstances(id=balancer["id"], lbvmips=True)
    mapped = {m["loadbalancerruleinstance"]["id"]: m for m in listed["lbrulevmidip"]}
    assert sorted(mapped[web["id"]]["lbvmipaddresses"]) == sorted([extra, nic["ipaddress"]])
    assert mapped[db["id"]]["lbvmipaddresses"] == [db["nic"][0]["ipaddress"]]
    plain = user.listLoadBalancerRuleInstances(id=balancer["id"])["loadbalancerruleinstance"]
    assert sorted(vm["id"] for vm in plain) == sorted([web["id"], db["id"]])

    # The address a balancer sends to stays; taken off the balancer, it can go
    (held,) = user.listNics(virtualmachineid=web["id"])["nic"][0]["secondaryip"]
    refused(user.removeIpFromNic, 431, id=held["id"])
    user.removeFromLoadBalancerRule(
        id=balancer["id"], vmidipmap=[{"vmid": web["id"], "vmip": extra}], fetch_result=True
    )
    assert wait_for(lambda: f"{extra}:8080" not in balancer_config(sandbox, router)[0], 10)
    assert f"{nic['ipaddress']}:8080" in balancer_config(sandbox, router)[0]
    listed = user.listLoadBalancerRuleInstances(id=balancer["id"], lbvmips=True)
    mapped = {m["loadbalancerruleinstance"]["id"]: m for m in listed["lbrulevmidip"]}
    assert mapped[web["id"]]["lbvmipaddresses"] == [nic["ipaddress"]]
    user.removeIpFromNic(id=held["id"], fetch_result=True)


def test_a_deleted_balancer_leaves_its_global_rule(sandbox) -> None:
    _admin, alice, _bob, network, (web, _db) = tenant_with_network(sandbox)
    user = alice.client
    ip = user.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]
    first = _balancer(user, ip["id"], "first", 80)
    second = _balancer(user, ip["id"], "second", 81)
    user.assignToLoadBalancerRule(id=first["id"], virtualmachineids=web["id"], fetch_result=True)
    name = f"shop-{network['id'][:8]}.example.com"
    rule = user.createGlobalLoadBalancerRule(
        name="shop", gslbservicetype="http", regionid=1, gslbdomainname=name, fetch_result=True
    )["globalloadbalancer"]
    user.assignToGlobalLoadBalancerRule(
        id=rule["id"], loadbalancerrulelist=first["id"], fetch_result=True
    )
    assert user.resolveGlobalLoadBalancerName(gslbdomainname=name)["gslbanswer"]

    user.deleteLoadBalancerRule(id=first["id"], fetch_result=True)
    assert user.listLoadBalancerRules(id=first["id"]) == {}
    (listed,) = user.listGlobalLoadBalancerRules(id=rule["id"])["globalloadbalancerrule"]
    assert listed["loadbalancerrule"] == []
    assert user.resolveGlobalLoadBalancerName(gslbdomainname=name) == {}
    # Its zone is free for another load balancer of the account
    user.assignToGlobalLoadBalancerRule(
        id=rule["id"], loadbalancerrulelist=second["id"], fetch_result=True
    )
    (listed,) = user.listGlobalLoadBalancerRules(id=rule["id"])["globalloadbalancerrule"]
    assert [lb["id"] for lb in listed["loadbalancerrule"]] == [second["id"]]
