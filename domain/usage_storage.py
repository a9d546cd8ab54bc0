"""Volume (6), template (7) and ISO (8) usage: storage held over time, with its sizes.

A volume is charged from creation to destruction at its size (bytes), disk offering and
template; a resize, or an uploaded volume's image arriving, splits the span. A template or ISO
is charged per zone copy, from the completed download to the copy's (or the whole image's)
deletion, with its physical size as `size` and its virtual size as `virtualsize`. Snapshots (9)
and VM snapshots (25) are in domain/usage_snapshots.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.template import Template
from domain.usage import GIB, ISO, TEMPLATE, VOLUME, facts_of
from domain.usage_ledger import Attrs, Ledger, attrs_of
from domain.volume import Volume

_Volume: Any = Volume
_Template: Any = Template


def volume_attrs(size_gb: int, offering_id: str | None, template_id: str | None) -> Attrs:
    return attrs_of({"size": size_gb * GIB, "offering_id": offering_id, "template_id": template_id})


@facts_of(_Volume.Created, produces=(VOLUME,))
def volume_created(ledger: Ledger, e: Mapping[str, Any]) -> None:
    volume_id = e["originator_id"]
    ledger.remember(
        volume_id,
        name=e["name"],
        account_id=e["owner_account_id"],
        domain_id=e["owner_domain_id"],
        zone_id=e["zone_id"],
        template_id=e["template_id"],
    )
    attrs = volume_attrs(e["size_gb"], e["disk_offering_id"], e["template_id"])
    ledger.begin(VOLUME, volume_id, e["at"], attrs)


@facts_of(_Volume.Resized)
def volume_resized(ledger: Ledger, e: Mapping[str, Any]) -> None:
    template_id = (e.get("previous") or {}).get("template_id")
    attrs = volume_attrs(e["size_gb"], e["disk_offering_id"], template_id)
    ledger.begin(VOLUME, e["originator_id"], e["at"], attrs)


@facts_of(_Volume.Uploaded)
def volume_uploaded(ledger: Ledger, e: Mapping[str, Any]) -> None:
    """An uploaded volume is recorded at size 0 until its image is fetched: from then on it is
    charged at the image's size, as a resize would split its span."""
    attrs = volume_attrs(e["size_gb"], e["disk_offering_id"], e["template_id"])
    ledger.begin(VOLUME, e["originator_id"], e["at"], attrs)


@facts_of(_Volume.Destroyed)
def volume_destroyed(ledger: Ledger, e: Mapping[str, Any]) -> None:
    ledger.end(VOLUME, e["originator_id"], e["at"])


@facts_of(_Volume.OwnerChanged, by_originator=True, reads=("account_id", "domain_id"))
def volume_owner_changed(ledger: Ledger, e: Mapping[str, Any]) -> None:
    """A volume follows its VM to another account: its record closes and opens anew."""
    ledger.transfer(
        e["originator_id"], e["at"], account_id=e["account_id"], domain_id=e["domain_id"]
    )


@facts_of(_Template.Registered, produces=(TEMPLATE, ISO))
def template_registered(ledger: Ledger, e: Mapping[str, Any]) -> None:
    spec, owner = e["spec"], e["owner"]
    ledger.remember(
        e["originator_id"],
        name=spec["name"],
        account_id=owner["account_id"],
        domain_id=owner["domain_id"],
        zone_id=None,
        iso=str(spec.get("format", "")).upper() == "ISO",
    )


@facts_of(_Template.DownloadCompleted)
def copy_ready(ledger: Ledger, e: Mapping[str, Any]) -> None:
    who = ledger.identity(e["originator_id"])
    if who is None:
        return
    kind = ISO if who.get("iso") else TEMPLATE
    attrs = attrs_of({"size": e["physical"], "virtual_size": e["size"]})
    zone = e["zone_id"]
    ledger.begin(kind, e["originator_id"], e["at"], attrs, sub=zone, zone_id=zone)


@facts_of(_Template.ZoneCopyDeleted)
def copy_deleted(ledger: Ledger, e: Mapping[str, Any]) -> None:
    template_id, zone = e["originator_id"], e["zone_id"]
    ledger.end(TEMPLATE, template_id, e["at"], zone)
    ledger.end(ISO, template_id, e["at"], zone)


@facts_of(_Template.Deleted)
def template_deleted(ledger: Ledger, e: Mapping[str, Any]) -> None:
    ledger.end_all(e["originator_id"], e["at"], (TEMPLATE, ISO))
