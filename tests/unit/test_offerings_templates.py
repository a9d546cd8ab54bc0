"""Offering and Template aggregates: their invariants, and the template's per-zone downloads."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic

from commands.templates import template_routes
from domain.errors import InvalidParameter, InvalidState
from domain.offering import (
    PARTIAL_CUSTOM,
    ComputeTerms,
    DiskOffering,
    DiskTerms,
    ServiceOffering,
)
from domain.template import (
    OS_TYPES,
    CopyState,
    ExtractRequest,
    FetchLimits,
    Permissions,
    Template,
    TemplateSpec,
    check_format,
    os_type_id,
)
from stratus.messages import decode_request

FIXED = ComputeTerms("small", "Small", 1, 500, 512)


def offering(terms: ComputeTerms = FIXED, **changes: Any) -> ServiceOffering:
    return ServiceOffering(asdict(replace(terms, **changes)), None, "", id=uuid4())


def test_an_offering_without_cpu_speed_and_memory_is_custom() -> None:
    custom = offering(ComputeTerms("dyn", "Dynamic"))
    assert custom.custom and (custom.cpu_number, custom.cpu_speed, custom.memory) == (None,) * 3
    assert not offering().custom


@pytest.mark.parametrize(
    "given",
    [
        {"cpu_number": 2},
        {"cpu_number": 2, "cpu_speed": 1000},
        {"memory": 1024},
        {"cpu_speed": 1000, "memory": 1024},
    ],
)
def test_a_partly_custom_offering_is_refused_with_cloudstacks_message(given: dict) -> None:
    with pytest.raises(InvalidParameter) as refused:
        offering(ComputeTerms("half", "Half", **given))
    assert refused.value.message == PARTIAL_CUSTOM


@pytest.mark.parametrize(
    ("field", "value"), [("cpu_number", 0), ("cpu_speed", 0), ("memory", 31), ("memory", 2**31)]
)
def test_compute_values_out_of_range_are_refused(field: str, value: int) -> None:
    with pytest.raises(InvalidParameter):
        offering(**{field: value})


def test_system_offerings_need_a_known_vm_type_and_fixed_sizes() -> None:
    assert offering(system_vm_type="domainrouter").is_system
    with pytest.raises(InvalidParameter):
        offering(system_vm_type="webserver")
    with pytest.raises(InvalidParameter):
        offering(ComputeTerms("sys", "sys", system_vm_type="consoleproxy"))


def test_storage_type_is_local_or_shared() -> None:
    with pytest.raises(InvalidParameter):
        offering(storage_type="nvme")


def test_default_system_offerings_cannot_be_deleted_and_deleted_ones_cannot_change() -> None:
    with pytest.raises(InvalidParameter):
        offering(system_vm_type="domainrouter", default_use=True).delete()
    gone = offering()
    gone.delete()
    with pytest.raises(InvalidState):
        gone.update({"name": "again"})


def test_only_name_text_and_sort_key_of_an_offering_change() -> None:
    small = offering()
    small.update({"name": "tiny", "sort_key": 3})
    assert (small.name, small.sort_key) == ("tiny", 3)
    with pytest.raises(InvalidParameter):
        small.update({"memory": 4096})


def test_a_disk_offering_has_a_size_or_is_custom_but_not_both() -> None:
    def disk(**values: Any) -> DiskOffering:
        return DiskOffering(asdict(DiskTerms("d", "d", **values)), None, "", id=uuid4())

    assert disk(disk_size=5).disk_size == 5
    assert disk(customized=True).customized
    for wrong in ({}, {"disk_size": 0}, {"disk_size": 5, "customized": True}):
        with pytest.raises(InvalidParameter):
            disk(**wrong)


# ---- templates -------------------------------------------------------------------------

UBUNTU = os_type_id("Ubuntu 14.04 (64-bit)")
OWNER = {"account_id": uuid4(), "domain_id": uuid4(), "domain_path": "/"}


def spec(**changes: Any) -> TemplateSpec:
    base = TemplateSpec("t", "t", "http://images.example.org/t.qcow2", "KVM", "QCOW2", UBUNTU)
    return replace(base, **changes)


def template(**changes: Any) -> Template:
    return Template(asdict(spec(**changes)), OWNER, id=uuid4())


@pytest.mark.parametrize(
    ("hypervisor", "image_format"),
    [
        ("KVM", "QCOW2"),
        ("kvm", "raw"),
        ("XenServer", "VHD"),
        ("VMware", "OVA"),
        ("Hyperv", "VHDX"),
        ("Hyperv", "VHD"),
        ("Simulator", "VHD"),
    ],
)
def test_formats_each_hypervisor_boots_are_accepted(hypervisor: str, image_format: str) -> None:
    kind, shape = check_format(hypervisor, image_format)
    assert shape == image_format.upper() and kind.lower() == hypervisor.lower()


@pytest.mark.parametrize(
    ("hypervisor", "image_format"),
    [("KVM", "VHD"), ("XenServer", "QCOW2"), ("VMware", "VHD"), ("Hyperv", "OVA"), ("KVM", "ISO")],
)
def test_a_format_the_hypervisor_cannot_boot_is_refused(hypervisor: str, image_format: str) -> None:
    with pytest.raises(InvalidParameter):
        check_format(hypervisor, image_format)


def test_the_url_must_be_http_and_name_an_image_of_the_format() -> None:
    assert template(url="http://x.example.org/t.qcow2.bz2?token=1").format == "QCOW2"
    for url in ("ftp://x.example.org/t.qcow2", "http://x.example.org/t.vhd", "t.qcow2"):
        with pytest.raises(InvalidParameter):
            template(url=url)


def test_an_unknown_os_type_is_refused() -> None:
    with pytest.raises(InvalidParameter):
        template(os_type_id=uuid4())


def test_only_the_result_of_the_download_in_flight_counts() -> None:
    image = template()
    zone, other = uuid4(), uuid4()
    image.request_download(zone, "r1")
    image.request_download(other, "r2")
    assert image.zone_of("r1") == zone and image.zone_of("nope") is None
    image.download_completed(zone_id=zone, request_id="r1", size=10, physical=4)
    assert image.ready_in(zone) and image.zone_of("r1") is None  # a repeat changes nothing
    image.download_failed(zone_id=other, request_id="r2", reason="404")
    assert image.zones[str(other)] == {
        "state": CopyState.FAILED,
        "request_id": "r2",
        "reason": "404",
        "kind": "KVM",
    }
    with pytest.raises(InvalidState):
        image.request_download(zone, "r3")  # already there


def test_bare_metal_images_are_ready_without_a_download() -> None:
    image = template(hypervisor="BareMetal", format="BAREMETAL")
    zone = uuid4()
    image.request_download(zone, "r1")
    names = [type(e).__name__ for e in image.collect_events()]
    assert names == ["Registered", "DownloadCompleted"] and image.ready_in(zone)


def test_deleting_the_last_zone_copy_deletes_the_template() -> None:
    image = template()
    zones = [uuid4(), uuid4()]
    for number, zone in enumerate(zones):
        image.request_download(zone, f"r{number}")
    image.delete(zones[0])
    assert not image.removed and list(image.zones) == [str(zones[1])]
    image.delete(zones[1])
    assert image.removed


def test_os_type_ids_are_stable_and_unique() -> None:
    assert os_type_id("Ubuntu 14.04 (64-bit)") == UBUNTU
    assert len({t.id for t in OS_TYPES}) == len(OS_TYPES)


def test_a_requested_download_becomes_a_work_request_to_the_templates_kind() -> None:
    image = template()
    zone = uuid4()
    image.request_download(zone, "r1")
    requested = list(image.collect_events())[-1]
    route = template_routes(prefix="stratus")[get_topic(type(requested))]
    outgoing = route(requested)
    assert outgoing is not None and outgoing.subject == "stratus.work.kvm.download_template"
    request = decode_request(outgoing.payload)
    assert (request.request_id, request.target_id) == ("r1", str(image.id))
    assert request.params["zone_id"] == str(zone) and request.sealed_credentials is None


def test_a_download_request_carries_the_fetch_limits_in_force_when_it_was_asked() -> None:
    image = template()
    image.request_download(uuid4(), "r1", FetchLimits("127.0.0.1/32", 2))
    requested = list(image.collect_events())[-1]
    outgoing = template_routes(prefix="stratus")[get_topic(type(requested))](requested)
    assert outgoing is not None
    params = decode_request(outgoing.payload).params
    assert (params["allowed_internal_sites"], params["max_size_gb"]) == ("127.0.0.1/32", 2)


def test_a_download_asked_before_limits_were_recorded_reads_with_the_strict_defaults() -> None:
    requested = Template.DownloadRequested
    state = {"request_id": "r"}
    requested.upcast_v1_v2(state)
    requested.upcast_v2_v3(state)
    assert requested.class_version == 3
    assert (state["allowed_internal_sites"], state["max_size_gb"]) == ("", 50)
    assert (state["store"], state["staging"], state["store_secrets"]) == ({}, {}, {})


def test_a_download_given_up_on_fails_and_its_late_answer_still_counts() -> None:
    copy, zone = template(), uuid4()
    copy.request_download(zone, "d1")
    assert copy.request_in(zone) == "d1"
    copy.abandon_download(zone, "d1", "no hypervisor adapter answered")
    assert copy.zones[str(zone)]["state"] == "Failed" and copy.request_in(zone) is None
    assert copy.zone_of("d1") == zone  # the adapter may still answer
    copy.download_completed(zone_id=zone, request_id="d1", size=1, physical=1)
    assert copy.ready_in(zone) and copy.zone_of("d1") is None


# ---- ISOs and sharing ------------------------------------------------------------------


def iso(**changes: Any) -> Template:
    base = {"url": "http://images.example.org/tools.iso", "hypervisor": "None", "format": "ISO"}
    return template(**(base | changes))


def test_an_iso_names_no_hypervisor_and_is_fetched_by_the_kind_keeping_the_zone_images() -> None:
    disc = iso()
    assert disc.is_iso and disc.hypervisor == "None" and disc.bootable
    for wrong in ({"hypervisor": "KVM"}, {"url": "http://images.example.org/tools.qcow2"}):
        with pytest.raises(InvalidParameter):
            iso(**wrong)
    zone = uuid4()
    with pytest.raises(InvalidParameter):
        disc.request_download(zone, "r0")  # no image store named for the zone
    disc.request_download(zone, "r1", store_kind="Simulator")
    event = disc.collect_events()[-1]
    assert isinstance(event, Template.DownloadRequested) and event.hypervisor == "Simulator"
    assert disc.kind_in(zone) == "Simulator"


def test_a_copy_needs_the_image_ready_in_the_source_zone_and_another_zone() -> None:
    image = template()
    source, destination = uuid4(), uuid4()
    image.request_download(source, "r1")
    with pytest.raises(InvalidParameter):
        image.copy_to(source, destination, ("r2", FetchLimits()))  # not ready yet
    image.download_completed(zone_id=source, request_id="r1", size=1, physical=1)
    with pytest.raises(InvalidParameter):
        image.copy_to(source, source, ("r2", FetchLimits()))
    image.copy_to(source, destination, ("r2", FetchLimits()))
    assert image.request_in(destination) == "r2"


def test_sharing_adds_removes_and_resets_accounts_and_sets_flags() -> None:
    image = template()
    owner = str(OWNER["account_id"])
    image.set_permissions(Permissions(op="add", accounts=("a", "b", owner)))
    assert image.launchers == {"a", "b"}  # its owner needs no permission
    image.set_permissions(Permissions(op="remove", accounts=("a",), is_public=True))
    assert image.launchers == {"b"} and image.is_public and not image.is_featured
    image.set_permissions(Permissions(op="reset"))
    assert image.launchers == set() and image.is_public  # flags not given are kept
    for wrong in (Permissions(accounts=("a",)), Permissions(op="grant", accounts=("a",))):
        with pytest.raises(InvalidParameter):
            image.set_permissions(wrong)
    with pytest.raises(InvalidParameter):
        template(template_type="SYSTEM").set_permissions(Permissions(is_public=True))


def _offer(zone: Any, mode: str = "HTTP_DOWNLOAD") -> ExtractRequest:
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    return ExtractRequest(uuid4(), zone, uuid4(), expires, mode)


def test_an_image_is_offered_for_download_only_from_a_zone_where_it_is_ready() -> None:
    image = template()
    zone, elsewhere = uuid4(), uuid4()
    image.request_download(zone, "r1")
    with pytest.raises(InvalidParameter):
        image.extract(_offer(zone))  # still downloading
    image.download_completed(zone_id=zone, request_id="r1", size=10, physical=4)
    with pytest.raises(InvalidParameter):
        image.extract(_offer(elsewhere))
    with pytest.raises(InvalidParameter):
        image.extract(_offer(zone, "FTP_UPLOAD"))
    offer = _offer(zone)
    image.extract(offer)
    extracted = image.collect_events()[-1]
    assert type(extracted).__name__ == "Extracted"
    assert (extracted.extract_id, extracted.expires) == (offer.extract_id, offer.expires)


def test_system_and_deleted_templates_are_not_extracted() -> None:
    zone = uuid4()
    system = template(template_type="SYSTEM")
    system.request_download(zone, "r1")
    system.download_completed(zone_id=zone, request_id="r1", size=10, physical=4)
    with pytest.raises(InvalidParameter):
        system.extract(_offer(zone))
    gone = template()
    gone.request_download(zone, "r1")
    gone.download_completed(zone_id=zone, request_id="r1", size=10, physical=4)
    gone.delete(None)
    with pytest.raises(InvalidState):
        gone.extract(_offer(zone))
