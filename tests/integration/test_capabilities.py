"""A driver refuses an action it lacks the capability for before touching the hypervisor, so
nothing is left powered on that the cloud would record as not started."""

from __future__ import annotations

import pytest

from adapters import Credentials
from adapters.requests import Unsupported
from adapters.sessions import HostSession, perform
from adapters.xenserver.driver import XenServerDriver
from tests.peers.model import GIB, HostShape
from tests.peers.xapi import XapiPeer

SHAPE = HostShape(name="h1", version="6.2.0", sockets=2, cores=8, mhz=2000, memory_bytes=16 * GIB)


def test_a_router_start_on_xenserver_is_refused_and_leaves_no_vm_on_the_host() -> None:
    peer = XapiPeer(SHAPE, "root", "pw")
    with peer.serving() as url:
        session = HostSession("host-1", XenServerDriver)
        credentials = Credentials(url, "root", "pw")
        params = {"name": "r-7-VM", "cpu_number": 1, "cpu_speed_mhz": 500, "memory_mb": 256}
        with pytest.raises(Unsupported, match="start_system_vm"):
            perform(session, "start_system_vm", params, credentials)
        assert peer.host.vms == {}
        # The same host still runs guests: only the missing capability is refused.
        perform(session, "start_vm", {**params, "name": "i-2-7-VM"}, credentials)
        assert [vm.name for vm in peer.host.vms.values()] == ["i-2-7-VM"]
