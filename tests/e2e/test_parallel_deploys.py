"""Must-show: 200 deploys at once onto room for 150; exactly 150 run and no host over-commits.

Three simulator hosts of 25 cores x 1000 MHz and 25 GiB each hold 50 "Small Instance" VMs
(1 x 500 MHz, 512 MiB) apiece. Every deploy is submitted from its own thread at the same moment;
placement happens inside the request, so the 200 race for the same reservations.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from cs import CloudStack

from tests.e2e.test_vms import _host, _place

DEPLOYS = 200
ROOM = 150
HOSTS = 3
MIB = 1024**2


def _submit_all(sandbox, place, offering: dict) -> list[str]:
    """Each thread has its own client; a barrier releases them together."""
    start = threading.Barrier(DEPLOYS)

    def deploy(_: int) -> str:
        client = sandbox.client(timeout=120)
        start.wait(timeout=60)
        answer = client.deployVirtualMachine(
            zoneid=place.zone, serviceofferingid=offering["id"], templateid=place.template
        )
        return answer["jobid"]

    with ThreadPoolExecutor(max_workers=DEPLOYS) as pool:
        return list(pool.map(deploy, range(DEPLOYS)))


def _results(admin: CloudStack, job_ids: list[str], deadline_s: float = 120) -> list[dict]:
    deadline = time.monotonic() + deadline_s
    done: dict[str, dict] = {}
    while len(done) < len(job_ids) and time.monotonic() < deadline:
        for job_id in job_ids:
            if job_id not in done:
                job = admin.queryAsyncJobResult(jobid=job_id)
                if job["jobstatus"] != 0:
                    done[job_id] = job
        time.sleep(0.2)
    assert len(done) == len(job_ids), f"{len(job_ids) - len(done)} jobs never finished"
    return list(done.values())


def test_200_parallel_deploys_onto_room_for_150_place_exactly_150(sandbox) -> None:
    admin = sandbox.client(timeout=120)
    place = _place(admin)
    hosts = [_host(admin, place, f"h{n}", cores=25, memory=25) for n in range(HOSTS)]
    jobs = _results(admin, _submit_all(sandbox, place, place.small))
    succeeded = [j for j in jobs if j["jobstatus"] == 1]
    failed = [j for j in jobs if j["jobstatus"] == 2]
    assert (len(succeeded), len(failed)) == (ROOM, DEPLOYS - ROOM)
    assert {j["jobresult"]["errorcode"] for j in failed} == {533}
    listed = admin.listHosts(type="Routing", zoneid=place.zone)["host"]
    assert len(listed) == len(hosts)
    for host in listed:
        assert host["memoryallocated"] <= host["memorytotal"]
    # Failed deploys hold nothing: what is allocated is exactly the running VMs' share.
    assert sum(h["memoryallocated"] for h in listed) == ROOM * 512 * MIB
    vms = admin.listVirtualMachines(page=1, pagesize=500)["virtualmachine"]
    states = sorted(v["state"] for v in vms)
    assert states == ["Error"] * (DEPLOYS - ROOM) + ["Running"] * ROOM
