"""The SSL certificates read model (listSslCerts): each live certificate, its chain and
fingerprint. The private key is never projected; the rules a certificate is bound to are read
from `network_rules.cert_id`."""

from __future__ import annotations

from typing import Any

from domain.ssl_cert import SslCert
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

CERT: Any = SslCert  # events made by the library's decorator: type checkers cannot see them


class SslCertsProjection(Projection):
    """Keeps `ssl_certs`."""

    name = "ssl_certs"
    summary = "SSL certificates of load balancers (never their keys)"
    tables = ("ssl_certs",)

    @on(CERT.Uploaded)
    def uploaded(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.ssl_certs} (id, account_id, domain_id, certificate, chain, "
            "fingerprint, created) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                str(e.account_id),
                str(e.domain_id),
                e.certificate,
                e.chain,
                e.fingerprint,
                e.timestamp.isoformat(),
            ),
        )

    @on(CERT.Deleted)
    def deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.ssl_certs} WHERE id = %s", (str(e.originator_id),))


def cert_rows(c: Cursor, where: str, params: list[Any]) -> list[dict[str, Any]]:
    """Certificates with their owner's name and domain path, and the rules bound to each."""
    rows = c.execute(
        "SELECT s.*, a.name AS account_name, a.domain_path AS domain_path FROM ssl_certs AS s "
        f"JOIN accounts AS a ON a.id = s.account_id WHERE {where} ORDER BY s.created, s.id",
        params,
    ).fetchall()
    found = [dict(r) for r in rows]
    if not found:
        return found
    marks = ", ".join(["%s"] * len(found))
    bound = c.execute(
        f"SELECT id, cert_id FROM network_rules WHERE cert_id IN ({marks}) ORDER BY id",
        [r["id"] for r in found],
    ).fetchall()
    for row in found:
        row["rule_ids"] = [b["id"] for b in bound if b["cert_id"] == row["id"]]
    return found


READ_MODELS = (SslCertsProjection,)
