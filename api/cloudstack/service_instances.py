"""createServiceInstance: an appliance that implements network services between a left
(inside) and a right (outside) network, from the template and service offering the
administrator names, as 4.3's network-services plugin makes one.

It is a `SystemVm` of role `serviceinstance` owned by the account, on the two networks, placed
and started through the appliance lifecycle routers use (the same requests to the host's
adapter, the same job). As with routers, the adapters boot the appliance's image and do not
plug it into the networks' bridges.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID, uuid4

from api.access import Role
from api.cloudstack import infrastructure as places
from api.cloudstack.common import PROJECT_ID, named_owner
from api.cloudstack.placement import candidates
from api.cloudstack.system_vms import appliance_job
from api.dispatch import ApiCommand, Call
from api.params import Param, ParamType, not_found
from commands import system_vms as lifecycle
from domain.compute import Compute
from domain.errors import InvalidParameter
from domain.system_vm import Role as VmRole

P = ParamType
ITEM = "serviceinstance"


def _network(call: Call, key: str, network_id: str, zone_id: str, account_id: str) -> str:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT id, zone_id, account_id FROM networks WHERE id = %s AND removed = 0",
            (network_id,),
        ).fetchone()
    if row is None:
        raise not_found(key, network_id)
    if row["zone_id"] != zone_id or row["account_id"] != account_id:
        side = key.removesuffix("networkid")
        raise InvalidParameter(f"The {side} network is not the owner's network in the zone")
    return str(row["id"])


def _compute(call: Call, args: dict[str, Any]) -> Compute:
    with call.read() as cursor:
        template = cursor.execute(
            "SELECT id, hypervisor FROM templates WHERE id = %s AND removed = 0",
            (args["templateid"],),
        ).fetchone()
        offering = cursor.execute(
            "SELECT id, cpu_number, cpu_speed, memory FROM service_offerings "
            "WHERE id = %s AND removed = 0",
            (args["serviceofferingid"],),
        ).fetchone()
    if template is None:
        raise not_found("templateid", args["templateid"])
    if offering is None:
        raise not_found("serviceofferingid", args["serviceofferingid"])
    if not (offering["cpu_number"] and offering["cpu_speed"] and offering["memory"]):
        raise InvalidParameter("A service instance needs an offering of fixed CPU and memory")
    return Compute(
        UUID(offering["id"]),
        int(offering["cpu_number"]),
        int(offering["cpu_speed"]),
        int(offering["memory"]),
        False,
        UUID(template["id"]),
        template["hypervisor"],
        0,
    )


def create_service_instance(call: Call, args: dict[str, Any]) -> Any:
    name = args["name"].strip()
    if not name:
        raise InvalidParameter("service instance name is empty")
    zone = places._row(call, "zones", args["zoneid"], "zone")
    account_id, domain_id = named_owner(call, args)
    left = _network(call, "leftnetworkid", args["leftnetworkid"], zone["id"], account_id)
    right = _network(call, "rightnetworkid", args["rightnetworkid"], zone["id"], account_id)
    if left == right:
        raise InvalidParameter("The left and right networks of a service instance must differ")
    compute = _compute(call, args)
    vm_id = uuid4()
    command = lifecycle.CreateSystemVm(
        vm_id,
        VmRole.SERVICE,
        f"si-{vm_id.hex[:12]}-VM",
        UUID(zone["id"]),
        UUID(account_id),
        UUID(domain_id),
        compute,
        candidates(call, zone["id"], compute, None),
        network_ids=(UUID(left), UUID(right)),
        display_name=name,
    )
    return appliance_job(
        call,
        {"id": str(vm_id), "role": VmRole.SERVICE},
        "VM.CREATE",
        f"Creating service instance {name}",
        lambda job_id: lifecycle.create_system_vm(call.store, replace(command, job_id=job_id)),
        creates=True,
    )


def service_instance_view(call: Call, vm_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT r.id, r.name, r.account_id, r.domain_id, a.name AS account, "
            "a.domain_name AS domain FROM system_vms AS r "
            "JOIN accounts AS a ON a.id = r.account_id WHERE r.id = %s AND r.role = %s",
            (vm_id, VmRole.SERVICE),
        ).fetchone()
    if row is None:
        raise not_found("id", vm_id)
    return {
        "id": row["id"],
        "name": row["name"],
        "displayname": row["name"],
        "account": row["account"],
        "domainid": row["domain_id"],
        "domain": row["domain"],
    }


COMMANDS = (
    ApiCommand(
        "createServiceInstance",
        create_service_instance,
        (
            Param("zoneid", P.UUID, required=True),
            Param("name", P.STRING, required=True),
            Param("leftnetworkid", P.UUID, required=True),
            Param("rightnetworkid", P.UUID, required=True),
            Param("templateid", P.UUID, required=True),
            Param("serviceofferingid", P.UUID, required=True),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            PROJECT_ID,
        ),
        role=Role.ROOT_ADMIN,
        shape="async",
        is_async=True,
        item_key=ITEM,
        render=service_instance_view,
        java_class="org.apache.cloudstack.network.contrail.api.command.CreateServiceInstanceCmd",
        description="Creates a system VM that implements network services between two networks",
    ),
)
