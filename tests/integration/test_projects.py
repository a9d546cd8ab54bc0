"""Projects on each store: a name is taken once even by racing requests, a project counts
against its owner's project limit in the commit that makes it, and the read model knows the
members whose reach a project's resources join."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID, uuid4

import pytest

from commands import identity, projects
from commands.resource_limits import UpdateResourceLimit, update_resource_limit
from domain.account import AccountType
from domain.errors import InvalidParameter, ResourceAllocationFailed
from domain.resource_limits import ResourceType
from entrypoint.installation import open_runtime
from projections.projects import member_project_accounts, project_by_id
from stratus.runtime import Runtime
from stratus.settings import Settings


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    opened = open_runtime(settings)
    identity.bootstrap(opened.store, identity.Bootstrap(admin_password="pw-12345678"))
    try:
        yield opened
    finally:
        opened.close()


def _tenant(runtime: Runtime) -> tuple[UUID, UUID]:
    domain_id = identity.root_domain_id(runtime.store)
    assert domain_id is not None
    name = f"user-{uuid4().hex[:8]}"
    outcome = identity.create_account(
        runtime.store,
        identity.CreateAccount(
            domain_id, AccountType.USER, identity.UserProfile(name, "pw-12345678")
        ),
    )
    assert outcome.id is not None
    return outcome.id, domain_id


def _create(runtime: Runtime, owner: tuple[UUID, UUID], name: str) -> Any:
    account_id, domain_id = owner
    command = projects.CreateProject(uuid4(), name, name, domain_id, account_id, domain_id)
    return projects.create_project(runtime.store, command)


def test_racing_creates_of_one_name_make_one_project(runtime: Runtime) -> None:
    owners = [_tenant(runtime) for _ in range(4)]

    def attempt(owner: tuple[UUID, UUID]) -> str:
        try:
            _create(runtime, owner, "shared")
        except InvalidParameter as refused:
            return str(refused)
        return "made"

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(attempt, owners))
    assert outcomes.count("made") == 1
    assert all("already exists" in text for text in outcomes if text != "made")


def test_a_project_counts_against_its_owners_limit_until_it_is_deleted(runtime: Runtime) -> None:
    owner = _tenant(runtime)
    limit = UpdateResourceLimit(owner[0], "account", int(ResourceType.PROJECT), 1)
    update_resource_limit(runtime.store, limit)
    first = _create(runtime, owner, "one")
    with pytest.raises(ResourceAllocationFailed):
        _create(runtime, owner, "two")
    projects.delete_project(runtime.store, first.id)
    assert _create(runtime, owner, "two").id is not None


def test_members_reach_the_project_account_as_the_read_model_shows(runtime: Runtime) -> None:
    owner, member = _tenant(runtime), _tenant(runtime)
    made = _create(runtime, owner, "team")
    projects.add_account(runtime.store, projects.AddAccount(made.id, member[0]))
    runtime.runner.catch_up()
    with runtime.db.read() as cursor:
        row = project_by_id(cursor, str(made.id))
        assert row is not None and row["state"] == "Active"
        assert member_project_accounts(cursor, str(member[0])) == {row["account_id"]}
    projects.remove_account(runtime.store, projects.RemoveAccount(made.id, member[0], "m"))
    runtime.runner.catch_up()
    with runtime.db.read() as cursor:
        assert member_project_accounts(cursor, str(member[0])) == frozenset()
