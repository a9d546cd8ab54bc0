"""The SSH key pairs read model (listSSHKeyPairs): each live pair's name, public key and
fingerprint. A private key is never recorded anywhere, so none can be here."""

from __future__ import annotations

from typing import Any

from domain.ssh_key_pair import SSHKeyPair
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

PAIR: Any = SSHKeyPair  # events made by the library's decorator: type checkers cannot see them


class SSHKeyPairsProjection(Projection):
    """Keeps `ssh_key_pairs`."""

    name = "ssh_key_pairs"
    summary = "SSH key pairs"
    tables = ("ssh_key_pairs",)

    @on(PAIR.Registered)
    def registered(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.ssh_key_pairs} (id, name, public_key, fingerprint, account_id, "
            "domain_id, created) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                e.name,
                e.public_key,
                e.fingerprint,
                str(e.owner_account_id),
                str(e.owner_domain_id),
                e.timestamp.isoformat(),
            ),
        )

    @on(PAIR.Deleted)
    def deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.ssh_key_pairs} SET removed = 1 WHERE id = %s", (str(e.originator_id),)
        )


def key_pair_by_name(cursor: Cursor, account_id: str, name: str) -> dict[str, Any] | None:
    """An account's live key pair of that name."""
    row = cursor.execute(
        "SELECT * FROM ssh_key_pairs WHERE removed = 0 AND account_id = %s AND name = %s",
        (account_id, name),
    ).fetchone()
    return None if row is None else dict(row)


READ_MODELS = (SSHKeyPairsProjection,)
