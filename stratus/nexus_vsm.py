"""Logging into a Cisco Nexus 1000v VSM before it is registered, as 4.3 does when a VMware
cluster is added with one: NETCONF over SSH (the VSM's `xmlagent` subsystem, port 22 unless the
address names another), the hellos exchanged, then `show svs domain`, which tells the switch
domain and its VLANs. A VSM that refuses, cannot be reached or does not answer NETCONF raises
`DeviceRefused`; the password is sent and never logged.

Host keys are not checked: 4.3 trusts any key the VSM presents, and an operator registers its
address themselves. asyncssh is imported when a VSM is reached, not with this module.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from xml.etree import ElementTree

from domain.values import Secret
from stratus.device_login import DeviceRefused

TIMEOUT = 10.0  # seconds, for the login and for each answer
FRAME_END = "]]>]]>"
BASE = "urn:ietf:params:xml:ns:netconf:base:1.0"
HELLO = (
    f'<?xml version="1.0"?><nc:hello xmlns:nc="{BASE}"><nc:capabilities>'
    f"<nc:capability>{BASE}</nc:capability></nc:capabilities></nc:hello>{FRAME_END}"
)
SHOW_SVS_DOMAIN = (
    f'<?xml version="1.0"?><nf:rpc xmlns:nf="{BASE}" xmlns="http://www.cisco.com/nxos:1.0:vsm" '
    'message-id="1"><nf:get><nf:filter type="subtree"><show><svs><domain/></svs></show>'
    f"</nf:filter></nf:get></nf:rpc>{FRAME_END}"
)
CLOSE = (
    f'<?xml version="1.0"?><nf:rpc xmlns:nf="{BASE}" message-id="2"><nf:close-session/>'
    f"</nf:rpc>{FRAME_END}"
)


@dataclass(frozen=True)
class SwitchDomain:
    """The VSM's switch domain as `show svs domain` answers it."""

    domain_id: str
    control_vlan: str
    packet_vlan: str
    management_vlan: str
    storage_vlan: str
    config_mode: str


def check_vsm(address: str, username: str, password: Secret) -> SwitchDomain:
    """Log into the VSM at `address` (host or host:port) and read its switch domain."""
    host, _, port = address.partition(":")
    try:
        return asyncio.run(
            asyncio.wait_for(_session(host, int(port or 22), username, password), TIMEOUT * 3)
        )
    except DeviceRefused:
        raise
    except (OSError, TimeoutError) as unreachable:
        raise DeviceRefused(
            f"Failed to connect to the Nexus 1000v VSM at {host}: {unreachable or 'timed out'}"
        ) from None
    except Exception as failed:  # asyncssh's own errors: refused login, closed channel
        reason = getattr(failed, "reason", "") or type(failed).__name__
        raise DeviceRefused(
            f"Failed to log in to the Nexus 1000v VSM at {host}: {reason}"
        ) from None


async def _session(host: str, port: int, username: str, password: Secret) -> SwitchDomain:
    import asyncssh

    async with asyncssh.connect(
        host,
        port,
        username=username,
        password=password.reveal(),
        known_hosts=None,
        client_keys=None,
        agent_path=None,
        login_timeout=TIMEOUT,
        connect_timeout=TIMEOUT,
    ) as connection:
        writer, reader, _ = await connection.open_session(subsystem="xmlagent", encoding="utf-8")
        await _frame(reader)  # the VSM's hello
        writer.write(HELLO + SHOW_SVS_DOMAIN)
        answer = await _frame(reader)
        writer.write(CLOSE)
        writer.write_eof()
    return _domain(answer, host)


async def _frame(reader: asyncio.StreamReader | object) -> str:
    found: str = await asyncio.wait_for(reader.readuntil(FRAME_END), TIMEOUT)  # type: ignore[attr-defined]
    return found[: -len(FRAME_END)]


def _domain(answer: str, host: str) -> SwitchDomain:
    try:
        reply = ElementTree.fromstring(re.sub(r"^<\?xml[^>]*\?>", "", answer.strip()))
    except ElementTree.ParseError:
        raise DeviceRefused(f"The Nexus 1000v VSM at {host} answered no NETCONF reply") from None
    values = {element.tag.rsplit("}", 1)[-1]: (element.text or "") for element in reply.iter()}
    if "domain_id" not in values:
        message = values.get("error-message") or "no switch domain"
        raise DeviceRefused(f"The Nexus 1000v VSM at {host} refused show svs domain: {message}")
    return SwitchDomain(
        domain_id=values["domain_id"],
        control_vlan=values.get("ctrl_vlan", ""),
        packet_vlan=values.get("pkt_vlan", ""),
        management_vlan=values.get("mgmt_vlan", ""),
        storage_vlan=values.get("storage_vlan", ""),
        config_mode=values.get("control_mode", ""),
    )
