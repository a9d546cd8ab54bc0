"""A test's own corner of a shared server: a fresh domain, and a root admin account in it.

A `Sandbox` stands where a `Server` stood: `client()` is the sandbox's own root admin (so what it
lists as its own is only what this test made), `client(key, secret)` a user, and
`make_tenant(sandbox, admin)` makes the account inside the sandbox's domain. Tests build their
own zones, so what one test makes, another does not trip over.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from cs import CloudStack

from tests.e2e.legs import Deployment
from tests.e2e.servers import Server


@dataclass
class Sandbox:
    deployment: Deployment
    domain_id: str
    domain_name: str
    admin_name: str
    admin_keys: dict[str, str]

    @classmethod
    def open(cls, deployment: Deployment) -> Sandbox:
        token = uuid.uuid4().hex[:10]
        root = deployment.server.client()
        domain = root.createDomain(name=f"t-{token}")["domain"]
        admin_name = f"admin-{token}"
        account = root.createAccount(
            accounttype=1,
            username=admin_name,
            password=uuid.uuid4().hex,
            email=f"{admin_name}@example.org",
            firstname="Root",
            lastname="Admin",
            domainid=domain["id"],
        )["account"]
        keys = root.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
        return cls(deployment, domain["id"], domain["name"], admin_name, keys)

    @property
    def server(self) -> Server:
        return self.deployment.server

    @property
    def leg(self) -> str:
        return self.deployment.leg

    @property
    def control_file(self) -> Path:
        """The simulator's control file: knobs are keyed by names of this test's own making."""
        return self.deployment.control_file

    @property
    def admin(self) -> dict[str, str]:
        """The sandbox's root admin keys (`apikey`, `secretkey`), as a server's `admin`."""
        return self.admin_keys

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def env(self) -> dict[str, str]:
        return self.server.env

    @property
    def data_dir(self) -> Path:
        return self.server.data_dir

    def client(self, key: str | None = None, secret: str | None = None, **options) -> CloudStack:
        """A user's client, or without keys the sandbox's own root admin."""
        if key is None:
            key, secret = self.admin_keys["apikey"], self.admin_keys["secretkey"]
        return self.server.client(key, secret, **options)

    def output(self) -> str:
        return self.server.output()
