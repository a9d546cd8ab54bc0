"""The billing run: periods close as the (test-controlled) clock passes, records are stored
once, late events amend the periods they fall in, failures and stalls raise an alert."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

import orjson

from api.signing import sign
from billing.billing import BillingRun, store_alert
from domain.volume import Volume
from entrypoint import usage_cli as cli
from entrypoint.cli import _parser
from stratus.settings import Settings
from tests.integration.test_usage_replay import write_scenario
from tests.support.app import App, running_app
from tests.support.usage_scenario import (
    ACCESS_EXPECTED,
    ACCOUNT,
    CAROL,
    DOMAIN,
    GROUP,
    NS,
    RULE_EXPECTED,
    ZONE,
    access_events,
    berlin,
    expected_hours,
    observed_hours,
    rule_events,
    scenario,
    settings_events,
    timed,
)

JANUARY = {"startdate": "2026-01-01", "enddate": "2026-01-31"}


@dataclass
class Clock:
    at: datetime

    def __call__(self) -> datetime:
        return self.at


def billing(app: App, clock: Clock, **options: Any) -> BillingRun:
    run = BillingRun(app.runtime.db, clock=clock, alert=store_alert(app.runtime.store), **options)
    app.services.billing = run
    return run


def call(app: App, keys: dict[str, str] | None = None, **params: str) -> dict[str, Any]:
    keys = keys or app.admin
    signed = dict(params, apiKey=keys["apikey"], response="json")
    signed["signature"] = sign(signed, keys["secretkey"])
    answer = app.http.get("/client/api", params=signed)
    return dict(status=answer.status_code, **orjson.loads(answer.content))


def listed(app: App, **params: str) -> list[dict[str, Any]]:
    answer = call(app, command="listUsageRecords", pagesize="500", page="1", **params)
    return answer["listusagerecordsresponse"].get("usagerecord", [])


def verified(settings: Settings) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.run(_parser().parse_args(["usage", "verify"]), settings, out)
    return code, out.getvalue()


def usage_alerts(app: App) -> list[dict[str, Any]]:
    app.runtime.runner.catch_up()
    answer = call(app, command="listAlerts", type="20")
    return answer["listalertsresponse"].get("alert", [])


def test_periods_close_as_the_clock_passes_with_the_hand_computed_hours(
    settings: Settings,
) -> None:
    with running_app(settings) as app:
        write_scenario(app)
        clock = Clock(berlin("2026-01-11 12:00"))
        run = billing(app, clock)
        run.run_once()
        early = listed(app, **JANUARY)
        clock.at = berlin("2026-01-13 00:30")
        run.run_once()
        run.run_once()  # nothing new: nothing written twice
        items = listed(app, **JANUARY)
        code, report = verified(settings)
    assert {i["startdate"][:10] for i in early} == {"2026-01-10"}
    assert observed_hours(items) == expected_hours()
    assert items[0]["startdate"] == "2026-01-12'T'00:00:00+01:00"  # newest period first
    assert code == 0, report


def test_a_killed_run_resumes_after_its_last_commit_without_duplicates(
    settings: Settings,
) -> None:
    with running_app(settings) as app:
        write_scenario(app)
        clock = Clock(berlin("2026-01-13 00:30"))
        try:
            billing(app, clock, page=4).run_once(fail_after=3)
        except RuntimeError:
            pass
        else:
            raise AssertionError("the run was not interrupted")
        billing(app, clock, page=4).run_once()  # a new process picks up
        items = listed(app, **JANUARY)
        code, report = verified(settings)
    assert observed_hours(items) == expected_hours()
    assert code == 0, report


def test_a_late_event_amends_the_closed_period_it_falls_in(settings: Settings) -> None:
    late_id = uuid5(NS, "late")
    disk = Volume(late_id, "late", "DATADISK", ACCOUNT, DOMAIN, ZONE, 5, None, None, None)
    disk.delete()
    late = timed(disk.collect_events(), "2026-01-11 10:00", "2026-01-11 14:00")
    with running_app(settings) as app:
        write_scenario(app)
        run = billing(app, Clock(berlin("2026-01-13 00:30")))
        run.run_once()
        write_scenario(app, late)
        result = run.run_once()
        items = listed(app, **JANUARY)
        code, report = verified(settings)
    hours = observed_hours(items)
    assert result.reopened == 1
    assert hours.pop(("2026-01-11", 6, "late", 5)) == "4"
    assert hours == expected_hours()
    assert code == 0, report


def test_a_failing_run_raises_one_usage_alert_and_recovers(settings: Settings) -> None:
    with running_app(settings) as app:
        write_scenario(app)
        run = billing(app, Clock(berlin("2026-01-13 00:30")))
        working = dict(run.extractors)

        def broken(ledger: Any, fields: Any) -> None:
            raise ValueError("cannot read this fact")

        run.extractors.update({topic: broken for topic in working})
        run.tick()
        run.tick()
        failing = usage_alerts(app)
        before = listed(app, **JANUARY)
        run.extractors.update(working)
        run.tick()
        after = listed(app, **JANUARY)
    assert len(failing) == 1
    assert failing[0]["name"] == "ALERT.USAGE.RESULT"
    assert "cannot read this fact" in failing[0]["description"]
    assert before == [] and observed_hours(after) == expected_hours()
    assert run.failure is None


def test_a_stalled_run_raises_an_alert_once(settings: Settings) -> None:
    with running_app(settings) as app:
        clock = Clock(berlin("2026-01-13 00:30"))
        run = billing(app, clock, stall_after=timedelta(hours=1))
        run.tick()
        clock.at += timedelta(minutes=30)
        quiet = run.check_stall()
        clock.at += timedelta(hours=2)  # no run succeeded since
        raised, again = run.check_stall(), run.check_stall()
        alerts = usage_alerts(app)
    assert (quiet, raised, again) == (False, True, False)
    assert len(alerts) == 1 and "has not completed a run" in alerts[0]["description"]


def test_generate_usage_records_is_bounded_by_its_end_date_and_idempotent(
    settings: Settings,
) -> None:
    with running_app(settings) as app:
        write_scenario(app)
        billing(app, Clock(berlin("2026-01-20 00:00")))
        day = {"startdate": "2026-01-10", "enddate": "2026-01-11"}
        first = call(app, command="generateUsageRecords", **day)
        once = listed(app, **JANUARY)
        call(app, command="generateUsageRecords", **day)
        twice = listed(app, **JANUARY)
        call(app, command="generateUsageRecords", startdate="2026-01-12", enddate="2026-01-12")
        more = listed(app, startdate="2026-01-12", enddate="2026-01-12")
        removed = call(app, command="removeRawUsageRecords", interval="3")
        wrong = call(app, command="removeRawUsageRecords", interval="0")
        code, report = verified(settings)
    assert first["generateusagerecordsresponse"] == {"success": True}
    assert {i["startdate"][:10] for i in once} == {"2026-01-10", "2026-01-11"}
    assert once == twice
    assert {i["startdate"][:10] for i in more} == {"2026-01-12"}
    assert removed["status"] == 200 and wrong["status"] == 431
    assert code == 0, report


def test_a_domain_admin_sees_the_usage_of_their_subtree_only(settings: Settings) -> None:
    with running_app(settings) as app:
        child = call(app, command="createDomain", name="child")
        domain_id = child["createdomainresponse"]["domain"]["id"]
        account = call(
            app,
            command="createAccount",
            accounttype="2",
            username="boss",
            password="pw-boss-1",
            email="boss@example.org",
            firstname="B",
            lastname="Oss",
            domainid=domain_id,
        )["createaccountresponse"]["account"]
        keys = call(app, command="registerUserKeys", id=account["user"][0]["id"])
        boss = keys["registeruserkeysresponse"]["userkeys"]
        events = scenario()
        web = next(e for e in events if getattr(e, "name", None) == "web")
        moved = [replace(e, owner_domain_id=UUID(domain_id)) if e is web else e for e in events]
        write_scenario(app, moved)
        billing(app, Clock(berlin("2026-01-13 00:30"))).run_once()
        seen = call(app, boss, command="listUsageRecords", **JANUARY)
        everything = call(app, command="listUsageRecords", **JANUARY)
        refused = call(app, boss, command="generateUsageRecords", **JANUARY)
    records = seen["listusagerecordsresponse"]["usagerecord"]
    assert {r["name"] for r in records} == {"web"}
    assert {r["domainid"] for r in records} == {domain_id}
    assert everything["listusagerecordsresponse"]["count"] > len(records)
    assert refused["status"] == 432


def test_the_running_loop_closes_periods_on_its_own(settings: Settings) -> None:
    with running_app(settings) as app:
        write_scenario(app)
        run = billing(app, Clock(berlin("2026-01-13 00:30")), interval=0.05)
        run.start()
        try:
            deadline = time.monotonic() + 10
            while not (items := listed(app, **JANUARY)) and time.monotonic() < deadline:
                time.sleep(0.05)
            while len(listed(app, **JANUARY)) < len(expected_hours()):
                assert time.monotonic() < deadline, "the loop did not close the periods"
                time.sleep(0.05)
            items = listed(app, **JANUARY)
        finally:
            run.stop()
    assert observed_hours(items) == expected_hours()


def test_load_balancer_and_port_forwarding_rules_are_billed_from_creation_to_removal(
    settings: Settings,
) -> None:
    with running_app(settings) as app:
        write_scenario(app, settings_events() + rule_events())
        billing(app, Clock(berlin("2026-01-13 00:30"))).run_once()
        items = listed(app, **JANUARY)
        only_lb = listed(app, type="11", **JANUARY)
        code, report = verified(settings)
    found = {(i["startdate"][:10], i["usagetype"], i["usageid"]): i["rawusage"] for i in items}
    assert found == RULE_EXPECTED
    assert {i["usagetype"] for i in only_lb} == {11}
    descriptions = {i["usagetype"]: i["description"] for i in items}
    assert descriptions[11].startswith("Load Balancing Policy: ")
    assert descriptions[12].startswith("Port Forwarding Rule: ")
    assert all(i["usage"] == f"{i['rawusage']} Hrs" for i in items)
    assert code == 0, report


def test_security_group_memberships_and_vpn_users_are_billed_by_the_hour(
    settings: Settings,
) -> None:
    with running_app(settings) as app:
        write_scenario(app, settings_events() + access_events())
        billing(app, Clock(berlin("2026-01-13 00:30"))).run_once()
        items = listed(app, **JANUARY)
        code, report = verified(settings)
    found = {}
    for item in items:
        who = item.get("virtualmachineid") or item["name"]
        found[(item["startdate"][:10], item["usagetype"], who)] = item["rawusage"]
    assert found == ACCESS_EXPECTED
    groups = [i for i in items if i["usagetype"] == 10]
    assert {i["usageid"] for i in groups} == {str(GROUP)}
    assert groups[0]["description"].startswith(f"Security Group: {GROUP} for Vm : ")
    carol = next(i for i in items if i["usagetype"] == 14 and i["name"] == "carol")
    assert carol["usageid"] == str(CAROL) and carol["zoneid"] is None
    assert carol["description"] == f"VPN User: carol, Id: {CAROL} usage time"
    assert not any("pw" in orjson.dumps(i).decode() for i in items)
    assert code == 0, report
