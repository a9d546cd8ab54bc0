"""The failure brake over HTTP: a source that keeps failing is slowed, the user it names is not."""

from __future__ import annotations

from starlette.testclient import TestClient

from api.signing import sign
from stratus.settings import Settings
from tests.support.app import App, running_app

ATTACKER = ("203.0.113.66", 40000)
OWNER = ("198.51.100.7", 40000)


def _from(app: App, address: tuple[str, int]) -> TestClient:
    return TestClient(app.http.app, client=address, raise_server_exceptions=False)


def _forged(app: App) -> dict[str, str]:
    params = {"command": "listAccounts", "response": "json", "apiKey": app.admin["apikey"]}
    params["signature"] = sign(params, "not-the-secret")
    return params


def _login(http: TestClient, username: str, password: str) -> int:
    form = {"command": "login", "username": username, "password": password, "response": "json"}
    return http.post("/client/api", data=form).status_code


def test_forged_requests_with_a_users_key_do_not_lock_the_user_out(
    sqlite_settings: Settings,
) -> None:
    with running_app(sqlite_settings) as app:
        attacker = _from(app, ATTACKER)
        statuses = [attacker.get("/client/api", params=_forged(app)).status_code for _ in range(12)]
        assert statuses[0] == 401 and statuses[-1] == 429
        owner = _from(app, OWNER)
        answer = owner.get("/client/api", params=app.signed({"command": "listAccounts"}))
        assert answer.status_code == 200, answer.text


def test_wrong_passwords_from_one_address_do_not_stop_the_user_logging_in_elsewhere(
    sqlite_settings: Settings,
) -> None:
    with running_app(sqlite_settings) as app:
        attacker = _from(app, ATTACKER)
        statuses = [_login(attacker, "admin", "guess") for _ in range(12)]
        assert statuses[0] == 401 and statuses[-1] == 429
        assert _login(_from(app, OWNER), "admin", app.admin["password"]) == 200


def test_guessing_one_password_for_many_usernames_is_braked(sqlite_settings: Settings) -> None:
    with running_app(sqlite_settings) as app:
        attacker = _from(app, ATTACKER)
        statuses = [_login(attacker, f"user{n}", "Summer2026!") for n in range(60)]
        assert statuses[0] == 401 and statuses[-1] == 429
        assert _login(_from(app, OWNER), "admin", app.admin["password"]) == 200
