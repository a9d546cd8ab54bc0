"""A router's VPN secrets through the adapter worker, over the in-process bus and NATS: the
pre-shared key and the users' passwords travel only inside the sealed credentials, reach the
driver in memory, and come back in no result."""

from __future__ import annotations

from adapters.simulator.security import digest
from stratus.messages import WorkRequest, encode, seal_credentials
from tests.integration import test_worker
from tests.integration.test_worker import BOX, HOST_URL, PASSWORD, VM, Cloud, Flavour, run

flavour = test_worker.flavour  # the fixture: the in-process bus, and NATS when configured

KEY, USER_PASSWORD = "psk-2b7e151628aed2a6abf71588", "carol-pw-3c4f"


def test_vpn_secrets_reach_the_router_sealed_and_come_back_in_no_result(flavour: Flavour) -> None:
    async def scenario(cloud: Cloud) -> None:
        await cloud.worker("w1")
        await cloud.send("start_vm", "r-start", **{**VM, "name": "r-1-VM"})
        assert (await cloud.result("r-start")).ok
        secrets = {
            "preshared_key": KEY,
            "users": [{"username": "carol", "password": USER_PASSWORD}],
        }
        request = WorkRequest(
            request_id="r-vpn",
            hypervisor="Simulator",
            action="configure_remote_access_vpn",
            target_id="vpn-1",
            params={
                "host_id": "host-1",
                "name": "r-1-VM",
                "public_ip": "203.0.113.10",
                "local_ip": "10.1.2.1",
                "ip_range": "10.1.2.1-10.1.2.8",
            },
            sealed_credentials=seal_credentials(BOX, HOST_URL, "admin", PASSWORD, secrets=secrets),
        )
        payload = encode(request)
        assert KEY.encode() not in payload and USER_PASSWORD.encode() not in payload
        await cloud.bus.publish(
            f"{cloud.flavour.prefix}.work.simulator.configure_remote_access_vpn",
            payload,
            msg_id="r-vpn",
        )
        result = await cloud.result("r-vpn")
        assert result.ok, result.error
        assert result.data == {"state": "Running", "users": 1}
        served = cloud.world.firewalls.vpn("r-1-VM")
        assert served is not None and served["users"] == {"carol": digest(USER_PASSWORD)}
        answered = encode(result)
        assert KEY.encode() not in answered and USER_PASSWORD.encode() not in answered

    run(flavour, scenario)
