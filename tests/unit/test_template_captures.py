"""A template made from a VM's root volume (createTemplate): what its spec may leave out, who
may ask for its image, and the work request that goes to the VM's host."""

from __future__ import annotations

import os
from dataclasses import asdict
from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic

from commands.template_captures import capture_routes
from domain.errors import InvalidParameter
from domain.template import Capture, CopyState, Template, TemplateSpec, os_type_id
from domain.values import Secret
from stratus.messages import decode_request
from stratus.store.secrets import SecretBox

UBUNTU = os_type_id("Ubuntu 14.04 (64-bit)")
OWNER = {"account_id": uuid4(), "domain_id": uuid4(), "domain_path": "/"}


def _spec(**changes: object) -> dict:
    spec = TemplateSpec(
        name="golden", display_text="golden", url="", hypervisor="KVM", format="QCOW2",
        os_type_id=UBUNTU, source_volume_id=str(uuid4()),
    )  # fmt: skip
    return asdict(spec) | changes


def _capture(zone_id: object = None) -> Capture:
    return Capture(
        zone_id=zone_id or uuid4(), request_id="r1", job_id=uuid4(), host_id=uuid4(),
        url="qemu+ssh://root@kvm1/system", username="root", password=Secret("hunter2"),
        hypervisor="KVM", instance_name="i-2-7-VM", volume_id=uuid4(),
    )  # fmt: skip


def test_a_template_made_from_a_volume_needs_no_url_but_a_registered_one_does() -> None:
    Template(_spec(), OWNER, id=uuid4())
    with pytest.raises(InvalidParameter):
        Template(_spec(source_volume_id=""), OWNER, id=uuid4())


def test_only_a_template_made_from_a_volume_asks_a_host_for_its_image() -> None:
    registered = Template(
        _spec(source_volume_id="", url="http://images.example.org/a.qcow2"), OWNER, id=uuid4()
    )
    with pytest.raises(InvalidParameter):
        registered.request_capture(_capture())


def test_a_capture_is_heard_as_the_zones_download_in_flight() -> None:
    template = Template(_spec(), OWNER, id=uuid4())
    zone = uuid4()
    template.request_capture(_capture(zone))
    assert template.zones[str(zone)]["state"] == CopyState.DOWNLOADING
    assert template.zone_of("r1") == zone and template.zone_of("other") is None
    assert (template.request_id, template.kind_in(zone)) == ("r1", "KVM")


def test_the_capture_goes_to_the_vms_host_with_its_login_sealed() -> None:
    template = Template(_spec(), OWNER, id=uuid4())
    template.request_capture(_capture())
    requested = list(template.collect_events())[-1]
    box = SecretBox(os.urandom(32))
    outgoing = capture_routes(box, "stratus")[get_topic(type(requested))](requested)
    assert outgoing.subject == "stratus.work.kvm.create_template"
    assert b"hunter2" not in outgoing.payload
    request = decode_request(outgoing.payload)
    assert request.params["name"] == "i-2-7-VM" and request.params["format"] == "QCOW2"
    assert request.target_id == str(template.id) and request.sealed_credentials
