"""API throttling through the `cs` client: with api.throttling.* set, an account's requests past
the limit of its interval are refused with 429 until an administrator resets its count, other
accounts count on their own, and getApiLimit shows where an account stands."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.sandbox import Sandbox

NATS_ADAPTERS: tuple[str, ...] = ()  # no VM work here


def _refused(call: Any, code: int, **params: Any) -> dict:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return refused.value.error


def _set(admin: CloudStack, name: str, value: str) -> None:
    admin.updateConfiguration(name=name, value=value)


@pytest.fixture
def throttled(sandbox: Sandbox):
    """Throttling on for the test (an hour's interval, so no window ends under it), then off:
    the leg's server is shared with the module's other tests."""
    admin = sandbox.client()
    _set(admin, "api.throttling.interval", "3600")
    _set(admin, "api.throttling.max", "5")
    _set(admin, "api.throttling.enabled", "true")
    yield admin
    admin.resetApiLimit()
    _set(admin, "api.throttling.enabled", "false")
    admin.resetApiLimit()


def test_the_count_is_shown_but_nothing_refused_while_throttling_is_off(sandbox: Sandbox) -> None:
    tenant = make_tenant(sandbox, sandbox.client())
    for _ in range(30):
        tenant.client.listZones()
    limit = tenant.client.getApiLimit()["apilimit"]
    assert (limit["accountid"], limit["apiIssued"]) == (tenant.account_id, 0)
    assert limit["account"] == tenant.username and limit["apiAllowed"] == 25


def test_requests_past_the_limit_are_refused_until_reset(sandbox: Sandbox, throttled) -> None:
    admin = throttled
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    admin.resetApiLimit()
    for _ in range(4):
        alice.client.listZones()
    limit = alice.client.getApiLimit()["apilimit"]  # the fifth request
    assert (limit["apiIssued"], limit["apiAllowed"]) == (5, 0)
    assert 0 < limit["expireAfter"] <= 3600 * 1000
    error = _refused(alice.client.listZones, 429)
    assert "API limit" in error["errortext"]
    assert bob.client.listZones() is not None  # bob counts on his own
    answer = admin.resetApiLimit(account=alice.account_id)["apilimit"]
    assert (answer["accountid"], answer["apiIssued"]) == (alice.account_id, 0)
    alice.client.listZones()
    _refused(alice.client.resetApiLimit, 432)
    _refused(admin.resetApiLimit, 431, account="11111111-2222-3333-4444-555555555555")
