"""Identity read models: the domain tree, accounts and users, and the queries api/ needs of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from domain.account import Account
from domain.domains import Domain
from domain.user import User
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on


def _iso(event: Any) -> str:
    return event.timestamp.isoformat()


class IdentityProjection(Projection):
    """Keeps `domains`, `accounts` and `users`, denormalised for listing and authorising."""

    name = "identity"
    summary = "domains, accounts and users"
    tables = ("domains", "accounts", "users")

    def __init__(self, seal: Callable[[str], str]) -> None:
        self.seal = seal

    @classmethod
    def built(cls, seal: Callable[[str], str]) -> Projection:
        return cls(seal)

    @on(Domain.Created)
    def domain_created(self, e: Any, c: Cursor, t: Tables) -> None:
        parent_name = None
        if e.parent_id is not None:
            row = c.execute(
                f"SELECT name FROM {t.domains} WHERE id = %s", (str(e.parent_id),)
            ).fetchone()
            parent_name = row["name"] if row else None
            c.execute(f"UPDATE {t.domains} SET has_children = 1 WHERE id = %s", (str(e.parent_id),))
        c.execute(
            f"INSERT INTO {t.domains} (id, name, parent_id, parent_name, path, level, "
            "network_domain, created) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                e.name,
                str(e.parent_id) if e.parent_id else None,
                parent_name,
                e.path,
                e.path.count("/") - 1,
                e.network_domain,
                _iso(e),
            ),
        )

    @on(Domain.Renamed)
    def domain_renamed(self, e: Any, c: Cursor, t: Tables) -> None:
        domain_id = str(e.originator_id)
        row = c.execute(f"SELECT path FROM {t.domains} WHERE id = %s", (domain_id,)).fetchone()
        assert row is not None
        old = row["path"]
        new = old[: old.rstrip("/").rfind("/") + 1] + e.name + "/"
        c.execute(f"UPDATE {t.domains} SET name = %s WHERE id = %s", (e.name, domain_id))
        c.execute(
            f"UPDATE {t.domains} SET parent_name = %s WHERE parent_id = %s", (e.name, domain_id)
        )
        for table in (t.accounts, t.users):
            c.execute(
                f"UPDATE {table} SET domain_name = %s WHERE domain_id = %s", (e.name, domain_id)
            )
        for table, column in (
            (t.domains, "path"),
            (t.accounts, "domain_path"),
            (t.users, "domain_path"),
        ):
            c.execute(
                f"UPDATE {table} SET {column} = %s || substr({column}, %s) "
                f"WHERE substr({column}, 1, %s) = %s",
                (new, len(old) + 1, len(old), old),
            )

    @on(Domain.NetworkDomainChanged)
    def domain_network(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.domains} SET network_domain = %s WHERE id = %s",
            (e.network_domain, str(e.originator_id)),
        )

    @on(Domain.ChildDetached)
    def domain_child_detached(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.domains} SET has_children = CASE WHEN EXISTS (SELECT 1 FROM {t.domains} "
            "AS d WHERE d.parent_id = %s AND d.removed = 0 AND d.id <> %s) THEN 1 ELSE 0 END "
            "WHERE id = %s",
            (str(e.originator_id), str(e.child_id), str(e.originator_id)),
        )

    @on(Domain.Removed)
    def domain_removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"UPDATE {t.domains} SET removed = 1 WHERE id = %s", (str(e.originator_id),))

    @on(Account.Created)
    def account_created(self, e: Any, c: Cursor, t: Tables) -> None:
        domain = _domain(c, t, e.domain_id)
        c.execute(
            f"INSERT INTO {t.accounts} (id, name, domain_id, domain_name, domain_path, "
            "account_type, state, network_domain, created) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                e.name,
                str(e.domain_id),
                domain["name"],
                domain["path"],
                e.account_type,
                "enabled",
                e.network_domain,
                _iso(e),
            ),
        )

    @on(Account.DetailsUpdated)
    def account_details(self, e: Any, c: Cursor, t: Tables) -> None:
        row = c.execute(
            f"SELECT details FROM {t.accounts} WHERE id = %s", (str(e.originator_id),)
        ).fetchone()
        details = {**orjson.loads(row["details"]), **e.details}
        c.execute(
            f"UPDATE {t.accounts} SET details = %s WHERE id = %s",
            (orjson.dumps(details).decode(), str(e.originator_id)),
        )

    @on(Account.Renamed)
    def account_renamed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.accounts} SET name = %s WHERE id = %s", (e.name, str(e.originator_id))
        )
        c.execute(
            f"UPDATE {t.users} SET account_name = %s WHERE account_id = %s",
            (e.name, str(e.originator_id)),
        )

    @on(Account.DefaultZoneMarked)
    def account_default_zone(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.accounts} SET default_zone_id = %s WHERE id = %s",
            (str(e.zone_id), str(e.originator_id)),
        )

    @on(Account.NetworkDomainChanged)
    def account_network(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.accounts} SET network_domain = %s WHERE id = %s",
            (e.network_domain, str(e.originator_id)),
        )

    @on(Account.Disabled)
    def account_disabled(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.accounts} SET state = %s, session_epoch = session_epoch + 1 WHERE id = %s",
            (e.state, str(e.originator_id)),
        )

    @on(Account.CleanupMarked)
    def account_cleanup_marked(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.accounts} SET needs_cleanup = %s WHERE id = %s",
            (int(e.required), str(e.originator_id)),
        )

    @on(Account.Enabled)
    def account_enabled(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.accounts} SET state = 'enabled' WHERE id = %s", (str(e.originator_id),)
        )

    @on(Account.Removed)
    def account_removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.accounts} SET removed = 1, session_epoch = session_epoch + 1 WHERE id = %s",
            (str(e.originator_id),),
        )

    @on(User.Created)
    def user_created(self, e: Any, c: Cursor, t: Tables) -> None:
        account = c.execute(
            f"SELECT name, account_type FROM {t.accounts} WHERE id = %s", (str(e.account_id),)
        ).fetchone()
        domain = _domain(c, t, e.domain_id)
        assert account is not None
        p = e.profile
        c.execute(
            f"INSERT INTO {t.users} (id, username, account_id, account_name, account_type, "
            "domain_id, domain_name, domain_path, firstname, lastname, email, timezone, state, "
            "password_hash, created) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                e.username,
                str(e.account_id),
                account["name"],
                account["account_type"],
                str(e.domain_id),
                domain["name"],
                domain["path"],
                p.get("firstname", ""),
                p.get("lastname", ""),
                p.get("email", ""),
                p.get("timezone", ""),
                "enabled",
                e.password_hash,
                _iso(e),
            ),
        )

    @on(User.ProfileUpdated)
    def user_profile(self, e: Any, c: Cursor, t: Tables) -> None:
        for column in ("firstname", "lastname", "email", "timezone"):
            if column in e.changes:
                c.execute(
                    f"UPDATE {t.users} SET {column} = %s WHERE id = %s",
                    (e.changes[column], str(e.originator_id)),
                )

    @on(User.Renamed)
    def user_renamed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.users} SET username = %s WHERE id = %s", (e.username, str(e.originator_id))
        )

    @on(User.PasswordChanged)
    def user_password(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.users} SET password_hash = %s, session_epoch = session_epoch + 1 "
            "WHERE id = %s",
            (e.password_hash, str(e.originator_id)),
        )

    @on(User.KeysRegistered)
    def user_keys(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.users} SET api_key = %s, sealed_secret_key = %s WHERE id = %s",
            (e.api_key, self.seal(e.secret_key.reveal()), str(e.originator_id)),
        )

    @on(User.Disabled)
    def user_disabled(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.users} SET state = 'disabled', session_epoch = session_epoch + 1 "
            "WHERE id = %s",
            (str(e.originator_id),),
        )

    @on(User.Locked)
    def user_locked(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.users} SET state = 'locked', session_epoch = session_epoch + 1 "
            "WHERE id = %s",
            (str(e.originator_id),),
        )

    @on(User.Enabled)
    def user_enabled(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"UPDATE {t.users} SET state = 'enabled' WHERE id = %s", (str(e.originator_id),))

    @on(User.Removed)
    def user_removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.users} SET removed = 1, api_key = NULL, session_epoch = session_epoch + 1 "
            "WHERE id = %s",
            (str(e.originator_id),),
        )


def _domain(c: Cursor, t: Tables, domain_id: Any) -> dict[str, Any]:
    row = c.execute(
        f"SELECT name, path FROM {t.domains} WHERE id = %s", (str(domain_id),)
    ).fetchone()
    assert row is not None, f"domain {domain_id} is missing from the read model"
    return row


READ_MODELS = (IdentityProjection,)
