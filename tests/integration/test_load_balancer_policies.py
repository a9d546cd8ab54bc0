"""Load balancers' own settings below the API, on SQLite and PostgreSQL: a changed algorithm, a
stickiness policy and an SSL certificate reach the router with the rule set (the simulated
router builds haproxy's configuration from them), a failed apply undoes the change, a bound
certificate cannot be deleted, and no private key is stored or sent in clear."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from commands import network_rules as cmd
from commands import ssl_certs as certs
from commands.offerings import seed_offerings
from domain.errors import InvalidParameter, ResourceInUse
from domain.job import Job, JobStatus
from domain.network_public_ip import PublicIp
from domain.network_rule_checks import Rule, RuleKind, StickinessPolicy
from domain.network_rules import NetworkRules, rule_set_id
from domain.ssl_cert import SslCert
from domain.values import Secret
from entrypoint.installation import open_runtime
from stratus.settings import Settings
from tests.integration.test_network_rules import ACCOUNT, DOMAIN, JOB, _network
from tests.integration.test_routers import Cloud
from tests.support.certs import issued, self_signed


@pytest.fixture
def cloud(settings: Settings) -> Iterator[Cloud]:
    runtime = open_runtime(settings)
    try:
        seed_offerings(runtime.store)
        yield Cloud(runtime)
    finally:
        runtime.close()


def _balancer(public: PublicIp, protocol: str = "ssl") -> Rule:
    return Rule(
        uuid4(),
        RuleKind.LOAD_BALANCING,
        public.id,
        public.address,
        ACCOUNT,
        DOMAIN,
        public.zone_id,
        protocol,
        start_port=443,
        end_port=443,
        private_start=8443,
        private_end=8443,
        name="web",
        algorithm="roundrobin",
    )


def _upload(cloud: Cloud, account: UUID = ACCOUNT) -> tuple[UUID, certs.CheckedCert, str]:
    made = issued()
    command = certs.UploadSslCert(
        account, DOMAIN, made.certificate, Secret(made.key), made.chain, None
    )
    outcome = certs.upload_ssl_cert(cloud.store, command)
    assert outcome.id is not None
    checked = certs.check_certificate(command, datetime.now(UTC))
    return outcome.id, checked, made.key


def _held(cloud: Cloud, router_id: UUID) -> tuple[str, dict[str, str]]:
    return cloud.world.rule_sets.balancer(cloud.router(router_id).instance_name)


def _active_balancer(cloud: Cloud, protocol: str = "ssl") -> tuple[UUID, UUID, UUID]:
    network_id, public, router_id = _network(cloud)
    made = cmd.add_rule(cloud.store, cmd.AddRule(_balancer(public, protocol), JOB))
    cloud.pump()
    assert cloud.store.get(Job, made.job_id).status == JobStatus.SUCCEEDED
    return network_id, made.rule_id, router_id


def test_stickiness_and_a_certificate_reach_the_router_as_haproxy_configuration(
    cloud: Cloud,
) -> None:
    network_id, rule_id, router_id = _active_balancer(cloud)
    policy = StickinessPolicy(uuid4(), "sticky", "LbCookie", (("cookie-name", "SRV"),))
    sticky = cmd.add_stickiness(cloud.store, cmd.AddStickiness(network_id, rule_id, policy, JOB))
    cert_id, checked, key = _upload(cloud)
    bound = cmd.bind_cert(cloud.store, cmd.BindCert(network_id, rule_id, cert_id, JOB))
    cloud.pump()
    for applying in (sticky, bound):
        assert cloud.store.get(Job, applying.job_id).status == JobStatus.SUCCEEDED
    text, digests = _held(cloud, router_id)
    assert "listen 203_0_113_5-443" in text
    assert f"bind 203.0.113.5:443 ssl crt /etc/haproxy/certs/{cert_id}.pem" in text
    assert "cookie SRV insert" in text
    assert "PRIVATE KEY" not in text
    bundle = checked.certificate + checked.chain + checked.private_key.reveal()
    assert digests == {str(cert_id): hashlib.sha256(bundle.encode()).hexdigest()}
    assert cloud.rows("SELECT state FROM lb_stickiness_policies") == [{"state": "Active"}]
    assert cloud.rows("SELECT cert_id FROM network_rules") == [{"cert_id": str(cert_id)}]
    assert cloud.store.get(SslCert, cert_id).rule_ids == {rule_id}
    _no_key_in_clear(cloud, key, checked.private_key.reveal())


def _no_key_in_clear(cloud: Cloud, *keys: str) -> None:
    """Neither the store's events nor any read model holds a key's text."""
    body = keys[0].splitlines()[1]
    sealed = keys[-1].splitlines()[1]
    notifications = cloud.store.recorder.select_notifications(0, 100000)
    for notification in notifications:
        stored = bytes(notification.state)
        assert body.encode() not in stored and sealed.encode() not in stored
    with cloud.runtime.db.read() as cursor:
        for table in ("ssl_certs", "network_rules", "lb_stickiness_policies", "events"):
            for row in cursor.execute(f"SELECT * FROM {table}").fetchall():
                text = repr(dict(row))
                assert body not in text and sealed not in text


def test_a_bound_certificate_cannot_be_deleted_until_it_is_removed(cloud: Cloud) -> None:
    network_id, rule_id, router_id = _active_balancer(cloud)
    cert_id, _, _ = _upload(cloud)
    cmd.bind_cert(cloud.store, cmd.BindCert(network_id, rule_id, cert_id, JOB))
    cloud.pump()
    with pytest.raises(ResourceInUse):
        certs.delete_ssl_cert(cloud.store, cert_id)
    with pytest.raises(InvalidParameter, match="Another certificate is already bound"):
        cmd.bind_cert(cloud.store, cmd.BindCert(network_id, rule_id, _upload(cloud)[0], JOB))
    cmd.bind_cert(cloud.store, cmd.BindCert(network_id, rule_id, None, JOB))
    cloud.pump()
    assert "ssl crt" not in _held(cloud, router_id)[0]
    assert cloud.store.get(SslCert, cert_id).rule_ids == set()
    certs.delete_ssl_cert(cloud.store, cert_id)
    cloud.runtime.runner.catch_up()
    assert cloud.rows("SELECT id FROM ssl_certs WHERE id = %s", str(cert_id)) == []


def test_a_certificate_binds_only_to_an_ssl_balancer_of_its_own_account(cloud: Cloud) -> None:
    network_id, rule_id, _ = _active_balancer(cloud, protocol="tcp")
    cert_id, _, _ = _upload(cloud)
    with pytest.raises(InvalidParameter, match="Bad LB protocol: Expected ssl got tcp"):
        cmd.bind_cert(cloud.store, cmd.BindCert(network_id, rule_id, cert_id, JOB))
    rules = cloud.store.get(NetworkRules, rule_set_id(network_id))
    assert rules.rules[rule_id].cert_id is None
    assert cloud.store.get(SslCert, cert_id).rule_ids == set()


def test_a_failed_apply_puts_the_old_algorithm_back_and_drops_the_new_policy(
    cloud: Cloud,
) -> None:
    network_id, rule_id, router_id = _active_balancer(cloud)
    cloud.world.fail_next("apply_network_rules")
    change = cmd.ChangeBalancer(network_id, rule_id, "renamed", "front", "leastconn", JOB)
    changing = cmd.change_balancer(cloud.store, change)
    cloud.pump()
    assert cloud.store.get(Job, changing.job_id).status == JobStatus.FAILED
    row = cloud.rows("SELECT name, algorithm, description FROM network_rules")[0]
    assert row == {"name": "web", "algorithm": "roundrobin", "description": ""}

    cloud.world.fail_next("apply_network_rules")
    policy = StickinessPolicy(uuid4(), "by-source", "SourceBased", (("expire", "30m"),))
    cmd.add_stickiness(cloud.store, cmd.AddStickiness(network_id, rule_id, policy, JOB))
    cloud.pump()
    assert cloud.rows("SELECT * FROM lb_stickiness_policies") == []

    cmd.change_balancer(cloud.store, replace(change, name=None))
    cloud.pump()
    assert "balance leastconn" in _held(cloud, router_id)[0]
    row = cloud.rows("SELECT name, algorithm, description FROM network_rules")[0]
    assert row == {"name": "web", "algorithm": "leastconn", "description": "front"}


def test_only_one_stickiness_policy_per_balancer_and_its_delete_reaches_the_router(
    cloud: Cloud,
) -> None:
    network_id, rule_id, router_id = _active_balancer(cloud, protocol="tcp")
    first = StickinessPolicy(uuid4(), "a", "SourceBased", (("tablesize", "100k"),))
    cmd.add_stickiness(cloud.store, cmd.AddStickiness(network_id, rule_id, first, JOB))
    second = StickinessPolicy(uuid4(), "b", "AppCookie", ())
    with pytest.raises(InvalidParameter, match="Already policy attached 1"):
        cmd.add_stickiness(cloud.store, cmd.AddStickiness(network_id, rule_id, second, JOB))
    cloud.pump()
    assert "stick-table type ip size 100k expire 30m" in _held(cloud, router_id)[0]
    cmd.remove_stickiness(cloud.store, cmd.RemoveStickiness(network_id, first.id, JOB))
    cloud.pump()
    assert "stick-table" not in _held(cloud, router_id)[0]
    assert cloud.rows("SELECT * FROM lb_stickiness_policies") == []


def _command(made: object, **changes: object) -> certs.UploadSslCert:
    values = {
        "account_id": ACCOUNT,
        "domain_id": DOMAIN,
        "certificate": made.certificate,  # type: ignore[attr-defined]
        "private_key": Secret(made.key),  # type: ignore[attr-defined]
        "chain": made.chain or None,  # type: ignore[attr-defined]
        "password": None,
    }
    values.update(changes)
    return certs.UploadSslCert(**values)  # type: ignore[arg-type]


def test_certificates_are_checked_as_4_3_checks_them() -> None:
    now = datetime.now(UTC)
    good, other = issued(), issued("other.example.com")
    assert certs.check_certificate(_command(good), now).fingerprint.count(":") == 19
    refusals = {
        "Bad public-private key": _command(good, private_key=Secret(other.key)),
        "Certificate expired or not valid": _command(self_signed(expired=True)),
        "Invalid certificate chain": _command(good, chain=other.chain),
        "Parsing certificate/key failed": _command(good, certificate="not a certificate"),
    }
    for text, command in refusals.items():
        with pytest.raises(InvalidParameter, match=text) as refused:
            certs.check_certificate(command, now)
        assert "PRIVATE KEY" not in str(refused.value)
    assert certs.check_certificate(_command(self_signed()), now).chain == ""
    with pytest.raises(InvalidParameter, match="Certificate expired"):
        certs.check_certificate(_command(good), now + timedelta(days=90))


def test_an_encrypted_key_opens_with_its_password_only() -> None:
    made, now = issued(password=b"s3cret-pass"), datetime.now(UTC)
    with pytest.raises(InvalidParameter, match="needs its password"):
        certs.check_certificate(_command(made), now)
    with pytest.raises(InvalidParameter, match="wrong password"):
        certs.check_certificate(_command(made, password=Secret("wrong")), now)
    checked = certs.check_certificate(_command(made, password=Secret("s3cret-pass")), now)
    assert "ENCRYPTED" not in checked.private_key.reveal()
