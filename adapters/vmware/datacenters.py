"""A vCenter datacenter claimed for one zone of one cloud, as CloudStack 4.3 claims it: the
datacenter must exist, and its custom field `cloud.zone` must not say "true" (another cloud's
zone holds it); claiming sets it to "true", giving it back sets it to "false". Also the hosts of
one of its clusters, which a VMware cluster added by its vCenter url takes."""

from __future__ import annotations

from typing import Any

from pyVmomi import vim

from adapters import HypervisorError, NotFoundOnHost

CLOUD_ZONE = "cloud.zone"


def find(content: Any, name: str, where: str) -> Any:
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.Datacenter], True)
    try:
        found = [dc for dc in view.view if dc.name == name]
    finally:
        view.Destroy()
    if not found:
        raise NotFoundOnHost(f"Unable to find VMware DC {name} in vCenter {where}")
    return found[0]


def _field(content: Any) -> Any:
    """The `cloud.zone` field definition, or None when the vCenter has none yet."""
    fields = content.customFieldsManager.field or []
    return next((f for f in fields if f.name == CLOUD_ZONE), None)


def _value(datacenter: Any, key: int) -> str | None:
    """The field's value on the datacenter (the last one set)."""
    values = [v.value for v in datacenter.customValue or [] if v.key == key]
    return values[-1] if values else None


def claim(content: Any, name: str, where: str) -> dict[str, str]:
    datacenter = find(content, name, where)
    manager = content.customFieldsManager
    field = _field(content)
    if field is None:
        field = manager.AddCustomFieldDef(name=CLOUD_ZONE, moType=vim.Datacenter)
    elif (_value(datacenter, field.key) or "").lower() == "true":
        raise HypervisorError(f"VMware DC {name} is being managed by another CloudStack deployment")
    manager.SetField(entity=datacenter, key=field.key, value="true")
    return {"datacenter": datacenter._moId}


def release(content: Any, name: str, where: str) -> dict[str, str]:
    datacenter = find(content, name, where)
    field = _field(content)
    if field is not None:
        content.customFieldsManager.SetField(entity=datacenter, key=field.key, value="false")
    return {"datacenter": datacenter._moId}


def cluster_hosts(content: Any, path: str, where: str) -> dict[str, list[str]]:
    """The names of the hosts of the cluster at `path` (`datacenter/cluster`), as 4.3's
    VMware discoverer adds them with the cluster."""
    datacenter_name, _, cluster_name = path.partition("/")
    datacenter = find(content, datacenter_name, where)
    view = content.viewManager.CreateContainerView(
        datacenter.hostFolder, [vim.ClusterComputeResource], True
    )
    try:
        found = [c for c in view.view if c.name == cluster_name]
    finally:
        view.Destroy()
    if not found:
        raise NotFoundOnHost(
            f"Unable to find cluster {cluster_name} in VMware DC {datacenter_name}"
        )
    return {"hosts": sorted(host.name for host in found[0].host)}
