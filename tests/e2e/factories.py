"""Small factories for e2e tests: accounts with their own API keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cs import CloudStack


@dataclass
class Tenant:
    account_id: str
    user_id: str
    username: str
    password: str
    client: CloudStack
    domain_id: str


def make_tenant(
    server,
    admin: CloudStack,
    *,
    account_type: int = 0,
    domain_id: str | None = None,
    name: str | None = None,
) -> Tenant:
    name = name or f"user-{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    params = dict(
        accounttype=account_type,
        username=name,
        password=password,
        email=f"{name}@example.org",
        firstname="Test",
        lastname="User",
    )
    domain_id = domain_id or getattr(server, "domain_id", None)  # a sandbox's own domain
    if domain_id:
        params["domainid"] = domain_id
    account = admin.createAccount(**params)["account"]
    user_id = account["user"][0]["id"]
    keys = admin.registerUserKeys(id=user_id)["userkeys"]
    client = server.client(keys["apikey"], keys["secretkey"])
    return Tenant(account["id"], user_id, name, password, client, account["domainid"])


def custom_offering(admin: CloudStack) -> dict:
    """A custom compute offering (CPUs, speed and memory chosen at deploy). 4.3 seeds none:
    an administrator makes one, as an operator would."""
    return admin.createServiceOffering(
        name="Custom", displaytext="Custom: choose CPUs, speed and memory when deploying"
    )["serviceoffering"]
