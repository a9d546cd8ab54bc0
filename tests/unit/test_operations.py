"""The operations settings, the metrics allow-list, JSON log lines and the process's telemetry."""

from __future__ import annotations

import ipaddress
import logging
import sys

import orjson
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from api.metrics import allowed
from stratus.logformat import JsonFormatter
from stratus.settings import LOOPBACK, ConfigurationError, Settings
from stratus.telemetry import Telemetry


def _settings(**env: str) -> Settings:
    return Settings.from_env({"STRATUS_DATA": "/nowhere", **env})


def test_the_defaults_log_text_serve_no_operations_port_and_allow_loopback_only() -> None:
    settings = _settings()
    assert settings.log_format == "text" and settings.health_port is None
    assert settings.metrics_allow == LOOPBACK and settings.ready_max_lag == 1000


def test_operations_settings_are_read_from_the_environment() -> None:
    settings = _settings(
        STRATUS_LOG_FORMAT="JSON",
        STRATUS_HEALTH_PORT="9595",
        STRATUS_METRICS_ALLOW="10.0.0.0/8, 192.168.1.7,fd00::/8",
        STRATUS_READY_MAX_LAG="0",
        STRATUS_METRICS_CACHE="15",
    )
    assert settings.log_format == "json" and settings.health_port == 9595
    assert settings.metrics_allow == tuple(
        ipaddress.ip_network(n) for n in ("10.0.0.0/8", "192.168.1.7/32", "fd00::/8")
    )
    assert settings.ready_max_lag == 0 and settings.metrics_cache == 15.0


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("STRATUS_LOG_FORMAT", "yaml", "STRATUS_LOG_FORMAT must be one of text, json"),
        ("STRATUS_HEALTH_PORT", "70000", "STRATUS_HEALTH_PORT must be a port number"),
        ("STRATUS_HEALTH_PORT", "x", "STRATUS_HEALTH_PORT must be an integer"),
        ("STRATUS_METRICS_ALLOW", "10.0.0.0/33", "STRATUS_METRICS_ALLOW"),
        ("STRATUS_METRICS_ALLOW", "everyone", "STRATUS_METRICS_ALLOW"),
        ("STRATUS_READY_MAX_LAG", "-1", "STRATUS_READY_MAX_LAG must be at least 0"),
    ],
)
def test_a_wrong_operations_setting_stops_start_up_naming_it(name, value, named) -> None:
    with pytest.raises(ConfigurationError) as refused:
        _settings(**{name: value})
    assert named in str(refused.value)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.1.2.3", False),
        ("::ffff:10.1.2.3", False),
        ("", False),
        ("testclient", False),
    ],
)
def test_metrics_are_allowed_to_loopback_by_default(address: str, expected: bool) -> None:
    assert allowed(address, LOOPBACK) is expected


def test_metrics_are_allowed_to_the_configured_blocks_only() -> None:
    blocks = _settings(STRATUS_METRICS_ALLOW="10.0.0.0/8").metrics_allow
    assert allowed("10.200.0.1", blocks) and not allowed("127.0.0.1", blocks)


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("stratus.requests", logging.INFO, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    return record


def test_a_json_line_holds_the_message_and_what_the_caller_added() -> None:
    line = JsonFormatter().format(
        _record("request", request_id="r1", command="listZones", status=200, color_message="x")
    )
    assert "\n" not in line
    body = orjson.loads(line)
    assert body["message"] == "request" and body["logger"] == "stratus.requests"
    assert body["level"] == "INFO" and body["time"].endswith("+00:00")
    assert (body["request_id"], body["command"], body["status"]) == ("r1", "listZones", 200)
    assert "color_message" not in body and "args" not in body and "msg" not in body


def test_a_json_line_carries_the_traceback_of_a_logged_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    body = orjson.loads(JsonFormatter().format(record))
    assert body["message"] == "failed" and "ValueError: boom" in body["exception"]


def _samples(telemetry: Telemetry) -> dict[tuple[str, tuple], float]:
    text = generate_latest(telemetry.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_round_trip_is_timed_only_when_this_process_published_the_request() -> None:
    telemetry = Telemetry()
    telemetry.published("r1")
    telemetry.returned("r1", "start_vm", ok=True)
    telemetry.returned("r2", "start_vm", ok=False)  # published before a restart, say
    telemetry.returned("r1", "start_vm", ok=True)  # a redelivered result: counted, not timed
    samples = _samples(telemetry)
    ok = ("stratus_adapter_round_trips_total", (("action", "start_vm"), ("outcome", "ok")))
    failed = ("stratus_adapter_round_trips_total", (("action", "start_vm"), ("outcome", "failed")))
    assert samples[ok] == 2 and samples[failed] == 1
    assert samples[("stratus_adapter_round_trip_seconds_count", (("action", "start_vm"),))] == 1


def test_requests_never_answered_are_forgotten_past_the_limit(monkeypatch) -> None:
    monkeypatch.setattr("stratus.telemetry.IN_FLIGHT_LIMIT", 3)
    telemetry = Telemetry()
    for number in range(5):
        telemetry.published(f"r{number}")
    telemetry.returned("r0", "stop_vm", ok=True)  # forgotten: not timed
    telemetry.returned("r4", "stop_vm", ok=True)
    samples = _samples(telemetry)
    assert samples[("stratus_adapter_round_trip_seconds_count", (("action", "stop_vm"),))] == 1


def test_answers_are_counted_by_known_command_and_status() -> None:
    telemetry = Telemetry()
    telemetry.answered("listZones", 200, 0.01)
    telemetry.answered(None, 432, 0.001)
    telemetry.committed(0.002, 3)
    samples = _samples(telemetry)
    assert samples[("stratus_api_responses_total", (("command", "listZones"), ("status", "200")))]
    assert samples[("stratus_api_responses_total", (("command", "unknown"), ("status", "432")))]
    assert samples[("stratus_events_appended_total", ())] == 3
    assert samples[("stratus_commit_seconds_count", ())] == 1
