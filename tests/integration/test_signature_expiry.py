"""An operator can require `expires` on every signed request, so none can be replayed later."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from api.signing import sign
from stratus.settings import ConfigurationError, Settings
from tests.support.app import App, running_app


def _signed(app: App, **extra: str) -> dict[str, str]:
    params = {"command": "listAccounts", "response": "json", "apiKey": app.admin["apikey"], **extra}
    params["signature"] = sign(params, app.admin["secretkey"])
    return params


def _in_minutes(minutes: int) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S+0000")


def test_with_expiry_required_a_request_signed_without_expires_is_refused(
    sqlite_settings: Settings,
) -> None:
    settings = dataclasses.replace(sqlite_settings, require_signature_expiry=True)
    with running_app(settings) as app:
        answer = app.http.get("/client/api", params=_signed(app))
        assert answer.status_code == 401
        body = orjson.loads(answer.content)["listaccountsresponse"]
        assert body["errorcode"] == 401
        assert body["errortext"] == "unable to verify user credentials and/or request signature"
        v3 = _signed(app, signatureVersion="3", expires=_in_minutes(5))
        assert app.http.get("/client/api", params=v3).status_code == 200


def test_by_default_a_request_signed_without_expires_is_accepted_as_in_cloudstack(
    sqlite_settings: Settings,
) -> None:
    with running_app(sqlite_settings) as app:
        assert app.http.get("/client/api", params=_signed(app)).status_code == 200


def test_the_expiry_setting_is_read_from_the_environment() -> None:
    def required(value: str) -> bool:
        return Settings.from_env(
            {"STRATUS_REQUIRE_SIGNATURE_EXPIRY": value}
        ).require_signature_expiry

    assert not Settings.from_env({}).require_signature_expiry
    assert required("on") and required("true")
    assert not required("off") and not required("")
    with pytest.raises(ConfigurationError, match="STRATUS_REQUIRE_SIGNATURE_EXPIRY"):
        Settings.from_env({"STRATUS_REQUIRE_SIGNATURE_EXPIRY": "sometimes"})
