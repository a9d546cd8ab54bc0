"""Which events ask adapters for work, and the message each becomes (read by the outbox relay)."""

from __future__ import annotations

from typing import Any

from eventsourcing.utils import get_topic

from commands import families
from domain.host import Host
from domain.vm import VirtualMachine
from stratus.messages import DEFAULT_PREFIX, WorkRequest, seal_credentials
from stratus.outbox import Outgoing, Route, origin, work


def routes(box: Any, prefix: str = DEFAULT_PREFIX) -> dict[str, Route]:
    """Routes keyed by event topic: a host's connect and the VM's requests, then each command
    family's `OUTBOX_ROUTES`; `box` seals credentials for the adapter."""

    def connect(e: Any) -> Outgoing:
        host_id = str(e.originator_id)
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor=e.hypervisor.lower(),
            action="connect_host",
            target_id=host_id,
            params={"host_id": host_id},
            sealed_credentials=seal_credentials(box, e.url, e.username, e.password.reveal()),
            **origin(e),
        )
        return work(request, prefix)

    # The library creates Host.ConnectRequested from the decorated method: mypy cannot see it.
    table: dict[str, Route] = {
        get_topic(Host.ConnectRequested): connect,  # type: ignore[attr-defined]
        **vm_routes(box, prefix),
    }
    for module in families():
        family = getattr(module, "OUTBOX_ROUTES", None)
        for topic, route in (family(box, prefix) if family else {}).items():
            if topic in table:
                raise RuntimeError(f"two routes claim {topic}")
            table[topic] = route
    return table


def _boot_iso(iso: dict[str, Any] | None) -> dict[str, Any]:
    """The ISO in a starting VM's CD drive, named as `attach_iso` names it (a new guest's
    definition gets it, and a VM deployed from it boots from it)."""
    if not iso:
        return {}
    return {"iso": {"iso_id": iso["id"], "url": iso["url"], "zone_id": iso["zone_id"]}}


def network_boot(boot: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A bare-metal boot (`commands.baremetal_boot`) as a request carries it: the facts in its
    parameters, the servers' passwords among the sealed secrets."""
    if not boot:
        return {}, None
    facts = {k: v for k, v in boot.items() if not k.endswith("_password")}
    secrets = {k: v.reveal() for k, v in boot.items() if k.endswith("_password") and v}
    return {"boot": facts}, secrets


def vm_routes(box: Any, prefix: str = DEFAULT_PREFIX) -> dict[str, Route]:
    """VM requests: each names the VM by its instance name on the host that must act."""

    def outgoing(e: Any, action: str, params: dict[str, Any]) -> Outgoing:
        # A bare-metal host's network boot goes along: its servers' passwords sealed.
        boot, secrets = network_boot(getattr(e, "boot", None))
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor=e.hypervisor.lower(),
            action=action,
            target_id=str(e.originator_id),
            params={"host_id": str(e.host_id), "name": e.instance_name, **params, **boot},
            sealed_credentials=seal_credentials(
                box, e.url, e.username, e.password.reveal(), secrets=secrets
            ),
            **origin(e),
        )
        return work(request, prefix)

    def start(e: Any) -> Outgoing:
        compute = e.compute
        return outgoing(
            e,
            "start_vm",
            {
                "cpu_number": compute["cpu_number"],
                "cpu_speed_mhz": compute["cpu_speed"],
                "memory_mb": compute["memory"],
                "root_disk_gb": compute["root_disk_size"],
                "data_disks": e.data_disks,
                "ssh_key": e.ssh_key,
                "user_data": e.user_data,
                **_boot_iso(e.iso),
                "root_pool_id": e.root_pool_id,
                "nics": list(e.nics),  # none in an event stored before starts carried them
                "keyboard": e.keyboard,
                "root_io_limits": dict(getattr(e, "root_io_limits", None) or {}),
            },
        )

    def destroy(e: Any) -> Outgoing:
        # Without expunge a running VM is only stopped: its disk stays until it is expunged.
        if e.expunge:
            return outgoing(e, "destroy_vm", {})
        return outgoing(e, "stop_vm", {"forced": True})

    def scale(e: Any) -> Outgoing:
        sizes = {"cpu_number": e.compute["cpu_number"], "memory_mb": e.compute["memory"]}
        return outgoing(e, "scale_vm", sizes)

    def restore(e: Any) -> Outgoing:
        # The request id names the restore: a redelivered one does not make the disk again.
        wanted = {
            "root_disk_gb": e.compute["root_disk_size"],
            "template": "",  # hosts do not read the image store yet: root disks start empty
            "restore_id": e.request_id,
        }
        return outgoing(e, "restore_vm", wanted)

    vm: Any = VirtualMachine  # events made by the library's decorator: mypy cannot see them
    return {
        get_topic(vm.StartRequested): start,
        get_topic(vm.RestoreRequested): restore,
        get_topic(vm.StopRequested): lambda e: outgoing(e, "stop_vm", {"forced": e.forced}),
        get_topic(vm.RebootRequested): lambda e: outgoing(e, "reboot_vm", {}),
        get_topic(vm.DestroyRequested): destroy,
        get_topic(vm.ScaleRequested): scale,
        # The copy a start given up on left running: powered off, its disk left alone.
        get_topic(vm.StrayStopRequested): lambda e: outgoing(e, "stop_vm", {"forced": True}),
    }
