"""Certificates for tests (load balancers, LDAPS): a CA, a server certificate it signs, and
their keys, made with the `cryptography` package (small EC keys, so making them is quick)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Issued:
    certificate: str
    key: str
    chain: str  # the CA's certificate ("" for a self-signed one)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem_key(key: ec.EllipticCurvePrivateKey, password: bytes | None = None) -> str:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


def _sign(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    days: int = 30,
    start: datetime | None = None,
    addresses: tuple[str, ...] = (),
) -> x509.Certificate:
    begin = start or datetime.now(UTC) - timedelta(days=1)
    builder = x509.CertificateBuilder()
    if addresses:  # the names a client checks the server by: its own and its addresses
        names: list[x509.GeneralName] = [x509.DNSName(subject)]
        names += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), False)
    return (
        builder.subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(begin)
        .not_valid_after(begin + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=subject == issuer, path_length=None), True)
        .sign(issuer_key, hashes.SHA256())
    )


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def issued(
    common: str = "www.example.com",
    password: bytes | None = None,
    addresses: tuple[str, ...] = (),
) -> Issued:
    """A server certificate signed by a fresh CA, with the CA as its chain; `addresses` are IP
    addresses it is also valid for."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _sign("Test CA", ca_key, "Test CA", ca_key)
    cert = _sign(common, key, "Test CA", ca_key, addresses=addresses)
    return Issued(_pem(cert), _pem_key(key, password), _pem(ca))


def self_signed(common: str = "www.example.com", *, expired: bool = False) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    start = datetime.now(UTC) - timedelta(days=60) if expired else None
    return Issued(_pem(_sign(common, key, common, key, start=start)), _pem_key(key), "")
