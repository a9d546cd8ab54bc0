"""Which addresses a user's URL may reach: internal ranges in every spelling, the operator's
allowed internal sites, 4.3's refusal of local hosts at registration, and the two settings."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commands.templates import check_host
from domain.configuration import definition
from domain.errors import InvalidParameter
from domain.template import FetchLimits, check_url
from stratus.addresses import (
    is_allowed,
    is_internal,
    is_local,
    literal_address,
    parse_sites,
)

INTERNAL_V4 = [
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "0.0.0.0/8",
    "100.64.0.0/10",
    "224.0.0.0/4",
    "240.0.0.0/4",
]
INTERNAL_V6 = ["::1/128", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8", "::/128"]


def inside(cidr: str) -> st.SearchStrategy[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    network = ipaddress.ip_network(cidr)
    offsets = st.integers(min_value=0, max_value=network.num_addresses - 1)
    return offsets.map(lambda offset: network[offset])


internal_v4 = st.sampled_from(INTERNAL_V4).flatmap(inside)
internal_v6 = st.sampled_from(INTERNAL_V6).flatmap(inside)


def carried(v4: ipaddress.IPv4Address) -> list[ipaddress.IPv6Address]:
    """The IPv6 spellings that carry an IPv4 address: mapped, 6to4 and NAT64."""
    n = int(v4)
    return [
        ipaddress.IPv6Address((0xFFFF << 32) | n),
        ipaddress.IPv6Address((0x2002 << 112) | (n << 80)),
        ipaddress.IPv6Address((0x64FF9B << 96) | n),
    ]


@given(internal_v4)
def test_internal_ipv4_addresses_are_internal_in_every_ipv6_spelling(address) -> None:
    assert is_internal(address)
    assert all(is_internal(form) for form in carried(address))


@given(internal_v6)
def test_internal_ipv6_addresses_are_internal(address) -> None:
    assert is_internal(address)


@given(st.ip_addresses(v=4))
def test_a_public_ipv4_address_is_reachable_and_only_it(address) -> None:
    public = address.is_global and not address.is_multicast and not address.is_reserved
    assert is_internal(address) is not public


@given(internal_v4, st.integers(min_value=8, max_value=32))
def test_an_allowed_site_lets_its_addresses_through_in_every_spelling(address, prefix) -> None:
    site = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    sites = parse_sites(str(site))
    assert is_allowed(address, sites)
    assert all(is_allowed(form, sites) for form in carried(address))


@given(internal_v4)
def test_an_address_outside_every_allowed_site_stays_refused(address) -> None:
    sites = parse_sites("203.0.113.0/24,2001:db8::/32")
    assert not is_allowed(address, sites) and is_internal(address)


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "2130706433", "0x7f.1", "127.1", "017700000001", "::ffff:127.0.0.1"]
)
def test_every_spelling_of_loopback_is_read_as_loopback(host: str) -> None:
    address = literal_address(host)
    assert address is not None and is_local(address)


@pytest.mark.parametrize("host", ["images.example.org", "1e100.net", "0x.example", ""])
def test_names_are_not_read_as_addresses(host: str) -> None:
    assert literal_address(host) is None


@pytest.mark.parametrize("text", ["not-a-cidr", "10.0.0.0/33", "0.0.0.0/0", "::/0"])
def test_a_site_list_that_is_not_cidrs_or_allows_everything_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_sites(text)
    with pytest.raises(InvalidParameter):
        definition("secstorage.allowed.internal.sites").validate(f"10.0.0.0/8,{text}")


def test_the_site_list_setting_is_stored_in_canonical_form() -> None:
    setting = definition("secstorage.allowed.internal.sites")
    assert setting.default == ""
    assert setting.validate(" 10.1.2.3/8, 192.168.1.7 ") == "10.0.0.0/8,192.168.1.7/32"


def test_the_size_limit_setting_is_whole_gigabytes_of_at_least_one() -> None:
    setting = definition("max.template.iso.size")
    assert setting.default == "50"
    with pytest.raises(InvalidParameter):
        setting.validate("0")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5432/x.qcow2",
        "http://169.254.169.254/latest/x.qcow2",
        "http://2130706433/x.qcow2",
        "http://[::1]/x.qcow2",
        "http://[::ffff:169.254.169.254]/x.qcow2",
        "http://0.0.0.0/x.qcow2",
        "http://224.0.0.1/x.qcow2",
        "http://localhost:8080/x.qcow2",
        "http://images.localhost/x.qcow2",
    ],
)
def test_a_url_naming_a_local_host_is_refused_at_registration(url: str) -> None:
    with pytest.raises(InvalidParameter, match="Illegal host specified in url"):
        check_host(url, FetchLimits())


def test_an_allowed_internal_site_may_be_registered() -> None:
    check_host("http://127.0.0.1:8080/x.qcow2", FetchLimits("127.0.0.1/32"))
    check_host("http://localhost:8080/x.qcow2", FetchLimits("127.0.0.0/8"))


@pytest.mark.parametrize(
    "url",
    ["http://10.1.2.3/x.qcow2", "http://images.example.org/x.qcow2", "http://unresolvable./x"],
)
def test_private_addresses_and_names_are_left_to_the_download(url: str) -> None:
    check_host(url, FetchLimits())


@pytest.mark.parametrize(
    "url", ["http://images.example.org:99999/x.qcow2", "http://h:port/x.qcow2"]
)
def test_a_url_with_a_port_that_is_not_one_is_refused_at_registration(url: str) -> None:
    with pytest.raises(InvalidParameter, match="Invalid URL"):
        check_host(url, FetchLimits())


def test_a_url_with_an_unbalanced_bracket_is_invalid_not_an_internal_error() -> None:
    with pytest.raises(InvalidParameter, match="Invalid URL"):
        check_url("http://[::1/x.qcow2", "QCOW2")
