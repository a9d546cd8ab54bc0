"""An in-process Stratus (runtime + HTTP app) for tests that need speed more than a subprocess."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import orjson
from starlette.testclient import TestClient

from api.app import create_app
from api.dispatch import Services
from api.signing import sign
from entrypoint.installation import open_runtime
from entrypoint.server import prepare
from stratus.runtime import Runtime
from stratus.settings import Settings


@dataclass
class App:
    runtime: Runtime
    http: TestClient
    admin: dict[str, str]

    @property
    def services(self) -> Services:
        """The API's shared parts (the billing run a test drives, say)."""
        return self.http.app.state.gateway.services  # type: ignore[attr-defined]

    def signed(self, params: dict[str, str]) -> dict[str, str]:
        signed = dict(params, apiKey=self.admin["apikey"])
        signed.setdefault("response", "json")
        signed["signature"] = sign(signed, self.admin["secretkey"])
        return signed


@contextmanager
def running_app(settings: Settings) -> Iterator[App]:
    """A whole installation in this process: every read model followed, the API on `http`."""
    runtime = open_runtime(settings)
    try:
        prepare(runtime, public_url="http://testserver/client/api")
        runtime.runner.start()
        admin = orjson.loads((settings.data_dir / "admin.json").read_bytes())
        with TestClient(create_app(runtime), raise_server_exceptions=False) as http:
            yield App(runtime, http, admin)
    finally:
        runtime.close()


@contextmanager
def another_api(settings: Settings) -> Iterator[TestClient]:
    """A second API process on the same store: its own memory, no read models of its own."""
    runtime = open_runtime(settings)
    try:
        with TestClient(create_app(runtime), raise_server_exceptions=False) as http:
            yield http
    finally:
        runtime.close()
