"""The shipped systemd units run commands the CLI accepts, and install with a private env file."""

from __future__ import annotations

import re
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from entrypoint import systemd
from entrypoint.cli import _parser

INSTANCES = {"stratus-api@.service": "8080", "stratus-adapter@.service": "kvm"}


def _exec_start(text: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def test_every_role_and_the_adapters_have_a_unit() -> None:
    names = systemd.unit_names()
    assert {
        "stratus-api@.service",
        "stratus-projections.service",
        "stratus-relay.service",
        "stratus-events.service",
        "stratus-adapter@.service",
        "stratus-migrate.service",
        "stratus.target",
    } <= set(names)


@pytest.mark.parametrize("name", [n for n in systemd.unit_names() if n.endswith(".service")])
def test_each_unit_runs_a_command_the_cli_accepts_with_the_environment_file(name: str) -> None:
    text = systemd.render(
        name, command="/opt/stratus/bin/stratus", env_file=Path("/etc/x.env"), user="svc"
    )
    assert "EnvironmentFile=/etc/x.env" in text and "User=svc" in text
    assert not re.search(r"@[A-Z_]+@", text)  # every placeholder filled in
    command = _exec_start(text)
    assert command[0] == "/opt/stratus/bin/stratus"
    arguments = [a.replace("%i", INSTANCES.get(name, "")) for a in command[1:]]
    _parser().parse_args(arguments)  # exits (SystemExit) on anything the CLI refuses


def test_install_writes_units_that_systemd_accepts_and_a_private_environment_file(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / "etc" / "stratus.env"
    done = subprocess.run(
        [
            *shlex.split(systemd.this_command()),
            "systemd",
            "--install",
            str(tmp_path / "units"),
            "--env-file",
            str(env_file),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert "STRATUS_SECRET_KEY=" in env_file.read_text()
    env_file.write_text("kept\n")
    again = subprocess.run(
        [
            *shlex.split(systemd.this_command()),
            "systemd",
            "--install",
            str(tmp_path / "units"),
            "--env-file",
            str(env_file),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0 and env_file.read_text() == "kept\n"
    if shutil.which("systemd-analyze") is None:
        return
    units = tmp_path / "units"
    for template, instance in INSTANCES.items():
        shutil.copy(units / template, units / template.replace("@", f"@{instance}"))
    checked = [str(p) for p in units.iterdir() if "@." not in p.name]
    verified = subprocess.run(
        ["systemd-analyze", "verify", *checked], capture_output=True, text=True, timeout=60
    )
    assert verified.returncode == 0, verified.stderr
    assert "Unknown" not in verified.stderr, verified.stderr
