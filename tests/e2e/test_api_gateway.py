"""The CloudStack API as real clients see it: cs library, async client and CLI over HTTP."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cs import AIOCloudStack, CloudStackApiException

from api.signing import sign
from tests.e2e.factories import make_tenant


def test_signed_requests_list_the_admin_account(server) -> None:
    # A server of its own: a fresh server has exactly one account.
    admin = server.client()
    accounts = admin.listAccounts()
    assert accounts["count"] == 1
    assert accounts["account"][0]["name"] == "admin"
    assert admin.listCapabilities()["capability"]["cloudstackversion"].startswith("4.3")


def test_an_empty_list_is_an_empty_object(server) -> None:
    # A server of its own: only a fresh server has no zones at all.
    assert server.client().listZones() == {}


def test_first_start_writes_credentials_readable_by_the_operator_only(server) -> None:
    # A server of its own: what its first start wrote.
    assert (server.data_dir / "admin.json").stat().st_mode & 0o777 == 0o600
    assert server.admin["url"] == server.url  # the port the system chose, not the 0 asked for
    log = server.output()
    assert "admin.json" in log
    for secret in (server.admin["secretkey"], server.admin["password"], server.admin["apikey"]):
        assert secret not in log


def test_expired_and_far_future_v3_signatures_are_refused(sandbox) -> None:
    for moment in (datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC) + timedelta(days=2)):
        params = {
            "command": "listAccounts",
            "response": "json",
            "apiKey": sandbox.admin["apikey"],
            "signatureVersion": "3",
            "expires": moment.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        }
        params["signature"] = sign(params, sandbox.admin["secretkey"])
        answer = httpx.get(sandbox.url, params=params)
        assert answer.status_code == 401
        body = answer.json()["listaccountsresponse"]
        assert body["errortext"] == "unable to verify user credentials and/or request signature"


def test_a_bad_signature_is_401_and_repeated_failures_are_braked(server) -> None:
    # A server of its own: the brake would slow every other test of the module too.
    client = server.client(secret="not-the-secret")
    statuses = []
    for _ in range(12):
        with pytest.raises(CloudStackApiException) as failure:
            client.listAccounts()
        statuses.append(failure.value.response.status_code)
    assert statuses[0] == 401
    assert statuses[-1] == 429


def test_login_session_and_logout(server) -> None:
    # A server of its own: it logs in as the server's first admin and counts the accounts.
    with httpx.Client() as http:
        answer = http.post(
            server.url,
            data={
                "command": "login",
                "username": "admin",
                "password": server.admin["password"],
                "response": "json",
            },
        )
        assert answer.status_code == 200
        login = answer.json()["loginresponse"]
        assert login["username"] == "admin" and login["type"] == "1"
        key = login["sessionkey"]
        listed = http.get(
            server.url, params={"command": "listAccounts", "sessionkey": key, "response": "json"}
        )
        assert listed.json()["listaccountsresponse"]["count"] == 1
        http.get(server.url, params={"command": "logout", "sessionkey": key, "response": "json"})
        after = http.get(
            server.url, params={"command": "listAccounts", "sessionkey": key, "response": "json"}
        )
        assert after.status_code == 401


def test_a_wrong_password_is_refused_with_401(sandbox) -> None:
    answer = httpx.post(
        sandbox.url,
        data={"command": "login", "username": "admin", "password": "wrong", "response": "json"},
    )
    assert answer.status_code == 401
    assert "failed to authenticate" in answer.json()["loginresponse"]["errortext"]


def test_pagination_through_fetch_list(server) -> None:
    # A server of its own: it counts every account.
    admin = server.client()
    for _ in range(7):
        make_tenant(server, admin)
    everything = admin.listAccounts(fetch_list=True)
    assert len(everything) == 8
    page = admin.listAccounts(page=2, pagesize=3)
    assert page["count"] == 8 and len(page["account"]) == 3
    assert {a["id"] for a in everything} == {
        a["id"] for p in (1, 2, 3) for a in admin.listAccounts(page=p, pagesize=3)["account"]
    }


def test_an_async_job_runs_to_completion(sandbox) -> None:
    admin = sandbox.client()
    tenant = make_tenant(sandbox, admin)
    submitted = admin.disableAccount(id=tenant.account_id, lock=False)
    assert set(submitted) == {"jobid"}
    result = _wait_for_job(admin, submitted["jobid"])
    assert result["jobstatus"] == 1 and result["jobresultcode"] == 0
    assert result["jobresult"]["account"]["state"] == "disabled"
    assert result["cmd"].endswith("DisableAccountCmd")
    assert result["jobinstancetype"] == "Account"
    assert result["jobinstanceid"] == tenant.account_id
    jobs = admin.listAsyncJobs()["asyncjobs"]
    assert submitted["jobid"] in {job["jobid"] for job in jobs}
    with pytest.raises(CloudStackApiException):
        tenant.client.listAccounts()


def _wait_for_job(client, job_id: str) -> dict:
    for _ in range(400):
        result = client.queryAsyncJobResult(jobid=job_id)
        if result["jobstatus"] != 0:
            return result
    raise AssertionError(f"job {job_id} did not finish")


def test_a_failed_job_carries_its_error(sandbox) -> None:
    admin = sandbox.client()
    child = admin.createDomain(name="sales")["domain"]
    make_tenant(sandbox, admin, domain_id=child["id"])
    submitted = admin.deleteDomain(id=child["id"])
    result = _wait_for_job(admin, submitted["jobid"])
    assert result["jobstatus"] == 2 and result["jobresultcode"] == 530
    assert result["jobresult"]["errorcode"] == 431
    assert "still has" in result["jobresult"]["errortext"]
    assert admin.listDomains(id=child["id"])["count"] == 1

    cleaned = _wait_for_job(admin, admin.deleteDomain(id=child["id"], cleanup=True)["jobid"])
    assert cleaned["jobstatus"] == 1 and cleaned["jobresult"] == {"success": True}
    assert admin.listDomains(id=child["id"]) == {}


def test_the_async_client_waits_for_jobs(sandbox) -> None:
    async def scenario() -> dict:
        async with AIOCloudStack(
            endpoint=sandbox.url,
            key=sandbox.admin["apikey"],
            secret=sandbox.admin["secretkey"],
            poll_interval=0.05,
            fetch_result=True,
            job_timeout=30,
        ) as client:
            tenant = await client.createAccount(
                accounttype=0,
                username="async-user",
                password="pw-123456",
                email="a@example.org",
                firstname="A",
                lastname="Sync",
            )
            return await client.disableAccount(id=tenant["account"]["id"], lock=True)

    result = asyncio.run(scenario())
    assert result["account"]["state"] == "locked"


def test_the_cli_lists_accounts(sandbox, tmp_path) -> None:
    config = tmp_path / "cloudstack.ini"
    config.write_text(
        "[cloudstack]\n"
        f"endpoint = {sandbox.url}\n"
        f"key = {sandbox.admin['apikey']}\n"
        f"secret = {sandbox.admin['secretkey']}\n"
    )
    env = dict(os.environ, CLOUDSTACK_CONFIG=str(config))
    done = subprocess.run(
        [sys.executable, "-m", "cs", "listAccounts"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f'"name": "{sandbox.admin_name}"' in done.stdout


def test_a_user_sees_and_touches_only_their_own_account(sandbox) -> None:
    admin = sandbox.client()
    alice = make_tenant(sandbox, admin)
    bob = make_tenant(sandbox, admin)
    mine = alice.client.listAccounts()
    assert [a["id"] for a in mine["account"]] == [alice.account_id]
    assert [u["id"] for u in alice.client.listUsers()["user"]] == [alice.user_id]
    for attempt in (
        lambda: alice.client.updateUser(id=bob.user_id, firstname="Mallory"),
        lambda: alice.client.registerUserKeys(id=bob.user_id),
        lambda: alice.client.listAccounts(account=bob.username, domainid=bob.domain_id),
    ):
        with pytest.raises(CloudStackApiException) as refused:
            attempt()
        assert refused.value.response.status_code == 531
    with pytest.raises(CloudStackApiException) as refused:
        alice.client.deleteAccount(id=bob.account_id)
    assert refused.value.response.status_code == 432  # a root administrator's command
    assert admin.listUsers(id=bob.user_id)["user"][0]["firstname"] == "Test"


def test_admin_only_commands_are_not_available_to_others(sandbox) -> None:
    admin = sandbox.client()
    alice = make_tenant(sandbox, admin)
    for command in ("listConfigurations", "listDomains"):
        with pytest.raises(CloudStackApiException) as refused:
            getattr(alice.client, command)()
        assert refused.value.response.status_code == 432
        assert refused.value.error == {
            "uuidList": [],
            "errorcode": 432,
            "cserrorcode": 9999,
            "errortext": "The given command does not exist or it is not available for user",
        }
        assert f"{command.lower()}response" in refused.value.response.json()


def test_a_domain_admin_manages_only_their_subtree(sandbox) -> None:
    admin = sandbox.client()
    east = admin.createDomain(name="east")["domain"]
    west = admin.createDomain(name="west")["domain"]
    boss = make_tenant(sandbox, admin, account_type=2, domain_id=east["id"])
    inside = make_tenant(sandbox, admin, domain_id=east["id"])
    outside = make_tenant(sandbox, admin, domain_id=west["id"])
    seen = {a["id"] for a in boss.client.listAccounts(listall=True)["account"]}
    assert inside.account_id in seen and outside.account_id not in seen
    with pytest.raises(CloudStackApiException) as refused:
        boss.client.createAccount(
            accounttype=0,
            username="x",
            password="y",
            email="x@y",
            firstname="x",
            lastname="y",
            domainid=west["id"],
        )
    assert refused.value.response.status_code == 531


def test_errors_come_in_cloudstack_envelopes(sandbox) -> None:
    admin = sandbox.client()
    cases = [
        ({"command": "createDomain"}, 431, "missing parameter name"),
        ({"command": "listAccounts", "id": "not-a-uuid"}, 431, "Invalid parameter id"),
        ({"command": "listAccounts", "page": "2"}, 431, "pagesize"),
        ({"command": "listAccounts", "pagesize": "501", "page": "1"}, 431, "500"),
        ({"command": "noSuchCommand"}, 432, ""),
        ({"command": "listAccounts", "response": "xml"}, 431, "xml"),
    ]
    for params, status, text in cases:
        params = dict(params, apiKey=sandbox.admin["apikey"])
        params.setdefault("response", "json")
        params["signature"] = sign(params, sandbox.admin["secretkey"])
        answer = httpx.get(sandbox.url, params=params)
        assert answer.status_code == status, (params, answer.text)
        assert answer.headers["content-type"].startswith("application/json")
        (body,) = answer.json().values()
        assert body["errorcode"] == status and "cserrorcode" in body
        assert text in body["errortext"]
    assert admin.listAccounts()["count"] == 1


def test_configuration_is_typed_and_validated(server) -> None:
    # A server of its own: it changes an operator setting every account would see.
    admin = server.client()
    listed = admin.listConfigurations(name="default.page.size")["configuration"]
    assert listed[0]["value"] == "500"
    with pytest.raises(CloudStackApiException) as refused:
        admin.updateConfiguration(name="default.page.size", value="lots")
    assert refused.value.response.status_code == 431
    updated = admin.updateConfiguration(name="default.page.size", value="2")["configuration"]
    assert updated["value"] == "2"
    for _ in range(3):
        make_tenant(server, admin)
    assert admin.listAccounts()["count"] == 4
    assert len(admin.listAccounts()["account"]) == 2
    with pytest.raises(CloudStackApiException):
        admin.listAccounts(page=1, pagesize=3)


def test_events_record_who_did_what(sandbox) -> None:
    admin = sandbox.client()
    alice = make_tenant(sandbox, admin)
    alice.client.updateUser(id=alice.user_id, firstname="Alice")
    events = admin.listEvents(listall=True)["event"]
    kinds = {(e["type"], e["state"]) for e in events}
    assert ("ACCOUNT.CREATE", "Completed") in kinds
    own = alice.client.listEvents()["event"]
    assert {e["type"] for e in own} == {"USER.UPDATE"}
    job = admin.disableAccount(id=alice.account_id, lock=False)
    _wait_for_job(admin, job["jobid"])
    steps = {e["state"]: e for e in admin.listEvents(type="ACCOUNT.DISABLE")["event"]}
    assert sorted(steps) == ["Completed", "Scheduled", "Started"]
    scheduled, completed = steps["Scheduled"], steps["Completed"]
    # A job's later entries repeat its first one's text and owner, and point back at it.
    assert completed["description"] == scheduled["description"] + ". Successfully completed"
    assert completed["parentid"] == scheduled["id"] and "parentid" not in scheduled
    assert completed["account"] == scheduled["account"]


def test_the_integration_port_is_off_until_configured_and_then_on_loopback_only(
    server, tmp_path
) -> None:
    # A server of its own: it changes a setting and restarts the server.
    from tests.e2e.conftest import free_port, start_server, stop_server

    admin = server.client()
    listed = admin.listConfigurations(name="integration.api.port")["configuration"]
    assert listed[0]["value"] == "0"
    port = free_port()
    admin.updateConfiguration(name="integration.api.port", value=str(port))
    stop_server(server)
    restarted = start_server(server.data_dir, server.env)
    try:
        for _ in range(100):
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/client/api",
                    params={"command": "listAccounts", "response": "json"},
                )
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert answer.status_code == 200
        assert answer.json()["listaccountsresponse"]["count"] == 1
        unknown = httpx.get(
            f"http://127.0.0.1:{port}/client/api", params={"command": "nope", "response": "json"}
        )
        assert unknown.status_code == 432
        assert f"listening on 127.0.0.1:{port}" in restarted.output()
    finally:
        stop_server(restarted)
