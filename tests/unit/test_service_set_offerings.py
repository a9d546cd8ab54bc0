"""Network and VPC offerings share their lifecycle; their events stay each kind's own."""

from __future__ import annotations

from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic

from domain.errors import InvalidParameter, InvalidState, ResourceInUse
from domain.network_offering import NetworkOffering, OfferingTerms
from domain.vpc_offering import VpcOffering, VpcOfferingTerms


def _network_offering() -> NetworkOffering:
    terms = OfferingTerms("web", "", "Isolated", {"Dhcp": []}).checked()
    return NetworkOffering(terms, "Disabled", False, id=uuid4())


def _vpc_offering(is_default: bool = False) -> VpcOffering:
    return VpcOffering(
        VpcOfferingTerms("v", "", {"Dhcp": []}).checked(), "Enabled", is_default, id=uuid4()
    )


def test_each_kind_records_events_under_its_own_topic() -> None:
    offering = _network_offering()
    offering.update({"state": "enabled", "display_text": "Web tier"})
    offering.delete(0)
    topics = [get_topic(type(e)) for e in offering.collect_events()]
    assert topics == [
        "domain.network_offering:NetworkOffering.Created",
        "domain.network_offering:NetworkOffering.Updated",
        "domain.network_offering:NetworkOffering.Deleted",
    ]
    vpc = _vpc_offering()
    vpc.update({"name": "w"})
    assert get_topic(type(vpc.collect_events()[-1])) == "domain.vpc_offering:VpcOffering.Updated"


def test_an_update_is_applied_when_replayed() -> None:
    offering = _network_offering()
    offering.update({"state": "enabled", "display_text": "Web tier"})
    replayed = None
    for stored in offering.collect_events():
        replayed = stored.mutate(replayed)
    assert isinstance(replayed, NetworkOffering)
    assert (replayed.state, replayed.terms["display_text"]) == ("Enabled", "Web tier")
    replayed.check_usable()


def test_refusals_name_the_kind() -> None:
    with pytest.raises(InvalidState, match="Network offering web is not enabled"):
        _network_offering().check_usable()
    with pytest.raises(InvalidParameter, match="Cannot update guest_type of a network offering"):
        _network_offering().update({"guest_type": "Shared"})
    with pytest.raises(InvalidParameter, match="Default VPC offering can't be deleted"):
        _vpc_offering(is_default=True).delete(0)
    with pytest.raises(ResourceInUse, match="it's used by 2 VPC"):
        _vpc_offering().delete(2)
    vpc = _vpc_offering()
    vpc.update({"state": "Disabled"})
    with pytest.raises(InvalidParameter, match="VPC offering v is not enabled"):
        vpc.check_usable()
    vpc.delete(0)
    with pytest.raises(InvalidState, match="has already been deleted"):
        vpc.delete(0)
