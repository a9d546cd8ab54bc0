"""4.3 parameters whose feature is not built yet, declared once for the tables that take them.

Each is accepted by name and refused with a 431 naming the missing feature when given (a value
equal to its default asks for nothing missing and passes), so no client's request is silently
half-done.
"""

from __future__ import annotations

from api.params import Param
from api.params import ParamType as P
from api.tagging import TAGS_FILTER

VPCS = "VMs found by VPC are not built yet: a VPC's tiers are networks, use networkid"

VPC_ID = Param("vpcid", P.UUID, unsupported=VPCS)

# Tagged lists in 4.3 (`tags` filter, applied by the list with `api.tagging.narrow`).
TAGS_MAP = TAGS_FILTER
LIST_TAGS = (TAGS_MAP,)
