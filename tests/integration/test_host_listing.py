"""listHosts: a page shows each host exactly as the host's own view (a job's result) renders
it, its zone's, pod's and cluster's names included, before and after they change."""

from __future__ import annotations

import orjson

from api.access import Caller
from api.dispatch import Call
from api.envelope import render
from commands import infrastructure as places
from domain.host import Host
from domain.infrastructure import Cluster
from domain.values import Secret
from stratus.settings import Settings
from tests.support.app import App, running_app


def _page(app: App) -> list[bytes]:
    answer = app.http.get("/client/api", params=app.signed({"command": "listHosts"}))
    assert answer.status_code == 200, answer.text
    listed = orjson.loads(answer.content)["listhostsresponse"]["host"]
    return [orjson.dumps(host) for host in listed]


def _each_alone(app: App, ids: list[str]) -> list[bytes]:
    with app.runtime.db.read() as cursor:
        user = cursor.execute("SELECT * FROM users WHERE username = 'admin'").fetchone()
    command = app.services.dispatcher.find("listHosts")
    call = Call(app.runtime, app.services, Caller.from_row(user), command, {})
    declared = app.services.dispatcher.find("reconnectHost").render
    return [render(declared(call, host_id)) for host_id in ids]


def test_a_page_shows_each_host_as_its_own_view_does(settings: Settings) -> None:
    with running_app(settings) as app:
        store = app.runtime.store
        spec = places.CreateZone('zone "h" 5%', "Advanced", {"dns1": "8.8.8.8"})
        zone = places.create_zone(store, spec).id
        pod = places.create_pod(store, places.CreatePod(zone, "p", "10.0.0.1", "255.0.0.0", "")).id
        cluster = places.add_cluster(store, places.AddCluster(zone, pod, "c «1»", "BareMetal")).id
        hosts = [
            Host(
                f"bm-{number} %s",
                zone,
                pod,
                cluster,
                "BareMetal",
                f"http://10.0.0.{number}",
                "root",
                Secret("pw"),
                "Enabled",
                ("fast", "ssd") if number else (),
            )
            for number in range(3)
        ]
        store.save(*hosts)
        app.runtime.runner.catch_up()
        ids = [str(host.id) for host in hosts]
        for _ in range(2):  # the first page keeps each host's JSON, the second answers from it
            assert _page(app) == _each_alone(app, ids)
        renamed = store.get(Cluster, cluster)
        renamed.update({"name": "cluster renamed"})
        store.save(renamed)
        app.runtime.runner.catch_up()
        assert _page(app) == _each_alone(app, ids)
        assert b'"clustername":"cluster renamed"' in _page(app)[0]
