"""Login sessions end when what they were opened with ends, whichever API process changed it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from api.signing import sign
from stratus.settings import Settings
from tests.support.app import App, another_api, running_app


@dataclass
class Person:
    """A user who logged in on the first API process (a second user of the account exists)."""

    account_id: str
    user_id: str
    username: str
    password: str
    session: TestClient
    session_key: str


def _call(http: TestClient, app: App, params: dict[str, str]) -> dict[str, Any]:
    answer = http.get("/client/api", params=app.signed(params))
    assert answer.status_code == 200, answer.text
    body = orjson.loads(answer.content)
    return next(iter(body.values()))


def _run(http: TestClient, app: App, params: dict[str, str]) -> dict[str, Any]:
    """Run a command as the admin, to its end if it is asynchronous."""
    answer = _call(http, app, params)
    if "jobid" not in answer:
        return answer
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = _call(http, app, {"command": "queryAsyncJobResult", "jobid": answer["jobid"]})
        if job["jobstatus"] != 0:
            assert job["jobstatus"] == 1, job
            return job
    raise AssertionError(f"{params['command']} did not finish")


def _login(app: App) -> Person:
    name, password = f"u{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    common = {"email": "p@example.org", "firstname": "P", "lastname": "Q", "password": password}
    account = _call(
        app.http,
        app,
        {"command": "createAccount", "accounttype": "0", "username": f"{name}-first", **common},
    )["account"]
    user = _call(
        app.http,
        app,
        {
            "command": "createUser",
            "account": account["name"],
            "domainid": account["domainid"],
            "username": name,
            **common,
        },
    )["user"]
    session = TestClient(app.http.app, raise_server_exceptions=False)
    form = {"command": "login", "username": name, "password": password, "response": "json"}
    answer = session.post("/client/api", data=form)
    assert answer.status_code == 200, answer.text
    key = orjson.loads(answer.content)["loginresponse"]["sessionkey"]
    return Person(account["id"], user["id"], name, password, session, key)


def _session_status(person: Person) -> int:
    params = {"command": "listVirtualMachines", "sessionkey": person.session_key}
    return person.session.get("/client/api", params={**params, "response": "json"}).status_code


ENDINGS: dict[str, Callable[[Person], dict[str, str]]] = {
    "disableUser": lambda p: {"command": "disableUser", "id": p.user_id},
    "lockUser": lambda p: {"command": "lockUser", "id": p.user_id},
    "disableAccount": lambda p: {"command": "disableAccount", "id": p.account_id, "lock": "false"},
    "lockAccount": lambda p: {"command": "disableAccount", "id": p.account_id, "lock": "true"},
    "password": lambda p: {"command": "updateUser", "id": p.user_id, "password": "n3w-Secret"},
    "deleteUser": lambda p: {"command": "deleteUser", "id": p.user_id},
    "deleteAccount": lambda p: {"command": "deleteAccount", "id": p.account_id},
}


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_a_session_ends_when_another_api_process_takes_its_credentials_away(
    settings: Settings, ending: str
) -> None:
    with running_app(settings) as app:
        person = _login(app)
        assert _session_status(person) == 200
        with another_api(settings) as other:
            _run(other, app, ENDINGS[ending](person))
        _call(app.http, app, {"command": "listUsers", "listall": "true"})  # the change is read
        assert _session_status(person) == 401
        assert _session_status(person) == 401


def test_re_enabling_a_user_does_not_revive_a_session_opened_before_it_was_disabled(
    settings: Settings,
) -> None:
    with running_app(settings) as app:
        person = _login(app)
        with another_api(settings) as other:
            _run(other, app, {"command": "disableUser", "id": person.user_id})
            _run(other, app, {"command": "enableUser", "id": person.user_id})
        _call(app.http, app, {"command": "listUsers", "listall": "true"})
        assert _session_status(person) == 401


def test_a_session_outlives_changes_that_leave_its_credentials_alone(settings: Settings) -> None:
    with running_app(settings) as app:
        person = _login(app)
        with another_api(settings) as other:
            _run(other, app, {"command": "updateUser", "id": person.user_id, "firstname": "New"})
        _call(app.http, app, {"command": "listUsers", "listall": "true"})
        assert _session_status(person) == 200


@pytest.mark.parametrize("ending", ["disableUser", "lockUser", "lockAccount", "deleteAccount"])
def test_api_keys_of_a_user_whose_credentials_were_taken_away_are_refused(
    settings: Settings, ending: str
) -> None:
    with running_app(settings) as app:
        person = _login(app)
        keys = _call(app.http, app, {"command": "registerUserKeys", "id": person.user_id})
        own = {
            "command": "listVirtualMachines",
            "response": "json",
            "apiKey": keys["userkeys"]["apikey"],
        }
        own["signature"] = sign(own, keys["userkeys"]["secretkey"])
        assert app.http.get("/client/api", params=own).status_code == 200
        with another_api(settings) as other:
            _run(other, app, ENDINGS[ending](person))
        _call(app.http, app, {"command": "listUsers", "listall": "true"})
        assert app.http.get("/client/api", params=own).status_code == 401


def test_a_locked_user_cannot_log_in_until_enabled_again(settings: Settings) -> None:
    with running_app(settings) as app:
        person = _login(app)
        locked = _run(app.http, app, {"command": "lockUser", "id": person.user_id})
        assert locked["user"]["state"] == "locked"
        form = {"command": "login", "username": person.username, "password": person.password}
        assert (
            person.session.post("/client/api", data={**form, "response": "json"}).status_code == 401
        )
        _run(app.http, app, {"command": "enableUser", "id": person.user_id})
        assert (
            person.session.post("/client/api", data={**form, "response": "json"}).status_code == 200
        )
