"""The `stratus` command: serve, migrate, projections status|rebuild, audit, usage, api."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from stratus.settings import ConfigurationError, Settings

log = logging.getLogger("stratus")

ROLES = ("all", "api", "projections", "relay", "events")

ROLES_HELP = """\
roles (--role):
  all          everything in one process: the embedded default (SQLite, in-process bus,
               the hypervisor adapters too); the only role on the embedded store
  api          the CloudStack API on /client/api (as many processes as you like)
  projections  keeps the read models and bills usage (one process)
  relay        hands hypervisor work to the adapters over NATS and takes their answers,
               heartbeats and statistics back (one process; a second is harmless)
  events       publishes the CloudStack events to outside consumers: a NATS stream and
               webhooks (one process)
the roles other than `all` need STRATUS_DATABASE_URL, and but for `events` STRATUS_NATS_URL;
every process of one cloud needs the same STRATUS_SECRET_KEY (the store records which key it
was made with and refuses any other)"""


def read_models() -> dict[str, str]:
    """The read models `projections status` lists and `projections rebuild NAME` rebuilds, with
    what each keeps (its `summary`)."""
    from projections import registry

    return {kept.name: kept.summary for kept in registry.build(lambda text: text)}


def _read_models_help() -> str:
    found = read_models()
    width = max(len(name) for name in found)
    lines = [f"  {name:<{width}}  {what}" for name, what in found.items()]
    return "read models:\n" + "\n".join(lines)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0-65535 (0: any free port), not {port}")
    return port


def _version() -> str:
    try:
        return version("stratus")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stratus",
        description="Stratus, a cloud management server speaking the CloudStack 4.3 API. "
        "Settings come from the environment (STRATUS_DATA, STRATUS_DATABASE_URL, "
        "STRATUS_NATS_URL, STRATUS_SECRET_KEY, ...; see the README).",
        epilog="exit status: 0 done, 1 failed (a service or file not available, a check "
        "that failed), 2 a usage mistake (an argument or setting)",
    )
    parser.add_argument("--version", action="version", version=f"stratus {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the server (embedded default: everything in one process)",
        description="Run the server: migrate, create the admin on first start, catch the "
        "read models up, then serve until SIGINT or SIGTERM.",
        epilog=ROLES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=_port, default=8080, help="port to listen on (0: any)")
    serve.add_argument("--role", choices=ROLES, default="all", help="which part to run")
    serve.add_argument(
        "--health-port",
        type=_port,
        default=None,
        help="also serve /health/live, /health/ready and /metrics on this port "
        "(default: STRATUS_HEALTH_PORT, else off)",
    )

    commands.add_parser("migrate", help="apply missing schema migrations and exit")

    adapter = commands.add_parser(
        "adapter",
        help="run a hypervisor or network device adapter worker (needs STRATUS_NATS_URL and "
        "the store's key)",
    )
    adapter.add_argument(
        "kind",
        choices=(
            "kvm",
            "vmware",
            "xenserver",
            "hyperv",
            "simulator",
            "baremetal",
            "netscaler",
            "paloalto",
        ),
    )

    projections = commands.add_parser(
        "projections",
        help="inspect or rebuild read models",
        epilog=_read_models_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = projections.add_subparsers(dest="verb", required=True)
    verbs.add_parser("status", help="position and lag of every read model (needs a store)")
    rebuild = verbs.add_parser(
        "rebuild",
        help="rebuild one read model from event zero, then swap it in",
        epilog=_read_models_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rebuild.add_argument("name", help="the read model (listed below)")

    from entrypoint.audit_cli import add_parser as add_audit_parser

    add_audit_parser(commands)

    from entrypoint.usage_cli import add_parser as add_usage_parser

    add_usage_parser(commands)

    from entrypoint.backup_cli import add_parser as add_backup_parsers

    add_backup_parsers(commands)

    from entrypoint.systemd import add_parser as add_systemd_parser

    add_systemd_parser(commands)

    from entrypoint.webhooks_cli import add_parser as add_webhooks_parser

    add_webhooks_parser(commands)
    from entrypoint.snapshots_cli import add_parser as add_snapshots_parser

    add_snapshots_parser(commands)
    from entrypoint.rekey_cli import add_parser as add_rekey_parser

    add_rekey_parser(commands)

    api = commands.add_parser("api", help="the CloudStack command catalogue")
    api_verbs = api.add_subparsers(dest="verb", required=True)
    api_verbs.add_parser("coverage", help="implemented/total 4.3 commands per family")
    api_verbs.add_parser("docs", help="print the command reference (docs/commands.md)")
    audit = api_verbs.add_parser(
        "audit", help="what a family's commands lack against 4.3 (default: storage families)"
    )
    audit.add_argument("families", nargs="*", help="families as `stratus api coverage` names them")

    commands.add_parser(
        "client-config",
        help="print a ~/.cloudstack.ini for the admin from $STRATUS_DATA/admin.json",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (`stratus audit log | head`): nothing more to say to it.
        with contextlib.suppress(OSError, ValueError):  # stdout may be no file (in tests)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "api":  # reads only the package: no settings, no database
        return _api(args.verb, getattr(args, "families", ()))
    if args.command == "systemd":
        from entrypoint.systemd import run as run_systemd

        return run_systemd(args)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.from_env()
        if settings.log_format == "json":
            from stratus.logformat import use_json_logs

            use_json_logs()
        return _run(args, settings)
    except ConfigurationError as error:
        print(f"stratus: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


def _api(verb: str, families: Sequence[str] = ()) -> int:
    if verb == "coverage":
        from api.catalogue import coverage_report

        sys.stdout.write(coverage_report())
    elif verb == "audit":
        from api.catalogue import audit_report

        sys.stdout.write(audit_report(families))
    else:
        from api.command_docs import command_reference

        sys.stdout.write(command_reference())
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from entrypoint import server, tools

    if args.command in ("serve", "adapter") and settings.cpus is not None:
        from stratus.cpus import hold_on

        hold_on(settings.cpus)  # before any thread starts: they all inherit it
    if args.command == "serve":
        if args.health_port is not None:
            from dataclasses import replace

            settings = replace(settings, health_port=args.health_port)
        return server.serve(settings, host=args.host, port=args.port, role=args.role)
    if args.command == "adapter":
        from adapters.cli import run_worker

        run_worker(args.kind, settings)
        return 0
    if args.command == "migrate":
        return tools.migrate_command(settings)
    if args.command == "client-config":
        return tools.client_config_command(settings)
    if args.command == "audit":
        from entrypoint.audit_cli import run as run_audit

        return run_audit(args, settings)
    if args.command == "webhooks":
        from entrypoint.webhooks_cli import run as run_webhooks

        return run_webhooks(args, settings)
    if args.command == "snapshots":
        from entrypoint.snapshots_cli import run as run_snapshots

        return run_snapshots(args, settings)
    if args.command == "usage":
        from entrypoint.usage_cli import run as run_usage

        return run_usage(args, settings)
    if args.command == "rekey":
        from entrypoint.rekey_cli import run as run_rekey

        return run_rekey(settings)
    if args.command in ("backup", "restore"):
        from entrypoint.backup_cli import run as run_backup

        return run_backup(args, settings)
    if args.verb == "status":
        return tools.status_command(settings)
    return tools.rebuild_command(settings, args.name)


if __name__ == "__main__":
    sys.exit(main())
