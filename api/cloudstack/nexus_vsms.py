"""A VMware cluster's Cisco Nexus 1000v VSM, given to addCluster (`vsmipaddress`,
`vsmusername`, `vsmpassword`) as 4.3 takes it: with `vmware.use.nexus.vswitch` on, the VSM is
logged into over NETCONF (`stratus.nexus_vsm`) before anything is made, and registered as a
Cisco Nexus VSM device of the new cluster in the same commit, its password sealed. One VSM
serves one cluster. The VSM commands (`network_devices`) then list, enable, disable and delete it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.dispatch import Call
from api.params import Param, ParamType
from domain.configuration import DEFINITIONS
from domain.errors import DomainError, InvalidParameter
from domain.network_device import DeviceSpec
from domain.values import Secret
from projections.configuration import global_value
from stratus import nexus_vsm
from stratus.device_login import DeviceRefused

USE_NEXUS = "vmware.use.nexus.vswitch"
VSM_PARAMS = (
    Param("vsmipaddress", ParamType.STRING, max_length=255),
    Param("vsmusername", ParamType.STRING, max_length=255),
    Param("vsmpassword", ParamType.STRING, max_length=255),
)
KIND = "CiscoNexusVSM"


def vsm_of_cluster(call: Call, args: dict[str, Any], hypervisor: str) -> DeviceSpec | None:
    """The VSM to register with the cluster, once it accepted the login; None without one."""
    given = {name: (args.get(name) or "").strip() for name in ("vsmipaddress", "vsmusername")}
    password = args.get("vsmpassword") or ""
    if not any((*given.values(), password)):
        return None
    if hypervisor != "VMware":
        raise InvalidParameter("vsmipaddress: a Nexus 1000v VSM is given for VMware clusters only")
    missing = [name for name, value in {**given, "vsmpassword": password}.items() if not value]
    if missing:
        raise InvalidParameter(
            f"Nexus 1000v VSM details are incomplete: {', '.join(missing)} must be given too"
        )
    with call.read() as cursor:
        enabled = global_value(cursor, USE_NEXUS, DEFINITIONS[USE_NEXUS].default)
        taken = cursor.execute(
            "SELECT cluster_id FROM network_devices WHERE kind = %s AND host = %s AND removed = 0",
            (KIND, given["vsmipaddress"]),
        ).fetchone()
    if enabled.lower() != "true":
        raise InvalidParameter(
            f"vsmipaddress: the Nexus 1000v is used only when {USE_NEXUS} is true"
        )
    if taken is not None:
        raise InvalidParameter(
            f"The Cisco Nexus 1000v VSM at {given['vsmipaddress']} is already associated with "
            f"cluster {taken['cluster_id']}"
        )
    secret = Secret(password)
    try:
        domain = nexus_vsm.check_vsm(given["vsmipaddress"], given["vsmusername"], secret)
    except DeviceRefused as refused:
        raise DomainError(str(refused)) from None
    except ValueError:
        raise InvalidParameter(f"Invalid vsmipaddress {given['vsmipaddress']}") from None
    return DeviceSpec(
        KIND,
        UUID(args["zoneid"]),
        given["vsmipaddress"],
        options={
            "domainid": domain.domain_id,
            "ctrlvlanid": domain.control_vlan,
            "pktvlanid": domain.packet_vlan,
            "mgmtvlanid": domain.management_vlan,
            "storagevlanid": domain.storage_vlan,
            "configmode": domain.config_mode,
        },
        username=given["vsmusername"],
        password=secret,
    )
