"""A VPN's pre-shared key is shown in one job answer only, however many stores answer at once."""

from __future__ import annotations

import threading
from uuid import uuid4

from commands.vpn import disclose_key
from entrypoint.installation import open_runtime
from stratus.settings import Settings
from stratus.store.application import EventStore


def _stores(settings: Settings, count: int) -> list[EventStore]:
    """Stores on one database, as separate API processes hold them (the first makes it)."""
    runtime = open_runtime(settings, projections=[])
    runtime.db.close()
    return [runtime.store, *(EventStore(settings) for _ in range(count - 1))]


def test_of_many_concurrent_answers_from_several_stores_exactly_one_shows_the_key(
    settings: Settings,
) -> None:
    stores = _stores(settings, 3)
    vpn_id, user_id = uuid4(), uuid4()
    start = threading.Barrier(12)
    shown: list[bool] = []

    def answer(store: EventStore) -> None:
        start.wait()
        shown.append(disclose_key(store, vpn_id, user_id))

    threads = [threading.Thread(target=answer, args=(stores[n % 3],)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(shown) == [False] * 11 + [True]
    assert not any(disclose_key(store, vpn_id, user_id) for store in stores)
    for store in stores:
        store.close()


def test_each_vpn_has_its_own_single_disclosure(settings: Settings) -> None:
    (store,) = _stores(settings, 1)
    first, second = uuid4(), uuid4()
    assert disclose_key(store, first, uuid4()) and disclose_key(store, second, uuid4())
    assert not disclose_key(store, first, uuid4())
    store.close()
