"""Account details: set by key, the others kept, a detail without a key refused."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.account import Account, AccountType
from domain.errors import InvalidParameter, InvalidState
from domain.given_ids import created


def _account() -> Account:
    return Account("acme", uuid4(), AccountType.USER, "")


def test_details_given_later_replace_those_keys_and_keep_the_others() -> None:
    account = _account()
    account.update_details({"tier": "gold", "billing": "b-1"})
    account.update_details({"tier": "silver"})
    assert account.details == {"tier": "silver", "billing": "b-1"}
    events = account.collect_events()
    assert [type(e).__name__ for e in events[1:]] == ["DetailsUpdated", "DetailsUpdated"]


def test_no_details_record_nothing_and_a_keyless_one_is_refused() -> None:
    account = _account()
    account.collect_events()
    account.update_details({})
    with pytest.raises(InvalidParameter):
        account.update_details({"": "value"})
    assert account.collect_events() == [] and account.details == {}


def test_a_removed_account_takes_no_details() -> None:
    account = _account()
    account.remove()
    with pytest.raises(InvalidState):
        account.update_details({"tier": "gold"})


def test_an_account_made_with_a_given_id_records_the_usual_creation() -> None:
    given = uuid4()
    account = created(
        Account, given, name="acme", domain_id=uuid4(), account_type=0, network_domain=""
    )
    (event,) = account.collect_events()
    assert account.id == given and type(event) is Account.Created
    assert account.name == "acme"
