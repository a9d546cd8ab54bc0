"""Many clients deploying into one basic zone at once: every deploy is answered and runs.

Every deploy takes its room from the same host and joins the same default security group,
so concurrent deploys keep changing the same aggregates. The server orders or
retries that work itself; no client is told "changed by another request".
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.e2e.conftest import Server
from tests.e2e.test_security_groups_vpn import _basic_place
from tests.e2e.test_vms import _host

CLIENTS = 16
DEPLOYS_EACH = 6


def test_sixteen_clients_deploying_into_one_basic_zone_all_get_running_vms(
    server: Server,
) -> None:
    admin = server.client(timeout=120)
    place = _basic_place(admin)
    _host(admin, place, "b1", cores=64, memory=64)
    start = threading.Barrier(CLIENTS)

    def client(_: int) -> list[dict]:
        own = server.client(timeout=120)
        start.wait(timeout=60)
        return [
            own.deployVirtualMachine(
                zoneid=place.zone,
                serviceofferingid=place.small["id"],
                templateid=place.template,
                fetch_result=True,
            )
            for _ in range(DEPLOYS_EACH)
        ]

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        answers = [a for each in pool.map(client, range(CLIENTS)) for a in each]
    vms = [answer["virtualmachine"] for answer in answers]
    assert {vm["state"] for vm in vms} == {"Running"}
    assert len({vm["id"] for vm in vms}) == CLIENTS * DEPLOYS_EACH
