"""Global load balancer rules below the API, on SQLite and PostgreSQL: a rule claims its DNS
name (two racing creates for one name let one through), its members show in the read model
with their weights, a remote region is refused, and deleting frees the name."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest

from commands import gslb as cmd
from commands.regions import change_regions
from domain.errors import InvalidParameter
from domain.gslb import GlobalLoadBalancer, GslbMember
from entrypoint.installation import open_runtime
from stratus.runtime import Runtime
from stratus.settings import Settings

ACCOUNT, DOMAIN = uuid4(), uuid4()


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    opened = open_runtime(settings)
    try:
        yield opened
    finally:
        opened.close()


def _create(runtime: Runtime, name: str = "shop.example.com", region: int = 1) -> UUID:
    command = cmd.CreateGslb(
        "shop", "", region, name, "http", "roundrobin", "sourceip", ACCOUNT, DOMAIN
    )
    outcome = cmd.create_gslb(runtime.store, command)
    assert outcome.id is not None
    return outcome.id


def _rows(runtime: Runtime, sql: str, *params: Any) -> list[dict[str, Any]]:
    runtime.runner.catch_up()
    with runtime.db.read() as cursor:
        return [dict(r) for r in cursor.execute(sql, params).fetchall()]


def test_a_rule_and_its_weighted_members_show_in_the_read_model(runtime: Runtime) -> None:
    gslb_id = _create(runtime)
    east, west = GslbMember(uuid4(), uuid4(), 3), GslbMember(uuid4(), uuid4(), 1)
    accounts = {east.rule_id: ACCOUNT, west.rule_id: ACCOUNT}
    cmd.assign(runtime.store, gslb_id, [east, west], accounts)
    cmd.change_gslb(runtime.store, gslb_id, lambda r: r.update("front", "leastconn", None))
    row = _rows(runtime, "SELECT * FROM global_load_balancers")[0]
    assert (row["gslb_domain"], row["lb_method"], row["description"]) == (
        "shop.example.com",
        "leastconn",
        "front",
    )
    weights = _rows(runtime, "SELECT rule_id, weight FROM global_load_balancer_members")
    assert {r["rule_id"]: r["weight"] for r in weights} == {
        str(east.rule_id): 3,
        str(west.rule_id): 1,
    }
    cmd.change_gslb(runtime.store, gslb_id, lambda r: r.unassign([east.rule_id]))
    assert len(_rows(runtime, "SELECT * FROM global_load_balancer_members")) == 1


def test_a_name_is_served_by_one_rule_and_freed_by_its_delete(runtime: Runtime) -> None:
    gate, outcomes = threading.Barrier(3), []

    def create() -> None:
        gate.wait()
        try:
            outcomes.append(_create(runtime))
        except InvalidParameter as refused:
            outcomes.append(refused)

    threads = [threading.Thread(target=create) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    made = [o for o in outcomes if isinstance(o, UUID)]
    assert len(made) == 1, outcomes
    assert all("already exists" in str(o) for o in outcomes if not isinstance(o, UUID))
    cmd.delete_gslb(runtime.store, made[0])
    assert runtime.store.get(GlobalLoadBalancer, made[0]).removed
    assert _rows(runtime, "SELECT * FROM global_load_balancers") == []
    _create(runtime)  # the name is free again


def test_only_the_local_region_serves_names(runtime: Runtime) -> None:
    change_regions(runtime.store, lambda regions: regions.add(2, "West", "http://w.example/"))
    with pytest.raises(InvalidParameter, match="GSLB service is not enabled in region : West"):
        _create(runtime, region=2)
    with pytest.raises(InvalidParameter, match="Invalid region ID: 7"):
        _create(runtime, region=7)
    assert _rows(runtime, "SELECT * FROM global_load_balancers") == []
