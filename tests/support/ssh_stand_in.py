"""An SSH server the tests start (asyncssh), standing in for the machines 4.3 logs into over SSH:
a Cisco Nexus 1000v VSM (its NETCONF `xmlagent` subsystem) and the bare-metal PXE and DHCP
servers (SFTP into a folder of its own, and commands whose runs it records).

One user and password are accepted. Files written over SFTP land under `root`, so a test reads
what a real PXE or DHCP server would read from its configuration folders.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

FRAME_END = "]]>]]>"


@dataclass
class VsmDomain:
    """What `show svs domain` tells of the VSM's switch domain."""

    domain_id: int = 100
    control_vlan: int = 110
    packet_vlan: int = 111
    management_vlan: int = 112
    storage_vlan: int = 113


@dataclass
class Run:
    """One command run over SSH: its command line and what it was given on stdin."""

    command: str
    stdin: str


@dataclass
class SshStandIn:
    username: str = "admin"
    password: str = "ssh-secret"
    domain: VsmDomain = field(default_factory=VsmDomain)
    runs: list[Run] = field(default_factory=list)
    netconf: list[str] = field(default_factory=list)  # the RPCs a NETCONF client sent
    logins: list[tuple[str, bool]] = field(default_factory=list)
    _folder: tempfile.TemporaryDirectory[str] | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _port: int = 0

    @property
    def root(self) -> Path:
        assert self._folder is not None
        return Path(self._folder.name)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    def file(self, path: str) -> str:
        """The text of a file written to the server (absolute paths are the server's)."""
        return (self.root / path.lstrip("/")).read_text()

    def exists(self, path: str) -> bool:
        return (self.root / path.lstrip("/")).exists()

    def start(self) -> SshStandIn:
        self._folder = tempfile.TemporaryDirectory(prefix="ssh-stand-in-")
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._serve, args=(ready,), daemon=True).start()
        ready.wait(30)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._folder is not None:
            self._folder.cleanup()

    def _serve(self, ready: threading.Event) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(self._listen())
        self._port = server.sockets[0].getsockname()[1]
        ready.set()
        self._loop.run_forever()
        server.close()

    async def _listen(self) -> Any:
        stand_in = self

        class Server(asyncssh.SSHServer):
            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                accepted = (username, password) == (stand_in.username, stand_in.password)
                stand_in.logins.append((username, accepted))
                return accepted

        root = str(self.root).encode()
        return await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[asyncssh.generate_private_key("ssh-ed25519")],
            server_factory=Server,
            process_factory=self._process,
            sftp_factory=lambda channel: asyncssh.SFTPServer(channel, chroot=root),
            allow_scp=False,
        )

    async def _process(self, process: asyncssh.SSHServerProcess[str]) -> None:
        if process.subsystem == "xmlagent":
            await self._xmlagent(process)
            return
        command = process.command or ""
        stdin = ""
        if "-f /dev/stdin" in command or command.startswith("cat"):
            stdin = await process.stdin.read()
        self.runs.append(Run(command, stdin))
        process.exit(0)

    async def _xmlagent(self, process: asyncssh.SSHServerProcess[str]) -> None:
        """NETCONF 1.0 as the Nexus 1000v's xmlagent speaks it: hellos, then framed RPCs."""
        process.stdout.write(
            '<?xml version="1.0"?><nc:hello xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0">'
            "<nc:capabilities><nc:capability>urn:ietf:params:xml:ns:netconf:base:1.0"
            "</nc:capability></nc:capabilities><nc:session-id>4242</nc:session-id></nc:hello>"
            f"{FRAME_END}"
        )
        buffered = ""
        while True:
            chunk = await process.stdin.read(65536)
            if not chunk:
                break
            buffered += chunk
            while FRAME_END in buffered:
                message, buffered = buffered.split(FRAME_END, 1)
                if "close-session" in message:
                    process.stdout.write(_reply(message, "<nf:ok/>"))
                    process.exit(0)
                    return
                if "<rpc" in message or ":rpc" in message:
                    self.netconf.append(message.strip())
                    process.stdout.write(_reply(message, self._answer(message)))
        process.exit(0)

    def _answer(self, message: str) -> str:
        if "<svs>" in message and "<domain" in message:
            d = self.domain
            return (
                "<nf:data><show><svs><domain><__XML__OPT_Cmd_show_svs_domain___readonly__>"
                "<__readonly__>"
                f"<domain_id>{d.domain_id}</domain_id><ctrl_vlan>{d.control_vlan}</ctrl_vlan>"
                f"<pkt_vlan>{d.packet_vlan}</pkt_vlan><mgmt_vlan>{d.management_vlan}</mgmt_vlan>"
                f"<storage_vlan>{d.storage_vlan}</storage_vlan>"
                "<control_mode>L2</control_mode><sync_state>Active</sync_state>"
                "</__readonly__></__XML__OPT_Cmd_show_svs_domain___readonly__>"
                "</domain></svs></show></nf:data>"
            )
        return (
            "<nf:rpc-error><nf:error-type>application</nf:error-type>"
            "<nf:error-message>unknown command</nf:error-message></nf:rpc-error>"
        )


def _reply(message: str, body: str) -> str:
    found = re.search(r'message-id="([^"]*)"', message)
    message_id = found.group(1) if found else "1"
    return (
        '<?xml version="1.0"?><nf:rpc-reply xmlns:nf="urn:ietf:params:xml:ns:netconf:base:1.0" '
        f'xmlns="http://www.cisco.com/nxos:1.0:vsm" message-id="{message_id}">{body}'
        f"</nf:rpc-reply>{FRAME_END}"
    )
