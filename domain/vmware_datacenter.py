"""A zone's vCenter datacenter (addVmwareDc): at most one per zone, claimed on the vCenter by an
adapter with the vCenter login the operator gives (sealed), and given back when removed."""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState
from domain.values import Secret

UNASSOCIATED = "Unassociated"
ASSOCIATING = "Associating"
ASSOCIATED = "Associated"
RELEASING = "Releasing"


def datacenter_id(zone_id: UUID) -> UUID:
    """A zone's datacenter record: derived from the zone, so a zone has one whatever races."""
    return uuid5(zone_id, "vmware-datacenter")


def vcenter_url(vcenter: str) -> str:
    """The vSphere URL of `vcenter`: a server's name or address means its https SDK; a URL
    (`http://127.0.0.1:8989/sdk`) is taken as it is."""
    text = vcenter.strip()
    if not text or any(c.isspace() for c in text):
        raise InvalidParameter(
            "Missing or invalid parameter vcenter. Please provide valid VMware vCenter "
            "server's IP address or fully qualified domain name."
        )
    return text if "://" in text else f"https://{text}/sdk"


class VmwareDatacenter(Aggregate):
    """The association of one zone with a vCenter datacenter; only the result of the request
    in flight changes it."""

    @event("Created")
    def __init__(self, id: UUID, zone_id: UUID) -> None:
        self.zone_id = zone_id
        self.state = UNASSOCIATED
        self.name = self.vcenter = self.username = ""
        self.password: Secret | None = None
        self.request_id: str | None = None
        self.job_id: UUID | None = None

    @property
    def guid(self) -> str:
        """How 4.3 names a datacenter across zones: `name@vcenter`."""
        return f"{self.name}@{self.vcenter}".lower()

    def request_association(
        self,
        request_id: str,
        job_id: UUID | None,
        name: str,
        vcenter: str,
        credentials: tuple[str, Secret],
    ) -> None:
        # A request still in flight (its adapter never answered) is superseded: its result,
        # should it come, is stale.
        if self.state in (ASSOCIATED, RELEASING):
            raise InvalidState(
                f"Zone {self.zone_id} is already associated with a VMware datacenter. "
                "Only 1 VMware DC can be associated with a zone."
            )
        if not name.strip():
            raise InvalidParameter("Please provide valid VMware datacenter name.")
        vcenter_url(vcenter)
        self._association_requested(
            request_id=request_id,
            job_id=job_id,
            name=name.strip(),
            vcenter=vcenter.strip(),
            username=credentials[0],
            password=credentials[1],
        )

    @event("AssociationRequested")
    def _association_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        name: str,
        vcenter: str,
        username: str,
        password: Secret,
    ) -> None:
        self.state, self.request_id, self.job_id = ASSOCIATING, request_id, job_id
        self.name, self.vcenter = name, vcenter
        self.username, self.password = username, password

    def is_current(self, request_id: str) -> bool:
        return request_id == self.request_id

    @event("Associated")
    def associated(self, request_id: str) -> None:
        self.state, self.request_id = ASSOCIATED, None

    @event("AssociationFailed")
    def association_failed(self, request_id: str, reason: str) -> None:
        self.state, self.request_id = UNASSOCIATED, None

    def request_release(self, request_id: str, job_id: UUID | None) -> None:
        if self.state not in (ASSOCIATED, RELEASING):
            raise InvalidState(f"Zone {self.zone_id} is not associated with any VMware datacenter.")
        assert self.password is not None
        self._release_requested(
            request_id=request_id,
            job_id=job_id,
            name=self.name,
            vcenter=self.vcenter,
            username=self.username,
            password=self.password,
        )

    @event("ReleaseRequested")
    def _release_requested(
        self,
        request_id: str,
        job_id: UUID | None,
        name: str,
        vcenter: str,
        username: str,
        password: Secret,
    ) -> None:
        self.state, self.request_id, self.job_id = RELEASING, request_id, job_id

    @event("Released")
    def released(self, request_id: str, reason: str | None) -> None:
        """The zone gives the datacenter up whether or not the vCenter could be told (`reason`
        says why not), as 4.3 removes its record first."""
        self.state, self.request_id = UNASSOCIATED, None
