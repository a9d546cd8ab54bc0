"""Access to a guest: the SSH key it is given and the password the server makes for it.

Neither needs the hypervisor at once: a VM takes a new key or password only while stopped, and
its next start carries the key to the host. A password is generated here, kept sealed on the
VM, shown once in the answer of the job that set it, and otherwise handed out only encrypted
with the VM's own public key (`getVMPassword`), as CloudStack does.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from eventsourcing.persistence import IntegrityError

from commands import Outcome
from domain.errors import InvalidParameter, NotFound
from domain.job import Job
from domain.values import Secret
from domain.vm import VirtualMachine
from domain.vm_password import PasswordDisclosure

PASSWORD_LENGTH = 12
# No look-alikes (0/O, 1/l/I): a password is read off a screen and typed into a console.
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def generate_password() -> Secret:
    return Secret("".join(secrets.choice(_ALPHABET) for _ in range(PASSWORD_LENGTH)))


@dataclass(frozen=True)
class GuestAccess:
    """What a job changes of a VM's access: a key pair (name, public key) and/or a password."""

    vm_id: UUID
    job_id: UUID | None
    key_pair: tuple[str, str] | None = None
    password_enabled: bool = False  # whether the VM's template takes a password
    new_password: bool = False


def give_access(vm: VirtualMachine, change: GuestAccess) -> None:
    """Apply `change` to a VM (deploy and the reset commands share it)."""
    if change.key_pair is not None:
        vm.give_key_pair(*change.key_pair)
    if change.new_password:
        vm.set_password(generate_password(), change.job_id, enabled=change.password_enabled)


def change_access(store: Any, change: GuestAccess) -> Outcome:
    """The reset commands: the VM's new key or password, and its job done, in one save."""

    def attempt() -> Outcome:
        vm: VirtualMachine = store.get(VirtualMachine, change.vm_id, what="virtual machine")
        give_access(vm, change)
        job: Job = store.get(Job, change.job_id, what="job")
        job.succeed({"object": "virtualmachine", "id": str(vm.id)})
        return Outcome(store.last_position(store.save(vm, job)), vm.id)

    result: Outcome = store.run(attempt)
    return result


def disclose_password(store: Any, vm_id: UUID, job_id: UUID, user_id: UUID) -> str | None:
    """The password `job_id` set, for the one answer that records its disclosure; else None."""
    try:
        store.get(PasswordDisclosure, PasswordDisclosure.create_id(vm_id, job_id))
        return None
    except NotFound:
        pass
    try:
        vm: VirtualMachine = store.get(VirtualMachine, vm_id, what="virtual machine")
    except NotFound:
        return None
    if vm.password is None or vm.password_job_id != job_id:
        return None
    try:
        store.save(PasswordDisclosure(vm_id=vm_id, job_id=job_id, user_id=user_id))
    except IntegrityError:  # another answer recorded it first
        return None
    return vm.password.reveal()


def encrypted_password(store: Any, vm_id: UUID) -> str:
    """The VM's password encrypted with its key pair's RSA public key (PKCS #1 v1.5), base64."""
    vm: VirtualMachine = store.get(VirtualMachine, vm_id, what="virtual machine")
    if vm.password is None or not vm.public_key:
        raise InvalidParameter(f"No password for VM with id '{vm_id}' found.")
    key = serialization.load_ssh_public_key(vm.public_key.encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey):
        raise InvalidParameter(
            f"No password for VM with id '{vm_id}' found: only an RSA key can carry it"
        )
    sealed = key.encrypt(vm.password.reveal().encode("utf-8"), padding.PKCS1v15())
    return base64.b64encode(sealed).decode("ascii")
