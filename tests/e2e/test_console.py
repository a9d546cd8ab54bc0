"""The web console at /client/ in headless Chromium, on the embedded default (SQLite): an
operator logs in, sees every page, adds a zone step by step, deploys a VM with a custom
offering and watches the job finish, stops and scales it, upgrades routers by zone, sees a
usage chart with data and travels back to before a VM existed, with its history; a user sees
their network, its addresses and rules; a domain administrator and a plain user see none of the
root pages, and a session that is taken away sends the user back to log in. Every page visited
is photographed, and the photograph must not be blank nor the browser's log show a script error.

One server and one browser for the module: the tests share a cloud (a zone with a host, a
template and a custom offering, and a plain user) and each makes the VMs it looks at and logs in
afresh.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cs import CloudStackApiException

from tests.e2e.browser import Console, chromium, open_browser
from tests.e2e.factories import Tenant, make_tenant
from tests.e2e.servers import Server, start_server, stop_server
from tests.e2e.test_isos_and_sharing import _ready
from tests.e2e.test_networks import SOURCE_NAT_OFFERING, _fabric, _offering
from tests.e2e.test_routers import SYSTEM_TEMPLATE, control, ensure_router, register_template
from tests.e2e.test_usage_statistics import bill_a_day_later, server_settings
from tests.e2e.test_vms import CUSTOM_DETAILS, Place, _host, _place

# How the console writes the custom shape chosen in the wizard (x is a multiplication sign).
SHAPE = "2 CPU \u00d7 1000 MHz, 1024 MiB"


class Cloud:
    """The module's server, its zone, and the people who use it."""

    def __init__(self, server: Server, knobs: Path) -> None:
        self.server, self.knobs = server, knobs
        self.admin = server.client()
        self.place: Place = _place(self.admin)
        self.host = _host(self.admin, self.place, "h1", cores=8, memory=32)
        self.user: Tenant = make_tenant(server, self.admin, name=f"alice-{uuid.uuid4().hex[:4]}")

    @property
    def console_url(self) -> str:
        return self.server.url.removesuffix("api")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    root = tmp_path_factory.mktemp("console")
    knobs = root / "control.json"
    server = start_server(root / "data", {"STRATUS_SIMULATOR_CONTROL": str(knobs)})
    try:
        yield Cloud(server, knobs)
    finally:
        stop_server(server)


@pytest.fixture(scope="module")
def console(cloud: Cloud, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    chromium()  # skip the browser's tests cleanly when this machine has no Chromium
    profile = tmp_path_factory.mktemp("chromium-profile")
    driver = open_browser(profile)
    shots = Path(tmp_path_factory.mktemp("screenshots"))
    try:
        yield Console(driver, cloud.console_url, shots)
    finally:
        driver.quit()


def deploy(client: Any, cloud: Cloud, name: str) -> dict:
    return client.deployVirtualMachine(
        zoneid=cloud.place.zone,
        serviceofferingid=cloud.place.small["id"],
        templateid=cloud.place.template,
        name=name,
        fetch_result=True,
    )["virtualmachine"]


def log_in_as_admin(console: Console, cloud: Cloud) -> None:
    console.log_in("admin", cloud.server.admin["password"])


def test_the_console_is_served_beside_the_api_with_strict_headers(cloud: Cloud) -> None:
    base = cloud.console_url
    page = httpx.get(base)
    assert page.status_code == 200 and "Stratus console" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert httpx.get(base.rstrip("/")).headers.get("location") == "/client/"
    assert httpx.get(base + "vendor/chart-4.6.1.umd.min.js").status_code == 200
    assert httpx.get(base + "vendor/chart-4.6.1.LICENSE.md").status_code == 200
    api = httpx.get(cloud.server.url, params={"command": "listZones", "response": "json"})
    assert api.status_code == 401  # the API is still the API, and still wants credentials


def test_an_operator_logs_in_and_sees_every_page(console: Console, cloud: Cloud) -> None:
    console.fresh()
    console.find("#username").send_keys("admin")
    console.find("#password").send_keys("not-the-password")
    console.find("#login-button").click()
    assert "not right" in console.text("#login-message")
    assert console.find("#password").get_attribute("value") == ""  # the page keeps no password
    console.shot("login")
    log_in_as_admin(console, cloud)
    assert console.nav() == [
        "Dashboard",
        "Instances",
        "Infrastructure",
        "Networks",
        "Usage",
        "Time travel",
    ]
    drawn = console.chart(".zone-capacity[data-zone='z1'] canvas")
    assert {"Memory", "CPU"} <= set(drawn["labels"])
    console.shot("dashboard")
    console.go("infrastructure")
    assert console.text("[data-count='hosts']") == str(len(cloud.admin.listHosts()["host"]))
    sockets = console.text(".sockets table")
    assert "Simulator" in sockets
    hosts = console.wait_text("[data-table='hosts'] table", "h1")
    assert "Up" in hosts and "Enabled" in hosts
    console.shot("infrastructure")


def test_a_zone_is_added_step_by_step(console: Console, cloud: Cloud) -> None:
    log_in_as_admin(console, cloud)
    console.go("infrastructure")
    console.find("#add-zone").click()
    console.ready("addzone")
    steps = {
        0: {"name": "z2", "networktype": "Advanced"},
        1: {"physname": "z2-fabric", "vlan": "700-799"},
        2: {"pubgateway": "198.51.100.1", "pubstart": "198.51.100.10", "pubend": "198.51.100.20"},
        3: {"podname": "z2-pod", "podgateway": "10.30.0.1", "podstart": "10.30.0.10"},
        4: {"clustername": "z2-cluster", "hypervisor": "Simulator"},
        5: {"url": "simulator://z2-h1?sockets=2&cores=8&mhz=2000&memory_gb=16", "password": "pw"},
        6: {},
    }
    for index, values in steps.items():
        console.find(f"#zone-step-{index}")
        for name, value in values.items():
            console.set_value(f"#zone-{name}", value)
        if index == 5:
            console.shot("add-zone-host")
        console.find("#zone-next").click()
    console.wait_text(".zone-ready", "Zone z2 is ready.")
    log = console.text(".zone-log")
    assert "Management, Public, Guest traffic" in log and "Host z2-h1 added: Up" in log
    console.shot("add-zone-done")

    [zone] = cloud.admin.listZones(name="z2")["zone"]
    assert zone["allocationstate"] == "Enabled"
    [physical] = cloud.admin.listPhysicalNetworks(zoneid=zone["id"])["physicalnetwork"]
    assert (physical["state"], physical["vlan"]) == ("Enabled", "700-799")
    [host] = cloud.admin.listHosts(zoneid=zone["id"])["host"]
    assert (host["state"], host["cpusockets"]) == ("Up", 2)
    console.go("infrastructure")
    assert console.text("[data-count='zones']") == "2"


def test_deploying_a_custom_vm_in_the_wizard_shows_the_job_until_it_ends(
    console: Console, cloud: Cloud
) -> None:
    log_in_as_admin(console, cloud)
    _wizard_to_image(console, cloud)
    console.set_value("#wizard-template", cloud.place.template)
    console.find("#wizard-next").click()
    console.set_value("#wizard-offering", cloud.place.custom["id"])
    console.find("#wizard-cpu").send_keys(CUSTOM_DETAILS["details[0].cpuNumber"])
    console.find("#wizard-speed").send_keys(CUSTOM_DETAILS["details[0].cpuSpeed"])
    console.find("#wizard-memory").send_keys(CUSTOM_DETAILS["details[0].memory"])
    console.shot("deploy-offering")
    console.find("#wizard-next").click()
    console.find("#step-3 #wizard-disk")  # no data disk unless one is chosen
    console.find("#wizard-next").click()
    console.find("#wizard-name").send_keys("web-1")
    console.find("#wizard-next").click()
    console.wait_text("#step-5", SHAPE)
    console.find("#wizard-next").click()  # Deploy
    console.find(".job")  # the job shows while it runs, and says how it ended
    console.wait_text(".job", "succeeded")
    console.ready("instances")
    details = console.wait_text(".view", "web-1")
    assert SHAPE in details and "Running" in details
    assert "ROOT" in console.text(".view")
    console.shot("instance-details")

    console.find("#vm-stop").click()
    console.wait_text(".job", "Stopping web-1")
    console.find("#vm-start")  # the page shows the stopped VM once the job has ended
    [vm] = cloud.admin.listVirtualMachines(name="web-1")["virtualmachine"]
    assert vm["state"] == "Stopped"

    console.set_value("#scale-offering", cloud.place.custom["id"])
    console.set_value("#scale-cpu", "1")
    console.set_value("#scale-speed", "800")
    console.set_value("#scale-memory", "768")
    console.find("#vm-scale").click()
    console.wait_text(".job", "Scaling web-1")
    console.wait_text(".view", "1 CPU \u00d7 800 MHz, 768 MiB")
    [vm] = cloud.admin.listVirtualMachines(name="web-1")["virtualmachine"]
    assert (vm["cpunumber"], vm["cpuspeed"], vm["memory"]) == (1, 800, 768)

    cloud.admin.createTags(
        resourceids=vm["id"],
        resourcetype="UserVm",
        **{"tags[0].key": "tier", "tags[0].value": "frontend"},
    )
    console.driver.refresh()  # a reload keeps the session (the tab's storage and the cookie)
    console.ready("instances")
    assert "tier\nfrontend" in console.text(".view") or "tier frontend" in console.text(".view")

    console.go("instances")
    console.set_value("#vm-search", "web-")
    console.wait_text(".paged", "Page 1 of 1 · 1 instances")
    console.shot("instances")


def _wizard_to_image(console: Console, cloud: Cloud) -> None:
    """Opens the deploy wizard and goes to its second step (a template or an ISO)."""
    console.go("instances")
    console.find("#deploy-link").click()
    console.ready("deploy")
    console.set_value("#wizard-zone", cloud.place.zone)
    console.find("#wizard-next").click()
    console.find("#step-1 #wizard-source")


def _wizard_deploys(console: Console, name: str, review: str) -> None:
    """From the disk step on: names the VM, checks the review, deploys and waits for the job."""
    console.find("#wizard-next").click()
    console.find("#wizard-name").send_keys(name)
    console.find("#wizard-next").click()
    console.wait_text("#step-5", review)
    console.find("#wizard-next").click()  # Deploy
    console.wait_text(".job", "succeeded")
    console.ready("instances")
    console.wait_text(".view", name)


def test_the_wizard_installs_from_an_iso_and_adds_a_data_disk(
    console: Console, cloud: Cloud
) -> None:
    admin, zone = cloud.admin, cloud.place.zone
    iso = admin.registerIso(
        name="installer", displaytext="installer", url="http://images.example.org/inst.iso",
        zoneid=zone, ostypeid=admin.listOsTypes()["ostype"][0]["id"], ispublic=True,
    )["iso"][0]  # fmt: skip
    _ready(admin, "listIsos", "iso", iso["id"], zone)
    disks = {o["name"]: o for o in admin.listDiskOfferings()["diskoffering"]}
    log_in_as_admin(console, cloud)

    _wizard_to_image(console, cloud)
    console.set_value("#wizard-source", "iso")
    console.find("#wizard-hypervisor")  # an ISO names no hypervisor: the wizard asks for one
    console.set_value("#wizard-template", iso["id"])
    console.set_value("#wizard-hypervisor", "Simulator")
    console.shot("deploy-iso")
    console.find("#wizard-next").click()
    console.set_value("#wizard-offering", cloud.place.small["id"])
    console.find("#wizard-next").click()
    console.set_value("#wizard-disk", disks["Custom"]["id"])
    console.find("#wizard-disk-size").send_keys("12")
    console.shot("deploy-root-disk")
    _wizard_deploys(console, "installed", "Custom, 12 GB")
    [vm] = admin.listVirtualMachines(name="installed")["virtualmachine"]
    assert (vm["isoid"], vm["hypervisor"], vm["state"]) == (iso["id"], "Simulator", "Running")
    [root] = admin.listVolumes(virtualmachineid=vm["id"])["volume"]
    assert (root["type"], root["size"]) == ("ROOT", 12 * 1024**3)
    assert "installer" in console.text(".view")

    _wizard_to_image(console, cloud)
    console.set_value("#wizard-template", cloud.place.template)
    console.find("#wizard-next").click()
    console.set_value("#wizard-offering", cloud.place.small["id"])
    console.find("#wizard-next").click()
    console.set_value("#wizard-disk", disks["Small"]["id"])
    _wizard_deploys(console, "with-data", "Small, 5 GB")
    [vm] = admin.listVirtualMachines(name="with-data")["virtualmachine"]
    volumes = {v["type"]: v for v in admin.listVolumes(virtualmachineid=vm["id"])["volume"]}
    assert (volumes["DATADISK"]["size"], volumes["DATADISK"]["deviceid"]) == (5 * 1024**3, 1)
    console.wait_text(".view", "DATADISK")
    console.shot("instance-with-data-disk")


def test_routers_are_upgraded_by_zone_with_their_progress(console: Console, cloud: Cloud) -> None:
    admin, zone = cloud.admin, cloud.place.zone
    old = register_template(admin, SYSTEM_TEMPLATE)
    control(cloud.knobs, releases={old: "4.2.0"})
    routers = [ensure_router(admin, zone, cloud.user) for _ in range(2)]
    register_template(admin, "systemvm-4.3")
    admin.updateConfiguration(name="router.template.simulator", value="systemvm-4.3")
    assert all(r["version"] == "4.2.0" for r in routers)

    waiting = [r for r in admin.listRouters(listall="true")["router"] if r["requiresupgrade"]]
    log_in_as_admin(console, cloud)
    assert console.text("#routers-to-upgrade") == str(len(waiting)) and len(waiting) >= 2
    console.go("networks")
    console.wait_text(".routers table", "4.2.0")
    console.set_value("#upgrade-scope", "zoneid")
    console.wait(lambda d: console.find("#upgrade-target").get_attribute("value"))
    console.set_value("#upgrade-target", zone)
    console.shot("networks-before-upgrade")
    console.find("#upgrade-routers").click()
    in_zone = [r for r in waiting if r["zoneid"] == zone]
    console.wait_text(".upgrade-status", f"Upgraded {len(in_zone)} of {len(in_zone)} router(s).")
    table = console.wait_text(".routers table", "4.3.0")
    assert "4.2.0" not in table
    console.shot("networks-after-upgrade")
    listed = admin.listRouters(listall="true", zoneid=zone)["router"]
    assert {r["version"] for r in listed} == {"4.3.0"}


def test_a_user_sees_their_network_its_address_rules_and_a_vms_nic(
    console: Console, cloud: Cloud
) -> None:
    admin, user = cloud.admin, cloud.user.client
    if not admin.listTemplates(templatefilter="all", name=SYSTEM_TEMPLATE).get("template"):
        register_template(admin, SYSTEM_TEMPLATE)  # the network's router runs it
    if not admin.listPhysicalNetworks(zoneid=cloud.place.zone).get("physicalnetwork"):
        _fabric(admin, cloud.place.zone)
    offering = _offering(user, SOURCE_NAT_OFFERING)
    network = user.createNetwork(
        name="shop", displaytext="shop", networkofferingid=offering["id"], zoneid=cloud.place.zone
    )["network"]
    vm = user.deployVirtualMachine(
        zoneid=cloud.place.zone,
        serviceofferingid=cloud.place.small["id"],
        templateid=cloud.place.template,
        networkids=network["id"],
        name="shop-web",
        fetch_result=True,
    )["virtualmachine"]
    ip = user.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]
    user.createPortForwardingRule(
        ipaddressid=ip["id"],
        privateport=22,
        publicport=2222,
        protocol="tcp",
        virtualmachineid=vm["id"],
        fetch_result=True,
    )

    console.log_in(cloud.user.username, cloud.user.password)
    console.go("networks")
    console.wait_text(".view", "shop")
    console.wait_text(".paged", ip["ipaddress"])
    [link] = [a for a in console.all(".ip-link") if a.text == ip["ipaddress"]]
    link.click()
    rules = console.wait_text(".rules", "Port forwarding")
    assert "2222" in rules and "shop-web:22" in rules
    console.shot("user-network-rules")
    console.go(f"instances/{vm['id']}")
    nics = console.wait_text(".view", "shop")
    assert vm["nic"][0]["ipaddress"] in nics


def test_usage_is_charted_for_a_date_range(console: Console, cloud: Cloud) -> None:
    deploy(cloud.user.client, cloud, "metered")
    bill_a_day_later(server_settings(cloud.server))

    log_in_as_admin(console, cloud)
    console.go("usage")
    drawn = console.chart(".usage-chart canvas")
    assert sum(drawn["sums"]) > 0  # hours of a running VM, by account
    totals = console.wait_text(".usage-out", cloud.user.username)
    assert "Running Vm Usage per day" in totals and "1: Running Vm Usage" in totals
    console.shot("usage")

    console.set_value("#usage-start", "2001-01-01")
    console.set_value("#usage-end", "2001-01-31")
    console.find("#usage-show").click()
    console.find(".usage-out .empty")  # a range with no usage says so


def test_time_travel_goes_back_to_before_a_vm_existed(console: Console, cloud: Cloud) -> None:
    vm = deploy(cloud.admin, cloud, "traveller")
    created = datetime.strptime(vm["created"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    log_in_as_admin(console, cloud)
    console.go("timetravel")

    def travel(to: datetime) -> None:
        console.set_value("#travel-zone", "")
        console.set_value("#travel-id", vm["id"])
        console.set_value("#travel-at", to.strftime("%Y-%m-%dT%H:%M:%S"))
        console.find("#travel-go").click()

    travel(created - timedelta(seconds=2))
    assert "did not exist" in console.text(".travel-out .absent")
    timeline = console.wait_text(".history", "Deployed")
    assert "by admin (admin)" in timeline and "through deployVirtualMachine" in timeline
    assert console.all(".timeline li.later")  # every event is after that instant
    console.shot("time-travel-before")
    travel(datetime.now(UTC) + timedelta(seconds=1))
    state = console.wait_text(".resource-state", "VirtualMachine")
    assert "traveller" in state
    console.wait_text(".history", "Deployed")
    assert not console.all(".timeline li.later")
    console.shot("time-travel-after")

    console.set_value("#travel-id", "")
    console.set_value("#travel-zone", cloud.place.zone)
    console.find("#travel-go").click()  # the whole zone, now: its host and its VMs
    zone = console.wait_text(".travel-out", "traveller")
    assert "Zone z1" in zone and "Host h1" in zone


def test_a_resource_history_names_who_did_what_and_is_for_root_admins(cloud: Cloud) -> None:
    admin = cloud.admin
    vm = deploy(admin, cloud, "historic")
    admin.stopVirtualMachine(id=vm["id"], fetch_result=True)
    events = admin.listResourceHistory(id=vm["id"])["resourceevent"]
    assert events[0]["event"] == "Deployed" and events[0]["resourcetype"] == "VirtualMachine"
    assert events[0]["command"] == "deployVirtualMachine" and events[0]["jobid"]
    assert events[0]["userid"] == admin.listUsers(username="admin")["user"][0]["id"]
    stop = next(e for e in events if e["event"] == "StopRequested")
    assert stop["command"] == "stopVirtualMachine"
    assert [e["version"] for e in events] == sorted(e["version"] for e in events)
    created = admin.listEvents(listall="true", type="VM.CREATE", keyword="historic")["event"]
    assert created and {e["username"] for e in created} == {"admin"}  # as the dashboard shows
    page = admin.listResourceHistory(id=vm["id"], page=2, pagesize=1)
    assert page["count"] == len(events) and page["resourceevent"] == events[1:2]
    with pytest.raises(CloudStackApiException):
        cloud.user.client.listResourceHistory(id=vm["id"])
    with pytest.raises(CloudStackApiException) as missing:
        admin.listResourceHistory(id=str(uuid.uuid4()))
    assert missing.value.error["errorcode"] == 431


def test_a_plain_user_sees_only_their_own_and_no_admin_page(console: Console, cloud: Cloud) -> None:
    user = cloud.user
    deploy(user.client, cloud, "mine")
    deploy(cloud.admin, cloud, "not-theirs")
    console.log_in(user.username, user.password)
    assert console.nav() == ["Instances", "Networks"]
    listed = console.wait_text(".paged", "instances")
    assert "mine" in listed and "not-theirs" not in listed
    console.shot("user-instances")
    for page in ("infrastructure", "dashboard", "usage", "timetravel"):
        console.driver.execute_script("location.hash = arguments[0]", f"#/{page}")
        assert "administrators." in console.text(".denied")
    console.shot("user-denied")


def test_a_domain_administrator_sees_usage_but_no_root_page(console: Console, cloud: Cloud) -> None:
    helper = make_tenant(cloud.server, cloud.admin, account_type=2, name="domain-admin")
    console.log_in(helper.username, helper.password)
    assert console.nav() == ["Instances", "Networks", "Usage"]
    console.go("usage")
    console.find(".usage-out .card, .usage-out .empty")
    assert not console.all(".usage-out .error")
    console.go("networks")
    assert not console.all(".routers") and not console.all(".view .error")
    console.shot("domain-admin-networks")
    console.driver.execute_script("location.hash = '#/dashboard'")
    assert "for root administrators" in console.text(".denied")


def test_a_session_taken_away_sends_the_user_back_to_log_in(console: Console, cloud: Cloud) -> None:
    user = cloud.user
    console.log_in(user.username, user.password)
    assert _stored_session(console) is not None
    cloud.admin.updateUser(id=user.user_id, password=uuid.uuid4().hex)  # ends their sessions
    console.driver.execute_script("location.hash = '#/networks'")  # its first call is refused
    assert "session has ended" in console.text("#login-message")
    assert _stored_session(console) is None  # nothing of the session is left in the page
    console.shot("session-ended")


def _stored_session(console: Console) -> Any:
    return console.driver.execute_script("return sessionStorage.getItem('stratus.session')")
