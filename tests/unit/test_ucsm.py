"""The UCS XML API client: the documents it posts, the answers it reads, and sessions with the
UCS manager stand-in (login refused, profiles cloned and associated, the wait for association)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from domain.values import Secret
from stratus.ucsm import (
    UcsError,
    UcsManagerClient,
    UcsRefused,
    association_document,
    endpoint,
    method_document,
    parse_answer,
)
from tests.support.ucs_manager import Blade, UcsServer

PASSWORD = "ucs-Pass-1"


@pytest.fixture
def stand_in() -> Iterator[UcsServer]:
    with UcsServer(password=PASSWORD) as server:
        manager = server.manager
        manager.blades = {
            dn: Blade(dn) for dn in ("sys/chassis-1/blade-1", "sys/chassis-1/blade-2")
        }
        manager.profiles = ["org-root/ls-esx"]
        yield server


def _client(server: UcsServer, password: str = PASSWORD) -> UcsManagerClient:
    return UcsManagerClient(server.url, "ucs-admin", Secret(password), timeout=5)


def test_a_method_is_one_element_with_its_inputs_as_attributes() -> None:
    element = ET.fromstring(method_document("configResolveDn", {"cookie": "c/1", "dn": "a&b"}))
    assert (element.tag, element.attrib) == ("configResolveDn", {"cookie": "c/1", "dn": "a&b"})


def test_an_association_binds_the_profile_to_the_blade_under_its_dn() -> None:
    element = ET.fromstring(association_document("c/1", "org-root/ls-p", "sys/chassis-1/blade-2"))
    assert (element.tag, element.get("inHierarchical")) == ("configConfMos", "true")
    pair = element.find("inConfigs/pair")
    assert pair is not None and pair.get("key") == "org-root/ls-p"
    binding = pair.find("lsServer/lsBinding")
    assert binding is not None and binding.get("pnDn") == "sys/chassis-1/blade-2"


def test_an_answer_with_an_error_code_is_refused_and_a_foreign_one_is_an_error() -> None:
    with pytest.raises(UcsRefused) as refused:
        parse_answer("aaaLogin", b'<aaaLogin errorCode="551" errorDescr="Authentication failed"/>')
    assert (refused.value.code, refused.value.description) == ("551", "Authentication failed")
    with pytest.raises(UcsError):
        parse_answer("aaaLogin", b"<configResolveDn/>")


def test_the_url_may_be_a_host_as_in_4_3_or_an_http_url() -> None:
    assert endpoint("10.0.0.9") == "http://10.0.0.9/nuova"
    assert endpoint("https://ucs:8443") == "https://ucs:8443/nuova"


def test_a_session_lists_blades_and_profiles_and_logs_out(stand_in: UcsServer) -> None:
    with _client(stand_in).session() as session:
        blades = session.blades()
        profiles = session.profiles()
    assert [b.dn for b in blades] == ["sys/chassis-1/blade-1", "sys/chassis-1/blade-2"]
    assert {b.association for b in blades} == {"none"}
    assert profiles == ["org-root/ls-esx"]
    assert stand_in.manager.cookies == set()  # logged out


def test_a_refused_login_fails_without_the_password_in_the_error(stand_in: UcsServer) -> None:
    with pytest.raises(UcsRefused) as refused, _client(stand_in, "wrong-Pass-9").session():
        pass
    assert refused.value.method == "aaaLogin" and refused.value.code == "551"
    assert "wrong-Pass-9" not in str(refused.value)


def test_a_cloned_profile_is_associated_and_waited_for(stand_in: UcsServer) -> None:
    stand_in.manager.associating_polls = 2
    with _client(stand_in).session() as session:
        profile = session.clone_profile("org-root/ls-esx", "profile-for-blade-7")
        session.associate(profile, "sys/chassis-1/blade-2")
        assert session.association_of("sys/chassis-1/blade-2") == "associating"
        session.wait_associated("sys/chassis-1/blade-2", interval=0)
    assert profile == "org-root/ls-profile-for-blade-7"
    blade = stand_in.manager.blades["sys/chassis-1/blade-2"]
    assert (blade.association, blade.assigned_to) == ("associated", profile)


def test_waiting_for_an_association_ends_at_the_timeout(stand_in: UcsServer) -> None:
    stand_in.manager.associating_polls = 10**6
    ticks = iter(range(100))
    with _client(stand_in).session() as session:
        session.associate(session.clone_profile("org-root/ls-esx", "p2"), "sys/chassis-1/blade-1")
        with pytest.raises(UcsError, match="not associated within 3s"):
            session.wait_associated(
                "sys/chassis-1/blade-1", timeout=3, interval=0, clock=lambda: next(ticks)
            )


def test_cloning_a_profile_the_manager_lacks_is_refused(stand_in: UcsServer) -> None:
    with pytest.raises(UcsRefused), _client(stand_in).session() as session:
        session.clone_profile("org-root/ls-missing", "x")
