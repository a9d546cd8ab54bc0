"""Commands on SSL certificates: upload (parsed and checked first), delete.

An upload is checked as 4.3 checks it: the certificate and the key parse (an encrypted key
opens with the password given), the certificate is valid now, the key is the certificate's,
and the chain, when given, leads from the certificate through certificates that sign each
other. Only then is it recorded, with the key decrypted and sealed as a `Secret`; the password
is not kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from commands import Outcome
from domain.errors import InvalidParameter
from domain.ssl_cert import SslCert
from domain.values import Secret


@dataclass(frozen=True)
class UploadSslCert:
    account_id: UUID
    domain_id: UUID
    certificate: str
    private_key: Secret
    chain: str | None
    password: Secret | None


class CertificateUpload(Protocol):
    """What an upload of a certificate gives: the texts, and the key's password if any."""

    @property
    def certificate(self) -> str: ...
    @property
    def private_key(self) -> Secret: ...
    @property
    def chain(self) -> str | None: ...
    @property
    def password(self) -> Secret | None: ...


@dataclass(frozen=True)
class CheckedCert:
    """A certificate that passed the checks: its PEM texts, sealed key and fingerprint."""

    certificate: str
    chain: str
    private_key: Secret
    fingerprint: str


def parse_certificate(text: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(text.encode())
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InvalidParameter(f"Parsing certificate/key failed: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    """What went wrong, never the text that was given (it may hold the key)."""
    return type(exc).__name__ if not str(exc) else str(exc).splitlines()[0][:200]


def _private_key(text: Secret, password: Secret | None) -> Any:
    secret = password.reveal().encode() if password is not None else None
    try:
        return serialization.load_pem_private_key(text.reveal().encode(), password=secret or None)
    except TypeError:
        raise InvalidParameter(
            "Parsing certificate/key failed: the private key is encrypted and needs its password"
            if not secret
            else "Parsing certificate/key failed: the private key is not encrypted, give no "
            "password"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidParameter(
            "Parsing certificate/key failed: the private key cannot be read (not a PEM key, "
            "or a wrong password)"
        ) from None


def _chain(text: str) -> list[x509.Certificate]:
    try:
        found = x509.load_pem_x509_certificates(text.encode())
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InvalidParameter(f"Parsing certificate chain failed: {_reason(exc)}") from None
    return list(found)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def check_chain(cert: x509.Certificate, chain: list[x509.Certificate]) -> None:
    """The certificate is signed by a certificate of the chain, and so on up to a
    self-signed one or the last the chain holds (4.3 trusts the chain it is given)."""
    current, seen = cert, 0
    while seen <= len(chain):
        if current.issuer == current.subject and _issued_by(current, current):
            return
        issuer = next((c for c in chain if _issued_by(current, c)), None)
        if issuer is None:
            if current is cert:
                raise InvalidParameter(
                    "Invalid certificate chain: no certificate of the chain issued the certificate"
                )
            return
        current, seen = issuer, seen + 1
    raise InvalidParameter("Invalid certificate chain: the chain loops")


def fingerprint(cert: x509.Certificate) -> str:
    digest = hashlib.sha1(
        cert.public_bytes(serialization.Encoding.DER), usedforsecurity=False
    ).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)).upper()


def check_certificate(command: CertificateUpload, now: datetime) -> CheckedCert:
    cert = parse_certificate(command.certificate)
    key = _private_key(command.private_key, command.password)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise InvalidParameter("Certificate expired or not valid")
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.DER
    if cert.public_key().public_bytes(encoding, public) != key.public_key().public_bytes(
        encoding, public
    ):
        raise InvalidParameter("Bad public-private key")
    chain = ""
    if command.chain and command.chain.strip():
        certs = _chain(command.chain)
        check_chain(cert, certs)
        chain = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)
    sealed = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return CheckedCert(
        cert.public_bytes(serialization.Encoding.PEM).decode(),
        chain,
        Secret(sealed),
        fingerprint(cert),
    )


def upload_ssl_cert(store: Any, command: UploadSslCert) -> Outcome:
    checked = check_certificate(command, datetime.now(UTC))
    cert = SslCert(
        command.account_id,
        command.domain_id,
        checked.certificate,
        checked.chain,
        checked.private_key,
        checked.fingerprint,
    )
    return Outcome(store.last_position(store.save(cert)), cert.id)


def delete_ssl_cert(store: Any, cert_id: UUID) -> Outcome:
    """Refused (536) while a load balancer rule uses it."""

    def attempt() -> Outcome:
        cert: SslCert = store.get(SslCert, cert_id, what="certificate")
        cert.delete()
        return Outcome(store.last_position(store.save(cert)), cert.id)

    outcome: Outcome = store.run(attempt)
    return outcome
