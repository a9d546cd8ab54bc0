"""Deployment planners: how placement orders (and narrows) the hosts a VM may land on.

4.3 ships four for user VMs. A service offering may name one (`deploymentplanner`); otherwise
the global setting `vm.allocation.algorithm` picks: `random` and `firstfit` are the first-fit
planner (hosts shuffled, or in order of free room), `userdispersing` and
`userconcentratedpodfirst` the planners of those names.
"""

from __future__ import annotations

from domain.errors import InvalidParameter

FIRST_FIT = "FirstFitPlanner"
USER_DISPERSING = "UserDispersingPlanner"
USER_CONCENTRATED_POD = "UserConcentratedPodPlanner"
IMPLICIT_DEDICATION = "ImplicitDedicationPlanner"
PLANNERS = (FIRST_FIT, USER_DISPERSING, USER_CONCENTRATED_POD, IMPLICIT_DEDICATION)

ALGORITHMS = ("random", "firstfit", "userdispersing", "userconcentratedpodfirst")
ALGORITHM_PLANNERS = {
    "random": FIRST_FIT,
    "firstfit": FIRST_FIT,
    "userdispersing": USER_DISPERSING,
    "userconcentratedpodfirst": USER_CONCENTRATED_POD,
}

# ImplicitDedicationPlanner's mode, a detail of the offering (4.3: `ImplicitDedicationMode`).
IMPLICIT_MODE = "ImplicitDedicationMode"
STRICT, PREFERRED = "Strict", "Preferred"


def check_planner(name: str) -> str:
    """The planner's 4.3 name, or 431 as 4.3 refuses an unknown one."""
    for known in PLANNERS:
        if known.lower() == name.lower():
            return known
    raise InvalidParameter(f"Invalid name for Deployment Planner specified {name}")


def planner_for(offering_planner: str, algorithm: str) -> str:
    """The planner placing a VM: its offering's, else the allocation algorithm's."""
    if offering_planner:
        return check_planner(offering_planner)
    return ALGORITHM_PLANNERS.get(algorithm, FIRST_FIT)
