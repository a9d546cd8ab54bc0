"""`stratus usage replay` over a real event log: identical bytes, hand-computed hours, no
partial output from a replay killed midway."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson
import pytest

from stratus.cli import _parser
from stratus.settings import Settings
from stratus.usage import cli
from tests.support.app import App, running_app
from tests.support.usage_scenario import berlin, expected_hours, observed_hours, scenario

NOW = berlin("2026-01-13 00:30")


def write_scenario(app: App, events: list[Any] | None = None) -> None:
    """The scripted events, with their own timestamps (the Berlin zone set before them);
    the read models (the usage zone among them) are caught up before the test goes on."""
    chosen = scenario() if events is None else events
    store = app.runtime.store
    store.recorder.insert_events([store.mapper.to_stored_event(e) for e in chosen])
    app.runtime.runner.catch_up()


def replay(settings: Settings, *argv: str) -> str:
    out = io.StringIO()
    args = _parser().parse_args(["usage", "replay", *argv])
    assert cli.run(args, settings, out, now=NOW) == 0
    return out.getvalue()


def test_replay_twice_gives_the_same_bytes_and_the_hand_computed_hours(
    settings: Settings, tmp_path: Path
) -> None:
    with running_app(settings) as app:
        write_scenario(app)
        first, second = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
        replay(settings, "--from", "2026-01-09", "--to", "2026-01-13", "--out", str(first))
        replay(settings, "--from", "2026-01-09", "--to", "2026-01-13", "--out", str(second))
        csv_text = replay(settings, "--format", "csv")
        only_11th = replay(settings, "--from", "2026-01-11", "--to", "2026-01-11")
    assert first.read_bytes() == second.read_bytes()
    items = [orjson.loads(line) for line in first.read_bytes().splitlines()]
    assert observed_hours(items) == expected_hours()
    assert {i["usagetype"] for i in items} == {1, 2, 6, 7}
    assert csv_text.splitlines()[0].startswith("startdate,enddate,usagetype")
    assert len(csv_text.splitlines()) == len(items) + 1
    days = {orjson.loads(line)["startdate"][:10] for line in only_11th.splitlines()}
    assert days == {"2026-01-11"}


def test_a_replay_killed_midway_leaves_no_file_and_the_next_one_writes_the_same_bytes(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "usage.csv"
    with running_app(settings) as app:
        write_scenario(app)
        whole = replay(settings, "--format", "csv")

        def killed(*args: Any) -> None:
            raise KeyboardInterrupt

        with monkeypatch.context() as patch:
            patch.setattr(cli.os, "replace", killed)
            with pytest.raises(KeyboardInterrupt):
                replay(settings, "--format", "csv", "--out", str(target))
        assert not target.exists()
        replay(settings, "--format", "csv", "--out", str(target))
    assert target.read_text() == whole
