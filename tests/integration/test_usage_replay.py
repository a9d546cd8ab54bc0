"""Usage rebuilt from a real event log: `stratus usage replay` and listUsageRecords agree."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from api.envelope import format_usage_date
from api.signing import sign
from domain.configuration import Configuration
from stratus.cli import _parser
from stratus.settings import Settings
from stratus.usage.cli import run
from tests.support.app import App, running_app
from tests.support.usage_scenario import BERLIN, EXPECTED, berlin, scenario


def _write_scenario(store: Any) -> None:
    """The scripted VM events, with their own timestamps, and the Berlin usage zone."""
    store.recorder.insert_events([store.mapper.to_stored_event(e) for e in scenario()])
    setting = Configuration(name="usage.aggregation.timezone")
    setting.set("Europe/Berlin")
    store.save(setting)


def _replay(settings: Settings, *argv: str) -> str:
    out = io.StringIO()
    assert run(_parser().parse_args(["usage", "replay", *argv]), settings, out) == 0
    return out.getvalue()


def _hours(items: list[dict[str, Any]]) -> dict[tuple[Any, ...], str]:
    days = ("2026-01-10", "2026-01-11", "2026-01-12")
    day = {format_usage_date(berlin(f"{d} 00:00"), BERLIN): d for d in days}
    return {
        (day[i["startdate"]], i["usagetype"], i["name"], i["offeringid"], i.get("cpunumber")): i[
            "rawusage"
        ]
        for i in items
    }


def _expected() -> dict[tuple[Any, ...], str]:
    # Records of fixed offerings carry no cpu number; the scenario's fixed VM is "db".
    return {
        (d, t, n, str(o), None if n == "db" else c): v for (d, t, n, o, c), v in EXPECTED.items()
    }


def _api(app: App, **params: str) -> dict[str, Any]:
    answer = app.http.get(
        "/client/api", params=app.signed({"command": "listUsageRecords", **params})
    )
    return dict(status=answer.status_code, **orjson.loads(answer.content))


def test_replay_twice_gives_the_same_bytes_and_the_hand_computed_hours(
    settings: Settings, tmp_path: Path
) -> None:
    with running_app(settings) as app:
        _write_scenario(app.runtime.store)
        first, second = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
        _replay(settings, "--from", "2026-01-09", "--to", "2026-01-13", "--out", str(first))
        _replay(settings, "--from", "2026-01-09", "--to", "2026-01-13", "--out", str(second))
        csv_text = _replay(
            settings, "--from", "2026-01-09", "--to", "2026-01-13", "--format", "csv"
        )
        listed = _api(app, startdate="2026-01-10", enddate="2026-01-12", pagesize="100", page="1")
    assert first.read_bytes() == second.read_bytes()
    items = [orjson.loads(line) for line in first.read_bytes().splitlines()]
    assert _hours(items) == _expected()
    assert csv_text.splitlines()[0].startswith("startdate,enddate,usagetype")
    assert len(csv_text.splitlines()) == len(items) + 1
    records = listed["listusagerecordsresponse"]["usagerecord"]
    assert listed["listusagerecordsresponse"]["count"] == len(EXPECTED)
    assert _hours(records) == _expected()
    assert records[0]["startdate"] == "2026-01-12'T'00:00:00+01:00"  # newest period first


def test_list_usage_records_filters_by_type_and_checks_the_date_range(settings: Settings) -> None:
    with running_app(settings) as app:
        _write_scenario(app.runtime.store)
        running = _api(app, startdate="2026-01-11", enddate="2026-01-11", type="1")
        reversed_range = _api(app, startdate="2026-01-12", enddate="2026-01-11")
        missing = _api(app, startdate="2026-01-12")
        types = app.http.get("/client/api", params=app.signed({"command": "listUsageTypes"}))
    assert {r["rawusage"] for r in running["listusagerecordsresponse"]["usagerecord"]} == {
        "2.5",
        "18",
        "12",
        "3.75",
    }
    assert reversed_range["status"] == 431
    assert missing["status"] == 431
    listed = orjson.loads(types.content)["listusagetypesresponse"]
    assert listed["count"] == 19
    assert {"usagetypeid": 2, "description": "Allocated Vm Usage"} in listed["usagetype"]


def _call(app: App, keys: dict[str, str], **params: str) -> dict[str, Any]:
    signed = dict(params, apiKey=keys["apikey"], response="json")
    signed["signature"] = sign(signed, keys["secretkey"])
    return orjson.loads(app.http.get("/client/api", params=signed).content)


def test_a_domain_admin_sees_the_usage_of_their_subtree_only(settings: Settings) -> None:
    with running_app(settings) as app:
        child = _call(app, app.admin, command="createDomain", name="child")
        domain_id = child["createdomainresponse"]["domain"]["id"]
        account = _call(
            app,
            app.admin,
            command="createAccount",
            accounttype="2",
            username="boss",
            password="pw-boss-1",
            email="boss@example.org",
            firstname="B",
            lastname="Oss",
            domainid=domain_id,
        )["createaccountresponse"]["account"]
        keys = _call(app, app.admin, command="registerUserKeys", id=account["user"][0]["id"])
        ours = [e for e in scenario() if e.originator_id == scenario()[0].originator_id]
        moved = [replace(e, owner_domain_id=UUID(domain_id)) if e is ours[0] else e for e in ours]
        store = app.runtime.store
        store.recorder.insert_events([store.mapper.to_stored_event(e) for e in moved])
        others = [e for e in scenario() if e.originator_id != ours[0].originator_id]
        store.recorder.insert_events([store.mapper.to_stored_event(e) for e in others])
        boss = keys["registeruserkeysresponse"]["userkeys"]
        january = {"startdate": "2026-01-01", "enddate": "2026-01-31"}
        seen = _call(app, boss, command="listUsageRecords", **january)
        everything = _call(app, app.admin, command="listUsageRecords", **january)
    names = {r["name"] for r in seen["listusagerecordsresponse"]["usagerecord"]}
    assert names == {ours[0].name}
    assert {r["domainid"] for r in seen["listusagerecordsresponse"]["usagerecord"]} == {domain_id}
    assert (
        everything["listusagerecordsresponse"]["count"] > seen["listusagerecordsresponse"]["count"]
    )
