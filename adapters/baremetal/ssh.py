"""One SSH session with a provisioning server (a PXE or DHCP server, as 4.3 logs into them):
files read, written and removed over SFTP, commands run with their input on stdin.

Host keys are not checked: 4.3 trusts any key the server presents, and the operator registered
its address. A password given to a command travels on its stdin, never on its command line.
"""

from __future__ import annotations

import asyncio
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

from adapters import AuthenticationError, HypervisorError, Unreachable

TIMEOUT = 20.0  # seconds, for the login and for each step


@dataclass(frozen=True)
class Server:
    """Where a provisioning server is and its login (the password only in this memory)."""

    address: str  # host or host:port
    username: str
    password: str

    @property
    def host(self) -> str:
        return self.address.rsplit(":", 1)[0] if self.address.count(":") == 1 else self.address

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1]) if self.address.count(":") == 1 else 22


@dataclass(frozen=True)
class Write:
    path: str
    text: str


@dataclass(frozen=True)
class Remove:
    path: str


@dataclass(frozen=True)
class Run:
    command: str
    stdin: str = ""


@dataclass(frozen=True)
class Edit:
    """Replace (or drop, with `text` None) the block between two marker lines of a file."""

    path: str
    begin: str
    end: str
    text: str | None


Step = Write | Remove | Run | Edit


def carry_out(server: Server, steps: Sequence[Step], what: str) -> None:
    """Take `steps` in order on `server`; HypervisorError naming `what` when one fails."""
    try:
        asyncio.run(asyncio.wait_for(_session(server, steps), TIMEOUT * (len(steps) + 1)))
    except HypervisorError:
        raise
    except (OSError, TimeoutError) as unreachable:
        raise Unreachable(f"the {what} at {server.host} cannot be reached: {unreachable}") from None
    except Exception as failed:  # asyncssh's own errors
        if type(failed).__name__ == "PermissionDenied":
            raise AuthenticationError(f"the {what} at {server.host} refused the login") from None
        reason = getattr(failed, "reason", "") or str(failed) or type(failed).__name__
        raise HypervisorError(f"the {what} at {server.host} failed: {reason}") from None


async def _session(server: Server, steps: Sequence[Step]) -> None:
    import asyncssh

    async with (
        asyncssh.connect(
            server.host,
            server.port,
            username=server.username,
            password=server.password,
            known_hosts=None,
            client_keys=None,
            agent_path=None,
            login_timeout=TIMEOUT,
            connect_timeout=TIMEOUT,
        ) as connection,
        connection.start_sftp_client() as sftp,
    ):
        for step in steps:
            if isinstance(step, Run):
                done = await connection.run(step.command, input=step.stdin or None)
                if done.exit_status != 0:
                    raise HypervisorError(
                        f"{step.command.split()[0]} exited with {done.exit_status}"
                    )
            elif isinstance(step, Write):
                await _write(sftp, step.path, step.text)
            elif isinstance(step, Remove):
                if await sftp.exists(step.path):
                    await sftp.remove(step.path)
            else:
                await _edit(sftp, step)


async def _write(sftp: object, path: str, text: str) -> None:
    await sftp.makedirs(posixpath.dirname(path), exist_ok=True)  # type: ignore[attr-defined]
    async with sftp.open(path, "w") as opened:  # type: ignore[attr-defined]
        await opened.write(text)


async def _edit(sftp: object, step: Edit) -> None:
    current = ""
    if await sftp.exists(step.path):  # type: ignore[attr-defined]
        async with sftp.open(step.path, "r") as opened:  # type: ignore[attr-defined]
            current = await opened.read()
    await _write(sftp, step.path, replace_block(current, step.begin, step.end, step.text))


def replace_block(current: str, begin: str, end: str, text: str | None) -> str:
    """`current` without the lines from `begin` to `end`, then `text` between them appended."""
    kept: list[str] = []
    inside = False
    for line in current.splitlines():
        if line == begin:
            inside = True
        elif inside and line == end:
            inside = False
        elif not inside:
            kept.append(line)
    if text is not None:
        kept += [begin, *text.rstrip("\n").splitlines(), end]
    return "\n".join(kept) + "\n" if kept else ""
