"""Resource details, given-when-then on the aggregate, no I/O."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidParameter
from domain.resource_details import ResourceDetails, details_id


def _details() -> ResourceDetails:
    return ResourceDetails("UserVm", uuid4(), uuid4(), uuid4())


def test_one_resource_has_one_details_aggregate_whoever_adds_to_it() -> None:
    resource = uuid4()
    first = ResourceDetails("UserVm", resource, uuid4(), uuid4())
    assert first.id == details_id("UserVm", resource) != details_id("Volume", resource)


def test_a_key_added_again_takes_the_new_value_and_display() -> None:
    details = _details()
    details.add({"tier": "gold"}, display=True)
    details.add({"tier": "silver"}, display=False)
    assert details.values == {"tier": "silver"} and details.shown == {"tier": False}


@pytest.mark.parametrize("pairs", [{}, {"": "x"}, {"k": ""}])
def test_empty_keys_values_or_nothing_at_all_are_refused(pairs: dict) -> None:
    details = _details()
    with pytest.raises(InvalidParameter):
        details.add(pairs, display=True)
    assert len(details.collect_events()) == 1  # only its creation


def test_removing_one_key_all_keys_or_a_missing_key() -> None:
    details = _details()
    details.add({"a": "1", "b": "2", "c": "3"}, display=True)
    details.collect_events()
    details.remove("missing")
    assert details.collect_events() == []
    details.remove("a")
    assert details.values == {"b": "2", "c": "3"}
    details.remove(None)
    assert details.values == {} and details.shown == {}
