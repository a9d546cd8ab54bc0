"""The acting context stored with each event: right for each block, never shared by mistake."""

from __future__ import annotations

import os
import threading

from eventsourcing.domain import Aggregate, event

from stratus.store.audit import AuditingMapper, acting, current_context, meta_of, set_process_name
from stratus.store.secrets import SecretBox
from stratus.store.transcoder import OrjsonTranscoder


class Lamp(Aggregate):
    """A tiny aggregate whose events carry no context of their own."""

    @event("Switched")
    def switch(self) -> None:
        pass


def stored_meta(mapper: AuditingMapper) -> dict:
    lamp = Lamp()
    lamp.switch()
    events = [mapper.to_stored_event(e) for e in lamp.collect_events()]
    metas = [meta_of(mapper.to_domain_event(stored)) for stored in events]
    assert all(meta == metas[0] for meta in metas)
    return metas[0]


def mapper() -> AuditingMapper:
    return AuditingMapper(transcoder=OrjsonTranscoder(SecretBox(os.urandom(32))))


def test_each_block_stores_its_own_context_and_nested_blocks_add_to_it() -> None:
    codec = mapper()
    set_process_name("stratus")  # whatever an earlier in-process start called this process
    with acting(user_id="u-1", command="addHost"):
        assert stored_meta(codec) == {"user_id": "u-1", "command": "addHost", "process": "stratus"}
        with acting(request_id="r-2"):
            assert stored_meta(codec)["request_id"] == "r-2"
            assert stored_meta(codec)["user_id"] == "u-1"
        assert "request_id" not in stored_meta(codec)
    assert stored_meta(codec) == {"process": "stratus"}


def test_renaming_the_process_is_seen_by_the_next_event() -> None:
    codec = mapper()
    with acting(command="sweep"):
        stored_meta(codec)
        set_process_name("worker-7")
        try:
            assert stored_meta(codec) == {"command": "sweep", "process": "worker-7"}
        finally:
            set_process_name("stratus")


def test_changing_the_returned_context_does_not_change_what_is_stored() -> None:
    codec = mapper()
    with acting(user_id="u-1"):
        current_context()["user_id"] = "intruder"
        assert stored_meta(codec)["user_id"] == "u-1"


def test_threads_store_their_own_blocks_context() -> None:
    codec = mapper()
    stored: dict[str, set[str]] = {}

    def act(user: str) -> None:
        with acting(user_id=user):
            stored[user] = {stored_meta(codec)["user_id"] for _ in range(200)}

    threads = [threading.Thread(target=act, args=(f"u-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stored == {f"u-{n}": {f"u-{n}"} for n in range(4)}
