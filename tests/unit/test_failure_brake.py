"""The failure brake: who is refused after which failures, for how long, in how much memory."""

from __future__ import annotations

import secrets

import pytest

from api.brake import BrakeLimits, FailureBrake, source_of
from api.errors import RateLimited


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _brake(capacity: int = 10_000) -> tuple[FailureBrake, Clock]:
    clock = Clock()
    return FailureBrake(BrakeLimits(capacity=capacity), clock=clock), clock


def _fail(brake: FailureBrake, source: str, principal: str, times: int) -> None:
    for _ in range(times):
        brake.failed(source, principal)


def test_ten_failures_refuse_that_source_for_that_principal_only() -> None:
    brake, _ = _brake()
    _fail(brake, "203.0.113.9", "key:victim", 10)
    with pytest.raises(RateLimited):
        brake.check("203.0.113.9", "key:victim")
    brake.check("198.51.100.1", "key:victim")  # the victim elsewhere
    brake.check("203.0.113.9", "key:other")  # the same source, another principal


def test_the_refusal_lifts_once_the_failures_are_older_than_the_window() -> None:
    brake, clock = _brake()
    _fail(brake, "203.0.113.9", "key:victim", 10)
    clock.now += 61
    brake.check("203.0.113.9", "key:victim")


def test_spraying_one_failure_each_over_many_principals_refuses_the_source() -> None:
    brake, _ = _brake()
    for n in range(50):
        brake.check("203.0.113.9", f"login:/:user{n}")
        brake.failed("203.0.113.9", f"login:/:user{n}")
    with pytest.raises(RateLimited):
        brake.check("203.0.113.9", "login:/:someone-new")
    brake.check("198.51.100.1", "login:/:user1")


def test_a_distributed_guess_refuses_addresses_that_failed_but_not_a_clean_one() -> None:
    brake, _ = _brake()
    for n in range(100):
        brake.failed(f"10.0.{n // 250}.{n % 250}", "login:/:admin")
    with pytest.raises(RateLimited):
        brake.check("10.0.0.1", "login:/:admin")  # failed once, while the principal is hunted
    brake.check("198.51.100.1", "login:/:admin")


def test_random_keys_from_many_addresses_use_a_bounded_memory() -> None:
    brake, _ = _brake(capacity=500)
    for n in range(5000):
        brake.failed(f"10.{n // 65536}.{n // 256 % 256}.{n % 256}", f"key:{secrets.token_hex(40)}")
    assert len(brake) <= 3 * 500


def test_when_room_is_short_the_least_recently_failing_are_forgotten_first() -> None:
    brake, _ = _brake(capacity=3)
    _fail(brake, "203.0.113.9", "key:victim", 10)
    _fail(brake, "10.0.0.1", "key:one", 1)
    _fail(brake, "10.0.0.2", "key:two", 1)
    brake.failed("203.0.113.9", "key:victim")  # the busiest source stays the most recent
    _fail(brake, "10.0.0.3", "key:three", 1)
    with pytest.raises(RateLimited):
        brake.check("203.0.113.9", "key:victim")
    assert len(brake) == 3 * 3


def test_one_ipv6_subscriber_counts_as_one_source() -> None:
    assert source_of("2001:db8:1:2::1") == source_of("2001:db8:1:2:ffff::9")
    assert source_of("2001:db8:1:3::1") != source_of("2001:db8:1:2::1")
    assert source_of("::ffff:192.0.2.1") == "192.0.2.1"
    assert source_of("testclient") == "testclient"
