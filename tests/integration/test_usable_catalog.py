"""What deploying reads: a usable template (the owner's, public or shared with the account, and
ready in the zone) and compute offering."""

from __future__ import annotations

from uuid import UUID

import pytest

from api.access import Caller
from api.cloudstack.catalog import offering as usable_offering
from api.cloudstack.catalog import template as usable_template
from api.dispatch import ApiCommand, Call
from commands.infrastructure import CreateZone, create_zone
from commands.offerings import seed_id
from commands.templates import (
    RegisterTemplate,
    SetPermissions,
    on_download_result,
    register_template,
    set_permissions,
)
from domain.errors import InvalidParameter, NotFound, PermissionDenied
from domain.template import Permissions, Template, TemplateSpec, os_type_id
from stratus.messages import WorkResult
from tests.support.app import running_app


def _admin_call(app) -> Call:
    with app.runtime.db.read() as cursor:
        row = cursor.execute("SELECT * FROM users WHERE username = 'admin'").fetchone()
    command = ApiCommand("deployVirtualMachine", lambda call, args: None)
    return Call(app.runtime, app.services, Caller.from_row(row), command, {})


def test_a_template_is_usable_in_a_zone_once_downloaded_there(settings) -> None:
    with running_app(settings) as app:
        store, call = app.runtime.store, _admin_call(app)
        zone = create_zone(store, CreateZone("z1", "Advanced", {"dns1": "8.8.8.8"})).id
        assert zone is not None
        spec = TemplateSpec(
            "t", "t", "http://i.example.org/t.vhd", "Simulator", "VHD", os_type_id("Other (64-bit)")
        )
        made = register_template(
            store, RegisterTemplate(spec, UUID(call.caller.account_id), [zone])
        )
        app.runtime.runner.catch_up()
        account = call.caller.account_id
        with pytest.raises(InvalidParameter, match="not been completely downloaded"):
            usable_template(call, str(made.id), str(zone), account)
        request = store.get(Template, made.id).zones[str(zone)]["request_id"]
        result = WorkResult(
            request, "simulator", "download_template", str(made.id), True, {"size": 7}
        )
        on_download_result(store, result)
        app.runtime.runner.catch_up()
        usable = usable_template(call, str(made.id), str(zone), account)
        assert (usable.hypervisor, usable.disk_gb) == ("Simulator", 1)  # 7 bytes: 1 GiB rounded up

        other = str(UUID(int=7))
        with pytest.raises(PermissionDenied):
            usable_template(call, str(made.id), str(zone), other)
        shared = Permissions(op="add", accounts=(other,))
        set_permissions(store, SetPermissions(made.id, shared))
        app.runtime.runner.catch_up()
        assert usable_template(call, str(made.id), str(zone), other).id == str(made.id)


def test_system_offerings_are_not_for_deploying(settings) -> None:
    with running_app(settings) as app:
        call = _admin_call(app)
        root = call.caller.domain_path
        small = usable_offering(call, str(seed_id("service", "Small Instance")), root)
        assert (small.shape.cpu_number, small.shape.cpu_speed, small.shape.memory) == (1, 500, 512)
        router = str(seed_id("service", "System Offering For Software Router"))
        with pytest.raises(NotFound):
            usable_offering(call, router, root)
