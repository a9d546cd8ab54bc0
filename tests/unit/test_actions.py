"""The action catalogue: every action has exactly one handler in the adapters, and work a
hypervisor kind cannot do never leaves the server: its failure does, naming why."""

from __future__ import annotations

import orjson
import pytest

from adapters.handlers import HANDLERS, SESSION_ACTIONS
from adapters.sessions import UNBOUND_ACTIONS
from commands.results import result_handlers
from stratus.actions import ACTIONS, CAPABILITIES, Capability, UnknownAction, action, lacking
from stratus.messages import WorkRequest
from stratus.outbox import work


def test_every_catalogued_action_has_one_adapter_handler_and_no_handler_is_uncatalogued() -> None:
    bound = {name for name, declared in ACTIONS.items() if declared.host_bound}
    assert set(HANDLERS) == bound - SESSION_ACTIONS
    assert {name for name, declared in ACTIONS.items() if not declared.host_bound} == set(
        UNBOUND_ACTIONS
    )


def test_the_server_records_the_result_of_every_action_it_sends_and_of_no_other() -> None:
    recorded = {name for name, declared in ACTIONS.items() if declared.recorded}
    assert set(result_handlers()) == recorded


def test_every_adapter_kind_hosts_and_runs_guest_vms() -> None:
    for kind, capabilities in CAPABILITIES.items():
        assert {Capability.HOSTS, Capability.VM_LIFECYCLE} <= capabilities, kind


def test_an_uncatalogued_action_is_refused_by_name() -> None:
    with pytest.raises(UnknownAction, match="frobnicate_vm"):
        action("frobnicate_vm")


def _request(hypervisor: str, name: str) -> WorkRequest:
    return WorkRequest(
        request_id="r-1",
        hypervisor=hypervisor,
        action=name,
        target_id="router-1",
        params={"name": "r-1-VM"},
        job_id="job-1",
        origin_request_id="api-1",
    )


def test_work_a_kind_can_do_goes_to_its_adapters() -> None:
    outgoing = work(_request("kvm", "start_system_vm"), "p")
    assert outgoing.subject == "p.work.kvm.start_system_vm"
    assert orjson.loads(outgoing.payload)["action"] == "start_system_vm"


@pytest.mark.parametrize("kind", ["vmware", "xenserver", "hyperv"])
def test_starting_a_router_on_a_kind_without_appliances_fails_before_reaching_any_adapter(
    kind: str,
) -> None:
    outgoing = work(_request(kind, "start_system_vm"), "p")
    assert outgoing.subject == f"p.results.{kind}"
    result = orjson.loads(outgoing.payload)
    assert (result["ok"], result["request_id"], result["job_id"]) == (False, "r-1", "job-1")
    assert result["error"] == lacking(kind, "start_system_vm")
    assert "appliances" in result["error"]


def test_a_kind_without_an_adapter_gets_no_work_at_all() -> None:
    outgoing = work(_request("ovm", "start_vm"), "p")
    assert outgoing.subject == "p.results.ovm"
    assert orjson.loads(outgoing.payload)["ok"] is False


def test_a_bare_metal_host_is_started_and_stopped_but_never_scaled() -> None:
    assert work(_request("baremetal", "start_vm"), "p").subject == "p.work.baremetal.start_vm"
    refused = work(_request("baremetal", "scale_vm"), "p")
    assert refused.subject == "p.results.baremetal"
    assert "scaling" in orjson.loads(refused.payload)["error"]
