"""configureSimulator: how Stratus's simulated hosts answer an action, set by a root
administrator, as CloudStack 4.3 configures its simulator's mocks.

`name` is the action (a Stratus adapter action such as `start_vm`, or the 4.3 agent command
that does its work, such as `StartCommand`); `value` is 4.3's `enabled:false;wait:<ms>`. The
setting goes to each simulator host of the scope (a host, or every one of a cluster, pod or
zone; every one without a scope) through the outbox, and the command answers once each host's
adapter has taken it: from then on that action on that host waits and fails as told, whatever
adapter process drives it. `enabled:true` without a wait puts the host back as it was.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack.jobs import adapter_job, await_job
from api.dispatch import ApiCommand, Call
from api.params import Param, ParamType
from commands import simulator_mocks as cmd
from domain.errors import InvalidParameter
from domain.simulator_mock import AGENT_COMMANDS, mock_id, parse_values
from stratus.actions import ACTIONS

P = ParamType
WAIT = 30.0
# What a simulated host can be told to answer differently: the actions that take its turn.
MOCKABLE = frozenset(
    a.name
    for a in ACTIONS.values()
    if a.host_bound and a.name not in ("connect_host", "ping_host", "disconnect_host", cmd.ACTION)
)
_SCOPES = (
    ("hostid", "id"),
    ("clusterid", "cluster_id"),
    ("podid", "pod_id"),
    ("zoneid", "zone_id"),
)


def _action(name: str) -> str:
    action = AGENT_COMMANDS.get(name, name)
    if action not in MOCKABLE:
        raise InvalidParameter(
            f"Unknown simulator command {name}: use one of {', '.join(sorted(MOCKABLE))} "
            f"or {', '.join(sorted(AGENT_COMMANDS))}"
        )
    return action


def _hosts(call: Call, args: dict[str, Any]) -> list[dict[str, Any]]:
    where, params = ["removed = 0", "hypervisor = 'Simulator'"], []
    for key, column in _SCOPES:
        if args[key]:
            where.append(f"{column} = %s")
            params.append(args[key])
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT id, name FROM hosts WHERE " + " AND ".join(where) + " ORDER BY created, id",
            params,
        ).fetchall()
    if not rows:
        raise InvalidParameter("No simulator host in that scope")
    return [dict(r) for r in rows]


def configure_simulator(call: Call, args: dict[str, Any]) -> None:
    action = _action(args["name"].strip())
    enabled, wait = parse_values(args["value"])
    sent = []
    for host in _hosts(call, args):
        text = f"Configuring {action} on simulator host {host['name']}"
        setting = mock_id(UUID(host["id"]), action)
        job_id = adapter_job(call, "SimulatorMock", setting, "SIMULATOR.CONFIGURE", text)
        command = cmd.ConfigureMock(UUID(host["id"]), action, enabled, wait, job_id)
        sent.append((job_id, call.write(cmd.configure, command).id))
    for job_id, setting_id in sent:
        await_job(call, str(job_id), str(setting_id), WAIT)


COMMANDS = (
    ApiCommand(
        "configureSimulator",
        configure_simulator,
        (
            Param("zoneid", P.UUID),
            Param("podid", P.UUID),
            Param("clusterid", P.UUID),
            Param("hostid", P.UUID),
            Param("name", P.STRING, required=True),
            Param("value", P.STRING, required=True),
        ),
        role=Role.ROOT_ADMIN,
        shape="success",
        description="Sets how simulator hosts answer an action",
    ),
)
