"""What the device adapters make of a network's rules: NetScaler virtual servers and services,
Palo Alto NAT and security entries, named after the network. No I/O."""

from __future__ import annotations

from adapters.devices import NetworkFacts
from adapters.devices.netscaler import _virtual_server
from adapters.devices.paloalto import _entries

NETWORK = NetworkFacts(
    "0a1b2c3d-0000-0000-0000-000000000000",
    "10.1.1.0/24",
    "10.1.1.1",
    5001,
    "203.0.113.10",
    {"publicnetwork": "outside", "privatenetwork": "inside"},
)


def test_an_ssl_balancer_is_an_ssl_server_in_front_of_plain_services() -> None:
    rule = {
        "id": "11112222-3333-4444-5555-666677778888",
        "kind": "LoadBalancing",
        "address": "203.0.113.11",
        "protocol": "ssl",
        "start_port": 443,
        "private_start": 8443,
        "algorithm": "source",
        "members": [{"vm_id": "v1", "vm_ip": "10.1.1.5"}],
        "stickiness": [{"name": "s", "method": "LbCookie", "params": {}}],
        "cert_id": "99998888-7777-6666-5555-444433332222",
    }
    server = _virtual_server(NETWORK.tag, rule)
    assert server.name == "Cloud-VS-0a1b2c3d-111122223333"
    assert (server.spec["servicetype"], server.spec["lbmethod"]) == ("SSL", "SOURCEIPHASH")
    assert server.spec["persistencetype"] == "COOKIEINSERT"
    assert server.certkey == "Cloud-Cert-0a1b2c3d-999988887777"
    (service,) = server.services.values()
    assert (service["ip"], service["port"], service["servicetype"]) == ("10.1.1.5", 8443, "HTTP")


def test_a_palo_alto_holds_source_nat_forwarding_and_security_in_its_zones() -> None:
    rules = (
        {
            "id": "aaaabbbb-0000-0000-0000-000000000000",
            "kind": "PortForwarding",
            "address": "203.0.113.11",
            "protocol": "tcp",
            "start_port": 2222,
            "end_port": 2222,
            "private_start": 22,
            "vm_ip": "10.1.1.5",
        },
        {
            "id": "ccccdddd-0000-0000-0000-000000000000",
            "kind": "FirewallEgress",
            "address": "",
            "protocol": "all",
            "cidrs": ["0.0.0.0/0"],
        },
    )
    found = _entries(NETWORK, rules)
    assert sorted(found["nat"]) == ["cs-0a1b2c3d-dnat-aaaabbbb", "cs-0a1b2c3d-snat"]
    assert "<translated-port>22</translated-port>" in found["nat"]["cs-0a1b2c3d-dnat-aaaabbbb"]
    assert "<member>outside</member>" in found["nat"]["cs-0a1b2c3d-snat"]
    assert "<port>2222</port>" in found["service"]["cs-0a1b2c3d-svc-aaaabbbb"]
    egress = found["security"]["cs-0a1b2c3d-fw-ccccdddd"]
    assert egress.startswith("<from><member>inside</member></from>") and "10.1.1.0/24" in egress
