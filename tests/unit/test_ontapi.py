"""The ONTAPI client: the documents it posts, the answers it reads, and a round trip with the
filer stand-in (credentials refused, errors with their errno, the password in no error)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from domain.values import Secret
from stratus.ontapi import (
    GIB,
    Filer,
    FilerError,
    FilerRefused,
    SnapshotSchedule,
    endpoint,
    parse_results,
    request_document,
)
from tests.support.ontapi_filer import NODE_NAME, FilerServer

PASSWORD = "filer-Pass-1"


@pytest.fixture
def stand_in() -> Iterator[FilerServer]:
    with FilerServer(password=PASSWORD) as server:
        yield server


def _filer(server: FilerServer, password: str = PASSWORD) -> Filer:
    return Filer(server.address, "root", Secret(password), timeout=5)


def test_a_request_is_one_api_element_with_its_inputs_in_order_under_netapp() -> None:
    document = request_document("volume-create", [("volume", "v<1>"), ("size", "10g")])
    root = ET.fromstring(document)
    ns = "{http://www.netapp.com/filer/admin}"
    assert (root.tag, root.get("version")) == (f"{ns}netapp", "1.3")
    [api] = list(root)
    assert api.tag == f"{ns}volume-create"
    assert [(c.tag.removeprefix(ns), c.text) for c in api] == [("volume", "v<1>"), ("size", "10g")]


def test_a_passed_answer_gives_its_outputs_and_a_failed_one_its_errno_and_reason() -> None:
    passed = parse_results(
        "iscsi-node-get-name",
        b"<netapp xmlns='http://www.netapp.com/filer/admin' version='1.1'>"
        b"<results status='passed'><node-name>iqn.x</node-name></results></netapp>",
    )
    assert passed.findtext("node-name") == "iqn.x"
    with pytest.raises(FilerRefused) as failed:
        parse_results(
            "volume-destroy",
            b"<netapp><results status='failed' errno='13040' reason='No volume v'/></netapp>",
        )
    assert (failed.value.errno, failed.value.reason) == (13040, "No volume v")
    with pytest.raises(FilerError):
        parse_results("volume-destroy", b"not xml")


def test_a_snapshot_policy_in_4_3_form_becomes_the_schedule_inputs_and_back() -> None:
    schedule = SnapshotSchedule.parse("0 2 6@8,12,16 30@")
    assert schedule.inputs() == [
        ("weeks", "0"), ("days", "2"), ("hours", "6"), ("minutes", "30"),
        ("which-hours", "8,12,16"),
    ]  # fmt: skip
    assert schedule.text() == "0 2 6@8,12,16 30@"
    assert SnapshotSchedule.parse("1").inputs() == [("weeks", "1")]


def test_the_filer_address_may_be_a_host_a_host_and_port_or_a_url() -> None:
    assert endpoint("10.1.1.5") == "http://10.1.1.5/servlets/netapp.servlets.admin.XMLrequest_filer"
    assert endpoint("filer:8080").startswith("http://filer:8080/servlets/")
    assert endpoint("https://filer").startswith("https://filer/servlets/")
    with pytest.raises(FilerError):
        endpoint("ftp://filer")


def test_volumes_and_luns_round_trip_with_the_filer(stand_in: FilerServer) -> None:
    filer = _filer(stand_in)
    filer.create_volume("vol1", "aggr0", "2g")
    filer.set_snapshot_reserve("vol1", 20)
    filer.set_snapshot_schedule("vol1", SnapshotSchedule.parse("0 2 6@8,12"))
    assert filer.snapshot_schedule("vol1").text() == "0 2 6@8,12 0@"
    assert filer.volume_space("vol1").available == 2 * GIB
    filer.create_lun("/vol/vol1/lun-000001", GIB)
    filer.create_igroup("lun-000001")
    filer.map_lun("/vol/vol1/lun-000001", "lun-000001", 1)
    assert filer.target_name() == NODE_NAME
    assert filer.volume_space("vol1").available == GIB
    with pytest.raises(FilerRefused) as exists:
        filer.create_igroup("lun-000001")
    assert exists.value.errno == 9004
    filer.unmap_lun("/vol/vol1/lun-000001", "lun-000001")
    filer.destroy_lun("/vol/vol1/lun-000001")
    filer.destroy_igroup("lun-000001")
    filer.destroy_volume("vol1")
    assert stand_in.filer.volumes == {} and stand_in.filer.igroups == {}
    with pytest.raises(FilerRefused) as gone:
        filer.destroy_volume("vol1")
    assert gone.value.errno == 13040


def test_refused_credentials_fail_without_the_password_in_the_error(
    stand_in: FilerServer,
) -> None:
    with pytest.raises(FilerError) as refused:
        _filer(stand_in, "wrong-Pass-9").create_volume("vol1", "aggr0", "1g")
    assert "refused the login" in str(refused.value)
    assert "wrong-Pass-9" not in str(refused.value) and stand_in.filer.volumes == {}


def test_a_filer_nobody_answers_is_unreachable() -> None:
    with FilerServer() as server:
        address = server.address
    with pytest.raises(FilerError, match="cannot be reached"):
        Filer(address, "root", Secret("x"), timeout=2).target_name()
