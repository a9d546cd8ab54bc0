"""`stratus systemd`: the systemd units shipped with the package, printed or installed.

One unit per role (`stratus-api@PORT`, `stratus-projections`, `stratus-relay`), one per
adapter kind (`stratus-adapter@KIND`), a one-shot `stratus-migrate`, the `stratus.target`
that groups them, and the environment file every unit reads (docs/production.md).
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import resources
from pathlib import Path
from typing import Any

ENV_FILE = "stratus.env"
DEFAULT_ENV_PATH = Path("/etc/stratus/stratus.env")


def unit_names() -> list[str]:
    folder = resources.files("entrypoint") / "units"
    return sorted(entry.name for entry in folder.iterdir() if entry.name != ENV_FILE)


def render(name: str, *, command: str, env_file: Path, user: str) -> str:
    """A unit with the command that runs Stratus, its environment file and its user filled in."""
    text = (resources.files("entrypoint") / "units" / name).read_text()
    return (
        text.replace("@STRATUS@", command)
        .replace("@ENV_FILE@", str(env_file))
        .replace("@USER@", user)
    )


def environment_template() -> str:
    return (resources.files("entrypoint") / "units" / ENV_FILE).read_text()


def this_command() -> str:
    """The `stratus` beside this interpreter (a venv's), else the interpreter running the CLI."""
    beside = Path(sys.executable).parent / "stratus"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return f"{sys.executable} -m entrypoint.cli"


def add_parser(commands: Any) -> None:
    units = commands.add_parser(
        "systemd",
        help="print or install the systemd units of every role and adapter",
        description="Print the systemd units (and their environment file) for this "
        "installation of Stratus, or write them into a directory with --install.",
    )
    units.add_argument("--install", type=Path, metavar="DIR", help="write the units into DIR")
    units.add_argument(
        "--env-file",
        type=Path,
        default=DEFAULT_ENV_PATH,
        help=f"the environment file the units read (default {DEFAULT_ENV_PATH}); "
        "--install writes a template there, 0600, unless it exists",
    )
    units.add_argument("--user", default="stratus", help="the user the units run as")


def run(args: argparse.Namespace) -> int:
    command = this_command()
    rendered = {
        name: render(name, command=command, env_file=args.env_file, user=args.user)
        for name in unit_names()
    }
    if args.install is None:
        for name, text in rendered.items():
            sys.stdout.write(f"# ---- {name}\n{text}\n")
        sys.stdout.write(f"# ---- {args.env_file}\n{environment_template()}")
        return 0
    try:
        args.install.mkdir(parents=True, exist_ok=True)
        for name, text in rendered.items():
            (args.install / name).write_text(text)
        wrote_env = _environment_file(args.env_file)
    except OSError as error:
        print(f"stratus: cannot install the units: {error}", file=sys.stderr)
        return 1
    print(f"wrote {len(rendered)} units into {args.install}")
    if wrote_env:
        print(f"wrote {args.env_file} (0600): fill in the database, the bus and the key")
    print("then: systemctl daemon-reload; see docs/production.md for which units to enable")
    return 0


def _environment_file(path: Path) -> bool:
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as sink:
        sink.write(environment_template())
    return True
