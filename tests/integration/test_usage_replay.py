"""`stratus usage replay` over a real event log: identical bytes, hand-computed hours, no
partial output from a replay killed midway."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson
import pytest

from billing import parallel
from entrypoint import usage_cli as cli
from entrypoint.cli import _parser
from stratus.settings import Settings
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


def _statistics() -> list[Any]:
    from tests.support.statistics_scenario import statistics_scenario

    return statistics_scenario()


def _snapshots() -> list[Any]:
    from tests.integration.test_usage_snapshots import scenario as snapshots

    return snapshots()


@pytest.mark.parametrize("events", [scenario, _statistics, _snapshots], ids=lambda f: f.__name__)
def test_a_replay_split_over_worker_processes_writes_the_same_bytes(
    settings: Settings, events: Any
) -> None:
    """Partitions of resources on processes of their own: VMs keyed by originator, and
    readings, snapshots and volumes that name other resources, all land as one process
    puts them."""
    with running_app(settings) as app:
        write_scenario(app, events())
        alone = replay(settings, "--workers", "1")
        split = replay(settings, "--workers", "3")
    assert alone
    assert split == alone


def test_a_failing_worker_fails_the_replay_with_its_reason(tmp_path: Path) -> None:
    missing = Settings(data_dir=tmp_path / "nowhere", secret_key="unused")
    with pytest.raises(parallel.ReplayFailed, match="no event store"):
        parallel._run(parallel.ReadOnlyLog(missing), 0, 10, 2, None)


def test_the_workers_option_is_bounded() -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["usage", "replay", "--workers", "0"])
    with pytest.raises(SystemExit):
        _parser().parse_args(["usage", "verify", "--workers", "17"])
