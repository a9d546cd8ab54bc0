"""What a VMware cluster is added with in 4.3: the vCenter cluster it stands for
(`http://vcenter/datacenter/cluster`) and the virtual switches of its guest and public
traffic. Plain values and their checks; the `Cluster` aggregate records them."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from domain.errors import InvalidParameter
from domain.vmware_datacenter import vcenter_url

# 4.3's virtual switch types: the standard switch, the distributed switch, the Nexus 1000v.
SWITCH_TYPES = ("vmwaresvs", "vmwaredvs", "nexusdvs")
TRAFFIC = ("guest", "public")


@dataclass(frozen=True)
class VcenterCluster:
    """A cluster of a vCenter: the SDK URL to log in at and the inventory path to it."""

    sdk_url: str
    datacenter: str
    cluster: str

    @property
    def path(self) -> str:
        return f"{self.datacenter}/{self.cluster}"

    def host_url(self, host_name: str) -> str:
        """The URL a host of the cluster is added with: through the same vCenter, by name."""
        return f"{self.sdk_url}?host={host_name}"

    def check_in(self, datacenter: str, vcenter: str) -> None:
        """Refuse a cluster outside the datacenter its zone is associated with (`vcenter`: the
        vCenter as addVmwareDc was given it), as 4.3 does."""
        server = urlsplit(vcenter_url(vcenter)).hostname or ""
        same_server = server.lower() == (urlsplit(self.sdk_url).hostname or "").lower()
        # vSphere's inventory names are case-sensitive; server names are not.
        if not same_server or datacenter != self.datacenter:
            raise InvalidParameter(
                f"The cluster's url names datacenter {self.datacenter} of vCenter "
                f"{urlsplit(self.sdk_url).hostname}, but its zone is associated with VMware DC "
                f"{datacenter} of vCenter {server}"
            )


def vcenter_cluster(url: str) -> VcenterCluster:
    """`http[s]://vcenter[:port]/datacenter/cluster` (4.3's form; `vmware://` means https)."""
    parts = urlsplit(url.strip())
    scheme = {"http": "http", "https": "https", "vmware": "https"}.get(parts.scheme)
    segments = [s for s in parts.path.split("/") if s]
    if scheme is None or not parts.hostname or len(segments) != 2:
        raise InvalidParameter(
            "The url of a VMware cluster is http://<vCenter>/<datacenter>/<cluster>"
        )
    port = f":{parts.port}" if parts.port else ""
    return VcenterCluster(f"{scheme}://{parts.hostname}{port}/sdk", segments[0], segments[1])


@dataclass(frozen=True)
class VirtualSwitch:
    """The switch one kind of traffic of the cluster uses: its type and, if given, its name."""

    switch_type: str
    name: str = ""


def virtual_switch(traffic: str, switch_type: str | None, name: str | None) -> VirtualSwitch | None:
    """The switch asked for `traffic` (None when neither type nor name is given); a name
    without a type is a standard switch, as 4.3 takes it."""
    if not switch_type and not name:
        return None
    chosen = (switch_type or SWITCH_TYPES[0]).strip().lower()
    if chosen not in SWITCH_TYPES:
        raise InvalidParameter(
            f"Invalid {traffic}vswitchtype {switch_type}: use one of {', '.join(SWITCH_TYPES)}"
        )
    return VirtualSwitch(chosen, (name or "").strip())
