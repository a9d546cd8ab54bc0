"""Apache Libcloud's CloudStack driver, as operators script it, against the cloud.

The root administrator builds the zone with `cs`; everything a tenant does here goes through
Libcloud's own calls (its signing, its job polling and its parsing of every answer), so what
it reads must be what CloudStack 4.3 answers.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from cs import CloudStack
from libcloud.common.types import ProviderError
from libcloud.compute.providers import get_driver
from libcloud.compute.types import NodeState, Provider

from tests.e2e.factories import Tenant, make_tenant
from tests.e2e.sandbox import Sandbox
from tests.e2e.test_networks import SOURCE_NAT_OFFERING, _fabric
from tests.e2e.test_routers import SYSTEM_TEMPLATE, register_template
from tests.e2e.test_vms import _host, _place

PUBLIC_KEY = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7n9aN0bs1mDCOnJs1sGgZJq2uTGtxMw0bXyq8FPVT6x2j9"
    "c7N3YlH6r2yZ5qSPSgNQ7t7mnVnB3c9Ch1JbdQ0cBG2o0m5TDZ1ucS9Sc2zp0rUpDnOJvOHV4GPpeG0GIdLQU6"
    "ZV4pKYbKqmEAqzYIpnk7YdkEpC8t9F1SqAdZgBQ== operator@example.org"
)


def _driver(sandbox: Sandbox, tenant: Tenant) -> object:
    """Libcloud's CloudStack driver with a tenant's keys, as an operator's script makes it."""
    client: CloudStack = tenant.client
    place = urlsplit(sandbox.url)
    driver_class = get_driver(Provider.CLOUDSTACK)
    return driver_class(
        key=client.key,
        secret=client.secret,
        secure=False,
        host=place.hostname,
        port=place.port,
        path=place.path,
    )


def _zone(sandbox: Sandbox) -> str:
    admin = sandbox.client()
    place = _place(admin)
    # A custom offering has no fixed CPU count, so 4.3 answers none, which Libcloud's
    # list_sizes cannot read: these scripts run where sizes are all fixed.
    admin.deleteServiceOffering(id=place.custom["id"])
    _host(admin, place, "h1", cores=8, memory=16)
    register_template(admin, SYSTEM_TEMPLATE)
    _fabric(admin, place.zone)
    return place.zone


def test_a_tenant_runs_a_node_behind_a_forwarded_port_with_a_disk_through_libcloud(
    sandbox,
) -> None:
    zone_id = _zone(sandbox)
    alice = make_tenant(sandbox, sandbox.client())
    cloud = _driver(sandbox, alice)

    (location,) = [z for z in cloud.list_locations() if z.id == zone_id]
    size = next(s for s in cloud.list_sizes() if s.name == "Small Instance")
    assert (size.ram, size.extra["cpu"]) == (512, 1)
    image = next(i for i in cloud.list_images(location) if i.name == "tiny")
    assert image.extra["hypervisor"] == "Simulator"
    offering = next(o for o in cloud.ex_list_network_offerings() if o.name == SOURCE_NAT_OFFERING)
    network = cloud.ex_create_network("web tier", "web", offering, location)
    assert network.id in {n.id for n in cloud.ex_list_networks()}

    made = cloud.create_key_pair("made")
    assert made.private_key.startswith("-----BEGIN") and made.fingerprint
    cloud.import_key_pair_from_string("imported", PUBLIC_KEY)
    assert {"made", "imported"} <= {k.name for k in cloud.list_key_pairs()}

    # Libcloud asks for `startvm=False` unless told otherwise, as 4.3 is then asked
    node = cloud.create_node(
        name="web-1",
        size=size,
        image=image,
        location=location,
        networks=[network],
        ex_keyname="imported",
        ex_userdata="#cloud-config\n",
        ex_start_vm=True,
    )
    assert node.state == NodeState.RUNNING and node.private_ips
    assert node.extra["key_name"] == "imported"
    listed = {n.id: n for n in cloud.list_nodes()}
    assert listed[node.id].private_ips == node.private_ips

    address = cloud.ex_allocate_public_ip(network_id=network.id)
    assert address.address in {a.address for a in cloud.ex_list_public_ips()}
    rule = cloud.ex_create_port_forwarding_rule(
        node, address, private_port=22, public_port=2222, protocol="TCP"
    )
    shown = {n.id: n for n in cloud.list_nodes()}[node.id]
    assert [r.id for r in shown.extra["port_forwarding_rules"]] == [rule.id]
    assert address.address in shown.public_ips
    opened = cloud.ex_create_firewall_rule(address, "198.51.100.0/24", "TCP", start_port=443)
    assert opened.id in {r.id for r in cloud.ex_list_firewall_rules()}

    volume = cloud.create_volume(size=5, name="data", location=location)
    assert cloud.attach_volume(node, volume)
    assert volume.id in {v.id for v in cloud.list_volumes(node=node)}
    assert cloud.detach_volume(volume)
    assert cloud.destroy_volume(volume)

    assert cloud.reboot_node(node)
    assert cloud.ex_stop(node) and cloud.ex_get_node(node.id).state == NodeState.STOPPED
    assert cloud.ex_start(node) and cloud.ex_get_node(node.id).state == NodeState.RUNNING

    # Another tenant's script sees none of it and can touch none of it
    bob = _driver(sandbox, make_tenant(sandbox, sandbox.client()))
    assert node.id not in {n.id for n in bob.list_nodes()}
    assert not {k.name for k in bob.list_key_pairs()} & {"made", "imported"}
    with pytest.raises(ProviderError):
        bob.destroy_node(node)

    assert cloud.ex_delete_port_forwarding_rule(node, rule)
    assert cloud.ex_release_public_ip(address)
    assert cloud.destroy_node(node)
    assert node.id not in {n.id for n in cloud.list_nodes() if n.state == NodeState.RUNNING}


def test_a_node_libcloud_creates_without_asking_to_start_it_stays_stopped(sandbox) -> None:
    zone_id = _zone(sandbox)
    cloud = _driver(sandbox, make_tenant(sandbox, sandbox.client()))
    (location,) = [z for z in cloud.list_locations() if z.id == zone_id]
    size = next(s for s in cloud.list_sizes() if s.name == "Small Instance")
    image = next(i for i in cloud.list_images(location) if i.name == "tiny")
    offering = next(o for o in cloud.ex_list_network_offerings() if o.name == SOURCE_NAT_OFFERING)
    network = cloud.ex_create_network("idle", "idle", offering, location)
    node = cloud.create_node(
        name="idle-1", size=size, image=image, location=location, networks=[network]
    )
    assert node.state == NodeState.STOPPED
    assert cloud.ex_start(node) and cloud.ex_get_node(node.id).state == NodeState.RUNNING
