"""uploadCustomCertificate: the console proxies' certificate, its chain first and then the
server certificate with its key; the key checked against the certificate, sealed and never
shown; the running console proxies rebooted to take the new certificate up, as in 4.3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e import test_routers
from tests.e2e.factories import make_tenant
from tests.e2e.sandbox import Sandbox
from tests.e2e.test_routers import SYSTEM_TEMPLATE, build, register_template
from tests.support.certs import issued, self_signed
from tests.support.waiting import wait_until

sim_sandbox = test_routers.sim_sandbox  # the fixture: a sandbox and the simulator's control file


def _upload(admin: CloudStack, **params: Any) -> dict:
    params.setdefault("domainsuffix", "console.example.org")
    submitted = admin.uploadCustomCertificate(**params)
    return wait_until(
        lambda: (
            (job := admin.queryAsyncJobResult(jobid=submitted["jobid"]))["jobstatus"] != 0 and job
        ),
        60,
        "the upload job",
    )


def _history(admin: CloudStack, resource_id: str) -> str:
    return str(admin.listResourceHistory(id=resource_id)["resourceevent"])


def test_a_certificate_chain_and_its_server_certificate_are_taken_up(
    sim_sandbox: tuple[Sandbox, Path],
) -> None:
    server, _ = sim_sandbox
    admin = server.client()
    zone = build(admin, zones=1, pods=1).zones[0]
    register_template(admin, SYSTEM_TEMPLATE)
    proxy = admin.createSystemVm(
        zoneid=zone, systemvmtype="consoleproxy", hypervisor="Simulator", fetch_result=True
    )["systemvm"]
    pair = issued("console.example.org")

    chained = _upload(admin, certificate=pair.chain, id=1, name="ca")
    assert chained["jobstatus"] == 1
    assert "successfully updated" in chained["jobresult"]["customcertificate"]["message"]
    assert "RebootRequested" not in _history(admin, proxy["id"])  # a chain alone changes none

    served = _upload(admin, certificate=pair.certificate, privatekey=pair.key, name="site")
    assert served["jobstatus"] == 1
    wait_until(lambda: "Rebooted" in _history(admin, proxy["id"]), 60, "the proxy's reboot")
    assert admin.listSystemVms(id=proxy["id"])["systemvm"][0]["state"] == "Running"
    answers = [chained, served, admin.listAsyncJobs(), admin.listResourceHistory(id=proxy["id"])]
    key_line = pair.key.splitlines()[1]
    assert all(key_line not in str(answer) for answer in answers)
    for path in [*server.server.data_dir.rglob("*"), server.server.log]:
        if path.is_file():
            assert key_line.encode() not in path.read_bytes(), path


def test_bad_certificates_are_refused_and_nobody_but_root_admins_uploads(
    sim_sandbox: tuple[Sandbox, Path],
) -> None:
    server, _ = sim_sandbox
    admin = server.client()
    pair, other = issued(), self_signed()
    cases = [
        ({"certificate": "not a certificate", "id": 1}, "Parsing certificate"),
        ({"certificate": pair.certificate, "privatekey": other.key}, "Bad public-private key"),
        ({"certificate": pair.certificate}, "give its place (id)"),
        ({"certificate": pair.certificate, "privatekey": pair.key, "domainsuffix": "x"}, "suffix"),
    ]
    for params, text in cases:
        failed = _upload(admin, **params)
        assert failed["jobstatus"] == 2, (params, failed)
        assert failed["jobresult"]["errorcode"] == 431
        assert text in failed["jobresult"]["errortext"], (params, failed)
    user = make_tenant(server, admin).client
    with pytest.raises(CloudStackApiException) as refused:
        user.uploadCustomCertificate(certificate=pair.certificate, domainsuffix="a.example.org")
    assert refused.value.error["errorcode"] == 432
