"""A read model whose handler fails: waits for it end at once with the failure, not at their
deadline, and the other read models go on answering."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
import pytest

from entrypoint.installation import open_runtime
from stratus.db import Cursor
from stratus.projection import Projection, ReadModelFailing, Tables, on
from stratus.settings import Settings
from tests.support.app import running_app
from tests.support.counters import Counter, CountersProjection, create_tables
from tests.support.waiting import wait_until

PATIENT = 120.0  # far longer than any of these waits takes when the failure is noticed


class _Tally(Projection):
    """A read model that keeps nothing: only its position moves."""

    name = "tally"
    tables = ()

    @on(Counter.Created, Counter.Incremented, Counter.Renamed)
    def seen(self, e: Any, cursor: Cursor, t: Tables) -> None:
        return None


def test_a_wait_for_a_read_model_failing_before_the_position_ends_with_its_name(
    settings: Settings,
) -> None:
    runtime = open_runtime(settings, projections=[CountersProjection(fail_on=2), _Tally()])
    create_tables(runtime.db)
    try:
        runtime.runner.start()
        counter = Counter(name="broken")
        counter.increment()
        position = runtime.store.last_position(runtime.store.save(counter))
        runtime.runner.wake()
        with pytest.raises(ReadModelFailing) as failing:
            runtime.runner.wait_for(position, timeout=PATIENT)
        assert failing.value.names == ("counters",)
        assert runtime.runner.wait_for(position, timeout=PATIENT, names=["tally"])
        assert runtime.runner.consistent(timeout=PATIENT), "the failing one is left out"
    finally:
        runtime.close()


def _call(app: Any, **params: str) -> tuple[int, dict[str, Any]]:
    answer = app.http.get("/client/api", params=app.signed(params))
    (body,) = orjson.loads(answer.content).values()
    return answer.status_code, body


def test_a_command_whose_read_model_fails_answers_530_at_once_and_others_still_answer(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_app(replace(sqlite_settings, write_visible_timeout=PATIENT)) as app:
        keys = app.runtime.runner.projections["ssh_key_pairs"]

        def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("a read model bug")

        monkeypatch.setattr(keys, "apply", broken)
        status, body = _call(app, command="createSSHKeyPair", name="k1")
        assert (status, body["errorcode"]) == (530, 530)
        assert "saved, but a read model failed to apply it" in body["errortext"]
        assert "a read model bug" not in body["errortext"]
        status, body = _call(app, command="listZones")
        assert status == 200
        monkeypatch.undo()
        app.runtime.runner.wake()
        wait_until(lambda: not app.runtime.runner.stuck, PATIENT, "the read model's retry")
        status, body = _call(app, command="listSSHKeyPairs", name="k1")
        assert status == 200 and body["count"] == 1, "the retried read model caught up"
