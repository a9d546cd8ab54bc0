"""XenServer snapshots: XAPI's snapshot VMs (VM.snapshot, VM.checkpoint with memory, VM.revert,
VM.destroy of the snapshot), found among the VM's `snapshots` by name label. After a revert the
VM is put back in the power state it had: XAPI leaves it halted, or suspended for a checkpoint."""

from __future__ import annotations

from typing import Any

from adapters import NotFoundOnHost, SnapshotInfo, SnapshotSpec, VmStatus


class XenServerSnapshots:
    """The snapshot half of `XenServerDriver`, which provides its session and VM helpers."""

    _session: Any
    _host_ref: str
    _acting: Any
    _find: Any
    _find_or_none: Any
    _record: Any

    def create_snapshot(self, vm_name: str, snapshot: SnapshotSpec) -> SnapshotInfo:
        with self._acting("snapshot", vm_name):
            api = self._session.xenapi
            ref = self._find(vm_name)
            found = self._snapshot_named(ref, snapshot.name)
            if found is not None:
                return SnapshotInfo(snapshot.name, api.VM.get_power_state(found) == "Suspended")
            memory = snapshot.memory and api.VM.get_power_state(ref) == "Running"
            (api.VM.checkpoint if memory else api.VM.snapshot)(ref, snapshot.name)
            return SnapshotInfo(snapshot.name, memory)

    def revert_snapshot(self, vm_name: str, snapshot_name: str) -> VmStatus:
        from adapters.xenserver.driver import _status

        with self._acting("revert", vm_name):
            api = self._session.xenapi
            ref = self._find(vm_name)
            found = self._snapshot_named(ref, snapshot_name)
            if found is None:
                raise NotFoundOnHost(f"VM {vm_name!r} has no snapshot named {snapshot_name!r}")
            before = api.VM.get_power_state(ref)
            api.VM.revert(found)
            now = api.VM.get_power_state(ref)
            if before == "Running" and now == "Suspended":
                api.VM.resume_on(ref, self._host_ref, False, False)
            elif before == "Running" and now == "Halted":
                api.VM.start_on(ref, self._host_ref, False, False)
            elif before == "Halted" and now != "Halted":
                api.VM.hard_shutdown(ref)
            return _status(self._record(ref))

    def delete_snapshot(self, vm_name: str, snapshot_name: str) -> None:
        with self._acting("delete a snapshot of", vm_name):
            ref = self._find_or_none(vm_name)
            found = None if ref is None else self._snapshot_named(ref, snapshot_name)
            if found is not None:
                self._session.xenapi.VM.destroy(found)

    def list_snapshots(self, vm_name: str) -> tuple[str, ...]:
        with self._acting("list the snapshots of", vm_name):
            api = self._session.xenapi
            refs = api.VM.get_snapshots(self._find(vm_name))
            return tuple(sorted(api.VM.get_name_label(ref) for ref in refs))

    def _snapshot_named(self, ref: str, name: str) -> str | None:
        api = self._session.xenapi
        for snapshot in api.VM.get_snapshots(ref):
            if api.VM.get_name_label(snapshot) == name:
                return str(snapshot)
        return None

    def _destroy_snapshots(self, ref: str) -> None:
        """A VM's snapshots go before the VM: XAPI would leave them behind as orphans."""
        for snapshot in self._session.xenapi.VM.get_snapshots(ref):
            self._session.xenapi.VM.destroy(snapshot)
