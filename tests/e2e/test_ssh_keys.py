"""SSH key pairs and guest passwords through the `cs` client: key pairs per account (the private
key of a generated pair shown once, never kept), VMs given a key at deploy and at a key reset
(their starts carry it to the host), and passwords of password-enabled templates shown once in
the answer of the job that made them and otherwise only encrypted with the VM's public key."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding
from cs import CloudStack, CloudStackApiException

from tests.e2e.conftest import Server
from tests.e2e.factories import make_tenant
from tests.e2e.test_audit_trail import _stratus
from tests.e2e.test_routers import wait_for
from tests.e2e.test_vms import Place, _deploy, _host, _place


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _job_refused(call: Any, code: int, **params: Any) -> str:
    """A job whose command was refused: it fails with `code`."""
    with pytest.raises(CloudStackApiException) as failed:
        call(fetch_result=True, **params)
    assert failed.value.error["errorcode"] == code, failed.value.error
    return str(failed.value.error["errortext"])


def _ed25519() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    openssh = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return openssh.decode() + " desk@home"


def _names(client: CloudStack, **filters: Any) -> list[str]:
    return [k["name"] for k in client.listSSHKeyPairs(**filters).get("sshkeypair", [])]


def _stored_text(server: Server) -> str:
    """Every byte the server keeps on disk (store, read models, logs), as text."""
    files = [p for p in Path(server.data_dir).rglob("*") if p.is_file()]
    return "".join(p.read_bytes().decode("latin-1") for p in [*files, Path(server.log)])


def _history(server: Server, resource_id: str) -> list[dict]:
    done = _stratus(server, "history", resource_id, "--json")
    assert done.returncode == 0, done.stderr
    return [orjson.loads(line) for line in done.stdout.splitlines()]


def _start_keys(server: Server, vm_id: str) -> list[str]:
    """The public key each start request of the VM carried to its host."""
    return [r["data"]["ssh_key"] for r in _history(server, vm_id) if r["event"] == "StartRequested"]


def _finished(client: CloudStack, job_id: str) -> dict:
    done = wait_for(
        lambda: (lambda a: a if a["jobstatus"] != 0 else None)(
            client.queryAsyncJobResult(jobid=job_id)
        )
    )
    assert done and done["jobstatus"] == 1, done
    return done


def _password_template(admin: CloudStack, zone_id: str) -> str:
    template = admin.registerTemplate(
        name="with-password",
        displaytext="with-password",
        url="http://images.example.org/password.qcow2",
        hypervisor="Simulator",
        format="QCOW2",
        ostypeid=admin.listOsTypes()["ostype"][0]["id"],
        zoneid=zone_id,
        ispublic="true",
        passwordenabled="true",
    )["template"][0]["id"]
    assert wait_for(
        lambda: admin.listTemplates(templatefilter="all", id=template)["template"][0].get("isready")
    )
    return template


def _shown_once_among_concurrent_answers(admin: CloudStack, owner: CloudStack, job: str) -> str:
    """The job's password, from the one of many simultaneous answers to its submitter that
    shows it (the job is awaited as the administrator, whose answers never show it)."""
    assert _finished(admin, job)["jobresult"]["virtualmachine"].get("password") is None
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: owner.queryAsyncJobResult(jobid=job), range(8)))
    shown = [a["jobresult"]["virtualmachine"].get("password") for a in answers]
    assert len([p for p in shown if p]) == 1, shown
    return next(p for p in shown if p)


def test_key_pairs_are_kept_per_account_and_a_private_key_is_shown_once(server) -> None:
    admin = server.client()
    alice, bob = make_tenant(server, admin), make_tenant(server, admin)

    made = alice.client.createSSHKeyPair(name="laptop")["keypair"]
    assert made["name"] == "laptop" and made["privatekey"].startswith("-----BEGIN RSA")
    private = serialization.load_pem_private_key(made["privatekey"].encode(), password=None)
    assert private.key_size == 2048
    desk_key = _ed25519()
    desk = alice.client.registerSSHKeyPair(name="desk", publickey=desk_key)["keypair"]
    assert set(desk) == {"name", "fingerprint"} and len(desk["fingerprint"].split(":")) == 16

    listed = alice.client.listSSHKeyPairs()
    assert listed["count"] == 2 and "privatekey" not in orjson.dumps(listed).decode()
    assert _names(alice.client, fingerprint=desk["fingerprint"]) == ["desk"]
    assert _names(alice.client, name="laptop") == ["laptop"]
    assert _names(alice.client, keyword="lap") == ["laptop"]
    assert _names(alice.client, page=2, pagesize=1) == ["laptop"]  # by name: desk, laptop

    assert "already exists" in _refused(alice.client.createSSHKeyPair, 431, name="desk")
    assert "invalid" in _refused(
        alice.client.registerSSHKeyPair, 431, name="bad", publickey="ssh-rsa AAAA-not-a-key"
    )
    assert "Unable to find project" in _refused(
        alice.client.createSSHKeyPair, 431, name="p", projectid=alice.account_id
    )
    assert _names(alice.client) == ["desk", "laptop"]  # the refusals changed nothing

    # Another account neither sees nor touches them, and may use the same names.
    assert bob.client.listSSHKeyPairs() == {}
    _refused(bob.client.deleteSSHKeyPair, 431, name="laptop")
    owner = {"account": alice.username, "domainid": alice.domain_id}
    _refused(bob.client.deleteSSHKeyPair, 531, name="laptop", **owner)
    _refused(bob.client.createSSHKeyPair, 531, name="planted", **owner)
    assert bob.client.createSSHKeyPair(name="laptop")["keypair"]["name"] == "laptop"
    # An administrator acts for the account.
    admin.registerSSHKeyPair(name="from-admin", publickey=_ed25519(), **owner)
    assert _names(admin, **owner) == ["desk", "from-admin", "laptop"]
    assert "laptop" not in _names(admin)  # the administrator's own account has none

    assert alice.client.deleteSSHKeyPair(name="laptop") == {"success": True}
    assert _names(alice.client) == ["desk", "from-admin"]
    again = alice.client.createSSHKeyPair(name="laptop")["keypair"]
    assert again["fingerprint"] != made["fingerprint"]

    body = made["privatekey"].splitlines()[5]  # a line of the key's body
    assert body not in _stored_text(server)


def test_a_vms_key_reaches_its_host_at_each_start_and_is_reset_while_stopped(server) -> None:
    admin = server.client()
    place: Place = _place(admin)
    _host(admin, place, "keys")
    alice, bob = make_tenant(server, admin), make_tenant(server, admin)
    desk_key = _ed25519()
    alice.client.registerSSHKeyPair(name="desk", publickey=desk_key)
    laptop = alice.client.createSSHKeyPair(name="laptop")["keypair"]
    laptop_key = serialization.load_pem_private_key(
        laptop["privatekey"].encode(), password=None
    ).public_key()
    laptop_public = laptop_key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()

    _refused(
        alice.client.deployVirtualMachine,
        431,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        keypair="nope",
    )
    vm = _deploy(alice.client, place, place.small, keypair="desk")
    assert vm["keypair"] == "desk" and vm["passwordenabled"] is False and "password" not in vm
    assert alice.client.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["keypair"] == "desk"
    assert _start_keys(server, vm["id"]) == [desk_key]

    text = _job_refused(
        alice.client.resetSSHKeyForVirtualMachine, 431, id=vm["id"], keypair="laptop"
    )
    assert "should be stopped" in text
    _refused(bob.client.resetSSHKeyForVirtualMachine, 531, id=vm["id"], keypair="laptop")
    alice.client.stopVirtualMachine(id=vm["id"], fetch_result=True)
    assert "does not exist" in _refused(
        alice.client.resetSSHKeyForVirtualMachine, 431, id=vm["id"], keypair="nope"
    )
    reset = alice.client.resetSSHKeyForVirtualMachine(
        id=vm["id"], keypair="laptop", fetch_result=True
    )["virtualmachine"]
    assert reset["keypair"] == "laptop" and "password" not in reset
    alice.client.deleteSSHKeyPair(name="laptop")  # the VM keeps the key it was given
    alice.client.startVirtualMachine(id=vm["id"], fetch_result=True)
    assert _start_keys(server, vm["id"]) == [desk_key, laptop_public]
    assert alice.client.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["keypair"] == "laptop"

    plain = _deploy(alice.client, place, place.small)
    assert "keypair" not in plain and _start_keys(server, plain["id"]) == [""]


def test_a_password_is_shown_once_in_its_job_and_then_only_encrypted_for_the_key(server) -> None:
    admin = server.client()
    place: Place = _place(admin)
    _host(admin, place, "passwords")
    template = _password_template(admin, place.zone)
    alice, bob = make_tenant(server, admin), make_tenant(server, admin)
    laptop = alice.client.createSSHKeyPair(name="laptop")["keypair"]
    private = serialization.load_pem_private_key(laptop["privatekey"].encode(), password=None)

    def decrypted(vm_id: str) -> str:
        sealed = alice.client.getVMPassword(id=vm_id)["password"]["encryptedpassword"]
        return private.decrypt(base64.b64decode(sealed), padding.PKCS1v15()).decode()

    submitted = alice.client.deployVirtualMachine(
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=template,
        keypair="laptop",
    )
    first = _finished(alice.client, submitted["jobid"])["jobresult"]["virtualmachine"]
    password = first["password"]
    assert len(password) == 12 and first["passwordenabled"] is True
    again = alice.client.queryAsyncJobResult(jobid=submitted["jobid"])
    listed = alice.client.listAsyncJobs()
    vms = alice.client.listVirtualMachines(id=first["id"])
    assert password not in orjson.dumps([again, listed, vms]).decode()
    assert decrypted(first["id"]) == password
    _refused(bob.client.getVMPassword, 531, id=first["id"])

    text = _job_refused(alice.client.resetPasswordForVirtualMachine, 431, id=first["id"])
    assert "should be stopped to do password reset" in text
    alice.client.stopVirtualMachine(id=first["id"], fetch_result=True)
    renewed = _shown_once_among_concurrent_answers(
        admin, alice.client, alice.client.resetPasswordForVirtualMachine(id=first["id"])["jobid"]
    )
    assert renewed != password and decrypted(first["id"]) == renewed

    # A template without a password: no password at deploy, none to reset or to fetch.
    plain = _deploy(alice.client, place, place.small, keypair="laptop")
    assert "password" not in plain and plain["passwordenabled"] is False
    alice.client.stopVirtualMachine(id=plain["id"], fetch_result=True)
    assert "not password enabled" in _job_refused(
        alice.client.resetPasswordForVirtualMachine, 431, id=plain["id"]
    )
    assert "No password" in _refused(alice.client.getVMPassword, 431, id=plain["id"])

    stored = _stored_text(server) + orjson.dumps(_history(server, first["id"])).decode()
    assert password not in stored and renewed not in stored
