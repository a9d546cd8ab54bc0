"""Usage from events alone: records per period equal hours worked out by hand."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid5
from zoneinfo import ZoneInfo

from eventsourcing.utils import get_topic

from api.cloudstack.usage_records import record_fields
from billing.decode import brief_state, declared_state, plain, plain_state
from billing.replay import Replay
from domain.network_public_ip import PublicIp
from domain.template import Template, TemplateSpec, os_type_id
from domain.usage import (
    ALLOCATED_VM,
    IP_ADDRESS,
    ISO,
    NETWORK_OFFERING,
    READS,
    RUNNING_VM,
    TEMPLATE,
    VOLUME,
    hours_text,
    load_extractors,
)
from domain.usage_periods import Calendar, to_ms
from domain.usage_settings import RANGE, TIMEZONE
from domain.vm import VirtualMachine
from stratus.store.secrets import SecretBox
from stratus.store.transcoder import OrjsonTranscoder
from tests.support.usage_scenario import (
    ACCOUNT,
    BERLIN,
    CUSTOM,
    DB_SMALL,
    DOMAIN,
    GIB,
    NS,
    WEB_A,
    ZONE,
    VmScript,
    berlin,
    expected_hours,
    observed_hours,
    scenario,
    settings_events,
    timed,
)

LATER = berlin("2026-01-13 00:00")


def records(
    events: list[Any], now: datetime = LATER, minutes: int | None = None
) -> list[dict[str, Any]]:
    """Fold the events as a replay does and print every record of the periods ended by `now`."""
    extractors = load_extractors()
    facts = [
        (e.topic, e.fields) if isinstance(e, _Fields) else (get_topic(type(e)), plain(e))
        for e in events
    ]
    settings = [(f["at"], f["name"], f["value"]) for t, f in facts if t.endswith(".ValueSet")]
    if minutes is not None:
        settings.append((0, RANGE, str(minutes)))
    result = Replay(Calendar(settings), to_ms(now))
    for topic, fields in facts:
        if topic in extractors:  # a replay reads only these topics
            extractors[topic](result.ledger, fields)
    result.finish()
    labels = result.ledger.labels
    return [record_fields(p, head, used, labels) for p, head, used in result.records()]


def test_daily_records_equal_the_hand_computed_hours_in_the_usage_zone() -> None:
    assert observed_hours(records(scenario())) == expected_hours()


def test_topics_that_declare_what_they_read_need_nothing_else() -> None:
    """A replay decodes only `originator_id` and `at` (and any declared field) of such a
    topic: its extractors, given no more, make the same records."""
    events = scenario()
    load_extractors()
    assert get_topic(VirtualMachine.Stopped) in READS
    brief = []
    for event in events:
        topic = get_topic(type(event))
        if topic in READS:
            fields = plain(event)
            kept = {"originator_id", "at", *READS[topic]}
            event = _Fields(topic, {k: v for k, v in fields.items() if k in kept})
        brief.append(event)
    assert records(brief) == records(events)


def test_the_brief_decodings_read_the_same_values_as_the_whole_state() -> None:
    transcoder = OrjsonTranscoder(SecretBox(b"k" * 32))
    for event in scenario():
        state = transcoder.encode(
            {
                k: v
                for k, v in vars(event).items()
                if k not in ("originator_id", "originator_version")
            }
        )
        whole = plain_state("id", state)
        assert brief_state("id", state) == {"originator_id": "id", "at": whole["at"]}
        chosen = frozenset(list(whole)[:3]) - {"timestamp"}
        kept = {"originator_id", "at", *chosen}
        assert declared_state("id", state, chosen) == {k: whole[k] for k in kept if k in whole}
    assert brief_state("id", b'{"request_id":"r"}') is None
    assert declared_state("id", b'{"request_id":"r"}', frozenset({"request_id"})) is None


class _Fields:
    """An event already reduced to plain fields (what `records` folds)."""

    def __init__(self, topic: str, fields: dict[str, Any]) -> None:
        self.topic, self.fields = topic, fields


def test_a_record_prints_as_cloudstack_with_custom_values_only_for_custom_offerings() -> None:
    items = records(scenario())
    web = next(i for i in items if i.get("name") == "web" and i["rawusage"] == "2.5")
    assert web["usagetype"] == RUNNING_VM
    assert web["usage"] == "2.5 Hrs"
    assert web["startdate"] == "2026-01-11'T'00:00:00+01:00"
    assert web["enddate"] == "2026-01-11'T'23:59:59+01:00"
    assert (web["cpunumber"], web["cpuspeed"], web["memory"]) == (2, 1000, 2048)
    assert web["offeringid"] == str(CUSTOM) and web["type"] == "KVM"
    assert web["description"].startswith("web running time (ServiceOffering: ")
    db = next(i for i in items if i.get("name") == "db" and i["usagetype"] == ALLOCATED_VM)
    assert "cpunumber" not in db
    assert db["description"].startswith("db allocated (ServiceOffering: ")
    disk = next(i for i in items if i.get("name") == "data" and i["rawusage"] == "6")
    assert disk["usagetype"] == VOLUME and disk["size"] == 20 * 1024**3
    assert disk["description"].startswith(f"Volume Id: {disk['usageid']} usage time")


def test_hourly_periods_charge_only_the_overlap() -> None:
    vm = (
        VmScript("hourly")
        .deploy("2026-01-15 10:20", WEB_A)
        .then(VirtualMachine.Started, "2026-01-15 10:20", WEB_A, host_id=None)
        .then(VirtualMachine.Stopped, "2026-01-15 11:10", WEB_A)
    )
    now = berlin("2026-01-15 12:00")
    items = records(settings_events() + vm.events, now, minutes=60)
    running = [(i["startdate"][13:15], i["rawusage"]) for i in items if i["usagetype"] == 1]
    assert running == [("10", ".666667"), ("11", ".166667")]


def test_a_daily_period_on_a_dst_night_is_as_long_as_the_day() -> None:
    vm = VmScript("dst").deploy("2026-03-28 12:00", DB_SMALL)
    items = records(settings_events() + vm.events, berlin("2026-03-30 00:00"))
    assert [i["rawusage"] for i in items] == ["12", "23"]


def test_a_still_running_vm_is_charged_only_for_periods_that_have_ended() -> None:
    vm = (
        VmScript("busy")
        .deploy("2026-01-15 00:00", DB_SMALL)
        .then(VirtualMachine.Started, "2026-01-15 06:00", DB_SMALL, host_id=None)
    )
    items = records(settings_events() + vm.events, berlin("2026-01-16 12:00"))
    assert {(i["usagetype"], i["rawusage"]) for i in items} == {
        (ALLOCATED_VM, "24"),
        (RUNNING_VM, "18"),
    }


def test_a_recovered_vm_is_allocated_again_from_its_recovery() -> None:
    vm = (
        VmScript("back")
        .deploy("2026-01-15 00:00", DB_SMALL)
        .then(VirtualMachine.Destroyed, "2026-01-15 06:00", DB_SMALL)
        .then(VirtualMachine.Recovered, "2026-01-15 18:00", DB_SMALL)
    )
    items = records(settings_events() + vm.events, berlin("2026-01-16 00:00"))
    assert [(i["usagetype"], i["rawusage"]) for i in items] == [(ALLOCATED_VM, "12")]


def test_a_new_range_applies_from_the_next_period() -> None:
    vm = VmScript("range").deploy("2026-01-15 00:00", DB_SMALL)
    hourly = [(to_ms(berlin("2026-01-15 12:00")), RANGE, "60")]
    calendar = Calendar([*hourly, (0, TIMEZONE, "Europe/Berlin")])
    first, last = berlin("2026-01-15 00:00"), berlin("2026-01-16 03:00")
    periods = calendar.periods(to_ms(first), to_ms(last))
    lengths = [(end - start) // 3_600_000 for start, end, _ in periods]
    assert lengths == [24, 1, 1, 1]
    assert records(settings_events() + vm.events, berlin("2026-01-15 23:00")) == []


def test_hours_print_as_javas_decimal_format() -> None:
    assert hours_text(Decimal(0)) == "0"
    assert hours_text(Decimal(24)) == "24"
    assert hours_text(Decimal("0.5")) == ".5"
    assert hours_text(Decimal(1) / 3) == ".333333"
    assert hours_text(Decimal("2.0000005")) == "2"


def test_periods_are_aligned_to_midnight_in_the_zone() -> None:
    tokyo = Calendar([(0, TIMEZONE, "Asia/Tokyo")])
    start = tokyo.day_start(to_ms(datetime(2026, 1, 1, 3, 0, tzinfo=ZoneInfo("Asia/Tokyo"))))
    assert start == to_ms(datetime(2025, 12, 31, 15, 0, tzinfo=UTC))
    assert tokyo.period_from(start)[1] - start == 24 * 3_600_000
    assert BERLIN.key == "Europe/Berlin"


def test_an_address_and_a_nics_offering_are_charged_while_held_and_while_running() -> None:
    network, offering = uuid5(NS, "net"), uuid5(NS, "net-offering")
    address = PublicIp(ZONE, "203.0.113.7", uuid5(NS, "range"))
    address.associate(ACCOUNT, DOMAIN, network, source_nat=True)
    address.disassociate(with_network=True)
    nic = {
        "network_id": network,
        "ip_address": "10.1.1.5",
        "mac_address": "02:00:00:00:00:01",
        "gateway": "10.1.1.1",
        "netmask": "255.255.255.0",
        "is_default": True,
        "broadcast_uri": "vlan://100",
        "network_offering_id": offering,
    }
    vm = VmScript("net").deploy("2026-01-15 00:00", DB_SMALL)
    vm.events.append(
        VirtualMachine.NicPlugged(
            originator_id=vm.vm_id,
            originator_version=2,
            timestamp=berlin("2026-01-15 00:00"),
            nic=nic,
        )
    )
    vm.then(VirtualMachine.Started, "2026-01-15 08:00", DB_SMALL, host_id=None)
    vm.then(VirtualMachine.Stopped, "2026-01-15 20:00", DB_SMALL)
    held = timed(
        address.collect_events(), "2026-01-15 05:00", "2026-01-15 06:00", "2026-01-15 18:00"
    )
    items = records(settings_events() + held + vm.events, berlin("2026-01-16 00:00"))
    ip = next(i for i in items if i["usagetype"] == IP_ADDRESS)
    nics = next(i for i in items if i["usagetype"] == NETWORK_OFFERING)
    assert (ip["rawusage"], ip["issourcenat"], ip["issystem"]) == ("12", True, False)
    assert ip["description"] == "IPAddress: 203.0.113.7"
    assert (nics["rawusage"], nics["offeringid"], nics["isdefault"]) == ("12", str(offering), True)


def test_the_fast_decoding_of_stored_states_equals_the_decoded_events() -> None:
    transcoder = OrjsonTranscoder(SecretBox(b"k" * 32))
    for event in scenario():
        fields = plain(event)
        state = {
            k: v for k, v in vars(event).items() if k not in ("originator_id", "originator_version")
        }
        stored = plain_state(fields["originator_id"], transcoder.encode(state))
        del fields["originator_version"]
        assert stored == fields, type(event).__qualname__


def test_an_iso_copy_is_charged_as_an_iso_and_a_template_copy_as_a_template() -> None:
    owner = {"account_id": ACCOUNT, "domain_id": DOMAIN, "domain_path": "/"}
    events = []
    for name, url, hypervisor, image_format in (
        ("disc", "http://images.example.org/disc.iso", "None", "ISO"),
        ("disk", "http://images.example.org/disk.qcow2", "KVM", "QCOW2"),
    ):
        spec = TemplateSpec(name, name, url, hypervisor, image_format, os_type_id("Other (64-bit)"))
        image = Template(asdict(spec), owner, id=uuid5(NS, name))
        image.request_download(ZONE, "dl", store_kind="KVM")
        image.download_completed(zone_id=ZONE, request_id="dl", size=GIB, physical=GIB)
        events += timed(
            image.collect_events(), "2026-01-10 10:00", "2026-01-10 10:00", "2026-01-10 12:00"
        )
    items = records(settings_events() + events, berlin("2026-01-11 00:00"))
    kinds = {i["usageid"]: i["usagetype"] for i in items if i["usagetype"] in (ISO, TEMPLATE)}
    assert kinds == {str(uuid5(NS, "disc")): ISO, str(uuid5(NS, "disk")): TEMPLATE}


def test_a_vm_restored_to_another_template_is_charged_with_it_from_the_restore() -> None:
    restored = {**DB_SMALL, "template_id": uuid5(NS, "other-template")}
    vm = (
        VmScript("again")
        .deploy("2026-01-15 00:00", DB_SMALL)
        .then(VirtualMachine.Restored, "2026-01-15 06:00", restored)
    )
    items = records(settings_events() + vm.events, berlin("2026-01-16 00:00"))
    charged = sorted((i["templateid"], i["rawusage"]) for i in items)
    assert charged == sorted(
        [(str(DB_SMALL["template_id"]), "6"), (str(restored["template_id"]), "18")]
    )


def test_an_assigned_vm_is_charged_to_its_old_account_until_then_and_to_the_new_one_after() -> None:
    new_account, new_domain = uuid5(NS, "new-account"), uuid5(NS, "new-domain")
    vm = VmScript("moved").deploy("2026-01-15 00:00", DB_SMALL)
    vm.events.append(
        VirtualMachine.OwnerChanged(
            **vm._base("2026-01-15 10:00"),
            account_id=new_account,
            domain_id=new_domain,
            previous_account_id=ACCOUNT,
            compute=DB_SMALL,
        )
    )
    items = records(settings_events() + vm.events, berlin("2026-01-16 00:00"))
    charged = sorted((i["accountid"], i["domainid"], i["rawusage"]) for i in items)
    assert charged == sorted(
        [(str(ACCOUNT), str(DOMAIN), "10"), (str(new_account), str(new_domain), "14")]
    )
