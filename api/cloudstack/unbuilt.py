"""4.3 parameters whose feature is not built yet, declared once for the tables that take them.

Each is accepted by name and refused with a 431 naming the missing feature when given (a value
equal to its default asks for nothing missing and passes), so no client's request is silently
half-done.
"""

from __future__ import annotations

from api.params import Param
from api.params import ParamType as P
from api.tagging import TAGS_FILTER

PROJECTS = "projects are built, but not for this command yet: it acts for an account only"
HIDING = "hiding resources from end users is not built yet: everything is displayed"
CUSTOM_IDS = "custom ids are not built yet"
STORAGE_POOLS = (
    "system VMs' disks are not placed on primary storage pools yet: none is found per pool"
)
VPCS = "VMs found by VPC are not built yet: a VPC's tiers are networks, use networkid"
QUIESCE = "quiescing a VM for a snapshot is not built yet"
LB_LIMITS = "load balancer connection limits and keep-alive are not built yet"

PROJECT_ID = Param("projectid", P.UUID, unsupported=PROJECTS)
FOR_DISPLAY = Param("fordisplay", P.BOOLEAN, default=True, unsupported=HIDING)
CUSTOM_ID = Param("customid", P.STRING, unsupported=CUSTOM_IDS)
STORAGE_ID = Param("storageid", P.UUID, unsupported=STORAGE_POOLS)
VPC_ID = Param("vpcid", P.UUID, unsupported=VPCS)
QUIESCE_VM = Param("quiescevm", P.BOOLEAN, default=False, unsupported=QUIESCE)

# Tagged lists in 4.3 (`tags` filter, applied by the list with `api.tagging.narrow`) and owner
# lists that also take a project.
TAGS_MAP = TAGS_FILTER
LIST_TAGS = (TAGS_MAP,)
PROJECT_AND_TAGS = (PROJECT_ID, TAGS_MAP)
