"""Image stores (root admin): NFS and SMB shares of a zone, S3 and Swift object stores of the
region, and NFS staging stores in front of an object store. Add, list, delete.

Each provider's details are checked here; secret keys and passwords are sealed before anything
is saved and never answered.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import orjson

from api.access import Role
from api.cloudstack.common import select_page
from api.cloudstack.jobs import run_async
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType
from commands import storage as cmd
from domain.errors import InvalidParameter, NotFound
from domain.storage import Scope, StoreRole
from domain.storage_url import StorageUrl, parse_store_url
from projections.storage import STORES_NAMED, store_by_id
from stratus.db import contains

P = ParamType
RA = Role.ROOT_ADMIN
PKG = "org.apache.cloudstack.api.command.admin.storage"
PROVIDERS = ("NFS", "SMB", "S3", "Swift")
S3_REQUIRED = ("accesskey", "secretkey", "bucket")
S3_KEYS = (*S3_REQUIRED, "endpoint", "usehttps", "connectiontimeout", "maxerrorretry")
S3_KEYS += ("sockettimeout",)
SWIFT_KEYS = ("account", "username", "key")
SECRET_KEYS = frozenset({"secretkey", "key", "password"})
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_ENDPOINT = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def render_store(row: dict[str, Any]) -> dict[str, Any]:
    details = orjson.loads(row["details"])
    body = {
        "id": row["id"],
        "name": row["name"],
        "providername": row["provider"],
        "protocol": row["protocol"],
        "url": row["url"],
        "scope": row["scope"],
        "zoneid": row["zone_id"],
        "zonename": row["zone_name"],
        "details": [{"name": k, "value": v} for k, v in sorted(details.items())] or None,
    }
    return {k: v for k, v in body.items() if v is not None}


def _provider(name: str) -> str:
    for provider in PROVIDERS:
        if provider.lower() == name.lower():
            return provider
    raise InvalidParameter(f"can't find image store provider: {name}: use NFS, SMB, S3 or Swift")


def _pairs(groups: list[dict[str, str]] | None) -> dict[str, str]:
    """4.3's `details[i].key` / `details[i].value` pairs as one dict (keys in lower case)."""
    found: dict[str, str] = {}
    for group in groups or []:
        if "key" not in group or "value" not in group:
            raise InvalidParameter(
                "Each image store detail is details[i].key with details[i].value"
            )
        found[group["key"].lower()] = group["value"]
    return found


def _split_secrets(details: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    shown = {k: v for k, v in details.items() if k not in SECRET_KEYS}
    return shown, {k: v for k, v in details.items() if k in SECRET_KEYS}


def _s3_checked(details: dict[str, str]) -> dict[str, str]:
    missing = [k for k in S3_REQUIRED if not details.get(k)]
    if missing:
        raise InvalidParameter(f"An S3 image store needs {', '.join(missing)}")
    unknown = sorted(set(details) - set(S3_KEYS))
    if unknown:
        raise InvalidParameter(f"Unknown S3 image store details: {', '.join(unknown)}")
    if not _BUCKET.fullmatch(details["bucket"]) or ".." in details["bucket"]:
        raise InvalidParameter(f"{details['bucket']} is not a valid S3 bucket name")
    if details.get("endpoint") and not _ENDPOINT.fullmatch(details["endpoint"]):
        raise InvalidParameter(f"{details['endpoint']} is not a valid S3 endpoint (host[:port])")
    if details.get("usehttps", "true").lower() not in ("true", "false"):
        raise InvalidParameter("usehttps must be true or false")
    for key in ("connectiontimeout", "maxerrorretry", "sockettimeout"):
        if key in details and not details[key].isdigit():
            raise InvalidParameter(f"{key} must be a whole number")
    return details


def _s3_url(details: dict[str, str]) -> StorageUrl:
    https = details.get("usehttps", "true").lower() == "true"
    endpoint = details.get("endpoint") or "s3.amazonaws.com"
    return parse_store_url(f"{'https' if https else 'http'}://{endpoint}/{details['bucket']}", "S3")


def _swift_checked(details: dict[str, str]) -> dict[str, str]:
    missing = [k for k in SWIFT_KEYS if not details.get(k)]
    if missing:
        raise InvalidParameter(f"A Swift image store needs {', '.join(missing)}")
    unknown = sorted(set(details) - set(SWIFT_KEYS))
    if unknown:
        raise InvalidParameter(f"Unknown Swift image store details: {', '.join(unknown)}")
    return details


def _add(
    call: Call,
    provider: str,
    role: str,
    url_text: str | None,
    zone_id: str | None,
    details: dict[str, str],
    name: str | None = None,
) -> dict[str, Any]:
    """Check and record a store of `provider`; answer it as listed."""
    url = _store_url(provider, url_text, details)
    if provider in ("NFS", "SMB"):
        if not zone_id:
            raise InvalidParameter(f"An {provider} image store needs the zoneid of its zone")
        _zone(call, zone_id)
    elif zone_id:
        raise InvalidParameter(f"A {provider} image store serves the whole region: give no zoneid")
    shown, secrets = _split_secrets(details)
    secrets.update(url.secrets)
    if url.user:
        shown.setdefault("user", url.user)
    protocol = (
        url.scheme if provider in ("S3", "Swift") else ("cifs" if provider == "SMB" else "nfs")
    )
    outcome = call.write(
        cmd.add_image_store,
        cmd.AddImageStore(
            name or url.shown,
            role,
            provider,
            protocol,
            url.shown,
            UUID(zone_id) if zone_id else None,
            shown,
            secrets,
        ),
    )
    return _answer(call, str(outcome.id), role)


def _store_url(provider: str, url_text: str | None, details: dict[str, str]) -> StorageUrl:
    if provider == "S3":
        return _s3_url(_s3_checked(details))
    if provider == "Swift":
        _swift_checked(details)
    elif details:
        raise InvalidParameter(f"An {provider} image store takes no details: put them in its url")
    if not url_text:
        raise InvalidParameter(f"A {provider} image store needs a url")
    return parse_store_url(url_text, provider)


def _zone(call: Call, zone_id: str) -> None:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT id FROM zones WHERE id = %s AND removed = 0", (zone_id,)
        ).fetchone()
    if row is None:
        raise InvalidParameter(f"Unable to find zone by id {zone_id}", resource_ids=(zone_id,))


def _row(call: Call, store_id: str, role: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = store_by_id(cursor, store_id, role)
    if row is None:
        what = "secondary staging store" if role == StoreRole.STAGING else "image store"
        raise NotFound(f"Unable to find {what} with id {store_id}", resource_ids=(store_id,))
    return row


def _answer(call: Call, store_id: str, role: str) -> dict[str, Any]:
    return render_store(_row(call, store_id, role))


def add_image_store(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    provider = _provider(args["provider"])
    details = _pairs(args["details"])
    return _add(call, provider, StoreRole.IMAGE, args["url"], args["zoneid"], details, args["name"])


def add_secondary_storage(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    return _add(call, "NFS", StoreRole.IMAGE, args["url"], args["zoneid"], {})


def add_s3(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    details = {k: args[k] for k in S3_KEYS if args.get(k) is not None}
    for key in ("usehttps", "connectiontimeout", "maxerrorretry", "sockettimeout"):
        if key in details:
            details[key] = str(details[key]).lower()
    return _add(call, "S3", StoreRole.IMAGE, None, None, details)


def add_swift(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    details = {k: args[k] for k in SWIFT_KEYS if args.get(k) is not None}
    return _add(call, "Swift", StoreRole.IMAGE, args["url"], None, details)


def create_staging_store(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    provider = _provider(args["provider"] or "NFS")
    if provider != "NFS":
        raise InvalidParameter("A secondary staging store is an NFS share: use provider NFS")
    if (args["scope"] or "zone").upper() != Scope.ZONE:
        raise InvalidParameter("A secondary staging store serves one zone: use scope zone")
    details = _pairs(args["details"])
    return _add(call, provider, StoreRole.STAGING, args["url"], args["zoneid"], details)


def _delete(call: Call, store_id: str, role: str) -> None:
    _row(call, store_id, role)
    call.write(lambda store, _: cmd.delete_image_store(store, UUID(store_id)), None)


def _list(call: Call, args: dict[str, Any], role: str, provider: str | None = None) -> Listing:
    where, params = ["s.removed = 0", "s.role = %s"], [role]
    if provider:
        where.append("s.provider = %s")
        params.append(provider)
    for key, column in (
        ("id", "s.id"),
        ("name", "s.name"),
        ("zoneid", "s.zone_id"),
        ("protocol", "s.protocol"),
    ):
        if args.get(key) is not None:
            where.append(f"{column} = %s")
            params.append(args[key])
    if args.get("provider"):
        where.append("lower(s.provider) = %s")
        params.append(args["provider"].lower())
    if args.get("keyword"):
        clause, values = contains(("s.name",), args["keyword"])
        where.append(clause)
        params += values
    return select_page(call, STORES_NAMED, where, params, "s.created, s.id", args, render_store)


def prepare_for_migration(call: Call, args: dict[str, Any]) -> Submitted:
    """prepareSecondaryStorageForMigration: an NFS image store becomes the staging store in
    front of the region's object store (4.3's refusals before the job)."""
    with call.read() as cursor:
        row = store_by_id(cursor, args["id"], StoreRole.IMAGE) or store_by_id(
            cursor, args["id"], StoreRole.STAGING
        )
    if row is None:
        raise NotFound(
            f"Image store with id {args['id']} doesn't exist", resource_ids=(args["id"],)
        )
    if row["provider"] != "NFS":
        raise InvalidParameter("We only support migrate NFS secondary storage to use object store!")

    def work() -> dict[str, Any]:
        cmd.prepare_store_for_migration(call.store, UUID(row["id"]))
        return {"object": "imagestore", "id": row["id"]}

    return run_async(
        call,
        instance_type="ImageStore",
        instance_id=UUID(row["id"]),
        event_type="MIGRATE.PREPARE.SS",
        description=f"preparing image store {row['name']} for migration to an object store",
        work=work,
    )


def _staging_answer(call: Call, store_id: str) -> dict[str, Any]:
    return _answer(call, store_id, StoreRole.STAGING)


LIST_FILTERS = (
    Param("id", P.UUID),
    Param("name", P.STRING),
    Param("zoneid", P.UUID),
    Param("protocol", P.STRING),
    Param("provider", P.STRING),
)
URL = Param("url", P.STRING, max_length=2048)
ID = (Param("id", P.UUID, required=True),)

COMMANDS = (
    ApiCommand(
        "prepareSecondaryStorageForMigration",
        prepare_for_migration,
        (Param("id", P.UUID, required=True),),
        role=RA,
        shape="async",
        is_async=True,
        item_key="imagestore",
        render=_staging_answer,
        java_class=f"{PKG}.PrepareSecondaryStorageForMigrationCmd",
        description="Prepares an NFS secondary storage to migrate to an object store like S3: "
        "it becomes the staging store in front of it.",
    ),
    ApiCommand(
        "addImageStore",
        add_image_store,
        (
            Param("provider", P.STRING, required=True),
            Param("name", P.STRING),
            URL,
            Param("zoneid", P.UUID),
            Param("details", P.MAP),
        ),
        role=RA,
        item_key="imagestore",
        java_class=f"{PKG}.AddImageStoreCmd",
        description="Adds backup image store.",
    ),
    ApiCommand(
        "addSecondaryStorage",
        add_secondary_storage,
        (Param("url", P.STRING, required=True, max_length=2048), Param("zoneid", P.UUID)),
        role=RA,
        item_key="secondarystorage",
        java_class="org.apache.cloudstack.api.command.admin.host.AddSecondaryStorageCmd",
        description="Adds secondary storage.",
    ),
    ApiCommand(
        "addS3",
        add_s3,
        (
            Param("accesskey", P.STRING, required=True),
            Param("secretkey", P.STRING, required=True),
            Param("bucket", P.STRING, required=True),
            Param("endpoint", P.STRING),
            Param("usehttps", P.BOOLEAN),
            Param("connectiontimeout", P.INTEGER, min_value=0),
            Param("maxerrorretry", P.INTEGER, min_value=0),
            Param("sockettimeout", P.INTEGER, min_value=0),
        ),
        role=RA,
        item_key="secondarystorage",
        java_class=f"{PKG}.AddS3Cmd",
        description="Adds S3",
    ),
    ApiCommand(
        "listS3s",
        lambda c, a: _list(c, a, StoreRole.IMAGE, "S3"),
        (),
        role=RA,
        shape="list",
        item_key="imagestore",
        java_class=f"{PKG}.ListS3sCmd",
        description="Lists S3s",
    ),
    ApiCommand(
        "addSwift",
        add_swift,
        (
            Param("url", P.STRING, required=True, max_length=2048),
            Param("account", P.STRING),
            Param("username", P.STRING),
            Param("key", P.STRING),
        ),
        role=RA,
        item_key="secondarystorage",
        java_class="org.apache.cloudstack.api.command.admin.swift.AddSwiftCmd",
        description="Adds Swift.",
    ),
    ApiCommand(
        "listSwifts",
        lambda c, a: _list(c, a, StoreRole.IMAGE, "Swift"),
        (Param("id", P.UUID),),
        role=RA,
        shape="list",
        item_key="imagestore",
        java_class="org.apache.cloudstack.api.command.admin.swift.ListSwiftsCmd",
        description="List Swift.",
    ),
    ApiCommand(
        "listImageStores",
        lambda c, a: _list(c, a, StoreRole.IMAGE),
        LIST_FILTERS,
        role=RA,
        shape="list",
        item_key="imagestore",
        java_class=f"{PKG}.ListImageStoresCmd",
        description="Lists image stores.",
    ),
    ApiCommand(
        "deleteImageStore",
        lambda c, a: _delete(c, a["id"], StoreRole.IMAGE),
        ID,
        role=RA,
        shape="success",
        java_class=f"{PKG}.DeleteImageStoreCmd",
        description="Deletes an image store .",
    ),
    ApiCommand(
        "createSecondaryStagingStore",
        create_staging_store,
        (
            Param("url", P.STRING, required=True, max_length=2048),
            Param("zoneid", P.UUID),
            Param("provider", P.STRING),
            Param("scope", P.STRING),
            Param("details", P.MAP),
        ),
        role=RA,
        item_key="secondarystorage",
        java_class=f"{PKG}.CreateSecondaryStagingStoreCmd",
        description="create secondary staging store.",
    ),
    ApiCommand(
        "listSecondaryStagingStores",
        lambda c, a: _list(c, a, StoreRole.STAGING),
        LIST_FILTERS,
        role=RA,
        shape="list",
        item_key="imagestore",
        java_class=f"{PKG}.ListSecondaryStagingStoresCmd",
        description="Lists secondary staging stores.",
    ),
    ApiCommand(
        "deleteSecondaryStagingStore",
        lambda c, a: _delete(c, a["id"], StoreRole.STAGING),
        ID,
        role=RA,
        shape="success",
        java_class=f"{PKG}.DeleteSecondaryStagingStoreCmd",
        description="Deletes a secondary staging store .",
    ),
)
