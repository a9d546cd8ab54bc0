"""The `stratus` command: serve, migrate, projections status|rebuild, audit, usage, api."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from stratus.settings import ConfigurationError, Settings

log = logging.getLogger("stratus")

ROLES = ("all", "api", "projections", "relay", "events")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stratus", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server (embedded default: everything)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")
    serve.add_argument("--role", choices=ROLES, default="all", help="which part to run")
    serve.add_argument(
        "--health-port",
        type=int,
        default=None,
        help="also serve /health/live, /health/ready and /metrics on this port "
        "(default: STRATUS_HEALTH_PORT, else off)",
    )

    commands.add_parser("migrate", help="apply missing schema migrations and exit")

    adapter = commands.add_parser("adapter", help="run a hypervisor adapter worker")
    adapter.add_argument("kind", choices=("kvm", "vmware", "xenserver", "hyperv", "simulator"))

    projections = commands.add_parser("projections", help="inspect or rebuild read models")
    verbs = projections.add_subparsers(dest="verb", required=True)
    verbs.add_parser("status", help="position and lag of every read model")
    rebuild = verbs.add_parser("rebuild", help="rebuild one read model from event zero")
    rebuild.add_argument("name")

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

    api = commands.add_parser("api", help="the CloudStack command catalogue")
    api_verbs = api.add_subparsers(dest="verb", required=True)
    api_verbs.add_parser("coverage", help="implemented/total 4.3 commands per family")
    api_verbs.add_parser("docs", help="print the command reference (docs/commands.md)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "api":  # reads only the package: no settings, no database
        return _api(args.verb)
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
        return 2
    except KeyboardInterrupt:
        return 130


def _api(verb: str) -> int:
    if verb == "coverage":
        from api.catalogue import coverage_report

        sys.stdout.write(coverage_report())
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
    if args.command in ("backup", "restore"):
        from entrypoint.backup_cli import run as run_backup

        return run_backup(args, settings)
    if args.verb == "status":
        return tools.status_command(settings)
    return tools.rebuild_command(settings, args.name)


if __name__ == "__main__":
    sys.exit(main())
