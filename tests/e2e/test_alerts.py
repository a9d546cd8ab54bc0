"""Alerts through the API: generateAlert's type rule, listing, archiving and deleting."""

from __future__ import annotations

import time

import pytest
from cs import CloudStackApiException

from tests.e2e.factories import make_tenant


def _wait(client, job_id: str) -> dict:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        result = client.queryAsyncJobResult(jobid=job_id)
        if result["jobstatus"] != 0:
            return result
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_generate_list_archive_and_delete_alerts(server) -> None:
    # A server of its own: alerts belong to no tenant, and this test lists and archives them all.
    admin = server.client()
    with pytest.raises(CloudStackApiException) as refused:
        admin.generateAlert(type=9, name="MY.ROUTER.ALERT", description="wrong name")
    assert refused.value.error["errorcode"] == 431
    assert "There is a default alert having type 9" in refused.value.error["errortext"]
    done = _wait(
        admin,
        admin.generateAlert(
            type=9, name="ALERT.SERVICE.DOMAINROUTER", description="router r-1 dnsmasq down"
        )["jobid"],
    )
    assert done["jobresult"] == {"success": True}
    _wait(
        admin, admin.generateAlert(type=300, name="BILLING.LATE", description="custom one")["jobid"]
    )
    alerts = admin.listAlerts()["alert"]
    assert [a["name"] for a in alerts] == ["BILLING.LATE", "ALERT.SERVICE.DOMAINROUTER"]
    assert admin.listAlerts(name="ALERT.SERVICE.DOMAINROUTER")["alert"][0]["type"] == 9
    assert admin.listAlerts(type=300)["count"] == 1
    assert admin.archiveAlerts(type=9) == {"success": True}
    assert [a["name"] for a in admin.listAlerts()["alert"]] == ["BILLING.LATE"]
    admin.deleteAlerts(ids=alerts[0]["id"])
    assert admin.listAlerts() == {}
    with pytest.raises(CloudStackApiException) as refused:
        admin.archiveAlerts()
    assert refused.value.error["errorcode"] == 431


def test_alerts_are_for_root_admins(sandbox) -> None:
    admin = sandbox.client()
    tenant = make_tenant(sandbox, admin)
    for command, params in (
        ("generateAlert", {"type": 300, "name": "X", "description": "y"}),
        ("listAlerts", {}),
        ("archiveAlerts", {"type": 1}),
    ):
        with pytest.raises(CloudStackApiException) as refused:
            getattr(tenant.client, command)(**params)
        assert refused.value.error["errorcode"] == 432
