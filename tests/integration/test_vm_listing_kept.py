"""listVirtualMachines answers from each VM's kept JSON exactly what rendering every VM in full
answers, for a root administrator and for a user, and again after VMs and names change."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import orjson

from api.access import Caller
from api.cloudstack.vm_listing import _LISTED, render_vms
from api.dispatch import Call
from api.envelope import list_response, render
from commands import infrastructure as places
from commands.offerings import seed_id
from domain.compute import Compute
from domain.host import Host
from domain.infrastructure import Zone
from domain.values import Secret
from domain.vm import HostAccess, VirtualMachine
from stratus.settings import Settings
from tests.support.app import App, running_app


def _answer(app: App, keys: dict[str, str]) -> bytes:
    query = {"command": "listVirtualMachines", "listall": "true", "apiKey": keys["apikey"]}
    answer = app.http.get("/client/api", params=_signed(query, keys["secretkey"]))
    assert answer.status_code == 200, answer.text
    return answer.content


def _signed(query: dict[str, str], secret: str) -> dict[str, str]:
    from api.signing import sign

    query = dict(query, response="json")
    query["signature"] = sign(query, secret)
    return query


def _in_full(app: App, username: str) -> bytes:
    """The answer as rendering each VM in full writes it, for the user `username`."""
    with app.runtime.db.read() as cursor:
        user = cursor.execute("SELECT * FROM users WHERE username = %s", (username,)).fetchone()
        where = "" if username == "admin" else " AND v.account_id = %s"
        params = [] if username == "admin" else [user["account_id"]]
        rows = cursor.execute(
            f"{_LISTED} WHERE v.removed = 0{where} ORDER BY v.seq", params
        ).fetchall()
    command = app.runtime.extras["dispatcher"].find("listVirtualMachines")
    call = Call(app.runtime, Caller.from_row(user), command, {})
    body = list_response("listVirtualMachines", "virtualmachine", render_vms(call, rows), len(rows))
    return render(body)


def _vm(app: App, zone: uuid.UUID, owner: dict[str, Any], name: str, custom: bool = False):
    compute = Compute(
        seed_id("service", "Small Instance"), 2, 1000, 1024, custom, uuid.uuid4(), "Simulator", 5
    ).facts()
    vm_id = uuid.uuid4()
    return VirtualMachine(
        vm_id, name, f'{name} "shown" 100% «é»', f"i-{vm_id.hex[:12]}-VM",
        uuid.UUID(owner["id"]), uuid.UUID(owner["domainid"]), zone, "os-1", compute,
    )  # fmt: skip


def _user(app: App) -> dict[str, str]:
    """A plain user's keys, in an account of its own."""

    def ask(**query: str) -> dict[str, Any]:
        answer = app.http.get("/client/api", params=app.signed(query))
        assert answer.status_code == 200, answer.text
        return orjson.loads(answer.content)

    made = ask(
        command="createAccount", accounttype="0", username="plain", password="pw-Secret-1",
        email="p@example.org", firstname="P", lastname="User", account="plain %s «x»",
    )["createaccountresponse"]["account"]  # fmt: skip
    user_id = made["user"][0]["id"]
    return ask(command="registerUserKeys", id=user_id)["registeruserkeysresponse"]["userkeys"]


def _owner(app: App, name: str) -> dict[str, Any]:
    answer = app.http.get(
        "/client/api", params=app.signed({"command": "listAccounts", "name": name})
    )
    return orjson.loads(answer.content)["listaccountsresponse"]["account"][0]


def _scene(app: App, plain: dict[str, Any]) -> tuple[Any, ...]:
    store = app.runtime.store
    zone = places.create_zone(
        store, places.CreateZone('zone "a" 50%', "Advanced", {"dns1": "8.8.8.8"})
    ).id
    admin = _owner(app, "admin")
    pod = places.create_pod(store, places.CreatePod(zone, "p", "10.0.0.1", "255.255.0.0", "")).id
    cluster = places.add_cluster(store, places.AddCluster(zone, pod, "c", "Simulator")).id
    host = Host(
        "host «1»", zone, pod, cluster, "Simulator", "simulator://h1", "root", Secret("pw"),
        "Enabled", (),
    )  # fmt: skip
    vms = [
        _vm(app, zone, admin, "plain"),
        _vm(app, zone, admin, "custom", custom=True),
        _vm(app, zone, admin, "grouped"),
        _vm(app, zone, admin, "started"),
        _vm(app, zone, plain, "users"),
    ]
    vms[2].update({"group": "group %s «g»"})
    access = HostAccess(host.id, host.url, "root", Secret("pw"), "Simulator")
    vms[3].request_start("start-1", uuid.uuid4(), access, "held")
    store.save(host, *vms)
    app.runtime.runner.catch_up()
    return zone, vms


def test_kept_vms_answer_what_rendering_them_in_full_answers(settings: Settings) -> None:
    with running_app(settings) as app:
        user = _user(app)
        _scene(app, _owner(app, "plain %s «x»"))
        admin = {"apikey": app.admin["apikey"], "secretkey": app.admin["secretkey"]}
        for _ in range(2):  # the first answer keeps the JSON, the second answers from it
            assert _answer(app, admin) == _in_full(app, "admin")
            assert _answer(app, user) == _in_full(app, "plain")


def test_a_kept_vm_answers_its_change_and_renamed_names(settings: Settings) -> None:
    with running_app(settings) as app:
        zone, vms = _scene(app, _owner(app, "admin"))
        admin = {"apikey": app.admin["apikey"], "secretkey": app.admin["secretkey"]}
        before = _answer(app, admin)
        store = app.runtime.store
        started = store.get(VirtualMachine, vms[3].id)
        started.confirm("start-1")
        renamed = store.get(Zone, zone)
        renamed.update({"name": "zone renamed"})
        store.save(started, renamed)
        app.runtime.runner.catch_up()
        after = _answer(app, admin)
        assert after != before
        assert after == _in_full(app, "admin")
        listed = orjson.loads(after)["listvirtualmachinesresponse"]["virtualmachine"]
        assert {vm["zonename"] for vm in listed} == {"zone renamed"}
        assert listed[3]["state"] == "Running"


def test_pages_answer_while_their_vms_change(settings: Settings) -> None:
    """Requests keep and read VMs' JSON while the read models change those VMs: none fails
    and the last answer is what rendering in full answers."""
    with running_app(settings) as app:
        _, vms = _scene(app, _owner(app, "admin"))
        admin = {"apikey": app.admin["apikey"], "secretkey": app.admin["secretkey"]}
        gateway = app.http.app.state.gateway  # type: ignore[attr-defined]
        statuses: list[int] = []

        def lister() -> None:
            for _ in range(15):
                raw = _signed(
                    {
                        "command": "listVirtualMachines",
                        "listall": "true",
                        "apiKey": admin["apikey"],
                    },
                    admin["secretkey"],
                )
                statuses.append(gateway._serve(_request(), raw).status_code)

        threads = [threading.Thread(target=lister) for _ in range(4)]
        for thread in threads:
            thread.start()
        for number in range(15):
            vm = app.runtime.store.get(VirtualMachine, vms[number % 3].id)
            vm.update({"display_name": f"changed {number}"})
            app.runtime.store.save(vm)
        for thread in threads:
            thread.join()
        app.runtime.runner.catch_up()
        assert set(statuses) == {200}
        assert _answer(app, admin) == _in_full(app, "admin")


def _request() -> Any:
    from starlette.requests import Request

    scope = {"type": "http", "method": "GET", "headers": [], "client": ("127.0.0.1", 1)}
    return Request(scope | {"query_string": b"", "path": "/client/api"})


def test_json_kept_by_another_release_is_not_answered(settings: Settings) -> None:
    with running_app(settings) as app:
        _scene(app, _owner(app, "admin"))
        admin = {"apikey": app.admin["apikey"], "secretkey": app.admin["secretkey"]}
        with app.runtime.db.transaction() as cursor:  # as an older release could have kept it
            cursor.execute("UPDATE virtual_machines SET listed = %s", ('0ld0ld0ld0ld:{"id":1}',))
        assert _answer(app, admin) == _in_full(app, "admin")
        assert _answer(app, admin) == _in_full(app, "admin")
