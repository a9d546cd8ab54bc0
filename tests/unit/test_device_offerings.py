"""Network offerings that name device providers: each provider only for the services it offers
in 4.3, the providers an offering's networks are placed with, and its load balancer isolation.
Given-when-then, no I/O."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidParameter
from domain.network_offering import NetworkOffering, OfferingTerms

ROUTER = ["VirtualRouter"]


def _offering(services: dict[str, list[str]], lb_isolation: str = "") -> NetworkOffering:
    terms = OfferingTerms("o", "o", "Isolated", services, lb_isolation=lb_isolation)
    return NetworkOffering(terms.checked(), "Enabled", False, uuid4())


def test_a_device_provider_is_named_only_for_the_services_it_offers() -> None:
    with pytest.raises(InvalidParameter, match="Provider Netscaler doesn't support service"):
        _offering({"PortForwarding": ["Netscaler"]})
    with pytest.raises(InvalidParameter, match="Provider PaloAlto doesn't support service Lb"):
        _offering({"Lb": ["PaloAlto"]})
    offering = _offering(
        {
            "Dhcp": ROUTER,
            "Lb": ["netscaler"],
            "Firewall": ["PaloAlto"],
            "SourceNat": ["PaloAlto"],
            "Gateway": ["PaloAlto"],
        }
    )
    assert offering.device_providers() == {
        "Netscaler": ["Lb"],
        "PaloAlto": ["Firewall", "Gateway", "SourceNat"],
    }
    assert (offering.provider_of("Lb"), offering.provider_of("Dhcp")) == ("Netscaler", None)


def test_load_balancers_are_dedicated_unless_the_offering_shares_them() -> None:
    assert _offering({"Lb": ["Netscaler"]}).dedicated_lb
    assert not _offering({"Lb": ["Netscaler"]}, "Shared").dedicated_lb
    with pytest.raises(InvalidParameter, match="SupportedLBIsolation"):
        _offering({"Lb": ["Netscaler"]}, "elastic")
    with pytest.raises(InvalidParameter, match="Lb service"):
        _offering({"Dhcp": ROUTER}, "dedicated")


def test_device_providers_serve_no_vpc_tier() -> None:
    with pytest.raises(InvalidParameter, match="VpcVirtualRouter"):
        _offering({"Dhcp": ["VpcVirtualRouter"], "Lb": ["Netscaler"]})
