"""An internal load balancer VM on KVM (libvirt's test:///default): started through the
appliance actions like a router, it holds the set the domain makes for its source address,
and its haproxy configuration balances that address over the tier's VMs; stopped, it takes
no set; destroyed, it is gone."""

from __future__ import annotations

from uuid import uuid4

import pytest

from adapters import Credentials, HypervisorError
from adapters.appliances import APPLIANCE_ACTIONS
from adapters.network_rules import RULE_ACTIONS
from domain.network_rule_checks import Member, Rule, RuleKind
from domain.network_rules import NetworkRules

SOURCE = "10.70.1.50"


def _address_set() -> NetworkRules:
    rules = NetworkRules(uuid4(), uuid4(), uuid4(), uuid4(), SOURCE)
    rule = Rule(
        uuid4(),
        RuleKind.LOAD_BALANCING,
        None,
        SOURCE,
        rules.account_id,
        rules.domain_id,
        rules.zone_id,
        "tcp",
        start_port=80,
        end_port=80,
        private_start=8080,
        private_end=8080,
        name="app",
        algorithm="leastconn",
    )
    rules.add(rule)
    rules.assign(rule.id, [Member(uuid4(), "10.70.1.11"), Member(uuid4(), "10.70.1.12")])
    return rules


def test_a_kvm_internal_lb_vm_runs_haproxy_for_its_source_address() -> None:
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm.driver import KvmDriver
    from adapters.kvm.rules import held_balancer, held_rules

    driver = KvmDriver(stop_timeout=0.1, poll_interval=0.05)
    driver.connect(Credentials("test:///default", "admin", "pw"))
    name = "b-ilb1-VM"
    shape = {"name": name, "cpu_number": 1, "cpu_speed_mhz": 500, "memory_mb": 256}
    try:
        started = APPLIANCE_ACTIONS["start_system_vm"](driver, {**shape, "template": "t"})
        assert started["state"] == "Running"
        rules = _address_set()
        params = {"name": name, "generation": 1, "rules": list(rules.applied_set())}
        assert RULE_ACTIONS["apply_network_rules"](driver, params)["generation"] == 1
        domain = driver._require().lookupByName(name)
        config, digests = held_balancer(domain)
        assert f"bind {SOURCE}:80" in config and "balance leastconn" in config
        assert "10.70.1.11:8080 check" in config and "10.70.1.12:8080 check" in config
        assert digests == {}
        generation, held = held_rules(domain)
        assert generation == 1 and [r["public_ip_id"] for r in held] == [None]
        APPLIANCE_ACTIONS["stop_system_vm"](driver, {"name": name})
        with pytest.raises(HypervisorError, match="not running"):
            RULE_ACTIONS["apply_network_rules"](driver, {**params, "generation": 2})
    finally:
        APPLIANCE_ACTIONS["destroy_system_vm"](driver, {"name": name})
        driver.close()
