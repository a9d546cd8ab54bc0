"""A process's own measurements (commits, API requests, adapter round trips) for `/metrics`.

One `Telemetry` per process, held by its runtime: the store, the gateway, the relay and the
result consumer record into it; the metrics endpoint renders its registry together with what
it reads from the read models at scrape time. A registry per process (not the library's
global one) keeps two servers of one test process apart.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics

# Commits take about a millisecond; a slow disk or a contended lock shows in the upper buckets.
COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
API_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
ROUND_TRIP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Requests published and not yet answered, remembered for their round trip; past this many the
# oldest are forgotten (an adapter that never answers must not grow the process).
IN_FLIGHT_LIMIT = 50_000
UNKNOWN_COMMAND = "unknown"


class Telemetry:
    """The counters and histograms of one process."""

    def __init__(self) -> None:
        # The `_created` series double the output and say only when the process started.
        disable_created_metrics()
        self.registry = CollectorRegistry()
        self.commit_seconds = Histogram(
            "stratus_commit_seconds",
            "Time to record one commit in the event store",
            buckets=COMMIT_BUCKETS,
            registry=self.registry,
        )
        self.events_appended = Counter(
            "stratus_events_appended",
            "Events this process appended to the log",
            registry=self.registry,
        )
        self.api_seconds = Histogram(
            "stratus_api_request_seconds",
            "Time to answer an API request, by command",
            ["command"],
            buckets=API_BUCKETS,
            registry=self.registry,
        )
        self.api_responses = Counter(
            "stratus_api_responses",
            "API answers by command and HTTP status",
            ["command", "status"],
            registry=self.registry,
        )
        self.round_trips = Counter(
            "stratus_adapter_round_trips",
            "Adapter results received, by action and outcome",
            ["action", "outcome"],
            registry=self.registry,
        )
        self.round_trip_seconds = Histogram(
            "stratus_adapter_round_trip_seconds",
            "From publishing a work request to receiving its result, by action",
            ["action"],
            buckets=ROUND_TRIP_BUCKETS,
            registry=self.registry,
        )
        self._published: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def committed(self, seconds: float, events: int) -> None:
        self.commit_seconds.observe(seconds)
        if events:
            self.events_appended.inc(events)

    def answered(self, command: str | None, status: int, seconds: float) -> None:
        """An API request; `command` is a known command's name or None (never raw input)."""
        name = command or UNKNOWN_COMMAND
        self.api_seconds.labels(name).observe(seconds)
        self.api_responses.labels(name, str(status)).inc()

    def published(self, request_id: str) -> None:
        """A work request left for an adapter; its result will close the round trip."""
        with self._lock:
            self._published[request_id] = time.monotonic()
            self._published.move_to_end(request_id)
            while len(self._published) > IN_FLIGHT_LIMIT:
                self._published.popitem(last=False)

    def returned(self, request_id: str, action: str, ok: bool) -> None:
        """An adapter's result; timed when this process published its request."""
        self.round_trips.labels(action, "ok" if ok else "failed").inc()
        with self._lock:
            started = self._published.pop(request_id, None)
        if started is not None:
            self.round_trip_seconds.labels(action).observe(time.monotonic() - started)
