"""The campaign's clients: signed CloudStack requests over HTTP, and deploys from many threads
at once, every answer kept and sorted into a class.

Answer classes:

- ``ok``: a 200 answer (for a deploy: it carries a job id, the job is "accepted");
- ``refused``: a CloudStack error a client acts on (431 bad parameter, 432, 401, 429, 531
  permission, 533 no capacity, 534-537);
- ``outage``: the request could not be served because of the fault itself: 503, or no HTTP
  answer at all (refused or dropped connection, timeout) while a fault was in effect;
- ``other``: everything else, among them 530 internal errors (a concurrency conflict, a
  database error) and a dropped connection when no fault was in effect.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from api.signing import sign
from tests.support.faults.servers import wait_for

REFUSALS = frozenset({401, 429, 431, 432, 531, 533, 534, 535, 536, 537})
RETRYABLE = frozenset({503})


class ApiFailed(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status, self.body = status, body


class Api:
    """A signed client of one account, over one keep-alive connection."""

    def __init__(self, url: str, key: str, secret: str, timeout: float = 60.0) -> None:
        self.url, self.key, self.secret = url, key, secret
        self.http = httpx.Client(timeout=timeout)

    def send(self, command: str, **params: Any) -> httpx.Response:
        expires = (datetime.now(UTC) + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S+0000")
        query = {k: str(v) for k, v in params.items()}
        query.update(
            command=command, apiKey=self.key, response="json", signatureVersion="3", expires=expires
        )
        query["signature"] = sign(query, self.secret)
        return self.http.get(self.url, params=query)

    def call(self, command: str, **params: Any) -> dict[str, Any]:
        """The answer's inner object; ApiFailed on any error answer."""
        answer = self.send(command, **params)
        body = _decode(answer)
        if answer.status_code != 200:
            raise ApiFailed(answer.status_code, body)
        return next(iter(body.values()), {}) if isinstance(body, dict) else {}

    def listing(self, command: str, key: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a list command, page by page."""
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            found = self.call(command, page=page, pagesize=500, **params).get(key, [])
            items += found
            if len(found) < 500:
                return items
            page += 1

    def close(self) -> None:
        self.http.close()


def _decode(answer: httpx.Response) -> Any:
    try:
        return orjson.loads(answer.content)
    except orjson.JSONDecodeError:
        return answer.text[:200]


@dataclass(frozen=True)
class Answer:
    """One deploy request and how it was answered."""

    name: str
    sent: float
    answered: float
    status: int | None  # None: no HTTP answer
    cs_error_code: int | None = None
    job_id: str | None = None
    vm_id: str | None = None
    text: str = ""


@dataclass
class FaultWindows:
    """When a fault was in effect (monotonic seconds), to tell an outage answer from others."""

    spans: list[tuple[float, float]] = field(default_factory=list)
    _open: float | None = None

    def begin(self) -> None:
        self._open = time.monotonic()

    def end(self) -> None:
        if self._open is not None:
            self.spans.append((self._open, time.monotonic()))
            self._open = None

    def overlaps(self, start: float, end: float) -> bool:
        spans = [*self.spans, *([(self._open, end)] if self._open is not None else [])]
        return any(start <= b and a <= end for a, b in spans)


def classify(answer: Answer, windows: FaultWindows) -> str:
    if answer.status == 200:
        return "ok"
    if answer.status in REFUSALS:
        return "refused"
    if answer.status in RETRYABLE:
        return "outage"
    if answer.status is None and windows.overlaps(answer.sent, answer.answered):
        return "outage"
    return "other"


def describe(answer: Answer) -> str:
    if answer.status is None:
        return f"no answer ({answer.text})"
    return f"{answer.status}/{answer.cs_error_code}: {answer.text}"


@dataclass(frozen=True)
class Target:
    """Where deploys go: zone, offering and template ids."""

    zone: str
    offering: str
    template: str


class DeployLoad:
    """`clients` threads, each deploying one VM after another under unique names, until
    `stop` or `per_client` deploys each; answers are kept in order of arrival."""

    def __init__(self, api_args: tuple[str, str, str], target: Target, tag: str) -> None:
        self.api_args, self.target, self.tag = api_args, target, tag
        self.answers: list[Answer] = []
        self.windows = FaultWindows()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, clients: int) -> None:
        for index in range(clients):
            thread = threading.Thread(target=self._client, args=(index,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def wait_for_answers(self, count: int, timeout: float) -> None:
        """Until `count` more answers have arrived (the clients keep going)."""
        wanted = len(self.answers) + count
        wait_for(lambda: len(self.answers) >= wanted, timeout, f"{count} more deploy answers")

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)

    def classes(self) -> Counter[str]:
        return Counter(classify(answer, self.windows) for answer in self.answers)

    def others(self) -> list[Answer]:
        return [a for a in self.answers if classify(a, self.windows) == "other"]

    def _client(self, index: int) -> None:
        api = Api(*self.api_args)
        number = 0
        try:
            while not self._stop.is_set():
                number += 1
                self._keep(self._deploy(api, f"{self.tag}-{index}-{number}"))
        finally:
            api.close()

    def _deploy(self, api: Api, name: str) -> Answer:
        sent = time.monotonic()
        target = self.target
        try:
            response = api.send(
                "deployVirtualMachine",
                zoneid=target.zone,
                serviceofferingid=target.offering,
                templateid=target.template,
                name=name,
            )
        except httpx.HTTPError as error:
            return Answer(name, sent, time.monotonic(), None, text=type(error).__name__)
        return _answer(name, sent, response)

    def _keep(self, answer: Answer) -> None:
        with self._lock:
            self.answers.append(answer)
        if answer.status is None:
            # Nothing listens (a killed API): ask again soon, not in a tight loop.
            self._stop.wait(0.2)


def _answer(name: str, sent: float, response: httpx.Response) -> Answer:
    body = _decode(response)
    inner = next(iter(body.values()), {}) if isinstance(body, dict) and body else {}
    if not isinstance(inner, dict):
        inner = {}
    return Answer(
        name,
        sent,
        time.monotonic(),
        response.status_code,
        inner.get("cserrorcode"),
        inner.get("jobid"),
        inner.get("id"),
        str(inner.get("errortext", "") if response.status_code != 200 else "")[:160],
    )
