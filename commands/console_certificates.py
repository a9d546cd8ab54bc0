"""uploadCustomCertificate's command: a certificate checked (and, with its key, checked to be
the key's) and kept for the console proxies; those running are rebooted to take it up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives import serialization

from commands import Outcome, change_singleton
from commands.ssl_certs import check_certificate, parse_certificate
from commands.system_vms import reboot_system_vm
from domain.console_certificates import ConsoleCertificates, check_domain_suffix
from domain.errors import DomainError, InvalidParameter
from domain.values import Secret


@dataclass(frozen=True)
class UploadCustomCertificate:
    certificate: str
    domain_suffix: str
    position: int | None = None  # the place in the chain, 1 for its top
    name: str = ""
    private_key: Secret = field(default_factory=lambda: Secret(""))
    chain: str | None = None  # what check_certificate reads: the chain goes up one at a time
    password: Secret | None = None


def upload_custom_certificate(store: Any, command: UploadCustomCertificate) -> Outcome:
    """A chain certificate (no key) takes its place; a certificate with its key becomes the
    server certificate of the domain suffix. Nothing is kept unless every check passes."""
    suffix = check_domain_suffix(command.domain_suffix)
    if command.private_key.reveal():
        checked = check_certificate(command, datetime.now(UTC))
        return change_singleton(
            store,
            ConsoleCertificates,
            lambda kept: kept.set_server(
                command.name, checked.certificate, checked.private_key, suffix
            ),
            what="console certificates",
        )
    if command.position is None:
        raise InvalidParameter(
            "A certificate without its private key is one of the chain: give its place (id)"
        )
    text = parse_certificate(command.certificate).public_bytes(serialization.Encoding.PEM)
    return change_singleton(
        store,
        ConsoleCertificates,
        lambda kept: kept.add_to_chain(command.position or 0, command.name, text.decode(), suffix),
        what="console certificates",
    )


def reboot_appliances(store: Any, vm_ids: list[UUID]) -> list[UUID]:
    """Reboot the console proxies and storage VMs that run, so they serve the new
    certificate; one that stopped meanwhile is passed over. The ones asked to reboot."""
    asked = []
    for vm_id in vm_ids:
        try:
            reboot_system_vm(store, vm_id, None)
        except DomainError:
            continue
        asked.append(vm_id)
    return asked
