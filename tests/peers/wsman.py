"""A WS-Management stand-in for a Hyper-V host: WinRM's shell protocol over HTTP with Basic auth.

It answers pywinrm's Create/Command/Receive/Signal/Delete, decodes `powershell -encodedcommand`,
and runs the script with a small interpreter of the pipelines Hyper-V drivers write (Get-VM,
Where-Object, Select-Object, ConvertTo-Json, New-VM, Start-VM, ...). Quoted literals are parsed
as PowerShell parses them, so a name that tries to break out of its quotes stays a name.
Failures come back as CLIXML on stderr with exit code 1, as PowerShell writes them.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

from tests.peers.model import HostShape, PeerHost, PeerVm
from tests.peers.wsman_disks import VHD_DIRECTORY, VhdCmdlets
from tests.peers.wsman_metering import MeteringCmdlets
from tests.peers.wsman_snapshots import CheckpointCmdlets

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
}
_DONE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"
# Hyper-V's VMState numbers, which ConvertTo-Json writes instead of names.
VM_STATE = {"Running": 2, "Stopped": 3, "Suspended": 6, "Paused": 9}
_SWITCHES = {"Force", "TurnOff", "Compress", "NoVHD"}
_QUOTES = "'\u2018\u2019\u201a\u201b"


class PsError(Exception):
    """A terminating error of the script; its message goes to stderr."""


# -- the PowerShell subset ---------------------------------------------------------------------


def tokenize(line: str) -> list[tuple[str, str]]:
    """(kind, text) tokens: 'str' for quoted literals (unescaped), 'pipe', 'word'."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(line):
        char = line[position]
        if char.isspace():
            position += 1
        elif char == "|":
            tokens.append(("pipe", "|"))
            position += 1
        elif char in _QUOTES:
            text, position = _literal(line, position + 1)
            tokens.append(("str", text))
        else:
            match = re.compile(r"[^\s|]+").match(line, position)
            assert match is not None
            tokens.append(("word", match.group()))
            position = match.end()
    return tokens


def _literal(line: str, position: int) -> tuple[str, int]:
    text: list[str] = []
    while position < len(line):
        char = line[position]
        if char in _QUOTES:
            if position + 1 < len(line) and line[position + 1] in _QUOTES:
                text.append(char)  # a doubled quote is one literal quote
                position += 2
                continue
            return "".join(text), position + 1
        text.append(char)
        position += 1
    raise PsError("The string is missing the terminator: '.")


def _stages(tokens: list[tuple[str, str]]) -> list[tuple[str, dict[str, Any], list[str]]]:
    """Splits a pipeline into (cmdlet, named parameters, positional arguments)."""
    stages: list[list[tuple[str, str]]] = [[]]
    for token in tokens:
        if token[0] == "pipe":
            stages.append([])
        else:
            stages[-1].append(token)
    return [_stage(stage) for stage in stages]


def _stage(tokens: list[tuple[str, str]]) -> tuple[str, dict[str, Any], list[str]]:
    if not tokens or tokens[0][0] != "word":
        raise PsError("An empty pipe element is not allowed.")
    named: dict[str, Any] = {}
    positional: list[str] = []
    rest = iter(tokens[1:])
    for kind, text in rest:
        if kind == "word" and text.startswith("-") and not text[1:].isdigit():
            name, colon, value = text[1:].partition(":")  # -Confirm:$false gives its value
            if colon:
                named[name] = value
            else:
                named[name] = True if name in _SWITCHES else next(rest, ("word", ""))[1]
        else:
            positional.append(text)
    return tokens[0][1], named, positional


class Interpreter(VhdCmdlets, MeteringCmdlets, CheckpointCmdlets):
    """Runs scripts against the host: each line is a pipeline of objects (dicts); the disk
    cmdlets are in `VhdCmdlets`."""

    _ps_error = PsError

    def __init__(self, host: PeerHost) -> None:
        self.host = host

    def run(self, script: str) -> tuple[str, str, int]:
        output: list[str] = []
        with self.host.lock:
            try:
                for line in script.splitlines():
                    output.extend(self._line(line.strip()))
            except PsError as error:
                return "".join(f"{text}\r\n" for text in output), _clixml(str(error)), 1
        return "".join(f"{text}\r\n" for text in output), "", 0

    def _line(self, line: str) -> list[str]:
        if not line or re.fullmatch(r"\$\w+Preference\s*=\s*'\w+'", line):
            return []
        objects: list[Any] = []
        for index, (cmdlet, named, positional) in enumerate(_stages(tokenize(line))):
            handler = getattr(self, "_" + cmdlet.replace("-", "_").lower(), None)
            if handler is None:
                raise PsError(f"The term '{cmdlet}' is not recognized as the name of a cmdlet.")
            objects = handler(objects if index else None, named, positional)
        return [item for item in objects if isinstance(item, str)]

    # Sources -----------------------------------------------------------------------------------

    def _get_vmhost(self, _input: Any, named: dict[str, Any], _pos: list[str]) -> list[Any]:
        shape = self.host.shape
        return [
            {
                "ComputerName": shape.name,
                "MemoryCapacity": shape.memory_bytes,
                "VirtualHardDiskPath": VHD_DIRECTORY,
            }
        ]

    def _get_ciminstance(self, _input: Any, named: dict[str, Any], _pos: list[str]) -> list[Any]:
        shape = self.host.shape
        per_socket = shape.cores // shape.sockets
        classes = {
            "Win32_Processor": [
                {"NumberOfCores": per_socket, "MaxClockSpeed": shape.mhz}
                for _ in range(shape.sockets)
            ],
            "Win32_OperatingSystem": [{"Version": shape.version}],
            "Win32_LogicalDisk": [{"DeviceID": "C:", "Size": shape.local_storage_bytes}],
        }
        if named.get("ClassName") not in classes:
            raise PsError(f"Invalid class: {named.get('ClassName')}")
        return classes[named["ClassName"]]

    def _get_vm(self, _input: Any, named: dict[str, Any], _pos: list[str]) -> list[Any]:
        return [_vm_object(vm) for vm in self.host.vms.values()]

    def _new_vm(self, _input: Any, named: dict[str, Any], _pos: list[str]) -> list[Any]:
        vm = PeerVm(named["Name"], cpus=1, memory_bytes=int(named["MemoryStartupBytes"]))
        self.host.vms[str(uuid.uuid4())] = vm
        return [_vm_object(vm)]

    # Filters and output ------------------------------------------------------------------------

    def _where_object(self, items: Any, named: dict[str, Any], pos: list[str]) -> list[Any]:
        field, value = pos[0], named.get("ceq", named.get("eq"))
        if "ceq" in named:
            return [item for item in items if item.get(field) == value]
        return [item for item in items if str(item.get(field)).lower() == str(value).lower()]

    def _select_object(self, items: Any, _named: dict[str, Any], pos: list[str]) -> list[Any]:
        fields = pos[0].split(",")
        return [{field: item.get(field) for field in fields} for item in items]

    def _convertto_json(self, items: Any, _named: dict[str, Any], _pos: list[str]) -> list[Any]:
        if not items:
            return []
        value = items[0] if len(items) == 1 else items
        return [json.dumps(value, separators=(",", ":"))]

    def _out_null(self, _items: Any, _named: dict[str, Any], _pos: list[str]) -> list[Any]:
        return []

    # VM actions (pipeline input is VM objects) ---------------------------------------------------

    def _start_vm(self, items: Any, _named: dict[str, Any], _pos: list[str]) -> list[Any]:
        for vm in _vms(items):
            if vm.state == "Running":
                continue  # Hyper-V starts a running VM as a no-op
            if vm.state == "Paused":
                raise PsError(f"'{vm.name}' failed to start: it is paused; use Resume-VM.")
            vm.state, vm.boots = "Running", vm.boots + 1
        return []

    def _resume_vm(self, items: Any, _named: dict[str, Any], _pos: list[str]) -> list[Any]:
        for vm in _vms(items, "Paused"):
            vm.state = "Running"
        return []

    def _stop_vm(self, items: Any, named: dict[str, Any], _pos: list[str]) -> list[Any]:
        if not named.get("Force"):
            raise PsError("Stop-VM needs confirmation, which a remote session cannot give.")
        allowed = ("Running", "Paused", "Suspended") if named.get("TurnOff") else ("Running",)
        for vm in _vms(items, *allowed):
            vm.state = "Stopped"
        return []

    def _restart_vm(self, items: Any, named: dict[str, Any], _pos: list[str]) -> list[Any]:
        for vm in _vms(items, "Running"):
            vm.boots += 1
        return []

    def _remove_vm(self, items: Any, named: dict[str, Any], _pos: list[str]) -> list[Any]:
        doomed = {id(vm) for vm in _vms(items, "Stopped")}
        for key in [key for key, vm in self.host.vms.items() if id(vm) in doomed]:
            del self.host.vms[key]
        return []

    # Extended port ACLs (security group rules), kept per VM name -------------------------------

    def _acls(self, named: dict[str, Any]) -> list[dict[str, Any]]:
        name = str(named.get("VMName", ""))
        if not self.host.named(name):
            raise PsError(f"Hyper-V was unable to find a virtual machine with name '{name}'.")
        acls: list[dict[str, Any]] = self.host.security_rules.setdefault(name, [])
        return acls

    def _get_vmnetworkadapterextendedacl(
        self, _input: Any, named: dict[str, Any], _pos: list[str]
    ) -> list[Any]:
        return [dict(acl, __acls=self._acls(named)) for acl in self._acls(named)]

    def _remove_vmnetworkadapterextendedacl(
        self, items: Any, _named: dict[str, Any], _pos: list[str]
    ) -> list[Any]:
        for item in items or ():
            acls = item["__acls"]
            key = (item["Weight"], item["Direction"])
            acls[:] = [acl for acl in acls if (acl["Weight"], acl["Direction"]) != key]
        return []

    def _add_vmnetworkadapterextendedacl(
        self, _input: Any, named: dict[str, Any], _pos: list[str]
    ) -> list[Any]:
        acls = self._acls(named)
        fields = ("Action", "Direction", "RemoteIPAddress", "Protocol", "LocalPort", "RemotePort")
        acl: dict[str, Any] = {key: named[key] for key in fields if key in named}
        acl["Weight"] = int(named["Weight"])
        key = (acl["Weight"], acl.get("Direction"))
        if any((old["Weight"], old.get("Direction")) == key for old in acls):
            raise PsError(f"An ACL with weight {acl['Weight']} exists already in that direction.")
        acls.append(acl)
        return []

    def _set_vmprocessor(self, items: Any, named: dict[str, Any], _pos: list[str]) -> list[Any]:
        for vm in _vms(items, "Stopped"):
            vm.cpus = int(named["Count"])
        return []

    def _set_vmmemory(self, items: Any, named: dict[str, Any], _pos: list[str]) -> list[Any]:
        for vm in _vms(items, "Stopped"):
            vm.memory_bytes = int(named["StartupBytes"])
        return []


def _vm_object(vm: PeerVm) -> dict[str, Any]:
    return {
        "Name": vm.name,
        "State": VM_STATE[vm.state],
        "ProcessorCount": vm.cpus,
        "MemoryStartup": vm.memory_bytes,
        "__vm": vm,
    }


def _vms(items: Any, *allowed: str) -> list[PeerVm]:
    if items is None:
        raise PsError("The cmdlet needs VM objects from the pipeline.")
    vms = [item["__vm"] for item in items]
    for vm in vms:
        if allowed and vm.state not in allowed:
            raise PsError(
                f"The operation cannot be performed while the virtual machine '{vm.name}' "
                "is in its current state."
            )
    return vms


def _clixml(message: str) -> str:
    text = escape(message).replace("\n", "_x000D__x000A_")
    return (
        '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
        f'<S S="Error">{text}_x000D__x000A_</S></Objs>'
    )


# -- WS-Management -----------------------------------------------------------------------------


class WsmanPeer:
    """The host's WinRM listener: shells, commands and their output, behind Basic auth."""

    def __init__(self, shape: HostShape, username: str, password: str) -> None:
        self.host = PeerHost(shape)
        self.interpreter = Interpreter(self.host)
        self.scripts: list[str] = []
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self._authorization = f"Basic {token}"
        self._shells: set[str] = set()
        self._outputs: dict[str, tuple[str, str, int]] = {}

    def authorized(self, header: str | None) -> bool:
        return header == self._authorization

    def handle(self, body: bytes) -> tuple[int, str]:
        root = ET.fromstring(body)
        action = root.findtext("s:Header/a:Action", "", NS).rsplit("/", 1)[-1]
        message_id = root.findtext("s:Header/a:MessageID", "", NS)
        shell = root.findtext("s:Header/w:SelectorSet/w:Selector[@Name='ShellId']", "", NS)
        if action != "Create" and shell not in self._shells:
            return 500, _fault(message_id, "2150858843", "The shell was not found.")
        reply = getattr(self, f"_{action.lower()}", None)
        if reply is None:
            return 500, _fault(message_id, "2150858782", f"Unsupported action {action}.")
        return 200, _envelope(message_id, reply(root, shell))

    def _create(self, _root: ET.Element, _shell: str) -> str:
        shell = str(uuid.uuid4()).upper()
        self._shells.add(shell)
        return (
            '<x:ResourceCreated xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer">'
            "<a:ReferenceParameters><w:SelectorSet>"
            f'<w:Selector Name="ShellId">{shell}</w:Selector>'
            "</w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>"
        )

    def _command(self, root: ET.Element, _shell: str) -> str:
        command = root.findtext("s:Body/rsp:CommandLine/rsp:Command", "", NS).split()
        command_id = str(uuid.uuid4()).upper()
        if len(command) == 3 and command[:2] == ["powershell", "-encodedcommand"]:
            script = base64.b64decode(command[2]).decode("utf-16-le")
            self.scripts.append(script)
            self._outputs[command_id] = self.interpreter.run(script)
        else:
            self._outputs[command_id] = ("", f"'{command[0]}' is not recognized.\r\n", 1)
        return (
            f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId>"
            "</rsp:CommandResponse>"
        )

    def _receive(self, root: ET.Element, _shell: str) -> str:
        command_id = root.find("s:Body/rsp:Receive/rsp:DesiredStream", NS).get("CommandId", "")
        stdout, stderr, code = self._outputs.pop(command_id, ("", "", 0))
        streams = "".join(
            f'<rsp:Stream Name="{name}" CommandId="{command_id}">'
            f"{base64.b64encode(text.encode()).decode()}</rsp:Stream>"
            for name, text in (("stdout", stdout), ("stderr", stderr))
            if text
        )
        return (
            f"<rsp:ReceiveResponse>{streams}"
            f'<rsp:CommandState CommandId="{command_id}" State="{_DONE}">'
            f"<rsp:ExitCode>{code}</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>"
        )

    def _signal(self, _root: ET.Element, _shell: str) -> str:
        return "<rsp:SignalResponse/>"

    def _delete(self, _root: ET.Element, shell: str) -> str:
        self._shells.discard(shell)
        return ""

    @contextmanager
    def serving(self) -> Iterator[str]:
        """Serves on a free port of 127.0.0.1; yields the URL a driver should use."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.daemon = True
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/wsman"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def _envelope(message_id: str, body: str) -> str:
    namespaces = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NS.items())
    return (
        f"<s:Envelope {namespaces}><s:Header>"
        f"<a:RelatesTo>{escape(message_id)}</a:RelatesTo></s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    )


def _fault(message_id: str, code: str, reason: str) -> str:
    return _envelope(
        message_id,
        "<s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code>"
        f'<s:Reason><s:Text xml:lang="en-US">{escape(reason)}</s:Text></s:Reason>'
        f'<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"'
        f' Code="{code}"/></s:Detail></s:Fault>',
    )


def _handler_for(peer: WsmanPeer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path != "/wsman":
                return self._send(404, "")
            if not peer.authorized(self.headers.get("Authorization")):
                return self._send(401, "", {"WWW-Authenticate": 'Basic realm="WSMAN"'})
            with peer.host.lock:
                status, reply = peer.handle(body)
            self._send(status, reply)

        def _send(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/soap+xml;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler
