"""What adapters do for createTemplate: copy a stopped VM's root disk into the image store.

The result carries the new image's sizes, as a download's does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters import Hypervisor, TemplateCapture
from adapters.requests import name, param


def _create(driver: Hypervisor, params: dict[str, Any]) -> dict[str, Any]:
    capture = TemplateCapture(
        template_id=str(param(params, "template_id")),
        volume_id=str(param(params, "volume_id")),
        zone_id=str(param(params, "zone_id")),
        image_format=str(param(params, "format")),
    )
    sizes = driver.create_template(name(params), capture)
    return {"name": name(params), "template_id": capture.template_id, **sizes}


CAPTURE_ACTIONS: dict[str, Callable[[Hypervisor, dict[str, Any]], dict[str, Any]]] = {
    "create_template": _create,
}
