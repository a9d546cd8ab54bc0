"""SslCert: an account's SSL certificate for load balancers that terminate SSL, with its chain
and its private key (a `Secret`, sealed at rest, never answered or logged).

The certificate is checked before it is recorded (commands/ssl_certs.py parses it); once
recorded it does not change. It is bound to load balancer rules by the rule set of their
network (domain/network_rules.py); the certificate keeps the rules it is bound to, so it cannot
be deleted while a rule uses it (a delete racing an assignment writes the same version).
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import NotFound, ResourceInUse
from domain.values import Secret


class SslCert(Aggregate):
    """An uploaded certificate, its chain and its sealed private key."""

    @event("Uploaded")
    def __init__(
        self,
        account_id: UUID,
        domain_id: UUID,
        certificate: str,
        chain: str,
        private_key: Secret,
        fingerprint: str,
    ) -> None:
        self.account_id, self.domain_id = account_id, domain_id
        self.certificate, self.chain = certificate, chain
        self.private_key = private_key
        self.fingerprint = fingerprint
        self.rule_ids: set[UUID] = set()
        self.removed = False

    def check_live(self) -> None:
        if self.removed:
            raise NotFound(f"Invalid certificate id: {self.id}")

    def bind(self, rule_id: UUID) -> None:
        self.check_live()
        self._bound(rule_id=rule_id)

    @event("Bound")
    def _bound(self, rule_id: UUID) -> None:
        self.rule_ids.add(rule_id)

    def unbind(self, rule_id: UUID) -> None:
        if rule_id in self.rule_ids:
            self._unbound(rule_id=rule_id)

    @event("Unbound")
    def _unbound(self, rule_id: UUID) -> None:
        self.rule_ids.discard(rule_id)

    def delete(self) -> None:
        self.check_live()
        if self.rule_ids:
            listed = ", ".join(sorted(str(r) for r in self.rule_ids))
            raise ResourceInUse(f"Certificate in use by a loadbalancer(s) {listed}")
        self._deleted()

    @event("Deleted")
    def _deleted(self) -> None:
        self.removed = True
