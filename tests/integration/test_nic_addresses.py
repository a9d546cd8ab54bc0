"""Secondary addresses of NICs below the API, on SQLite and PostgreSQL: they come from the
network's range and never collide with a NIC's address or each other, even when asked for at
once; removing one gives its address back; the read model lists them by NIC."""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID, uuid4

import pytest

from commands import networks as net
from commands import nic_addresses as cmd
from commands.network_claims import load_claim
from domain.errors import InsufficientCapacity, InvalidParameter
from domain.network_claims import ClaimKind
from domain.vm import VirtualMachine
from tests.integration.test_networks import Fabric, _saved_nic, make_fabric
from tests.unit.test_vm import shape

__all__ = ["make_fabric"]


def _vm_on(fabric: Fabric, network_id: UUID, account: UUID, ip: str | None = None) -> UUID:
    """A VM of the account with a NIC on the network, recorded as a deploy records it."""
    vm = VirtualMachine(
        uuid4(), "web", "web", "i-web", account, uuid4(), fabric.zone_id, "", shape().facts()
    )
    request = net.NicRequest(network_id, ip)
    nic = _saved_nic(fabric.store, net.PrepareGuestNics(vm.id, account, fabric.zone_id, [request]))
    vm.plug_nic(nic.facts())
    fabric.store.save(vm)
    return vm.id


def _add(fabric: Fabric, vm_id: UUID, network_id: UUID, ip: str | None = None) -> str:
    ip_id = uuid4()
    cmd.add_ip_to_nic(fabric.store, cmd.AddIpToNic(vm_id, network_id, ip_id, ip))
    vm: VirtualMachine = fabric.store.get(VirtualMachine, vm_id)
    return str(vm.secondary_ips[ip_id]["ip_address"])


def test_secondary_addresses_skip_every_address_in_use(make_fabric: Any) -> None:
    fabric, account = make_fabric(), uuid4()
    network = fabric.network(account=account, cidr="10.7.0.0/29")  # .2 to .6 besides the gateway
    web = _vm_on(fabric, network, account, "10.7.0.2")
    _vm_on(fabric, network, account, "10.7.0.3")
    found = {_add(fabric, web, network) for _ in range(3)}
    assert found == {"10.7.0.4", "10.7.0.5", "10.7.0.6"}
    with pytest.raises(InsufficientCapacity):
        _add(fabric, web, network)
    with pytest.raises(InsufficientCapacity):
        _add(fabric, web, network, "10.7.0.2")  # the NIC's own address is not a second one


def test_two_nics_asking_for_one_address_at_once_get_it_once(make_fabric: Any) -> None:
    fabric, account = make_fabric(), uuid4()
    network = fabric.network(account=account)
    vms = [_vm_on(fabric, network, account, f"10.1.1.{10 + n}") for n in range(4)]
    gate, outcomes = threading.Barrier(4), []

    def ask(vm_id: UUID) -> None:
        gate.wait()
        try:
            outcomes.append(_add(fabric, vm_id, network, "10.1.1.100"))
        except InsufficientCapacity as refused:
            outcomes.append(refused)

    threads = [threading.Thread(target=ask, args=(vm_id,)) for vm_id in vms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, outcomes)).count("10.1.1.100") == 1 and len(outcomes) == 4


def test_removing_a_secondary_address_gives_it_back(make_fabric: Any) -> None:
    fabric, account = make_fabric(), uuid4()
    network = fabric.network(account=account)
    web, db = (_vm_on(fabric, network, account, ip) for ip in ("10.1.1.10", "10.1.1.11"))
    ip_id = uuid4()
    cmd.add_ip_to_nic(fabric.store, cmd.AddIpToNic(web, network, ip_id, "10.1.1.50"))
    cmd.remove_ip_from_nic(fabric.store, cmd.RemoveIpFromNic(web, ip_id))
    claim = load_claim(fabric.store, ClaimKind.GUEST_IP, network, "10.1.1.50")
    assert claim is not None and claim.free
    assert _add(fabric, db, network, "10.1.1.50") == "10.1.1.50"
    with pytest.raises(InvalidParameter):
        cmd.remove_ip_from_nic(fabric.store, cmd.RemoveIpFromNic(web, ip_id))


def test_a_nic_on_another_network_is_refused(make_fabric: Any) -> None:
    fabric, account = make_fabric(), uuid4()
    network, other = fabric.network(account=account), fabric.network(account=account)
    web = _vm_on(fabric, network, account)
    with pytest.raises(InvalidParameter):
        _add(fabric, web, other)
