"""The project an answered object belongs to: 4.3 shows `project` and `projectid` beside the
owner's `account` for whatever a project's own account owns (VMs, networks, groups, …)."""

from __future__ import annotations

from typing import Any

from domain.project import PROJECT_ACCOUNT_PREFIX
from projections.projects import projects_by_account_name


def with_projects(call: Any, items: list[Any]) -> None:
    """Name the project of each answered object a project owns, in place. Objects of plain
    accounts (all but a project's, whose names start with its account prefix) cost nothing;
    items kept as JSON text are left as they are."""
    owned = [
        index
        for index, item in enumerate(items)
        if isinstance(item, dict)
        and str(item.get("account", "")).startswith(PROJECT_ACCOUNT_PREFIX)
        and item.get("domainid")
    ]
    if not owned:
        return
    keys = {(items[i]["account"], items[i]["domainid"]) for i in owned}
    with call.read() as cursor:
        found = projects_by_account_name(cursor, keys)
    for index in owned:
        project = found.get((items[index]["account"], items[index]["domainid"]))
        if project is not None:
            items[index] = {**items[index], "projectid": project["id"], "project": project["name"]}
