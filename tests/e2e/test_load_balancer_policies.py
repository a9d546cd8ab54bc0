"""A load balancer's stickiness policy and SSL certificate through the `cs` client, on the
embedded default (SQLite and PostgreSQL): an owner uploads a certificate, puts it and a
stickiness policy on an ssl load balancer in front of two VMs, and the network's simulated
router runs the haproxy configuration they make (read from the file STRATUS_SIMULATOR_RULES
names). Bad input is refused as 4.3 refuses it, another account reaches nothing, and the
private key shows in no answer, log or file of the server."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from api.reference import reference
from api.response_gaps import UNBUILT_FIELDS
from tests.e2e.sandbox import Sandbox
from tests.e2e.test_network_rules import job_refused, refused, tenant_with_network
from tests.e2e.test_routers import wait_for
from tests.support.certs import issued


def balancer_config(sandbox: Sandbox, router: dict[str, Any]) -> tuple[str, dict[str, str]]:
    path = Path(sandbox.env["STRATUS_SIMULATOR_RULES"])
    if not path.exists():
        return "", {}
    held = json.loads(path.read_text()).get(router["name"], {})
    return held.get("haproxy", ""), held.get("certificates", {})


def assert_4_3_fields(command: str, answer: dict[str, Any]) -> None:
    """The answer carries the reference's response fields, but those declared unbuilt."""
    expected = set(reference()[command].response) - set(UNBUILT_FIELDS.get(command, {}))
    assert sorted(expected - set(answer)) == []


def _files_hold(root: Path, text: str) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and text.encode() in path.read_bytes():
            found.append(str(path))
    return found


def test_policies_and_a_certificate_on_a_balancer_reach_the_router(sandbox) -> None:
    _admin, alice, bob, network, (web, db) = tenant_with_network(sandbox)
    user, router = alice.client, network["router"]
    made = issued("shop.example.com")
    key_line = made.key.splitlines()[1]

    # Upload: checked, answered without its key
    refused(user.uploadSslCert, 431, certificate=made.certificate, privatekey=issued().key)
    cert = user.uploadSslCert(
        certificate=made.certificate, privatekey=made.key, certchain=made.chain
    )["sslcert"]
    assert "privatekey" not in cert and cert["fingerprint"].count(":") == 19
    assert cert["certificate"] == made.certificate and cert["certchain"] == made.chain
    listed = user.listSslCerts(accountid=alice.account_id)["sslcert"]
    assert [c["id"] for c in listed] == [cert["id"]]
    refused(user.listSslCerts, 431)

    ip = user.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]
    balancer = user.createLoadBalancerRule(
        publicipid=ip["id"],
        name="shop",
        algorithm="roundrobin",
        publicport=443,
        privateport=8443,
        protocol="ssl",
        fetch_result=True,
    )["loadbalancer"]
    plain = user.createLoadBalancerRule(
        publicipid=ip["id"],
        name="plain",
        algorithm="roundrobin",
        publicport=80,
        privateport=8080,
        fetch_result=True,
    )["loadbalancer"]
    user.assignToLoadBalancerRule(
        id=balancer["id"], virtualmachineids=f"{web['id']},{db['id']}", fetch_result=True
    )

    # Stickiness: checked as 4.3 checks it, one per rule
    for bad in (
        {"methodname": "Magic"},
        {"methodname": "SourceBased", "param": [{"name": "expire", "value": "soon"}]},
        {"methodname": "LbCookie", "param": [{"name": "colour", "value": "red"}]},
    ):
        refused(user.createLBStickinessPolicy, 431, lbruleid=balancer["id"], name="x", **bad)
    sticky = user.createLBStickinessPolicy(
        lbruleid=balancer["id"],
        name="sticky",
        methodname="LbCookie",
        param=[{"name": "cookie-name", "value": "SRV"}, {"name": "nocache", "value": "true"}],
        fetch_result=True,
    )["stickinesspolicies"]
    (policy,) = sticky["stickinesspolicy"]
    assert (policy["methodname"], policy["params"], policy["state"]) == (
        "LbCookie",
        {"cookie-name": "SRV", "nocache": "true"},
        "Active",
    )
    refused(
        user.createLBStickinessPolicy,
        431,
        lbruleid=balancer["id"],
        name="second",
        methodname="SourceBased",
    )
    listed = user.listLBStickinessPolicies(lbruleid=balancer["id"])["stickinesspolicies"]
    assert [p["id"] for p in listed[0]["stickinesspolicy"]] == [policy["id"]]

    # Health checks are NetScaler's: the router's rule is refused one, as in 4.3
    text = refused(user.createLBHealthCheckPolicy, 431, lbruleid=balancer["id"], pingpath="/")
    assert "HealthCheck Policy is not supported by LB Provider" in text
    checks = user.listLBHealthCheckPolicies(lbruleid=balancer["id"])["healthcheckpolicies"]
    assert checks[0]["healthcheckpolicy"] == []

    # The certificate: only on an ssl rule, one per rule, never on another account's rule
    refused(user.assignCertToLoadBalancer, 431, certid=cert["id"], lbruleid=plain["id"])
    user.assignCertToLoadBalancer(certid=cert["id"], lbruleid=balancer["id"], fetch_result=True)
    refused(user.assignCertToLoadBalancer, 431, certid=cert["id"], lbruleid=balancer["id"])
    bound = user.listSslCerts(lbruleid=balancer["id"])["sslcert"]
    assert_4_3_fields("listSslCerts", bound[0])
    assert_4_3_fields("listLBStickinessPolicies", listed[0])
    assert bound[0]["loadbalancerrulelist"] == balancer["id"]

    changed = user.updateLoadBalancerRule(
        id=balancer["id"], algorithm="leastconn", description="the shop", fetch_result=True
    )["loadbalancer"]
    assert (changed["algorithm"], changed["description"]) == ("leastconn", "the shop")
    job_refused(user.updateLoadBalancerRule, 431, id=balancer["id"], algorithm="fastest")

    # The router runs it
    config, digests = balancer_config(sandbox, router)
    assert f"bind {ip['ipaddress']}:443 ssl crt /etc/haproxy/certs/{cert['id']}.pem" in config
    assert "balance leastconn" in config and "cookie SRV insert nocache" in config
    servers = [line for line in config.splitlines() if line.strip().startswith("server ")]
    assert len(servers) == 2 and all(":8443 check cookie" in s for s in servers)
    bundle = made.certificate + made.chain + made.key
    assert digests == {cert["id"]: hashlib.sha256(bundle.encode()).hexdigest()}

    # Another account reaches nothing
    assert bob.client.listSslCerts(certid=cert["id"]) == {}
    refused(bob.client.listLBStickinessPolicies, 531, lbruleid=balancer["id"])
    refused(bob.client.removeCertFromLoadBalancer, 531, lbruleid=balancer["id"])
    refused(bob.client.deleteLBStickinessPolicy, 531, id=policy["id"])
    refused(bob.client.deleteSslCert, 531, id=cert["id"])

    global_balancing(user, bob.client, balancer, plain, ip["ipaddress"])

    # A bound certificate stays; removed from its rule, it can go
    refused(user.deleteSslCert, 536, id=cert["id"])
    user.removeCertFromLoadBalancer(lbruleid=balancer["id"], fetch_result=True)
    user.deleteLBStickinessPolicy(id=policy["id"], fetch_result=True)
    assert wait_for(lambda: "ssl crt" not in balancer_config(sandbox, router)[0], 10)
    config = balancer_config(sandbox, router)[0]
    assert "cookie SRV" not in config and "listen" in config
    user.deleteSslCert(id=cert["id"])
    assert user.listSslCerts(accountid=alice.account_id) == {}

    # The key was in no answer, log line or file of the server
    assert key_line not in sandbox.output()
    assert _files_hold(sandbox.data_dir, key_line) == []
    assert key_line not in json.dumps(user.listEvents(listall="true"))


def global_balancing(user: Any, stranger: Any, balancer: dict, plain: dict, address: str) -> None:
    """A global load balancer rule serving a DNS name from the load balancer."""
    create = {"name": "shop", "gslbservicetype": "http", "regionid": 1}
    for bad in (
        {"gslbdomainname": "shop.example.com", "gslblbmethod": "fastest"},
        {"gslbdomainname": "not a name"},
        {"gslbdomainname": "shop.example.com", "regionid": 99},
    ):
        refused(user.createGlobalLoadBalancerRule, 431, **(create | bad))
    rule = user.createGlobalLoadBalancerRule(
        gslbdomainname="shop.example.com", fetch_result=True, **create
    )["globalloadbalancer"]
    assert (rule["gslblbmethod"], rule["gslbstickysessionmethodname"]) == (
        "roundrobin",
        "sourceip",
    )
    refused(user.createGlobalLoadBalancerRule, 431, gslbdomainname="shop.example.com", **create)
    weights = [{"loadbalancerid": balancer["id"], "weight": "500"}]
    refused(
        user.assignToGlobalLoadBalancerRule,
        431,
        id=rule["id"],
        loadbalancerrulelist=balancer["id"],
        gslblbruleweightsmap=weights,
    )
    user.assignToGlobalLoadBalancerRule(
        id=rule["id"],
        loadbalancerrulelist=balancer["id"],
        gslblbruleweightsmap=[{"loadbalancerid": balancer["id"], "weight": "5"}],
        fetch_result=True,
    )
    refused(  # one load balancer per zone
        user.assignToGlobalLoadBalancerRule, 431, id=rule["id"], loadbalancerrulelist=plain["id"]
    )
    (listed,) = user.listGlobalLoadBalancerRules(id=rule["id"])["globalloadbalancerrule"]
    assert_4_3_fields("listGlobalLoadBalancerRules", listed)
    assert [lb["id"] for lb in listed["loadbalancerrule"]] == [balancer["id"]]
    answers = user.resolveGlobalLoadBalancerName(gslbdomainname="shop.example.com", count=3)
    assert [a["ipaddress"] for a in answers["gslbanswer"]] == [address] * 3

    assert stranger.listGlobalLoadBalancerRules() == {}
    refused(stranger.deleteGlobalLoadBalancerRule, 531, id=rule["id"])
    refused(stranger.resolveGlobalLoadBalancerName, 531, gslbdomainname="shop.example.com")

    changed = user.updateGlobalLoadBalancerRule(
        id=rule["id"], gslblbmethod="leastconn", fetch_result=True
    )["globalloadbalancer"]
    assert changed["gslblbmethod"] == "leastconn"
    user.removeFromGlobalLoadBalancerRule(
        id=rule["id"], loadbalancerrulelist=balancer["id"], fetch_result=True
    )
    assert user.resolveGlobalLoadBalancerName(gslbdomainname="shop.example.com") == {}
    user.deleteGlobalLoadBalancerRule(id=rule["id"], fetch_result=True)
    assert user.listGlobalLoadBalancerRules() == {}
