"""Custom ids at the API's edge: a request's ids become the resources' own, an answer's own ids
become the custom ones, and a renamed resource's former id names nothing."""

from __future__ import annotations

from uuid import uuid4

import orjson
import pytest

from api.custom_ids import Renames, answered, given_id, own_ids
from api.params import Param
from api.params import ParamType as P
from domain.custom_ids import CustomId
from domain.errors import InvalidParameter, NotFound
from domain.given_ids import created

OWN, CUSTOM, OTHER = (str(uuid4()) for _ in range(3))
SPECS = (
    Param("id", P.UUID),
    Param("ids", P.LIST, element=P.UUID),
    Param("name", P.STRING),
    Param("projectid", P.UUID, minus_one=True),
)


def test_a_requests_custom_id_becomes_the_resources_own_and_others_pass() -> None:
    args = {"id": CUSTOM, "ids": [CUSTOM, OTHER], "name": CUSTOM, "projectid": "-1"}
    own_ids(SPECS, args, Renames.of({OWN: CUSTOM}))
    assert args == {"id": OWN, "ids": [OWN, OTHER], "name": CUSTOM, "projectid": "-1"}


def test_a_renamed_resources_former_id_names_nothing() -> None:
    with pytest.raises(NotFound, match="entity does not exist"):
        own_ids(SPECS, {"id": OWN}, Renames.of({OWN: CUSTOM}))
    with pytest.raises(NotFound):
        own_ids(SPECS, {"ids": [OTHER, OWN]}, Renames.of({OWN: CUSTOM}))


def test_an_answer_names_renamed_resources_by_their_custom_ids_only_as_whole_values() -> None:
    body = orjson.dumps(
        {"id": OWN, "vm": {"virtualmachineid": OWN}, "name": f"VM-{OWN}", "zoneid": OTHER}
    )
    shown = orjson.loads(answered(body, Renames.of({OWN: CUSTOM})))
    assert shown == {
        "id": CUSTOM,
        "vm": {"virtualmachineid": CUSTOM},
        "name": f"VM-{OWN}",
        "zoneid": OTHER,
    }
    assert answered(body, Renames()) is body


def test_a_resource_renamed_again_answers_its_newest_id_and_the_earlier_one_is_free() -> None:
    known = Renames.of({OWN: CUSTOM})
    known.add(OWN, OTHER)
    assert (known.custom, known.own) == ({OWN: OTHER}, {OTHER: OWN})
    args = {"id": CUSTOM}
    own_ids(SPECS, args, known)
    assert args == {"id": CUSTOM}  # names nothing now, like any unknown id


def test_a_given_id_is_a_lower_case_uuid() -> None:
    assert str(given_id(CUSTOM)) == CUSTOM
    for bad in (CUSTOM.upper(), "web-1", f"{{{CUSTOM}}}"):
        with pytest.raises(InvalidParameter, match="doesn't follow the UUID format"):
            given_id(bad)


def test_a_custom_id_is_an_aggregate_whose_id_is_the_custom_id() -> None:
    resource, custom = uuid4(), uuid4()
    given = created(CustomId, custom, resource_id=resource, resource_type="volume")
    (event,) = given.collect_events()
    assert (event.originator_id, event.resource_id, event.resource_type) == (
        custom,
        resource,
        "volume",
    )
    assert type(event).__name__ == "Created"
