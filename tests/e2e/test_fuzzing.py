"""Malformed requests of every kind get a CloudStack error envelope and change nothing."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.signing import sign
from stratus.settings import Settings
from tests.conftest import TEST_KEY
from tests.support.app import running_app

COMMANDS = [
    "listAccounts",
    "createAccount",
    "createDomain",
    "updateUser",
    "deleteAccount",
    "queryAsyncJobResult",
    "listEvents",
    "updateConfiguration",
    "registerUserKeys",
    "disableAccount",
    "login",
    "logout",
    "",
    "LISTACCOUNTS",
    "listZones",
]
NAMES = [
    "id",
    "name",
    "page",
    "pagesize",
    "domainid",
    "accounttype",
    "listall",
    "jobid",
    "details[0].cpuNumber",
    "value",
    "username",
    "password",
    "expires",
    "signatureversion",
    "keyword",
    "response",
    "isrecursive",
    "lock",
    "startdate",
]
values = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=string.digits + "-", max_size=30),
    st.sampled_from(
        [
            "-1",
            "0",
            "99999999999999999999",
            "true",
            "TRUE",
            "nope",
            "%zz",
            "\x00",
            "2026-13-45",
            "00000000-0000-0000-0000-000000000000",
            "a" * 5000,
            "xml",
            "json",
            "3",
        ]
    ),
)
requests = st.fixed_dictionaries(
    {"command": st.sampled_from(COMMANDS)},
    optional={name: values for name in NAMES},
)
signing = st.sampled_from(["good", "broken", "none", "wrong-key"])


def _send(app, params: dict[str, str], how: str):
    params = dict(params)
    if how != "none":
        params["apiKey"] = app.admin["apikey"] if how != "wrong-key" else "nobody"
        params["signature"] = sign(params, app.admin["secretkey"])
        if how == "broken":
            params["signature"] = params["signature"][::-1]
    return (
        app.http.post("/client/api", data=params)
        if len(str(params)) > 2000
        else (app.http.get("/client/api", params=params))
    )


def test_thousands_of_malformed_requests_get_4xx_envelopes_and_leave_the_log_alone(
    tmp_path,
) -> None:
    settings_ = Settings(data_dir=tmp_path / "data", secret_key=TEST_KEY)
    with running_app(settings_) as app:
        app.runtime.store.box  # noqa: B018 - the store is open before the first request
        head = app.runtime.store.head()
        seen: set[int] = set()

        @settings(
            max_examples=1500,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(requests, signing)
        def fuzz(params: dict[str, str], how: str) -> None:
            if how == "good" and params["command"] == "logout":
                how = "broken"  # a well-signed logout is a valid request, not a malformed one
            if how == "good":
                params = _malformed(params)
            answer = _send(app, params, how)
            seen.add(answer.status_code)
            assert 400 <= answer.status_code < 500, (params, how, answer.text)
            assert answer.headers["content-type"].startswith("application/json")
            (body,) = answer.json().values()
            assert body["errorcode"] == answer.status_code
            assert isinstance(body["errortext"], str) and body["errortext"]

        fuzz()
        assert app.runtime.store.head() == head
        assert {401, 431} <= seen


def _malformed(params: dict[str, str]) -> dict[str, str]:
    """A signed request is kept malformed: a required id that cannot be a UUID."""
    return dict(
        params,
        id="not-a-uuid",
        jobid="not-a-uuid",
        name="",
        value="not-a-number",
        username="",
        accounttype="abc",
    )
