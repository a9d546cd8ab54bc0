"""VPN customer gateways through the `cs` client: an account describes the far ends of its
site-to-site VPNs; names and addresses are unique in the account; policies, networks and
lifetimes are checked as 4.3 checks them; the pre-shared key is never shown or kept in clear."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.sandbox import Sandbox

PSK = "s2s-Pre-Shared-Key-7f3a"
GOOD = {
    "gateway": "203.0.113.10",
    "cidrlist": "10.20.0.0/16,192.168.50.0/24",
    "ipsecpsk": PSK,
    "ikepolicy": "aes256-sha1;modp1536",
    "esppolicy": "aes128-sha1",
}


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _create(client: Any, **params: Any) -> dict:
    return client.createVpnCustomerGateway(**{**GOOD, **params}, fetch_result=True)[
        "vpncustomergateway"
    ]


def test_a_customer_gateway_is_made_listed_changed_and_deleted(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    alice = make_tenant(sandbox, admin)
    made = _create(alice.client)
    assert made["name"] == "VPN-203.0.113.10"  # 4.3 names an unnamed gateway so
    assert (made["ikelifetime"], made["esplifetime"], made["dpd"]) == (86400, 3600, False)
    assert made["cidrlist"] == "10.20.0.0/16,192.168.50.0/24"
    assert made["account"] == alice.username and "ipsecpsk" not in made
    listed = alice.client.listVpnCustomerGateways()["vpncustomergateway"]
    assert [g["id"] for g in listed] == [made["id"]]
    changed = alice.client.updateVpnCustomerGateway(
        id=made["id"], **{**GOOD, "name": "branch", "esplifetime": 7200, "dpd": "true"},
        fetch_result=True,
    )["vpncustomergateway"]  # fmt: skip
    assert (changed["name"], changed["esplifetime"], changed["dpd"]) == ("branch", 7200, True)
    second = _create(alice.client, gateway="203.0.113.11", name="VPN-203.0.113.10")
    assert second["name"] == "VPN-203.0.113.10"  # the first gave that name up
    result = alice.client.deleteVpnCustomerGateway(id=made["id"], fetch_result=True)
    assert result["success"] is True
    assert [g["id"] for g in alice.client.listVpnCustomerGateways()["vpncustomergateway"]] == [
        second["id"]
    ]
    _refused(alice.client.deleteVpnCustomerGateway, 431, id=made["id"])


def test_names_and_addresses_are_unique_in_an_account_only(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    _create(alice.client, name="hq")
    assert "already exists" in _refused(
        alice.client.createVpnCustomerGateway, 431, **GOOD, name="hq2"
    )
    assert "already exists" in _refused(
        alice.client.createVpnCustomerGateway, 431, **{**GOOD, "gateway": "198.51.100.1"},
        name="hq",
    )  # fmt: skip
    _create(bob.client, name="hq")  # another account's gateways are its own
    assert len(alice.client.listVpnCustomerGateways()["vpncustomergateway"]) == 1


BAD = [
    ({"gateway": "203.0.113.300"}, "is invalid"),
    ({"cidrlist": "10.0.0.0/33"}, "is invalid guest cidr"),
    ({"cidrlist": "10.0.0.0/16,10.0.5.0/24"}, "overlapping"),
    ({"ikepolicy": "aes128-sha256"}, "IKE policy"),
    ({"ikepolicy": "aes128-sha1;modp2048"}, "IKE policy"),
    ({"esppolicy": "blowfish-md5"}, "ESP policy"),
    ({"ikelifetime": 90000}, "lifetime"),
    ({"ipsecpsk": "has spaces in it"}, "pre-shared key"),
]


def test_bad_descriptions_are_refused_and_make_nothing(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    alice = make_tenant(sandbox, admin)
    for change, text in BAD:
        refused = _refused(alice.client.createVpnCustomerGateway, 431, **{**GOOD, **change})
        assert text in refused, (change, refused)
    assert alice.client.listVpnCustomerGateways() == {}


def test_another_accounts_gateway_is_neither_seen_nor_touched(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    made = _create(alice.client)
    assert bob.client.listVpnCustomerGateways() == {}
    assert bob.client.listVpnCustomerGateways(id=made["id"]) == {}
    _refused(bob.client.updateVpnCustomerGateway, 531, id=made["id"], **GOOD)
    _refused(bob.client.deleteVpnCustomerGateway, 531, id=made["id"])
    everyone = admin.listVpnCustomerGateways(listall="true", domainid=sandbox.domain_id)
    assert [g["id"] for g in everyone["vpncustomergateway"]] == [made["id"]]
    for_bob = admin.createVpnCustomerGateway(
        **GOOD, account=bob.username, domainid=sandbox.domain_id, fetch_result=True
    )["vpncustomergateway"]
    assert for_bob["account"] == bob.username


def test_the_pre_shared_key_is_in_no_answer_and_not_in_clear_on_disk(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    alice = make_tenant(sandbox, admin)
    made = _create(alice.client)
    jobs = alice.client.listAsyncJobs()["asyncjobs"]
    answers = [made, alice.client.listVpnCustomerGateways(), jobs]
    assert all(PSK not in str(answer) for answer in answers)
    server = sandbox.server
    for path in [*server.data_dir.rglob("*"), server.log]:
        if path.is_file():
            assert PSK.encode() not in path.read_bytes(), path
