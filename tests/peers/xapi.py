"""A XAPI stand-in: XML-RPC with XAPI's envelopes, sessions, records and failure codes.

It serves one host (a pool of one) on 127.0.0.1 from a thread. Values follow XAPI's wire habits:
int64 fields are strings, enums are strings, results are {'Status', 'Value'|'ErrorDescription'}.
Besides the user's VMs it holds a control domain and a template, which drivers must skip.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

from tests.peers.model import GIB, HostShape, PeerHost, PeerVm
from tests.peers.xapi_metrics import XapiMetrics
from tests.peers.xapi_snapshots import XapiSnapshots
from tests.peers.xapi_storage import XapiStorage

HOST = "OpaqueRef:host-0"
_XAPI_STATE = {"Stopped": "Halted", "Running": "Running", "Paused": "Paused"}
_XAPI_STATE["Suspended"] = "Suspended"


class XapiFailure(Exception):
    def __init__(self, *description: str) -> None:
        super().__init__(*description)
        self.description = list(description)


class _Handler(SimpleXMLRPCRequestHandler):
    # XenAPI.Session posts to /RPC2 for a bare host URL, and to / when the URL ends in "/".
    rpc_paths = ("/", "/RPC2")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


class XapiPeer(XapiStorage, XapiMetrics, XapiSnapshots):
    """The host's XAPI, answering XenAPI.Session requests (disks: `XapiStorage`)."""

    def __init__(self, shape: HostShape, username: str, password: str) -> None:
        self.host = PeerHost(shape)
        self._username, self._password = username, password
        self._sessions: set[str] = set()
        self._vm_limits: dict[str, dict[str, str]] = {}
        self._refs = itertools.count(1)
        self.calls: list[str] = []
        self._static = _static_records(shape)
        self._init_storage(XapiFailure, self._static["SR"])
        self._init_snapshots(XapiFailure)

    # -- dispatch -----------------------------------------------------------------------------

    def _dispatch(self, method: str, params: tuple[Any, ...]) -> dict[str, Any]:
        with self.host.lock:
            self.calls.append(method)
            try:
                return {"Status": "Success", "Value": self._call(method, params)}
            except XapiFailure as failure:
                return {"Status": "Failure", "ErrorDescription": failure.description}

    def _call(self, method: str, params: tuple[Any, ...]) -> Any:
        if method == "session.login_with_password":
            return self._login(*params[:2])
        if not params or params[0] not in self._sessions:
            raise XapiFailure("SESSION_INVALID", str(params[0] if params else ""))
        cls, _, action = method.partition(".")
        handler = getattr(self, f"_{cls}_{action}", None)
        if handler is not None:
            return handler(*params[1:])
        return self._generic(cls, action, params[1:], method)

    def _login(self, username: str, password: str) -> str:
        if (username, password) != (self._username, self._password):
            raise XapiFailure("SESSION_AUTHENTICATION_FAILED", username, "Authentication failure")
        session = f"OpaqueRef:session-{uuid.uuid4()}"
        self._sessions.add(session)
        return session

    def _session_logout(self) -> str:
        return ""

    def _generic(self, cls: str, action: str, args: tuple[Any, ...], method: str) -> Any:
        records = self._records(cls)
        if records is None:
            raise XapiFailure("MESSAGE_METHOD_UNKNOWN", method)
        if action == "get_all":
            return list(records)
        if action == "get_all_records":
            return records
        if action == "get_by_name_label":
            return [ref for ref, record in records.items() if record["name_label"] == args[0]]
        if action.startswith("get_") and args:
            record = self._record(cls, records, args[0])
            field = "record" if action == "get_record" else action[4:]
            return record if field == "record" else record[field]
        raise XapiFailure("MESSAGE_METHOD_UNKNOWN", method)

    def _records(self, cls: str) -> dict[str, dict[str, Any]] | None:
        if cls == "VM":
            live = {ref: self._vm_record(ref) for ref in self.host.vms}
            return {**self._static["VM"], **live, **self.snapshot_records()}
        if cls in ("VDI", "VBD"):
            return self._storage_records(cls)
        return self._static.get(cls)

    @staticmethod
    def _record(cls: str, records: dict[str, dict[str, Any]], ref: str) -> dict[str, Any]:
        if ref not in records:
            raise XapiFailure("HANDLE_INVALID", cls, ref)
        return records[ref]

    # -- VMs ----------------------------------------------------------------------------------

    def _vm_record(self, ref: str) -> dict[str, Any]:
        vm = self.host.vms[ref]
        limits = self._vm_limits[ref]
        memory = str(vm.memory_bytes)
        return {
            "uuid": ref.rsplit("-", 1)[-1],
            "name_label": vm.name,
            "power_state": _XAPI_STATE[vm.state],
            "is_a_template": False,
            "is_control_domain": False,
            "resident_on": HOST if vm.state != "Stopped" else "OpaqueRef:NULL",
            "VCPUs_max": limits["VCPUs_max"],
            "VCPUs_at_startup": str(vm.cpus),
            "memory_static_max": limits["memory_static_max"],
            "memory_static_min": limits["memory_static_min"],
            "memory_dynamic_max": memory,
            "memory_dynamic_min": memory,
            "other_config": limits["other_config"],
            "VBDs": self.vbds_of(ref),
            "is_a_snapshot": False,
            "snapshots": self.snapshots_of(ref),
        }

    def _vm(self, ref: str, *expected: str) -> PeerVm:
        if ref not in self.host.vms:
            raise XapiFailure("HANDLE_INVALID", "VM", ref)
        vm = self.host.vms[ref]
        if expected and vm.state not in expected:
            wanted = _XAPI_STATE[expected[0]].lower()
            raise XapiFailure("VM_BAD_POWER_STATE", ref, wanted, _XAPI_STATE[vm.state].lower())
        return vm

    def _host_call_plugin(self, host: str, plugin: str, function: str, args: dict) -> str:
        """Only the plugin call CloudStack makes for security groups: vmops network_rules."""
        if host != HOST:
            raise XapiFailure("HANDLE_INVALID", "host", host)
        if (plugin, function) != ("vmops", "network_rules"):
            raise XapiFailure("XENAPI_MISSING_PLUGIN", plugin)
        if not self.host.named(str(args.get("vmName", ""))):
            return "false"
        self.host.security_rules[str(args["vmName"])] = dict(args)
        return "true"

    def _VM_create(self, record: dict[str, Any]) -> str:
        if int(record["VCPUs_at_startup"]) > int(record["VCPUs_max"]):
            raise XapiFailure("INVALID_VALUE", "VCPUs_at_startup", record["VCPUs_at_startup"])
        ref = f"OpaqueRef:vm-{next(self._refs)}"
        self.host.vms[ref] = PeerVm(
            record["name_label"], int(record["VCPUs_at_startup"]), int(record["memory_dynamic_max"])
        )
        self._vm_limits[ref] = {
            "VCPUs_max": str(record["VCPUs_max"]),
            "memory_static_max": str(record["memory_static_max"]),
            "memory_static_min": str(record["memory_static_min"]),
            "other_config": dict(record.get("other_config", {})),
        }
        return ref

    def _VM_get_power_state(self, ref: str) -> str:
        if ref in self._snapshots:
            return str(self._snapshots[ref]["power_state"])
        return _XAPI_STATE[self._vm(ref).state]

    def _VM_start_on(self, ref: str, host: str, start_paused: bool, force: bool) -> str:
        if host != HOST:
            raise XapiFailure("HANDLE_INVALID", "host", host)
        vm = self._vm(ref, "Stopped")
        vm.state, vm.boots = ("Paused" if start_paused else "Running"), vm.boots + 1
        self.vm_started(ref)
        return ""

    def _VM_start(self, ref: str, start_paused: bool, force: bool) -> str:
        return self._VM_start_on(ref, HOST, start_paused, force)

    def _VM_resume_on(self, ref: str, host: str, start_paused: bool, force: bool) -> str:
        self._vm(ref, "Suspended").state = "Running"
        return ""

    def _VM_unpause(self, ref: str) -> str:
        self._vm(ref, "Paused").state = "Running"
        return ""

    def _VM_clean_shutdown(self, ref: str) -> str:
        self._vm(ref, "Running").state = "Stopped"
        self.vm_halted(ref)
        return ""

    def _VM_hard_shutdown(self, ref: str) -> str:
        self._vm(ref, "Running", "Paused", "Suspended").state = "Stopped"
        self.vm_halted(ref)
        return ""

    def _VM_clean_reboot(self, ref: str) -> str:
        self._vm(ref, "Running").boots += 1
        return ""

    def _VM_hard_reboot(self, ref: str) -> str:
        return self._VM_clean_reboot(ref)

    def _VM_destroy(self, ref: str) -> str:
        if self.destroy_snapshot(ref):
            return ""
        self._vm(ref, "Stopped")
        self.vm_destroyed(ref)
        del self.host.vms[ref], self._vm_limits[ref]
        return ""

    def _VM_set_VCPUs_max(self, ref: str, value: str) -> str:
        vm = self._vm(ref, "Stopped")
        if vm.cpus > int(value):
            raise XapiFailure("INVALID_VALUE", "VCPUs_max", value)
        self._vm_limits[ref]["VCPUs_max"] = value
        return ""

    def _VM_set_VCPUs_at_startup(self, ref: str, value: str) -> str:
        vm = self._vm(ref, "Stopped")
        if int(value) > int(self._vm_limits[ref]["VCPUs_max"]) or int(value) < 1:
            raise XapiFailure("INVALID_VALUE", "VCPUs_at_startup", value)
        vm.cpus = int(value)
        return ""

    def _VM_set_VCPUs_number_live(self, ref: str, value: str) -> str:
        vm = self._vm(ref, "Running")
        if int(value) > int(self._vm_limits[ref]["VCPUs_max"]) or int(value) < 1:
            raise XapiFailure("INVALID_VALUE", "VCPUs_number", value)
        vm.cpus = int(value)
        return ""

    def _VM_set_memory_limits(self, ref: str, *limits: str) -> str:
        static_min, static_max, dynamic_min, dynamic_max = (int(value) for value in limits)
        vm = self._vm(ref, "Stopped")
        if not static_min <= dynamic_min <= dynamic_max <= static_max:
            raise XapiFailure("MEMORY_CONSTRAINT_VIOLATION", "limits out of order")
        self._vm_limits[ref].update(memory_static_min=limits[0], memory_static_max=limits[1])
        vm.memory_bytes = dynamic_max
        return ""

    def _VM_set_memory_dynamic_range(self, ref: str, low: str, high: str) -> str:
        vm = self._vm(ref, "Running", "Paused")
        limits = self._vm_limits[ref]
        if not int(limits["memory_static_min"]) <= int(low) <= int(high):
            raise XapiFailure("MEMORY_CONSTRAINT_VIOLATION", "dynamic range below static min")
        if int(high) > int(limits["memory_static_max"]):
            raise XapiFailure("MEMORY_CONSTRAINT_VIOLATION", "dynamic range above static max")
        vm.memory_bytes = int(high)
        return ""

    # -- running ------------------------------------------------------------------------------

    @contextmanager
    def serving(self) -> Iterator[str]:
        """Serves on a free port of 127.0.0.1; yields the URL a driver should use."""
        server = SimpleXMLRPCServer(
            ("127.0.0.1", 0), requestHandler=_Handler, allow_none=True, logRequests=False
        )
        server.register_instance(self)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.daemon = True
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def _static_records(shape: HostShape) -> dict[str, dict[str, dict[str, Any]]]:
    """The pool, host, storage and built-in VMs, which drivers only read."""
    threads = shape.cores  # one thread per core: cpu_count is logical CPUs in XAPI
    return {
        "pool": {"OpaqueRef:pool-0": {"name_label": "", "master": HOST}},
        "host": {
            HOST: {
                "uuid": "host-0",
                "name_label": shape.name,
                "hostname": shape.name,
                "address": "127.0.0.1",
                "metrics": "OpaqueRef:host_metrics-0",
                "cpu_info": {
                    "socket_count": str(shape.sockets),
                    "cpu_count": str(threads),
                    "speed": f"{shape.mhz}.000",
                    "vendor": "GenuineIntel",
                },
                "software_version": {"product_version": shape.version, "xapi": "1.3"},
                "API_version_major": "2",
                "API_version_minor": "1",
            }
        },
        "host_metrics": {
            "OpaqueRef:host_metrics-0": {
                "memory_total": str(shape.memory_bytes),
                "memory_free": str(shape.memory_bytes // 2),
                "live": True,
            }
        },
        "SR": _storage(shape),
        "PBD": {
            f"OpaqueRef:pbd-{n}": dict(host=HOST, SR=f"OpaqueRef:sr-{n}", currently_attached=True)
            for n in range(3)
        },
        "VM": _builtin_vms(),
    }


def _storage(shape: HostShape) -> dict[str, dict[str, Any]]:
    def sr(label: str, kind: str, content: str, size: int, shared: bool) -> dict[str, Any]:
        return {
            "name_label": label,
            "type": kind,
            "content_type": content,
            "physical_size": str(size),
            "shared": shared,
        }

    return {
        "OpaqueRef:sr-0": sr("Local storage", "lvm", "user", shape.local_storage_bytes, False),
        "OpaqueRef:sr-1": sr("DVD drives", "udev", "iso", 4 * GIB, False),
        "OpaqueRef:sr-2": sr("Shared NFS", "nfs", "", 10 * 1024 * GIB, True),
    }


def _builtin_vms() -> dict[str, dict[str, Any]]:
    def vm(label: str, state: str, template: bool, control: bool) -> dict[str, Any]:
        return {
            "name_label": label,
            "power_state": state,
            "is_a_template": template,
            "is_control_domain": control,
            "VCPUs_max": "4",
            "VCPUs_at_startup": "4",
            "memory_dynamic_max": str(GIB),
        }

    return {
        "OpaqueRef:vm-dom0": vm("Control domain on host: peer", "Running", False, True),
        "OpaqueRef:vm-template": vm("Other install media", "Halted", True, False),
    }
