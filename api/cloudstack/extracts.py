"""extractTemplate and extractIso: a template or ISO offered for download by a link that works
until `extract.url.expiration.interval` seconds have passed (`api.extract_links` serves it).

Who may extract (as 4.3): the owner, an administrator whose reach holds the owner, an account
the image is shared with, or anyone when it is public; and, but for root administrators, only
an image marked extractable. System templates are never extracted. The image must be ready in
the zone it is offered from (the one named, else the first where it is ready).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from api.access import Role, can_reach
from api.cloudstack.common import names_of
from api.cloudstack.configuration import current_value
from api.cloudstack.jobs import run_async
from api.cloudstack.templates import template_row
from api.dispatch import ApiCommand, Call, Submitted
from api.envelope import format_date
from api.extract_links import link, link_key
from api.params import Param, ParamType, not_found
from commands import templates as cmd
from domain.errors import InvalidParameter, NotFound, PermissionDenied
from domain.template import EXTRACT_MODES, CopyState, ExtractRequest
from projections.templates import extract_row, may_launch

P = ParamType
LIFETIME = "extract.url.expiration.interval"
UPLOAD = "FTP_UPLOAD"
KIND = "extract"  # how a finished job names the offer it renders


def _check_access(call: Call, row: dict[str, Any], noun: str) -> None:
    caller = call.caller
    reach = can_reach(caller, account_id=row["account_id"], domain_path=row["domain_path"])
    if not reach:
        with call.read() as cursor:
            reach = may_launch(cursor, row, caller.account_id)
    if not reach:
        raise PermissionDenied(f"Caller does not have permission to operate on the {noun}")
    if row["template_type"] == "SYSTEM":
        raise InvalidParameter(f"Unable to extract the {noun} {row['name']}: it is a system one")
    if not row["is_extractable"] and caller.role != Role.ROOT_ADMIN:
        raise InvalidParameter(f"Unable to extract {noun} id={row['id']} as it's not extractable")


def extract_mode(given: str) -> str:
    mode = given.upper()
    if mode == UPLOAD:
        raise InvalidParameter(
            "Extracting by upload to an FTP server (mode FTP_UPLOAD) is not built yet: use "
            "HTTP_DOWNLOAD"
        )
    if mode not in EXTRACT_MODES:
        raise InvalidParameter(f"Invalid mode {given}: use HTTP_DOWNLOAD")
    return mode


def _zone(call: Call, row: dict[str, Any], given: str | None, noun: str) -> UUID:
    """The zone the image is offered from: the one named, else the first where it is ready."""
    with call.read() as cursor:
        if given:
            zone = cursor.execute(
                "SELECT id FROM zones WHERE id = %s AND removed = 0", (given,)
            ).fetchone()
            if zone is None:
                raise not_found("zoneid", given)
        found = cursor.execute(
            "SELECT zone_id FROM template_zones WHERE template_id = %s AND state = %s"
            + (" AND zone_id = %s" if given else "")
            + " ORDER BY created, zone_id",
            (row["id"], CopyState.READY, *((given,) if given else ())),
        ).fetchone()
    if found is None:
        where = f"zone {given}" if given else "any zone"
        raise InvalidParameter(f"The {noun} {row['name']} is not ready in {where} to extract")
    return UUID(found["zone_id"])


def extract_image(call: Call, args: dict[str, Any], iso: bool) -> Submitted:
    noun = "ISO" if iso else "template"
    row = template_row(call, args["id"], iso)
    _check_access(call, row, noun)
    mode = extract_mode(args["mode"])
    zone = _zone(call, row, args["zoneid"], noun)
    lifetime = int(current_value(call, LIFETIME))
    request = ExtractRequest(
        extract_id=uuid.uuid4(),
        zone_id=zone,
        account_id=UUID(call.caller.account_id),
        # whole seconds, as the link carries its expiry
        expires=(call.now() + timedelta(seconds=lifetime)).replace(microsecond=0),
        mode=mode,
    )
    command = cmd.ExtractTemplate(UUID(row["id"]), request)

    def work() -> dict[str, Any]:
        cmd.extract_template(call.store, command)
        return {"object": "iso" if iso else "template", "kind": KIND, "id": str(request.extract_id)}

    return run_async(
        call,
        instance_type="Iso" if iso else "Template",
        instance_id=UUID(row["id"]),
        event_type="ISO.EXTRACT" if iso else "TEMPLATE.EXTRACT",
        description=f"Extracting {noun} {row['name']}",
        work=work,
    )


def extract_template(call: Call, args: dict[str, Any]) -> Submitted:
    return extract_image(call, args, iso=False)


def extract_iso(call: Call, args: dict[str, Any]) -> Submitted:
    return extract_image(call, args, iso=True)


def render_extract(call: Call, extract_id: str) -> dict[str, Any]:
    """An offer as its finished job answers it, with its link signed afresh."""
    with call.read() as cursor:
        row = extract_row(cursor, extract_id)
    if row is None:
        raise NotFound(f"Unable to find extract {extract_id}", resource_ids=(extract_id,))
    return extract_answer(call, row, row["template_id"])


def extract_answer(call: Call, row: dict[str, Any], object_id: str) -> dict[str, Any]:
    """4.3's extract fields of an offer (`row`: its id, mode, zone, asker, times, and the
    offered object's name), its link signed afresh."""
    expires = datetime.fromisoformat(str(row["expires"]))
    names = names_of(call, {"zones": {row["zone_id"]}})["zones"]
    live = call.now() < expires
    return {
        "id": object_id,
        "name": row["name"],
        "extractId": row["id"],
        "extractMode": row["mode"],
        "accountid": row["account_id"],
        "created": format_date(datetime.fromisoformat(str(row["created"]))),
        "state": "DOWNLOAD_URL_CREATED",
        "status": (
            f"Download URL valid until {format_date(expires)}" if live else "Download URL expired"
        ),
        "storagetype": "Secondary",
        "uploadpercentage": 100,
        "url": link(call.base_url, link_key(call.runtime), UUID(row["id"]), expires),
        "zoneid": row["zone_id"],
        "zonename": names.get(row["zone_id"], ""),
    }


PARAMS = (
    Param("id", P.UUID, required=True),
    Param("mode", P.STRING, required=True),
    Param("zoneid", P.UUID),
    Param("url", P.STRING, max_length=2048),  # the FTP destination of FTP_UPLOAD
)

COMMANDS = (
    ApiCommand(
        "extractTemplate",
        extract_template,
        PARAMS,
        shape="async",
        is_async=True,
        item_key="template",
        render=render_extract,
        result_kind=KIND,
        description="Extracts a template: a link to download it, working for a while.",
    ),
    ApiCommand(
        "extractIso",
        extract_iso,
        PARAMS,
        shape="async",
        is_async=True,
        item_key="iso",
        render=render_extract,
        result_kind=KIND,
        description="Extracts an ISO: a link to download it, working for a while.",
    ),
)
