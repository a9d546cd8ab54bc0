"""4.3's settings through the `cs` client: every one listed with its category and default, each
kept at the scopes 4.3 sets it at and refused in a wrong form, secrets shown masked, and the
cloud's own settings neither listed nor changed."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStackApiException

from domain.configuration import DEFINITIONS, HIDDEN


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _setting(admin: Any, name: str, **scope: str) -> dict[str, Any]:
    (found,) = [
        s
        for s in admin.listConfigurations(name=name, **scope)["configuration"]
        if s["name"] == name
    ]
    return found


def test_every_setting_is_listed_kept_and_checked(server) -> None:
    admin = server.client()
    shown = {s["name"] for s in admin.listConfigurations(fetch_list=True)}
    assert shown == {name for name, d in DEFINITIONS.items() if d.category != HIDDEN}
    assert admin.listConfigurations(page=1, pagesize=1)["count"] == len(shown)
    assert _setting(admin, "alert.smtp.port") == {
        "name": "alert.smtp.port",
        "value": "465",
        "category": "Alert",
        "description": "The port of the SMTP server for alerts",
    }
    snapshots = admin.listConfigurations(category="Snapshots")["configuration"]
    assert {s["name"] for s in snapshots} >= {"snapshot.max.hourly", "snapshot.poll.interval"}

    admin.updateConfiguration(name="alert.smtp.port", value="587")
    assert _setting(admin, "alert.smtp.port")["value"] == "587"
    assert "between 0 and 1" in _refused(
        admin.updateConfiguration, 431, name="zone.vlan.capacity.notificationthreshold", value="1.5"
    )
    _refused(admin.updateConfiguration, 431, name="snapshot.max.daily", value="many")
    _refused(admin.updateConfiguration, 431, name="vm.destroy.forcestop", value="maybe")
    assert _setting(admin, "snapshot.max.daily")["value"] == "8"

    # settings 4.3 declares beside its code, not in its Config table
    for name, value in (
        ("vm.job.enabled", "true"),
        ("vm.job.timeout", "300000"),
        ("execute.in.sequence.network.element.commands", "true"),
        ("storage.cache.replacement.lru.interval", "7"),
        ("network.loadbalancer.haproxy.max.conn", "8192"),
    ):
        assert _setting(admin, name)["value"] == DEFINITIONS[name].default
        assert admin.updateConfiguration(name=name, value=value)["configuration"]["value"] == value
        assert _setting(admin, name)["value"] == value
    _refused(admin.updateConfiguration, 431, name="vm.job.check.interval", value="soon")

    zone = "6b0f3c41-92c4-4f39-8a63-3f5b1f1f2b10"
    admin.updateConfiguration(name="use.external.dns", value="true", zoneid=zone)
    assert _setting(admin, "use.external.dns", zoneid=zone)["value"] == "true"
    assert _setting(admin, "use.external.dns")["value"] == "false"
    _refused(admin.updateConfiguration, 431, name="snapshot.max.daily", value="4", zoneid=zone)

    admin.updateConfiguration(name="security.singlesignon.key", value="s3cr3t-sso-key")
    assert _setting(admin, "security.singlesignon.key")["value"] == "********"
    assert "s3cr3t-sso-key" not in str(admin.listConfigurations(fetch_list=True))

    assert "cloud.identifier" not in shown
    _refused(admin.updateConfiguration, 431, name="cloud.identifier", value="mine")
    _refused(admin.updateConfiguration, 431, name="no.such.setting", value="1")
