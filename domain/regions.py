"""Regions: the management servers' regions this cloud knows, the local one (id 1) among them."""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter

_NAMESPACE = UUID("0f6c3e51-92a4-4d0b-8a57-6c2b9e4f1d83")
LOCAL_ID = 1
LOCAL_NAME = "Local"
LOCAL_ENDPOINT = "http://localhost:8080/client/"


class Regions(Aggregate):
    """Every region, by its number: one aggregate, so two regions never take one id or name."""

    @staticmethod
    def create_id() -> UUID:
        return uuid5(_NAMESPACE, "regions")

    @event("Started")
    def __init__(self) -> None:
        self.regions: dict[str, dict[str, str]] = {
            str(LOCAL_ID): {"name": LOCAL_NAME, "endpoint": LOCAL_ENDPOINT}
        }

    def _check_name(self, name: str, region_id: int) -> None:
        if not name.strip():
            raise InvalidParameter("A region needs a name")
        for other, region in self.regions.items():
            if region["name"] == name and other != str(region_id):
                raise InvalidParameter(f"Region with name: {name} already exists")

    def _known(self, region_id: int) -> dict[str, str]:
        try:
            return self.regions[str(region_id)]
        except KeyError:
            raise InvalidParameter(f"Region with id: {region_id} does not exist") from None

    def add(self, region_id: int, name: str, endpoint: str) -> None:
        if region_id < 1:
            raise InvalidParameter("A region id is a number of 1 or more")
        if str(region_id) in self.regions:
            raise InvalidParameter(f"Region with id: {region_id} already exists")
        self._check_name(name, region_id)
        _check_endpoint(endpoint)
        self._added(region_id=region_id, name=name, endpoint=endpoint)

    @event("Added")
    def _added(self, region_id: int, name: str, endpoint: str) -> None:
        self.regions[str(region_id)] = {"name": name, "endpoint": endpoint}

    def update(self, region_id: int, name: str | None, endpoint: str | None) -> None:
        region = self._known(region_id)
        if name is not None:
            self._check_name(name, region_id)
        if endpoint is not None:
            _check_endpoint(endpoint)
        self._updated(
            region_id=region_id,
            name=region["name"] if name is None else name,
            endpoint=region["endpoint"] if endpoint is None else endpoint,
        )

    @event("Updated")
    def _updated(self, region_id: int, name: str, endpoint: str) -> None:
        self.regions[str(region_id)] = {"name": name, "endpoint": endpoint}

    def remove(self, region_id: int) -> None:
        self._known(region_id)
        if region_id == LOCAL_ID:
            raise InvalidParameter("The local region cannot be removed")
        self._removed(region_id=region_id)

    @event("Removed")
    def _removed(self, region_id: int) -> None:
        del self.regions[str(region_id)]


def _check_endpoint(endpoint: str) -> None:
    if not endpoint.startswith(("http://", "https://")) or len(endpoint) < 10:
        raise InvalidParameter(f"Invalid region endpoint {endpoint}: an http(s) URL is expected")
