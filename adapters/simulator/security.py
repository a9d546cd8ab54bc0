"""The simulator's guest firewalls (security group rules per VM) and routers' remote access VPNs.

A simulated host keeps each VM's rule set as it was last applied; a simulated router keeps what
its VPN serves: the addresses, the user names, and digests of the key and each password (a
test can check what was sent without the simulator keeping any secret in clear).
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from adapters import VpnConfig


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class GuestFirewalls:
    """Rule sets by VM instance name, and VPNs by router instance name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: dict[str, tuple[dict[str, Any], ...]] = {}
        self._vpns: dict[str, dict[str, Any]] = {}

    def apply(self, name: str, rules: tuple[dict[str, Any], ...]) -> bool:
        """Hold `rules` for the VM; True when that changed what it held."""
        wanted = tuple(sorted(rules, key=lambda r: sorted(r.items())))
        with self._lock:
            changed = self._rules.get(name) != wanted
            self._rules[name] = wanted
            return changed

    def rules(self, name: str) -> tuple[dict[str, Any], ...]:
        with self._lock:
            return self._rules.get(name, ())

    def forget(self, name: str) -> None:
        with self._lock:
            self._rules.pop(name, None)
            self._vpns.pop(name, None)

    def configure_vpn(self, name: str, vpn: VpnConfig) -> dict[str, Any]:
        with self._lock:
            if vpn.removing:
                self._vpns.pop(name, None)
                return {"state": "Removed", "users": 0}
            self._vpns[name] = {
                "public_ip": vpn.public_ip,
                "local_ip": vpn.local_ip,
                "ip_range": vpn.ip_range,
                "key_digest": digest(vpn.preshared_key),
                "users": {user: digest(password) for user, password in vpn.users},
            }
            return {"state": "Running", "users": len(vpn.users)}

    def vpn(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._vpns.get(name)
            return None if found is None else {**found, "users": dict(found["users"])}
