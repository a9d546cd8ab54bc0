"""Commands on SSH key pairs: register a public key, generate a pair, delete one.

A generated pair's private key is returned to the caller and forgotten: only the public half is
recorded. A name is unique in its account, held by a `NameClaim` for as long as the pair lives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from commands import Outcome
from commands.names import claimed
from domain.errors import NotFound
from domain.names import NameClaim, claim_id
from domain.ssh_key_pair import CLAIM_KIND, SSHKeyPair, claim_key, parse_public_key

RSA_BITS = 2048  # what CloudStack 4.3 generates


@dataclass(frozen=True)
class RegisterKeyPair:
    key_pair_id: UUID
    name: str
    public_key: str
    account_id: UUID
    domain_id: UUID


def generate_key_pair() -> tuple[str, str]:
    """A new RSA pair: (private key in PEM, public key in OpenSSH's one-line form)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return private, public.decode("ascii")


def register_key_pair(store: Any, command: RegisterKeyPair) -> Outcome:
    """Record the public key under its name, refused (431) when the account has that name."""
    key = parse_public_key(command.public_key)

    def attempt() -> Outcome:
        name_key = claim_key(command.account_id, command.name)
        what = f"A key pair with name '{command.name}'"
        claim = claimed(store, CLAIM_KIND, name_key, command.key_pair_id, what)
        pair = SSHKeyPair(
            command.key_pair_id,
            command.name,
            key.text,
            key.fingerprint,
            command.account_id,
            command.domain_id,
        )
        return Outcome(store.last_position(store.save(pair, claim)), pair.id)

    result: Outcome = store.run(attempt)
    return result


def delete_key_pair(store: Any, key_pair_id: UUID) -> Outcome:
    """Forget the pair and free its name; VMs given its key keep the key they were given."""

    def attempt() -> Outcome:
        pair: SSHKeyPair = store.get(SSHKeyPair, key_pair_id, what="key pair")
        if pair.removed:
            raise NotFound(f"A key pair with name '{pair.name}' does not exist")
        pair.delete()
        changed: list[Any] = [pair]
        name_key = claim_key(pair.account_id, pair.name)
        try:
            claim = store.get(NameClaim, claim_id(CLAIM_KIND, name_key))
        except NotFound:
            claim = None
        if claim is not None and claim.owner_id == pair.id:
            claim.release()
            changed.append(claim)
        return Outcome(store.last_position(store.save(*changed)), pair.id)

    result: Outcome = store.run(attempt)
    return result
