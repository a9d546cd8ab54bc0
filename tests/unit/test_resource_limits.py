"""Resource limits and ledgers, given-when-then on the aggregates: the limit arithmetic, what a
VM or a volume holds, and a ledger's counts as its resources come and go."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidParameter, ResourceAllocationFailed
from domain.resource_limits import (
    GIB,
    UNLIMITED,
    Ledger,
    ResourceType,
    check_max,
    exceeds,
    holding,
    resource_type,
)
from domain.volume import Volume
from tests.unit.test_vm import vm

INSTANCE, CPU, MEMORY = ResourceType.INSTANCE, ResourceType.CPU, ResourceType.MEMORY


def _ledger() -> Ledger:
    return Ledger(owner_id=uuid4(), owner_kind="account")


def _limits(**by_name: int):
    return lambda kind: by_name.get(kind.name, UNLIMITED)


@pytest.mark.parametrize(
    ("count", "more", "limit", "refused"),
    [
        (0, 1, 1, False),
        (1, 1, 1, True),
        (5, 1, UNLIMITED, False),
        (0, 1, 0, True),
        (3, -1, 1, False),  # giving back is never refused, even above a lowered limit
        (3, 0, 1, False),
    ],
)
def test_a_limit_refuses_only_what_would_pass_it(count, more, limit, refused) -> None:
    assert exceeds(count, more, limit, INSTANCE) is refused


def test_storage_limits_are_in_gib_and_counts_in_bytes() -> None:
    kind = ResourceType.PRIMARY_STORAGE
    assert not exceeds(0, 2 * GIB, 2, kind)
    assert exceeds(2 * GIB, 1, 2, kind)


@pytest.mark.parametrize("number", [-1, 12, 99])
def test_only_the_twelve_types_of_4_3_exist(number: int) -> None:
    with pytest.raises(InvalidParameter):
        resource_type(number)


def test_a_limit_below_unlimited_is_refused() -> None:
    assert check_max(UNLIMITED) == UNLIMITED and check_max(0) == 0
    with pytest.raises(InvalidParameter):
        check_max(-2)


def test_a_vm_holds_an_instance_its_cpus_and_memory_until_destroyed() -> None:
    machine = vm()
    held = holding(machine)
    assert held is not None and held.account_id == machine.account_id
    expected = {"0": 1, "8": machine.compute.cpu_number, "9": machine.compute.memory}
    assert held.amounts == expected
    machine.destroy("r1", None, False, None)
    assert holding(machine).amounts == {}


def test_a_volume_holds_itself_and_its_size() -> None:
    volume = Volume(uuid4(), "data", "DATADISK", uuid4(), uuid4(), uuid4(), 5, None, None, None)
    assert holding(volume).amounts == {"2": 1, "10": 5 * GIB}


def test_a_ledger_counts_what_its_resources_hold_and_give_back() -> None:
    ledger, first, second = _ledger(), uuid4(), uuid4()
    assert ledger.hold(first, {"0": 1, "8": 2})
    assert not ledger.hold(first, {"0": 1, "8": 2})  # the same holding records nothing
    ledger.hold(second, {"0": 1, "8": 4})
    assert (ledger.count(INSTANCE), ledger.count(CPU)) == (2, 6)
    ledger.hold(first, {})
    assert (ledger.count(INSTANCE), ledger.count(CPU)) == (1, 4)
    assert ledger.more(second, {"0": 1, "8": 8}) == {"0": 0, "8": 4}


def test_a_ledger_refuses_a_holding_past_a_limit_and_names_the_type() -> None:
    ledger = _ledger()
    ledger.hold(uuid4(), {"0": 1, "9": 512})
    more = ledger.more(uuid4(), {"0": 1, "9": 512})
    ledger.check(more, _limits(INSTANCE=2), "account a")
    with pytest.raises(ResourceAllocationFailed, match="memory"):
        ledger.check(more, _limits(INSTANCE=2, MEMORY=1000), "account a")


def test_a_limit_set_on_a_ledger_is_its_own_until_cleared() -> None:
    ledger = _ledger()
    assert ledger.own_limit(CPU) is None
    ledger.set_limit(CPU, 8)
    assert ledger.own_limit(CPU) == 8
    ledger.set_limit(CPU, None)
    assert ledger.own_limit(CPU) is None
    with pytest.raises(InvalidParameter):
        ledger.set_limit(CPU, -5)


def test_a_ledger_is_one_per_owner() -> None:
    owner = uuid4()
    assert Ledger(owner_id=owner, owner_kind="domain").id == Ledger.create_id(owner)
