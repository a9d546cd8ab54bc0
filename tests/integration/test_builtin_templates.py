"""Built-in templates on both stores: registered once for every zone of their hypervisor, a
download asked for once per zone, deleted ones never revived, and a refused mirror changes
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from commands.builtin_templates import (
    EnsureBuiltinTemplates,
    builtin_template_id,
    ensure_builtin_templates,
)
from commands.identity import Bootstrap, bootstrap
from commands.infrastructure import CreateZone, create_zone
from commands.templates import delete_template
from domain.account import Account
from domain.errors import InvalidParameter, NotFound
from domain.template import CopyState, Template
from entrypoint.installation import open_runtime
from stratus.settings import Settings

SYSTEM = builtin_template_id("SystemVM Template (Simulator)")
GUEST = builtin_template_id("CentOS 5.3(64-bit) no GUI (Simulator)")
MIRROR = "http://builtin-images.invalid/"


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Any]:
    runtime = open_runtime(settings)
    try:
        yield runtime
    finally:
        runtime.close()


def _admin_account(runtime: Any) -> UUID:
    made = bootstrap(runtime.store, Bootstrap(admin_password="not-used-here-1"))
    user_id = made.admin_user_id
    runtime.runner.catch_up()
    with runtime.db.read() as cursor:
        row = cursor.execute("SELECT account_id FROM users WHERE id = %s", (str(user_id),))
        account_id = UUID(row.fetchone()["account_id"])
    assert runtime.store.get(Account, account_id)
    return account_id


def _zone(runtime: Any, name: str) -> UUID:
    made = create_zone(runtime.store, CreateZone(name, "Advanced", {"dns1": "8.8.8.8"}))
    assert made.id is not None
    return made.id


def _ensure(runtime: Any, zone: UUID, account: UUID, mirror: str = MIRROR) -> None:
    ensure_builtin_templates(
        runtime.store, EnsureBuiltinTemplates(zone, "Simulator", account, mirror=mirror)
    )


def test_each_zone_asks_once_for_each_builtin_template_of_its_hypervisor(runtime: Any) -> None:
    account = _admin_account(runtime)
    first, second = _zone(runtime, "z1"), _zone(runtime, "z2")
    _ensure(runtime, first, account)
    _ensure(runtime, first, account)  # a second cluster of the same hypervisor
    _ensure(runtime, second, account)
    for template_id in (SYSTEM, GUEST):
        template = runtime.store.get(Template, template_id)
        assert set(template.zones) == {str(first), str(second)}
        assert all(c["state"] == CopyState.DOWNLOADING for c in template.zones.values())
        assert template.url.startswith(MIRROR) and template.cross_zones
        names = [type(e).__name__ for e in runtime.store.events.get(template_id)]
        assert names == ["Registered", "DownloadRequested", "DownloadRequested"]
    with pytest.raises(NotFound):
        runtime.store.get(Template, builtin_template_id("SystemVM Template (KVM)"))


def test_a_builtin_template_the_operator_deleted_stays_deleted(runtime: Any) -> None:
    account = _admin_account(runtime)
    first = _zone(runtime, "z1")
    _ensure(runtime, first, account)
    delete_template(runtime.store, GUEST)
    _ensure(runtime, _zone(runtime, "z2"), account)
    assert runtime.store.get(Template, GUEST).removed
    assert len(runtime.store.get(Template, SYSTEM).zones) == 2


def test_a_mirror_on_a_loopback_address_is_refused_and_nothing_is_registered(
    runtime: Any,
) -> None:
    account = _admin_account(runtime)
    zone = _zone(runtime, "z1")
    with pytest.raises(InvalidParameter, match="Illegal host"):
        _ensure(runtime, zone, account, mirror="http://127.0.0.1:8000/")
    with pytest.raises(NotFound):
        runtime.store.get(Template, SYSTEM)
