"""Resource tags, given-when-then on the aggregate and the tags parameter, no I/O."""

from __future__ import annotations

from uuid import uuid4

import pytest

from api.tagging import pairs
from domain.errors import InvalidParameter
from domain.resource_tags import ResourceTags, tags_id


def _tags() -> ResourceTags:
    return ResourceTags("UserVm", uuid4(), "2026-01-01T00:00:00+00:00", uuid4(), uuid4())


def test_a_resource_has_one_tags_aggregate_per_lifetime() -> None:
    resource = uuid4()
    first = ResourceTags("PublicIpAddress", resource, "t1", uuid4(), uuid4())
    assert first.id == tags_id("PublicIpAddress", resource, "t1")
    assert first.id != tags_id("PublicIpAddress", resource, "t2")  # taken again: a new one


def test_a_key_already_on_the_resource_is_refused_and_nothing_is_added() -> None:
    tags = _tags()
    tags.tag({"env": "prod"}, customer="")
    tags.collect_events()
    with pytest.raises(InvalidParameter, match="already exists"):
        tags.tag({"team": "red", "env": "dev"}, customer="")
    assert tags.values == {"env": "prod"} and tags.collect_events() == []


@pytest.mark.parametrize("given", [{}, {"": "x"}, {"k": ""}, {"k" * 256: "v"}, {"k": "v" * 256}])
def test_empty_or_overlong_keys_and_values_are_refused(given: dict) -> None:
    tags = _tags()
    with pytest.raises(InvalidParameter):
        tags.tag(given, customer="")
    assert len(tags.collect_events()) == 1  # only its creation


def test_untagging_by_key_by_key_and_value_or_everything() -> None:
    tags = _tags()
    tags.tag({"a": "1", "b": "2", "c": "3"}, customer="acme")
    assert tags.untag({"a": "9"}) == 0  # the value differs: kept
    assert tags.untag({"a": None}) == 1
    assert tags.untag({"b": "2", "missing": None}) == 1
    assert tags.values == {"c": "3"}
    assert tags.untag(None) == 1 and tags.values == {}


def test_the_tags_parameter_reads_key_and_value_groups() -> None:
    given = [{"key": "env", "value": "prod"}, {"Key": "team", "VALUE": "red"}]
    assert pairs(given) == {"env": "prod", "team": "red"}
    assert pairs([{"key": "env"}], value_needed=False) == {"env": None}
    for bad in ([{"key": "env"}], [{"value": "x"}], [{"key": "a", "value": "1", "x": "y"}]):
        with pytest.raises(InvalidParameter):
            pairs(bad)
    with pytest.raises(InvalidParameter, match="twice"):
        pairs([{"key": "a", "value": "1"}, {"key": "a", "value": "2"}])
