"""uploadVolume and extractVolume: a data disk made from an image at a URL (fetched by an
adapter into the zone's image store, as templates are), and a volume offered for download by a
link that works for `extract.url.expiration.interval` seconds (`api.extract_links` serves it).

As 4.3: an uploaded image's format must be one 4.3 knows and its URL must name a file of that
format; a volume attached to a VM is extracted only while the VM is stopped; a ROOT volume only
when its template is extractable (root administrators always). Stratus keeps no disk bytes: a
volume is served from the image it was uploaded from, so only uploaded volumes are extracted.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack import infrastructure as places
from api.cloudstack.common import PROJECT_ID
from api.cloudstack.configuration import current_value
from api.cloudstack.extracts import LIFETIME, extract_answer, extract_mode
from api.cloudstack.jobs import run_async
from api.cloudstack.templates import fetch_limits, store_kinds
from api.cloudstack.vms import _owner
from api.cloudstack.volumes import volume_answer, volume_row
from api.dispatch import ApiCommand, Call, Submitted
from api.params import Param, ParamType, not_found
from commands import volume_uploads as uploads
from commands import volumes as cmd
from commands.templates import StoreChoice
from domain.errors import InvalidParameter, NotFound, PermissionDenied
from domain.template import ISO, KNOWN_FORMATS, check_url
from domain.volume import Upload, UploadRequest, VolumeExtract, VolumeState
from projections.storage import zone_image_store
from projections.volumes import volume_extract_row

P = ParamType
KIND = "volumeextract"  # how a finished job names the offer it renders (under `volume`)
PKG = "org.apache.cloudstack.api.command.user.volume"
UPLOAD_FORMATS = tuple(f for f in KNOWN_FORMATS if f != "BAREMETAL")


# ---- uploadVolume --------------------------------------------------------------------------


def _format(given: str) -> str:
    shape = given.upper()
    if shape == ISO or shape not in UPLOAD_FORMATS:
        raise InvalidParameter(
            f"Image format: {given} is incorrect. Supported formats are "
            + ", ".join(UPLOAD_FORMATS)
        )
    return shape


def _image_store(call: Call, zone_id: str, named: str | None) -> str:
    """The image store the volume goes to: the one named (of the zone, or region-wide), else
    the zone's first."""
    with call.read() as cursor:
        row = zone_image_store(cursor, zone_id, named)
    if row is None and named:
        raise not_found("imagestoreuuid", named)
    if row is None:
        raise InvalidParameter(
            f"Zone {zone_id} has no image store to upload the volume to: add one first"
        )
    return str(row["id"])


def upload(call: Call, args: dict[str, Any]) -> Submitted:
    zone = places._row(call, "zones", args["zoneid"], "zone")
    image_format = _format(args["format"])
    check_url(args["url"], image_format)
    account_id, domain_id, _path = _owner(call, args)
    store_id = _image_store(call, zone["id"], args["imagestoreuuid"])
    kind = store_kinds(call, [UUID(zone["id"])])[UUID(zone["id"])]
    limits = fetch_limits(call)
    volume_id = uuid.uuid4()
    command = uploads.UploadVolume(
        volume_id,
        args["name"],
        UUID(account_id),
        UUID(domain_id),
        UUID(zone["id"]),
        Upload(args["url"], image_format, args["checksum"] or "", UUID(store_id)),
        UploadRequest(
            f"upload-{uuid.uuid4()}",
            kind,
            limits.allowed_internal_sites,
            limits.max_size_gb,
        ),
        StoreChoice(UUID(store_id)),  # its bytes are written there, as a template's
    )

    def work() -> dict[str, Any]:
        uploads.upload_volume(call.store, command)
        return {"object": "volume", "id": str(volume_id)}

    return run_async(
        call,
        instance_type="Volume",
        instance_id=volume_id,
        event_type="VOLUME.UPLOAD",
        description=f"Uploading volume {args['name']}",
        work=work,
        creates=True,
    )


# ---- extractVolume -------------------------------------------------------------------------


def _check_extractable(call: Call, row: dict[str, Any], zone_id: str) -> None:
    """4.3's refusals, before any job: the zone, a ROOT volume's template, the VM's state, and
    an image to serve."""
    if row["zone_id"] != zone_id:
        raise InvalidParameter("Please specify a valid zone.")
    if row["kind"] == "ROOT" and call.caller.role != Role.ROOT_ADMIN:
        with call.read() as cursor:
            template = cursor.execute(
                "SELECT is_extractable, template_type FROM templates WHERE id = %s",
                (row["template_id"],),
            ).fetchone()
        if (
            template is None
            or not template["is_extractable"]
            or (template["template_type"] == "SYSTEM")
        ):
            raise PermissionDenied(f"The volume:{row['id']} is not allowed to be extracted")
    if row["vm_id"] and row["vm_state"] != "Stopped":
        raise InvalidParameter(
            "The VM the specified disk is attached to is not in the shutdown state."
        )
    if row["state"] in (VolumeState.UPLOAD_OP, VolumeState.UPLOAD_ERROR):
        raise InvalidParameter(f"Volume {row['name']} is {row['state']}: it cannot be extracted")
    if not row["upload_url"]:
        raise InvalidParameter(
            f"Volume {row['name']} cannot be extracted: Stratus serves a volume from the image "
            "it was uploaded from, and this one was not uploaded"
        )


def extract(call: Call, args: dict[str, Any]) -> Submitted:
    row = volume_row(call, args["id"])
    mode = extract_mode(args["mode"])
    zone = places._row(call, "zones", args["zoneid"], "zone")
    _check_extractable(call, row, zone["id"])
    lifetime = int(current_value(call, LIFETIME))
    offer = VolumeExtract(
        extract_id=uuid.uuid4(),
        zone_id=UUID(zone["id"]),
        account_id=UUID(call.caller.account_id),
        expires=(call.now() + timedelta(seconds=lifetime)).replace(microsecond=0),
        mode=mode,
    )

    def work() -> dict[str, Any]:
        cmd.extract_volume(call.store, UUID(row["id"]), offer)
        return {"object": "volume", "kind": KIND, "id": str(offer.extract_id)}

    return run_async(
        call,
        instance_type="Volume",
        instance_id=UUID(row["id"]),
        event_type="VOLUME.EXTRACT",
        description=f"Extracting volume {row['name']}",
        work=work,
    )


def render_extract(call: Call, extract_id: str) -> dict[str, Any]:
    """An offer as its finished job answers it, with its link signed afresh."""
    with call.read() as cursor:
        row = volume_extract_row(cursor, extract_id)
    if row is None:
        raise NotFound(f"Unable to find extract {extract_id}", resource_ids=(extract_id,))
    return extract_answer(call, row, row["volume_id"])


COMMANDS = (
    ApiCommand(
        "uploadVolume",
        upload,
        (
            Param("name", P.STRING, required=True, max_length=255),
            Param("zoneid", P.UUID, required=True),
            Param("format", P.STRING, required=True),
            Param("url", P.STRING, required=True, max_length=2048),
            Param("checksum", P.STRING, max_length=255),
            Param("imagestoreuuid", P.UUID),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            PROJECT_ID,
        ),
        shape="async",
        is_async=True,
        item_key="volume",
        render=volume_answer,
        java_class=f"{PKG}.UploadVolumeCmd",
        description="Uploads a data disk from an image at a URL",
    ),
    ApiCommand(
        "extractVolume",
        extract,
        (
            Param("id", P.UUID, required=True),
            Param("mode", P.STRING, required=True),
            Param("zoneid", P.UUID, required=True),
            Param("url", P.STRING, max_length=2048),  # the FTP destination of FTP_UPLOAD
        ),
        shape="async",
        is_async=True,
        item_key="volume",
        render=render_extract,
        result_kind=KIND,
        java_class=f"{PKG}.ExtractVolumeCmd",
        description="Extracts a volume: a link to download its image, working for a while.",
    ),
)
