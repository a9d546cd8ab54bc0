"""Pods' storage ranges on the real stores: ranges created at the same time never overlap."""

from __future__ import annotations

import threading
from ipaddress import IPv4Address
from itertools import pairwise

from commands import infrastructure as places
from commands import network_storage as storage
from domain.errors import InvalidParameter
from domain.infrastructure import Zone
from domain.network_storage import StorageIpRanges, checked_range, storage_ranges_id
from entrypoint.installation import open_runtime
from stratus.settings import Settings


def test_storage_ranges_created_at_once_never_overlap(settings: Settings) -> None:
    runtime = open_runtime(settings, projections=[])
    try:
        store = runtime.store
        zone = Zone("z", "Advanced", {}, "", None, "Enabled", False)
        store.save(zone)
        pod = places.create_pod(
            store, places.CreatePod(zone.id, "p", "10.20.0.1", "255.255.255.0", "10.20.0.10")
        ).id
        assert pod is not None
        refused: list[str] = []

        def create(first: int) -> None:
            terms = checked_range(
                f"10.30.0.{first}", f"10.30.0.{first + 9}", "10.30.0.1", "255.255.255.0", None
            )
            try:
                storage.create_storage_range(store, storage.CreateStorageRange(pod, terms))
            except InvalidParameter as error:
                refused.append(str(error))

        threads = [threading.Thread(target=create, args=(10 + 3 * i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        kept = store.get(StorageIpRanges, storage_ranges_id(pod)).ranges.values()
        spans = sorted((IPv4Address(r["start_ip"]), IPv4Address(r["end_ip"])) for r in kept)
        assert spans and len(spans) + len(refused) == 8
        assert all(a[1] < b[0] for a, b in pairwise(spans))
        assert all("overlaps" in text for text in refused)
    finally:
        runtime.close()
