"""What deploying reads: a usable template (reachable, ready in the zone) and compute offering."""

from __future__ import annotations

from uuid import UUID

import pytest

from api.access import Caller
from api.cloudstack.offerings import usable_offering
from api.cloudstack.templates import usable_template
from api.dispatch import ApiCommand, Call
from commands.infrastructure import CreateZone, create_zone
from commands.offerings import seed_id
from commands.templates import RegisterTemplate, on_download_result, register_template
from domain.errors import InvalidParameter, NotFound
from domain.template import Template, TemplateSpec, os_type_id
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
        with pytest.raises(InvalidParameter, match="Downloading"):
            usable_template(call, str(made.id), str(zone))
        request = store.get(Template, made.id).zones[str(zone)]["request_id"]
        result = WorkResult(
            request, "simulator", "download_template", str(made.id), True, {"size": 7}
        )
        on_download_result(store, result)
        app.runtime.runner.catch_up()
        assert usable_template(call, str(made.id), str(zone))["zone_size"] == 7


def test_system_offerings_are_not_for_deploying(settings) -> None:
    with running_app(settings) as app:
        call = _admin_call(app)
        small = usable_offering(call, str(seed_id("service", "Small Instance")))
        assert (small["cpu_number"], small["cpu_speed"], small["memory"]) == (1, 500, 512)
        router = str(seed_id("service", "System Offering For Software Router"))
        with pytest.raises(NotFound):
            usable_offering(call, router)
