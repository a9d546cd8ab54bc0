"""What a request may carry: UTF-8 text without control characters, and keywords matched as
typed, through the HTTP API on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from api.signing import sign
from stratus.settings import Settings
from tests.support.app import App, running_app

URLENCODED = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def app(settings: Settings) -> Iterator[App]:
    with running_app(settings) as running:
        yield running


def _call(app: App, **params: str) -> tuple[int, dict]:
    answer = app.http.get("/client/api", params=app.signed(dict(params)))
    return answer.status_code, answer.json()


def _domains(app: App, **filters: str) -> list[str]:
    _, body = _call(app, command="listDomains", listall="true", **filters)
    return sorted(d["name"] for d in body["listdomainsresponse"].get("domain", []))


def _error(body: dict) -> dict:
    (envelope,) = body.values()
    return envelope


def test_invalid_utf8_in_the_query_is_refused_naming_the_parameter(app: App) -> None:
    signed = app.signed({"command": "createDomain", "name": "placeholder"})
    query = urlencode({k: v for k, v in signed.items() if k != "name"}) + "&name=ab%FFcd"
    answer = app.http.get(f"/client/api?{query}")
    assert answer.status_code == 431
    assert "name" in _error(answer.json())["errortext"]
    assert "UTF-8" in _error(answer.json())["errortext"]
    assert _domains(app) == ["ROOT"]


def test_invalid_utf8_in_a_posted_form_is_refused_naming_the_parameter(app: App) -> None:
    signed = app.signed({"command": "createDomain", "name": "placeholder"})
    body = urlencode({k: v for k, v in signed.items() if k != "name"}) + "&name=%C3%28"
    answer = app.http.post("/client/api", content=body.encode(), headers=URLENCODED)
    assert answer.status_code == 431
    assert "name" in _error(answer.json())["errortext"]
    assert _domains(app) == ["ROOT"]


def test_a_posted_form_of_valid_text_still_works(app: App) -> None:
    signed = app.signed({"command": "createDomain", "name": "zürich"})
    answer = app.http.post("/client/api", content=urlencode(signed).encode(), headers=URLENCODED)
    assert answer.status_code == 200, answer.text
    assert _domains(app) == ["ROOT", "zürich"]


@pytest.mark.parametrize("name", ["red\x1b[31m", "bell\x07", "del\x7f", "line\nbreak", "tab\t"])
def test_control_characters_in_a_name_are_refused_and_nothing_is_made(app: App, name: str) -> None:
    status, body = _call(app, command="createDomain", name=name)
    assert status == 431
    assert "name" in _error(body)["errortext"]
    assert _domains(app) == ["ROOT"]


def test_line_breaks_and_tabs_are_kept_in_free_text(app: App) -> None:
    status, body = _call(
        app,
        command="createServiceOffering",
        name="lines",
        displaytext="first line\n\tsecond line",
        cpunumber="1",
        cpuspeed="500",
        memory="256",
    )
    assert status == 200, body
    offering = body["createserviceofferingresponse"]["serviceoffering"]
    assert offering["displaytext"] == "first line\n\tsecond line"
    status, body = _call(
        app,
        command="createServiceOffering",
        name="escape",
        displaytext="no \x1b escape",
        cpunumber="1",
        cpuspeed="500",
        memory="256",
    )
    assert status == 431 and "displaytext" in _error(body)["errortext"]


@pytest.mark.parametrize(
    ("keyword", "found"),
    [("_", ["a_b"]), ("%", ["100%"]), ("a_", ["a_b"]), ("a", ["a_b", "axb"])],
)
def test_a_keyword_matches_percent_and_underscore_as_typed(
    app: App, keyword: str, found: list[str]
) -> None:
    for name in ("a_b", "axb", "100%", "1000"):
        status, body = _call(app, command="createDomain", name=name)
        assert status == 200, body
    assert _domains(app, keyword=keyword) == found


def test_a_signature_over_the_text_as_sent_still_verifies(app: App) -> None:
    params = {"command": "listDomains", "keyword": "a b+c/d", "response": "json"}
    signed = dict(params, apiKey=app.admin["apikey"])
    signed["signature"] = sign(signed, app.admin["secretkey"])
    answer = app.http.post("/client/api", content=urlencode(signed).encode(), headers=URLENCODED)
    assert answer.status_code == 200, answer.text
