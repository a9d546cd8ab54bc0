"""listRouters: a page shows each router exactly as the router's own view (a job's result)
renders it, names of zones, hosts and offerings and the minimum version included, before and
after they change."""

from __future__ import annotations

import uuid

import orjson

from api.access import Caller
from api.dispatch import Call
from api.envelope import render
from commands import infrastructure as places
from domain.compute import Compute
from domain.host import Host
from domain.infrastructure import Zone
from domain.system_vm import Placement, Role, SystemVm
from domain.values import Secret
from domain.vm import HostAccess
from stratus.settings import Settings
from tests.support.app import App, running_app


def _page(app: App) -> list[bytes]:
    query = {"command": "listRouters", "listall": "true"}
    answer = app.http.get("/client/api", params=app.signed(query))
    assert answer.status_code == 200, answer.text
    listed = orjson.loads(answer.content)["listroutersresponse"]["router"]
    return [orjson.dumps(router) for router in listed]


def _each_alone(app: App, ids: list[str]) -> list[bytes]:
    with app.runtime.db.read() as cursor:
        user = cursor.execute("SELECT * FROM users WHERE username = 'admin'").fetchone()
    command = app.services.dispatcher.find("listRouters")
    call = Call(app.runtime, app.services, Caller.from_row(user), command, {})
    declared = app.services.dispatcher.find("rebootRouter").render
    return [render(declared(call, router_id)) for router_id in ids]


def _routers(app: App) -> tuple[uuid.UUID, list[SystemVm]]:
    store = app.runtime.store
    with app.runtime.db.read() as cursor:
        account = cursor.execute("SELECT id, domain_id FROM accounts LIMIT 1").fetchone()
    zone = places.create_zone(
        store, places.CreateZone('zone "r" 5%', "Advanced", {"dns1": "8.8.8.8", "dns2": "8.8.4.4"})
    ).id
    pod = places.create_pod(store, places.CreatePod(zone, "p", "10.0.0.1", "255.255.0.0", "")).id
    cluster = places.add_cluster(store, places.AddCluster(zone, pod, "c", "Simulator")).id
    host = Host(
        "host «r»", zone, pod, cluster, "Simulator", "simulator://r", "root", Secret("pw"),
        "Enabled", (),
    )  # fmt: skip
    store.save(host)
    place = Placement(
        HostAccess(host.id, host.url, "root", Secret("pw"), "Simulator"), pod, cluster
    )
    compute = Compute(uuid.uuid4(), 1, 500, 256, False, uuid.uuid4(), "Simulator", 0).facts()
    routers = []
    for number in range(3):
        router = SystemVm(
            uuid.uuid4(), Role.ROUTER, f"r-{number}-VM", zone, uuid.UUID(account["id"]),
            uuid.UUID(account["domain_id"]), compute, network_ids=(uuid.uuid4(),),
            services=("dnsmasq",),
        )  # fmt: skip
        if number:
            router.request_start("start", None, place, "held")
        if number == 2:
            router.confirm("start", "4.3.0")
        routers.append(router)
    store.save(*routers)
    app.runtime.runner.catch_up()
    return zone, routers


def test_a_page_shows_each_router_as_its_own_view_does(settings: Settings) -> None:
    with running_app(settings) as app:
        zone, routers = _routers(app)
        ids = [str(router.id) for router in routers]
        for _ in range(2):  # the first page keeps each router's JSON, the second answers from it
            assert _page(app) == _each_alone(app, ids)
        assert b'"requiresupgrade":false' in _page(app)[2]
        setting = {"command": "updateConfiguration", "name": "minreq.sysvmtemplate.version"}
        answer = app.http.get("/client/api", params=app.signed(setting | {"value": "4.4.0"}))
        assert answer.status_code == 200, answer.text
        assert b'"requiresupgrade":true' in _page(app)[2]
        renamed = app.runtime.store.get(Zone, zone)
        renamed.update({"name": "zone renamed", "dns2": "9.9.9.9"})
        app.runtime.store.save(renamed)
        app.runtime.runner.catch_up()
        assert _page(app) == _each_alone(app, ids)
        assert b'"zonename":"zone renamed"' in _page(app)[0]
