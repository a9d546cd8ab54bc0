"""SSH key pairs and guest passwords in the domain: which public keys are taken and how they are
fingerprinted (as `ssh-keygen -E md5` prints them), and when a VM takes a new key or password."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from eventsourcing.utils import get_topic

from adapters.requests import vm_spec
from commands.outbox import vm_routes
from commands.ssh_keys import generate_key_pair
from commands.vm_access import GuestAccess, generate_password, give_access
from domain.errors import InvalidParameter, InvalidState
from domain.ssh_key_pair import parse_public_key
from domain.values import Secret
from domain.vm import VirtualMachine
from stratus.messages import decode_request
from stratus.store.secrets import SecretBox
from tests.unit.test_vm import access, running, vm


def _openssh(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode("ascii")
    )


KEYS = {
    "rsa": lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024),
    "dsa": lambda: dsa.generate_private_key(key_size=1024),
    "ecdsa": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ed25519": ed25519.Ed25519PrivateKey.generate,
}


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_every_openssh_key_kind_is_taken_with_ssh_keygens_md5_fingerprint(
    kind: str, tmp_path: Path
) -> None:
    text = _openssh(KEYS[kind]()) + " alice@laptop"
    (tmp_path / "key.pub").write_text(text + "\n")
    printed = subprocess.run(
        ["ssh-keygen", "-l", "-E", "md5", "-f", str(tmp_path / "key.pub")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    key = parse_public_key("  " + text + "\n")
    assert printed.split()[1] == "MD5:" + key.fingerprint
    assert key.text == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a key",
        "ssh-rsa",
        "ssh-rsa !!!notbase64!!!",
        "ssh-foo " + base64.b64encode(b"\x00\x00\x00\x07ssh-foo").decode(),
        # the blob says it is an ed25519 key, the line says RSA
        "ssh-rsa " + base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519").decode(),
        "ssh-rsa " + base64.b64encode(b"\x00\x00\x01\x00ssh-rsa").decode(),  # length overruns
        "-----BEGIN PUBLIC KEY-----",
    ],
)
def test_anything_but_an_openssh_public_key_is_refused(text: str) -> None:
    with pytest.raises(InvalidParameter, match="Public key is invalid"):
        parse_public_key(text)


def test_a_generated_pair_is_an_rsa_key_whose_public_half_is_taken() -> None:
    private, public = generate_key_pair()
    assert private.startswith("-----BEGIN RSA PRIVATE KEY-----")
    loaded = serialization.load_pem_private_key(private.encode(), password=None)
    assert _openssh(loaded) == public
    assert parse_public_key(public).text == public


def test_a_stopped_vm_takes_a_key_that_its_next_start_carries() -> None:
    machine = vm()
    machine.give_key_pair("laptop", "ssh-ed25519 AAAA")
    machine.request_start("r1", None, access(), "hold-1")
    started = [e for e in machine.collect_events() if isinstance(e, VirtualMachine.StartRequested)]
    assert started[-1].ssh_key == "ssh-ed25519 AAAA"
    assert machine.key_pair == "laptop"


def test_a_running_vm_is_refused_a_new_key_or_password() -> None:
    machine = running()
    with pytest.raises(InvalidParameter, match="should be stopped to do SSH Key reset"):
        machine.give_key_pair("laptop", "ssh-ed25519 AAAA")
    with pytest.raises(InvalidParameter, match="should be stopped to do password reset"):
        machine.set_password(Secret("x"), None, enabled=True)
    assert machine.key_pair is None and machine.password is None


def test_a_busy_vm_is_refused_a_new_key() -> None:
    machine = vm()
    machine.request_start("r1", None, access(), "hold-1")
    with pytest.raises(InvalidState):
        machine.give_key_pair("laptop", "ssh-ed25519 AAAA")


def test_only_a_password_enabled_template_gives_a_password() -> None:
    machine = vm()
    with pytest.raises(InvalidParameter, match="template is not password enabled"):
        give_access(machine, GuestAccess(machine.id, None, None, False, new_password=True))
    give_access(machine, GuestAccess(machine.id, None, None, True, new_password=True))
    assert machine.password is not None and len(machine.password.reveal()) == 12
    assert "Secret(********)" in repr(list(machine.collect_events()))


def test_generated_passwords_differ_and_hide_in_repr() -> None:
    first, second = generate_password(), generate_password()
    assert first.reveal() != second.reveal()
    assert first.reveal() not in repr(first) + str(first)


def test_a_start_request_of_an_older_version_carries_no_key() -> None:
    state: dict[str, Any] = {"data_disks": [{"disk_id": "d"}]}
    VirtualMachine.StartRequested.upcast_v2_v3(state)
    assert state["ssh_key"] == ""


def test_a_start_request_hands_the_guests_key_to_the_hypervisor() -> None:
    key = _openssh(ed25519.Ed25519PrivateKey.generate())
    machine = vm()
    machine.give_key_pair("desk", key)
    machine.request_start("r1", None, access(), "hold-1")
    requested = list(machine.collect_events())[-1]
    route = vm_routes(SecretBox(bytes(32)), "stratus")[get_topic(type(requested))]
    outgoing = route(requested)
    assert outgoing is not None and outgoing.subject.endswith(".start_vm")
    assert vm_spec(decode_request(outgoing.payload).params).ssh_key == key
