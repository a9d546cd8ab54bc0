"""Regions through the `cs` client: the local region from the start, regions added, renamed and
removed by root administrators, ids and names unique, and everyone may list them."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.sandbox import Sandbox

LOCAL = {
    "id": 1,
    "name": "Local",
    "endpoint": "http://localhost:8080/client/",
    "gslbserviceenabled": True,
    "portableipserviceenabled": False,
}


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def test_the_local_region_is_there_for_everyone(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    user = make_tenant(sandbox, admin).client
    assert admin.listRegions(id=1)["region"] == [LOCAL]
    assert user.listRegions(name="Local")["region"] == [LOCAL]
    _refused(user.addRegion, 432, id=70, name="user-made", endpoint="http://r70.example.org/")
    _refused(user.removeRegion, 432, id=1)
    _refused(admin.removeRegion, 431, id=1)
    assert admin.listRegions(id=1)["region"] == [LOCAL]


def test_regions_are_added_updated_and_removed(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    token = sandbox.domain_name  # regions are the cloud's: names of this test's own
    number = 1000 + int(token[2:6], 16)
    made = admin.addRegion(id=number, name=f"east-{token}", endpoint="http://east.example.org/")
    assert made["region"]["id"] == number and made["region"]["name"] == f"east-{token}"
    _refused(admin.addRegion, 431, id=number, name=f"x-{token}", endpoint="http://x.example.org/")
    _refused(admin.addRegion, 431, id=number + 1, name="Local", endpoint="http://x.example.org/")
    _refused(admin.addRegion, 431, id=number + 1, name=f"y-{token}", endpoint="not-a-url")
    changed = admin.updateRegion(id=number, endpoint="https://east2.example.org/")["region"]
    assert (changed["name"], changed["endpoint"]) == (f"east-{token}", "https://east2.example.org/")
    _refused(admin.updateRegion, 431, id=number, name="Local")
    assert admin.listRegions(keyword=token)["count"] == 1
    assert admin.removeRegion(id=number)["success"] is True
    assert admin.listRegions(id=number) == {}
    _refused(admin.removeRegion, 431, id=number)
    _refused(admin.updateRegion, 431, id=number, name="gone")
