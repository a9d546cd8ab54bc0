"""Every read model the product keeps, built with what they need from the store."""

from __future__ import annotations

from collections.abc import Callable

from projections.affinity_groups import AffinityGroupsProjection
from projections.autoscale import AutoScaleProjection
from projections.configuration import ConfigurationProjection
from projections.dedication import DedicationProjection
from projections.events import EventsProjection
from projections.gslb import GlobalLoadBalancersProjection
from projections.hypervisor_capabilities import HypervisorCapabilitiesProjection
from projections.identity import IdentityProjection
from projections.infrastructure import AlertsProjection, InfrastructureProjection
from projections.instance_groups import InstanceGroupsProjection
from projections.internal_lb import InternalLbVmsProjection
from projections.jobs import JobsProjection
from projections.ldap import LdapServersProjection
from projections.netapp import NetappProjection
from projections.network_devices import NetworkDevicesProjection
from projections.network_plumbing import NetworkPlumbingProjection, StorageIpRangesProjection
from projections.network_rules import NetworkRulesProjection
from projections.networks import NetworksProjection, PublicIpsProjection
from projections.offerings import OfferingsProjection
from projections.projects import ProjectsProjection
from projections.regions import RegionsProjection
from projections.resource_details import ResourceDetailsProjection
from projections.resource_limits import ResourceLimitsProjection
from projections.resource_tags import ResourceTagsProjection
from projections.routers import SystemVmsProjection
from projections.security_groups import SecurityGroupsProjection
from projections.site_to_site_vpn import SiteToSiteVpnProjection
from projections.snapshot_policies import SnapshotPoliciesProjection
from projections.snapshots import SnapshotsProjection
from projections.ssh_key_pairs import SSHKeyPairsProjection
from projections.ssl_certs import SslCertsProjection
from projections.storage import StorageProjection
from projections.templates import TemplatesProjection
from projections.ucs import UcsProjection
from projections.vms import VirtualMachinesProjection
from projections.volumes import VolumesProjection
from projections.vpcs import VpcsProjection
from projections.vpn import RemoteAccessVpnsProjection
from projections.vpn_customer_gateways import VpnCustomerGatewaysProjection
from stratus.projection import Projection


def build(seal: Callable[[str], str]) -> list[Projection]:
    """Fresh instances of every read model, in the order the runner visits them."""
    return [
        IdentityProjection(seal),
        JobsProjection(),
        EventsProjection(),
        ConfigurationProjection(seal),
        InfrastructureProjection(),
        AlertsProjection(),
        VirtualMachinesProjection(),
        OfferingsProjection(),
        TemplatesProjection(),
        VolumesProjection(),
        SystemVmsProjection(),
        NetworksProjection(),
        PublicIpsProjection(),
        NetworkPlumbingProjection(),
        StorageIpRangesProjection(),
        NetworkRulesProjection(),
        VpcsProjection(),
        SecurityGroupsProjection(),
        AffinityGroupsProjection(),
        RemoteAccessVpnsProjection(),
        SnapshotsProjection(),
        SnapshotPoliciesProjection(),
        SSHKeyPairsProjection(),
        SslCertsProjection(),
        GlobalLoadBalancersProjection(),
        InstanceGroupsProjection(),
        ProjectsProjection(),
        ResourceDetailsProjection(),
        ResourceTagsProjection(),
        ResourceLimitsProjection(),
        RegionsProjection(),
        HypervisorCapabilitiesProjection(),
        DedicationProjection(),
        StorageProjection(),
        LdapServersProjection(),
        VpnCustomerGatewaysProjection(),
        NetappProjection(),
        UcsProjection(),
        AutoScaleProjection(),
        SiteToSiteVpnProjection(),
        InternalLbVmsProjection(),
        NetworkDevicesProjection(),
    ]
