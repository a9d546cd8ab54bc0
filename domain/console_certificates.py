"""The certificate the console proxies serve: the server certificate of a domain suffix (its
key sealed) and the certificates of its chain, each at its place."""

from __future__ import annotations

import re
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter
from domain.values import Secret

_NAMESPACE = UUID("c1a9e0d4-7b52-4e36-9f18-3d6a2b8e5c07")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def check_domain_suffix(text: str) -> str:
    """A DNS domain (`*.` in front, as operators often write it, is dropped)."""
    suffix = text.strip().lower().removeprefix("*.")
    labels = suffix.split(".")
    if len(suffix) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(x) for x in labels):
        raise InvalidParameter(f"Invalid domain suffix {text}: a DNS domain is expected")
    return suffix


class ConsoleCertificates(Aggregate):
    """The cloud's one set of console proxy certificates."""

    @staticmethod
    def create_id() -> UUID:
        return uuid5(_NAMESPACE, "console-certificates")

    @event("Started")
    def __init__(self) -> None:
        self.chain: dict[str, dict[str, str]] = {}
        self.server: dict[str, str] = {}
        self.server_key = Secret("")

    def add_to_chain(self, position: int, name: str, certificate: str, suffix: str) -> None:
        if position < 1:
            raise InvalidParameter("A certificate's place in the chain (id) is 1 or more")
        self._chained(position=position, name=name, certificate=certificate, suffix=suffix)

    @event("ChainCertificateUploaded")
    def _chained(self, position: int, name: str, certificate: str, suffix: str) -> None:
        self.chain[str(position)] = {"name": name, "certificate": certificate, "suffix": suffix}

    def set_server(self, name: str, certificate: str, key: Secret, suffix: str) -> None:
        self._served(name=name, certificate=certificate, key=key, suffix=suffix)

    @event("ServerCertificateUploaded")
    def _served(self, name: str, certificate: str, key: Secret, suffix: str) -> None:
        self.server = {"name": name, "certificate": certificate, "suffix": suffix}
        self.server_key = key
